"""The model-state schema: what a model file's header and arrays mean.

One schema for every model and every codec. A model file is a JSON header
and named arrays (a codec, :mod:`cyneuron._npz` or
:mod:`cyneuron._safetensors_io`, stores them); this module says what they
hold, and checks it. It builds no model: ``Network.state_for_file`` /
``Network.from_file_state`` and the estimators' method pair of the same
names turn a model into a header and arrays and back, with the functions
here.

A network (format ``cyneuron-model``, version 2):

``meta`` (the header)
    format name and version, architecture, loss, dtype, init, penalties,
    dropout, reduction, numerics, optimizer, ``optimizer_scalars`` ([step,
    beta_1**step, beta_2**step]), the PCG64 state of the network's
    Generator, the network's digest and the file's state digest
    (:mod:`cyneuron._digest`);
``W0``, ``b0``, ``W1``, ...
    weights (n_in, n_out) and biases (n_out,) in the network's dtype;
``optimizer_state``
    the optimizer's moments m then v, 2 * n_params values.

A fitted estimator (format ``cyneuron-estimator``): a header with its
parameters, its fitted attributes, a classifier's labels and the network's
header under ``"network"``; the network's arrays under the prefix
``network_``, and early stopping's best weights as ``best_params``.

Every field is checked, optimizer state included: it must be something
training could have produced. Anything else is a ValueError naming the field.
Names (activations, loss, init, optimizer and its hyperparameters) are
checked by the registry and by the model's own constructor, with the same
rules as for a model built in code.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from . import _registry as registry
from ._codec import Layout, check_array_type, parse_json
from ._codec import is_int as _is_int
from ._layout import Layout as ParamLayout

#: An activation as a header or a Network takes it: a name, (name, slope), or a dict.
ActivationSpec = str | tuple[str, float] | list[Any] | dict[str, Any]
#: ``(key, dtype, shape) -> array or None``: where a reader finds an array.
Getter = Callable[[str, DTypeLike, Sequence[int]], NDArray[Any] | None]

FORMAT = "cyneuron-model"
#: The format version written. Version 2 adds the state digest (a SHA-256 over
#: the whole header and every array, cyneuron._digest); version-1 files, whose
#: digest covers the network's weights only, still load.
VERSION = 2
READ_VERSIONS = (1, 2)
#: A fitted scikit-learn estimator: its header holds the network's under
#: "network", and the network's arrays carry the prefix "network_".
ESTIMATOR_FORMAT = "cyneuron-estimator"
#: The key prefix of an estimator's network's arrays.
ESTIMATOR_PREFIX = "network_"
#: A fitted preprocessing pipeline (cyneuron.tabular) around an estimator: its
#: state under "pipeline" (the estimator's header inside it, under "estimator"),
#: the preprocessing's arrays (prefix "preprocess_") beside the estimator's, and
#: optional "metadata" (JSON values: the command line keeps how it read the data).
PIPELINE_FORMAT = "cyneuron-pipeline"
PIPELINE_PREFIX = "preprocess_"
#: Bound on a pipeline file's metadata, as JSON text.
MAX_METADATA_BYTES = 1 << 16
MAX_LAYERS = 10_000
MAX_WIDTH = 1 << 24
_HEADER_KEYS = ("format", "version", "layer_sizes", "activations", "loss", "dtype")
_OPTIONAL_KEYS = ("init", "l1", "l2", "dropout", "optimizer", "optimizer_scalars", "rng",
                  "reduction", "digest", "numerics", "state_digest")
_INITIAL_SCALARS = (0.0, 1.0, 1.0)
_MAX_STEP = 2 ** 53          # beyond it step + 1 == step in double precision


def parse_header(data: bytes, key: str = "meta",
                 formats: tuple[str, ...] = (FORMAT,)) -> dict[str, Any]:
    """Parse a model file's JSON header and check its format name and version.

    Parameters
    ----------
    data : bytes
        The header's UTF-8 text (bounded by :func:`parse_json`).
    key : str
        The header's name in the file, for the messages.
    formats : tuple of str
        The format names accepted.

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        Not JSON, not an object, another format, or an unsupported version.
    """
    meta = parse_json(data, key)
    if not isinstance(meta, dict):
        raise ValueError(f"header {key!r} is not a JSON object")
    if meta.get("format") not in formats:
        raise ValueError(f"not a cyneuron model (header {key!r} has format "
                         f"{meta.get('format')!r:.60})")
    version = meta.get("version")
    if type(version) is not int or version not in READ_VERSIONS:
        raise ValueError(f"unsupported format version {version!r:.60} (this cyneuron reads "
                         f"versions {', '.join(map(str, READ_VERSIONS))})")
    return meta



def check_header(data: bytes, key: str) -> tuple[dict[str, Any], Layout]:
    """The header of a model file and the arrays it announces (what a codec
    asks, :data:`cyneuron._codec.HeaderCheck`): a network's or an estimator's."""
    meta = parse_header(data, key, (FORMAT, ESTIMATOR_FORMAT, PIPELINE_FORMAT))
    return meta, stored_layout(meta)


def _is_number(x):
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    return abs(x) < 1e308 if isinstance(x, int) else math.isfinite(x)


def _check_rng_state(state):
    """A PCG64 state as NumPy's bit_generator.state gives it."""
    if not isinstance(state, dict) or set(state) != {"bit_generator", "state", "has_uint32",
                                                      "uinteger"}:
        raise ValueError("bad 'rng' state: expected the keys bit_generator, state, "
                         "has_uint32, uinteger")
    if state["bit_generator"] != "PCG64":
        raise ValueError(f"bad 'rng' state: bit_generator {state['bit_generator']!r:.40}, "
                         f"expected 'PCG64'")
    inner = state["state"]
    if not isinstance(inner, dict) or set(inner) != {"state", "inc"}:
        raise ValueError("bad 'rng' state: 'state' must hold 'state' and 'inc'")
    s, inc = inner["state"], inner["inc"]
    if not (_is_int(s) and 0 <= s < 2 ** 128):
        raise ValueError("bad 'rng' state: state.state must be an integer in [0, 2**128)")
    # PCG64's increment is always odd (NumPy sets its low bit)
    if not (_is_int(inc) and 0 < inc < 2 ** 128 and inc % 2 == 1):
        raise ValueError("bad 'rng' state: state.inc must be an odd integer in (0, 2**128)")
    if state["has_uint32"] not in (0, 1) or not _is_int(state["has_uint32"]):
        raise ValueError("bad 'rng' state: has_uint32 must be 0 or 1")
    if not (_is_int(state["uinteger"]) and 0 <= state["uinteger"] < 2 ** 32):
        raise ValueError("bad 'rng' state: uinteger must be an integer in [0, 2**32)")


