"""Oracle fuzzing: a seeded fuzzer for cn.load (cyneuron.io, its codecs and the schema).

Valid model files are mutated in four families, each case from its own
seed so that any failure can be replayed alone:

bytes   the raw file: bit flips, byte overwrites (often in the zip directory
        at the end), extreme 2- and 4-byte values, truncation, insertion,
        deletion, duplication of a range;
zip     the members, rewritten into a fresh archive with valid CRCs so the
        mutation reaches the parser: member bytes mutated (mostly in the .npy
        header), members dropped, duplicated, renamed, swapped, added,
        deflated, and lies in the directory fields (version needed, flags,
        method, sizes, CRC);
json    the header: keys deleted or added, values replaced by random JSON,
        numbers pushed to the edges (huge, tiny, negative, 2**64, 10**39,
        NaN/Infinity), strings renamed, lists grown or shrunk, values nested
        deep, and text-level damage to the JSON itself;
arrays  one array member: other dtypes (object arrays too, which must never
        be unpickled), other shapes, extreme values (NaN, inf, 1e308,
        negative second moments), Fortran order, .npy versions 2 and 3.

Half of the json and arrays cases carry a state digest computed anew (a
crafted file rather than a damaged one), so that the field checks behind
the digest check are reached.

Every case must end in a ValueError or an OSError, or in a model that runs
feedforward and survives a save/load round trip with the same bits.
Anything else (another exception type, a case slower than CASE_SECONDS, a
crash) fails the test. A hang would stop the run: faulthandler then dumps
the stacks and exits.

Standalone, for longer runs: ``python tests/test_fuzz_load.py --cases 20000``.
"""
import collections
import copy
import faulthandler
import io
import json
import os
import sys
import time
import warnings

import numpy as np

import cyneuron as cn

sys.path.insert(0, os.path.dirname(__file__))
from ziptools import DEFLATED, STORED, Member, build_zip, npy_bytes, read_members, reseal  # noqa: E402

SEED = 20240611
CASES = {"bytes": 1000, "zip": 1000, "json": 1000, "arrays": 1000}
CASE_SECONDS = 5.0       # a single load of these tiny files takes about a millisecond
HANG_SECONDS = 120       # faulthandler's last resort
DATA = os.path.join(os.path.dirname(__file__), "data")


# --- the valid files the mutations start from ------------------------------------------------

def _base_networks():
    rng = np.random.default_rng(7)
    X3, X2 = rng.standard_normal((12, 3)), rng.standard_normal((12, 2))
    nets = []
    a = cn.Network([3, 4, 2], activation=["tanh", ("leaky_relu", 0.3)], loss="mse", seed=1,
                   dropout=0.2, l2=1e-3)
    a.fit(X3, rng.standard_normal((12, 2)), epochs=3, learning_rate=0.01, batch_size=5,
          optimizer="adam")
    nets.append(a)
    b = cn.Network([2, 3, 3], activation="relu", output_activation="softmax",
                   loss="categorical_crossentropy", seed=2, dtype="float32", init="he")
    b.fit(X2, rng.integers(0, 3, 12), epochs=2, learning_rate=0.01, optimizer="rmsprop")
    nets.append(b)
    c = cn.Network([2, 3, 2, 1], activation="sigmoid", loss="binary_crossentropy", seed=3,
                   l1=1e-4)
    c.fit(X2, (X2[:, 0] > 0).astype(float), epochs=2, learning_rate=0.1, optimizer="nesterov")
    nets.append(c)
    nets.append(cn.Network([1, 1], seed=4, init="xavier"))
    # fitted scikit-learn estimators: their header nests the network's
    clf = cn.MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0,
                           class_weight={"b": 2.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X3, np.array(["a", "b", "c"])[rng.integers(0, 3, 12)])
        reg = cn.MLPRegressor(hidden_layer_sizes=(2,), max_iter=2, random_state=0,
                              early_stopping=True, validation_fraction=0.25)
        reg.fit(X2, rng.standard_normal(12))
    nets += [clf, reg]
    return nets


