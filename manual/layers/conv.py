"""Conv2d: a 2-d cross-correlation (torch's "convolution") over (N, C, H, W), as im2col and
one matrix product each way.

    pad        x̃ = x with p_h rows and p_w columns of zeros on each side      (N, C, H + 2p_h, W + 2p_w)
    forward    out[n, o, i, j] = b[o] + Σ_{c, u, v} W[o, c, u, v] x̃[n, c, s_h i + u, s_w j + v]
               out (N, O, H', W'),  H' = ⌊(H + 2p_h − k_h) / s_h⌋ + 1,  W' likewise
    im2col     X[(c, u, v), (n, i, j)] = x̃[n, c, s_h i + u, s_w j + v]        (C k_h k_w, N H' W')
               Z = W₂ X + b,  W₂ = W reshaped (O, C k_h k_w),  out = Z (O, N H' W') as (N, O, H', W')
    backward   G = ∂L/∂out as (O, N H' W')
               ∂L/∂b = G 1 = Σ_{n, i, j} ∂L/∂out                              (O,)
               ∂L/∂W = G Xᵀ reshaped (O, C, k_h, k_w)
               ∂L/∂X = W₂ᵀ G,  then col2im: ∂L/∂x̃[n, c, s_h i + u, s_w j + v] += ∂L/∂X[(c, u, v), (n, i, j)]
               ∂L/∂x = ∂L/∂x̃ without its padding

The three products are the forward's transposes. The forward is one product Z = W₂ X of
the kernel W₂ (O, C k_h k_w) and the windows X (C k_h k_w, N H' W'); the backward of a
product multiplies the upstream gradient by the other factor, transposed: ∂L/∂W₂ = G Xᵀ
(the forward with the positions contracted instead of the window entries), ∂L/∂X = W₂ᵀ G
(the output channels contracted), and ∂L/∂b = G 1, the bias's row of ones. im2col is a
linear map that copies each x̃ entry into every window that covers it, so its transpose,
col2im, adds those copies back; that scatter-add is where the textbook's "full convolution
of ∂L/∂out with the kernel rotated 180°" is hidden: nothing is flipped here, because the
windows index the kernel the same way both ways.

X holds a window per column (as Caffe's im2col), not per row: each of its rows is then a
run of positions, which copies in 2.7× and scatters back 8× faster than rows of windows
(batch 64, 64 → 64 channels, 32 × 32, one thread; the step 2.5× faster). The backward's
col2im takes the batch last for rows shorter than 16, so that its adds run over W'·N
entries, not W' (2-3× faster at the digits CNN's 4 × 4).

Zero padding as torch's; rows or columns that no window reaches (an odd size with stride
2) get a gradient of 0. float32 stays float32.
"""

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .base import Layer, check_count, fan_in_uniform, window_counts


