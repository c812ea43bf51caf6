"""cyneuron._export_c: cn.export_c's C99 header,
compiled with the system's C compiler and the flags a user would pass, computes
the same bits as the NumPy forward pass with the portable functions
(the reference under portable numerics), which is a portable network's own
feedforward; builds that cannot give those bits stop with an #error naming the
flag to add.

The compile tests need a C compiler (tests/c_compiler.py: $CC, else cc, gcc or
clang on PATH); where there is none (the cibuildwheel test run on Windows) they
skip, saying so, and on Linux and macOS a test insists that one is found, so the
skip can never hide them there.  clang and gcc are used too when they are on PATH
beside $CC (.ci/run's clang cell installs clang and runs the ``bitwise`` tests).

Oracles: exact bits between the compiled header and the NumPy forward pass
with the portable functions; the compiler's #error for an unsafe build.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from c_compiler import CC, env, needs_cc
from exporter_cases import portable_forward
from helpers import bits

import cyneuron as cn
from cyneuron import _export_c as ec
from cyneuron import _portable as cp

WARNINGS = ["-Wall", "-Wextra"]
ROOT = Path(__file__).resolve().parents[1]
EXE = ".exe" if sys.platform == "win32" else ""


def compilers():
    """CC, and clang and gcc too when they are on PATH and are not CC itself."""
    if CC is None:
        return [pytest.param(None, id="no-cc")]
    out = [pytest.param(CC, id="cc")]
    seen = {os.path.realpath(shutil.which(CC[0]) or CC[0])}
    for name in ("clang", "gcc"):
        path = shutil.which(name)
        if path and os.path.realpath(path) not in seen:
            seen.add(os.path.realpath(path))
            out.append(pytest.param([path], id=name))
    return out


def build(cc, flags, tmp_path, source, *, check=True):
    """Compile driver.c (with the headers in tmp_path) into an executable.

    Returns the executable's path, or with ``check=False`` the failed
    compiler's CompletedProcess."""
    assert shutil.which(cc[0]), f"the C compiler {cc[0]!r} was not found (from $CC)"
    exe = tmp_path / f"driver{EXE}"
    (tmp_path / "driver.c").write_text(source)
    res = subprocess.run([*cc, *flags, *WARNINGS, "-I", str(tmp_path), str(tmp_path / "driver.c"),
                          "-o", str(exe)], capture_output=True, text=True, env=env())
    if not check:
        return res
    assert res.returncode == 0, res.stderr
    assert res.stderr == "", res.stderr                       # warning-free under -Wall -Wextra
    return exe


def compile_and_run(tmp_path, source, args, cc=None, flags=("-std=c99", "-O2")):
    exe = build(cc or CC, list(flags), tmp_path, source)
    subprocess.run([str(exe), *args], check=True, env=env())


NETS = [  # layer sizes, activations: every exportable activation, in several positions
    ([5, 7, 6, 4], ["sigmoid", "tanh", "softmax"]),
    ([3, 8, 5, 2], ["relu", "softplus", "identity"]),
    ([4, 6, 3], ["silu", ("leaky_relu", 0.1)]),
    ([6, 9, 1], ["tanh", "sigmoid"]),
    ([2, 3], ["softmax"]),
    ([5, 6, 4, 3], [("elu", 0.5), "elu", "identity"]),
    ([4, 7, 2], ["gelu", "gelu"]),
]

# The flag sets a user would compile the header with (with -Wall -Wextra, which
# must stay silent).  The first two must be accepted everywhere; the others are
# tried where the compiler accepts them and the machine runs their code.
# Contraction: gcc's GNU modes (the default: cc -O2) fuse a*b + c whenever the
# target has FMA (aarch64, ppc64le, s390x at -O2; x86-64 with -mfma or
# -march=native on an FMA machine); clang fuses within expressions.
FLAG_SETS = {
    "O2": ["-O2"],
    "c99-O2": ["-std=c99", "-O2"],
    "O2-mfma": ["-O2", "-mfma"],
    "O2-native": ["-O2", "-march=native"],
    "O3-native-c11": ["-std=c11", "-O3", "-march=native"],
}
OPTIONAL = {"O2-mfma", "O2-native", "O3-native-c11"}

PROBE = """volatile double a = 1.5, b = 3.25, c = -0.125;
int main(void) { return a * b + c == 4.75 ? 0 : 1; }
"""


