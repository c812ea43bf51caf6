"""Saving and loading models: a plain ``.npz`` archive, never a pickle.

The archive holds one JSON header (``meta``) and one array per weight and
bias. Loading reads it with ``allow_pickle=False`` and checks every field
(format version, sizes, names, dtypes, shapes, finiteness) before a Network
is built, so a corrupt or hostile file ends in a ValueError.
"""
from __future__ import annotations

import json
import os
import zipfile

import numpy as np

FORMAT = "cyneuron-model"
VERSION = 1
_MAX_HEADER = 1 << 20


def save(network, path):
    """Write `network` to `path` (a ``.npz`` file; the suffix is added if missing)."""
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
        "optimizer": (None if network.optimizer is None else
                      {"name": network.optimizer.name, "params": network.optimizer.params}),
        "optimizer_scalars": [float(x) for x in network._opt_scalars],
        # the Generator's position, so that shuffling and dropout resume exactly
        "rng": (network.rng.bit_generator.state
                if isinstance(network.rng.bit_generator, np.random.PCG64) else None),
    }
    arrays = {"meta": np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
              "optimizer_state": network._opt_state}
    for l, (W, b) in enumerate(network._layers):
        arrays[f"W{l}"] = W
        arrays[f"b{l}"] = b
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    np.savez(path, **arrays)
    return path


def _fail(path, why):
    raise ValueError(f"{path!s} is not a valid cyneuron model file: {why}")


def load(path, backend="cython"):
    """Read a model written by ``save``; raises ValueError for anything malformed."""
    from .network import Network

    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        _fail(path, f"cannot be read as an .npz archive ({exc})")
    if not isinstance(archive, np.lib.npyio.NpzFile):
        _fail(path, "not an .npz archive")
    with archive:
        try:
            raw = archive["meta"]
        except KeyError:
            _fail(path, "missing 'meta' header")
        except Exception as exc:  # corrupt member
            _fail(path, f"unreadable 'meta' header ({exc})")
        if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > _MAX_HEADER:
            _fail(path, "malformed 'meta' header")
        try:
            meta = json.loads(raw.tobytes().decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            _fail(path, f"'meta' header is not JSON ({exc})")
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            _fail(path, "not a cyneuron model")
        if meta.get("version") != VERSION:
            _fail(path, f"unsupported format version {meta.get('version')!r}")
        sizes = meta.get("layer_sizes")
        if (not isinstance(sizes, list) or len(sizes) < 2 or len(sizes) > 10_000
                or not all(isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= 1 << 24
                           for s in sizes)):
            _fail(path, "bad 'layer_sizes'")
        acts = meta.get("activations")
        if not isinstance(acts, list) or len(acts) != len(sizes) - 1:
            _fail(path, "bad 'activations'")
        dtype = meta.get("dtype")
        if dtype not in ("float64", "float32"):
            _fail(path, f"bad dtype {dtype!r}")
        weights = []
        for l in range(len(sizes) - 1):
            pair = []
            for key, shape in ((f"W{l}", (sizes[l], sizes[l + 1])), (f"b{l}", (sizes[l + 1],))):
                try:
                    arr = archive[key]
                except KeyError:
                    _fail(path, f"missing array {key!r}")
                except Exception as exc:
                    _fail(path, f"unreadable array {key!r} ({exc})")
                if arr.dtype != np.dtype(dtype) or arr.shape != shape:
                    _fail(path, f"array {key!r} has {arr.dtype} {arr.shape}, expected "
                                f"{dtype} {shape}")
                if not np.isfinite(arr).all():
                    _fail(path, f"array {key!r} contains NaN or infinity")
                pair.append(arr)
            weights.append(tuple(pair))
        try:
            net = Network(sizes, activation=acts, loss=meta.get("loss"), dtype=dtype,
                          backend=backend, init=meta.get("init", "uniform"),
                          l1=meta.get("l1", 0.0), l2=meta.get("l2", 0.0),
                          dropout=meta.get("dropout", 0.0))
            opt = meta.get("optimizer")
            if opt is not None:
                if not isinstance(opt, dict) or not isinstance(opt.get("params"), dict):
                    _fail(path, "bad 'optimizer'")
                net._use_optimizer(opt.get("name"), opt["params"])
        except (TypeError, ValueError) as exc:
            _fail(path, str(exc))
        net.set_weights(weights)
        if opt is not None:
            try:
                state = archive["optimizer_state"]
            except Exception:
                _fail(path, "missing or unreadable 'optimizer_state'")
            scal = meta.get("optimizer_scalars")
            if (state.dtype != net.dtype or state.shape != net._opt_state.shape
                    or not np.isfinite(state).all()):
                _fail(path, "bad 'optimizer_state'")
            if (not isinstance(scal, list) or len(scal) != 3
                    or not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                               and np.isfinite(x) for x in scal)):
                _fail(path, "bad 'optimizer_scalars'")
            net._opt_state[...] = state
            net._opt_scalars[...] = scal
        rng_state = meta.get("rng")
        if rng_state is not None:
            try:
                if rng_state.get("bit_generator") != "PCG64":
                    raise ValueError("not PCG64")
                bitgen = np.random.PCG64()
                bitgen.state = rng_state
                net.rng = np.random.Generator(bitgen)
            except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
                _fail(path, f"bad 'rng' state ({exc})")
    return net
