"""Error in ulps of cyneuron's portable functions against mpmath (the oracle).

Shared by tests/test_portable.py and benchmarks/portable_accuracy.py.
"""
import numpy as np

# significand bits, smallest normal exponent, largest exponent + 1
FORMATS = {np.dtype(np.float64): (53, -1022, 1024), np.dtype(np.float32): (24, -126, 128)}


def exact(name, x):
    """The exact value of function `name` at the float `x` (mpmath, 160 bits), or None
    where the result is not a real number (NaN expected)."""
    import mpmath  # the [test] extra; only the accuracy checks need it
    with mpmath.workprec(160):
        v = mpmath.mpf(float(x))
        if name == "log" and v < 0 or name == "log1p" and v < -1:
            return None
        if name == "log" and v == 0 or name == "log1p" and v == -1:
            return mpmath.mpf("-inf")
        # Far outside the finite range the exact value only has to saturate:
        # keep mpmath from computing e**(1e300).
        if name == "exp" and abs(v) > 1000:
            return mpmath.mpf(2)**(4000 if v > 0 else -4000)
        if name == "tanh" and abs(v) > 100:
            v = mpmath.mpf(100) if v > 0 else mpmath.mpf(-100)
        return getattr(mpmath, name)(v)


NAMES = ("exp", "log", "log1p", "tanh")
# Where each function is worth sampling densely: its finite, non-trivial range.
USEFUL = {
    ("exp", np.dtype(np.float64)): (-746.0, 710.0), ("exp", np.dtype(np.float32)): (-104.0, 89.0),
    ("log", np.dtype(np.float64)): (0.0, 16.0), ("log", np.dtype(np.float32)): (0.0, 16.0),
    ("log1p", np.dtype(np.float64)): (-1.0, 16.0), ("log1p", np.dtype(np.float32)): (-1.0, 16.0),
    ("tanh", np.dtype(np.float64)): (-23.0, 23.0), ("tanh", np.dtype(np.float32)): (-10.0, 10.0),
}


def edge_cases(dtype):
    """Zeros, subnormals, the extremes, inf, NaN, and the thresholds of every
    function (overflow, underflow, the branch points of the algorithms) with
    their neighbours, as an array of `dtype`."""
    dt = np.dtype(dtype)
    fi = np.finfo(dt)
    base = [0.0, 1.0, 2.0, 0.5, 1e-300, 1e-30, 1e-10, 1e-5, 0.1, 0.3, 0.75, 3.0, 10.0, 100.0, 1e5,
            1e30, 1e300, np.log(2) / 2, np.log(2), np.sqrt(2), np.sqrt(0.5), 0.55, 22.0, 0.5199,
            2.0**-28, 2.0**-53, 2.0**-54, 2.0**-52,
            709.782712893384, 709.7827128933841, 710.0, 745.1332191019411, 745.1332191019412,
            708.3964185322641, 746.0, 88.72283, 88.72284, 89.0, 103.97208, 103.97209, 87.33655,
            104.0, 9.01, 50.0]
    with np.errstate(over="ignore"):
        vals = np.array(base, dtype=np.float64).astype(dt)
    special = np.array([fi.max, fi.tiny, fi.smallest_subnormal, fi.tiny * 0.5, fi.eps,
                        np.inf, np.nan], dtype=dt)
    vals = np.concatenate([vals, special])
    with np.errstate(over="ignore"):
        vals = np.concatenate([vals, np.nextafter(vals, dt.type(np.inf)), np.nextafter(vals, dt.type(0))])
    return np.concatenate([vals, -vals])


def random_inputs(name, dtype, n, rng):
    """`n` inputs of `dtype` for function `name`: a third uniform in the useful
    range, a third log-uniform over the whole exponent range (both signs), a
    third random bit patterns (NaN and inf included)."""
    dt = np.dtype(dtype)
    k = n // 3
    lo, hi = USEFUL[(name, dt)]
    uni = rng.uniform(lo, hi, k)
    fi = np.finfo(dt)
    e = rng.uniform(np.log2(fi.smallest_subnormal), np.log2(fi.max), k)
    logu = np.exp2(e) * rng.choice([-1.0, 1.0], k)
    with np.errstate(over="ignore"):
        parts = [uni.astype(dt), logu.astype(dt)]
    if dt == np.float64:
        parts.append(rng.integers(0, 2**64, n - 2 * k, dtype=np.uint64, endpoint=False).view(dt))
    else:
        parts.append(rng.integers(0, 2**32, n - 2 * k, dtype=np.uint32, endpoint=False).view(dt))
    return np.concatenate(parts)


def ulp_error(name, x, y, dtype):
    """|y - f(x)| in units in the last place of f(x) in `dtype` (inf counts as
    2**emax, the first value past the largest finite one); 0 when both are
    the same special value, inf when y is plainly wrong (NaN for a real result)."""
    import mpmath
    p, emin, emax = FORMATS[np.dtype(dtype)]
    y = float(y)
    if x != x:                                  # NaN in, NaN out
        return 0.0 if y != y else float("inf")
    v = exact(name, x)
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
