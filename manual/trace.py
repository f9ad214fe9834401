"""A record of every number one forward and backward pass computes,
printed the way seed 002 walks through them: an MLP's (``Trace``) and a
Sequential's (``SequentialTrace``)."""

from dataclasses import dataclass, field

import numpy as np

from .losses import LOSSES, l2_divisor


@dataclass
class LayerTrace:
    """One layer's numbers; every array is ``(batch, n_out)`` except dW
    ``(n_in, n_out)`` and db ``(n_out,)``."""

    index: int  # 1-based, as in the seeds' z1, a1, W1
    activation: str
    z: np.ndarray
    a: np.ndarray
    delta: np.ndarray
    dW: np.ndarray
    db: np.ndarray | None


@dataclass
class Trace:
    sizes: tuple
    loss_name: str
    reduction: str
    dtype: np.dtype
    x: np.ndarray
    y: np.ndarray
    loss: float
    layers: list = field(default_factory=list)
    l2: float = 0.0  # the net's L2 penalty: in loss and every dW

    @property
    def grads(self):
        """The gradients shaped like ``net.params``."""
        return [{"W": t.dW} if t.db is None else {"W": t.dW, "b": t.db} for t in self.layers]

    def format(self, precision=4, beside=None):
        """The walkthrough as text. ``beside`` maps a parameter name ("W1", "b2")
        to rows ``(label, array, verdict)`` printed under its gradient, e.g.
        the finite-difference value and whether it agrees."""
        return "\n".join(_lines(self, precision, beside or {}))

    def __str__(self):
        return self.format()


def _lines(t, precision, beside):
    L = len(t.layers)
    arch = "-".join(str(s) for s in t.sizes)
    acts = " -> ".join(layer.activation for layer in t.layers)
    batch = t.x.shape[0]
    l2 = f", l2 = {t.l2:g}" if t.l2 else ""
    yield (
        f"{arch} MLP, activations {acts}, loss {t.loss_name} "
        f"({t.reduction} over the batch){l2}, {np.dtype(t.dtype).name}, batch of {batch}"
    )
    yield ""
    yield "forward"
    rows = [("", "x", t.x)]
    for layer in t.layers:
        i = layer.index
        prev = "x" if i == 1 else f"a{i - 1}"
        bias = "" if layer.db is None else f" + b{i}"
        rows.append((f"layer {i}", f"z{i} = {prev} @ W{i}{bias}", layer.z))
        rows.append(("", f"a{i} = {layer.activation}(z{i})", layer.a))
    rows.append(("", "y", t.y))
    yield from _table(rows, precision)
    penalty = f" + l2/2 * sum(W**2){_l2_divisor(t)}" if t.l2 else ""
    yield f"  loss = {t.loss_name}(a{L}, y), {t.reduction}{penalty}: {_num(t.loss, precision)}"
    yield ""
    yield "backward"
    rows = []
    for layer in reversed(t.layers):
        i = layer.index
        prev = "x" if i == 1 else f"a{i - 1}"
        if i == L:
            formula = _output_delta_formula(t, layer)
        else:
            formula = f"delta{i} = (delta{i + 1} @ W{i + 1}.T) * {layer.activation}'(z{i})"
        rows.append((f"layer {i}", formula, layer.delta))
        penalty = f" + l2 * W{i}{_l2_divisor(t)}" if t.l2 else ""
        rows.append(("", f"dW{i} = {prev}.T @ delta{i}{penalty}", layer.dW))
        rows += [("", f"  {label}", arr, verdict) for label, arr, verdict in beside.get(f"W{i}", [])]
        if layer.db is not None:
            rows.append(("", f"db{i} = sum of delta{i} over the batch", layer.db))
            rows += [("", f"  {label}", arr, verdict) for label, arr, verdict in beside.get(f"b{i}", [])]
    yield from _table(rows, precision)
    out = t.layers[-1].activation
    if LOSSES[t.loss_name].output_activation is not None:
        yield f"  ({out} + {t.loss_name}: dL/da{L} * {out}'(z{L}) simplifies to a{L} - y, see seed 002)"


def _l2_divisor(t):
    divisor = l2_divisor(t.reduction, len(t.y))
    return f" / {divisor}" if divisor != 1 else ""


def _output_delta_formula(t, layer):
    i = layer.index
    loss = LOSSES[t.loss_name]
    per = f" / {loss.mean_count(*t.y.shape)}" if t.reduction == "mean" else ""
    if loss.output_activation is not None:
        return f"delta{i} = (a{i} - y){per}"
    if layer.activation == "softmax":
        return f"delta{i} = a{i} * (g - sum(g * a{i})), g = (a{i} - y){per}"
    return f"delta{i} = (a{i} - y){per} * {layer.activation}'(z{i})"


def _table(rows, precision):
    width = max(len(r[1]) for r in rows)
    for label, formula, arr, *note in rows:
        note = [n for n in note if n]
        head = f"  {label:<8} {formula:<{width}}  {str(np.shape(arr)):<9} "
        body = np.array2string(np.asarray(arr), precision=precision, suppress_small=True, max_line_width=200)
        pad = " " * len(head)
        tail = f"   {note[0]}" if note and note[0] else ""
        yield head + body.replace("\n", "\n" + pad) + tail


def _num(v, precision):
    return (
        np.format_float_positional(v, precision=precision, unique=True, trim="-")
        if abs(v) >= 1e-4 or v == 0
        else f"{v:.{precision}e}"
    )


@dataclass
class SequentialTrace:
    """One forward and backward pass of a ``Sequential``: per layer i its output
    ``outputs[i]``, the gradient ``douts[i]`` = ∂L/∂(its output), and ``grads[i]``
    (its params' gradients, shaped like ``net.params[i]``)."""

    net: object
    x: np.ndarray
    y: np.ndarray
    loss: float
    outputs: list
    douts: list
    grads: list
    train: bool

    def format(self, precision=4):
        return "\n".join(_sequential_lines(self, precision))

    def __str__(self):
        return self.format()


def _sequential_lines(t, precision):
    net = t.net
    mode = "train mode" if t.train else "eval mode"
    yield (
        f"Sequential of {len(net.layers)} layers, loss {net.loss_name} ({net.reduction}), "
        f"{net.dtype.name}, batch of {len(t.x)}, {mode}"
    )
    yield ""
    yield "forward"
    rows = [("", "x", t.x, None)]
    for i, (layer, out) in enumerate(zip(net.layers, t.outputs)):
        rows.append((f"layer {i}", f"{layer!r}", out, None))
    rows.append(("", "y", t.y, None))
    yield from _table(rows, precision)
    yield f"  loss = {net.loss_name}(out, y), {net.reduction}: {_num(t.loss, precision)}"
    yield ""
    yield "backward (dL/d of each layer's output, then its params' gradients)"
    rows = []
    for i in reversed(range(len(net.layers))):
        rows.append((f"layer {i}", f"dL/d out of {net.layers[i]!r}", t.douts[i], None))
        for k, g in t.grads[i].items():
            rows.append(("", f"d{k}", g, None))
    yield from _table(rows, precision)