def base_files(tmpdir):
    """(name, bytes) of valid model files: fresh ones, a deflated one, the v1 fixtures."""
    files = []
    for i, net in enumerate(_base_networks()):
        path = cn.save(net, os.path.join(tmpdir, f"base{i}"))
        with open(path, "rb") as f:
            files.append((f"base{i}", f.read()))
    with np.load(os.path.join(tmpdir, "base0.npz")) as a:
        np.savez_compressed(os.path.join(tmpdir, "deflated.npz"), **{k: a[k] for k in a.files})
    with open(os.path.join(tmpdir, "deflated.npz"), "rb") as f:
        files.append(("deflated", f.read()))
    for name in sorted(os.listdir(DATA)):
        if name.endswith(".npz"):
            with open(os.path.join(DATA, name), "rb") as f:
                files.append((name[:-4], f.read()))
    return files


# --- mutations -------------------------------------------------------------------------------

EDGE_INTS = [0, 1, -1, 2, 3, 255, 2 ** 16 - 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32,
             2 ** 53, 2 ** 53 + 1, 2 ** 63, 2 ** 64, 10 ** 39, 10 ** 40, -10 ** 39, 2 ** 128]
EDGE_FLOATS = [0.0, -0.0, 0.5, 1.0, -1.0, 1.0 - 2 ** -53, 1.0 + 2 ** -52, 1e-300, 5e-324,
               1e308, -1e308, 1.7976931348623157e308, 3.4e38, 3.5e38, float("nan"),
               float("inf"), float("-inf")]
NAMES = ["", "x", "adam", "sgd", "momentum", "rmsprop", "nesterov", "gd", "relu", "tanh",
         "sigmoid", "softmax", "identity", "leaky_relu", "mse", "sse",
         "binary_crossentropy", "categorical_crossentropy", "float64", "float32", "float16",
         "object", "uniform", "xavier", "he", "PCG64", "MT19937", "cyneuron-model",
         "\u00e9\u4e2d", "\ud800", "a" * 300, "W0", "meta"]


def random_json(rng, depth=0):
    kind = int(rng.integers(9 if depth < 3 else 7))
    if kind == 0:
        return None
    if kind == 1:
        return bool(rng.integers(2))
    if kind == 2:
        return EDGE_INTS[int(rng.integers(len(EDGE_INTS)))] * int(rng.choice([1, -1]))
    if kind == 3:
        return int(rng.integers(-5, 40))
    if kind == 4:
        return EDGE_FLOATS[int(rng.integers(len(EDGE_FLOATS)))]
    if kind == 5:
        return float(rng.standard_normal())
    if kind == 6:
        return NAMES[int(rng.integers(len(NAMES)))]
    if kind == 7:
        return [random_json(rng, depth + 1) for _ in range(int(rng.integers(5)))]
    return {NAMES[int(rng.integers(len(NAMES)))]: random_json(rng, depth + 1)
            for _ in range(int(rng.integers(4)))}


def _paths(doc, prefix=()):
    out = [prefix]
    if isinstance(doc, dict):
        for k, val in doc.items():
            out += _paths(val, prefix + (k,))
    elif isinstance(doc, list):
        for i, val in enumerate(doc):
            out += _paths(val, prefix + (i,))
    return out


def _get(doc, path):
    for k in path:
        doc = doc[k]
    return doc


def _set(doc, path, value):
    if not path:
        return value
    _get(doc, path[:-1])[path[-1]] = value
    return doc


def mutate_number(rng, x):
    ops = [lambda: -x, lambda: x + 1, lambda: x - 1, lambda: x * 2, lambda: x * 1e300,
           lambda: 0, lambda: float(x), lambda: int(x) if abs(x) < 1e300 else 0,
           lambda: x * (1 + 1e-12), lambda: x * (1 - 1e-12),
           lambda: EDGE_INTS[int(rng.integers(len(EDGE_INTS)))],
           lambda: EDGE_FLOATS[int(rng.integers(len(EDGE_FLOATS)))],
           lambda: str(x), lambda: [x], lambda: bool(x)]
    try:
        return ops[int(rng.integers(len(ops)))]()
    except (OverflowError, ValueError):
        return float("inf")


