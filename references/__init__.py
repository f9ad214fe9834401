"""The same nets in PyTorch and JAX, each in its framework's idiom, and in
scikit-learn's MLP (the nets it expresses), as functions of plain data:
``torch_ref``, ``jax_ref`` and ``sklearn_ref`` each expose

    loss_and_grads(spec, params, x, y) -> (float, grads)
    forward(spec, params, x) -> (batch, n_out) array
    train(spec, params, x, y, optimizer, batches, record_every=None, progress=None) -> Run

spec: the net's description, ``{"sizes", "activations", "loss", "reduction",
"bias", "dtype", "l2"}`` (``manual.MLP.spec()`` returns one; ``l2`` may be left out); params: one
``{"W": (n_in, n_out), "b": (n_out,)}`` dict per layer; optimizer: its
settings, ``{"name": "sgd" | "adam" | "adamw", ...}`` (``manual.SGD(...).config()``);
batches: the exact list of index arrays, one per step, that the caller chose.

Nothing here imports ``manual``: sharing its formulas, batch order or input
checks would let the references share its bugs. Importing this package, or
one of its modules, imports no framework: each module loads its own on first
use; without it, a call raises ImportError naming the extra to install.
"""

from ._common import Run

BACKENDS = ("torch_ref", "jax_ref")

__all__ = ["Run", "BACKENDS"]
