"""Each layer kind in PyTorch and in JAX, one module per kind, as functions of plain
data: the layer's description (``{"kind": "Linear", "in_features": 3, ...}``), its
params and buffers by name, and the input. Every module has

    params(layer) / buffers(layer)                   the names and shapes, in this package's own reading
    torch_module(layer, params, buffers, dtype)      an ``nn.Module`` holding them (PyTorch's own kind)
    torch_state(layer, module)                       (grads, buffers) read back in the plain layout
    jax_apply(layer, params, buffers, x, train, mask)
                                                     (out, new buffers), with jnp / jax.nn / jax.lax

Nothing here imports ``manual``. A Dropout is handed its mask (the engine's
generator's draw, replayed by the harness): neither framework's own dropout can
take one, so both apply it as x · mask / (1 − p).
"""

from . import (
    activation,
    attention,
    batchnorm,
    conv,
    dropout,
    embedding,
    flatten,
    groupnorm,
    layernorm,
    linear,
    pool,
    positional,
    recurrent,
    residual,
)

MODULES = {}
for _module in (
    linear,
    activation,
    batchnorm,
    layernorm,
    groupnorm,
    dropout,
    embedding,
    positional,
    flatten,
    pool,
    conv,
    recurrent,
    attention,
    residual,
):
    for _kind in _module.KINDS:
        MODULES[_kind] = _module


def module(layer):
    """The module of a layer's kind; ValueError for an unknown kind."""
    kind = layer.get("kind") if isinstance(layer, dict) else None
    if kind not in MODULES:
        raise ValueError(f"layer: unknown kind {kind!r}; known: {', '.join(sorted(MODULES))}")
    return MODULES[kind]


residual.module_of = module  # the inner layers' modules, without an import cycle
