"""The JAX reference: pure functions of a params pytree, ``jax.nn``
activations, optax losses, ``jax.value_and_grad`` under ``jax.jit``.

float64 runs inside a local ``jax.enable_x64(True)`` context, so importing
or calling this module leaves the user's global JAX configuration alone.
"""

import functools

import numpy as np

from ._missing import missing

try:
    import jax
    import jax.numpy as jnp
    import optax
except ImportError as _err:  # pragma: no cover - exercised without the extra
    jax = None
    _IMPORT_ERROR = _err


def _require():
    if jax is None:
        raise missing("JAX", "jax", _IMPORT_ERROR)


def _activation(name):
    return {
        "sigmoid": jax.nn.sigmoid,
        "tanh": jnp.tanh,
        "relu": jax.nn.relu,
        "leaky_relu": functools.partial(jax.nn.leaky_relu, negative_slope=0.01),
        "identity": lambda h: h,
        "softmax": functools.partial(jax.nn.softmax, axis=-1),
    }[name]


def apply(params, x, activations, logits=False):
    """The net's output for x ``(batch, n_in)``; with ``logits=True`` the last
    activation is left off."""
    h = x
    last = len(params) - 1
    for i, (layer, act) in enumerate(zip(params, activations)):
        h = h @ layer["W"]
        if "b" in layer:
            h = h + layer["b"]
        if not (logits and i == last):
            h = _activation(act)(h)
    return h


def loss(params, x, y, activations, loss_name, reduction):
    """The reduced loss; optax's per-element losses on the logits for bce and cross_entropy."""
    if loss_name == "bce":
        per = optax.sigmoid_binary_cross_entropy(apply(params, x, activations, logits=True), y)
    elif loss_name == "cross_entropy":
        per = optax.softmax_cross_entropy(apply(params, x, activations, logits=True), y)
    else:
        # optax.l2_loss is 1/2 (prediction - target)**2: the seeds' mse
        per = optax.l2_loss(apply(params, x, activations), y)
    return jnp.sum(per) if reduction == "sum" else jnp.mean(per)


@functools.lru_cache(maxsize=None)
def _value_and_grad(activations, loss_name, reduction):
    return jax.jit(
        jax.value_and_grad(
            functools.partial(loss, activations=activations, loss_name=loss_name, reduction=reduction)
        )
    )


def x64(dtype):
    """The context a computation in ``dtype`` runs in: float64 needs x64 on, locally."""
    return jax.enable_x64(np.dtype(dtype) == np.float64)


def loss_and_grads(net, x, y):
    """``(loss, grads)`` from ``jax.value_and_grad``; grads shaped like ``net.params``."""
    _require()
    f = _value_and_grad(tuple(net.activations), net.loss_name, net.reduction)
    with x64(net.dtype):
        params = jax.tree_util.tree_map(jnp.asarray, net.params)
        value, grads = f(params, jnp.asarray(x, dtype=net.dtype), jnp.asarray(y, dtype=net.dtype))
        grads = jax.tree_util.tree_map(lambda g: np.array(g, dtype=net.dtype), grads)
        return float(value), grads
