"""MaxPool2d and AvgPool2d, (N, C, H, W) → (N, C, Ho, Wo): each channel of each sample cut into windows
of kernel (kh, kw), one window every stride (sh, sw), on the input padded by (ph, pw) on
each side; no params.

    Hp, Wp = H + 2 ph, W + 2 pw                     the padded input x̃ (N, C, Hp, Wp)
    Ho, Wo = ⌊(Hp − kh) / sh⌋ + 1, ⌊(Wp − kw) / sw⌋ + 1    a remainder that fits no window is dropped
    window (a, b) = x̃[:, :, a sh : a sh + kh, b sw : b sw + kw]

    MaxPool2d  out[a, b] = max over the window         x̃ padded with −∞ (a pad never wins)
               ∂L/∂x̃[a sh + i*, b sw + j*] += ∂L/∂out[a, b]     (i*, j*): the window's argmax
    AvgPool2d  out[a, b] = Σ over the window / (kh kw)    x̃ padded with 0, the pads counted
               ∂L/∂x̃[a sh + i, b sw + j] += ∂L/∂out[a, b] / (kh kw)   for every (i, j) in the window
    ∂L/∂x      = ∂L/∂x̃ without its pads

The += is the point: where windows overlap (stride < kernel) an entry collects from each
window it is in. A window with tied maxima sends its gradient to ONE entry, the first of
them in row-major order of the window (top row first, then left to right), as PyTorch
does: its kernels keep the first maximum, replacing it only on a strictly greater value.
AvgPool2d divides by kh kw everywhere, pads included (PyTorch's default
count_include_pad=True). As PyTorch: padding at most half the kernel, ⌊k / 2⌋ per axis
(so every window holds an entry of x); ceil_mode and dilation are not taken (PyTorch's
defaults, False and 1, are what this computes).
"""

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .base import Layer, window_counts


def _pair(name, value, minimum):
    """An int or a pair of ints (per axis: H, W), each >= minimum, as a tuple of two."""
    pair = (value, value) if isinstance(value, numbers.Integral) else value
    ok = (
        isinstance(pair, (tuple, list))
        and len(pair) == 2
        and all(isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in pair)
    )
    if not ok or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected an int or a pair of ints (H, W), got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name}: expected integers >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def _plain(pair):
    """As config shows it: one int for a square pair, else [h, w]."""
    return pair[0] if pair[0] == pair[1] else list(pair)


def pad(x, padding, fill):
    """x (N, C, H, W) with ``padding`` (ph, pw) entries of ``fill`` on each side of H and W."""
    ph, pw = padding
    if not (ph or pw):
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)


def windows(xp, kernel, stride):
    """The windows of the padded input, a view (N, C, Ho, Wo, kh, kw); a remainder is dropped."""
    sh, sw = stride
    return sliding_window_view(xp, kernel, axis=(2, 3))[:, :, ::sh, ::sw]


def offset_slice(i, j, stride, out_hw):
    """The entries of x̃ that kernel offset (i, j) of every window reads, (N, C, Ho, Wo) strided."""
    (sh, sw), (ho, wo) = stride, out_hw
    return np.s_[:, :, i : i + sh * (ho - 1) + 1 : sh, j : j + sw * (wo - 1) + 1 : sw]


def window_starts(shape, padded, stride):
    """The flat index into x̃ (N, C, Hp, Wp) of each window's top-left entry, ``shape`` (N, C, Ho, Wo)."""
    (n, c, ho, wo), (hp, wp), (sh, sw) = shape, padded[2:], stride
    planes = np.arange(n * c).reshape(n, c, 1, 1) * (hp * wp)
    return planes + (np.arange(ho) * (sh * wp))[:, None] + np.arange(wo) * sw


class _Pool2d(Layer):
    fill = 0.0

    def __init__(self, kernel_size, stride=None, padding=0):
        self.kernel_size = _pair("kernel_size", kernel_size, 1)
        self.stride = self.kernel_size if stride is None else _pair("stride", stride, 1)
        self.padding = _pair("padding", padding, 0)
        for axis, p, k in zip("HW", self.padding, self.kernel_size):
            if p > k // 2:
                raise ValueError(
                    f"padding: expected at most half the kernel ({k // 2} on {axis} for kernel {k}, as "
                    f"PyTorch), got {p}"
                )

    def config(self):
        return {
            "kernel_size": _plain(self.kernel_size),
            "stride": None if self.stride == self.kernel_size else _plain(self.stride),
            "padding": _plain(self.padding),
        }

    def output_shape(self, shape):
        if shape is None:
            return None
        if ... in shape:
            return (None, None, None)
        if len(shape) != 3:
            raise ValueError(f"expected (N, C, H, W), got per-sample shape {shape}")
        return (shape[0], *window_counts(shape, self.kernel_size, self.stride, self.padding))

    def _padded_windows(self, x):
        xp = pad(x, self.padding, self.fill)
        return xp, windows(xp, self.kernel_size, self.stride)

    def _unpad(self, dxp):
        """∂L/∂x from ∂L/∂x̃: the pads cut off (a slice p:-p would be empty for p = 0)."""
        (ph, pw), (hp, wp) = self.padding, dxp.shape[2:]
        return dxp[:, :, ph : hp - ph, pw : wp - pw]


class MaxPool2d(_Pool2d):
    """``nn.MaxPool2d(kernel_size, stride=None, padding=0)``: stride None is the kernel; each an
    int or a pair (H, W); the input padded with −∞."""

    kind = "MaxPool2d"
    fill = -np.inf

    def forward(self, params, x, *, train=False, rng=None, buffers=None):
        xp, win = self._padded_windows(x)
        n, c, ho, wo, kh, kw = win.shape
        flat = win.reshape(n, c, ho, wo, kh * kw)
        # argmax keeps the first maximum in row-major order of the window, as PyTorch routes ties
        arg = flat.argmax(axis=-1)
        out = np.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
        return out, (arg, xp.shape)

    def backward(self, dout, cache):
        arg, padded = cache
        kh, kw = self.kernel_size
        # each window's argmax as a flat index into x̃: its top-left entry plus the offset
        offsets = (np.arange(kh)[:, None] * padded[3] + np.arange(kw)).ravel()  # argmax's row-major order
        starts = window_starts(dout.shape, padded, self.stride)
        index = starts + offsets[arg]
        dxp = np.zeros(padded, dout.dtype)
        # np.add.at on flat indices: 2-6x faster than a loop over the kh·kw offsets adding masked slices
        np.add.at(dxp.reshape(-1), index.ravel(), dout.ravel())
        return self._unpad(dxp), {}


class AvgPool2d(_Pool2d):
    """``nn.AvgPool2d(kernel_size, stride=None, padding=0)`` with count_include_pad=True (its
    default): each window's sum over kh · kw, zero pads included."""

    kind = "AvgPool2d"
    fill = 0.0

    def forward(self, params, x, *, train=False, rng=None, buffers=None):
        xp, win = self._padded_windows(x)
        kh, kw = self.kernel_size
        out = win.sum(axis=(-2, -1))
        out /= kh * kw
        return out, xp.shape

    def backward(self, dout, cache):
        kh, kw = self.kernel_size
        share = dout / (kh * kw)
        dxp = np.zeros(cache, dout.dtype)
        # a loop over the kh·kw offsets adding strided slices: ~10x faster than np.add.at on every entry
        for i in range(kh):
            for j in range(kw):
                dxp[offset_slice(i, j, self.stride, dout.shape[2:])] += share
        return self._unpad(dxp), {}
