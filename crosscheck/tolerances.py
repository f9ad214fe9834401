"""How close two results must be, by check and dtype: the one table.

Each entry has its derivation; the error measures they apply to are in
``crosscheck.compare``. docs/agreement.md has the measurements behind them.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    reason: str


EPS = {
    np.dtype(np.float32): float(np.finfo(np.float32).eps),
    np.dtype(np.float64): float(np.finfo(np.float64).eps),
}

TOLERANCES = {}  # filled below: (check, dtype name) -> Tolerance


def tolerance(check, dtype):
    """The tolerance for ``check`` (a key of the table) at ``dtype``."""
    return TOLERANCES[(check, np.dtype(dtype).name)]


def _add(check, dtype, rtol, reason):
    TOLERANCES[(check, dtype)] = Tolerance(rtol, reason)


# parity: two implementations of the same math, summed in other orders. An
# entry is a sum over the batch (up to 100,000 samples, the largest the README
# names) and a width (up to 4,096) of products, through up to 4 layers. Every
# backend sums in blocks or pairwise (BLAS, np.dot, torch, XLA), so the longest
# chain of dependent roundings in a sum stays near a block's length, ~128,
# however many terms: its error is a random walk of ~sqrt(128) eps relative
# to the entry's rounding scale (the summed magnitude of its terms). Depth 4,
# and 16x for growth through the activations and for both sides' errors.
# Measured worst: 1.9e-15 (float64) and 4.2e-7 (float32) over the parity
# matrix, 38 eps at batch 100,000 in float32 (torch's matrix-vector product).
for _name in ("float64", "float32"):
    _eps = EPS[np.dtype(_name)]
    _add(
        "parity",
        _name,
        16 * _eps * 4 * np.sqrt(128),
        f"16 * eps({_name}) * depth 4 * sqrt(128): blocked and pairwise sums keep each chain of "
        f"roundings ~128 long, at any batch up to 100,000",
    )

# finite differences (manual.gradcheck's rtol), always in float64 with eps = 1e-6:
# the quotient's truncation error is ~eps**2 |L'''| / 6, 1e-12 relative for
# O(1) third derivatives; 1e-6 leaves room for nets whose third derivative
# is a million times the first. The loss's rounding over the step is added
# per entry (gradcheck's atol).
_add(
    "finite_differences",
    "float64",
    1e-6,
    "central differences with eps=1e-6: truncation eps**2 |L'''| ~ 1e-12, with 1e6 room for curvature",
)

# training trajectories in float64: every step adds rounding of ~1e-16 relative,
# which the dynamics amplify by their sensitivity; over 1,000 steps the
# harness's runs reach 9e-11 (SGD with Nesterov momentum on shuffled
# mini-batches is the most sensitive). 1e-9 is the bound the project promises.
_add(
    "trajectory",
    "float64",
    1e-9,
    "1,000 steps of ~1e-16 rounding, amplified by the dynamics: up to 9e-11 seen, 1e-9 promised",
)

# a mistake of the catalogue explains a user's gradient when the two differ by
# less than the parity checks are built to detect: every compared array reveals
# a relative error of 1e-6 (float64) or 1e-3 (float32) (tests/test_parity.py),
# so closer than that, norm-wise, they are the same gradient to this harness.
# Different mistakes part by far more (a factor sigma' <= 1/4, 2, -1, the batch).
_add(
    "mistake_match",
    "float64",
    1e-6,
    "what every parity comparison detects in float64: closer is the same gradient",
)
_add(
    "mistake_match",
    "float32",
    1e-3,
    "what every parity comparison detects in float32: closer is the same gradient",
)

# the loss a user reports: the guards people write into a loss, log(a + ε) or a
# clip to [ε, 1 − ε] with ε from 1e-12 to 1e-7 (Keras' default epsilon), move each
# term by ~ε/a, at most 1e-6 relative for outputs a >= 0.1. A loss closer than that
# to the truth, beyond its rounding, is reported with its size as a note, not failed.
for _name in ("float64", "float32"):
    _add(
        "loss_guard",
        _name,
        1e-6,
        "what log(a + ε) or a clip with ε <= 1e-7 moves a loss by, for outputs >= 0.1: a note, not a failure",
    )

# a layer (or a Sequential of layers) against a framework: each entry is allowed 4 u
# times its running error bound e (crosscheck.rounding: the first-order bound, in
# units of the unit roundoff u, of a correct implementation of the layer's textbook
# equations). 2 for the two implementations' errors, 2 for what the first order
# leaves out and for the other correct algorithms a framework may use instead
# (Welford's variance, fused multiply-adds, another association of a sum).
for _name in ("float64", "float32"):
    _add(
        "layer_parity",
        _name,
        4 * EPS[np.dtype(_name)] / 2,
        "4 u times each entry's running error bound: both sides, and room for other correct algorithms",
    )
