"""Conv2d: ``nn.Conv2d`` holding the given kernel (its ``weight`` (out, in, kh, kw) is W as it
is) and, in JAX, ``jax.lax.conv_general_dilated`` with NCHW / OIHW / NCHW and explicit zero
padding (a cross-correlation, as torch's)."""

import numpy as np

KINDS = ("Conv2d",)


def _pair(value):
    """kernel_size, stride or padding as plain data (an int, or [height, width]) as a tuple."""
    return (value, value) if isinstance(value, (int, np.integer)) else tuple(value)


def params(layer):
    shapes = {"W": (layer["out_channels"], layer["in_channels"], *_pair(layer["kernel_size"]))}
    if layer["bias"]:
        shapes["b"] = (layer["out_channels"],)
    return shapes


def buffers(layer):
    return {}


def torch_module(layer, params, buffers, dtype):
    import torch
    from torch import nn

    m = nn.Conv2d(
        layer["in_channels"],
        layer["out_channels"],
        _pair(layer["kernel_size"]),
        stride=_pair(layer["stride"]),
        padding=_pair(layer["padding"]),
        bias=layer["bias"],
        dtype=dtype,
    )
    with torch.no_grad():
        m.weight.copy_(torch.from_numpy(params["W"]))
        if layer["bias"]:
            m.bias.copy_(torch.from_numpy(params["b"]))
    return m


def torch_state(layer, module):
    grads = {"W": module.weight.grad.numpy().copy()}
    if layer["bias"]:
        grads["b"] = module.bias.grad.numpy().copy()
    return grads, {}


def torch_params(layer, module):
    out = {"W": module.weight.detach().numpy().copy()}
    if layer["bias"]:
        out["b"] = module.bias.detach().numpy().copy()
    return out


def torch_buffers(layer, module):
    return {}


def jax_apply(layer, params, buffers, x, train, mask):
    import jax.numpy as jnp
    from jax import lax

    (ph, pw), (sh, sw) = _pair(layer["padding"]), _pair(layer["stride"])
    kh, kw = params["W"].shape[2:]
    x = jnp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    # only the rows and columns some window reaches: XLA's gradient of a convolution whose
    # input leaves a remainder at a stride above 1 aborts the process (jax 0.10.2, e.g. a
    # 2×2 kernel every (3, 2) on 3×10), and the rows cut off have a gradient of 0 either way
    reach_h = (x.shape[2] - kh) // sh * sh + kh
    reach_w = (x.shape[3] - kw) // sw * sw + kw
    out = lax.conv_general_dilated(
        x[:, :, :reach_h, :reach_w],
        params["W"],
        window_strides=(sh, sw),
        padding="VALID",
        dimension_numbers=("NCHW", "OIHW", "NCHW"),
        precision=lax.Precision.HIGHEST,  # no reduced-precision passes for float32
    )
    return (out + params["b"].reshape(1, -1, 1, 1) if layer["bias"] else out), {}
