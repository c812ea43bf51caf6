"""The ``cyneuron`` command: train on a CSV file, predict, evaluate, inspect a model.

``cyneuron train DATA.csv --target COL -o MODEL`` trains a scikit-learn style
estimator (:class:`cyneuron.MLPClassifier` or :class:`cyneuron.MLPRegressor`,
so string labels and defaults behave as there); ``predict``, ``evaluate`` and
``info`` read the model file it writes; ``demo`` (also a bare ``cyneuron``)
runs the tutorial demonstration of ``cyneuron._demo``.

Bad input (a missing file or column, a non-numeric feature, a file that is not
a model) ends with exit status 2 and one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any, TextIO, TypeGuard

import numpy as np

from . import _demo
from ._csvio import CSVError, separator_name
from ._csvio import read_csv as _read_csv
from ._files import atomic_write, check_target
from ._plot import plot_history
from ._progress import Progress
from ._summary import summary_text
from ._version import __version__
from .io import load, save
from .network import MAX_WIDTH, DivergenceError, DivergenceWarning

if TYPE_CHECKING:
    import pandas as pd

    from .estimators import MLPClassifier, MLPRegressor

COMMANDS = ("train", "predict", "evaluate", "info", "demo")
_PROGRESS_BYTES = 16 << 20    # files from this size on show a progress line while read
MAX_CLASSES_INFERRED = 20     # an integer target with at most this many values is a label
#: --epochs beyond this is refused at once (a million passes over the data is
#: already days of training for any file worth a command line)
MAX_EPOCHS = 1_000_000
#: exit status of a training run that diverged (2 is bad input)
EXIT_DIVERGED = 3


class Diverged(Exception):
    """Training diverged: reported as one line on stderr with exit status 3."""


class CLIError(Exception):
    """A user error: reported as one line on stderr with exit status 2."""


# --- files ----------------------------------------------------------------------------

def used_sep(args: argparse.Namespace) -> str:
    """The separator the data file was read with (given, or sniffed)."""
    return getattr(args, "used_sep", None) or args.sep or ","


def _terminal(stream: TextIO) -> TextIO | None:
    """`stream` if it is a terminal (progress lines go there), else None."""
    try:
        return stream if stream.isatty() else None
    except (AttributeError, ValueError):
        return None


def _os_error(path, exc: OSError, verb: str = "read") -> CLIError:
    """One line for what the operating system said about `path`."""
    if isinstance(exc, FileNotFoundError) and verb == "read":
        return CLIError(f"no such file: {path}")
    return CLIError(f"cannot {verb} {path}: {exc.strerror or exc}")


def _writable(path) -> None:
    """Refuse an output path before any work (training can take minutes): an empty
    one, a folder, a missing folder."""
    try:
        check_target(path)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    except OSError as exc:
        raise _os_error(path, exc, "write") from None


# --- CSV ------------------------------------------------------------------------------

def read_csv(path: str, progress_to: TextIO | None = None,
             dialect: argparse.Namespace | None = None, say: TextIO | None = None
             ) -> pd.DataFrame:
    """The CSV file at `path` as a DataFrame; any failure is a one-line CLIError.

    Read by ``cyneuron._csvio`` (pandas' parser, bounded memory, regular files
    only) with the separator, decimal mark and header of `dialect` (``sep``,
    ``decimal``, ``no_header``; the separator sniffed when not given); a
    progress line goes to `progress_to` (a terminal) while a large file is
    read; what was read, and how, is said on `say`.
    """
    sep = getattr(dialect, "sep", None)
    decimal = getattr(dialect, "decimal", ".") or "."
    header = not getattr(dialect, "no_header", False)

    shown = [-1]

    def progress(done, size):
        percent = 100 * done // max(size, 1)
        if progress_to is not None and size >= _PROGRESS_BYTES and percent != shown[0]:
            shown[0] = percent
            print(f"\rreading {path}: {percent}%", end="", file=progress_to, flush=True)
    try:
        frame, used = _read_csv(path, sep=sep, decimal=decimal, header=header,
                                progress=progress)
    except CSVError as exc:
        raise CLIError(str(exc)) from None
    except OSError as exc:
        raise _os_error(path, exc) from None
    finally:
        if shown[0] >= 0 and progress_to is not None:
            print(file=progress_to)
    frame.attrs["first_line"] = 2 if header else 1
    if dialect is not None:
        dialect.used_sep = used
    if say is not None:
        how = "given" if sep is not None else "sniffed"
        print(f"read {path}: {len(frame)} rows, {frame.shape[1]} columns, separator "
              f"{separator_name(used)} ({how})" + (", no header" if not header else ""),
              file=say)
        if header and all(_is_number(c) for c in frame.columns):
            print(f"cyneuron: warning: every name in the header of {path} is a number: if "
                  f"it is a data row, pass --no-header", file=sys.stderr)
    return frame


def _line(frame, i):
    """The line of the `i`-th row of `frame` (a DataFrame or a column) in its
    file: its row number (kept when rows are dropped) after the header."""
    return int(frame.index[i]) + frame.attrs.get("first_line", 2)


def _column(frame, name, path):
    if name not in frame.columns:
        raise CLIError(f"no column {name!r} in {path} (columns: {', '.join(frame.columns)})"[:400])
    return frame[name]


def _first(mask):
    return int(np.flatnonzero(np.asarray(mask))[0])


def _numeric(frame, columns, path):
    """The given columns as a float64 matrix; a missing value or a non-number is
    an error naming its line and column."""
    out = np.empty((len(frame), len(columns)), dtype=np.float64)
    for j, name in enumerate(columns):
        col = frame[name]
        missing = col.isna().to_numpy()
        if missing.any():
            i = _first(missing)
            raise CLIError(f"{path}, line {_line(frame, i)}, column {name!r}: missing value "
                           f"(feature columns need every value)")
        if col.dtype.kind in "iufb":
            values = col.to_numpy(dtype=np.float64)
        else:
            import pandas as pd
            values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
            bad = np.isnan(values)
            if bad.any():
                i = _first(bad)
                raise CLIError(f"{path}, line {_line(frame, i)}, column {name!r}: "
                               f"{str(col.iloc[i])[:60]!r} is not a number (feature columns "
                               f"must be numeric)")
        if not np.isfinite(values).all():
            i = _first(~np.isfinite(values))
            raise CLIError(f"{path}, line {_line(frame, i)}, column {name!r}: "
                           f"{values[i]!r} is not a finite number")
        out[:, j] = values
    return out


def _target(col, task, path):
    """(labels or values, task, reason): the target column for the task."""
    name = col.name
    missing = col.isna().to_numpy()
    if missing.any():
        i = _first(missing)
        raise CLIError(f"{path}, line {_line(col, i)}: the target {name!r} is empty "
                       f"({int(missing.sum())} row(s) have no target)")
    numbers: np.ndarray | None
    if col.dtype.kind in "iuf":
        numbers = col.to_numpy(dtype=np.float64)
    else:
        import pandas as pd
        coerced = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
        numbers = None if np.isnan(coerced).any() else coerced
    if numbers is not None and not np.isfinite(numbers).all():
        numbers = None
    if task is None:
        if numbers is None:
            task, reason = "classify", "the target is not numeric"
        else:
            integral = bool(np.all(numbers == np.round(numbers)))
            distinct = len(np.unique(numbers))
            if integral and distinct <= MAX_CLASSES_INFERRED:
                task = "classify"
                reason = f"the target has {distinct} distinct integer values"
            else:
                task = "regress"
                reason = ("the target is numeric with "
                          + (f"{distinct} distinct values" if integral else "fractional values"))
    else:
        reason = None
    if task == "regress":
        if numbers is None:
            bad = next(str(v) for v in col if not _is_number(v))
            raise CLIError(f"--task regress needs a numeric target; column {name!r} holds "
                           f"{bad[:60]!r}")
        return numbers, task, reason
    if numbers is not None and np.all(numbers == np.round(numbers)):
        return numbers.astype(np.int64), task, reason
    if numbers is not None:
        example = numbers[_first(numbers != np.round(numbers))]
        raise CLIError(f"--task classify needs class labels, but the target {name!r} holds "
                       f"fractional numbers such as {float(example)!r}: use --task regress")
    return np.array([str(v).strip() for v in col], dtype=str), task, reason


def _is_number(v):
    try:
        return np.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _features(frame, path, exclude=(), names=None):
    """(feature names, X) from the columns named in `names`, or all but `exclude`."""
    if names is not None:
        for n in names:
            _column(frame, n, path)
        cols = list(names)
    else:
        cols = [n for n in frame.columns if n not in exclude]
        if not cols:
            raise CLIError(f"{path} has no feature columns besides the target")
    return cols, _numeric(frame, cols, path)


# --- models -----------------------------------------------------------------------------

def _estimators():
    try:
        from .estimators import MLPClassifier, MLPRegressor
    except ImportError as exc:
        raise CLIError(f"training needs scikit-learn: pip install 'cyneuron[sklearn]' "
                       f"({exc})") from None
    return MLPClassifier, MLPRegressor


def load_model(path: str, with_metadata: bool = False) -> Any:
    """cn.load, with every failure turned into a one-line CLIError.

    cn.load owns the checks of a model file (regular files only, sizes from
    the zip directory, every field); this only words its errors. With
    `with_metadata`, (model, what the command line stored about its data).
    """
    if not os.path.lexists(path) and os.path.isfile(path + ".npz"):
        print(f"cyneuron: {path} does not exist; reading {path}.npz", file=sys.stderr)
        path += ".npz"
    try:
        model, metadata = load(path, with_metadata=True)
        return (model, metadata.get("cli", {})) if with_metadata else model
    except ImportError as exc:
        raise CLIError(f"{path}: {exc}") from None
    except OSError as exc:
        raise _os_error(path, exc) from None
    except (ValueError, TypeError, EOFError) as exc:
        text = str(exc)
        raise CLIError(text if path in text else f"{path}: {text}") from None


def _is_estimator(model: object) -> TypeGuard[MLPClassifier | MLPRegressor]:
    return hasattr(model, "network_") or hasattr(model, "steps")


def _dialect(args: argparse.Namespace, stored: dict[str, Any]) -> argparse.Namespace:
    """The options to read a data file with: those given, else those the model
    was trained with (a pipeline written by 'cyneuron train' stores them)."""
    given = argparse.Namespace(**vars(args))
    if given.sep is None and isinstance(stored.get("sep"), str):
        given.sep = stored["sep"]
    if given.decimal == "." and stored.get("decimal") == ",":
        given.decimal = ","
    if not given.no_header and stored.get("header") is False:
        given.no_header = True
    return given


def _model_features(model, frame, path, drop=()):
    names = getattr(model, "feature_names_in_", None)
    if hasattr(model, "steps"):          # a pipeline: its own columns, numbers or text
        if names is None:
            raise CLIError("the model's pipeline was fitted without column names: predict "
                           "with it in Python")
        wanted = [str(n) for n in names]
        absent = [n for n in wanted if n not in frame.columns]
        if absent:
            raise CLIError(f"{path} lacks the column(s) {', '.join(map(repr, absent[:5]))} "
                           f"the model was trained on (it has {', '.join(frame.columns)})"[:400])
        return frame[wanted]
    if names is not None:
        return _features(frame, path, names=[str(n) for n in names])[1]
    n_in = model.n_features_in_ if _is_estimator(model) else model.n_inputs
    _, X = _features(frame, path, exclude=drop)
    if X.shape[1] != n_in:
        raise CLIError(f"{path} has {X.shape[1]} feature columns; the model expects {n_in}")
    return X


def _quiet_names(fn, X):
    # the model knows its columns by name; X is the matrix picked by those names
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        return fn(X)


# --- metrics ----------------------------------------------------------------------------

def _metrics(model, X, y):
    """A dict of metric name -> value for a fitted estimator on (X, y)."""
    if hasattr(model, "classes_"):
        proba = _quiet_names(model.predict_proba, X)
        pred = model.classes_[np.argmax(proba, axis=1)]
        idx = np.searchsorted(model.classes_, y)
        idx = np.clip(idx, 0, len(model.classes_) - 1)
        known = model.classes_[idx] == y
        p = np.where(known, proba[np.arange(len(y)), idx], 0.0)
        eps = np.finfo(np.float64).eps
        return {"accuracy": float(np.mean(pred == y)),
                "log_loss": float(-np.mean(np.log(np.clip(p, eps, 1.0))))}
    pred = _quiet_names(model.predict, X).reshape(len(y), -1)[:, 0]
    err = pred - y
    ss = float(np.sum((y - y.mean()) ** 2))
    return {"r2": 1.0 - float(np.sum(err ** 2)) / ss if ss > 0 else float("nan"),
            "mse": float(np.mean(err ** 2)), "mae": float(np.mean(np.abs(err)))}


def _show(metrics):
    return "  ".join(f"{k} {v:.4f}" for k, v in metrics.items())


# --- sub-commands -------------------------------------------------------------------------

def _hidden(text):
    text = text.strip()
    if text in ("", "none", "0"):
        return ()
    try:
        sizes = tuple(int(t) for t in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths such as 64,64, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer widths must be at least 1, got {text!r}")
    if any(s > MAX_WIDTH for s in sizes):
        raise argparse.ArgumentTypeError(f"layer widths must be at most {MAX_WIDTH}, got "
                                         f"{text!r}")
    return sizes


def _parsed(text, parse, what):
    try:
        return parse(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None


def _int_at_least(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer >= minimum (and <= maximum)."""
    def parse(text: str) -> int:
        value = _parsed(text, int, "an integer")
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}, got {value}")
        return value
    return parse