def _check_activation_spec(i, spec):
    ok = isinstance(spec, str)
    if isinstance(spec, list):
        ok = len(spec) == 2 and isinstance(spec[0], str) and _is_number(spec[1])
    if isinstance(spec, dict):
        ok = (set(spec) <= {"name", "alpha"} and isinstance(spec.get("name"), str)
              and ("alpha" not in spec or _is_number(spec["alpha"])))
    if not ok:
        raise ValueError(f"bad 'activations'[{i}]: expected a name, [name, slope] or "
                         f"{{\"name\": ..., \"alpha\": ...}}, got {spec!r:.80}")


def check_network_header(meta: object) -> dict[str, Any]:
    """Check a network header's fields; returns them normalised (a dict).

    Types and ranges are checked here; the names (activations, loss, init,
    optimizer and its hyperparameters) by the registry and Network, with the
    same rules as for a network built in code.
    """
    if not isinstance(meta, dict):
        raise ValueError(f"the header must be a dict, got {type(meta).__name__}")
    missing = [k for k in _HEADER_KEYS if k not in meta]
    if missing:
        raise ValueError(f"header lacks the field(s) {', '.join(missing)}")
    unknown = sorted(str(k) for k in meta if k not in _HEADER_KEYS + _OPTIONAL_KEYS)
    if unknown:
        raise ValueError(f"header has unknown field(s) {', '.join(unknown)[:200]}")
    if meta["format"] != FORMAT:
        raise ValueError(f"not a cyneuron model (format {meta['format']!r:.60})")
    if not _is_int(meta["version"]) or meta["version"] not in READ_VERSIONS:
        raise ValueError(f"unsupported format version {meta['version']!r:.60}")
    sizes = meta["layer_sizes"]
    if (not isinstance(sizes, list) or not 2 <= len(sizes) <= MAX_LAYERS + 1
            or not all(_is_int(s) and 1 <= s <= MAX_WIDTH for s in sizes)):
        raise ValueError(f"bad 'layer_sizes': expected a list of 2 to {MAX_LAYERS + 1} "
                         f"integers in [1, {MAX_WIDTH}]")
    acts = meta["activations"]
    if not isinstance(acts, list) or len(acts) != len(sizes) - 1:
        raise ValueError(f"bad 'activations': expected a list of {len(sizes) - 1} entries")
    for i, spec in enumerate(acts):
        _check_activation_spec(i, spec)
    if not isinstance(meta["loss"], str):
        raise ValueError("bad 'loss': expected a name")
    dtype = meta["dtype"]
    if dtype not in ("float64", "float32"):
        raise ValueError(f"bad dtype {dtype!r:.60}: expected 'float64' or 'float32'")
    init = meta.get("init", "uniform")
    if not isinstance(init, str):
        raise ValueError("bad 'init': expected a name")
    l1, l2 = meta.get("l1", 0.0), meta.get("l2", 0.0)
    for name, val in (("l1", l1), ("l2", l2)):
        if not _is_number(val):
            raise ValueError(f"bad {name!r}: expected a finite number")
    dropout = meta.get("dropout", 0.0)
    if not (_is_number(dropout) or (isinstance(dropout, list)
                                    and all(_is_number(r) for r in dropout))):
        raise ValueError("bad 'dropout': expected a number or a list of numbers")
    opt = meta.get("optimizer")
    optimizer = None
    if opt is not None:
        if (not isinstance(opt, dict) or set(opt) != {"name", "params"}
                or not isinstance(opt["name"], str) or not isinstance(opt["params"], dict)
                or not all(isinstance(v, bool) or _is_number(v) for v in opt["params"].values())):
            raise ValueError("bad 'optimizer': expected {\"name\": ..., \"params\": {...}} "
                             "with numbers (or true/false) as hyperparameters")
        try:
            optimizer = registry.optimizer(opt["name"], **opt["params"])
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValueError(f"bad 'optimizer': {exc}") from None
    scalars = meta.get("optimizer_scalars", list(_INITIAL_SCALARS))
    if (not isinstance(scalars, list) or len(scalars) != 3
            or not all(_is_number(x) for x in scalars)):
        raise ValueError("bad 'optimizer_scalars': expected a list of 3 numbers "
                         "[step, beta_1**step, beta_2**step]")
    rng = meta.get("rng")
    if rng is not None:
        _check_rng_state(rng)
    reduction = meta.get("reduction", "sum_over_batch_size")
    if not isinstance(reduction, str):
        raise ValueError("bad 'reduction': expected a name")
    numerics = meta.get("numerics", "numpy")
    if not isinstance(numerics, str):
        raise ValueError("bad 'numerics': expected a name")
    return {"reduction": reduction, "numerics": numerics, "sizes": sizes, "activations": acts,
            "loss": meta["loss"],
            "dtype": np.dtype(dtype), "init": init, "l1": l1, "l2": l2, "dropout": dropout,
            "optimizer": optimizer, "scalars": [float(x) for x in scalars], "rng": rng}