def mutate_doc(rng, doc):
    """One structural or value mutation of a JSON document; returns (doc, description)."""
    paths = _paths(doc)
    path = paths[int(rng.integers(len(paths)))]
    target = _get(doc, path)
    op = int(rng.integers(8))
    if op == 0 and path:                                      # delete
        parent = _get(doc, path[:-1])
        del parent[path[-1]]
        return doc, f"delete {path}"
    if op == 1:                                               # replace by random JSON
        return _set(doc, path, random_json(rng)), f"replace {path}"
    if op == 2 and isinstance(target, (int, float)) and not isinstance(target, bool):
        return _set(doc, path, mutate_number(rng, target)), f"number {path}"
    if op == 3 and isinstance(target, str):
        return _set(doc, path, NAMES[int(rng.integers(len(NAMES)))]), f"name {path}"
    if op == 4 and isinstance(target, list):                  # grow, shrink, reorder
        sub = int(rng.integers(3))
        if sub == 0 and target:
            target.pop(int(rng.integers(len(target))))
        elif sub == 1:
            target.append(copy.deepcopy(target[0]) if target else random_json(rng))
        else:
            rng.shuffle(target)
        return doc, f"list {path} op {sub}"
    if op == 5 and isinstance(target, dict):                  # unknown key
        target[NAMES[int(rng.integers(len(NAMES)))] + "_x"] = random_json(rng)
        return doc, f"add key at {path}"
    if op == 6:                                               # nest deeper
        value = target
        for _ in range(int(rng.integers(1, 40))):
            value = [value] if rng.integers(2) else {"k": value}
        return _set(doc, path, value), f"nest {path}"
    if not isinstance(doc, dict):
        return doc, "root is no object"
    # targeted: the fields whose consistency load must check
    key = ["layer_sizes", "optimizer_scalars", "optimizer", "dropout", "activations", "rng",
           "dtype", "version"][int(rng.integers(8))]
    if key == "layer_sizes" and isinstance(doc.get(key), list) and doc[key]:
        i = int(rng.integers(len(doc[key])))
        doc[key][i] = int(rng.choice([0, 1, 2, 3, 4, 5, 2 ** 24, 2 ** 24 + 1, 2 ** 40]))
    elif key == "optimizer_scalars":
        t = int(rng.choice([0, 1, 2, 9, 12, 10 ** 6, 2 ** 53, 2 ** 60]))
        b1, b2 = float(rng.choice([0.9, 0.5, 0.0])), float(rng.choice([0.999, 0.9, 0.0]))
        doc[key] = [float(t), b1 ** t * float(rng.choice([1, 1, 1 + 1e-9, -1])),
                    b2 ** t * float(rng.choice([1, 1, 1 - 1e-9]))]
    elif key == "optimizer":
        name = ["adam", "sgd", "momentum", "rmsprop", None][int(rng.integers(5))]
        doc[key] = None if name is None else {"name": name, "params": {}}
    else:
        doc[key] = random_json(rng)
    return doc, f"targeted {key}"


def mutate_bytes(rng, data):
    """One raw-byte mutation; the zip directory at the end is hit half of the time."""
    data = bytearray(data)
    n = len(data)
    op = int(rng.integers(8))
    tail = rng.integers(2) == 1
    lo = max(0, n - 400) if tail else 0

    def pos():
        return int(rng.integers(lo, n)) if n > lo else 0
    if op == 0:
        for _ in range(int(rng.integers(1, 9))):
            i = pos()
            data[i] ^= 1 << int(rng.integers(8))
        return bytes(data), "bit flips"
    if op == 1:
        for _ in range(int(rng.integers(1, 5))):
            data[pos()] = int(rng.choice([0, 0xFF, 0x7F, 0x80, int(rng.integers(256))]))
        return bytes(data), "byte overwrite"
    if op == 2:
        i = pos()
        width = int(rng.choice([2, 4]))
        value = int(rng.choice([0, 1, 2 ** (8 * width) - 1, 2 ** (8 * width - 1),
                                2 ** (8 * width - 1) - 1, int(rng.integers(2 ** (8 * width)))]))
        data[i:i + width] = value.to_bytes(width, "little")
        return bytes(data), f"field of {width} bytes at {i}"
    if op == 3:
        return bytes(data[:int(rng.integers(0, n + 1))]), "truncate"
    if op == 4:
        i = pos()
        ins = rng.integers(0, 256, int(rng.integers(1, 65)), dtype=np.uint8).tobytes()
        return bytes(data[:i] + ins + data[i:]), "insert"
    if op == 5:
        i = pos()
        return bytes(data[:i] + data[i + int(rng.integers(1, 200)):]), "delete range"
    if op == 6:
        i = pos()
        j = min(n, i + int(rng.integers(1, 200)))
        return bytes(data[:j] + data[i:j] + data[j:]), "duplicate range"
    i = pos()
    chunk = rng.integers(0, 256, int(rng.integers(1, 33)), dtype=np.uint8).tobytes()
    data[i:i + len(chunk)] = chunk
    return bytes(data), "overwrite chunk"