def usable(cc, flags, tmp_path):
    """Why `cc` with `flags` cannot be tested here ("" if it can): the compiler
    rejects a flag, or this CPU cannot run the code (-mfma without FMA)."""
    probe = tmp_path / "probe"
    probe.mkdir()
    res = build(cc, flags, probe, PROBE, check=False)
    if res.returncode != 0:
        return f"{cc[0]} rejects {' '.join(flags)}: {res.stderr.strip()[-200:]}"
    if subprocess.run([str(probe / f"driver{EXE}")], env=env()).returncode != 0:
        return f"this machine cannot run code built with {' '.join(flags)}"
    return ""


def driver(T, nets):
    """A C program running each net's predict_n on <name>.x into <name>.y (in the
    folder it runs in): nets are (name, n_inputs, n_outputs, n_rows)."""
    includes = "".join(f'#include "{name}.h"\n' for name, *_ in nets)
    runs = "".join(f'    if (run("{name}.x", "{name}.y", {n_in}, {n_out}, {n}, {name}_predict_n)) '
                   f"return 1;\n" for name, n_in, n_out, n in nets)
    return f"""#include <stdio.h>
#include <stdlib.h>
#include <string.h>
{includes}
static int run(const char *x_path, const char *y_path, long n_in, long n_out, long n,
               void (*predict_n)(const {T} *, {T} *, long)) {{
    {T} *X = malloc(sizeof({T}) * n * n_in), *Y = malloc(sizeof({T}) * n * n_out);
    FILE *f;
    if (!X || !Y) return 1;
    if (!(f = fopen(x_path, "rb")) || fread(X, sizeof({T}), n * n_in, f) != (size_t)(n * n_in)) return 1;
    fclose(f);
    predict_n(X, Y, n);
    if (!(f = fopen(y_path, "wb")) || fwrite(Y, sizeof({T}), n * n_out, f) != (size_t)(n * n_out)) return 1;
    fclose(f);
    free(X); free(Y);
    return 0;
}}
int main(void) {{
{runs}    return 0;
}}
"""


def make_net(sizes, acts, dtype, seed, numerics="numpy"):
    net = cn.Network(sizes, activation=acts, dtype=dtype, seed=seed, numerics=numerics)
    rng = np.random.default_rng(seed)
    # wide pre-activations: overflow of exp, saturation of tanh, tiny values
    net.set_weights([(rng.normal(0, 3, W.shape) * rng.choice([1e-3, 1, 10], W.shape),
                      rng.normal(0, 2, b.shape)) for W, b in net.get_weights()])
    return net


def inputs(n_in, dtype, rng):
    X = np.concatenate([rng.normal(0, 3, (400, n_in)), np.zeros((1, n_in)),
                        np.full((1, n_in), 80.0), np.full((1, n_in), -80.0),
                        rng.normal(0, 1e-6, (3, n_in))])
    return X.astype(dtype)


def export_all(tmp_path, dtype):
    """Every net of NETS in both numerics modes, exported, with its inputs written:
    {name: (net, X)}.  The C type of the header and the driver."""
    out = {}
    for case, (sizes, acts) in enumerate(NETS):
        for numerics in ("numpy", "portable"):
            net = make_net(sizes, acts, dtype, seed=case, numerics=numerics)
            X = inputs(sizes[0], dtype, np.random.default_rng(100 + case))
            name = f"net{case}_{numerics}"
            cn.export_c(net, tmp_path / f"{name}.h", name=name)
            X.tofile(tmp_path / f"{name}.x")
            out[name] = (net, X)
    return out, ("float" if dtype == "float32" else "double")


def check_outputs(tmp_path, nets, dtype):
    for name, (net, X) in nets.items():
        got = np.fromfile(tmp_path / f"{name}.y", dtype=dtype).reshape(len(X), net.n_outputs)
        expected = portable_forward(net, X)
        assert expected.dtype == np.dtype(dtype) and expected.shape == got.shape
        assert got.tobytes() == expected.tobytes(), name
        with np.errstate(all="ignore"):
            ours = net.feedforward(X)
        if net.numerics == "portable":
            # the portable network's own forward pass (the compiled core), to the bit
            assert got.tobytes() == ours.tobytes(), name
        else:
            # NumPy's exp/tanh differ from the portable ones by about an ulp per call
            tol = 1e-9 if dtype == "float64" else 2e-3
            assert np.allclose(got, ours, rtol=tol, atol=tol), name


