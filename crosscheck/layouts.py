"""How a hand-written backprop lays out its params, data and gradients, and the
adapters between that and the plain layout everything else here uses (one
``{"W": (n_in, n_out), "b": (n_out,)}`` dict per layer, samples as rows).

A user's function is ``fn(params, x, y) -> (loss, grads)``, with params and
grads in the same container and shapes; a training step is
``step(params, x, y, lr) -> new params``. ``Layout`` says which of the
layouts people write it uses:

    weights    "in_out": W is (n_in, n_out), z = a @ W (this engine, seeds 000 and 001)
               "out_in": W is (n_out, n_in), z = W @ a (seed 002, nn.Linear)
    samples    "rows": x is (batch, n_in) (this engine, PyTorch); "columns": (n_in, batch)
    bias       "flat": b is (n_out,); "row": (1, n_out) (seed 000); "column": (n_out, 1)
    container  "layers": [{"W": ..., "b": ...}, ...]; "flat": [W1, b1, W2, ...];
               "dict": {"W1": ..., "b1": ..., "W2": ...}

A gradient may also come squeezed, a vector where its layout has a
dimension of 1 (seed 002's dW2 is (2,) for a (1, 2) W). The loss may be a
float or a 0-d or one-element array. Shapes that fit the layout nowhere are
a ``LayoutError`` that says which layout they would fit.

Arrays may be NumPy arrays, lists or numbers, PyTorch tensors (detached and
moved to the CPU first, so a tensor that still requires grad is fine), JAX
arrays, or anything else NumPy converts (``__array__``). The dtype each came in
is kept (``from_user``'s second result): a float32 gradient for a float64 net
is a matter of precision, which the diagnosis tells from a mistake.
"""

import dataclasses
import numbers
from dataclasses import dataclass

import numpy as np

CHOICES = {
    "weights": ("in_out", "out_in"),
    "samples": ("rows", "columns"),
    "bias": ("flat", "row", "column"),
    "container": ("layers", "flat", "dict"),
}


class LayoutError(ValueError):
    """What a user's function took or returned does not fit its layout."""