def _non_negative_float(text: str) -> float:
    value = _parsed(text, float, "a number")
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _dialect_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sep", metavar="CHAR", type=_separator,
                   help="field separator (default: sniffed among comma, semicolon, tab, pipe; "
                        "'\\t' for tab)")
    p.add_argument("--decimal", choices=(".", ","), default=".",
                   help="decimal mark of the numbers (default: .)")
    p.add_argument("--no-header", action="store_true",
                   help="the first row is data; columns are named by their 0-based index")


def _separator(text: str) -> str:
    text = {"\\t": "\t", "tab": "\t"}.get(text, text)
    if len(text) != 1 or text in "\"\r\n":
        raise argparse.ArgumentTypeError(f"expected one character, got {text!r}")
    return text


def _positive_float(text: str) -> float:
    value = _parsed(text, float, "a number")
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def _fraction(text: str) -> float:
    value = _parsed(text, float, "a number")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def _split(n, fraction, seed):
    if not fraction:
        return np.arange(n), None
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, round(n * fraction))
    if n - n_val < 1:
        raise CLIError(f"--validation-split {fraction:g} leaves no training rows")
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def _output_path(path: str) -> tuple[str, str | None]:
    """(the model file `-o PATH` writes, a note when a suffix was added): the
    format comes from the suffix; no suffix gets ``.npz``; any other is refused."""
    base = os.path.basename(path.rstrip("/" + os.sep))
    suffix = os.path.splitext(base)[1].lower() if base else ""
    if suffix in (".npz", ".safetensors"):
        return path, None
    if suffix:
        raise CLIError(f"-o {path}: unknown model format {suffix!r} (use .npz or .safetensors, "
                       f"or no suffix for .npz)")
    return path + ".npz", f"(added the suffix .npz to {path})"