@pytest.mark.skipif(not sys.platform.startswith(("linux", "darwin")),
                    reason="only Linux and macOS promise a C compiler")
def test_a_c_compiler_is_found_on_linux_and_macos():
    # the compile tests skip where no compiler exists (Windows wheels); here that
    # must never happen silently
    assert CC is not None, "no C compiler found: set CC or install cc/gcc/clang"
    assert shutil.which(CC[0]), f"$CC names {CC[0]!r}, which is not on PATH"


@needs_cc
@pytest.mark.bitwise
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("flags", list(FLAG_SETS))
@pytest.mark.parametrize("cc", compilers())
def test_header_gives_the_same_bits_with_every_flag_set(tmp_path, cc, flags, dtype):
    """Every net, both numerics modes, the header compiled as a user would: the bits
    of the reference under portable numerics (and of a portable network's feedforward)."""
    if flags in OPTIONAL or cc != CC:
        # a second compiler on PATH may lack its C library (clang on a Windows
        # runner without MSVC's environment): then it is not one to test here
        why = usable(cc, FLAG_SETS[flags], tmp_path)
        if why:
            pytest.skip(why)
    nets, T = export_all(tmp_path, dtype)
    flag_set = FLAG_SETS[flags]
    if dtype == "float32" and flt_eval_method(cc, flag_set) == 1:
        # gcc on s390x under -std=c99/-std=c11 evaluates float in double (.ci/run's
        # s390x cell): the header refuses, naming the flag that gives the bits back
        res = build(cc, flag_set, tmp_path, nets_driver(nets, T), check=False)
        assert res.returncode != 0 and "add -fexcess-precision=fast" in res.stderr, res.stderr
        flag_set = [*flag_set, "-fexcess-precision=fast"]
    exe = build(cc, flag_set, tmp_path, nets_driver(nets, T))
    subprocess.run([str(exe)], check=True, env=env(), cwd=tmp_path)
    check_outputs(tmp_path, nets, dtype)


def flt_eval_method(cc, flags):
    """The compiler's __FLT_EVAL_METHOD__ under `flags` (None if it does not say)."""
    res = subprocess.run([*cc, *flags, "-dM", "-E", "-x", "c", os.devnull],
                         capture_output=True, text=True, env=env())
    for line in res.stdout.splitlines():
        if line.startswith("#define __FLT_EVAL_METHOD__ "):
            return int(line.split()[2])
    return None


def nets_driver(nets, T):
    return driver(T, [(name, net.n_inputs, net.n_outputs, len(X)) for name, (net, X) in nets.items()])


@needs_cc
@pytest.mark.parametrize("flag", ["-ffast-math", "-Ofast"])
def test_header_refuses_fast_math(tmp_path, flag):
    nets, T = export_all(tmp_path, "float64")
    res = build(CC, ["-O2", flag], tmp_path, nets_driver(nets, T), check=False)
    assert res.returncode != 0 and "compiled with -ffast-math" in res.stderr, res.stderr


# FLT_EVAL_METHOD values: 1 float in double (gcc on s390x under -std=c99/-std=c11),
# 2 everything in x87 extended precision, 16/32/64 TS 18661-3's (only narrower
# types widen, or float to _Float64), -1 indeterminable
REFUSED = {"float32": {1: "-fexcess-precision=fast", 2: "-msse2 -mfpmath=sse", 64: "is not one of",
                       -1: "is not one of"},
           "float64": {2: "-msse2 -mfpmath=sse", -1: "is not one of"}}


