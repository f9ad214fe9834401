"""The harness: everything that compares the engine (``manual``) with the
framework references (``references``) and with finite differences.

- ``tolerances``: the one table of how close two results must be, by dtype;
- ``compare``: rounding scales, comparisons, trajectory gaps, the drift bound;
- ``backends``: the engine, PyTorch and JAX behind one interface;
- ``examples``: the three seeds, with their printed claims;
- ``verify``: one net checked end to end; ``cli``: ``backprop-by-hand``;
- ``testing``: assertion helpers for pytest suites.
"""

from .testing import assert_grads_close
from .tolerances import tolerance

__all__ = ["assert_grads_close", "tolerance"]
