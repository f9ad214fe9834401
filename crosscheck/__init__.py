"""The harness: everything that compares the engine (``manual``) with the
framework references (``references``) and with finite differences.

- ``tolerances``: the one table of how close two results must be, by dtype;
- ``compare``: rounding scales, comparisons, trajectory gaps, the drift bound;
- ``backends``: the engine, PyTorch and JAX behind one interface;
- ``examples``: the three seeds, with their printed claims;
- ``verify``: one net checked end to end; ``cli``: ``backprop-by-hand``;
- ``testing``: assertion helpers for pytest suites;
- ``check``: anyone's hand-written backprop against the same truths, and the
  classic mistake (``mistakes``) that explains a difference; ``layouts`` the
  layouts people write their params, data and gradients in; ``seed_code`` the
  seeds' own code as such functions; ``drawing`` the net as a picture.
"""

from .check import assert_backprop_matches, check, check_training
from .layouts import Layout
from .testing import assert_grads_close
from .tolerances import tolerance

__all__ = ["assert_backprop_matches", "check", "check_training", "Layout", "assert_grads_close", "tolerance"]
