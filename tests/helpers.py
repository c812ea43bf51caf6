"""Shared test utilities: random problems, exact-bits comparisons, a missing extra."""
import os
import subprocess
import sys
import threading

import numpy as np

import cyneuron as cn

HIDDEN = ["sigmoid", "tanh", "relu", ("leaky_relu", 0.1), "identity", "softplus", "silu",
          ("elu", 0.5), "gelu"]
OUTPUT = ["sigmoid", "tanh", "relu", ("leaky_relu", 0.03), "identity", "softmax", "softplus", "silu",
          "elu", "gelu"]
DTYPES = ["float64", "float32"]


def bits(x):
    """Exact bytes of an array (or a list of (W, b) pairs).

    Every non-NaN value keeps its exact bits (signed zeros included); NaNs are
    canonicalised, because a NaN's sign and payload depend on which operand
    the hardware propagates and carry no numerical meaning. NaNs must still
    appear in the same places.
    """
    if isinstance(x, list):
        return b"".join(bits(W) + bits(b) for W, b in x)
    a = np.array(x, copy=True)
    if a.dtype.kind == "f":
        a[np.isnan(a)] = np.nan
    return np.ascontiguousarray(a).tobytes()


def random_problem(seed, dtype, max_layers=4, max_width=8, max_batch=16, wide=False):
    """A random architecture, activations, loss, batch and targets."""
    rng = np.random.default_rng(seed)
    n_layers = int(rng.integers(1, max_layers + 1))
    top = 40 if wide else max_width
    sizes = [int(rng.integers(1, top + 1)) for _ in range(n_layers + 1)]
    acts = [HIDDEN[int(rng.integers(len(HIDDEN)))] for _ in range(n_layers - 1)]
    out = OUTPUT[int(rng.integers(len(OUTPUT)))]
    acts.append(out)
    if out == "softmax":
        sizes[-1] = max(2, sizes[-1])
    loss = ["mse", "sse"][int(rng.integers(2))]
    n = int(rng.integers(1, max_batch + 1))
    X = rng.standard_normal((n, sizes[0])) * rng.uniform(0.5, 3)
    if out == "softmax":
        Y = np.eye(sizes[-1])[rng.integers(sizes[-1], size=n)]
    else:
        Y = rng.random((n, sizes[-1]))
    init = ["uniform", "xavier", "he"][int(rng.integers(3))]
    return dict(sizes=sizes, acts=acts, loss=loss, X=X.astype(dtype), Y=Y.astype(dtype),
                init=init, seed=seed, dtype=dtype)


def make_pair(p):
    """The same network twice: compiled core and reference."""
    kw = dict(activation=p["acts"], loss=p["loss"], seed=p["seed"], dtype=p["dtype"],
              init=p["init"])
    return (cn.Network(p["sizes"], backend="cython", **kw),
            cn.Network(p["sizes"], backend="numpy", **kw))


def fit_outcome(net, X, Y, **fit_kw):
    """What a fit did, comparable across backends: the loss history's bits, or,
    if it diverged, the error message (and the weights must be unchanged)."""
    before = bits(net.get_weights())
    state = net.state.opt_state.tobytes()
    try:
        with np.errstate(all="ignore"):
            hist = net.fit(X, Y, **fit_kw)
    except cn.DivergenceError as exc:
        assert bits(net.get_weights()) == before and net.state.opt_state.tobytes() == state
        return ("diverged", str(exc))
    return ("trained", bits(np.asarray(hist["loss"], dtype=np.float64)))


def takes_fast_path(net, x):
    """Whether ``net.feedforward(x)`` takes the core's fast path (one checked core call).

    Only for a network of the compiled backend, with no concurrent writer.
    """
    return net.try_forward(x) is not None


def network_numbers(net):
    """The bytes of a network's parameters and optimizer state (step and beta powers too)."""
    return bits(net.state.params) + bits(net.state.opt_state) + bits(net.state.opt_scalars)


def without_module(module, code):
    """Run `code` in a fresh interpreter in which ``import <module>`` fails; its stdout.

    How the tests of an optional feature see what a user without the extra sees.
    """
    prelude = f"import sys; sys.modules[{module!r}] = None\n"
    proc = subprocess.run([sys.executable, "-c", prelude + code], capture_output=True,
                          text=True, env=dict(os.environ))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def outputs_seen_during_fit(net, probe, X, y, n_readers=2, **fit_kw):
    """(bits before, set of bits two reader threads saw, bits after) of
    net.feedforward(probe) while another thread fits net on (X, y)."""
    before = bits(net.feedforward(probe))
    seen, stop = [], threading.Event()

    def reader():
        while not stop.is_set():
            seen.append(bits(net.feedforward(probe)))
    threads = [threading.Thread(target=reader) for _ in range(n_readers)]
    for t in threads:
        t.start()
    try:
        net.fit(X, y, **fit_kw)
    finally:
        stop.set()
        for t in threads:
            t.join()
    return before, set(seen), bits(net.feedforward(probe))