def _meta_of(members):
    for m in members:
        if m.name == "meta.npy":
            try:
                return json.loads(np.load(io.BytesIO(m.data)).tobytes())
            except Exception:
                return None
    return None


def mutate_zip(rng, data):
    members = read_members(data)
    op = int(rng.integers(12))
    i = int(rng.integers(len(members)))
    m = members[i]
    if op <= 2:                                    # member bytes, mostly in the .npy header
        raw, what = mutate_bytes(rng, m.data[:128] if op < 2 else m.data)
        m.data = raw + (m.data[128:] if op < 2 else b"")
        desc = f"member {m.name} bytes: {what}"
    elif op == 3:
        del members[i]
        desc = f"drop {m.name}"
    elif op == 4:
        members.insert(int(rng.integers(len(members) + 1)), Member(m.name, m.data, m.method))
        desc = f"duplicate {m.name}"
    elif op == 5:
        other = members[int(rng.integers(len(members)))].name
        m.name = [other, m.name[:-4], "x/" + m.name, m.name.upper(), "", "../" + m.name,
                  m.name + "\x00"][int(rng.integers(7))]
        desc = f"rename to {m.name!r}"
    elif op == 6:
        j = int(rng.integers(len(members)))
        m.data, members[j].data = members[j].data, m.data
        desc = f"swap data {m.name} {members[j].name}"
    elif op == 7:
        members.append(Member(["extra.npy", "W9.npy", "b0", "meta"][int(rng.integers(4))],
                              npy_bytes(np.zeros(int(rng.integers(0, 4))))))
        desc = "extra member"
    elif op == 8:
        for mm in members:
            mm.method = DEFLATED if rng.integers(2) else STORED
        desc = "methods"
    elif op == 9:
        rng.shuffle(members)
        desc = "reorder"
    else:                                          # lies in the directory fields
        field = ["version_needed", "flags", "method_override", "file_size_override",
                 "compress_size_override", "crc"][int(rng.integers(6))]
        if field == "version_needed":
            value = int(rng.choice([0, 10, 20, 45, 63, 64, 99, 255, 0xFFFF]))
        elif field == "flags":
            value = 1 << int(rng.integers(16))
        elif field == "method_override":
            value = int(rng.choice([1, 6, 9, 12, 14, 93, 98, 99, 0xFFFF]))
        elif field == "crc":
            value = int(rng.integers(2 ** 32))
        else:
            size = len(m.data)
            value = int(max(0, min(2 ** 32 - 1, rng.choice(
                [0, size - 1, size + 1, size * 2, 2 ** 31, 2 ** 32 - 1]))))
        setattr(m, field, value)
        desc = f"{m.name} {field}={value}"
    return build_zip(members), desc


def mutate_json(rng, data):
    members = read_members(data)
    meta = _meta_of(members)
    descs = []
    if rng.integers(5) == 0:                       # text-level damage
        text = json.dumps(meta)
        for _ in range(int(rng.integers(1, 4))):
            i = int(rng.integers(len(text) + 1))
            piece = ["", "[", "]", "{", "}", '"', "\\", ",", ":", "1e999", "-", "\ud800", "\x00",
                     "[" * 1000, "9" * 50][int(rng.integers(15))]
            text = text[:i] + piece + text[i + int(rng.integers(0, 3)):]
        raw = text.encode("utf-8", "surrogatepass")
        descs.append("text damage")
    else:
        for _ in range(int(rng.integers(1, 4))):
            meta, d = mutate_doc(rng, meta)
            descs.append(d)
        try:
            raw = json.dumps(meta).encode("utf-8", "surrogatepass")
        except (TypeError, ValueError):
            raw = b"{}"
    for m in members:
        if m.name == "meta.npy":
            m.data = npy_bytes(np.frombuffer(raw, dtype=np.uint8))
    return build_zip(members), "; ".join(descs)


