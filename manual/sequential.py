"""``Sequential``: layers in order, then a loss head on the last one's output.

    net = manual.Sequential([manual.Embedding(27, 10), manual.Flatten(), manual.Linear(30, 200),
                             manual.BatchNorm1d(200), manual.Tanh(), manual.Linear(200, 27)],
                            loss="cross_entropy", seed=0)
    loss, grads = net.loss_and_grads(x, y)      # train mode: batch statistics, dropout drawn
    logits = net.forward(x)                     # eval mode: running statistics, no dropout

Every layer is one of ``manual.layers``' kinds, each with its forward and its
backward side by side; this module only chains them:

    forward    a⁰ = x,  aⁱ⁺¹, cacheⁱ = layerⁱ.forward(paramsⁱ, aⁱ)
    loss       L, g = head(aⁿ, y)                       (``losses.HEADS``: mse, bce, cross_entropy, nll)
    backward   g, gradsⁱ = layerⁱ.backward(g, cacheⁱ)   for i = n − 1 down to 0

``net.params`` is a list with one dict of named arrays per layer (an empty dict
for a layer without params), views of one contiguous buffer that the
optimizers update at once; a parameter is addressed as ``(layer index, name)``.
``net.buffers`` holds each layer's running statistics, updated by every
train-mode forward (as PyTorch's). Dropout's masks come from ``net.rng``, a
``numpy.random.Generator`` (``np.random.default_rng((seed, 1))``), drawn in layer
order, one ``rng.random(x.shape)`` per Dropout layer per train-mode forward.
"""

import numpy as np

from . import checks
from .layers import Layer, describe, from_config
from .layers.base import where
from .losses import HEADS, REDUCTIONS
from .model import Model
from .optim import allocate_like
from .trace import SequentialTrace

SEQUENTIAL_KEYS = ("layers", "loss", "reduction", "dtype")