def _check_format_extra(path: str) -> None:
    if path.lower().endswith(".safetensors"):
        try:
            import safetensors  # noqa: F401
        except ImportError:
            raise CLIError(f"-o {path}: writing .safetensors files needs the safetensors "
                           f"package: pip install 'cyneuron[safetensors]'") from None


def _target_column(frame, spec: str, path: str) -> str:
    """The target's column name from --target: a name, or a 0-based index."""
    if spec in frame.columns:
        return spec
    if spec.isdigit():
        i = int(spec)
        if i < len(frame.columns):
            return frame.columns[i]
        raise CLIError(f"--target {spec}: {path} has {len(frame.columns)} columns "
                       f"(indices 0 to {len(frame.columns) - 1})")
    _column(frame, spec, path)          # raises, listing the columns
    raise AssertionError


def _names(texts: list[str]) -> list[str]:
    # the option may be given several times, each a comma-separated list
    return [c.strip() for text in texts for c in text.split(",") if c.strip()]


def _feature_columns(frame, target: str, args, path: str) -> list[str]:
    drop = _names(args.drop) if args.drop else []
    for name in drop:
        _column(frame, name, path)
    if args.features:
        cols = _names(args.features)
        for name in cols:
            _column(frame, name, path)
            if name == target:
                raise CLIError(f"--features names the target {target!r}")
        cols = [c for c in cols if c not in drop]
    else:
        cols = [c for c in frame.columns if c != target and c not in drop]
    if not cols:
        raise CLIError(f"{path} has no feature columns besides the target"
                       + (" and the dropped ones" if drop else ""))
    return cols


