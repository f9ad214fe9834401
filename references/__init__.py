"""The same nets in PyTorch and JAX, each in its framework's idiom, as functions
of plain data: ``torch_ref`` and ``jax_ref`` each expose

    loss_and_grads(spec, params, x, y) -> (float, grads)
    forward(spec, params, x) -> (batch, n_out) array
    train(spec, params, x, y, optimizer, batches, record_every=None, progress=None) -> Run

spec: the net's description, ``{"sizes", "activations", "loss", "reduction",
"bias", "dtype"}`` (``manual.MLP.spec()`` returns one); params: one
``{"W": (n_in, n_out), "b": (n_out,)}`` dict per layer; optimizer: its
settings, ``{"name": "sgd" | "adam" | "adamw", ...}`` (``manual.SGD(...).config()``);
batches: the exact list of index arrays, one per step, that the caller chose.

Nothing here imports ``manual``: sharing its formulas, batch order or input
checks would let the references share its bugs. Importing this package imports
neither framework: ``from references import torch_ref`` loads torch (and
``jax_ref`` jax); without its framework the module still imports, and a call
raises ImportError naming the extra to install.
"""

from ._common import Run

BACKENDS = ("torch_ref", "jax_ref")

__all__ = ["Run", "BACKENDS"]
