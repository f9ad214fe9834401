"""Flatten: ``nn.Flatten(start_dim, end_dim)`` and a reshape in JAX."""

KINDS = ("Flatten",)


def params(layer):
    return {}


def buffers(layer):
    return {}


def torch_module(layer, params, buffers, dtype):
    from torch import nn

    return nn.Flatten(layer["start_dim"], layer["end_dim"])


def torch_state(layer, module):
    return {}, {}


def torch_params(layer, module):
    return {}


def jax_apply(layer, params, buffers, x, train, mask):
    start, end = layer["start_dim"] % x.ndim, layer["end_dim"] % x.ndim
    return x.reshape(*x.shape[:start], -1, *x.shape[end + 1 :]), {}


def torch_buffers(layer, module):
    return {}
