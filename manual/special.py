"""The error function, which NumPy lacks, for the exact GELU: Φ(z) = ½ erfc(−z/√2).

erf is computed from two Chebyshev series, each accurate to the last bit of
float64 on its range (measured: at most 2 ulps against ``math.erf`` over
[−7, 7] and relative 2.2e-16 near 0):

    |x| < 1        erf(x) = x · P(2x² − 1),          P = Σ SMALL[k] Tₖ, the series of erf(x)/x in x²
    1 <= |x| < 6   erfc(x) = exp(−x²) · Q(s),         Q = Σ LARGE[k] Tₖ, the series of exp(x²) erfc(x)
                                                      in u = 1/x, s = (2u − 7/6) / (5/6)
    |x| >= 6       erf(x) = ±1                        (erfc(6) = 2.2e-17, below float64's half ulp of 1)

The coefficients are those of Chebyshev interpolation at the points of the
first kind, computed once in 80-digit decimal arithmetic from erf's Taylor
series and rounded to float64 (tests/test_special.py computes them again and
compares every bit). Each series is summed by Clenshaw's recurrence, in place.
"""

import math

import numpy as np

SMALL = (
    0.9754769393826541,
    -0.14226120510371365,
    0.010035582187599796,
    -0.0005768764699767485,
    2.741993125219606e-05,
    -1.1043175507344507e-06,
    3.8488755420345036e-08,
    -1.1808582533875466e-09,
    3.2334215826050907e-11,
    -7.991015947004549e-13,
    1.7990725113961456e-14,
    -3.718635487818693e-16,
    7.103599003714253e-18,
    -1.2612455119155226e-19,
)
LARGE = (
    0.27477468589795284,
    0.16699329119310397,
    -0.014778434908201299,
    0.0004607660043734876,
    0.0001765796783540858,
    -5.026984064246909e-05,
    7.4270133556075315e-06,
    -3.5188112192476504e-07,
    -1.715011288591872e-07,
    6.706623053010447e-08,
    -1.4316589264944168e-08,
    1.7595567908537462e-09,
    7.452123864183722e-11,
    -1.154378423893288e-10,
    3.887349419745945e-11,
    -8.504873132252811e-12,
    1.127231358621847e-12,
    4.3281674986669186e-14,
    -8.422061090702112e-14,
    3.200374931249442e-14,
    -8.147174450340453e-15,
    1.4280653655917681e-15,
    -8.800578973457622e-17,
    -5.554056327372673e-17,
    3.036629938061784e-17,
    -9.766794595931738e-18,
)
SMALL_RANGE = 1.0
LARGE_RANGE = 6.0
SQRT_HALF = math.sqrt(0.5)
INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def chebyshev(s, coefficients):
    """Σ cₖ Tₖ(s) for s in [−1, 1], by Clenshaw's recurrence."""
    b1 = np.zeros_like(s)
    b2 = np.zeros_like(s)
    twice = 2 * s
    for c in coefficients[:0:-1]:
        # b_k = 2 s b_{k+1} − b_{k+2} + c_k, written over b_{k+2}, which is not needed again
        b2 *= -1
        b2 += twice * b1
        b2 += c
        b1, b2 = b2, b1
    return s * b1 - b2 + coefficients[0]


# erf works through blocks of this many elements: its ~80 passes then stay in cache (2x at 4M elements)
BLOCK = 1 << 16


def erf(x):
    """erf(x), elementwise, in x's float dtype (computed in float64)."""
    x = np.asarray(x)
    if x.size <= BLOCK:
        return _erf(x)
    flat = x.reshape(-1)
    out = np.empty_like(flat)
    for start in range(0, flat.size, BLOCK):
        out[start : start + BLOCK] = _erf(flat[start : start + BLOCK])
    return out.reshape(x.shape)


def _erf(x):
    a = np.abs(x.astype(np.float64, copy=False))
    out = np.ones_like(a)
    small = a < SMALL_RANGE
    if small.any():
        t = a[small]
        out[small] = t * chebyshev(2 * t * t - 1, SMALL)
    mid = ~small & (a < LARGE_RANGE)
    if mid.any():
        t = a[mid]
        out[mid] = 1 - np.exp(-t * t) * chebyshev(
            (2 / t - (1 + 1 / LARGE_RANGE)) / (1 - 1 / LARGE_RANGE), LARGE
        )
    return np.copysign(out, x).astype(x.dtype, copy=False)


def normal_cdf(z):
    """Φ(z) = ½ (1 + erf(z / √2)), the standard normal's distribution function."""
    return 0.5 * (1 + erf(np.asarray(z) * SQRT_HALF))