# --- atomic writes (tests/test_files.py and the optional extras' test_files_*.py) ------------

ENOSPC = OSError(28, "No space left on device")     # errno.ENOSPC, as the kernel words it


def folder_state(folder):
    """{name: (mode, bytes)} of every entry in `folder`: equal before and after a failed
    write means the old file is intact bit for bit and no temporary file was left."""
    out = {}
    for name in sorted(os.listdir(folder)):
        p = os.path.join(folder, name)
        with open(p, "rb") as f:
            out[name] = (os.stat(p).st_mode, f.read())
    return out


def fail_fsync(monkeypatch, exc=None):
    """Every os.fsync raises `exc` (ENOSPC): where a full disk shows on delayed
    allocation and network file systems."""
    def fsync(fd):
        raise exc if exc is not None else OSError(28, "No space left on device")
    monkeypatch.setattr(os, "fsync", fsync)


def fail_replace(monkeypatch, exc=None):
    """os.replace raises (rename(2) gives ENOSPC when the folder needs a new block)."""
    def replace(*args, **kwargs):
        raise exc if exc is not None else OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", replace)


def fail_create(monkeypatch, err=30):
    """Creating a file with os.open raises `err` (default EROFS, a read-only folder),
    without needing permissions: CI runs as root, where a chmod-ed folder is still
    writable. Other opens go through."""
    real = os.open
    tmpfile = getattr(os, "O_TMPFILE", 0)

    def fake(path, flags, *args, **kwargs):
        if flags & os.O_CREAT or (tmpfile and flags & tmpfile == tmpfile):
            raise OSError(err, os.strerror(err), os.fsdecode(path))
        return real(path, flags, *args, **kwargs)
    monkeypatch.setattr(os, "open", fake)


def named_temps(monkeypatch):
    """Make cyneuron write through a named temporary file, as where Linux's O_TMPFILE
    is missing (other systems, some file systems)."""
    monkeypatch.delattr(os, "O_TMPFILE", raising=False)


def file_size_limit(nbytes):
    """A context in which writing past `nbytes` in any file fails with EFBIG (a real
    I/O error in the middle of a write, through RLIMIT_FSIZE; SIGXFSZ ignored)."""
    import contextlib
    import resource
    import signal

    @contextlib.contextmanager
    def limit():
        old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, hard))
        try:
            yield
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
            signal.signal(signal.SIGXFSZ, old_handler)
    return limit()


def unnamed_temps_here(folder):
    """Whether `folder` takes Linux's O_TMPFILE (then a killed write leaves nothing)."""
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag or not os.path.isdir("/proc/self/fd"):
        return False
    try:
        os.close(os.open(folder, flag | os.O_RDWR, 0o600))
        return True
    except OSError:
        return False


_KILL_CHILD = r"""
import sys
import cyneuron as cn
path, width = sys.argv[1], int(sys.argv[2])
nets = [cn.Network([width, width, width], seed=s) for s in (1, 2)]
print("ready", flush=True)
i = 0
while True:
    print("saving", i, flush=True)
    cn.save(nets[(i + 1) % 2], path)    # seed 2 over seed 1's file first, then back
    print("saved", i, flush=True)
    i += 1
"""