class _ProgressCallback:
    """Feeds cyneuron._progress.Progress from the estimator's epochs, with the
    validation rows' metrics (as Keras' ``val_`` logs) when there are any."""

    def __init__(self, progress, pipeline=None, X_val=None, y_val=None, every_epoch=False):
        self.progress = progress
        self.history: dict[str, list[float]] = {"loss": []}
        self.pipeline, self.X_val, self.y_val = pipeline, X_val, y_val
        self.every_epoch = every_epoch      # a plot needs a value per epoch
        self._Xv = None

    def _val_metrics(self):
        # The preprocessing is fitted before the model's first epoch: transform
        # the validation rows once, then predict with the model as it stands.
        if self._Xv is None:
            self._Xv = _quiet_names(self.pipeline[:-1].transform, self.X_val)
        return _metrics(self.pipeline[-1], self._Xv, self.y_val)

    def on_epoch_end(self, epoch, logs):
        logs = dict(logs)
        if self.X_val is not None and (self.every_epoch or self.progress.shows(epoch + 1)):
            logs.update({f"val_{k}": v for k, v in self._val_metrics().items()})
        for k, v in logs.items():
            self.history.setdefault(k, []).append(float(v))
        self.progress.update(epoch + 1, logs)

    def on_epoch_progress(self, epoch, fraction, logs):
        self.progress.within(epoch, fraction, logs)


