"""A fitted MLPClassifier / MLPRegressor in a model file (see cyneuron.io).

The archive is the network's (its arrays under the prefix ``network_``)
plus one JSON header (``meta``, format ``cyneuron-estimator``) that holds
the estimator's parameters, its fitted attributes and the network's own
header under ``"network"``; early stopping's best weights, when kept, are
the array ``best_params``. Loading checks every field, builds the
estimator from its parameters with the estimator's own validation, and
refuses a network that is not the one those parameters and attributes
describe.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
from numpy.typing import NDArray

from . import io

if TYPE_CHECKING:
    from .estimators import MLPClassifier, MLPRegressor

PREFIX = io.ESTIMATOR_PREFIX
_CLASSES = ("MLPClassifier", "MLPRegressor")
# fitted attributes stored in the header: name -> allowed JSON types
_NUMBERS = ("loss_", "best_loss_", "best_validation_score_", "_lr")
_INTS = ("n_iter_", "t_", "n_features_in_", "_no_improvement_count")
_LISTS = ("loss_curve_", "validation_scores_")
_LABEL_KINDS = "biufU"


def _number(x):
    """A float as JSON allows it: infinities as strings."""
    x = float(x)
    return x if math.isfinite(x) else ("inf" if x > 0 else "-inf")


def _unnumber(x, name):
    if x in ("inf", "-inf"):
        return float(x)
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise ValueError(f"bad {name!r}: expected a number, got {x!r:.60}")
    return float(x)


def _plain(value, name):
    """A parameter value as JSON: ints, floats, strings, bools, None, lists."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _number(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v, name) for v in value]
    if value in (np.float64, np.float32):
        return np.dtype(value).name
    hint = " (use an int or None for random_state)" if name == "random_state" else ""
    raise ValueError(f"the parameter {name}={value!r:.60} cannot be stored in a model "
                     f"file{hint}")


def estimator_to_arrays(est: MLPClassifier | MLPRegressor
                        ) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """(header, arrays) of a fitted estimator, for io.save."""
    if "_network" not in est.__dict__:
        raise ValueError("the estimator is not fitted: fit it before saving it")
    net_meta, arrays = est._network._guard.read(io._network_snapshot, est._network, PREFIX)
    params = dict(est.get_params(deep=False))
    cw = params.get("class_weight")
    if isinstance(cw, dict):
        params["class_weight"] = [[_plain(k, "class_weight"), _plain(w, "class_weight")]
                                  for k, w in cw.items()]
    meta = {
        "format": io.ESTIMATOR_FORMAT, "version": io.VERSION, "class": type(est).__name__,
        "params": {k: _plain(v, k) for k, v in params.items()},
        "network": net_meta, "out_activation_": est.out_activation_,
    }
    for name in _NUMBERS:
        if name in est.__dict__ and est.__dict__[name] is not None:
            meta[name] = _number(est.__dict__[name])
    for name in _INTS:
        if name in est.__dict__:
            meta[name] = int(est.__dict__[name])
    for name in _LISTS:
        if est.__dict__.get(name) is not None:
            meta[name] = [_number(x) for x in est.__dict__[name]]
    if hasattr(est, "feature_names_in_"):
        meta["feature_names_in_"] = [str(x) for x in est.feature_names_in_]
    if type(est).__name__ == "MLPClassifier":
        labels = np.asarray(est._labels)
        if labels.dtype.kind not in _LABEL_KINDS:
            raise ValueError(f"classes of dtype {labels.dtype} cannot be stored (numbers, "
                             f"booleans and strings can)")
        meta["classes_"] = labels.tolist()
        meta["classes_dtype"] = labels.dtype.str
        meta["multilabel"] = bool(est._multilabel)
    if est.__dict__.get("_best") is not None:
        arrays["best_params"] = est._best
    return meta, arrays


def _fail(why: str) -> NoReturn:
    raise ValueError(why)


