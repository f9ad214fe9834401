"""LayerNorm: ``nn.LayerNorm`` holding γ and β, and jnp's mean and (biased) var over the last axes."""

KINDS = ("LayerNorm",)


def params(layer):
    shape = tuple(layer["normalized_shape"])
    return {"gamma": shape, "beta": shape} if layer["elementwise_affine"] else {}


def buffers(layer):
    return {}


def torch_module(layer, params, buffers, dtype):
    import torch
    from torch import nn

    m = nn.LayerNorm(
        tuple(layer["normalized_shape"]),
        eps=layer["eps"],
        elementwise_affine=layer["elementwise_affine"],
        dtype=dtype,
    )
    if layer["elementwise_affine"]:
        with torch.no_grad():
            m.weight.copy_(torch.from_numpy(params["gamma"]))
            m.bias.copy_(torch.from_numpy(params["beta"]))
    return m


def torch_state(layer, module):
    if not layer["elementwise_affine"]:
        return {}, {}
    return {"gamma": module.weight.grad.numpy().copy(), "beta": module.bias.grad.numpy().copy()}, {}


def torch_params(layer, module):
    if not layer["elementwise_affine"]:
        return {}
    return {"gamma": module.weight.detach().numpy().copy(), "beta": module.bias.detach().numpy().copy()}


def jax_apply(layer, params, buffers, x, train, mask):
    import jax.numpy as jnp

    axes = tuple(range(x.ndim - len(layer["normalized_shape"]), x.ndim))
    mean = jnp.mean(x, axis=axes, keepdims=True)
    var = jnp.var(x, axis=axes, keepdims=True)
    out = (x - mean) / jnp.sqrt(var + layer["eps"])
    if layer["elementwise_affine"]:
        out = out * params["gamma"] + params["beta"]
    return out, {}


def torch_buffers(layer, module):
    return {}