def _why_stopped(model, max_iter, early_stopping) -> str:
    n = int(model.n_iter_)
    if n >= max_iter:
        text = f"ran all {n} epochs (--epochs {max_iter})"
    else:
        what = "validation score" if early_stopping else "training loss"
        text = (f"stopped after {n} epochs: the {what} did not improve by more than "
                f"tol={model.tol:g} for {model.n_iter_no_change} consecutive epochs")
    scores = getattr(model, "validation_scores_", None)
    if early_stopping and scores and not np.isnan(scores).all():
        # the estimator ends with the weights of its best validation score (the
        # first epoch that reached it), as scikit-learn's MLP does: say which
        best = int(np.nanargmax(scores))
        text += (f"; restored the weights of epoch {best + 1} (validation score "
                 f"{scores[best]:.4g})")
    return text


def _mlp(model):
    """The cyneuron estimator inside a tabular pipeline (or the model itself)."""
    last = model.steps[-1][1] if hasattr(model, "steps") else model
    return getattr(last, "regressor_", getattr(last, "regressor", last))


def _features_frame(frame, names, path):
    """The feature columns: numbers, or text (categories); anything else is named."""
    X = frame[names]
    for name in names:
        kind = X[name].dtype.kind
        if kind not in "iufbO" and str(X[name].dtype) not in ("str", "string", "category"):
            raise CLIError(f"{path}, column {name!r}: values of type {X[name].dtype} are "
                           f"neither numbers nor text")
    return X


def _preprocessing_line(X, args) -> str:
    """What the pipeline does to the features, and the missing values it imputes."""
    text = [c for c in X.columns if X[c].dtype.kind not in "iufb"]
    numeric = [c for c in X.columns if c not in text]
    parts = [f"{len(numeric)} numeric column(s) "
             + ("left as they are" if args.no_scale else "standardised")]
    if text:
        parts.append(f"{len(text)} text column(s) one-hot encoded (categories unseen in "
                     f"training ignored): {', '.join(map(str, text[:5]))}"
                     + (", ..." if len(text) > 5 else ""))
    missing = X.isna().sum()
    missing = missing[missing > 0]
    if len(missing):
        how = ("an error (--no-impute)" if args.no_impute else
               "imputed: the median of a numeric column, the most frequent text")
        parts.append(f"{int(missing.sum())} missing value(s) in "
                     f"{', '.join(f'{c} ({n})' for c, n in list(missing.items())[:5])}"
                     f"{', ...' if len(missing) > 5 else ''}: {how}")
    return "preprocessing: " + "; ".join(parts)