def model_layout(meta: Mapping[str, Any], prefix: str = "") -> Layout:
    """The arrays the network described by `meta` is stored in.

    Parameters
    ----------
    meta : dict
        A network header (checked here).
    prefix : str
        The key prefix of the network's members.

    Returns
    -------
    dict
        ``{key: (dtype, shape)}`` for ``W0``, ``b0``, ... and
        ``optimizer_state``, keys with the prefix, in file order.
    """
    return network_layout(check_network_header(meta), prefix)


def stored_layout(meta: Mapping[str, Any]) -> Layout:
    """Every array a model file with top-level header `meta` may hold.

    Parameters
    ----------
    meta : dict
        A network's header, or an estimator's (whose network's arrays carry
        the prefix ``network_``, and which may hold ``best_params``).

    Returns
    -------
    dict
        ``{name: (dtype, shape)}``; the header itself is not listed.
    """
    if meta.get("format") == PIPELINE_FORMAT:
        return pipeline_layout(meta)
    if meta.get("format") == ESTIMATOR_FORMAT:
        net = meta.get("network")
        if not isinstance(net, dict):
            raise ValueError("bad 'network': expected the network's header")
        layout = model_layout(net, ESTIMATOR_PREFIX)
        dtype, (twice,) = layout[ESTIMATOR_PREFIX + "optimizer_state"]
        layout["best_params"] = (dtype, (twice // 2,))
        return layout
    return model_layout(meta)


def pipeline_layout(meta: Mapping[str, Any]) -> Layout:
    """The arrays of a pipeline file: the estimator's, and the preprocessing's
    float64 vectors (the numeric columns' medians and scaler, the target's
    scaler), sized from the header; every field is checked again, fully, by
    ``cyneuron.tabular`` when the pipeline is built."""
    if set(meta) - {"format", "version", "pipeline", "metadata", "state_digest"}:
        extra = sorted(set(meta) - {"format", "version", "pipeline", "metadata",
                                    "state_digest"})
        raise ValueError(f"header has unknown field(s) {', '.join(map(str, extra))[:200]}")
    tab = meta.get("pipeline")
    if not isinstance(tab, dict) or not isinstance(tab.get("estimator"), dict):
        raise ValueError("bad 'pipeline': expected the pipeline's state, with the "
                         "estimator's header under 'estimator'")
    if tab["estimator"].get("format") != ESTIMATOR_FORMAT:
        raise ValueError("bad 'pipeline': its 'estimator' is not an estimator's header")
    layout = stored_layout(tab["estimator"])
    numeric = tab.get("numeric")
    if not isinstance(numeric, list) or len(numeric) > 1 << 20:
        raise ValueError("bad 'pipeline': 'numeric' must be a list of columns")
    f8 = np.dtype(np.float64)
    n = len(numeric)
    if tab.get("impute") is True and n:
        layout[PIPELINE_PREFIX + "numeric_statistics"] = (f8, (n,))
    if tab.get("scale") is True:
        for part in ("mean", "scale", "var"):
            layout[f"{PIPELINE_PREFIX}numeric_{part}"] = (f8, (n,))
    if tab.get("scale_target") is True:
        outputs = layout[ESTIMATOR_PREFIX + "optimizer_state"]   # the network's width
        sizes = tab["estimator"].get("network", {}).get("layer_sizes")
        k = sizes[-1] if isinstance(sizes, list) and sizes and outputs else 0
        for part in ("mean", "scale", "var"):
            layout[f"{PIPELINE_PREFIX}target_{part}"] = (f8, (k,))
    metadata = meta.get("metadata")
    if metadata is not None:
        check_metadata(metadata)
    return layout


def check_metadata(metadata: Any) -> dict[str, Any]:
    """`metadata` if it is a JSON object of at most ``MAX_METADATA_BYTES``."""
    if not isinstance(metadata, dict):
        raise ValueError("bad 'metadata': expected an object")
    try:
        size = len(json.dumps(metadata, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad 'metadata': not plain JSON ({exc})") from None
    if size > MAX_METADATA_BYTES:
        raise ValueError(f"bad 'metadata': {size} bytes of JSON, over {MAX_METADATA_BYTES}")
    return metadata


def network_layout(spec: dict[str, Any], prefix: str = "") -> Layout:
    """Where the arrays of the network checked as `spec` are: key -> (dtype, shape)."""
    dtype = spec["dtype"]
    return {key: (dtype, shape)
            for key, shape in ParamLayout(spec["sizes"]).array_shapes(prefix).items()}


def _power_is_consistent(power, beta, step):
    """Could `power` be beta**step as the core keeps it (one rounded product per step)?

    Each step multiplies by beta with one rounding, so in the normal range the
    product is beta**step * (1 + d) with (1 - u)**step <= 1 + d <= (1 + u)**step,
    u = 2**-53; a few more u cover pow() and the bounds' own rounding. Below
    2**-1000 (through the subnormals) only an absolute bound holds, and such a
    power no longer changes the step size (1 - power == 1).
    """
    if not 0.0 <= power <= 1.0:
        return False
    u = 2.0 ** -53
    expected = beta ** step
    lo = expected * math.exp(step * math.log1p(-u)) * (1 - 8 * u)
    hi = expected * math.exp(step * math.log1p(u)) * (1 + 8 * u)
    slack = 2.0 ** -1000
    return lo - slack <= power <= hi + slack


def check_optimizer_state(optimizer: registry.Optimizer | None, state: NDArray[np.floating[Any]],
                          scalars: Sequence[float], n_params: int) -> None:
    """Refuse optimizer state that training could not have produced.

    Parameters
    ----------
    optimizer : cyneuron._registry.Optimizer or None
    state : numpy.ndarray
        The moments m then v, ``2 * n_params`` finite values.
    scalars : sequence of 3 floats
        [step, beta_1**step, beta_2**step].
    n_params : int

    Raises
    ------
    ValueError
        Second moments below zero, a half the optimizer never writes that is
        not zero, a step count that is not a non-negative integer (below
        2**53), beta powers that do not match the step count and the betas,
        or scalars other than [0, 1, 1] for an optimizer that counts no steps.
    """
    # what the optimizer's registry row says it writes (nothing without one)
    row = None if optimizer is None else optimizer.row
    name = None if optimizer is None else optimizer.name
    halves = {"m": state[:n_params], "v": state[n_params:]}
    step, b1p, b2p = scalars
    if row is not None and row.squares:
        bad = np.flatnonzero(halves["v"] < 0)
        if bad.size:
            raise ValueError(f"optimizer_state: negative second moment v[{bad[0]}] = "
                             f"{halves['v'][bad[0]]!r} ({name} keeps averages of squared "
                             f"gradients, >= 0)")
    for half, values in halves.items():
        if (row is None or half not in row.state) and values.any():
            raise ValueError(f"optimizer_state: the {half} half is not zero, but "
                             f"{name or 'a network without an optimizer'} never writes it")
    if optimizer is None or row is None or not row.counts_steps:
        if (step, b1p, b2p) != _INITIAL_SCALARS:
            counting = ", ".join(r.name for r in registry.OPTIMIZERS.values() if r.counts_steps)
            raise ValueError(f"optimizer_scalars {list(scalars)} for "
                             f"{name or 'no optimizer'}: only {counting} count steps, "
                             f"expected [0, 1, 1]")
        return
    if not (0 <= step <= _MAX_STEP and step == int(step)):
        raise ValueError(f"optimizer_scalars: the step count {step!r} is not a non-negative "
                         f"integer (at most 2**53)")
    if step == 0:
        if (b1p, b2p) != (1.0, 1.0):
            raise ValueError(f"optimizer_scalars: beta powers at step 0 must be 1, got "
                             f"{b1p!r}, {b2p!r}")
        if state.any():
            raise ValueError(f"optimizer_state: {name}'s moments must be zero at step 0")
        return
    for power, key in ((b1p, "beta_1"), (b2p, "beta_2")):
        beta = optimizer.params[key]
        if not _power_is_consistent(power, beta, step):
            raise ValueError(f"optimizer_scalars: {key}**step = {power!r} does not match "
                             f"{key} = {beta!r} after {int(step)} steps (about "
                             f"{beta ** step!r})")




# --- a network's arrays -----------------------------------------------------------------------

def mapping_reader(arrays: Mapping[str, Any]) -> Getter:
    """A reader over a mapping of key to numpy.ndarray that refuses an array of
    another type, dtype or shape (worded as a codec words it)."""
    def get(key, dtype, shape):
        arr = arrays.get(key)
        if arr is None:
            return None
        if not isinstance(arr, np.ndarray):
            raise ValueError(f"array {key!r} is a {type(arr).__name__}, not a NumPy array")
        check_array_type(key, str(arr.dtype), arr.shape, str(dtype), shape)
        return arr
    return get


def network_arrays(spec: dict[str, Any], arrays: Mapping[str, Any], prefix: str = ""
                   ) -> tuple[list[tuple[NDArray[Any], NDArray[Any]]], NDArray[Any]]:
    """The weights and optimizer state of the network checked as `spec`, from
    `arrays`, every one checked (dtype, shape, finite, optimizer state possible);
    an absent optimizer state is zeros when the header names no optimizer."""
    layout, get = network_layout(spec, prefix), mapping_reader(arrays)
    weights = []
    for l in range(len(spec["sizes"]) - 1):
        pair = []
        for key in (f"{prefix}W{l}", f"{prefix}b{l}"):
            arr = get(key, *layout[key])
            if arr is None:
                raise ValueError(f"missing array {key!r}")
            if not np.isfinite(arr).all():
                raise ValueError(f"array {key!r} contains NaN or infinity")
            pair.append(arr)
        weights.append((pair[0], pair[1]))
    key = prefix + "optimizer_state"
    state = get(key, *layout[key])
    if state is None:
        if spec["optimizer"] is not None:
            raise ValueError(f"missing array {key!r} (the header names optimizer "
                             f"{spec['optimizer'].name!r})")
        state = np.zeros(layout[key][1], dtype=spec["dtype"])
    if not np.isfinite(state).all():
        raise ValueError(f"array {key!r} contains NaN or infinity")
    check_optimizer_state(spec["optimizer"], state, spec["scalars"],
                          ParamLayout(spec["sizes"]).n_params)
    return weights, state


def generator(rng: dict[str, Any]) -> np.random.Generator:
    """The Generator whose PCG64 state a header stores (checked by
    :func:`check_network_header`)."""
    bitgen = np.random.PCG64()
    try:
        bitgen.state = rng  # type: ignore[assignment]
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise ValueError(f"bad 'rng' state ({exc})") from None
    return np.random.Generator(bitgen)


def network_state(network: Any, layers: Sequence[tuple[NDArray[Any], NDArray[Any]]],
                  opt_state: NDArray[Any], opt_scalars: NDArray[Any], prefix: str = ""
                  ) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """A network's header and arrays, checked as loading checks them.

    Parameters
    ----------
    network : Network
        Read through its public attributes (architecture, optimizer, Generator,
        digest). Typed ``Any`` here: this module sits below ``cyneuron.network``
        and does not import it, not even for its type.
    layers, opt_state, opt_scalars
        Its (W, b) pairs, optimizer moments and [step, beta_1**step,
        beta_2**step]: what only the network holds (``Network.state_for_file``).
    prefix : str
        Prefix of the array keys.

    Returns
    -------
    meta : dict
    arrays : dict
        ``{prefix + "optimizer_state": ..., prefix + "W0": ..., ...}``, the
        arrays as given (no copies).

    Raises
    ------
    ValueError
        Weights or optimizer state that are not finite, or optimizer state
        that a load would refuse: nothing is returned that could not be read
        back.
    """
    opt = network.optimizer
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "layer_sizes": list(network.layer_sizes),
        "activations": [a.spec for a in network.activations],
        "loss": network.loss.name,
        "dtype": network.dtype.name,
        "init": network.init,
        "l1": network.l1,
        "l2": network.l2,
        "dropout": list(network.dropout[:-1]),
        "reduction": network.reduction,
        "numerics": network.numerics,
        "optimizer": None if opt is None else {"name": opt.name, "params": dict(opt.params)},
        "optimizer_scalars": [float(x) for x in opt_scalars],
        # the Generator's position, so that shuffling and dropout resume exactly
        "rng": (network.rng.bit_generator.state
                if isinstance(network.rng.bit_generator, np.random.PCG64) else None),
        # SHA-256 of architecture, dtype and weights (cyneuron._digest); load checks it
        "digest": network.digest(),
    }
    arrays = {prefix + "optimizer_state": opt_state}
    for l, (W, b) in enumerate(layers):
        arrays[f"{prefix}W{l}"] = W
        arrays[f"{prefix}b{l}"] = b
    network_arrays(check_network_header(meta), arrays, prefix)
    return meta, arrays


def weights_state(layer_sizes: Sequence[int], activations: Sequence[ActivationSpec],
                  loss: str, dtype: str, weights: Sequence[tuple[NDArray[Any], NDArray[Any]]]
                  ) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """The header and arrays of a network without an optimizer, from an
    architecture and weights that come from elsewhere (another library): read
    back with ``Network.from_file_state``, they pass the checks a loaded
    file does, with the same messages."""
    meta = {"format": FORMAT, "version": VERSION, "layer_sizes": list(layer_sizes),
            "activations": [list(a) if isinstance(a, tuple) else a for a in activations],
            "loss": loss, "dtype": dtype}
    arrays: dict[str, Any] = {}
    for l, (W, b) in enumerate(weights):
        arrays[f"W{l}"], arrays[f"b{l}"] = W, b
    return meta, arrays


# --- an estimator's header --------------------------------------------------------------------

#: The estimator classes a file may name.
ESTIMATOR_CLASSES = ("MLPClassifier", "MLPRegressor")
#: Fitted attributes an estimator's header stores, by kind: numbers (infinities
#: as the strings "inf", "-inf"), non-negative integers, lists of numbers.
FITTED_NUMBERS = ("loss_", "best_loss_", "best_validation_score_", "_lr")
FITTED_INTS = ("n_iter_", "t_", "n_features_in_", "_no_improvement_count")
FITTED_LISTS = ("loss_curve_", "validation_scores_")
_LABEL_KINDS = "biufU"
# parameters stored as JSON numbers (or "inf"), read back as floats
_FLOAT_PARAMS = ("alpha", "learning_rate_init", "power_t", "tol", "momentum",
                 "validation_fraction", "beta_1", "beta_2", "epsilon", "clipnorm")


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


def estimator_state(class_name: str, params: Mapping[str, Any],
                    network: tuple[dict[str, Any], dict[str, NDArray[Any]]],
                    out_activation: str, fitted: Mapping[str, Any], *,
                    feature_names: Sequence[Any] | None = None,
                    labels: NDArray[Any] | None = None, multilabel: bool = False,
                    best: NDArray[Any] | None = None
                    ) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """A fitted estimator's header and arrays (``state_for_file`` of the estimators).

    Parameters
    ----------
    class_name : {"MLPClassifier", "MLPRegressor"}
    params : mapping
        ``get_params(deep=False)``.
    network : (header, arrays)
        The network's, its arrays under :data:`ESTIMATOR_PREFIX`.
    out_activation : str
        ``out_activation_``.
    fitted : mapping
        The fitted attributes of :data:`FITTED_NUMBERS`, :data:`FITTED_INTS`
        and :data:`FITTED_LISTS` that the estimator has (and are not None).
    feature_names : sequence, optional
        ``feature_names_in_``.
    labels, multilabel
        A classifier's labels (as fitted) and whether it is multilabel.
    best : numpy.ndarray, optional
        Early stopping's best parameters.

    Raises
    ------
    ValueError
        A parameter or labels that a file cannot hold (the message says which).
    """
    params = dict(params)
    cw = params.get("class_weight")
    if isinstance(cw, dict):
        params["class_weight"] = [[_plain(k, "class_weight"), _plain(w, "class_weight")]
                                  for k, w in cw.items()]
    net_meta, arrays = network
    meta: dict[str, Any] = {
        "format": ESTIMATOR_FORMAT, "version": VERSION, "class": class_name,
        "params": {k: _plain(v, k) for k, v in params.items()},
        "network": net_meta, "out_activation_": out_activation,
    }
    for name in FITTED_NUMBERS:
        if name in fitted:
            meta[name] = _number(fitted[name])
    for name in FITTED_INTS:
        if name in fitted:
            meta[name] = int(fitted[name])
    for name in FITTED_LISTS:
        if name in fitted:
            meta[name] = [_number(x) for x in fitted[name]]
    if feature_names is not None:
        meta["feature_names_in_"] = [str(x) for x in feature_names]
    if labels is not None:
        labels = np.asarray(labels)
        if labels.dtype.kind not in _LABEL_KINDS:
            raise ValueError(f"classes of dtype {labels.dtype} cannot be stored (numbers, "
                             f"booleans and strings can)")
        meta["classes_"] = labels.tolist()
        meta["classes_dtype"] = labels.dtype.str
        meta["multilabel"] = bool(multilabel)
    arrays = dict(arrays)
    if best is not None:
        arrays["best_params"] = best
    return meta, arrays


def estimator_class(meta: Mapping[str, Any]) -> str:
    """The estimator class an estimator's header names (checked)."""
    name = meta.get("class")
    if name not in ESTIMATOR_CLASSES:
        raise ValueError(f"bad 'class' {name!r:.60}: expected one of "
                         f"{', '.join(ESTIMATOR_CLASSES)}")
    return name


def estimator_params(meta: Mapping[str, Any], known: Sequence[str]) -> dict[str, Any]:
    """The parameters an estimator's header stores, as the constructor takes
    them; exactly the names `known` (the class's ``get_params``)."""
    params = meta.get("params")
    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        raise ValueError("bad 'params': expected an object")
    if set(params) != set(known):
        raise ValueError(f"bad 'params': expected the parameters {sorted(known)}")
    params = dict(params)
    for k, val in params.items():
        if k in ("hidden_layer_sizes",) and isinstance(val, list):
            params[k] = tuple(val)
        if k == "activation" and isinstance(val, list):
            # [name, param] is one spec for every layer (a layer's spec is never
            # a number); otherwise one spec per layer
            if len(val) == 2 and isinstance(val[0], str) and _is_number(val[1]):
                params[k] = tuple(val)
            else:
                params[k] = [tuple(a) if isinstance(a, list) else a for a in val]
        if k in _FLOAT_PARAMS and val is not None:
            params[k] = _unnumber(val, k)
        if k == "n_iter_no_change" and val == "inf":    # "never stop early", as scikit-learn
            params[k] = math.inf
    cw = params.get("class_weight")
    if isinstance(cw, list):
        if not all(isinstance(p, list) and len(p) == 2 for p in cw):
            raise ValueError("bad 'class_weight': expected [label, weight] pairs")
        params["class_weight"] = {(tuple(k) if isinstance(k, list) else k): w for k, w in cw}
    return params


def estimator_fitted(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The fitted attributes an estimator's header stores, checked; it must
    hold ``n_features_in_`` and ``n_iter_``."""
    attrs: dict[str, Any] = {}
    for k in FITTED_NUMBERS:
        if k in meta:
            attrs[k] = _unnumber(meta[k], k)
    for k in FITTED_INTS:
        if k in meta:
            val = meta[k]
            if isinstance(val, bool) or not isinstance(val, int) or val < 0:
                raise ValueError(f"bad {k!r}: expected a non-negative integer")
            attrs[k] = val
    for k in FITTED_LISTS:
        if k in meta:
            if not isinstance(meta[k], list):
                raise ValueError(f"bad {k!r}: expected a list of numbers")
            attrs[k] = [_unnumber(x, k) for x in meta[k]]
    if "n_features_in_" not in attrs or "n_iter_" not in attrs:
        raise ValueError("the header lacks 'n_features_in_' or 'n_iter_'")
    return attrs


def estimator_labels(meta: Mapping[str, Any]) -> tuple[NDArray[Any], bool]:
    """A classifier's labels (distinct, of the stored dtype) and whether it is multilabel."""
    dt = meta.get("classes_dtype")
    try:
        dtype = np.dtype(dt)
    except TypeError:
        raise ValueError(f"bad 'classes_dtype' {dt!r:.40}") from None
    if dtype.kind not in _LABEL_KINDS or dtype.itemsize > 4096:
        raise ValueError(f"bad 'classes_dtype' {dt!r:.40}")
    labels = meta.get("classes_")
    if not isinstance(labels, list) or not labels:
        raise ValueError("bad 'classes_': expected a list of labels")
    try:
        out = np.array(labels, dtype=dtype)
    except (TypeError, ValueError, OverflowError):
        raise ValueError("bad 'classes_': the labels do not fit 'classes_dtype'") from None
    if out.ndim != 1 or len(np.unique(out)) != len(out):
        raise ValueError("bad 'classes_': expected distinct labels")
    multilabel = meta.get("multilabel")
    if not isinstance(multilabel, bool):
        raise ValueError("bad 'multilabel': expected true or false")
    return out, multilabel


def estimator_extras(meta: Mapping[str, Any], arrays: Mapping[str, Any], n_features: int,
                     dtype: np.dtype[Any], n_params: int
                     ) -> tuple[NDArray[Any] | None, NDArray[Any] | None, str]:
    """(feature_names_in_ or None, early stopping's best parameters or None,
    out_activation_) of an estimator's header and arrays, checked."""
    names = None
    if "feature_names_in_" in meta:
        names = meta["feature_names_in_"]
        if (not isinstance(names, list) or len(names) != n_features
                or not all(isinstance(x, str) for x in names)):
            raise ValueError("bad 'feature_names_in_': expected one name per feature")
        names = np.asarray(names, dtype=object)
    best = mapping_reader(arrays)("best_params", dtype, (n_params,))
    if best is not None and not np.isfinite(best).all():
        raise ValueError("array 'best_params' contains NaN or infinity")
    out = meta.get("out_activation_")
    if out not in ("softmax", "logistic", "identity"):
        raise ValueError(f"bad 'out_activation_' {out!r:.40}")
    return names, best, out
