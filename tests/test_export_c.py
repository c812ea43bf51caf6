"""cn.export_c (issue 17, item 5): the exported C99 header, compiled with the
system compiler, computes the same bits as the NumPy forward pass with the
portable functions (cyneuron._export_c.portable_feedforward)."""
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import cyneuron as cn
from cyneuron import _export_c as ec
from cyneuron import _portable as cp

CC = os.environ.get("CC", "cc")
CFLAGS = ["-std=c99", "-O2", "-ffp-contract=off", "-Wall", "-Wextra"]
ROOT = Path(__file__).resolve().parents[1]

NETS = [  # layer sizes, activations: every exportable activation, in several positions
    ([5, 7, 6, 4], ["sigmoid", "tanh", "softmax"]),
    ([3, 8, 5, 2], ["relu", "softplus", "identity"]),
    ([4, 6, 3], ["silu", ("leaky_relu", 0.1)]),
    ([6, 9, 1], ["tanh", "sigmoid"]),
    ([2, 3], ["softmax"]),
]


def compile_and_run(tmp_path, header_name, source, args):
    assert shutil.which(CC), f"a C compiler is needed: {CC!r} not found (set CC)"
    exe = tmp_path / "driver"
    (tmp_path / "driver.c").write_text(source)
    # The sanitizer CI cell preloads ASan into this process; the compiler and
    # the uninstrumented driver run without it.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    res = subprocess.run([CC, *CFLAGS, "-I", str(tmp_path), str(tmp_path / "driver.c"),
                          "-o", str(exe)], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    assert res.stderr == "", res.stderr                       # warning-free under -Wall -Wextra
    subprocess.run([str(exe), *args], check=True, env=env)


def driver(T, name, n_in, n_out):
    return f"""#include <stdio.h>
#include <stdlib.h>
#include "{name}.h"
int main(int argc, char **argv) {{
    long n = atol(argv[1]);
    {T} *X = malloc(sizeof({T}) * n * {n_in}), *Y = malloc(sizeof({T}) * n * {n_out});
    FILE *f = fopen(argv[2], "rb");
    if (argc != 4 || !X || !Y || !f || fread(X, sizeof({T}), n * {n_in}, f) != (size_t)(n * {n_in})) return 1;
    fclose(f);
    {name}_predict_n(X, Y, n);
    f = fopen(argv[3], "wb");
    fwrite(Y, sizeof({T}), n * {n_out}, f);
    fclose(f);
    free(X); free(Y);
    return 0;
}}
"""


def make_net(sizes, acts, dtype, seed):
    net = cn.Network(sizes, activation=acts, dtype=dtype, seed=seed)
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


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", range(len(NETS)))
def test_exported_header_reproduces_portable_forward(tmp_path, dtype, case):
    sizes, acts = NETS[case]
    net = make_net(sizes, acts, dtype, seed=case)
    X = inputs(sizes[0], dtype, np.random.default_rng(100 + case))
    name = f"net{case}"
    cn.export_c(net, tmp_path / f"{name}.h", name=name)
    X.tofile(tmp_path / "x.bin")
    T = "float" if dtype == "float32" else "double"
    compile_and_run(tmp_path, name, driver(T, name, sizes[0], sizes[-1]),
                    [str(len(X)), str(tmp_path / "x.bin"), str(tmp_path / "y.bin")])
    got = np.fromfile(tmp_path / "y.bin", dtype=dtype).reshape(len(X), sizes[-1])
    expected = ec.portable_feedforward(net, X)
    assert expected.dtype == np.dtype(dtype) and expected.shape == got.shape
    assert got.tobytes() == expected.tobytes()
    # and it is this network's forward pass: NumPy's exp/tanh differ by about an ulp per call
    with np.errstate(all="ignore"):
        ours = net.feedforward(X)
    tol = 1e-9 if dtype == "float64" else 2e-3
    assert np.allclose(expected, ours, rtol=tol, atol=tol)


def test_exported_functions_equal_the_spec(tmp_path):
    """The copy of the portable functions inside the header computes the bits of
    cyneuron._portable (itself held to the NumPy spec by test_portable_math)."""
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
    compile_and_run(tmp_path, "fn", src, [str(len(x)), str(tmp_path / "x.bin"), str(tmp_path / "y.bin")])
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
    assert ec.portable_feedforward(clf, X).shape == clf.network_.feedforward(X).shape


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
    with pytest.raises(ValueError, match=r"X must have shape \(n, 2\)"):
        ec.portable_feedforward(net, np.zeros((3, 5)))
    assert not (tmp_path / "a.h").exists()