def cmd_train(args: argparse.Namespace, out: TextIO) -> int:
    _writable(args.output)                      # "dir/" before a suffix makes it "dir/.npz"
    path, note = _output_path(args.output)
    _writable(path)
    _check_format_extra(path)
    if args.plot:
        _writable(args.plot)
    MLPClassifier, MLPRegressor = _estimators()
    frame = read_csv(args.data, _terminal(sys.stderr), args, say=out)
    target = _target_column(frame, args.target, args.data)
    missing = frame[target].isna().to_numpy()
    if missing.any() and args.drop_missing_target:
        frame = frame.loc[~missing]
        print(f"dropped {int(missing.sum())} row(s) without a target", file=out)
        if not len(frame):
            raise CLIError(f"{args.data}: no row has a target")
    names = _feature_columns(frame, target, args, args.data)
    X = _features_frame(frame, names, args.data)
    y, task, reason = _target(frame[target], args.task, args.data)
    del frame
    if reason:
        print(f"task: {task} ({reason}; --task to override)", file=out)
    train, val = _split(len(y), args.validation_split, args.seed)
    from .tabular import tabular_pipeline
    try:
        model = tabular_pipeline(
            X, y, task="classification" if task == "classify" else "regression",
            hidden_layer_sizes=args.hidden, scale=not args.no_scale,
            impute=not args.no_impute, scale_target=not args.no_target_scale,
            random_state=args.seed, activation=args.activation, solver=args.optimizer,
            learning_rate_init=args.lr,
            batch_size="auto" if args.batch_size is None else args.batch_size,
            dtype=args.dtype, max_iter=args.epochs, tol=args.tol,
            early_stopping=args.early_stopping)
    except (ValueError, TypeError) as exc:
        raise CLIError(str(exc)) from None
    Xt, yt = X.iloc[train], y[train]
    mlp = _mlp(model)
    print(f"{type(mlp).__name__}: {len(train)} training rows"
          + (f", {len(val)} validation rows" if val is not None else "")
          + f", {X.shape[1]} features, hidden layers {','.join(map(str, args.hidden)) or 'none'}, "
            f"{args.activation}, {args.optimizer} lr {args.lr:g}, up to {args.epochs} epochs "
            f"(tol {args.tol:g}{', early stopping' if args.early_stopping else ''}), "
            f"seed {args.seed}, {args.dtype}", file=out)
    print(_preprocessing_line(X.iloc[train], args), file=out)
    progress = Progress(args.epochs, verbose=0 if args.quiet else 1, stream=out)
    callback = _ProgressCallback(progress, model, None if val is None else X.iloc[val],
                                 None if val is None else y[val], every_epoch=bool(args.plot))
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(Xt, yt, model__callbacks=callback)
    except DivergenceError as exc:
        raise Diverged(f"{exc} (lower --lr, or standardise the features)") from None
    except (ValueError, TypeError) as exc:
        raise CLIError(str(exc)) from None
    finally:
        progress.close()
    seconds = time.perf_counter() - start
    diverged = []
    for w in caught:                        # every warning shown, once, on stderr
        if issubclass(w.category, DivergenceWarning):
            diverged.append(str(w.message))
        else:
            print(f"cyneuron: warning: {_one_line(w.message)}", file=sys.stderr)
    print(f"trained in {seconds:.2f} s; "
          f"{_why_stopped(_mlp(model), args.epochs, args.early_stopping)}", file=out)
    print(f"training:   {_show(_metrics(model, Xt, yt))}", file=out)
    if val is not None:
        print(f"validation: {_show(_metrics(model, X.iloc[val], y[val]))}", file=out)
    try:
        # how the data were read, so that predict and evaluate read theirs alike
        save(model, path, metadata={"cli": {
            "sep": used_sep(args), "decimal": args.decimal, "header": not args.no_header,
            "target": str(target), "task": task}})
    except (ImportError, ValueError) as exc:    # no safetensors extra; a refused path
        raise CLIError(str(exc)) from None
    except OSError as exc:
        raise _os_error(path, exc, "write") from None
    print(f"wrote {path}" + (f" {note}" if note else ""), file=out)
    if args.plot:
        _plot_history(callback.history, args.plot)
        print(f"wrote {args.plot}", file=out)
    if diverged:
        raise Diverged(f"{diverged[0]} (the model was written, but lower --lr, or standardise "
                       f"the features)")
    return 0


def _plot_history(history, path):
    try:
        plot_history(history, path)
    except (ImportError, ValueError) as exc:
        raise CLIError(str(exc)) from None
    except OSError as exc:
        raise _os_error(path, exc, "write") from None


def cmd_predict(args: argparse.Namespace, out: TextIO) -> int:
    if args.output:
        _writable(args.output)
    model, stored = load_model(args.model, with_metadata=True)
    frame = read_csv(args.data, _terminal(sys.stderr), _dialect(args, stored))
    X = _model_features(model, frame, args.data)
    if _is_estimator(model):
        if args.proba:
            if not hasattr(model, "predict_proba"):
                raise CLIError("--proba needs a classifier; this model is a regressor")
            values = _quiet_names(model.predict_proba, X)
            names = [f"proba_{c}" for c in model.classes_]
        else:
            values = _quiet_names(model.predict, X)
            values = values.reshape(len(X), -1)
            names = (["prediction"] if values.shape[1] == 1
                     else [f"prediction_{i}" for i in range(values.shape[1])])
    else:
        values = model.feedforward(X)
        names = [f"output_{i}" for i in range(values.shape[1])]
    values = np.asarray(values).reshape(len(X), -1)
    if not args.output:
        _write_predictions(out, names, values)
        return 0
    try:
        # atomic (cyneuron._files): an interrupted run leaves an old file as it was
        with atomic_write(args.output, text=True, encoding="utf-8", newline="") as f:
            _write_predictions(f, names, values)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    except OSError as exc:
        raise _os_error(args.output, exc, "write") from None
    print(f"wrote {len(values)} predictions to {args.output}", file=sys.stderr)
    return 0


def _write_predictions(f: IO[str], names: list[str], values: np.ndarray) -> None:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(names)
    for row in values:
        w.writerow([repr(float(v)) if isinstance(v, (float, np.floating)) else str(v)
                    for v in row])


