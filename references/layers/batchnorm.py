"""BatchNorm1d / BatchNorm2d: ``nn.BatchNorm1d`` / ``nn.BatchNorm2d`` holding the given γ, β
and running statistics (updated in place in train mode), and the same in JAX with jnp:
biased batch variance for the normalization, unbiased for the running one."""

import numpy as np

KINDS = ("BatchNorm1d", "BatchNorm2d")


def params(layer):
    c = layer["num_features"]
    return {"gamma": (c,), "beta": (c,)} if layer["affine"] else {}


def buffers(layer):
    c = layer["num_features"]
    return {"running_mean": (c,), "running_var": (c,)} if layer["track_running_stats"] else {}


def torch_module(layer, params, buffers, dtype):
    import torch
    from torch import nn

    cls = nn.BatchNorm1d if layer["kind"] == "BatchNorm1d" else nn.BatchNorm2d
    m = cls(
        layer["num_features"],
        eps=layer["eps"],
        momentum=layer["momentum"],
        affine=layer["affine"],
        track_running_stats=layer["track_running_stats"],
        dtype=dtype,
    )
    with torch.no_grad():
        if layer["affine"]:
            m.weight.copy_(torch.from_numpy(params["gamma"]))
            m.bias.copy_(torch.from_numpy(params["beta"]))
        if layer["track_running_stats"]:
            m.running_mean.copy_(torch.from_numpy(buffers["running_mean"]))
            m.running_var.copy_(torch.from_numpy(buffers["running_var"]))
    return m


def torch_state(layer, module):
    grads = {}
    if layer["affine"]:
        grads = {"gamma": module.weight.grad.numpy().copy(), "beta": module.bias.grad.numpy().copy()}
    return grads, torch_buffers(layer, module)


def torch_buffers(layer, module):
    if not layer["track_running_stats"]:
        return {}
    return {
        "running_mean": module.running_mean.numpy().copy(),
        "running_var": module.running_var.numpy().copy(),
    }


def torch_params(layer, module):
    if not layer["affine"]:
        return {}
    return {"gamma": module.weight.detach().numpy().copy(), "beta": module.bias.detach().numpy().copy()}


def jax_apply(layer, params, buffers, x, train, mask):
    import jax.numpy as jnp

    axes = (0, *range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    new = dict(buffers)
    if train or not layer["track_running_stats"]:
        mean = jnp.mean(x, axis=axes)
        var = jnp.var(x, axis=axes)
        if train and layer["track_running_stats"]:
            n = np.prod([x.shape[a] for a in axes])
            m = layer["momentum"]
            new = {
                "running_mean": (1 - m) * buffers["running_mean"] + m * mean,
                "running_var": (1 - m) * buffers["running_var"] + m * var * (n / (n - 1)),
            }
    else:
        mean, var = buffers["running_mean"], buffers["running_var"]
    out = (x - mean.reshape(shape)) / jnp.sqrt(var.reshape(shape) + layer["eps"])
    if layer["affine"]:
        out = out * params["gamma"].reshape(shape) + params["beta"].reshape(shape)
    return out, new