def estimator_from_archive(meta: dict[str, Any], archive: io.Archive | io.Tensors,
                           backend: str) -> MLPClassifier | MLPRegressor:
    """The estimator stored in an open archive whose header `meta` was read."""
    from . import estimators

    name = meta.get("class")
    if name not in _CLASSES:
        _fail(f"bad 'class' {name!r:.60}: expected one of {', '.join(_CLASSES)}")
    params = meta.get("params")
    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        _fail("bad 'params': expected an object")
    cls = getattr(estimators, name)
    known = set(cls().get_params(deep=False))
    if set(params) != known:
        _fail(f"bad 'params': expected the parameters {sorted(known)}")
    params = dict(params)
    for k, val in params.items():
        if k in ("hidden_layer_sizes",) and isinstance(val, list):
            params[k] = tuple(val)
        if k == "activation" and isinstance(val, list):
            params[k] = [tuple(a) if isinstance(a, list) else a for a in val]
        if k in ("alpha", "learning_rate_init", "power_t", "tol", "momentum",
                 "validation_fraction", "beta_1", "beta_2", "epsilon", "clipnorm") \
                and val is not None:
            params[k] = _unnumber(val, k)
        if k == "n_iter_no_change" and val == "inf":    # "never stop early", as scikit-learn
            params[k] = math.inf
    cw = params.get("class_weight")
    if isinstance(cw, list):
        if not all(isinstance(p, list) and len(p) == 2 for p in cw):
            _fail("bad 'class_weight': expected [label, weight] pairs")
        params["class_weight"] = {(tuple(k) if isinstance(k, list) else k): w for k, w in cw}
    params["backend"] = backend
    try:
        est = cls(**params)
        sizes, acts = est._check_params()
    except (TypeError, ValueError) as exc:
        _fail(f"bad 'params': {exc}")
    netmeta = meta.get("network")
    if not isinstance(netmeta, dict):
        _fail("bad 'network': expected the network's header")
    allowed = set(io.model_layout(netmeta, PREFIX)) | {"meta", "best_params"}
    for member in archive.members:
        if not (member.endswith(".npy") and member[:-4] in allowed):
            _fail(f"unexpected member {member!r:.80}")
    net = io.network_from_arrays(netmeta, archive, prefix=PREFIX, backend=backend)
    if net.numerics != est.numerics:
        _fail(f"bad 'params': numerics {est.numerics!r} but the network was trained with "
              f"{net.numerics!r}")

    attrs = {}
    for k in _NUMBERS:
        if k in meta:
            attrs[k] = _unnumber(meta[k], k)
    for k in _INTS:
        if k in meta:
            val = meta[k]
            if isinstance(val, bool) or not isinstance(val, int) or val < 0:
                _fail(f"bad {k!r}: expected a non-negative integer")
            attrs[k] = val
    for k in _LISTS:
        if k in meta:
            if not isinstance(meta[k], list):
                _fail(f"bad {k!r}: expected a list of numbers")
            attrs[k] = [_unnumber(x, k) for x in meta[k]]
    if "n_features_in_" not in attrs or "n_iter_" not in attrs:
        _fail("the header lacks 'n_features_in_' or 'n_iter_'")
    n_out = net.n_outputs
    if name == "MLPClassifier":
        dt = meta.get("classes_dtype")
        try:
            dtype = np.dtype(dt)
        except TypeError:
            _fail(f"bad 'classes_dtype' {dt!r:.40}")
        if dtype.kind not in _LABEL_KINDS or dtype.itemsize > 4096:
            _fail(f"bad 'classes_dtype' {dt!r:.40}")
        labels = meta.get("classes_")
        if not isinstance(labels, list) or not labels:
            _fail("bad 'classes_': expected a list of labels")
        try:
            labels = np.array(labels, dtype=dtype)
        except (TypeError, ValueError, OverflowError):
            _fail("bad 'classes_': the labels do not fit 'classes_dtype'")
        if labels.ndim != 1 or len(np.unique(labels)) != len(labels):
            _fail("bad 'classes_': expected distinct labels")
        multilabel = meta.get("multilabel")
        if not isinstance(multilabel, bool):
            _fail("bad 'multilabel': expected true or false")
        est._multilabel = multilabel
        est._labels = est.classes_ = labels if not multilabel else np.arange(len(labels))
        want = len(labels) if (multilabel or len(labels) > 2) else 1
        if n_out != want:
            _fail(f"the network has {n_out} outputs, but 'classes_' needs {want}")
    # the network must be the one the parameters describe
    out_act, loss = est._loss_for_width(n_out)
    expect = [attrs["n_features_in_"]] + sizes + [n_out]
    if list(net.layer_sizes) != expect:
        _fail(f"the network's layer_sizes {list(net.layer_sizes)} are not {expect}, as the "
              f"parameters and n_features_in_ say")
    from . import _registry as registry
    specs = [registry.activation(a).spec for a in acts] + [registry.activation(out_act).spec]
    if ([a.spec for a in net.activations] != specs or net.loss.name != loss
            or net.reduction != "weighted_mean" or net.l2 != est.alpha / 2.0 or net.l1 != 0
            or net.dtype != np.dtype(est.dtype)):
        _fail("the network's activations, loss, penalty or dtype are not the ones the "
              "parameters describe")
    from .network import Network
    if net.dropout != Network._check_dropout(est.dropout, len(net.layer_sizes) - 1):
        _fail("the network's dropout rates are not the ones the parameters describe")
    if "feature_names_in_" in meta:
        names = meta["feature_names_in_"]
        if (not isinstance(names, list) or len(names) != attrs["n_features_in_"]
                or not all(isinstance(x, str) for x in names)):
            _fail("bad 'feature_names_in_': expected one name per feature")
        est.feature_names_in_ = np.asarray(names, dtype=object)
    if "best_params" in {m[:-4] for m in archive.members}:
        if isinstance(archive, Mapping):       # a safetensors file's tensors
            est._best = io._mapping_reader(archive)("best_params", net.dtype, (net.n_params,))
        else:
            est._best = io.read_array(archive, "best_params", net.dtype, (net.n_params,))
        if not np.isfinite(est._best).all():
            _fail("array 'best_params' contains NaN or infinity")
    out = meta.get("out_activation_")
    if out not in ("softmax", "logistic", "identity"):
        _fail(f"bad 'out_activation_' {out!r:.40}")
    for k, val in attrs.items():
        setattr(est, k, val)
    if "loss_curve_" in attrs and "validation_scores_" not in attrs:
        est.validation_scores_ = None
    if "best_loss_" not in attrs and "loss_curve_" in attrs:
        est.best_loss_ = None
    if "best_validation_score_" not in attrs and "loss_curve_" in attrs:
        est.best_validation_score_ = None
    est._bind(net)
    est.out_activation_ = out
    return est