def cmd_evaluate(args: argparse.Namespace, out: TextIO) -> int:
    model, stored = load_model(args.model, with_metadata=True)
    if not _is_estimator(model):
        raise CLIError(f"{args.model} holds a Network, not an estimator: evaluate needs a "
                       f"model written by 'cyneuron train'")
    frame = read_csv(args.data, _terminal(sys.stderr), _dialect(args, stored))
    spec = args.target
    if spec is None:
        # 'cyneuron train' stored the target's column name with the model
        spec = stored.get("target")
        if not isinstance(spec, str):
            raise CLIError(f"--target is needed: {args.model} does not say which column "
                           f"holds the true values (it was not written by 'cyneuron train')")
        if spec not in frame.columns:
            raise CLIError(f"{args.data} has no column {spec!r}, the target the model was "
                           f"trained on: name the column of true values with --target")
    target = frame[_target_column(frame, spec, args.data)]
    X = _model_features(model, frame, args.data, drop=(target.name,))
    if hasattr(model, "classes_"):
        missing = target.isna().to_numpy()
        if missing.any():
            raise CLIError(f"{args.data}, line {_line(target, _first(missing))}: the target "
                           f"{target.name!r} is empty")
        if model.classes_.dtype.kind in "USO":
            # str, not classes_'s width: '<U1' would cut '0.5' to '0'
            y = np.array([str(v).strip() for v in target], dtype=str)
        else:
            import pandas as pd
            y = pd.to_numeric(target, errors="coerce").to_numpy()
            y = np.where(np.isnan(y), np.nan, y) if y.dtype.kind == "f" else y
        unknown = ~np.isin(y, model.classes_)
        if unknown.any():
            i = _first(unknown)
            classes = ", ".join(map(repr, model.classes_.tolist()[:10]))
            raise CLIError(f"{args.data}, line {_line(target, i)}: {str(y[i])[:40]!r} in column "
                           f"{target.name!r} is not one of the model's classes ({classes}"
                           f"{', ...' if len(model.classes_) > 10 else ''}); "
                           f"{int(unknown.sum())} of {len(y)} rows are not: is {target.name!r} "
                           f"the target the model was trained on?")
    else:
        y, _, _ = _target(target, "regress", args.data)
    print(f"{len(y)} rows: {_show(_metrics(model, X, y))}", file=out)
    return 0