def _npy(arr, rng):
    buf = io.BytesIO()
    version = [None, None, None, (2, 0), (3, 0)][int(rng.integers(5))]
    np.lib.format.write_array(buf, arr, version=version, allow_pickle=True)
    return buf.getvalue()


def mutate_array(rng, data):
    members = read_members(data)
    m = members[int(rng.integers(len(members)))]
    arr = np.load(io.BytesIO(m.data))
    op = int(rng.integers(6))
    with np.errstate(all="ignore"):
        if op == 0:
            dt = ["float32", "float64", "float16", "int64", "int8", "uint8", "bool",
                  "complex128", ">f8", ">f4", "object", "U3"][int(rng.integers(12))]
            new = arr.astype(dt)
            desc = f"{m.name} dtype {dt}"
        elif op == 1:
            shapes = [arr.T, arr.reshape(-1), arr.reshape(1, -1), arr[..., None], arr[:0],
                      np.asarray(arr.flat[0]) if arr.size else arr, np.append(arr, arr.flat[:1]),
                      arr.flat[:-1].copy() if arr.size else arr]
            new = shapes[int(rng.integers(len(shapes)))]
            desc = f"{m.name} shape {new.shape}"
        elif op in (2, 3):
            new = arr.copy()
            if new.size and new.dtype.kind == "f":
                k = int(rng.integers(1, 4))
                idx = rng.integers(0, new.size, k)
                value = [np.nan, np.inf, -np.inf, 1e308, -1e308, 5e-324, 0.0, -0.0, -1.0,
                         3.4e38, 1e30, -1e-30][int(rng.integers(12))]
                new.flat[idx] = value
                if rng.integers(2) and m.name == "optimizer_state.npy":
                    half = new.size // 2              # a negative second moment
                    new.flat[half + int(rng.integers(half))] = -abs(value) or -1.0
                desc = f"{m.name} values {value}"
            else:
                new = arr[::-1].copy()
                desc = f"{m.name} reversed"
        elif op == 4:
            new = np.asfortranarray(arr) if arr.ndim == 2 else arr
            desc = f"{m.name} fortran"
        else:
            new = (rng.standard_normal(arr.shape) * 10 ** float(rng.uniform(-5, 40))
                   ).astype(arr.dtype) if arr.dtype.kind == "f" else arr
            desc = f"{m.name} random values"
    m.data = _npy(new, rng)
    return build_zip(members), desc


def try_reseal(data):
    """`data` with its state digest computed anew where the members still parse
    (a crafted file, not a damaged one), so that the field checks behind the
    digest check are fuzzed too; `data` unchanged otherwise."""
    try:
        return build_zip(reseal(read_members(data)))
    except Exception:  # noqa: BLE001  anything unparsable stays as mutated
        return data


FAMILIES = {"bytes": mutate_bytes, "zip": mutate_zip, "json": mutate_json,
            "arrays": mutate_array}


# --- the harness -------------------------------------------------------------------------------

def check_loaded(net, path):
    """A model load accepted: it runs and round-trips exactly."""
    if not isinstance(net, cn.Network):          # an estimator
        X = np.linspace(-1.0, 1.0, 3 * net.n_features_in_).reshape(3, net.n_features_in_)
        assert len(net.predict(X)) == 3
        again = cn.load(cn.save(net, path + ".again"), backend=net.backend)
        assert again.get_params() == net.get_params()
        net = net.network_
        again = again.network_
        assert b"".join(W.tobytes() + b.tobytes() for W, b in again.get_weights()) == \
            b"".join(W.tobytes() + b.tobytes() for W, b in net.get_weights())
        return
    X = np.linspace(-1.0, 1.0, 3 * net.n_inputs).reshape(3, net.n_inputs)
    out = net.feedforward(X)
    assert out.shape == (3, net.n_outputs) and out.dtype == net.dtype
    again = cn.load(cn.save(net, path + ".again"))
    assert b"".join(W.tobytes() + b.tobytes() for W, b in again.get_weights()) == \
        b"".join(W.tobytes() + b.tobytes() for W, b in net.get_weights())
    assert again.state.opt_state.tobytes() == net.state.opt_state.tobytes()
    assert again.state.opt_scalars.tobytes() == net.state.opt_scalars.tobytes()