class Sequential(Model):
    """layers: a list of ``manual.layers`` kinds. loss: ``"mse"``, ``"bce"`` (on logits),
    ``"cross_entropy"`` (on logits; integer labels or probabilities) or ``"nll"`` (on
    log-probabilities, integer labels); reduction: ``"mean"`` (PyTorch's default) or
    ``"sum"``. seed: the params are drawn from ``np.random.default_rng(seed)``, layer by
    layer, in each layer's ``param_shapes`` order, as PyTorch initializes each kind.
    dtype: float32 or float64; params, buffers and every intermediate keep it."""

    def __init__(self, layers, loss="cross_entropy", reduction="mean", seed=None, dtype=np.float64):
        layers = check_layers(layers, loss)
        checks.check_choice("reduction", reduction, REDUCTIONS)
        dtype = checks.check_dtype(dtype)
        seed = checks.check_seed(seed)
        rng = np.random.default_rng(seed)
        params = [layer.init_params(rng, dtype) for layer in layers]
        buffers = [layer.init_buffers(dtype) for layer in layers]
        self._setup(layers, params, buffers, loss, reduction, dtype, _dropout_rng(seed))

    @classmethod
    def from_params(
        cls, layers, params, buffers=None, loss="cross_entropy", reduction="mean", dtype=None, seed=None
    ):
        """A net of these layers holding a copy of ``params`` (one dict per layer) and of
        ``buffers`` (default: each layer's fresh ones). ``dtype=None`` keeps the arrays'."""
        layers = check_layers(layers, loss)
        checks.check_choice("reduction", reduction, REDUCTIONS)
        params, dtype = check_params(layers, params, dtype)
        buffers = check_buffers(layers, buffers, dtype)
        net = cls.__new__(cls)
        net._setup(layers, params, buffers, loss, reduction, dtype, _dropout_rng(checks.check_seed(seed)))
        return net

    @classmethod
    def from_spec(cls, spec, params, buffers=None):
        """The net ``spec`` (``net.spec()``) describes, holding a copy of params and buffers."""
        return cls.from_params(
            spec["layers"],
            params,
            buffers,
            loss=spec["loss"],
            reduction=spec["reduction"],
            dtype=spec["dtype"],
        )

    def _setup(self, layers, params, buffers, loss, reduction, dtype, rng):
        self.layers = tuple(layers)
        self.loss_name = loss
        self.reduction = reduction
        self.dtype = np.dtype(dtype)
        self._head = HEADS[loss]
        self._flat, self._params = allocate_like(params, self.dtype)
        for mine, given in zip(self._params, params):
            for k in mine:
                mine[k][...] = given[k]
        self._buffers = [{k: np.array(v, dtype=self.dtype) for k, v in b.items()} for b in buffers]
        self.rng = rng
        self._shape_key = None

    # ----------------------------------------------------------- structure

    @property
    def params(self):
        """One dict of named arrays per layer; the net's own arrays (``net.copy()`` for a snapshot)."""
        return [dict(p) for p in self._params]

    @property
    def buffers(self):
        """One dict of running statistics per layer; the net's own arrays."""
        return [dict(b) for b in self._buffers]

    def spec(self):
        """The architecture as plain data (what a checkpoint and the references read)."""
        return {
            "kind": "Sequential",
            "layers": [describe(layer) for layer in self.layers],
            "loss": self.loss_name,
            "reduction": self.reduction,
            "dtype": self.dtype.name,
        }

    def with_params(self, params, buffers=None, dtype=None):
        """A net of these layers holding a copy of ``params`` (and ``buffers``, default this
        net's), in ``dtype`` (default this net's); its dropout generator continues this one's."""
        spec = {**self.spec(), "dtype": np.dtype(self.dtype if dtype is None else dtype).name}
        net = Sequential.from_spec(spec, params, self._buffers if buffers is None else buffers)
        net.rng.bit_generator.state = self.rng.bit_generator.state
        return net

    def copy(self):
        return self.with_params(self._params)

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return (
            f"Sequential([{inner}], loss={self.loss_name!r}, reduction={self.reduction!r}, "
            f"dtype={self.dtype.name})"
        )

    # ----------------------------------------------------------- calls

    def forward(self, x, train=False, rng=None):
        """The last layer's output for x ``(batch, ...)``; eval mode unless ``train``."""
        x = self.check_input(x, train)
        out, _ = self._forward(x, train, self._rng(rng))
        return out.copy() if np.shares_memory(out, x) else out

    def loss(self, x, y, train=False, rng=None):
        """The loss, a float; eval mode (running statistics, no dropout) unless ``train``."""
        x, y = self.check_data(x, y, train)
        out, _ = self._forward(x, train, self._rng(rng))
        return self._head.value_and_grad(out, y, self.reduction)[0]

    def loss_and_grads(self, x, y, train=True, rng=None):
        """``(loss, grads)`` in train mode (batch statistics, running ones updated, dropout drawn
        from ``rng`` or ``net.rng``); ``grads`` shaped exactly like ``net.params``."""
        x, y = self.check_data(x, y, train)
        _, grads = allocate_like(self._params)
        loss = self._loss_and_grads(x, y, grads, train, self._rng(rng))
        return loss, grads

    def loss_and_grads_into(self, x, y, grads):
        """The hot path of training: train mode, no validation, ``grads`` written in place."""
        return self._loss_and_grads(x, y, grads, True, self.rng)

    def trace(self, x, y, train=True, rng=None):
        """Every layer's output and gradient of one forward and backward pass; ``print()`` it."""
        x, y = self.check_data(x, y, train)
        _, grads = allocate_like(self._params)
        outputs, douts = [], []
        loss = self._loss_and_grads(x, y, grads, train, self._rng(rng), outputs, douts)
        return SequentialTrace(self, x, y, loss, outputs, douts, grads, train)

    # ----------------------------------------------------------- internals

    def _rng(self, rng):
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng: expected None or a numpy.random.Generator, got {type(rng).__name__}")
        return self.rng if rng is None else rng

    def _forward(self, x, train, rng, outputs=None):
        caches = []
        for layer, params, buffers in zip(self.layers, self._params, self._buffers):
            x, cache = layer.forward(params, x, train=train, rng=rng, buffers=buffers)
            caches.append(cache)
            if outputs is not None:
                outputs.append(x)
        return x, caches

    def _loss_and_grads(self, x, y, grads, train, rng, outputs=None, douts=None):
        out, caches = self._forward(x, train, rng, outputs)
        loss, g = self._head.value_and_grad(out, y, self.reduction)
        for i in reversed(range(len(self.layers))):
            if douts is not None:
                douts.insert(0, g)
            g, layer_grads = self.layers[i].backward(g, caches[i])
            for k, v in layer_grads.items():
                np.copyto(grads[i][k], v)
        return loss

    # ----------------------------------------------------------- the model protocol

    def check_input(self, x, train=False):
        """x as the first layer takes it: integer indices for an Embedding, else floats of the
        net's dtype; its shape checked through every layer before anything is computed."""
        first = self.layers[0]
        if first.takes_indices:
            x = np.asarray(x)
            if x.ndim < 1 or x.shape[0] == 0:
                raise ValueError(
                    f"x: expected a non-empty batch of indices (batch, ...), got shape {x.shape}"
                )
            try:
                first.check_indices(x)
            except (TypeError, ValueError) as err:
                raise type(err)(f"x, for {where(0, first)}: {err}") from None
        else:
            kind = np.asarray(x).dtype.kind
            if kind in "iub":
                what = "booleans" if kind == "b" else "integers"
                raise TypeError(
                    f"x: expected floats ({self.dtype.name}, the net's dtype) for {first!r}, got "
                    f"{np.asarray(x).dtype} {what}; indices want an Embedding as the first layer, "
                    f"numbers .astype(np.{self.dtype.name})"
                )
            x = checks.as_array("x", x, self.dtype)
            if x.ndim < 2 or x.shape[0] == 0:
                raise ValueError(
                    f"x: expected a non-empty batch, shape (batch, features...), got shape {x.shape}"
                    + ("; for a single sample use x[None]" if x.ndim == 1 else "")
                )
            checks.check_finite("x", x)
        key = (x.shape, bool(train))
        if key != self._shape_key:  # the last batch's shape, checked once: a loop's batches repeat it
            self._out_shape = output_shape(self.layers, x.shape[1:], len(x), train)
            self._shape_key = key
        return x

    def check_data(self, x, y, train=True):
        x = self.check_input(x, train)
        y = check_target(self._head, y, (len(x), *self._out_shape), self.dtype)
        return x, y

    def check_batches(self, x, sizes):
        for size in sorted(sizes):
            try:
                output_shape(self.layers, x.shape[1:], size, True)
            except ValueError as err:
                raise ValueError(f"a train-mode batch of {size}: {err}") from None

    def run_state(self):
        """The dropout generator's state (a resumed run draws the masks an unbroken one would)."""
        return {"rng": self.rng.bit_generator.state} if any(layer.draws for layer in self.layers) else {}

    def restore_run_state(self, state):
        if "rng" in state:
            self.rng.bit_generator.state = state["rng"]


