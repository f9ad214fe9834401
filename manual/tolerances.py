"""How close two gradients must be, by comparison and dtype: the one table.

Errors are measured per parameter array, norm-wise: ``max_abs`` is the
largest elementwise difference and ``max_rel`` that divided by the largest
magnitude of the expected array, so one gradient entry that is nearly zero
(by cancellation in its sum) is judged against the array's scale rather than
its own. A comparison passes when ``max_rel <= rtol`` or, for arrays whose
entries are all tiny, ``max_abs <= atol``.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float
    reason: str

    def accepts(self, max_abs, max_rel):
        return max_rel <= self.rtol or max_abs <= self.atol


EPS = {np.dtype(np.float32): float(np.finfo(np.float32).eps), np.dtype(np.float64): float(np.finfo(np.float64).eps)}

TOLERANCES = {}  # filled below: (check, dtype name) -> Tolerance


def tolerance(check, dtype):
    """The tolerance for ``check`` (a key of the table) at ``dtype``."""
    return TOLERANCES[(check, np.dtype(dtype).name)]


def max_errors(actual, expected):
    """(max_abs, max_rel) between two arrays, computed in float64."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise ValueError(f"shapes differ: {actual.shape} vs {expected.shape}")
    if actual.size == 0:
        return 0.0, 0.0
    max_abs = float(np.max(np.abs(actual - expected)))
    scale = float(np.max(np.abs(expected)))
    if max_abs == 0.0:
        return 0.0, 0.0
    if not np.isfinite(max_abs):
        return float("inf"), float("inf")
    return max_abs, (max_abs / scale if scale > 0 else float("inf"))


def _add(check, dtype, rtol, atol, reason):
    TOLERANCES[(check, dtype)] = Tolerance(rtol, atol, reason)


# gradcheck: analytic gradient vs central differences (taken in float64, eps=1e-6).
# The difference quotient's own error is ~eps**2 |L'''| (truncation, 1e-12) plus
# ulp(L)/eps (rounding, ~1e-10 |L|): 1e-6 relative leaves 100x headroom over it.
_add("gradcheck", "float64", 1e-6, 1e-9,
     "central differences in float64 with eps=1e-6 are good to ~1e-10 |L|; 1e-6 leaves 100x room")
# A float32 analytic gradient carries its own rounding, ~eps32 (1.2e-7) per
# operation times the depth and the length of the batch sums: 1e-4 covers a
# 4-layer net on a batch of 128 (1.2e-7 * 4 * sqrt(128) * 16 ~ 9e-5).
_add("gradcheck", "float32", 1e-4, 1e-6,
     "float32 analytic gradient: eps32 * depth(4) * sqrt(batch 128) * 16 ~ 9e-5")
