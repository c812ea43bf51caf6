"""cyneuron's portable transcendental functions as plain NumPy: the executable spec.

``exp``, ``log``, ``log1p`` and ``tanh`` for float64 and float32 arrays, each a
fixed sequence of IEEE-754 operations: NumPy's elementwise ``+ - * /``
(correctly rounded on every platform), comparisons, ``np.where`` selects and
integer operations on the bits of the floats (exponent extraction, building
``2**k``).  No ``np.exp``/``np.log``/``np.tanh``: their results depend on the
CPU and the NumPy version, these do not.

``csrc/cyn_portable.h`` performs the same operations in the same order, so the
compiled functions (``cyneuron._portable``) and these agree bit for bit, on
every machine that implements binary64 with round-to-nearest and subnormals.
float32 is computed in binary64 and rounded once.  The algorithms and the
derivation of the constants are described in the header and in
``benchmarks/portable_constants.py``; the measured accuracy (below 1 ulp) is in
the documentation (``docs/portable.rst``).

NaN inputs come back as ``x + x`` (the input NaN, quieted); invalid arguments
(``log`` of a negative number, ``log1p`` below -1) give the quiet NaN
``0x7ff8000000000000``.
"""
import numpy as np

__all__ = ["exp", "log", "log1p", "tanh"]

_f = float.fromhex
_U = np.uint64

MAGIC = _f("0x1.8p52")              # x + MAGIC - MAGIC rounds x to an integer
MAGIC_BITS = _U(0x4338000000000000)
MAGIC_1023 = MAGIC + 1023.0         # exact
LN2HI = _f("0x1.62e42fefa3800p-1")  # ln 2 to 42 bits: k * LN2HI exact for |k| < 2**11
LN2LO = _f("0x1.ef35793c76730p-45")
INVLN2 = _f("0x1.71547652b82fep+0")
SQRT2 = _f("0x1.6a09e667f3bcdp+0")
SPLIT = _f("0x1.0000002p27")        # 2**27 + 1, Veltkamp splitting
DBL_MAX = _f("0x1.fffffffffffffp1023")
INF = float("inf")
NAN_BITS = _U(0x7ff8000000000000)

# Polynomial coefficients, lowest degree first (see benchmarks/portable_constants.py).
EXP_P = [_f(h) for h in (
    "0x1.0000000000000p-1", "0x1.5555555555557p-3", "0x1.5555555555556p-5",
    "0x1.111111110ff8bp-7", "0x1.6c16c16c16214p-10", "0x1.a01a01ac9de9ep-13",
    "0x1.a01a01a74077ap-16", "0x1.71ddfff6573d6p-19", "0x1.27e4da1e12fb1p-22",
    "0x1.af5282aacdb2ep-26", "0x1.1f75a3caadff5p-29")]
LOG_Q = [_f(h) for h in (
    "0x1.5555555555555p-1", "0x1.9999999999a38p-2", "0x1.2492492476c87p-2",
    "0x1.c71c720160b47p-3", "0x1.745cf901605f7p-3", "0x1.3b1c360763b8ap-3",
    "0x1.0fbe83c2cbcf3p-3", "0x1.0c04595972ab8p-3")]
TANH_G = [_f(h) for h in (
    "-0x1.5555555555555p-2", "0x1.1111111111030p-3", "-0x1.ba1ba1b9fe8a1p-5",
    "0x1.664f4876fd0d1p-6", "-0x1.226e32ec0ef6ap-7", "0x1.d6d33860c95aap-9",
    "-0x1.7d97c2add0641p-10", "0x1.34c5272f2c133p-11", "-0x1.ec0a900d5815dp-13",
    "0x1.64e9db7df7707p-14", "-0x1.59718922d52fap-16")]


def _bits(x):
    return x.view(np.uint64)


def _double(u):
    return u.view(np.float64)


def _pow2(magic_plus_n):
    """2**n from the bits of MAGIC + n, n an integer in [-1022, 1023]."""
    return _double(np.left_shift(magic_plus_n - MAGIC_BITS + _U(1023), _U(52)))


def _estrin11(c, r):
    """c[0] + c[1] r + ... + c[10] r**10 in Estrin's order (as the C)."""
    r2 = r * r
    r4 = r2 * r2
    r8 = r4 * r4
    q0 = (c[0] + c[1] * r) + (c[2] + c[3] * r) * r2
    q1 = (c[4] + c[5] * r) + (c[6] + c[7] * r) * r2
    q2 = (c[8] + c[9] * r) + c[10] * r2
    return (q0 + q1 * r4) + q2 * r8


def _estrin8(c, w):
    """c[0] + c[1] w + ... + c[7] w**7 in Estrin's order (as the C)."""
    w2 = w * w
    w4 = w2 * w2
    return ((c[0] + c[1] * w) + (c[2] + c[3] * w) * w2) + ((c[4] + c[5] * w) + (c[6] + c[7] * w) * w2) * w4


def _exp64(x):
    xc = np.where(x > 710.0, 710.0, x)        # k stays in [-1077, 1025]; NaN passes
    xc = np.where(xc < -746.0, -746.0, xc)
    t = xc * INVLN2 + MAGIC
    kd = t - MAGIC                            # k = nearest integer to x / ln 2
    t1 = kd * 0.5 + MAGIC                     # k1 = k / 2 rounded
    t2 = (kd - (t1 - MAGIC)) + MAGIC          # k2 = k - k1
    hi = xc - kd * LN2HI                      # exact
    lo = kd * LN2LO
    r = hi - lo
    tail = (r * r) * _estrin11(EXP_P, r)
    y = 1.0 + (hi - (lo - tail))
    y = (y * _pow2(_bits(t1))) * _pow2(_bits(t2))   # exact, then exact or one rounding
    return np.where(x != x, x + x, y)