def _dropout_rng(seed):
    return np.random.default_rng(None if seed is None else (seed, 1))


def check_layers(layers, loss):
    """A non-empty list of layers; an Embedding only first; a head its last layer can feed."""
    if isinstance(layers, Layer) or not isinstance(layers, (list, tuple)) or not layers:
        raise TypeError(
            f"layers: expected a non-empty list of layers (manual.Linear(...), manual.ReLU(), ...), "
            f"got {type(layers).__name__}"
        )
    layers = [from_config(layer) if isinstance(layer, dict) else layer for layer in layers]
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(f"layers[{i}]: expected a layer (manual.Linear(...), ...), got {layer!r}")
        if layer.takes_indices and i > 0:
            raise ValueError(f"layers[{i}]: {layer!r} takes integer indices, so it can only come first")
    checks.check_choice("loss", loss, HEADS)
    last = layers[-1].kind
    if loss in ("cross_entropy", "bce") and last in ("Softmax", "Sigmoid", "LogSoftmax"):
        applies = "softmax" if loss == "cross_entropy" else "sigmoid"
        raise ValueError(
            f"loss {loss!r} takes logits (it applies the {applies} itself), but the last layer is "
            f"{last}: drop it"
            + (" (or use loss='nll' after a LogSoftmax)" if loss == "cross_entropy" else "")
        )
    if loss == "nll" and last != "LogSoftmax":
        raise ValueError(f"loss 'nll' takes log-probabilities: expected a LogSoftmax last layer, got {last}")
    output_shape(layers, None, None, False)  # what can be told without data (Linear widths that do not chain)
    return layers


def output_shape(layers, shape, batch, train):
    """The per-sample output shape of ``layers`` for a per-sample input ``shape``; ValueError
    naming the first layer that cannot take its input."""
    for i, layer in enumerate(layers):
        try:
            out = layer.output_shape(shape)
            if train and batch is not None:
                layer.check_batch(batch, shape)
        except ValueError as err:
            raise ValueError(f"{where(i, layer)}: {err}") from None
        shape = out
    return shape


