"""MaxPool2d and AvgPool2d: ``nn.MaxPool2d`` / ``nn.AvgPool2d`` (count_include_pad=True, its
default), and ``jax.lax.reduce_window`` over (N, C, H, W): max from −∞ over the input padded
with −∞, or a sum from 0 over the input padded with 0, divided by kh · kw. No params.

On a tie JAX's gradient of the max (select_and_scatter_add, choosing with ≥) goes to the
first maximum in the window's row-major order, as PyTorch's kernels (which replace the
kept maximum only on a strictly greater value): the two agree."""

KINDS = ("MaxPool2d", "AvgPool2d")


def pair(value):
    """An int or [h, w] as (h, w)."""
    return (value, value) if isinstance(value, int) else tuple(value)


def geometry(layer):
    """(kernel, stride, padding), each (h, w); stride None means the kernel."""
    kernel = pair(layer["kernel_size"])
    stride = kernel if layer["stride"] is None else pair(layer["stride"])
    return kernel, stride, pair(layer["padding"])


def params(layer):
    return {}


def buffers(layer):
    return {}


def torch_module(layer, params, buffers, dtype):
    from torch import nn

    kernel, stride, padding = geometry(layer)
    if layer["kind"] == "MaxPool2d":
        return nn.MaxPool2d(kernel, stride, padding)
    return nn.AvgPool2d(kernel, stride, padding, count_include_pad=True)


def torch_state(layer, module):
    return {}, {}


def torch_params(layer, module):
    return {}


def jax_apply(layer, params, buffers, x, train, mask):
    import jax.numpy as jnp
    from jax import lax

    (kh, kw), (sh, sw), (ph, pw) = geometry(layer)
    dims, strides, pads = (1, 1, kh, kw), (1, 1, sh, sw), ((0, 0), (0, 0), (ph, ph), (pw, pw))
    if layer["kind"] == "MaxPool2d":
        # reduce_window pads with its init value: −∞, as PyTorch's max pooling pads
        return lax.reduce_window(x, -jnp.inf, lax.max, dims, strides, pads), {}
    return lax.reduce_window(x, 0.0, lax.add, dims, strides, pads) / (kh * kw), {}


def torch_buffers(layer, module):
    return {}
