"""What every layer kind is: its hyperparameters (the constructor's arguments,
named as ``torch.nn``'s), its parameters and buffers, and a forward and
backward pass written side by side.

    out, cache = layer.forward(params, x, train=True, rng=rng, buffers=buffers)
    dx, grads = layer.backward(dout, cache)

``params``: the layer's dict of named arrays (``param_shapes()`` gives their
shapes; empty for a layer without params). ``buffers``: its running
statistics (BatchNorm's), updated in place by a forward pass in train mode, and
never touched otherwise. ``rng``: a ``numpy.random.Generator``, for the layers
that draw (Dropout). ``grads`` has exactly the keys and shapes of ``params``;
``dx`` is shaped like x (None for an input that has no gradient, Embedding's
indices). ``cache`` is whatever the backward needs, and nothing else.

Several inputs: a layer that takes more than x names them in ``inputs`` (RNN's
``("x", "h0")``, LSTM's ``("x", "h0", "c0")``). Its forward takes x alone or a
tuple of the first of its inputs in that order, and its backward then returns
dx as a tuple of the same length (None for an input without a gradient). In a
``Sequential`` only plain x flows.

``output_shape(shape)`` checks an input's per-sample shape (without the batch
axis; None where unknown) before anything is computed, and returns the
output's; ``config()`` returns the hyperparameters as plain data, so that
``KINDS[kind](**config)`` rebuilds the layer.
"""

import inspect
import numbers

import numpy as np


class Layer:
    kind = "?"
    # the inputs forward takes, in order: x alone, or a tuple of the first of these
    inputs = ("x",)
    # the input an Embedding takes: integer indices; every other layer takes floats
    takes_indices = False
    # whether forward(train=...) differs between modes, or draws from rng
    has_modes = False
    draws = False

    def param_shapes(self):
        """``{name: shape}`` of the layer's parameters, in the order they are drawn and stored."""
        return {}

    def init_params(self, rng, dtype):
        """Fresh parameters, drawn from ``rng`` in ``param_shapes``' order (PyTorch's defaults)."""
        return {}

    def init_buffers(self, dtype):
        """Fresh buffers (running statistics)."""
        return {}

    def output_shape(self, shape):
        """The per-sample output shape for a per-sample input ``shape`` (a tuple, or None
        when unknown); ValueError naming what was expected and what came."""
        return shape

    def check_batch(self, batch, shape):
        """In train mode, whether a batch of ``batch`` samples of per-sample ``shape`` can be
        taken (BatchNorm refuses one value per channel); ValueError if not."""

    def config(self):
        return {}

    def __repr__(self):
        """As one would type it: the required arguments, then those that differ from the defaults."""
        shown = []
        for name, p in inspect.signature(type(self).__init__).parameters.items():
            if name == "self" or name not in self.config():
                continue
            value = self.config()[name]
            value = tuple(value) if isinstance(value, list) else value
            if p.default is inspect.Parameter.empty:
                shown.append(repr(value))
            elif value != p.default:
                shown.append(f"{name}={value!r}")
        return f"{self.kind}({', '.join(shown)})"

    def __eq__(self, other):
        return type(self) is type(other) and self.config() == other.config()

    def __hash__(self):
        return hash(repr(self))  # the config holds lists (a LayerNorm's shape, a kernel's pair)


def describe(layer):
    """A layer as plain data: ``{"kind": ..., **its config}``."""
    return {"kind": layer.kind, **layer.config()}


def check_count(name, value, minimum=1):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def check_number(name, value, low, high, low_open=False, high_open=True):
    """A finite real number in the interval [low, high) (or as the flags say)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and np.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name}: expected a number in {left}{low}, {high}{right}, got {value!r}")
    return float(value)


def fan_in_uniform(rng, shape, fan_in, dtype):
    """U(−1/√fan_in, 1/√fan_in), PyTorch's default for Linear's weight and bias
    (kaiming_uniform with a = √5), drawn in float64 and cast."""
    bound = 1 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def window_counts(shape, kernel, stride, padding):
    """``[H′, W′]``: how many windows of ``kernel`` every ``stride`` fit along the spatial axes of
    a per-sample ``shape`` (C, H, W) padded by ``padding`` (None where a size is unknown);
    ValueError when a kernel is larger than its padded axis."""
    out = []
    for axis, size, k, s, p in zip("HW", shape[1:], kernel, stride, padding):
        if size is None:
            out.append(None)
            continue
        if size + 2 * p < k:
            raise ValueError(
                f"expected {axis} + 2 · padding >= kernel ({k}), got {axis} = {size} with padding {p} "
                f"(per-sample shape {shape})"
            )
        out.append((size + 2 * p - k) // s + 1)
    return out


def where(layer_index, layer):
    """How an error message names a layer: "layer 3 (Linear(in_features=30, ...))"."""
    return f"layer {layer_index} ({layer!r})"