@dataclass(frozen=True)
class Layout:
    weights: str = "in_out"
    samples: str = "rows"
    bias: str = "flat"
    container: str = "layers"

    def __post_init__(self):
        for key, valid in CHOICES.items():
            if getattr(self, key) not in valid:
                raise LayoutError(f"layout {key}={getattr(self, key)!r}: expected one of {', '.join(valid)}")

    def describe(self):
        return ", ".join(f"{k}={getattr(self, k)}" for k in CHOICES)

    # ------------------------------------------------------------ shapes

    def weight_shape(self, n_in, n_out):
        return (n_in, n_out) if self.weights == "in_out" else (n_out, n_in)

    def bias_shape(self, n_out):
        return {"flat": (n_out,), "row": (1, n_out), "column": (n_out, 1)}[self.bias]

    def user_index(self, name, index, n_out):
        """Where the entry at ``index`` of the plain layout's W or b (a layer of ``n_out``
        units) sits in the user's array: what a report shows them."""
        if name == "W":
            return tuple(index) if self.weights == "in_out" else tuple(index)[::-1]
        return tuple(int(i) for i in np.unravel_index(index[0], self.bias_shape(n_out)))

    # ------------------------------------------------------------ to the user

    def params_to_user(self, params):
        """Plain params as the function takes them (copies)."""
        arrays = []
        for layer in params:
            W = np.array(layer["W"] if self.weights == "in_out" else layer["W"].T)
            entry = {"W": W}
            if "b" in layer:
                entry["b"] = np.array(layer["b"]).reshape(self.bias_shape(len(layer["b"])))
            arrays.append(entry)
        return self._pack(arrays)

    def data_to_user(self, x, y):
        if self.samples == "columns":
            return np.array(x.T), np.array(y.T)
        return np.array(x), np.array(y)

    def _pack(self, layers):
        if self.container == "layers":
            return layers
        if self.container == "flat":
            return [layer[k] for layer in layers for k in ("W", "b") if k in layer]
        return {
            f"{k}{l}": layer[k] for l, layer in enumerate(layers, start=1) for k in ("W", "b") if k in layer
        }

    # ------------------------------------------------------------ from the user

    def loss_from_user(self, loss):
        """``(value, dtype name)``: a float from a float, a 0-d or a one-element array."""
        if isinstance(loss, numbers.Real) and not isinstance(loss, (bool, np.bool_)):
            return float(loss), np.asarray(loss).dtype.name if isinstance(loss, np.generic) else "float64"
        arr, dtype = to_numpy(loss, "loss")
        if arr.dtype.kind not in "fiu":
            raise LayoutError(f"loss: expected a number, got {type(loss).__name__} of dtype {arr.dtype}")
        if arr.size != 1:
            raise LayoutError(
                f"loss: expected a number or a one-element array, got {type(loss).__name__} "
                f"of shape {arr.shape}"
            )
        return float(arr.reshape(())), dtype

    def params_from_user(self, values, spec, what="grads"):
        """``(arrays, dtypes)``: plain-layout arrays (float64) from what the function
        returned, checked against the spec, and beside each the name of the dtype it
        came in (``[{"W": "float32", ...}, ...]``)."""
        layers = self._unpack(values, spec, what)
        out, dtypes = [], []
        for l, (layer, n_in, n_out, has_bias) in enumerate(
            zip(layers, spec["sizes"][:-1], spec["sizes"][1:], spec["bias"]), start=1
        ):
            W, dW = self._fit(
                layer["W"], self.weight_shape(n_in, n_out), f"{what}: W{l}", self._weights_hint(n_in, n_out)
            )
            entry, kinds = {"W": W if self.weights == "in_out" else W.T}, {"W": dW}
            if has_bias:
                b, db = self._fit(layer["b"], self.bias_shape(n_out), f"{what}: b{l}", self._bias_hint(n_out))
                entry["b"], kinds["b"] = b.reshape(n_out), db
            out.append(entry)
            dtypes.append(kinds)
        return out, dtypes

    def _unpack(self, values, spec, what):
        names = [
            (l, k)
            for l, has_bias in enumerate(spec["bias"], start=1)
            for k in ("W", "b")
            if k == "W" or has_bias
        ]
        n_layers = len(spec["bias"])
        if self.container == "layers":
            if not isinstance(values, (list, tuple)) or not all(isinstance(v, dict) for v in values):
                raise LayoutError(
                    f"{what}: container='layers' expects a list of {{'W': ..., 'b': ...}} dicts, "
                    f"got {_kind(values)}{_container_hint(values)}"
                )
            if len(values) != n_layers:
                raise LayoutError(f"{what}: expected {n_layers} layers, got {len(values)}")
            for l, layer in enumerate(values, start=1):
                want = {"W", "b"} if spec["bias"][l - 1] else {"W"}
                if set(layer) != want:
                    raise LayoutError(f"{what}: layer {l} has keys {sorted(layer)}, expected {sorted(want)}")
            return values
        if self.container == "flat":
            flat = isinstance(values, (list, tuple)) and not any(isinstance(v, dict) for v in values)
            if not flat:
                raise LayoutError(
                    f"{what}: container='flat' expects a list [W1, b1, W2, ...], "
                    f"got {_kind(values)}{_container_hint(values)}"
                )
            if len(values) != len(names):
                order = ", ".join(f"{k}{l}" for l, k in names)
                raise LayoutError(f"{what}: expected {len(names)} arrays ({order}), got {len(values)}")
            layers = [{} for _ in range(n_layers)]
            for (l, k), v in zip(names, values):
                layers[l - 1][k] = v
            return layers
        if not isinstance(values, dict):
            raise LayoutError(
                f"{what}: container='dict' expects {{'W1': ..., 'b1': ...}}, "
                f"got {_kind(values)}{_container_hint(values)}"
            )
        want = {f"{k}{l}" for l, k in names}
        if set(values) != want:
            raise LayoutError(f"{what}: keys {sorted(values)}, expected {sorted(want)}")
        layers = [{} for _ in range(n_layers)]
        for l, k in names:
            layers[l - 1][k] = values[f"{k}{l}"]
        return layers

    @staticmethod
    def _fit(value, shape, name, hint):
        """``(array as float64 in shape, the dtype name it came in)``."""
        if value is None:
            raise LayoutError(f"{name} is None; expected an array of shape {shape}")
        arr, dtype = to_numpy(value, name)
        if arr.dtype.kind not in "fiu":
            raise LayoutError(f"{name}: expected an array of numbers, got dtype {arr.dtype}")
        if arr.shape == shape:
            return arr.astype(np.float64), dtype
        # a squeezed vector where the layout has a dimension of 1 (seed 002's dW2)
        if arr.size == int(np.prod(shape)) and tuple(d for d in arr.shape if d != 1) == tuple(
            d for d in shape if d != 1
        ):
            return arr.reshape(shape).astype(np.float64), dtype
        raise LayoutError(f"{name} has shape {arr.shape}, expected {shape}{hint(arr.shape)}")

    def _weights_hint(self, n_in, n_out):
        other = "out_in" if self.weights == "in_out" else "in_out"

        def hint(got):
            if got == dataclasses.replace(self, weights=other).weight_shape(n_in, n_out) and n_in != n_out:
                order = "n_out, n_in" if other == "out_in" else "n_in, n_out"
                return f": that is W in layout weights={other!r} ({order})"
            return ""

        return hint

    def _bias_hint(self, n_out):
        def hint(got):
            fits = [b for b in CHOICES["bias"] if dataclasses.replace(self, bias=b).bias_shape(n_out) == got]
            return f": that is b in layout bias={fits[0]!r}" if fits else ""

        return hint


