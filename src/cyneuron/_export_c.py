"""cn.export_c: a trained network as a dependency-free C99 header.

The header holds the weights as hex float literals (exact) and a ``predict``
function that performs the forward pass with the operations of
``cyneuron.reference``: for each output ``s = +0.0; s = s + x[k] * W[k][j]``
for k ascending, then ``z = s + b[j]``; the activations with cyneuron's portable
exp/log1p/tanh (``csrc/cyn_portable.h``, copied into the header).  On an
IEEE-754 machine (round-to-nearest, subnormals kept) it computes the same bits
as ``cyneuron.reference.feedforward`` under ``reference.numerics("portable")``
(the reference is the spec; no second forward pass here), with whatever flags
it is compiled: the header turns contraction off for its own
code (gcc and clang) and refuses to compile (``#error`` naming the flag to add)
where the compiler evaluates the header's type in a wider format or is told to
reorder arithmetic (``-ffast-math``).  ``docs/portable.rst`` states the promise.
"""
import os
import re

import numpy as np

from . import _files
from . import _registry as registry
from ._portable_c import PORTABLE_C
from .network import Network

__all__ = ["export_c"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def portable_c_from(header: str, body: str) -> str:
    """The scalar portable functions as standalone C (names ``cynx_*``), made from
    the texts of csrc/cyn_portable.h and csrc/cyn_portable_body.h."""
    pre = header[header.index("/* ---- constants (hex floats: exact) ---- */"):
                 header.index("/* ---- the functions: scalar copy")]
    pre = pre[:pre.index("/* c ? a : b as a bitwise blend")] + pre[pre.index("/* 2^n for an integer n"):]
    code = body[body.index("/* ---- exp ---- */"):]
    code = re.sub(r"CYNP_FN\((\w+)\)", r"cynp_\1", code)
    return (pre + code).replace("CYNP_INLINE", "static inline").replace("cynp_", "cynx_") \
                       .replace("CYNP_", "CYNX_")


def _network(model):
    if isinstance(model, Network):
        return model
    net = getattr(model, "network_", None)
    if isinstance(net, Network):
        return net
    raise TypeError("model must be a cyneuron Network or a fitted cyneuron estimator, "
                    f"got {type(model).__name__}")


def _check_activations(net):
    """Refuse, naming it, an activation whose registry row has no C99 code."""
    for i, act in enumerate(net.activations):
        if act.row.c99 is None:
            supported = [name for name, row in registry.ACTIVATIONS.items() if row.c99 is not None]
            raise ValueError(f"model: layer {i + 1}'s activation {act.name!r} cannot be "
                             f"exported to C: its registry row has no C99 code for export_c "
                             f"(supported: {', '.join(supported)})")


def _literal(v, T):
    return float(v).hex() + ("f" if T == "float" else "")


def _literals(arr, T):
    items = [_literal(v, T) for v in np.ravel(arr)]
    lines = [", ".join(items[i:i + 4]) for i in range(0, len(items), 4)]
    return "    " + ",\n    ".join(lines)


def _activation_c(act, n, T, dst, src, dtype):
    """The C99 statements of a layer's activation, from its registry row."""
    words = registry.CWords(
        T=T, fn="f32" if T == "float" else "f64", one="1.0f" if T == "float" else "1.0",
        zero="0.0f" if T == "float" else "0.0",
        param="" if act.row.param is None else _literal(dtype.type(act.param), T))
    return act.row.c99(words, n, dst, src)


def _guards(name: str, T: str) -> list[str]:
    """The header's refusals: the builds that cannot compute the promised bits.

    Why ``#error`` rather than code immune to the evaluation method: a float
    header would need every float operation of every activation (registry rows'
    C code) in its own rounded statement, a rule nothing but an s390x or x87 run
    would check; and under x87's extended precision (FLT_EVAL_METHOD 2) double
    results round twice whatever the source says.  One flag fixes each case.
    """
    # FLT_EVAL_METHOD values that keep T's arithmetic in T: 0, and TS 18661-3's
    # 16 and 32 (gcc's GNU modes on targets with _Float16: only narrower types
    # widen); for double also 1 and 64 (float widened to double, double kept)
    ok = "0, 16, 32" if T == "float" else "0, 1, 16, 32, 64"
    cond = " && ".join(f"FLT_EVAL_METHOD != {v}" for v in ok.split(", "))
    return [
        "/* The bits need IEEE-754 arithmetic as written: refuse the builds that do not give it. */",
        "#if defined(__FAST_MATH__)",
        f'#error "{name}.h: compiled with -ffast-math (or -Ofast), which reorders floating-point '
        f'arithmetic; compile without it for the bits of cyneuron\'s forward pass"',
        "#endif",
        f"#if defined(FLT_EVAL_METHOD) && {cond}",
        "#if FLT_EVAL_METHOD == 1",
        f'#error "{name}.h: float arithmetic is evaluated in double here (FLT_EVAL_METHOD 1: gcc '
        f'on s390x with -std=c99/-std=c11); add -fexcess-precision=fast or use -std=gnu99/-std=gnu11"',
        "#elif FLT_EVAL_METHOD == 2",
        f'#error "{name}.h: arithmetic is evaluated in x87 extended precision here '
        f'(FLT_EVAL_METHOD 2: 32-bit x86); add -msse2 -mfpmath=sse"',
        "#else",
        f'#error "{name}.h: {T} arithmetic is not evaluated in {T} here (FLT_EVAL_METHOD is not '
        f'one of {ok}); compile so that it is (gcc: -fexcess-precision=fast)"',
        "#endif",
        "#endif",
        "",
        "/* No contraction (a*b + c fused into one rounding) in this header's code, whatever the",
        " * flags; the user's code after it keeps theirs.  gcc ignores the STDC pragma and contracts",
        " * at -O2 on aarch64, s390x, ppc64le and with -mfma: its optimize pragma, pushed (a",
        " * function compiled under it is not inlined into callers without it).  clang honours",
        " * the STDC pragma (not under -ffp-contract=fast, which disregards every pragma);",
        " * DEFAULT at the end restores the command line's setting. */",
        "#if defined(__clang__)",
        "#pragma STDC FP_CONTRACT OFF",
        "#elif defined(__GNUC__)",
        "#pragma GCC push_options",
        '#pragma GCC optimize("fp-contract=off")',
        "#endif",
        "",
    ]


_RESTORE = ["#if defined(__clang__)", "#pragma STDC FP_CONTRACT DEFAULT",
            "#elif defined(__GNUC__)", "#pragma GCC pop_options", "#endif"]


def export_c(model, path, *, name: str = "cyn_model") -> None:
    """Write `model` as a dependency-free C99 header with a ``predict`` function.

    The header defines ``<name>_N_INPUTS``, ``<name>_N_OUTPUTS``, the weights
    (hex float literals: exact) and::

        void <name>_predict(const T *x, T *y);            /* one sample */
        void <name>_predict_n(const T *X, T *Y, long n);  /* n rows, row-major */

    with ``T`` the network's dtype (``double`` or ``float``).  On an IEEE-754
    machine (round-to-nearest, subnormals kept) it computes the same bits as
    ``cyneuron.reference.feedforward`` under ``reference.numerics("portable")``,
    the network's forward pass with cyneuron's portable exp, log1p and tanh,
    which is a ``numerics="portable"`` network's own ``feedforward``.  (A
    ``numerics="numpy"`` network's ``feedforward`` uses NumPy's functions and
    agrees with it to about an ulp, not to the bit.)

    Any C99 compiler and the flags a user would pass keep the bits: the header
    turns contraction off for its own code under gcc and clang (``cc -O2``,
    ``-mfma``, ``-march=native``; other compilers need ``-ffp-contract=off``
    or their equivalent), and stops with an ``#error`` naming the flag to add
    under ``-ffast-math`` and where the compiler evaluates ``T`` in a wider
    format (``FLT_EVAL_METHOD``: float on s390x under ``-std=c99``, x87).
    clang's ``-ffp-contract=fast`` disregards the header's pragma: not
    supported.  ``docs/portable.rst`` has the details.

    Parameters
    ----------
    model : Network or fitted MLPClassifier / MLPRegressor
        The network (an estimator's ``network_``; its output activation, not
        the estimator's label decoding).  Activations: identity, sigmoid,
        tanh, relu, leaky_relu, softmax, softplus, silu, elu, gelu.
    path : str or os.PathLike
        The header file to write.
    name : str, default "cyn_model"
        Prefix of every name the header defines: a C identifier.

    Raises
    ------
    TypeError
        If `model` is not a Network or a fitted estimator, or `path` or `name`
        have the wrong type.
    ValueError
        If `name` is not a C identifier or an activation cannot be exported,
        or `path` is empty or names a folder.
    OSError
        Any I/O error, naming `path` (a missing folder: before any work).
        The file is written atomically (``cyneuron._files``): an old file
        at `path` stays as it was unless the new one is complete.
    """
    net = _network(model)
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if not _IDENT.match(name):
        raise ValueError(f"name must be a C identifier, got {name!r}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    _files.check_target(path)
    _check_activations(net)
    weights = net.get_weights()
    if not all(np.isfinite(W).all() and np.isfinite(b).all() for W, b in weights):
        raise ValueError("model: the weights must be finite to be exported")
    dtype = np.dtype(net.dtype)
    T = "float" if dtype == np.float32 else "double"
    zero = "0.0f" if T == "float" else "0.0"
    sizes = [int(s) for s in net.layer_sizes]
    width = max(sizes[1:])
    guard = name.upper() + "_H"
    out = [f"/* {name}: a cyneuron network exported by cyneuron.export_c ({'-'.join(map(str, sizes))}, "
           f"{np.dtype(net.dtype).name}).\n"
           " * Weights as hex float literals (exact); the forward pass of cyneuron.reference with\n"
           " * cyneuron's portable exp/log1p/tanh: the bits of\n"
           " * cyneuron.reference.feedforward under reference.numerics(\"portable\") on any\n"
           " * IEEE-754 machine (round-to-nearest,\n"
           " * subnormals kept), with any C99 compiler and flags (cc -O2, -std=c99, -march=native,\n"
           " * ...): contraction is off inside this header for gcc and clang, and the builds that\n"
           " * cannot give the bits (-ffast-math, a wider evaluation format) stop with an #error\n"
           " * that names the flag to add.  Other compilers: contraction off (-ffp-contract=off). */",
           f"#ifndef {guard}", f"#define {guard}", "",
           "#include <float.h>", "#include <stddef.h>", "#include <stdint.h>", "#include <string.h>",
           "", *_guards(name, T),
           "#ifndef CYNX_PORTABLE_FUNCS", "#define CYNX_PORTABLE_FUNCS",
           "#define CYNX_SEL(c, a, b) ((c) ? (a) : (b))",
           PORTABLE_C,
           "static inline double cynx_abs_f64(double x) { return cynx_fabs(x); }",
           "static inline float cynx_abs_f32(float x) {",
           "    uint32_t u; memcpy(&u, &x, sizeof u); u &= UINT32_C(0x7fffffff); memcpy(&x, &u, sizeof x);",
           "    return x;", "}",
           "#endif /* CYNX_PORTABLE_FUNCS */", "",
           f"#define {name.upper()}_N_INPUTS {sizes[0]}",
           f"#define {name.upper()}_N_OUTPUTS {sizes[-1]}", ""]
    for i, (W, b) in enumerate(weights, start=1):
        k, m = W.shape
        out.append(f"static const {T} {name}_W{i}[{k * m}] = {{  /* ({k}, {m}), row-major */")
        out.append(_literals(W, T))
        out.append("};")
        out.append(f"static const {T} {name}_b{i}[{m}] = {{")
        out.append(_literals(b, T))
        out.append("};")
    out += ["", f"static inline void {name}_predict(const {T} *x, {T} *y) {{",
            f"    {T} buf0[{width}], buf1[{width}], z[{width}];",
            f"    const {T} *in = x;", "    int j, k;",
            "    (void)buf0; (void)buf1;"]
    n_layers = len(sizes) - 1
    for i, act in enumerate(net.activations, start=1):
        k, m = sizes[i - 1], sizes[i]
        dst = "y" if i == n_layers else ("buf0" if i % 2 else "buf1")
        out.append(f"    /* layer {i}: {k} -> {m}, {act.name} */")
        out.append(f"    for (j = 0; j < {m}; j++) {{")
        out.append(f"        {T} s = {zero};")
        out.append(f"        for (k = 0; k < {k}; k++) s = s + in[k] * {name}_W{i}[k * {m} + j];")
        out.append(f"        z[j] = s + {name}_b{i}[j];")
        out.append("    }")
        out.append(_activation_c(act, m, T, dst, "z", dtype))
        out.append(f"    in = {dst};")
    out += ["    (void)in;", "}", "",
            f"static inline void {name}_predict_n(const {T} *X, {T} *Y, long n) {{",
            "    long i;",
            f"    for (i = 0; i < n; i++) {name}_predict(X + i * {sizes[0]}, Y + i * {sizes[-1]});",
            "}", "", *_RESTORE, "", f"#endif /* {guard} */", ""]
    _files.write_text(path, "\n".join(out), encoding="ascii")
