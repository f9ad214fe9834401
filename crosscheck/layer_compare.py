"""One layer, three ways and a bound: the engine's forward and backward
(``manual.layers``), PyTorch's and JAX's (``references.layers``), central
differences of ⟨dout, f⟩ (CS231n's ``eval_numerical_gradient_array``), and the
running error bound of a correct implementation (``crosscheck.layers``).

Every result is a ``LayerResult``: ``out``, ``dx`` (None for indices; a tuple for a
tuple of inputs, RNN's ``(x, h0)``, one entry per input, None for one without a
gradient), ``grads`` and ``buffers`` by name. ``compare`` judges one against another entry by entry
within ``rounding.allowed`` of the bound; ``detectable`` says how small a
relative error each array can reveal, so a test can assert it is informative.
"""

from dataclasses import dataclass

import numpy as np

from manual.gradcheck import central_differences
from manual.layers import from_config
from references import jax_ref, torch_ref

from . import rounding
from .layers import layer_bounds
from .layers import sequential_bounds as layer_sequential_bounds
from .tolerances import tolerance

REFERENCES = {"torch": torch_ref, "jax": jax_ref}


@dataclass
class LayerResult:
    out: object
    dx: object
    grads: dict
    buffers: dict
    inputs: tuple = ("x",)  # the layer's input names, that a tuple dx is named by

    def arrays(self):
        """``{name: array}``: "out", "dx" (for a tuple of inputs "dx", "dh0", ...: "d" and each
        input's name), each grad as "d<name>", each buffer by its name."""
        named = {"out": self.out, **input_grads(self.inputs, self.dx)}
        named.update({f"d{k}": v for k, v in self.grads.items()})
        named.update(self.buffers)
        return named


def input_grads(inputs, dx):
    """``{"d<input>": gradient}`` of a dx (an array, None, or a tuple of them, one per input
    in order), without the inputs that have none."""
    dxs = dx if isinstance(dx, tuple) else (dx,)
    return {f"d{name}": d for name, d in zip(inputs, dxs) if d is not None}


def describe(layer):
    """The plain description of a layer (a manual layer or a dict)."""
    return layer if isinstance(layer, dict) else {"kind": layer.kind, **layer.config()}


def inputs_of(layer):
    return from_config(describe(layer)).inputs


def engine(layer, params, buffers, x, dout, train=True, rng=None):
    """``(LayerResult, mask)``: the engine's forward and backward; the buffers are copied
    first and updated as a train-mode forward updates them; mask: Dropout's, or None."""
    layer = from_config(describe(layer))
    buffers = {k: np.array(v) for k, v in (buffers or {}).items()}
    out, cache = layer.forward(params, x, train=train, rng=rng, buffers=buffers)
    dx, grads = layer.backward(np.asarray(dout), cache)
    mask = cache if layer.draws and train else None
    return LayerResult(out, dx, grads, buffers, layer.inputs), mask


def reference(name, layer, params, buffers, x, dout, dtype, train=True, mask=None):
    out, dx, grads, new = REFERENCES[name].layer_forward_backward(
        describe(layer), params, buffers or {}, x, dout, np.dtype(dtype).name, train, mask
    )
    return LayerResult(out, dx, grads, new, inputs_of(layer))


def bounds(layer, params, buffers, x, dout, train=True, mask=None):
    """The running error bounds, a ``LayerResult`` of ``rounding.Tracked``."""
    out, dx, grads, new = layer_bounds(describe(layer), params, buffers or {}, x, dout, train, mask)
    return LayerResult(out, dx, grads, new, inputs_of(layer))


def _is_float(a):
    return np.asarray(a).dtype.kind == "f"


def numeric(layer, params, buffers, x, dout, train=True, rng_state=None, eps=1e-6):
    """dx (a tuple for a tuple of inputs: each float input perturbed in turn) and every param's
    gradient of φ = ⟨dout, f(x)⟩ by central differences, in float64, with the same mode and
    (Dropout) the same mask at every evaluation."""
    layer = from_config(describe(layer))
    p64 = {k: np.array(v, np.float64) for k, v in params.items()}
    several = isinstance(x, tuple)
    xs = tuple(np.array(v, np.float64) if _is_float(v) else np.asarray(v) for v in (x if several else (x,)))
    x64 = xs if several else xs[0]
    d64 = np.asarray(dout, np.float64)

    def run():
        rng = None
        if rng_state is not None:
            rng = np.random.default_rng()
            rng.bit_generator.state = rng_state
        b = {k: np.array(v, np.float64) for k, v in (buffers or {}).items()}
        return layer.forward(p64, x64, train=train, rng=rng, buffers=b)[0]

    def phi():
        return float(np.vdot(d64, run()))

    dxs = tuple(central_differences(phi, v, eps) if _is_float(v) else None for v in xs)
    grads = {k: central_differences(phi, v, eps) for k, v in p64.items()}
    return (dxs if several else dxs[0]), grads, float(np.vdot(np.abs(d64), np.abs(run())))


@dataclass(frozen=True)
class Row:
    name: str  # "out", "dx", "dW", "running_mean", ...
    max_abs: float
    ratio: float  # the largest difference over what is allowed: passes when <= 1
    ok: bool


