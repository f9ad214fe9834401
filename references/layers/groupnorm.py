"""GroupNorm: ``nn.GroupNorm`` holding γ and β, and jnp's mean and (biased) var over each
sample's groups of channels, x viewed as (N, G, C/G, ...)."""

KINDS = ("GroupNorm",)


def params(layer):
    c = layer["num_channels"]
    return {"gamma": (c,), "beta": (c,)} if layer["affine"] else {}


def buffers(layer):
    return {}


def torch_module(layer, params, buffers, dtype):
    import torch
    from torch import nn

    m = nn.GroupNorm(
        layer["num_groups"], layer["num_channels"], eps=layer["eps"], affine=layer["affine"], dtype=dtype
    )
    if layer["affine"]:
        with torch.no_grad():
            m.weight.copy_(torch.from_numpy(params["gamma"]))
            m.bias.copy_(torch.from_numpy(params["beta"]))
    return m


def torch_state(layer, module):
    if not layer["affine"]:
        return {}, {}
    return {"gamma": module.weight.grad.numpy().copy(), "beta": module.bias.grad.numpy().copy()}, {}


def torch_params(layer, module):
    if not layer["affine"]:
        return {}
    return {"gamma": module.weight.detach().numpy().copy(), "beta": module.bias.detach().numpy().copy()}


def torch_buffers(layer, module):
    return {}


def jax_apply(layer, params, buffers, x, train, mask):
    import jax.numpy as jnp

    n, c = x.shape[:2]
    grouped = x.reshape(n, layer["num_groups"], -1)  # each group's channels and positions, flat
    mean = jnp.mean(grouped, axis=-1, keepdims=True)
    var = jnp.var(grouped, axis=-1, keepdims=True)
    out = ((grouped - mean) / jnp.sqrt(var + layer["eps"])).reshape(x.shape)
    if layer["affine"]:
        shape = (1, c) + (1,) * (x.ndim - 2)
        out = out * params["gamma"].reshape(shape) + params["beta"].reshape(shape)
    return out, {}