def _pair(name, value, minimum):
    """An int or a pair of ints, each >= minimum, as a tuple (height, width)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name}: expected an int or a pair (height, width), got {value!r}")
        pair = value
    elif isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        pair = (value, value)
    else:
        raise TypeError(f"{name}: expected an int or a pair of ints (height, width), got {value!r}")
    return tuple(check_count(name, v, minimum) for v in pair)


def _plain(pair):
    """A pair as plain data: one int when both axes agree (as it is usually written), else a list."""
    return pair[0] if pair[0] == pair[1] else list(pair)


class Conv2d(Layer):
    """``torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True)``
    over (N, C, H, W); kernel_size, stride and padding an int or a pair (height, width).
    Params ``W`` (out_channels, in_channels, k_h, k_w), torch's ``weight`` as it is, and ``b``
    (out_channels,), both drawn from U(−1/√fan_in, 1/√fan_in) with fan_in = in_channels k_h k_w,
    as PyTorch draws them (W first)."""

    kind = "Conv2d"

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        self.in_channels = check_count("in_channels", in_channels)
        self.out_channels = check_count("out_channels", out_channels)
        self.kernel_size = _pair("kernel_size", kernel_size, 1)
        self.stride = _pair("stride", stride, 1)
        self.padding = _pair("padding", padding, 0)
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"bias: expected True or False, got {bias!r}")
        self.bias = bool(bias)

    def config(self):
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": _plain(self.kernel_size),
            "stride": _plain(self.stride),
            "padding": _plain(self.padding),
            "bias": self.bias,
        }

    def param_shapes(self):
        shapes = {"W": (self.out_channels, self.in_channels, *self.kernel_size)}
        if self.bias:
            shapes["b"] = (self.out_channels,)
        return shapes

    def init_params(self, rng, dtype):
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        return {k: fan_in_uniform(rng, s, fan_in, dtype) for k, s in self.param_shapes().items()}

    def output_shape(self, shape):
        if shape is None or ... in shape:
            return (self.out_channels, None, None)
        if len(shape) != 3:
            raise ValueError(
                f"expected inputs of shape (N, C, H, W) with C = {self.in_channels}, "
                f"got per-sample shape {shape} (rank {len(shape)}, not 3)"
            )
        if shape[0] not in (None, self.in_channels):
            raise ValueError(
                f"expected C = {self.in_channels} channels on axis 1 (in_channels), "
                f"got per-sample shape {shape}"
            )
        return (self.out_channels, *window_counts(shape, self.kernel_size, self.stride, self.padding))

    def _padded(self, x):
        (ph, pw) = self.padding
        if ph == pw == 0:
            return x
        n, c, h, w = x.shape
        xp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), x.dtype)  # not np.pad: 20 µs of Python per call
        xp[:, :, ph : ph + h, pw : pw + w] = x
        return xp

    def forward(self, params, x, *, train=False, rng=None, buffers=None):
        W = params["W"]
        (sh, sw) = self.stride
        xp = self._padded(x)
        # (N, C, H', W', k_h, k_w): a view, every window at the stride
        windows = sliding_window_view(xp, self.kernel_size, axis=(2, 3))[:, :, ::sh, ::sw]
        n, c, ho, wo, kh, kw = windows.shape
        # the copy, im2col: a window per column, rows of positions (2.5× faster a step than rows of windows)
        cols = windows.transpose(1, 4, 5, 0, 2, 3).reshape(c * kh * kw, n * ho * wo)
        z = W.reshape(len(W), -1) @ cols
        if self.bias:
            z += params["b"][:, None]
        out = np.ascontiguousarray(z.reshape(-1, n, ho, wo).transpose(1, 0, 2, 3))
        return out, (cols, W, x.shape, xp.shape)

    def backward(self, dout, cache):
        cols, W, shape, padded = cache
        n, o, ho, wo = dout.shape
        g = dout.transpose(1, 0, 2, 3).reshape(o, -1)
        grads = {"W": (g @ cols.T).reshape(W.shape)}
        if self.bias:
            grads["b"] = dout.sum(axis=(0, 2, 3))
        kernel = W.reshape(o, -1)
        # col2im adds runs along memory's last axis: for rows shorter than 16 (the digits CNN's 8 and 4)
        # the batch goes last, runs of W'·N, not W' (col2im 2-3× faster there, 20% slower at 32 × 32)
        batch_last = wo < 16
        if batch_last:
            g = dout.transpose(1, 2, 3, 0).reshape(o, -1)
        dcols = (kernel.T @ g).reshape(*W.shape[1:], *((ho, wo, n) if batch_last else (n, ho, wo)))
        return self._col2im(dcols, shape, padded, batch_last), grads

    def _col2im(self, dcols, shape, padded, batch_last):
        """dcols (C, k_h, k_w, N, H', W'), or (C, k_h, k_w, H', W', N) with the batch last, added
        back into the padded input, one strided slice per kernel offset; then the padding cut off."""
        (sh, sw), (ph, pw) = self.stride, self.padding
        n, c, hp, wp = padded
        if batch_last:  # both seen as (C, N, ...): the adds below are written once
            dcols = np.moveaxis(dcols, 5, 3)
            dxp = np.moveaxis(np.zeros((c, hp, wp, n), dcols.dtype), 3, 1)
        else:
            dxp = np.zeros((c, n, hp, wp), dcols.dtype)
        _, kh, kw, _, ho, wo = dcols.shape
        for u in range(kh):
            for v in range(kw):
                dxp[:, :, u : u + sh * ho : sh, v : v + sw * wo : sw] += dcols[:, u, v]
        dx = dxp[:, :, ph : ph + shape[2], pw : pw + shape[3]]
        return np.ascontiguousarray(dx.transpose(1, 0, 2, 3))
