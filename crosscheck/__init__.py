"""The harness: everything that compares the engine (``manual``) with the
framework references (``references``) and with finite differences.

- ``tolerances``: the one table of how close two results must be, by dtype;
- ``compare``: rounding scales, comparisons, trajectory gaps, the drift bound;
- ``backends``: the engine, PyTorch and JAX behind one interface;
- ``examples``: the three seeds, with their printed claims;
- ``verify``: one net checked end to end; ``cli``: ``backprop-by-hand``;
- ``testing``: assertion helpers for pytest suites;
- ``check`` and ``steps``: anyone's hand-written backprop and training step
  against the same truths; ``diagnosis`` the rules a difference is explained by,
  ``mistakes`` the catalogue of classic mistakes; ``usercode`` runs the user's
  code guarded; ``layer_check`` one CS231n layer (``layer_kinds`` its kinds,
  ``layer_mistakes`` their catalogues); ``chain`` makemore's chain of
  intermediates; ``layouts`` the layouts people write their params, data and
  gradients in; ``seed_code`` the seeds' own code as such functions;
  ``drawing`` the net as a picture.
- ``walkthrough``, ``verify``, ``datasets``, ``study``: each command's computation
  and its report; ``cli`` parses, validates, calls and prints.
"""

from .chain import assert_chain_matches, check_chain
from .check import assert_backprop_matches, check
from .layer_check import assert_layer_matches, check_layer
from .layouts import Layout
from .steps import check_training
from .testing import assert_grads_close
from .tolerances import tolerance

__all__ = [
    "assert_backprop_matches",
    "assert_chain_matches",
    "assert_layer_matches",
    "check",
    "check_chain",
    "check_layer",
    "check_training",
    "Layout",
    "assert_grads_close",
    "tolerance",
]
