"""Preprocessing that is part of the model: a scikit-learn Pipeline around the estimators.

Design:

* :func:`tabular_pipeline` looks at X once (column dtypes, never values beyond
  a check for columns that are entirely missing) and returns an *unfitted*
  scikit-learn ``Pipeline``: a ``ColumnTransformer`` of scikit-learn's own
  transformers (``SimpleImputer``, ``StandardScaler``, ``OneHotEncoder`` or
  ``OrdinalEncoder``) and cyneuron's ``MLPClassifier``/``MLPRegressor``, the
  regressor inside a ``TransformedTargetRegressor`` that standardises y.
  Nothing here reimplements a transformer; the one class of our own,
  :class:`RejectMissing`, only checks (``impute=False``) and changes nothing.
* One builder, ``_build``, makes every pipeline this module knows: the one
  :func:`tabular_pipeline` returns, the template a pipeline is compared with
  before it is stored, and the skeleton a stored pipeline is rebuilt into. So
  "only the shapes tabular_pipeline builds" is one comparison, not a list.
* The safe state (:func:`pipeline_to_state` / :func:`pipeline_from_state`)
  is a JSON header plus float64 arrays: public fitted attributes and
  parameters only. A stored pipeline is rebuilt by constructing the same
  transformers, fitting them on a small synthetic frame made from the stored
  statistics (every stored category appears in it, so the encoders find the
  same sorted ``categories_``), then setting the public fitted attributes
  (``statistics_``, ``mean_``, ``scale_``, ``var_``, ``n_samples_seen_``,
  ``sparse_output_``). No private attribute is read or written; nothing is
  pickled. The MLP itself goes to and from the caller's callbacks, so that
  the model-file code stores it as it stores a bare estimator.
* The header is built from the fitted objects and then read back through
  the same validation the loader uses, so a pipeline that could not be
  loaded is never written.

Read it top-down: column detection, the builder and :func:`tabular_pipeline`,
then the state format (to, validation, from).
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

try:
    import scipy.sparse
    from sklearn.base import BaseEstimator, TransformerMixin, clone
    from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
    from sklearn.dummy import DummyRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
    from sklearn.utils.multiclass import type_of_target
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError("cyneuron.tabular_pipeline needs scikit-learn: "
                      "pip install 'cyneuron[sklearn]'") from exc

from ._summary import summary_text
from .estimators import MLPClassifier, MLPRegressor

__all__ = ["tabular_pipeline", "pipeline_to_state", "pipeline_from_state", "describe_state",
           "RejectMissing",
           "STATE_FORMAT", "ARRAY_PREFIX"]

STATE_FORMAT = "cyneuron-tabular"
STATE_VERSION = 1
# every preprocessing array's name starts with this; the estimator's arrays must not
ARRAY_PREFIX = "preprocess_"
_TASKS = ("classification", "regression")
_ENCODINGS = ("one_hot", "ordinal")
# bounds on what a header may hold (the model file bounds its total size too)
MAX_COLUMNS = 100_000
MAX_CATEGORIES = 1_000_000          # over all categorical columns
MAX_STRING = 4096                   # characters in a category or a column name


# --- columns ----------------------------------------------------------------------

def _column_kinds(X: Any) -> tuple[list[Any], list[Any], bool]:
    """(numeric columns, categorical columns, by_name) of X, in X's column order.

    Columns are named when X is a DataFrame whose column names are all strings
    (scikit-learn then records ``feature_names_in_``), positions otherwise.
    """
    dtypes = getattr(X, "dtypes", None)
    if dtypes is not None and hasattr(X, "columns"):
        names = list(X.columns)
        if len(set(map(str, names))) != len(names):
            raise ValueError(f"X's column names must be distinct, got {names!r:.200}")
        by_name = all(isinstance(n, str) for n in names)
        num, cat = [], []
        for i, (name, dt) in enumerate(zip(names, dtypes)):
            key = name if by_name else i
            kind = getattr(dt, "kind", "O")
            if kind in "biuf":
                num.append(key)
            elif kind in "OSU" or str(dt) in ("category", "str", "string"):
                _check_text(X.iloc[:, i].to_numpy(dtype=object), name)
                cat.append(key)
            else:
                raise ValueError(f"column {name!r} has dtype {dt}, which is neither numeric nor "
                                 f"text (object, string or category)")
            if kind in "biuf" and len(X) and X.iloc[:, i].isna().all():
                raise ValueError(f"column {name!r} has no values (every cell is missing): drop it")
        return num, cat, by_name
    if scipy.sparse.issparse(X):
        raise TypeError("tabular_pipeline needs a DataFrame or a dense array; sparse X is "
                        "already encoded (use cyneuron.MLPClassifier/MLPRegressor directly)")
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (samples, features), got shape {X.shape}")
    if X.dtype.kind in "biuf":
        for j in range(X.shape[1]):
            if X.shape[0] and np.isnan(X[:, j].astype(np.float64)).all():
                raise ValueError(f"column {j} has no values (every cell is missing): drop it")
        return list(range(X.shape[1])), [], False
    if X.dtype.kind != "O":
        raise TypeError(f"X of dtype {X.dtype} is not supported: pass a DataFrame, a numeric "
                        f"array or an object array")
    num, cat = [], []
    for j in range(X.shape[1]):
        values = [v for v in X[:, j] if not (isinstance(v, float) and math.isnan(v))]
        if X.shape[0] and not values:
            raise ValueError(f"column {j} has no values (every cell is missing): drop it")
        if values and all(isinstance(v, numbers.Real) for v in values):
            num.append(j)
        else:
            _check_text(X[:, j], j)
            cat.append(j)
    return num, cat, False


def _check_text(values: NDArray[Any], name: Any) -> None:
    """ValueError unless a text column holds strings and NaNs, with a value.

    SimpleImputer's missing value is NaN: None is neither missing nor a
    category to it; and only strings can be stored as categories.
    """
    present = [v for v in values if not (isinstance(v, float) and math.isnan(v))]
    if len(values) and not present:
        raise ValueError(f"column {name!r} has no values (every cell is missing): drop it")
    for v in present:
        if v is None:
            raise ValueError(f"column {name!r} holds None: missing text cells must be NaN "
                             f"(pandas' string dtype does this)")
        if not isinstance(v, str):
            raise ValueError(f"column {name!r} is text but holds {v!r:.40} "
                             f"({type(v).__name__}): convert the column to str or to a number")


class RejectMissing(TransformerMixin, BaseEstimator):
    """A check, in place of imputation: any missing value is an error.

    Stateless; returns X unchanged. ``tabular_pipeline(..., impute=False)``
    puts one in each branch of its ColumnTransformer, so that a missing value
    fails fit and predict with the column's name rather than further on.

    Parameters
    ----------
    columns : list of str or int
        The names (or positions) of the columns this branch receives, in
        order: the error names them.
    """

    def __init__(self, columns: Sequence[Any] = ()) -> None:
        self.columns = columns

    def fit(self, X: Any, y: Any = None) -> RejectMissing:
        """Check X (see :meth:`transform`).

        Parameters
        ----------
        X : DataFrame or array of shape (n_samples, n_columns)
        y : ignored

        Returns
        -------
        self : RejectMissing
        """
        self.transform(X)
        return self

    def transform(self, X: Any) -> Any:
        """X unchanged, when no cell is missing.

        Parameters
        ----------
        X : DataFrame or array of shape (n_samples, n_columns)

        Returns
        -------
        X : the same object

        Raises
        ------
        ValueError
            A cell is missing (NaN, None, pandas' NA); the message names the
            first such column and row.
        """
        if hasattr(X, "isna"):
            mask = np.asarray(X.isna(), dtype=bool)
            names = list(X.columns)
        else:
            arr = np.asarray(X)
            if arr.dtype.kind in "fc":
                mask = np.isnan(arr)
            elif arr.dtype.kind == "O":
                mask = np.array([[v is None or (isinstance(v, float) and v != v) for v in row]
                                 for row in arr], dtype=bool).reshape(arr.shape)
            else:
                mask = np.zeros(arr.shape, dtype=bool)
            names = list(self.columns)
        if mask.any():
            row, col = np.argwhere(mask)[0]
            name = names[col] if col < len(names) else col
            raise ValueError(f"column {name!r} has a missing value (row {row}); impute=False "
                             f"(--no-impute) makes missing values an error")
        return X

    def get_feature_names_out(self, input_features: Any = None) -> NDArray[Any]:
        """The input's feature names, unchanged.

        Parameters
        ----------
        input_features : array-like of str or None

        Returns
        -------
        ndarray of str
        """
        if input_features is None:
            input_features = [str(c) for c in self.columns]
        return np.asarray(input_features, dtype=object)

    def __sklearn_is_fitted__(self) -> bool:
        return True


# --- the one builder ----------------------------------------------------------------

def _build(num: list[Any], cat: list[Any], *, impute: bool, scale: bool, encoding: str,
           model: Any, scale_target: bool) -> Pipeline:
    """The Pipeline for these columns and switches around `model` (an estimator)."""
    branches = []
    if num:
        steps: list[tuple[str, Any]] = [
            ("impute", SimpleImputer(strategy="median")) if impute
            else ("require", RejectMissing(columns=list(num)))]
        if scale:
            steps.append(("scale", StandardScaler()))
        branches.append(("numeric", Pipeline(steps), list(num)))
    if cat:
        encoder = (OneHotEncoder(handle_unknown="ignore") if encoding == "one_hot" else
                   OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1))
        branches.append(("categorical", Pipeline([
            ("impute", SimpleImputer(strategy="most_frequent")) if impute
            else ("require", RejectMissing(columns=list(cat))),
            ("encode", encoder)]), list(cat)))
    if scale_target:
        model = TransformedTargetRegressor(regressor=model, transformer=StandardScaler())
    # dense output (sparse_threshold=0), whatever the one-hot's width. Since issue 29 the
    # estimators take CSR too (the same bits as the dense copy), so a sparse output for
    # columns with many categories would work; not done until it is measured to pay
    return Pipeline([("preprocess", ColumnTransformer(branches, sparse_threshold=0.0)),
                     ("model", model)])


# a float y with whole values is classes to type_of_target; beyond this many distinct
# values it is far likelier a measurement or a count (diabetes' progression score)
MAX_FLOAT_CLASSES = 20


def _task_of(y: Any) -> str:
    kind = type_of_target(y, input_name="y")
    if kind in ("continuous", "continuous-multioutput"):
        return "regression"
    if kind == "multiclass" and np.asarray(y).dtype.kind == "f" \
            and len(np.unique(np.asarray(y))) > MAX_FLOAT_CLASSES:
        return "regression"
    if kind in ("binary", "multiclass", "multilabel-indicator", "multiclass-multioutput"):
        return "classification"
    raise ValueError(f"cannot tell the task from y (scikit-learn's type_of_target says "
                     f"{kind!r}): pass task='classification' or 'regression'")


def tabular_pipeline(X: Any, y: Any = None, *, task: str | None = None,
                     hidden_layer_sizes: int | Sequence[int] = (100,), scale: bool = True,
                     impute: bool = True, one_hot: bool = True, scale_target: bool = True,
                     random_state: int | None = None, **estimator_params: Any) -> Pipeline:
    """An unfitted scikit-learn Pipeline: preprocessing and a cyneuron MLP.

    The preprocessing is scikit-learn's own transformers in a
    ``ColumnTransformer``; it is part of the model (``fit`` learns it,
    ``predict`` applies it, :func:`pipeline_to_state` stores it):

    * numeric columns: ``SimpleImputer(strategy="median")``, then
      ``StandardScaler()``;
    * text columns (object, string or category dtype):
      ``SimpleImputer(strategy="most_frequent")``, then
      ``OneHotEncoder(handle_unknown="ignore")``: a category not seen in
      training encodes as all zeros;
    * the model: :class:`cyneuron.MLPClassifier`, or
      :class:`cyneuron.MLPRegressor` inside
      ``TransformedTargetRegressor(transformer=StandardScaler())``, which
      trains on standardised targets and maps predictions (and so
      ``score``) back to the original units.

    Parameters
    ----------
    X : pandas.DataFrame or ndarray of shape (n_samples, n_features)
        The training data, or any data with its columns and dtypes: only the
        column dtypes are read (and whether a column is entirely missing).
        Numeric dtypes (bool, int, float) are numeric columns; object, string
        and category dtypes text columns. A numeric array is all numeric; an
        object array's columns are text when they hold strings. Missing cells
        are NaN (None or pandas' NA in a DataFrame).
    y : array-like or None, default=None
        The targets, to tell the task: scikit-learn's ``type_of_target``
        (continuous values are regression, classes classification), except
        that floats with whole values are regression when there are more
        than 20 distinct ones (``MAX_FLOAT_CLASSES``; type_of_target would
        call diabetes' targets 214 classes).
    task : {"classification", "regression"} or None, default=None
        Overrides what y says; required when y is None.
    hidden_layer_sizes : int or tuple of int, default=(100,)
        Widths of the estimator's hidden layers.
    scale : bool, default=True
        Standardise numeric columns.
    impute : bool, default=True
        Impute missing cells (median; most frequent category). False: a
        missing cell is a ``ValueError`` naming its column, at fit and predict.
    one_hot : bool, default=True
        One-hot encode text columns; False: ``OrdinalEncoder`` codes (sorted
        categories 0, 1, ...; an unseen category -1).
    scale_target : bool, default=True
        Regression: standardise y for training (``TransformedTargetRegressor``).
    random_state : int or None, default=None
        The estimator's ``random_state``.
    **estimator_params
        Further parameters of the cyneuron estimator (``max_iter``,
        ``solver``, ``alpha``, ...).

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``("preprocess", ColumnTransformer)`` and ``("model", estimator)``.

    Raises
    ------
    ValueError
        An unknown task, a column that is neither numeric nor text, one that
        is entirely missing, duplicate column names.
    TypeError
        X is sparse, or an array of strings (pass a DataFrame or an object array).

    Examples
    --------
    >>> import cyneuron as cn
    >>> pipe = cn.tabular_pipeline(X_train, y_train, random_state=0)  # doctest: +SKIP
    >>> pipe.fit(X_train, y_train).score(X_test, y_test)              # doctest: +SKIP
    """
    if task is None:
        if y is None:
            raise ValueError("tabular_pipeline needs y or task='classification'/'regression'")
        task = _task_of(y)
    if task not in _TASKS:
        raise ValueError(f"task must be 'classification', 'regression' or None, got {task!r:.60}")
    if task == "regression" and y is not None:
        try:
            np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError):
            # MLPRegressor.fit would fail later, without naming y or the task
            values = np.asarray(y).ravel()[:3].tolist()
            raise ValueError(f"task='regression' needs a numeric y, got values such as "
                             f"{values!r:.60}") from None
    for name, flag in (("scale", scale), ("impute", impute), ("one_hot", one_hot),
                       ("scale_target", scale_target)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {flag!r:.60}")
    num, cat, _ = _column_kinds(X)
    if not num and not cat:
        raise ValueError("X has no columns")
    cls = MLPClassifier if task == "classification" else MLPRegressor
    model = cls(hidden_layer_sizes=hidden_layer_sizes, random_state=random_state,
                **estimator_params)
    return _build(num, cat, impute=bool(impute), scale=bool(scale),
                  encoding="one_hot" if one_hot else "ordinal", model=model,
                  scale_target=bool(scale_target) and task == "regression")


# --- the safe state: shape ------------------------------------------------------------

EstimatorToState = Callable[[Any], tuple[dict[str, Any], Mapping[str, NDArray[Any]]]]
EstimatorFromState = Callable[[dict[str, Any]], Any]


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True      # SimpleImputer's missing_values=np.nan
    if type(a) is not type(b) and not (isinstance(a, type) or isinstance(b, type)):
        return False     # True is not 1, [1] is not (1,)
    return bool(a == b)


def _same_shape(obj: Any, template: Any, path: str, model: Any) -> None:
    """TypeError unless `obj` is `template` up to the fitted state (the model excepted)."""
    if template is model:
        return
    if type(obj) is not type(template):
        raise TypeError(f"{path}: {type(obj).__name__} is not supported here (a pipeline from "
                        f"cyneuron.tabular_pipeline has {type(template).__name__})")
    got, want = obj.get_params(deep=False), template.get_params(deep=False)
    if set(got) != set(want):
        raise TypeError(f"{path}: unexpected parameters {sorted(set(got) ^ set(want))}")
    for key, value in want.items():
        if key in ("steps", "transformers"):
            items = got[key]
            if (not isinstance(items, list) or len(items) != len(value)
                    or [s[0] for s in items] != [s[0] for s in value]):
                names = [s[0] for s in value]
                raise TypeError(f"{path}.{key}: expected the steps {names}, got "
                                f"{[s[0] if isinstance(s, tuple) else s for s in items]!r:.200}")
            for have, expect in zip(items, value):
                if len(have) != len(expect) or (len(expect) == 3 and list(have[2]) != expect[2]):
                    raise TypeError(f"{path}.{key}[{expect[0]!r}]: unexpected columns")
                _same_shape(have[1], expect[1], f"{path}[{expect[0]!r}]", model)
        elif hasattr(value, "get_params"):
            _same_shape(got[key], value, f"{path}.{key}", model)
        elif not _same_value(got[key], value):
            raise TypeError(f"{path}: the parameter {key}={got[key]!r:.60} is not supported "
                            f"(tabular_pipeline sets {value!r:.60})")


def _describe(pipe: Any) -> dict[str, Any]:
    """The columns and switches of a pipeline tabular_pipeline could have built.

    Raises TypeError naming the first part that it could not have built.
    """
    if type(pipe) is not Pipeline:
        raise TypeError(f"{type(pipe).__name__} is not supported: expected a scikit-learn "
                        f"Pipeline from cyneuron.tabular_pipeline")
    steps = pipe.steps
    if (not isinstance(steps, list) or len(steps) != 2
            or [s[0] for s in steps] != ["preprocess", "model"]):
        got = [s[0] if isinstance(s, tuple) else s for s in steps] \
            if isinstance(steps, list) else steps
        raise TypeError(f"Pipeline: expected the steps ['preprocess', 'model'] of a "
                        f"cyneuron.tabular_pipeline, got {got!r:.200}; cyneuron's files hold "
                        f"those pipelines only (field by field, never pickled): save the "
                        f"estimator alone, or the whole pipeline with skops.io")
    ct, model = steps[0][1], steps[1][1]
    if type(ct) is not ColumnTransformer:
        raise TypeError(f"Pipeline['preprocess']: {type(ct).__name__} is not supported "
                        f"(expected ColumnTransformer)")
    branches = {t[0]: t for t in ct.transformers if isinstance(t, tuple) and len(t) == 3}
    if not branches or set(branches) - {"numeric", "categorical"}:
        raise TypeError(f"ColumnTransformer: branches {[t[0] for t in ct.transformers]!r:.200} "
                        f"are not supported (expected 'numeric' and/or 'categorical')")
    num = list(branches["numeric"][2]) if "numeric" in branches else []
    cat = list(branches["categorical"][2]) if "categorical" in branches else []
    impute, scale, encoding = True, False, "one_hot"
    for name in ("categorical", "numeric"):          # numeric last: its impute wins
        if name not in branches:
            continue
        branch: Any = branches[name][1]
        if type(branch) is not Pipeline or not branch.steps:
            raise TypeError(f"ColumnTransformer[{name!r}]: {type(branch).__name__} is not "
                            f"supported (expected a Pipeline)")
        step_names = [s[0] for s in branch.steps]
        impute = step_names[0] == "impute"
        if name == "numeric":
            scale = "scale" in step_names
        elif type(branch.steps[-1][1]) is OrdinalEncoder:
            encoding = "ordinal"
    estimator: Any
    if type(model) is MLPClassifier:
        task, estimator, scale_target = "classification", model, False
    elif type(model) is MLPRegressor:
        task, estimator, scale_target = "regression", model, False
    elif type(model) is TransformedTargetRegressor:
        task, estimator, scale_target = "regression", getattr(model, "regressor_", None), True
        if type(model.regressor) is not MLPRegressor or type(estimator) is not MLPRegressor:
            raise TypeError(f"TransformedTargetRegressor: the regressor "
                            f"{type(model.regressor).__name__} is not supported (expected "
                            f"cyneuron.MLPRegressor)")
    else:
        raise TypeError(f"Pipeline['model']: {type(model).__name__} is not supported (expected "
                        f"cyneuron.MLPClassifier, MLPRegressor or a TransformedTargetRegressor "
                        f"of an MLPRegressor)")
    inner = model.regressor if scale_target else model
    template = _build(num, cat, impute=impute, scale=scale, encoding=encoding, model=inner,
                      scale_target=scale_target)
    _same_shape(pipe, template, "Pipeline", inner)
    return {"task": task, "numeric": num, "categorical": cat, "impute": impute,
            "scale": scale, "encoding": encoding, "scale_target": scale_target,
            "estimator": estimator}


# --- the safe state: to ---------------------------------------------------------------

def _branch(ct: ColumnTransformer, name: str) -> dict[str, Any]:
    """{step name: fitted transformer} of a fitted ColumnTransformer's branch."""
    fitted = ct.named_transformers_.get(name)
    return dict(fitted.steps) if fitted is not None else {}


def _strings(values: Any, field: str) -> list[str]:
    out = []
    for v in values:
        if not isinstance(v, str):
            raise ValueError(f"{field}: {v!r:.60} is not a string (text columns hold strings; "
                             f"other categories cannot be stored)")
        out.append(str(v))
    return out


def pipeline_to_state(pipe: Pipeline, estimator_to_state: EstimatorToState
                      ) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """The safe state of a fitted :func:`tabular_pipeline`: a JSON header and arrays.

    Parameters
    ----------
    pipe : sklearn.pipeline.Pipeline
        Fitted, and one that :func:`tabular_pipeline` builds (any switches).
    estimator_to_state : callable
        ``estimator_to_state(est) -> (meta, arrays)`` for the fitted cyneuron
        estimator inside (as the estimators' ``state_for_file``);
        its header is stored under ``"estimator"``, its arrays beside the
        preprocessing arrays (whose names start with :data:`ARRAY_PREFIX`).

    Returns
    -------
    meta : dict
        JSON values only (no NaN or infinity): the columns, the switches, the
        categories and imputed categories (strings), the count of samples
        the scalers saw, ``sparse_output_``, the target's ``ndim``.
    arrays : dict of str to ndarray
        float64 vectors: ``preprocess_numeric_statistics`` (medians),
        ``preprocess_numeric_{mean,scale,var}``,
        ``preprocess_target_{mean,scale,var}``; plus the estimator's arrays.

    Raises
    ------
    TypeError
        A pipeline tabular_pipeline does not build; the message names the part.
    ValueError
        Not fitted, or a fitted value that cannot be stored (a category that is
        not a string, a non-finite statistic).
    """
    shape = _describe(pipe)
    ct, model = pipe.steps[0][1], pipe.steps[1][1]
    est = shape["estimator"]
    if not hasattr(ct, "transformers_") or est is None or not hasattr(est, "n_outputs_"):
        raise ValueError("the pipeline is not fitted: fit it before storing it")
    names = getattr(ct, "feature_names_in_", None)
    meta: dict[str, Any] = {
        "format": STATE_FORMAT, "version": STATE_VERSION, "task": shape["task"],
        "n_features_in_": int(ct.n_features_in_),
        "feature_names_in_": None if names is None else _strings(names, "feature_names_in_"),
        "impute": shape["impute"], "scale": shape["scale"], "encoding": shape["encoding"],
        "scale_target": shape["scale_target"], "sparse_output_": bool(ct.sparse_output_),
        "numeric": [c if isinstance(c, str) else int(c) for c in shape["numeric"]],
        "categorical": [c if isinstance(c, str) else int(c) for c in shape["categorical"]],
    }
    arrays: dict[str, NDArray[Any]] = {}
    steps = _branch(ct, "numeric")
    if shape["impute"] and shape["numeric"]:
        arrays[ARRAY_PREFIX + "numeric_statistics"] = np.array(steps["impute"].statistics_,
                                                               dtype=np.float64)
    if shape["scale"]:
        _scaler_to_state(steps["scale"], "numeric", meta, arrays)
    if shape["categorical"]:
        steps = _branch(ct, "categorical")
        meta["categories_"] = [_strings(c, f"categories_[{i}]")
                               for i, c in enumerate(steps["encode"].categories_)]
        if shape["impute"]:
            meta["categorical_statistics"] = _strings(steps["impute"].statistics_,
                                                      "categorical imputer's statistics_")
    if shape["scale_target"]:
        _scaler_to_state(model.transformer_, "target", meta, arrays)
        meta["target_ndim"] = _target_ndim(model, est)
    est_meta, est_arrays = estimator_to_state(est)
    for key in est_arrays:
        if key.startswith(ARRAY_PREFIX) or key in arrays:
            raise ValueError(f"the estimator's array {key!r:.80} would clash with the "
                             f"preprocessing arrays (prefix {ARRAY_PREFIX!r})")
    meta["estimator"] = est_meta
    _read(meta, arrays)      # what could not be loaded is never written
    arrays.update(est_arrays)
    return meta, arrays


def _scaler_to_state(scaler: StandardScaler, part: str, meta: dict[str, Any],
                     arrays: dict[str, NDArray[Any]]) -> None:
    for attr in ("mean", "scale", "var"):
        arrays[f"{ARRAY_PREFIX}{part}_{attr}"] = np.array(getattr(scaler, attr + "_"),
                                                          dtype=np.float64)
    seen = scaler.n_samples_seen_
    if np.ndim(seen) != 0:
        # per-column counts appear only when a column had missing values
        raise ValueError(f"the {part} scaler saw missing values (n_samples_seen_ per column): "
                         f"it cannot be stored")
    meta[f"{part}_n_samples_seen_"] = int(seen)


def _target_ndim(ttr: TransformedTargetRegressor, est: Any) -> int:
    """1 or 2: whether the regressor was trained on a vector or a matrix of targets.

    TransformedTargetRegressor keeps this privately; it shows in the shape of
    what its predict returns (one row of zeros is enough), which is what matters.
    """
    return int(np.ndim(ttr.predict(np.zeros((1, est.n_features_in_)))))


# --- the safe state: validation ---------------------------------------------------------

def _bad(field: str, why: str) -> ValueError:
    return ValueError(f"bad {field!r} in the tabular pipeline's state: {why}")


def _flag(meta: Mapping[str, Any], field: str) -> bool:
    value = meta.get(field)
    if not isinstance(value, bool):
        raise _bad(field, f"expected true or false, got {value!r:.60}")
    return value


def _count(value: Any, field: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _bad(field, f"expected an integer in [{lo}, {hi}], got {value!r:.60}")
    return value


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_STRING:
        raise _bad(field, f"expected a string of at most {MAX_STRING} characters, got "
                          f"{value!r:.60}")
    return value


def _text_list(value: Any, field: str, *, distinct: bool = True, sorted_: bool = False,
               nonempty: bool = False) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_CATEGORIES:
        raise _bad(field, "expected a list of strings")
    out = [_text(v, field) for v in value]
    if distinct and len(set(out)) != len(out):
        raise _bad(field, "the strings must be distinct")
    if sorted_ and out != sorted(out):
        raise _bad(field, "the categories must be sorted (as scikit-learn sorts them)")
    if nonempty and not out:
        raise _bad(field, "expected at least one string")
    return out


def _columns(value: Any, field: str, names: list[str] | None, n_features: int) -> list[Any]:
    """Column names (when X had them) or positions: the ColumnTransformer's selectors."""
    if not isinstance(value, list) or len(value) > n_features:
        raise _bad(field, "expected a list of column names or positions")
    if names is not None and all(isinstance(c, str) for c in value):
        cols: list[Any] = [_text(c, field) for c in value]
        missing = [c for c in cols if c not in names]
        if missing:
            raise _bad(field, f"the columns {missing!r:.100} are not in 'feature_names_in_'")
    else:
        cols = [_count(c, field, 0, n_features - 1) for c in value]
    if len(set(cols)) != len(cols):
        raise _bad(field, "the columns must be distinct")
    return cols


def _vector(arrays: Mapping[str, Any], name: str, n: int | None) -> NDArray[np.float64]:
    a = arrays.get(name)
    if a is None:
        raise _bad(name, "the array is missing")
    if not isinstance(a, np.ndarray) or a.dtype != np.float64 or a.ndim != 1:
        raise _bad(name, f"expected a float64 vector, got "
                         f"{getattr(a, 'dtype', type(a).__name__)} of shape {np.shape(a)}")
    if (n is not None and a.shape != (n,)) or a.size == 0:
        raise _bad(name, f"expected shape ({n if n is not None else 'k >= 1'},), got {a.shape}")
    if not np.isfinite(a).all():
        raise _bad(name, "contains NaN or infinity")
    return a


def _scaler_fields(meta: Mapping[str, Any], arrays: Mapping[str, Any], part: str,
                   n: int | None) -> dict[str, Any]:
    p = ARRAY_PREFIX + part
    mean = _vector(arrays, p + "_mean", n)
    n = mean.shape[0]
    scale, var = _vector(arrays, p + "_scale", n), _vector(arrays, p + "_var", n)
    if (var < 0).any():
        raise _bad(p + "_var", "variances must be >= 0")
    # StandardScaler's scale_ is sqrt(var_), or 1 where a column is (nearly) constant
    if (scale <= 0).any() or not ((scale == np.sqrt(var)) | (scale == 1.0)).all():
        raise _bad(p + "_scale", "expected sqrt(var_) (or 1 for a constant column)")
    seen = _count(meta.get(part + "_n_samples_seen_"), part + "_n_samples_seen_", 1, 2 ** 62)
    return {"mean_": mean.copy(), "scale_": scale.copy(), "var_": var.copy(),
            "n_samples_seen_": np.int64(seen)}


def _read(meta: Any, arrays: Mapping[str, Any]) -> dict[str, Any]:
    """Every field of a state, checked; the plain description the rebuild uses."""
    if not isinstance(meta, dict):
        raise _bad("meta", "expected an object")
    if meta.get("format") != STATE_FORMAT:
        raise _bad("format", f"expected {STATE_FORMAT!r}, got {meta.get('format')!r:.60}")
    if meta.get("version") != STATE_VERSION or isinstance(meta.get("version"), bool):
        raise _bad("version", f"expected {STATE_VERSION}, got {meta.get('version')!r:.60}")
    task = meta.get("task")
    if task not in _TASKS:
        raise _bad("task", f"expected one of {_TASKS}, got {task!r:.60}")
    n_in = _count(meta.get("n_features_in_"), "n_features_in_", 1, MAX_COLUMNS)
    names = meta.get("feature_names_in_")
    if names is not None:
        names = _text_list(names, "feature_names_in_")
        if len(names) != n_in:
            raise _bad("feature_names_in_", f"expected {n_in} names ('n_features_in_')")
    impute, scale, scale_target = (_flag(meta, k) for k in ("impute", "scale", "scale_target"))
    sparse = _flag(meta, "sparse_output_")
    encoding = meta.get("encoding")
    if encoding not in _ENCODINGS:
        raise _bad("encoding", f"expected one of {_ENCODINGS}, got {encoding!r:.60}")
    num = _columns(meta.get("numeric"), "numeric", names, n_in)
    cat = _columns(meta.get("categorical"), "categorical", names, n_in)
    if num and cat and isinstance(num[0], str) != isinstance(cat[0], str):
        raise _bad("categorical", "names for some columns and positions for others")
    if set(num) & set(cat):
        raise _bad("categorical", f"the columns {sorted(set(num) & set(cat))!r:.100} are "
                                  f"also numeric")
    if not num and not cat:
        raise _bad("numeric", "no column is numeric or categorical")
    if scale and not num:
        raise _bad("scale", "true without numeric columns")
    if scale_target and task != "regression":
        raise _bad("scale_target", "true for a classifier")
    out: dict[str, Any] = {
        "task": task, "n_features_in_": n_in, "feature_names_in_": names, "impute": impute,
        "scale": scale, "encoding": encoding, "scale_target": scale_target,
        "sparse_output_": sparse, "numeric": num, "categorical": cat}
    keys = {"format", "version", "task", "n_features_in_", "feature_names_in_", "impute",
            "scale", "encoding", "scale_target", "sparse_output_", "numeric", "categorical",
            "estimator"}
    expected_arrays = set()
    if impute and num:
        name = ARRAY_PREFIX + "numeric_statistics"
        out["numeric_statistics"] = _vector(arrays, name, len(num)).copy()
        expected_arrays.add(name)
    if scale:
        out["numeric_scaler"] = _scaler_fields(meta, arrays, "numeric", len(num))
        keys.add("numeric_n_samples_seen_")
        expected_arrays |= {f"{ARRAY_PREFIX}numeric_{a}" for a in ("mean", "scale", "var")}
    if cat:
        cats = meta.get("categories_")
        if not isinstance(cats, list) or len(cats) != len(cat):
            raise _bad("categories_", f"expected one list of categories per categorical "
                                      f"column ({len(cat)})")
        cats = [_text_list(c, f"categories_[{i}]", sorted_=True, nonempty=True)
                for i, c in enumerate(cats)]
        if sum(map(len, cats)) > MAX_CATEGORIES:
            raise _bad("categories_", f"more than {MAX_CATEGORIES} categories")
        out["categories_"] = cats
        keys.add("categories_")
        if impute:
            stats = _text_list(meta.get("categorical_statistics"), "categorical_statistics",
                               distinct=False)
            if len(stats) != len(cat) or any(s not in c for s, c in zip(stats, cats)):
                raise _bad("categorical_statistics", "expected one category of each column "
                                                     "(the most frequent in training)")
            out["categorical_statistics"] = stats
            keys.add("categorical_statistics")
    if scale_target:
        out["target_scaler"] = _scaler_fields(meta, arrays, "target", None)
        out["target_ndim"] = _count(meta.get("target_ndim"), "target_ndim", 1, 2)
        if out["target_ndim"] == 1 and out["target_scaler"]["mean_"].shape != (1,):
            raise _bad("target_ndim", "1, but the target scaler has several columns")
        keys |= {"target_n_samples_seen_", "target_ndim"}
        expected_arrays |= {f"{ARRAY_PREFIX}target_{a}" for a in ("mean", "scale", "var")}
    if set(meta) != keys:
        extra, missing = sorted(set(meta) - keys), sorted(keys - set(meta))
        raise _bad(str((extra or missing)[0]), "unexpected field" if extra else "missing field")
    unexpected = sorted(k for k in arrays if k.startswith(ARRAY_PREFIX) and k not in expected_arrays)
    if unexpected:
        raise _bad(unexpected[0], "unexpected array")
    if not isinstance(meta["estimator"], dict):
        raise _bad("estimator", "expected the estimator's header (an object)")
    return out


# --- the safe state: from ---------------------------------------------------------------

def _synthetic_frame(s: dict[str, Any]) -> Any:
    """A small frame the stored statistics describe: every category appears in it.

    Numeric columns hold their imputed value (or mean, or 0); categorical
    column j cycles through its sorted categories, so that fitting an encoder
    on it finds exactly the stored ``categories_``.
    """
    cats = s.get("categories_", [])
    rows = max([len(c) for c in cats] + [1])
    n_in, names = s["n_features_in_"], s["feature_names_in_"]
    keys = names if names is not None else list(range(n_in))
    # the frame's own keys: names when X had them, even for positional selectors
    num = [keys[c] if isinstance(c, int) else c for c in s["numeric"]]
    cat = [keys[c] if isinstance(c, int) else c for c in s["categorical"]]
    columns: dict[Any, Any] = {k: np.zeros(rows) for k in keys}
    for j, key in enumerate(num):
        if "numeric_statistics" in s:
            columns[key] = np.full(rows, s["numeric_statistics"][j])
        elif "numeric_scaler" in s:
            columns[key] = np.full(rows, s["numeric_scaler"]["mean_"][j])
    for j, key in enumerate(cat):
        col = np.empty(rows, dtype=object)
        col[:] = [cats[j][i % len(cats[j])] for i in range(rows)]
        columns[key] = col
    if names is None:
        out = np.empty((rows, n_in), dtype=object)
        for j in range(n_in):
            out[:, j] = columns[j]
        return out
    try:
        import pandas as pd
    except ImportError as exc:   # pragma: no cover - pandas comes with the [cli] extra
        raise ImportError("a pipeline trained on a DataFrame with named columns needs pandas "
                          "to be loaded: pip install pandas") from exc
    return pd.DataFrame({k: pd.Series(columns[k], dtype=object if k in cat else np.float64)
                         for k in keys}, columns=keys)


def _set_scaler(scaler: StandardScaler, fields: dict[str, Any]) -> None:
    for attr, value in fields.items():
        setattr(scaler, attr, value)


def pipeline_from_state(meta: dict[str, Any], arrays: Mapping[str, NDArray[Any]],
                        estimator_from_state: EstimatorFromState) -> Pipeline:
    """The fitted Pipeline a state from :func:`pipeline_to_state` describes.

    Every field is checked before anything is built. The transformers are
    constructed as :func:`tabular_pipeline` constructs them, fitted on a
    small synthetic frame made from the stored statistics, and given the
    stored public fitted attributes; their outputs are bit for bit those of
    the stored pipeline.

    Parameters
    ----------
    meta : dict
        The header (JSON values).
    arrays : mapping of str to ndarray
        The preprocessing arrays (names starting with :data:`ARRAY_PREFIX`);
        other names are the estimator's and are ignored here.
    estimator_from_state : callable
        ``estimator_from_state(meta["estimator"]) -> estimator``: the fitted
        cyneuron estimator (the caller reads its arrays).

    Returns
    -------
    sklearn.pipeline.Pipeline

    Raises
    ------
    ValueError
        A malformed, inconsistent or unexpected field; the message names it.
    """
    s = _read(meta, arrays)
    est = estimator_from_state(meta["estimator"])
    want = MLPClassifier if s["task"] == "classification" else MLPRegressor
    if type(est) is not want:
        raise _bad("estimator", f"expected a fitted cyneuron.{want.__name__}, got "
                                f"{type(est).__name__}")
    width = len(s["numeric"]) + (sum(map(len, s.get("categories_", []))) if s["encoding"] == "one_hot"
                                 else len(s["categorical"]))
    if getattr(est, "n_features_in_", None) != width:
        raise _bad("estimator", f"the estimator takes {getattr(est, 'n_features_in_', None)} "
                                f"features, the preprocessing gives {width}")
    if s["scale_target"] and s["target_scaler"]["mean_"].shape != (est.n_outputs_,):
        raise _bad(ARRAY_PREFIX + "target_mean", f"expected one entry per target "
                                                 f"({est.n_outputs_})")
    pipe = _build(s["numeric"], s["categorical"], impute=s["impute"], scale=s["scale"],
                  encoding=s["encoding"], model=DummyRegressor(), scale_target=False)
    ct = pipe.steps[0][1].fit(_synthetic_frame(s))
    steps = _branch(ct, "numeric")
    if "numeric_statistics" in s:
        steps["impute"].statistics_ = s["numeric_statistics"]
    if s["scale"]:
        _set_scaler(steps["scale"], s["numeric_scaler"])
    if s["categorical"]:
        steps = _branch(ct, "categorical")
        found = [c.tolist() for c in steps["encode"].categories_]
        if found != s["categories_"]:        # cannot happen for sorted, distinct strings
            raise _bad("categories_", "the encoder does not rebuild these categories")
        if s["impute"]:
            steps["impute"].statistics_ = np.array(s["categorical_statistics"], dtype=object)
    ct.sparse_output_ = s["sparse_output_"]
    model: Any = est
    if s["scale_target"]:
        # fitted on a stand-in regressor so that TransformedTargetRegressor sets its own
        # (private) record of y's ndim; then the real estimator and scaler go in
        k = est.n_outputs_
        y = np.arange(2.0) if s["target_ndim"] == 1 else np.arange(2.0 * k).reshape(2, k)
        model = TransformedTargetRegressor(regressor=DummyRegressor(),
                                           transformer=StandardScaler()).fit(np.zeros((2, 1)), y)
        model.set_params(regressor=clone(est))
        model.regressor_ = est
        _set_scaler(model.transformer_, s["target_scaler"])
    return Pipeline([("preprocess", ct), ("model", model)])



def describe_state(meta: dict[str, Any], arrays: Mapping[str, NDArray[Any]]) -> list[str]:
    """Lines that say what a stored pipeline does to its data (for ``cyneuron info``).

    Parameters
    ----------
    meta, arrays
        As :func:`pipeline_from_state` takes them; checked the same way.

    Returns
    -------
    list of str

    Raises
    ------
    ValueError
        A malformed field, as :func:`pipeline_from_state`.
    """
    s = _read(meta, arrays)
    names = s["feature_names_in_"]

    def shown(cols: list[Any], extra: list[str] | None = None) -> str:
        labels = [str(names[c] if isinstance(c, int) and names else c) for c in cols]
        if extra:
            labels = [f"{a} ({b})" for a, b in zip(labels, extra)]
        return ", ".join(labels[:10]) + (f", ... ({len(labels)} in all)" if len(labels) > 10 else "")

    missing = "missing values imputed by {}" if s["impute"] else "a missing value is an error"
    lines = [f"preprocessing: {s['n_features_in_']} input columns"]
    if s["numeric"]:
        what = [missing.format("the median")] + (["standardised"] if s["scale"] else [])
        lines.append(f"  numeric ({len(s['numeric'])}): {shown(s['numeric'])}; {'; '.join(what)}")
    if s["categorical"]:
        counts = [f"{len(c)} categories" for c in s["categories_"]]
        enc = ("one-hot encoded (an unseen category: all zeros)" if s["encoding"] == "one_hot"
               else "ordinal codes (an unseen category: -1)")
        lines.append(f"  text ({len(s['categorical'])}): {shown(s['categorical'], counts)}; "
                     f"{missing.format('the most frequent category')}; {enc}")
    if s["scale_target"]:
        lines.append("  target: standardised for training, predictions mapped back")
    return lines


def pipeline_summary(pipe: Pipeline) -> str:
    """What ``cyneuron info`` prints for a fitted tabular pipeline: its
    preprocessing (:func:`describe_state`), then its estimator's summary."""
    meta, arrays = pipeline_to_state(pipe, lambda est: ({}, {}))
    last = pipe.steps[-1][1]
    est = getattr(last, "regressor_", last)
    return "\n".join(["Pipeline (cyneuron.tabular_pipeline): preprocessing, then the "
                      "estimator"] + ["  " + line for line in describe_state(meta, arrays)]
                     + [summary_text(est)])

