"""Activations: PyTorch's modules (nn.Sigmoid, nn.GELU, nn.Softmax(dim), ...) and jax.nn's functions."""

KINDS = ("Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Identity", "Softmax", "LogSoftmax", "GELU", "SiLU")


def params(layer):
    return {}


def buffers(layer):
    return {}


def torch_module(layer, params, buffers, dtype):
    from torch import nn

    kind = layer["kind"]
    if kind == "LeakyReLU":
        return nn.LeakyReLU(layer["negative_slope"])
    if kind in ("Softmax", "LogSoftmax"):
        return getattr(nn, kind)(dim=layer["dim"])
    if kind == "GELU":
        return nn.GELU(approximate=layer["approximate"])
    return getattr(nn, kind)()


def torch_state(layer, module):
    return {}, {}


def torch_params(layer, module):
    return {}


def jax_apply(layer, params, buffers, x, train, mask):
    import jax
    import jax.numpy as jnp

    kind = layer["kind"]
    fn = {
        "Sigmoid": jax.nn.sigmoid,
        "Tanh": jnp.tanh,
        "ReLU": jax.nn.relu,
        "Identity": lambda h: h,
        "SiLU": jax.nn.silu,
        "LeakyReLU": lambda h: jax.nn.leaky_relu(h, negative_slope=layer.get("negative_slope", 0.01)),
        "Softmax": lambda h: jax.nn.softmax(h, axis=layer.get("dim", -1)),
        "LogSoftmax": lambda h: jax.nn.log_softmax(h, axis=layer.get("dim", -1)),
        "GELU": lambda h: jax.nn.gelu(h, approximate=layer.get("approximate") == "tanh"),
    }[kind]
    return fn(x), {}


def torch_buffers(layer, module):
    return {}
