"""How close two results must be, by check and dtype: the one table.

Each entry has a reason; the error measures they apply to are in
``manual.compare``.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    reason: str


EPS = {np.dtype(np.float32): float(np.finfo(np.float32).eps), np.dtype(np.float64): float(np.finfo(np.float64).eps)}

TOLERANCES = {}  # filled below: (check, dtype name) -> Tolerance


def tolerance(check, dtype):
    """The tolerance for ``check`` (a key of the table) at ``dtype``."""
    return TOLERANCES[(check, np.dtype(dtype).name)]


def _add(check, dtype, rtol, reason):
    TOLERANCES[(check, dtype)] = Tolerance(rtol, reason)


# parity: the engine against PyTorch and JAX, the same math in another order.
# Each gradient entry is a sum of up to 128 products (the batch; widths are
# <= 64) per layer, through up to 4 layers: its rounding error is of order
# eps * depth * sqrt(terms). rtol = 16 eps * 4 * sqrt(128) leaves 16x for
# growth through the activations. The error is relative to each entry's
# rounding scale (rounding_scale), so entries that cancel are judged fairly.
for _name in ("float64", "float32"):
    _eps = EPS[np.dtype(_name)]
    _add("parity", _name, 16 * _eps * 4 * np.sqrt(128),
         f"16 * eps({_name}) * depth 4 * sqrt(batch 128): rounding of the longest sums through the deepest net")

# finite differences (manual.gradcheck), always in float64 with eps = 1e-6:
# the quotient's truncation error is ~eps**2 |L'''| / 6, 1e-12 relative for
# O(1) third derivatives; 1e-6 leaves room for nets whose third derivative
# is a million times the first. The loss's rounding over the step and the
# analytic gradient's own rounding are added per entry (see gradcheck).
_add("finite_differences", "float64", 1e-6,
     "central differences with eps=1e-6: truncation eps**2 |L\'\'\'| ~ 1e-12, with 1e6 room for curvature")

# training trajectories in float64: every step adds rounding of ~1e-16 relative,
# which the dynamics amplify by their sensitivity; over 1,000 steps the
# harness's runs reach 9e-11 (SGD with Nesterov momentum on shuffled
# mini-batches is the most sensitive). 1e-9 is the bound the project promises.
_add("trajectory", "float64", 1e-9,
     "1,000 steps of ~1e-16 rounding, amplified by the dynamics: up to 9e-11 seen, 1e-9 promised")
