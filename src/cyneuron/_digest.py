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

A model file (format version 2) also stores a **state digest**
(``"state_digest"`` in its top-level header): SHA-256 over everything the
file holds, so that any change to what defines the model's behaviour
(architecture, dtype, numerics, weights, optimizer state, Generator,
an estimator's parameters, classes and their order, fitted attributes,
preprocessing) is refused on load. Its bytes, in this order:

1. the ASCII tag ``b"cyneuron-state-1\\n"``;
2. the header without ``"state_digest"`` as canonical JSON
   (``json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False)``),
   UTF-8, then ``b"\\n"``;
3. for every array, in sorted name order: the JSON text
   ``[name, dtype, shape]`` (dtype as a little-endian ``dtype.str``) and
   ``b"\\n"``, then the values, little-endian, in C order.

It is computed over the header and arrays as the codec hands them over, not
over a model rebuilt from them, so a file that loads is never refused for
how its numbers happen to be spelled.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np

TAG = b"cyneuron-digest-1\n"
STATE_TAG = b"cyneuron-state-1\n"
STATE_KEY = "state_digest"


def _canonical(doc) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"),
                      allow_nan=False).encode("utf-8") + b"\n"


def _hash(sizes, specs, dtype, layers, extra=None):
    doc = {"layer_sizes": [int(s) for s in sizes], "activations": list(specs),
           "dtype": np.dtype(dtype).name}
    if extra:
        doc.update(extra)
    h = hashlib.sha256(TAG)
    h.update(_canonical(doc))
    little = np.dtype(dtype).newbyteorder("<")
    for W, b in layers:
        h.update(np.ascontiguousarray(W, dtype=little).tobytes())
        h.update(np.ascontiguousarray(b, dtype=little).tobytes())
    return h.hexdigest()


def network_digest(net) -> str:
    """The digest of a Network (see the module's docstring for the bytes)."""
    extra = {"numerics": "portable"} if net.numerics == "portable" else None
    return net.guard.read(lambda: _hash(net.layer_sizes, [a.spec for a in net.activations],
                                         net.dtype, net.state.layers, extra))


def estimator_digest(est) -> str:
    """The digest of a fitted MLPClassifier / MLPRegressor: its network's
    architecture and weights, and a classifier's labels."""
    net = est.network_            # raises NotFittedError when not fitted
    extra = {"numerics": "portable"} if net.numerics == "portable" else {}
    if type(est).__name__ == "MLPClassifier":
        labels = np.asarray(est.label_encoding()[0])
        extra.update({"classes": labels.tolist(), "classes_dtype": labels.dtype.str})
    return net.guard.read(lambda: _hash(net.layer_sizes, [a.spec for a in net.activations],
                                         net.dtype, net.state.layers, extra))


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


def state_digest(meta, arrays) -> str:
    """The state digest of a model file's header `meta` and `arrays` (a
    mapping of name to numpy.ndarray); see the module's docstring."""
    h = hashlib.sha256(STATE_TAG)
    h.update(_canonical({k: v for k, v in meta.items() if k != STATE_KEY}))
    for name in sorted(arrays):
        a = np.asarray(arrays[name])
        little = a.dtype.newbyteorder("<")
        h.update(_canonical([name, little.str, list(a.shape)]))
        h.update(np.ascontiguousarray(a, dtype=little).tobytes())
    return h.hexdigest()


def check_state(meta, arrays) -> None:
    """Refuse a model file whose header and arrays do not match its stored
    state digest (a version-2 file must carry one; version 1 had none).

    Raises
    ------
    ValueError
        The digest is missing from a version-2 header, malformed, or does not
        match: the file was modified or damaged.
    """
    stored = meta.get(STATE_KEY)
    if stored is None:
        if meta.get("version", 1) >= 2:
            raise ValueError(f"the header lacks {STATE_KEY!r}, which every version-2 file "
                             f"carries: the file was modified or damaged")
        return
    if not (isinstance(stored, str) and len(stored) == 64
            and all(c in "0123456789abcdef" for c in stored)):
        raise ValueError(f"bad {STATE_KEY!r}: expected 64 lowercase hexadecimal digits")
    actual = state_digest(meta, arrays)
    if actual != stored:
        raise ValueError(f"the file's content does not match its {STATE_KEY} (stored "
                         f"{stored[:16]}..., computed {actual[:16]}...): the file was "
                         f"modified or damaged")
