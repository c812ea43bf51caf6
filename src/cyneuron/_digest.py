"""A model's content digest: SHA-256 over what decides its predictions.

The byte layout (version 1), hashed in this order:

1. the ASCII tag ``b"cyneuron-digest-1\\n"``;
2. a canonical JSON document, UTF-8, keys sorted, no spaces
   (``json.dumps(doc, sort_keys=True, separators=(",", ":"))``), followed by
   ``b"\\n"``, where ``doc`` is ``{"layer_sizes": [...], "activations": [...],
   "dtype": "float64" | "float32"}`` (activations as their saved specs: a
   name, or ``{"alpha": slope, "name": "leaky_relu"}``); a classifier's
   document also has ``"classes"`` (``classes_.tolist()``, multilabel: the
   column indices) and ``"classes_dtype"`` (its NumPy ``dtype.str``); a
   model with ``numerics="portable"`` also has ``"numerics": "portable"``
   (its exp, tanh and log are cyneuron's own, so the same weights compute
   another function; the default ``"numpy"`` is not written, which keeps
   every earlier digest);
3. every layer's weights then biases, ``W0, b0, W1, b1, ...``: W of shape
   (n_in, n_out) in C order, each value little-endian IEEE-754 of the
   model's dtype.

The loss, optimizer, its state and the Generator are not hashed: two models
with one digest compute the same function (the same bits on one machine).
The digest is the lowercase hexadecimal string of the 32-byte hash.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np

TAG = b"cyneuron-digest-1\n"


def _hash(sizes, specs, dtype, layers, extra=None):
    doc = {"layer_sizes": [int(s) for s in sizes], "activations": list(specs),
           "dtype": np.dtype(dtype).name}
    if extra:
        doc.update(extra)
    h = hashlib.sha256(TAG)
    h.update(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("utf-8") + b"\n")
    little = np.dtype(dtype).newbyteorder("<")
    for W, b in layers:
        h.update(np.ascontiguousarray(W, dtype=little).tobytes())
        h.update(np.ascontiguousarray(b, dtype=little).tobytes())
    return h.hexdigest()


def network_digest(net) -> str:
    """The digest of a Network (see the module's docstring for the bytes)."""
    extra = {"numerics": "portable"} if net.numerics == "portable" else None
    return net._guard.read(lambda: _hash(net.layer_sizes, [a.spec for a in net.activations],
                                         net.dtype, net._layers, extra))


def estimator_digest(est) -> str:
    """The digest of a fitted MLPClassifier / MLPRegressor: its network's
    architecture and weights, and a classifier's labels."""
    net = est.network_            # raises NotFittedError when not fitted
    extra = {"numerics": "portable"} if net.numerics == "portable" else {}
    if type(est).__name__ == "MLPClassifier":
        labels = np.asarray(est._labels)
        extra.update({"classes": labels.tolist(), "classes_dtype": labels.dtype.str})
    return net._guard.read(lambda: _hash(net.layer_sizes, [a.spec for a in net.activations],
                                         net.dtype, net._layers, extra))


def check_stored(meta_digest, net, what="the network"):
    """Refuse a loaded network whose weights do not match the digest stored with them."""
    if meta_digest is None:
        return
    if not isinstance(meta_digest, str) or len(meta_digest) != 64:
        raise ValueError("bad 'digest': expected 64 hexadecimal digits")
    actual = network_digest(net)
    if actual != meta_digest:
        raise ValueError(f"{what}'s weights do not match the digest stored with them "
                         f"(stored {meta_digest[:16]}..., computed {actual[:16]}...): the "
                         f"file was changed or damaged")