@needs_cc
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_evaluation_method_guard(tmp_path, dtype):
    """The header refuses exactly the evaluation methods that change its type's
    arithmetic, naming the flag to add (the compiler's __FLT_EVAL_METHOD__ redefined:
    gcc's and clang's float.h take FLT_EVAL_METHOD from it)."""
    probe = tmp_path / "probe"
    probe.mkdir()
    redefine = ["-fsyntax-only", "-U__FLT_EVAL_METHOD__", "-D__FLT_EVAL_METHOD__=1"]
    res = build(CC, redefine, probe, "#include <float.h>\n#if FLT_EVAL_METHOD != 1\n#error no\n#endif\n"
                "int main(void) { return 0; }\n", check=False)
    if res.returncode != 0:
        pytest.skip(f"{CC[0]}'s float.h does not take FLT_EVAL_METHOD from __FLT_EVAL_METHOD__")
    nets, T = export_all(tmp_path, dtype)
    src = nets_driver(nets, T)
    for method in (0, 1, 2, 16, 32, 64, -1):
        res = build(CC, ["-fsyntax-only", "-U__FLT_EVAL_METHOD__", f"-D__FLT_EVAL_METHOD__={method}"],
                    tmp_path, src, check=False)
        if method in REFUSED[dtype]:
            assert res.returncode != 0, method
            assert "#error" in res.stderr or "error:" in res.stderr, res.stderr
            assert REFUSED[dtype][method] in res.stderr, (method, res.stderr)
        else:
            assert res.returncode == 0 and res.stderr == "", (method, res.stderr)


@needs_cc
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_x87_refused_sse_exact(tmp_path, dtype):
    """32-bit x86 (where the compiler has -m32 and its libraries): the x87 build stops
    with the flags to add; with them, the bits."""
    why = usable(CC, ["-m32", "-msse2", "-mfpmath=sse"], tmp_path)
    if why and os.environ.get("CYNEURON_EXPECT_M32") == "1":
        pytest.fail(f".ci/run found -m32 working, yet: {why}")
    if why:
        pytest.skip(why)
    nets, T = export_all(tmp_path, dtype)
    res = build(CC, ["-m32", "-O2"], tmp_path, nets_driver(nets, T), check=False)
    assert res.returncode != 0 and "add -msse2 -mfpmath=sse" in res.stderr, res.stderr
    exe = build(CC, ["-m32", "-O2", "-msse2", "-mfpmath=sse"], tmp_path, nets_driver(nets, T))
    subprocess.run([str(exe)], check=True, env=env(), cwd=tmp_path)
    check_outputs(tmp_path, nets, dtype)


def _s390x():
    gcc = next((shutil.which(n) for n in ("s390x-linux-gnu-gcc", "s390x-linux-gnu-gcc-12",
                                          "s390x-linux-gnu-gcc-13", "s390x-linux-gnu-gcc-14")
                if shutil.which(n)), None)
    # qemu-user installs qemu-s390x, qemu-user-static (.ci/run's emulated cells) qemu-s390x-static
    qemu = shutil.which("qemu-s390x") or shutil.which("qemu-s390x-static")
    return (gcc, qemu) if gcc and qemu else None


@pytest.mark.skipif(_s390x() is None, reason="no s390x cross compiler and qemu-s390x here")
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_s390x_big_endian_under_qemu(tmp_path, dtype):
    """gcc on s390x: FMA at -O2 in the GNU modes (the header's pragma turns it off);
    float evaluated in double under -std=c99 (the float header stops, naming
    -fexcess-precision=fast; the double header is exact)."""
    gcc, qemu = _s390x()
    nets, T = export_all(tmp_path, dtype)
    big = np.dtype(dtype).newbyteorder(">")
    for name, (_, X) in nets.items():
        X.astype(big).tofile(tmp_path / f"{name}.x")
    for flags in (["-O2"], ["-std=c99", "-O2"], ["-std=c99", "-O2", "-fexcess-precision=fast"]):
        if dtype == "float32" and flags == ["-std=c99", "-O2"]:
            res = build([gcc, "-static"], flags, tmp_path, nets_driver(nets, T), check=False)
            assert res.returncode != 0 and "add -fexcess-precision=fast" in res.stderr, res.stderr
            continue
        exe = build([gcc, "-static"], flags, tmp_path, nets_driver(nets, T))
        subprocess.run([qemu, str(exe)], check=True, env=env(), cwd=tmp_path)
        for name in nets:
            y = np.fromfile(tmp_path / f"{name}.y", dtype=big).astype(dtype)
            y.tofile(tmp_path / f"{name}.y")
        check_outputs(tmp_path, nets, dtype)


