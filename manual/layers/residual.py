"""Residual: out = x + f(x), f the given layers in order (a pre-norm transformer block's skip).

    forward    h⁰ = x,  hⁱ⁺¹ = layerⁱ(hⁱ),  out = x + hⁿ          f must keep x's shape
    backward   g = ∂L/∂out through the layers in reverse: gⁱ = layerⁱ.backward(gⁱ⁺¹)
               ∂L/∂x = g⁰ + ∂L/∂out                              (the skip path adds ∂L/∂out)

Params and buffers are one flat dict named as torch's state_dict names a submodule's:
``"0.gamma"``, ``"1.W_q"`` (inner layer index, then its own name).
"""

from .base import Layer, describe


class Residual(Layer):
    """``x + nn.Sequential(*layers)(x)``: ``layers`` a non-empty list of layers whose chain keeps
    the input's shape (e.g. ``[LayerNorm(E), MultiheadAttention(E, 4, causal=True)]``)."""

    kind = "Residual"
    takes_layers = True  # from_config rebuilds the "layers" of its config

    def __init__(self, layers):
        if isinstance(layers, Layer) or not isinstance(layers, (list, tuple)) or not layers:
            raise TypeError(f"layers: expected a non-empty list of layers, got {type(layers).__name__}")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{i}]: expected a layer (manual.Linear(...), ...), got {layer!r}")
            if layer.takes_indices:
                raise ValueError(f"layers[{i}]: {layer!r} takes integer indices: x + f(x) needs float x")
            if layer.draws:
                raise ValueError(
                    f"layers[{i}]: {layer!r} inside a Residual is not supported yet (the harness replays "
                    "only a Sequential's own Dropout masks); put it after the Residual"
                )
        self.layers = tuple(layers)
        self.draws = any(layer.draws for layer in self.layers)
        self.has_modes = any(layer.has_modes for layer in self.layers)

    def config(self):
        return {"layers": [describe(layer) for layer in self.layers]}

    def __repr__(self):
        return f"Residual([{', '.join(repr(layer) for layer in self.layers)}])"

    def _named(self, per_layer):
        return {f"{i}.{k}": v for i, d in enumerate(per_layer) for k, v in d.items()}

    def _split(self, named, i):
        prefix = f"{i}."
        return {k[len(prefix) :]: v for k, v in (named or {}).items() if k.startswith(prefix)}

    def param_shapes(self):
        return self._named([layer.param_shapes() for layer in self.layers])

    def init_params(self, rng, dtype):
        return self._named([layer.init_params(rng, dtype) for layer in self.layers])

    def init_buffers(self, dtype):
        return self._named([layer.init_buffers(dtype) for layer in self.layers])

    def _chain(self, shape, batch=None):
        out = shape
        for i, layer in enumerate(self.layers):
            try:
                if batch is not None:
                    layer.check_batch(batch, out)
                out = layer.output_shape(out)
            except ValueError as err:
                raise ValueError(f"inner layer {i} ({layer!r}): {err}") from None
        return out

    def output_shape(self, shape):
        out = self._chain(shape)
        if shape is not None and out is not None and not _alike(shape, out):
            raise ValueError(
                f"x + f(x) needs f to keep the shape: the layers [{', '.join(map(repr, self.layers))}] "
                f"turn per-sample shape {_shown(shape)} into {_shown(out)}"
            )
        return shape

    def check_batch(self, batch, shape):
        self._chain(shape, batch)

    def forward(self, params, x, *, train=False, rng=None, buffers=None):
        h, caches = x, []
        for i, layer in enumerate(self.layers):
            h, cache = layer.forward(
                self._split(params, i), h, train=train, rng=rng, buffers=self._split(buffers, i)
            )
            caches.append(cache)
        return x + h, caches

    def backward(self, dout, cache):
        g, grads = dout, [None] * len(self.layers)
        for i in reversed(range(len(self.layers))):
            g, grads[i] = self.layers[i].backward(g, cache[i])
        dx = g + dout  # the skip path
        return dx, self._named(grads)


def _shown(shape):
    return (
        "(" + ", ".join("..." if s is ... else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
    )


def _alike(a, b):
    """Equal shapes, an unknown axis (None, or a leading ...) matching any."""
    if ... in a or ... in b:
        a, b = [s for s in a if s is not ...], [s for s in b if s is not ...]
        n = min(len(a), len(b))
        a, b = a[len(a) - n :], b[len(b) - n :]
    return len(a) == len(b) and all(p is None or q is None or p == q for p, q in zip(a, b))