def run_fuzzer(tmpdir, cases=CASES, seed=SEED):
    """Run every family; returns (tally, failures, seconds)."""
    bases = base_files(tmpdir)
    path = os.path.join(tmpdir, "case.npz")
    tally = collections.defaultdict(collections.Counter)
    failures = []
    t_start = time.perf_counter()
    for fam_index, (family, mutate) in enumerate(FAMILIES.items()):
        for i in range(cases[family]):
            rng = np.random.default_rng([seed, fam_index, i])
            base_name, base = bases[int(rng.integers(len(bases)))]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")        # casts of the array mutations
                data, desc = mutate(rng, base)
                for _ in range(int(rng.choice([0, 0, 0, 1, 2]))):   # sometimes stacked
                    try:
                        data, more = mutate(rng, data)
                    except Exception:  # noqa: BLE001  the first one broke what this one parses
                        break
                    desc += " + " + more
                if family in ("json", "arrays") and rng.integers(2):
                    data = try_reseal(data)
                    desc += " (resealed)"
            with open(path, "wb") as f:
                f.write(data)
            backend = "numpy" if rng.integers(8) == 0 else "cython"
            t0 = time.perf_counter()
            faulthandler.dump_traceback_later(HANG_SECONDS, exit=True, file=sys.stderr)
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    try:
                        net = cn.load(path, backend=backend)
                    except ValueError:
                        outcome = "ValueError"
                    except OSError:
                        outcome = "OSError"
                    else:
                        check_loaded(net, path)
                        outcome = "loaded"
            except BaseException as exc:  # noqa: BLE001  (anything else is the finding)
                if isinstance(exc, KeyboardInterrupt):
                    raise
                outcome = "other"
                failures.append((family, i, base_name, desc, repr(exc)[:300]))
            finally:
                faulthandler.cancel_dump_traceback_later()
            dt = time.perf_counter() - t0
            if dt > CASE_SECONDS:
                failures.append((family, i, base_name, desc, f"took {dt:.1f} s"))
            tally[family][outcome] += 1
    return tally, failures, time.perf_counter() - t_start


def format_tally(tally, seconds):
    outcomes = ["ValueError", "OSError", "loaded", "other"]
    lines = [f"{'family':8} {'cases':>6} " + " ".join(f"{o:>10}" for o in outcomes)]
    total = collections.Counter()
    for family, counts in tally.items():
        total.update(counts)
        lines.append(f"{family:8} {sum(counts.values()):6d} "
                     + " ".join(f"{counts[o]:10d}" for o in outcomes))
    lines.append(f"{'all':8} {sum(total.values()):6d} "
                 + " ".join(f"{total[o]:10d}" for o in outcomes) + f"   ({seconds:.1f} s)")
    return "\n".join(lines)


def test_fuzz_load(tmp_path, capsys):
    # Output capture off: faulthandler needs a real stderr to report a hang
    # on, and the tally is printed for the CI log.
    with capsys.disabled():
        tally, failures, seconds = run_fuzzer(str(tmp_path))
        report = format_tally(tally, seconds)
        print("\ncn.load fuzzer (seed %d):\n%s" % (SEED, report))
    assert not failures, "cases that did not end in ValueError/OSError or a valid model:\n" + \
        "\n".join(map(repr, failures[:30])) + "\n" + report
    for family, counts in tally.items():
        assert sum(counts.values()) == CASES[family]
        # the mutations must reach both ends: rejected files and accepted ones
        assert counts["ValueError"] > 0, family
    assert sum(c["loaded"] for c in tally.values()) > 0


if __name__ == "__main__":
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000, help="cases per family")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tally, failures, seconds = run_fuzzer(d, {k: args.cases for k in FAMILIES}, args.seed)
    print(format_tally(tally, seconds))
    for f in failures:
        print("FAIL", f)
    sys.exit(1 if failures else 0)
