"""Error in ulps of cyneuron's portable functions against mpmath (the oracle).

Shared by tests/test_portable_math.py and benchmarks/portable_accuracy.py.
"""
import mpmath
import numpy as np

FUNCS = {"exp": mpmath.exp, "log": mpmath.log, "log1p": mpmath.log1p, "tanh": mpmath.tanh}
# significand bits, smallest normal exponent, largest exponent + 1
FORMATS = {np.dtype(np.float64): (53, -1022, 1024), np.dtype(np.float32): (24, -126, 128)}


def exact(name, x):
    """The exact value of function `name` at the float `x` (mpmath, 160 bits), or None
    where the result is not a real number (NaN expected)."""
    with mpmath.workprec(160):
        v = mpmath.mpf(float(x))
        if name == "log" and v < 0 or name == "log1p" and v < -1:
            return None
        if name == "log" and v == 0 or name == "log1p" and v == -1:
            return mpmath.mpf("-inf")
        return FUNCS[name](v)


def ulp_error(name, x, y, dtype):
    """|y - f(x)| in units in the last place of f(x) in `dtype` (inf counts as
    2**emax, the first value past the largest finite one); 0 when both are
    the same special value, inf when y is plainly wrong (NaN for a real result)."""
    p, emin, emax = FORMATS[np.dtype(dtype)]
    v = exact(name, x)
    y = float(y)
    if v is None:
        return 0.0 if y != y else float("inf")
    if y != y:
        return float("inf")
    with mpmath.workprec(160):
        if mpmath.isinf(v):
            return 0.0 if y == float(v) else float("inf")
        if v == 0:
            return 0.0 if y == 0 else float("inf")
        yv = mpmath.mpf(y) if abs(y) != float("inf") else mpmath.mpf(2)**emax * (1 if y > 0 else -1)
        big = mpmath.mpf(2)**emax               # beyond it the result saturates to inf
        if abs(v) > big:
            v = big if v > 0 else -big
        _, e = mpmath.frexp(v)                 # |v| in [2**(e-1), 2**e)
        ulp = mpmath.mpf(2)**(max(int(e) - 1, emin) - (p - 1))
        return float(abs(yv - v) / ulp)