PRESETS = {
    "engine": Layout(),
    "torch": Layout(weights="out_in"),
    "columns": Layout(weights="out_in", samples="columns", bias="column"),
}


def layout_from(value=None, **keywords):
    """A ``Layout`` from a Layout, a preset name ("engine", "torch", "columns"), a dict,
    a command-line string "weights=out_in,bias=column", and/or keywords."""
    if value is None:
        base = Layout()
    elif isinstance(value, Layout):
        base = value
    elif isinstance(value, dict):
        base = Layout(**value)
    elif isinstance(value, str) and value in PRESETS:
        base = PRESETS[value]
    elif isinstance(value, str):
        pairs = [p.split("=", 1) for p in value.split(",")]
        if not pairs or not all(len(p) == 2 and p[0] in CHOICES for p in pairs):
            raise LayoutError(
                f"layout {value!r}: expected a preset ({', '.join(PRESETS)}) or "
                f"key=value pairs with keys {', '.join(CHOICES)}"
            )
        keys = [k for k, _ in pairs]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise LayoutError(f"layout {value!r}: {', '.join(twice)} given twice; give each once")
        base = Layout(**dict(pairs))
    else:
        raise LayoutError(
            f"layout: expected a Layout, a preset name, a dict or 'key=value,...', got {value!r}"
        )
    unknown = set(keywords) - set(CHOICES)
    if unknown:
        raise LayoutError(f"unknown layout keywords {sorted(unknown)}; expected {', '.join(CHOICES)}")
    return dataclasses.replace(base, **keywords)


def to_numpy(value, name):
    """``(ndarray, dtype name)`` from an array of any kind the module accepts. A PyTorch
    tensor is detached and moved to the CPU (read without importing torch: it has
    ``detach``, ``cpu`` and ``numpy``); a dtype NumPy lacks (bfloat16) is widened to
    float32 and reported by its own name."""
    if all(hasattr(value, a) for a in ("detach", "cpu", "numpy")):
        tensor = value.detach().cpu()
        dtype = str(tensor.dtype).removeprefix("torch.")
        try:
            return np.asarray(tensor.resolve_conj().resolve_neg().numpy()), dtype
        except (TypeError, RuntimeError):
            return np.asarray(tensor.float().numpy()), dtype
    try:
        arr = np.asarray(value)
    except Exception as err:  # a ragged list, an object NumPy cannot read
        raise LayoutError(f"{name}: expected an array, got {type(value).__name__} ({err})") from None
    return arr, arr.dtype.name


def _kind(value):
    if isinstance(value, (list, tuple)):
        inner = type(value[0]).__name__ if value else "nothing"
        return f"a {type(value).__name__} of {inner}"
    return f"a {type(value).__name__}"


def _container_hint(values):
    if isinstance(values, dict):
        return ": that is container='dict'"
    if isinstance(values, (list, tuple)) and values and all(isinstance(v, dict) for v in values):
        return ": that is container='layers'"
    if isinstance(values, (list, tuple)):
        return ": that is container='flat'"
    return ""