def check_target(head, y, out_shape, dtype):
    """y as the loss head takes it, for outputs of shape ``out_shape``."""
    arr = np.asarray(y) if hasattr(y, "__array__") or isinstance(y, (list, tuple)) else None
    if arr is None:
        raise TypeError(f"y: expected an array, got {type(y).__name__}")
    if arr.dtype.kind in "iu" and head.labels != "never":
        want = out_shape[:-1]
        if arr.shape != want:
            raise ValueError(
                f"y: expected integer labels of shape {want} (one per position), got shape {arr.shape}"
            )
        checks.check_interval("y: expected labels", arr, 0, out_shape[-1])
        return arr
    if head.labels == "always":
        raise TypeError(f"y: loss {head.name!r} takes integer labels, got dtype {arr.dtype}")
    y = checks.as_array("y", y, dtype)
    if y.shape != tuple(out_shape):
        hint = f"; or integer labels of shape {tuple(out_shape[:-1])}" if head.labels == "may" else ""
        raise ValueError(f"y: expected shape {tuple(out_shape)} (the output's){hint}, got shape {y.shape}")
    checks.check_finite("y", y)
    if head.name == "bce":
        checks.check_interval("y: bce expects targets", y, 0, 1, closed=True)
    return y


def check_params(layers, params, dtype):
    """One dict per layer with exactly its param names and shapes, all of one float dtype."""
    _check_list("params", params, layers)
    found = {np.asarray(v).dtype for p in params for v in (p.values() if isinstance(p, dict) else [])}
    floats = {d for d in found if d.kind == "f"}
    if dtype is None:
        if len(floats) > 1:
            raise TypeError(
                f"params: expected one float dtype, got {sorted(d.name for d in floats)}; pass dtype="
            )
        dtype = floats.pop() if floats else np.dtype(np.float64)
    dtype = checks.check_dtype(dtype)
    out = [
        _layer_arrays("params", i, layer, p, layer.param_shapes(), dtype)
        for i, (layer, p) in enumerate(zip(layers, params))
    ]
    return out, dtype


def check_buffers(layers, buffers, dtype):
    """One dict per layer with exactly its buffers' names and shapes (default: fresh ones)."""
    if buffers is None:
        return [layer.init_buffers(dtype) for layer in layers]
    _check_list("buffers", buffers, layers)
    out = []
    for i, (layer, b) in enumerate(zip(layers, buffers)):
        shapes = {k: v.shape for k, v in layer.init_buffers(dtype).items()}
        entry = _layer_arrays("buffers", i, layer, b, shapes, dtype)
        # a Residual's inner BatchNorm names it "1.running_var"
        for name in [k for k in entry if k.rpartition(".")[2] == "running_var"]:
            if (entry[name] < 0).any():
                j = int(np.argmax(entry[name] < 0))
                raise ValueError(
                    f"buffers[{i}][{name!r}]: expected variances >= 0, got {entry[name][j]} at {j}"
                )
        out.append(entry)
    return out


def _check_list(what, given, layers):
    if not isinstance(given, (list, tuple)) or len(given) != len(layers):
        raise TypeError(
            f"{what}: expected a list of {len(layers)} dicts, one per layer, got "
            + (f"{len(given)}" if isinstance(given, (list, tuple)) else type(given).__name__)
        )


def _layer_arrays(what, i, layer, given, shapes, dtype):
    """``given`` as layer i's dict of arrays of these ``shapes`` in ``dtype``: its names, shapes,
    a number dtype and finite values checked."""
    if not isinstance(given, dict) or set(given) != set(shapes):
        got = sorted(given) if isinstance(given, dict) else type(given).__name__
        raise ValueError(f"{what}[{i}] ({layer!r}): expected keys {sorted(shapes)}, got {got}")
    entry = {}
    for k, shape in shapes.items():
        arr = np.asarray(given[k])
        if arr.shape != tuple(shape):
            raise ValueError(
                f"{what}[{i}][{k!r}] ({layer!r}): expected shape {tuple(shape)}, got {arr.shape}"
            )
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{what}[{i}][{k!r}]: expected a float array, got dtype {arr.dtype}")
        entry[k] = np.array(arr, dtype=dtype)
        checks.check_finite(f"{what}[{i}][{k!r}]", entry[k])
    return entry
