"""Linear: ``nn.Linear`` (weight (out, in) = W.T) and ``h @ W + b`` in JAX."""

import numpy as np

KINDS = ("Linear",)


def params(layer):
    shapes = {"W": (layer["in_features"], layer["out_features"])}
    if layer["bias"]:
        shapes["b"] = (layer["out_features"],)
    return shapes


def buffers(layer):
    return {}


def torch_module(layer, params, buffers, dtype):
    import torch
    from torch import nn

    m = nn.Linear(layer["in_features"], layer["out_features"], bias=layer["bias"], dtype=dtype)
    with torch.no_grad():
        m.weight.copy_(torch.from_numpy(np.ascontiguousarray(params["W"].T)))
        if layer["bias"]:
            m.bias.copy_(torch.from_numpy(params["b"]))
    return m


def torch_state(layer, module):
    grads = {"W": module.weight.grad.T.numpy().copy()}
    if layer["bias"]:
        grads["b"] = module.bias.grad.numpy().copy()
    return grads, {}


def torch_params(layer, module):
    out = {"W": module.weight.detach().T.numpy().copy()}
    if layer["bias"]:
        out["b"] = module.bias.detach().numpy().copy()
    return out


def jax_apply(layer, params, buffers, x, train, mask):
    out = x @ params["W"]
    return (out + params["b"] if layer["bias"] else out), {}


def torch_buffers(layer, module):
    return {}
