"""PyTorch and JAX versions of ``manual``'s nets, each in its framework's idiom.

Each backend module exposes the same functions as ``manual``:
``loss_and_grads(net, x, y) -> (float, grads)`` (and, later, ``train``).
They read the net's architecture and ``net.params`` and never mutate them.
Importing this package never imports torch or jax: a backend whose framework
is missing raises ImportError, naming the extra to install, when called.
"""

from . import jax_ref, torch_ref

BACKENDS = ("manual", "torch_ref", "jax_ref")

__all__ = ["torch_ref", "jax_ref", "BACKENDS"]
