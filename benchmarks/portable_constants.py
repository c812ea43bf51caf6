"""Derive the constants of cyneuron's portable transcendental functions.

Run ``python benchmarks/portable_constants.py``: it prints every constant of
``csrc/cyn_portable.h`` and ``cyneuron._portable_reference`` as a C99/Python hex
float, with the approximation error of each polynomial on its interval, so that
anyone can check where the numbers come from.

How they are made (mpmath at 200 bits, then one rounding to binary64):

- ``LN2HI`` is ln 2 rounded to 42 significant bits, so that ``k * LN2HI`` is
  exact for every integer ``|k| < 2**11``; ``LN2LO`` is ``ln 2 - LN2HI`` rounded.
- The polynomials are Chebyshev interpolants (``mpmath.chebyfit``, near-minimax)
  of the smooth remainder each algorithm needs, on the interval its argument
  reduction leaves, with the degree chosen so that the approximation error is
  far below half an ulp of the final result:

  exp    (e**r - 1 - r) / r**2             on |r| <= 0.35     (ln 2 / 2 = 0.3466)
  log    (2 atanh(s) / s - 2) / s**2 as a
         polynomial in w = s**2            on 0 <= w <= (3 - 2 sqrt 2)**2
  tanh   (tanh(x) / x - 1) / x**2 as a
         polynomial in w = x**2            on 0 <= w <= 0.55**2
"""
import mpmath as mp

mp.mp.prec = 200
LN2 = mp.log(2)


def hexf(v):
    """The binary64 nearest to ``v`` as a hex float literal."""
    return float(v).hex()


def series(terms):
    return lambda t: mp.fsum(terms(t))


def fit(f, a, b, degree):
    coeffs, err = mp.chebyfit(f, [a, b], degree + 1, error=True)
    return [float(c) for c in reversed(coeffs)], err   # lowest degree first


def derive():
    out = {}
    hi = mp.nint(LN2 * 2**42) / 2**42
    out["LN2HI"] = float(hi)
    out["LN2LO"] = float(LN2 - hi)
    out["INVLN2"] = float(1 / LN2)
    out["SQRT2"] = float(mp.sqrt(2))
    # exp: P(r) = sum r**n / (n + 2)!, the remainder after 1 + r, divided by r**2.
    pexp = series(lambda r: (r**n / mp.factorial(n + 2) for n in range(40)))
    out["EXP_P"], out["EXP_P_err"] = fit(pexp, -0.35, 0.35, 10)
    # log: 2 atanh(s) = 2 s + s * w * Q(w) with Q(w) = sum 2 w**(n-1) / (2n + 1).
    qlog = series(lambda w: (2 * w**(n - 1) / (2 * n + 1) for n in range(1, 60)))
    wmax = (3 - 2 * mp.sqrt(2))**2 * mp.mpf("1.0001")
    out["LOG_Q"], out["LOG_Q_err"] = fit(qlog, 0, wmax, 7)
    # tanh: tanh(x) = x + x * w * G(w), w = x**2, from the Taylor series of
    # tanh (Bernoulli numbers) at small w, the closed form elsewhere.

    def gtanh(w):
        if w < mp.mpf(2)**-40:
            return mp.fsum(2**(2 * n) * (2**(2 * n) - 1) * mp.bernoulli(2 * n)
                           / mp.factorial(2 * n) * w**(n - 2) for n in range(2, 12))
        x = mp.sqrt(w)
        return (mp.tanh(x) / x - 1) / w
    out["TANH_G"], out["TANH_G_err"] = fit(gtanh, 0, mp.mpf("0.55")**2 * mp.mpf("1.001"), 10)
    return out


if __name__ == "__main__":
    c = derive()
    for name in ("LN2HI", "LN2LO", "INVLN2", "SQRT2"):
        print(f"{name:8s} = {hexf(c[name])}  # {c[name]!r}")
    for name in ("EXP_P", "LOG_Q", "TANH_G"):
        print(f"{name}: approximation error {mp.nstr(c[name + '_err'], 3)}")
        for i, v in enumerate(c[name]):
            print(f"    {name}{i:<2d} = {v.hex()}  # {v!r}")