@needs_cc
def test_exported_functions_equal_the_spec(tmp_path):
    """The copy of the portable functions inside the header computes the bits of
    cyneuron._portable (itself held to the NumPy spec by test_portable.py)."""
    net = make_net([2, 2], ["sigmoid"], "float64", 0)
    cn.export_c(net, tmp_path / "fn.h", name="fn")
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.integers(0, 2**64, 100_000, dtype=np.uint64).view(np.float64),
                        rng.uniform(-30, 30, 100_000), [0.0, -0.0, np.inf, -np.inf, np.nan, -1.0]])
    x.tofile(tmp_path / "x.bin")
    src = """#include <stdio.h>
#include <stdlib.h>
#include "fn.h"
int main(int argc, char **argv) {
    long n = atol(argv[1]), i;
    double *x = malloc(sizeof(double) * n), *y = malloc(sizeof(double) * n * 8);
    float *yf = (float *)(y + 4 * n);
    FILE *f = fopen(argv[2], "rb");
    if (argc != 4 || !x || !y || !f || fread(x, sizeof(double), n, f) != (size_t)n) return 1;
    fclose(f);
    for (i = 0; i < n; i++) {
        y[i] = cynx_exp_f64(x[i]); y[n + i] = cynx_log_f64(x[i]);
        y[2 * n + i] = cynx_log1p_f64(x[i]); y[3 * n + i] = cynx_tanh_f64(x[i]);
        yf[i] = cynx_exp_f32((float)x[i]); yf[n + i] = cynx_log_f32((float)x[i]);
        yf[2 * n + i] = cynx_log1p_f32((float)x[i]); yf[3 * n + i] = cynx_tanh_f32((float)x[i]);
    }
    f = fopen(argv[3], "wb");
    fwrite(y, sizeof(double), n * 6, f);
    fclose(f);
    return 0;
}
"""
    compile_and_run(tmp_path, src, [str(len(x)), str(tmp_path / "x.bin"), str(tmp_path / "y.bin")])
    raw = np.fromfile(tmp_path / "y.bin", dtype=np.uint8)
    n = len(x)
    y64 = raw[:n * 32].view(np.float64).reshape(4, n)
    y32 = raw[n * 32:].view(np.float32).reshape(4, n)
    with np.errstate(all="ignore"):
        xf = x.astype(np.float32)
    for i, fn in enumerate((cp.exp, cp.log, cp.log1p, cp.tanh)):
        assert y64[i].tobytes() == fn(x).tobytes(), fn.__name__
        assert y32[i].tobytes() == fn(xf).tobytes(), fn.__name__ + " float32"


def test_embedded_copy_is_current():
    from cyneuron._portable_c import PORTABLE_C
    header = (ROOT / "csrc" / "cyn_portable.h").read_text()
    body = (ROOT / "csrc" / "cyn_portable_body.h").read_text()
    assert PORTABLE_C == ec.portable_c_from(header, body), \
        "regenerate src/cyneuron/_portable_c.py from csrc (see its docstring)"


def test_estimator_exports_its_network(tmp_path):
    from sklearn.datasets import make_classification
    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    clf = cn.MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, y)
    cn.export_c(clf, tmp_path / "clf.h", name="clf")
    text = (tmp_path / "clf.h").read_text()
    assert "#define CLF_N_INPUTS 4" in text and "clf_predict" in text
    assert portable_forward(clf, X).shape == clf.network_.feedforward(X).shape


def test_export_c_bad_input(tmp_path):
    net = cn.Network([2, 2, 1], seed=0)
    with pytest.raises(TypeError, match="model must be a cyneuron Network"):
        cn.export_c("net", tmp_path / "a.h")
    with pytest.raises(ValueError, match="name must be a C identifier"):
        cn.export_c(net, tmp_path / "a.h", name="1net")
    with pytest.raises(TypeError, match="name must be a str"):
        cn.export_c(net, tmp_path / "a.h", name=3)
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        cn.export_c(net, 3)
    assert not (tmp_path / "a.h").exists()


# --- a portable network's own feedforward is the header's spec ----------------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_export_c_reproduces_the_portable_network(dtype):
    # cn.export_c's header computes the reference under portable numerics
    # (tests/test_export_c.py); that is the portable network's own feedforward, to the bit
    X = (np.random.default_rng(0).standard_normal((40, 4)) * 3).astype(dtype)
    for acts in (["sigmoid", "softmax"], ["tanh", "sigmoid"], ["softplus", "identity"],
                 ["silu", "softmax"], ["relu", "tanh"]):
        net = cn.Network([4, 7, 3], activation=acts, seed=1, dtype=dtype, numerics="portable")
        assert bits(net.feedforward(X)) == bits(np.asarray(portable_forward(net, X)))