def _log_core(u, eadj, c):
    """log(u) + c for positive normal u; eadj is added to the exponent."""
    b = _bits(u)
    m = _double(np.bitwise_or(np.bitwise_and(b, _U(0x000fffffffffffff)), _U(0x3ff0000000000000)))
    e = _double(np.right_shift(b, _U(52)) + MAGIC_BITS) - MAGIC_1023
    big = m > SQRT2
    m = np.where(big, m * 0.5, m)
    e = np.where(big, e + 1.0, e) + eadj
    f = m - 1.0                               # exact
    s = f / (2.0 + f)
    w = s * s
    R = w * _estrin8(LOG_Q, w)
    hfsq = (0.5 * f) * f
    return e * LN2HI - ((hfsq - (s * (hfsq + R) + (e * LN2LO + c))) - f)


def _log64(x):
    sub = x < _f("0x1p-1022")
    u = np.where(sub, x * _f("0x1p54"), x)
    y = _log_core(u, np.where(sub, -54.0, 0.0), 0.0)
    y = np.where(x > DBL_MAX, x, y)
    y = np.where(x == 0.0, -INF, y)
    y = np.where(x < 0.0, _double(np.full(x.shape, NAN_BITS)), y)
    return np.where(x != x, x + x, y)


def _log1p64(x):
    u = 1.0 + x
    c = np.where(x > 1.0, 1.0 - (u - x), x - (u - 1.0))   # Fast2Sum error of 1 + x
    y = _log_core(u, 0.0, c / u)
    y = np.where(np.abs(x) < _f("0x1p-53"), x, y)
    y = np.where(x > DBL_MAX, x, y)
    y = np.where(x == -1.0, -INF, y)
    y = np.where(x < -1.0, _double(np.full(x.shape, NAN_BITS)), y)
    return np.where(x != x, x + x, y)


def _tanh64(x):
    a = np.abs(x)
    w = a * a
    ysmall = a + a * (w * _estrin11(TANH_G, w))
    ac = np.where(a > 22.0, 22.0, a)
    ac = np.where(ac < 0.5, 0.5, ac)
    z = ac + ac
    t = z * INVLN2 + MAGIC
    kd = t - MAGIC
    hi = z - kd * LN2HI
    lo = kd * LN2LO
    r = hi - lo
    rl = (hi - r) - lo
    tail = (r * r) * _estrin11(EXP_P, r)
    qh = r + tail                             # TwoSum(r, tail)
    bb = qh - r
    ql = (r - (qh - bb)) + (tail - bb)
    ql = ql + (rl + r * rl)
    S = _pow2(_bits(t))                       # 2**k
    A = S - 1.0
    B = S * qh
    Eh = A + B                                # TwoSum(A, B): E = Eh + El = e**z - 1
    b2 = Eh - A
    El = ((A - (Eh - b2)) + (B - b2)) + S * ql
    Dh = 2.0 + Eh                             # TwoSum(2, Eh): D = E + 2
    b3 = Dh - 2.0
    Dl = ((2.0 - (Dh - b3)) + (Eh - b3)) + El
    th = Eh / Dh
    p = th * Dh                               # Dekker: p + perr = th * Dh exactly
    c1 = SPLIT * th
    thh = c1 - (c1 - th)
    thl = th - thh
    c2 = SPLIT * Dh
    dhh = c2 - (c2 - Dh)
    dhl = Dh - dhh
    perr = ((thh * dhh - p) + thh * dhl + thl * dhh) + thl * dhl
    resid = (((Eh - p) - perr) + El) - th * Dl
    ylarge = th + resid / Dh
    y = np.where(a < 0.55, ysmall, ylarge)
    y = _double(np.bitwise_or(_bits(y), np.bitwise_and(_bits(x), _U(0x8000000000000000))))
    return np.where(x != x, x + x, y)


def _apply(kernel, x, name):
    arr = np.asarray(x)
    if arr.dtype not in (np.float64, np.float32):
        raise TypeError(f"{name}: x must be a float64 or float32 array, got dtype {arr.dtype}")
    # The unused side of every select may overflow, and the float32 rounding
    # of a float64 result may overflow or carry a NaN: no warnings for either.
    with np.errstate(all="ignore"):
        y = kernel(np.ascontiguousarray(arr, dtype=np.float64).reshape(-1))
        return y.astype(arr.dtype).reshape(arr.shape)


def exp(x):
    """Portable ``e**x``, elementwise.

    Parameters
    ----------
    x : ndarray of float64 or float32
        Any shape.

    Returns
    -------
    ndarray
        A new array of the dtype and shape of `x`, bit for bit equal to
        ``cyneuron._portable.exp(x)``.
    """
    return _apply(_exp64, x, "exp")


def log(x):
    """Portable natural logarithm, elementwise (see `exp` for the parameters)."""
    return _apply(_log64, x, "log")


def log1p(x):
    """Portable ``log(1 + x)``, elementwise (see `exp` for the parameters)."""
    return _apply(_log1p64, x, "log1p")


def tanh(x):
    """Portable hyperbolic tangent, elementwise (see `exp` for the parameters)."""
    return _apply(_tanh64, x, "tanh")
