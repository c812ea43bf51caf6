"""Plots (matplotlib, the optional extra ``cyneuron[plot]``, imported on first use).

The figures are built with :class:`matplotlib.figure.Figure`, not pyplot, so
they neither need nor change a global backend or a current figure.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from . import _files

_EXTRA = "pip install 'cyneuron[plot]'"


def _figure(**kwargs):
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(f"plotting needs matplotlib: {_EXTRA}") from exc
    return Figure(**kwargs)


def _save(fig, path):
    """Write `fig` to `path` atomically (``cyneuron._files``), in the format its suffix
    names, as ``fig.savefig(path)`` would: no suffix means matplotlib's default
    format (``savefig.format``), added to the name. Returns the path written."""
    p = os.fspath(path)
    _files.check_target(p)
    ext = os.path.splitext(os.fsdecode(p))[1][1:]
    if not ext:
        import matplotlib
        ext = matplotlib.rcParams["savefig.format"]
        dot = os.fsencode(".") if isinstance(p, bytes) else "."
        fmt = os.fsencode(ext) if isinstance(p, bytes) else ext
        p = p.rstrip(dot) + dot + fmt
    # a file object: matplotlib takes the format from `format`, not from a name
    with _files.atomic_write(p) as f:
        fig.savefig(f, format=ext.lower(), dpi=100)
    return p


def _as_dict(history):
    if hasattr(history, "history"):
        history = history.history
    if not isinstance(history, dict) or "loss" not in history:
        raise TypeError("history must be a History (from fit) or a dict of lists with a "
                        "'loss' entry")
    return {k: np.asarray(v, dtype=np.float64) for k, v in history.items() if len(v)}


def plot_history(history, path=None):
    """Plot loss and metrics per epoch, training solid and validation dashed.

    Parameters
    ----------
    history : History or dict
        What :meth:`Network.fit` returns, or a dict of per-epoch lists
        (``loss``, ``accuracy``, ``val_loss``, ...).
    path : str or os.PathLike, optional
        Also write the figure there (the format follows the suffix, e.g. ``.png``),
        atomically: an old file there stays as it was unless the new one is
        complete. An empty path or one naming a folder is a ``ValueError``;
        I/O errors are ``OSError``s naming the path.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per quantity (loss first); its validation curve in the same panel.
    """
    data = _as_dict(history)
    if not len(data.get("loss", ())):
        raise ValueError("history has no epochs to plot")
    names = ["loss"] + sorted({k[4:] if k.startswith("val_") else k for k in data} - {"loss"})
    fig = _figure(figsize=(5.0 * len(names), 3.6), layout="constrained")
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        for key, style, label in ((name, "-", "training"), ("val_" + name, "--", "validation")):
            if key in data:
                values = data[key]
                ax.plot(np.arange(1, len(values) + 1), values, style, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.set_title(name)
        ax.grid(True, alpha=0.3)
        ax.legend()
    if path is not None:
        _save(fig, path)
    return fig


def _labels_of(y):
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    return y.reshape(len(y))


def plot_decision_boundary(model, X, y, path=None, resolution=200):
    """Plot a classifier's decision regions over 2-D inputs, with the samples on top.

    Parameters
    ----------
    model : Network, MLPClassifier or MLPRegressor
        Fitted, with two inputs. A Network with one output is split at 0.5, with
        several at the largest output; a regressor's output is shown as a surface.
    X : array-like of shape (n_samples, 2)
        The samples, drawn on top of the regions.
    y : array-like of shape (n_samples,) or (n_samples, n_classes)
        Labels (any type for an estimator; one-hot rows for a Network work too).
    path : str or os.PathLike, optional
        Also write the figure there, as :func:`plot_history` does.
    resolution : int, default=200
        Grid points along each axis.

    Returns
    -------
    matplotlib.figure.Figure
        A figure not registered with pyplot (``plt.figure(fig)`` shows it there).
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2 or len(X) == 0:
        raise ValueError(f"X must have shape (n_samples, 2), got {X.shape}")
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) \
            or not 2 <= resolution <= 2000:
        raise ValueError(f"resolution must be an int in [2, 2000], got {resolution!r}")
    labels = _labels_of(y)
    if len(labels) != len(X):
        raise ValueError(f"y has {len(labels)} rows, X has {len(X)}")
    net = getattr(model, "network_", None)
    n_in = model.n_features_in_ if net is not None else getattr(model, "n_inputs", None)
    if n_in != 2:
        raise ValueError(f"model must take 2 inputs, it takes {n_in}")
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-9)
    gx = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    gy = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    xx, yy = np.meshgrid(gx, gy)
    grid = np.column_stack([xx.ravel(), yy.ravel()])

    classes = getattr(model, "classes_", None)
    point_classes: list[Any] = []
    if net is not None and classes is None:                     # a regressor
        surface, regions = model.predict(grid).reshape(xx.shape), False
        point_index = None
    else:
        if net is not None:
            import warnings
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="X does not have valid feature")
                pred = model.predict(grid)
            assert classes is not None                          # a classifier
            point_classes = list(classes)
            surface = np.searchsorted(classes, pred).reshape(xx.shape)
        else:
            out = model.feedforward(grid)
            surface = (out[:, 0] > 0.5).astype(int) if out.shape[1] == 1 \
                else np.argmax(out, axis=1)
            surface = surface.reshape(xx.shape)
            point_classes = list(range(max(2, out.shape[1])))
        regions = True
        lookup = {c: i for i, c in enumerate(point_classes)}
        point_index = np.array([lookup.get(c.item() if hasattr(c, "item") else c, -1)
                                for c in labels])

    fig = _figure(figsize=(5.5, 4.5), layout="constrained")
    ax = fig.subplots()
    if regions:
        k = len(point_classes)
        cmap = "tab10" if k <= 10 else "tab20"
        ax.contourf(xx, yy, surface, levels=np.arange(-0.5, k), cmap=cmap, alpha=0.35,
                    vmin=-0.5, vmax=9.5 if k <= 10 else 19.5)
        sc = ax.scatter(X[:, 0], X[:, 1], c=point_index, cmap=cmap, vmin=-0.5,
                        vmax=9.5 if k <= 10 else 19.5, edgecolors="k", linewidths=0.5, s=22)
        handles = [ax.scatter([], [], color=sc.cmap(sc.norm(i)), edgecolors="k",
                              linewidths=0.5, label=str(c))
                   for i, c in enumerate(point_classes)]
        ax.legend(handles=handles, title="class", loc="best", fontsize="small")
        ax.set_title("decision regions")
    else:
        cs = ax.contourf(xx, yy, surface, levels=20, cmap="viridis", alpha=0.8)
        fig.colorbar(cs, ax=ax, label="prediction")
        ax.scatter(X[:, 0], X[:, 1], c=labels.astype(np.float64), cmap="viridis",
                   norm=cs.norm, edgecolors="k", linewidths=0.5, s=22)
        ax.set_title("prediction surface")
    ax.set_xlabel("x[:, 0]")
    ax.set_ylabel("x[:, 1]")
    if path is not None:
        _save(fig, path)
    return fig