def cmd_info(args: argparse.Namespace, out: TextIO) -> int:
    model = load_model(args.model)
    if hasattr(model, "steps"):          # a pipeline: scikit-learn is installed
        from .tabular import pipeline_summary
        print(pipeline_summary(model), file=out)
    else:
        print(summary_text(model), file=out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cyneuron",
        description="Train feed-forward neural networks on CSV files, use and inspect them. "
                    "Without a command, runs the demonstration ('cyneuron demo --help').")
    parser.add_argument("--version", action="version", version=f"cyneuron {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("train", help="train a classifier or regressor on a CSV file",
                       description="Train cyneuron.MLPClassifier / MLPRegressor on a CSV file "
                                   "(header row, numeric features, any target column) and "
                                   "write the fitted model.")
    p.add_argument("data", metavar="DATA.csv")
    p.add_argument("--target", required=True, metavar="COLUMN",
                   help="the column to predict: its name, or its 0-based index")
    p.add_argument("--drop", metavar="COL[,COL...]", action="append",
                   help="columns that are not features (an id, a date); may be repeated")
    p.add_argument("--features", metavar="COL[,COL...]", action="append",
                   help="the feature columns (default: every column but the target); may "
                        "be repeated")
    p.add_argument("--drop-missing-target", action="store_true",
                   help="drop rows whose target is empty (default: an error naming the line)")
    _dialect_options(p)
    p.add_argument("--task", choices=("classify", "regress"),
                   help="default: inferred (a non-numeric target, or one with at most "
                        f"{MAX_CLASSES_INFERRED} distinct integer values, is classified)")
    p.add_argument("--hidden", type=_hidden, default=(100,), metavar="W1,W2,...",
                   help="hidden-layer widths (default: 100, as scikit-learn)")
    p.add_argument("--activation", default="relu",
                   choices=("relu", "tanh", "logistic", "identity"),
                   help="hidden-layer activation (default: relu)")
    p.add_argument("--epochs", type=_int_at_least(1, MAX_EPOCHS), default=200,
                   help=f"at most this many epochs (max_iter; default: 200, at most "
                        f"{MAX_EPOCHS}); training stops earlier when the loss stops improving "
                        f"by --tol")
    p.add_argument("--tol", type=_non_negative_float, default=1e-4,
                   help="stop when the loss improves by less than this for 10 epochs "
                        "(default: 1e-4; 0 runs every epoch)")
    p.add_argument("--no-scale", action="store_true",
                   help="do not standardise the numeric features")
    p.add_argument("--no-impute", action="store_true",
                   help="a missing feature value is an error (default: imputed, and said)")
    p.add_argument("--no-target-scale", action="store_true",
                   help="regression: train on the target as it is (default: standardised "
                        "for training, predictions mapped back)")
    p.add_argument("--early-stopping", action="store_true",
                   help="hold out 10%% of the training rows and stop when their score stops "
                        "improving (scikit-learn's early_stopping)")
    p.add_argument("--batch-size", type=_int_at_least(1), default=None,
                   help="default: min(200, rows)")
    p.add_argument("--optimizer", choices=("adam", "sgd"), default="adam",
                   help="default: adam")
    p.add_argument("--lr", type=_positive_float, default=1e-3,
                   help="learning rate (default: 0.001)")
    p.add_argument("--validation-split", type=_fraction, default=0.0, metavar="F",
                   help="hold out this fraction of the rows and report metrics on it")
    p.add_argument("--seed", type=_int_at_least(0), default=0,
                   help="seed of the initial weights, shuffling and split (default: 0)")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--plot", metavar="FILE.png",
                   help="plot the loss per epoch (needs cyneuron[plot])")
    p.add_argument("--quiet", action="store_true", help="no progress")
    p.add_argument("-o", "--output", required=True, metavar="MODEL",
                   help="model file to write: .npz or .safetensors by its suffix (no suffix: "
                        ".npz is added, and said)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("predict", help="predict with a model file",
                       description="Write one prediction per row of DATA.csv as CSV.")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("data", metavar="DATA.csv")
    p.add_argument("-o", "--output", metavar="PREDS.csv", help="default: standard output")
    p.add_argument("--proba", action="store_true", help="class probabilities (classifiers)")
    _dialect_options(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("evaluate", help="metrics of a model on labelled data")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("data", metavar="DATA.csv")
    p.add_argument("--target", metavar="COLUMN",
                   help="the column of true values: its name, or its 0-based index "
                        "(default: the column the model was trained on)")
    _dialect_options(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("info", help="summary of a model file")
    p.add_argument("model", metavar="MODEL")
    p.set_defaults(func=cmd_info)

    sub.add_parser("demo", help="the tutorial demonstration (see 'cyneuron demo --help')",
                   add_help=False)
    return parser


def demo_parser() -> argparse.ArgumentParser:
    """The options of the demonstration (``cyneuron demo``, or ``cyneuron`` alone)."""
    parser = argparse.ArgumentParser(
        prog="cyneuron",
        description="Train seed tutorial 001's 3-4-1 sigmoid network on its XOR data with "
                    "the compiled core and with the NumPy reference, and compare their "
                    "time and their bits.")
    parser.add_argument("--epochs", type=_int_at_least(1), default=60000,
                        help="full-batch gradient-descent epochs (default: 60000, as in the "
                             "tutorial)")
    parser.add_argument("--lr", type=_positive_float, default=1.0,
                        help="learning rate (default: 1.0)")
    parser.add_argument("--seed", type=_int_at_least(0), default=0,
                        help="seed of the initial weights (default: 0)")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                        help="floating-point type of the weights (default: float64)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress lines and no prediction table: only the summary")
    parser.add_argument("--reference-budget", type=_positive_float, default=8.0,
                        metavar="SECONDS",
                        help="at most this long for the NumPy reference; beyond it, its time "
                             "is extrapolated (default: 8)")
    parser.add_argument("--version", action="version", version=f"cyneuron {__version__}")
    return parser


def demo_main(argv: Sequence[str] | None = None) -> int:
    """Run the demonstration (:mod:`cyneuron._demo`) with the options in `argv`;
    returns the exit status."""
    parser = demo_parser()
    return _demo.run(parser.parse_args(argv), parser)


def _one_line(exc: BaseException | str, limit: int = 500) -> str:
    """An error as one line: whitespace runs (an array's repr) collapsed, cut at `limit`."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``cyneuron`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program's name; None reads ``sys.argv``.

    Returns
    -------
    int
        The exit status: 0, 2 for bad input, 3 for a run that diverged.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        return demo_main(argv)          # bare `cyneuron [demo options]`
    if argv[0] == "demo":
        return demo_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return args.func(args, sys.stdout)
    except BrokenPipeError:
        # the reader went away (`cyneuron predict ... | head`): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Diverged as exc:
        sys.stdout.flush()
        print(f"cyneuron: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_DIVERGED
    except (CLIError, OSError) as exc:
        sys.stdout.flush()
        print(f"cyneuron: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cyneuron: interrupted", file=sys.stderr)
        return 130