def compare(expected, actual, bound, dtype):
    """One ``Row`` per array: |actual − expected| against ``rounding.allowed(bound)``."""
    rows = []
    e, a, b = expected.arrays(), actual.arrays(), bound.arrays()
    if set(e) != set(a):
        raise ValueError(f"the results hold different arrays: {sorted(e)} vs {sorted(a)}")
    for name in e:
        ev, av = np.asarray(e[name], np.float64), np.asarray(a[name], np.float64)
        if ev.shape != av.shape:
            raise ValueError(f"{name}: shapes differ: {ev.shape} vs {av.shape}")
        diff = np.abs(av - ev)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = diff / rounding.allowed(rounding.lift(b[name]), dtype)
        worst = float(np.max(ratio, initial=0.0)) if np.all(np.isfinite(diff)) else float("inf")
        rows.append(Row(name, float(np.max(diff, initial=0.0)), worst, worst <= 1))
    return rows


def compare_numeric(result, numeric_result, eps=1e-6):
    """The engine's dx and grads against central differences (float64), by gradcheck's rule:
    each entry within ``finite_differences``' rtol of its value, plus the quotient's rounding,
    16 eps₆₄ · M / eps, where M = Σ |dout ⊙ out| is the magnitude φ's terms round with."""
    rtol = tolerance("finite_differences", np.float64).rtol
    dx, grads, magnitude = numeric_result
    atol = 16 * float(np.finfo(np.float64).eps) * max(1.0, magnitude) / eps
    mine = input_grads(result.inputs, result.dx)
    pairs = [(k, mine[k], v) for k, v in input_grads(result.inputs, dx).items()]
    pairs += [(f"d{k}", result.grads[k], v) for k, v in grads.items()]
    rows = []
    for name, mine, num in pairs:
        diff = np.abs(np.asarray(mine, np.float64) - num)
        worst = float(np.max(diff / (rtol * np.abs(num) + atol), initial=0.0))
        rows.append(Row(name, float(np.max(diff, initial=0.0)), worst, worst <= 1))
    return rows


def detectable(result, bound, dtype):
    """Per array, the smallest relative error of it that ``compare`` would catch: the least
    allowed / |value| over its entries (inf for an array of zeros)."""
    out = {}
    v, b = result.arrays(), bound.arrays()
    for name in v:
        value = np.abs(np.asarray(v[name], np.float64))
        allowed = rounding.allowed(rounding.lift(b[name]), dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(value > 0, allowed / value, np.inf)
        out[name] = float(np.min(ratio, initial=np.inf))
    return out


# ------------------------------------------------------------------ a whole Sequential


def param_name(index, name):
    """How a Sequential's parameter is shown: "2.W", as a state_dict names "2.weight"."""
    return f"{index}.{name}"


def sequential_bounds(net, x, y, masks=None, train=True):
    """``(loss, grads, buffers)`` bounds of a ``manual.Sequential`` on x, y (Tracked)."""
    return layer_sequential_bounds(net.spec(), net.params, net.buffers, x, y, masks, train)


def compare_sequential(expected, actual, bound, dtype):
    """Rows for a Sequential's ``(loss, grads)`` (and, if both give them, buffers): "loss",
    "2.W", ..., "3.running_mean", each against ``rounding.allowed`` of its bound."""
    rows = []
    pairs = [("loss", expected[0], actual[0], bound[0])]
    for i, (ge, ga, gb) in enumerate(zip(expected[1], actual[1], bound[1])):
        pairs += [(param_name(i, k), ge[k], ga[k], gb[k]) for k in ge]
    if len(expected) > 2 and len(actual) > 2:
        for i, (be, ba, bb) in enumerate(zip(expected[2], actual[2], bound[2])):
            pairs += [(param_name(i, k), be[k], ba[k], bb[k]) for k in be]
    for name, e, a, b in pairs:
        diff = np.abs(np.asarray(a, np.float64) - np.asarray(e, np.float64))
        ratio = diff / rounding.allowed(rounding.lift(b), dtype)
        worst = float(np.max(ratio, initial=0.0)) if np.all(np.isfinite(diff)) else float("inf")
        rows.append(Row(name, float(np.max(diff, initial=0.0)), worst, worst <= 1))
    return rows


def sequential_detectable(result, bound, dtype):
    """The smallest relative error each gradient array of a Sequential's result reveals."""
    out = {}
    for i, (g, b) in enumerate(zip(result[1], bound[1])):
        for k in g:
            value = np.abs(np.asarray(g[k], np.float64))
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(value > 0, rounding.allowed(rounding.lift(b[k]), dtype) / value, np.inf)
            out[param_name(i, k)] = float(np.min(ratio, initial=np.inf))
    return out


def dropout_masks(net, batches, x_shape_of):
    """Step by step, the masks ``net``'s Dropout layers draw in training, the harness's own
    reading of the rule ``manual.layers.dropout`` documents: from a generator in ``net.rng``'s
    state, per step and per Dropout layer in order, ``rng.random(shape) >= p``, the shape
    being the layer's input's for that step's batch (``x_shape_of(batch size, layer index)``)."""
    rng = np.random.default_rng()
    rng.bit_generator.state = net.rng.bit_generator.state
    positions = [i for i, layer in enumerate(net.layers) if layer.kind == "Dropout"]
    if not positions:
        return None
    return [[rng.random(x_shape_of(len(idx), i)) >= net.layers[i].p for i in positions] for idx in batches]