def kill_during_saves(folder, suffix, kills=12, width=1400, seed=0, named=False):
    """Save a large model (2 x width^2 float64 weights: 31 MB at 1400) over an existing
    one in a subprocess that saves two models in turn, and SIGKILL it at a random
    moment, `kills` times. After each kill the file must load as one of the two, bit
    for bit; returns [(delay, last line the child printed, names this kill left)]
    (a leftover stays in the folder: it is listed once, at the kill that left it).

    A leftover must be named as cyneuron's temporary files are; where O_TMPFILE works
    it must also be complete (killed between naming it and the rename: microseconds).
    `named`: the child writes through named temporary files (no O_TMPFILE), which a
    kill leaves behind.
    """
    import random
    import re
    import shutil
    import signal
    import tempfile
    import time

    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(cn.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [pkg_root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    nets = [cn.Network([width, width, width], seed=s) for s in (1, 2)]
    want = [[bits(W) + bits(b) for W, b in n.get_weights()] for n in nets]
    target = os.path.join(folder, "model" + suffix)
    cn.save(nets[0], target)
    scratch = tempfile.mkdtemp()
    try:
        start = time.perf_counter()
        cn.save(nets[1], os.path.join(scratch, "probe" + suffix))
        one_save = time.perf_counter() - start
        pattern = re.compile(r"^\.model" + re.escape(suffix) + r"\.cyneuron-[0-9a-f]{12}\.tmp$")
        complete_leftovers = unnamed_temps_here(folder) and not named
        child = ("import os\nif hasattr(os, 'O_TMPFILE'): del os.O_TMPFILE\n" if named
                 else "") + _KILL_CHILD
        rng = random.Random(seed)
        outcomes = []
        seen = set()
        for k in range(kills):
            proc = subprocess.Popen([sys.executable, "-c", child, target, str(width)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                    text=True)
            try:
                assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
                delay = rng.uniform(0.0, 2.5 * one_save)
                time.sleep(delay)
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=60)
                # read through the same buffered file as readline (communicate would not)
                out, err = proc.stdout.read(), proc.stderr.read()
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stdout.close()
                proc.stderr.close()
            assert proc.returncode == -signal.SIGKILL, (proc.returncode, err)
            last = ([line for line in out.splitlines() if line] or ["ready"])[-1]
            got = [bits(W) + bits(b) for W, b in cn.load(target).get_weights()]
            assert got in want, f"kill {k} after {delay:.3f} s ({last}): neither model"
            leftovers = sorted(set(os.listdir(folder)) - {"model" + suffix} - seen)
            seen.update(leftovers)
            for name in leftovers:
                assert pattern.match(name), f"kill {k}: a stray file {name!r}"
                if complete_leftovers:
                    copy = os.path.join(scratch, "leftover" + suffix)
                    shutil.copyfile(os.path.join(folder, name), copy)
                    assert [bits(W) + bits(b) for W, b in cn.load(copy).get_weights()] in want
            outcomes.append((delay, last, leftovers))
        return outcomes
    finally:
        shutil.rmtree(scratch)


def check_atomic_writer(folder, write, suffix):
    """tests/test_files.py's checks, in one call, for a writer of an optional extra.

    `write(path, which)` writes version `which` (0 or 1, different bytes) to `path`
    and returns the path written. Each check runs with both kinds of temporary file.
    """
    import contextlib
    import errno
    import pathlib
    import stat

    import pytest
    folder = pathlib.Path(folder)

    def names(exc, path):
        assert exc.filename == str(path), (exc.filename, path)
        assert repr(str(path)) in str(exc)

    faults = [("fsync", fail_fsync, errno.ENOSPC), ("replace", fail_replace, errno.ENOSPC),
              ("read-only", fail_create, errno.EROFS)]
    for kind in ("unnamed", "named"):
        for label, inject, err in faults:
            sub = folder / f"{kind}-{label}"
            sub.mkdir()
            path = str(sub / ("model" + suffix))
            assert write(path, 0) == path
            before = folder_state(sub)
            with pytest.MonkeyPatch.context() as mp:
                if kind == "named":
                    named_temps(mp)
                inject(mp)
                with pytest.raises(OSError) as info:
                    write(path, 1)
            assert info.value.errno == err, (kind, label, info.value)
            names(info.value, path)
            assert folder_state(sub) == before, (kind, label)
        sub = folder / f"{kind}-ctrl-c"
        sub.mkdir()
        path = str(sub / ("model" + suffix))
        write(path, 0)
        before = folder_state(sub)
        with pytest.MonkeyPatch.context() as mp:
            if kind == "named":
                named_temps(mp)
            fail_fsync(mp, KeyboardInterrupt())
            with pytest.raises(KeyboardInterrupt):
                write(path, 1)
        assert folder_state(sub) == before, (kind, "ctrl-c")
    # a missing folder: FileNotFoundError naming the path, nothing created
    path = folder / "missing" / ("model" + suffix)
    with pytest.raises(FileNotFoundError) as info:
        write(str(path), 1)
    names(info.value, path)
    assert not path.parent.exists()
    # empty and folder paths: ValueError naming the path, nothing written
    sub = folder / "refused"
    sub.mkdir()
    (sub / ("dir" + suffix)).mkdir()
    with contextlib.chdir(sub) if hasattr(contextlib, "chdir") else _chdir(sub):
        for bad in ["", "dir" + suffix, "dir" + suffix + os.sep, "new" + suffix + os.sep]:
            with pytest.raises(ValueError, match="folder|empty") as vinfo:
                write(bad, 1)
            assert repr(bad) in str(vinfo.value)
            assert sorted(os.listdir(sub)) == ["dir" + suffix], bad
            assert os.listdir(sub / ("dir" + suffix)) == [], bad
    # the mode follows the umask, also over an existing file
    sub = folder / "umask"
    sub.mkdir()
    old = os.umask(0o022)
    try:
        for mask, existing in [(0o022, None), (0o077, 0o644), (0o027, 0o600)]:
            path = str(sub / f"m{mask:o}{suffix}")
            if existing is not None:
                write(path, 0)
                os.chmod(path, existing)
            os.umask(mask)
            write(path, 1)
            os.umask(0o022)
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~mask, (mask, existing)
    finally:
        os.umask(old)


class _chdir:
    """contextlib.chdir for Python < 3.11."""

    def __init__(self, path):
        self.path, self.old = path, None

    def __enter__(self):
        self.old = os.getcwd()
        os.chdir(self.path)

    def __exit__(self, *exc):
        os.chdir(self.old)
