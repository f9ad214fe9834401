"""The multilayer perceptron: architecture, parameters and the public calls."""

import numpy as np

from . import backprop, checks
from . import layers as nn
from .activations import ACTIVATIONS
from .initializers import INITS, initial_params
from .losses import LOSSES, REDUCTIONS, l2_penalty, loss_and_output_delta
from .model import Model
from .optim import allocate_like
from .sequential import Sequential
from .trace import LayerTrace, Trace

MLP_KEYS = ("sizes", "activations", "loss", "reduction", "bias", "dtype", "l2")
# the layer each activation is, in the MLP's Sequential twin
TWIN_ACTIVATIONS = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "identity": nn.Identity,
    "softmax": nn.Softmax,
}

# view sets kept per batch size (views of the largest batch's buffers): enough for a
# run's full and short last batch and a few evaluation sizes, never unbounded
MAX_WORKSPACE_VIEWS = 8


class MLP(Model):
    """A fully connected net, ``z = a_prev @ W + b`` per layer: the engine's fast path for
    a stack of Linear layers and activations, equal to its ``to_sequential()`` twin.

    sizes: ``[n_in, hidden..., n_out]``; ``[2, 2, 1]`` is the seeds' net.
    activation: one name for every layer, or a list with one name per layer.
    output_activation: the last layer's activation; None keeps ``activation``'s.
    loss: ``"mse"`` (1/2 (a - y)**2 per element), ``"bce"`` (needs a sigmoid
    output) or ``"cross_entropy"`` (needs a softmax output, one-hot targets).
    reduction: ``"sum"`` over the batch (the seeds) or ``"mean"`` (PyTorch's:
    over every element for mse and bce, over samples for cross_entropy).
    l2: scikit-learn's ``alpha``, an L2 penalty ½·l2·Σ‖W‖² on the weights (not the
    biases) added to the loss, divided by the batch size for ``reduction="mean"``
    (by the samples only, where mse's "mean" divides by samples × outputs).
    init: ``"uniform"`` (U[0, 1), seed 000), ``"xavier"`` or ``"he"``,
    drawn from ``np.random.default_rng(seed)``.
    dtype: float32 or float64; params and every intermediate keep it.

    An MLP keeps scratch buffers between calls: share one across threads only
    through ``net.copy()``.
    """

    def __init__(
        self,
        sizes,
        activation="sigmoid",
        output_activation=None,
        loss="mse",
        reduction="sum",
        bias=True,
        init="uniform",
        seed=None,
        dtype=np.float64,
        l2=0.0,
    ):
        sizes, names, dtype = check_architecture(
            sizes, activation, output_activation, loss, reduction, bias, init, dtype
        )
        l2 = checks.check_l2(l2)
        seed = checks.check_seed(seed)
        params = initial_params(sizes, init, seed, bool(bias), dtype)
        self._setup(params, sizes, names, loss, reduction, dtype, l2)

    @classmethod
    def from_params(
        cls,
        params,
        activation="sigmoid",
        output_activation=None,
        loss="mse",
        reduction="sum",
        dtype=None,
        l2=0.0,
    ):
        """A net with the given weights: ``params`` is a list with one
        ``{"W": (n_in, n_out), "b": (n_out,)}`` dict per layer; a layer
        without ``"b"`` has no bias. The arrays are copied. ``dtype=None``
        keeps the arrays' float dtype (float64 for lists and ints)."""
        params, sizes, dtype = checks.check_params(params, dtype)
        names = layer_activations(activation, output_activation, len(sizes) - 1)
        check_loss(loss, reduction, names)
        l2 = checks.check_l2(l2)
        net = cls.__new__(cls)
        net._setup(params, sizes, names, loss, reduction, dtype, l2)
        return net

    @classmethod
    def from_spec(cls, spec, params):
        """The net ``spec`` (``net.spec()``) describes, holding a copy of ``params``; the arrays
        must fit it (the same biases and widths)."""
        net = cls.from_params(
            params,
            activation=list(spec["activations"]),
            loss=spec["loss"],
            reduction=spec["reduction"],
            dtype=spec["dtype"],
            l2=spec.get("l2", 0.0),
        )
        for key in ("sizes", "bias"):
            if list(getattr(net, key)) != list(spec[key]):
                raise ValueError(
                    f"params: they make a net of {key} {list(getattr(net, key))}, the spec says {spec[key]}"
                )
        return net

    def _setup(self, params, sizes, names, loss, reduction, dtype, l2=0.0):
        """Take a copy of ``params`` into one contiguous buffer (``_flat``) with
        a view per W and b (``_params``): optimizers update the whole net at once."""
        self.sizes = tuple(sizes)
        self.activations = tuple(names)
        self.loss_name = loss
        self.reduction = reduction
        self.l2 = l2
        self.dtype = np.dtype(dtype)
        self._flat, self._params = allocate_like(params, self.dtype)
        for mine, given in zip(self._params, params):
            for k in mine:
                mine[k][...] = given[k]
        self._acts = tuple(ACTIVATIONS[n] for n in names)
        self._loss = LOSSES[loss]
        self._full_ws = None  # the buffers of the largest batch so far
        self._ws = {}  # batch size -> a Workspace of views into them

    # ----------------------------------------------------------- structure

    @property
    def params(self):
        """One ``{"W", "b"}`` dict per layer. The arrays are the net's own
        (as ``torch.nn.Module.parameters()``): use ``net.copy()`` to keep a snapshot."""
        return [dict(layer) for layer in self._params]

    @property
    def bias(self):
        """Per layer, whether it has a bias."""
        return tuple("b" in layer for layer in self._params)

    @property
    def n_layers(self):
        return len(self._params)

    @property
    def output_activation(self):
        return self.activations[-1]

    def spec(self):
        """The architecture as plain data (what a checkpoint and the references read)."""
        return {
            "kind": "MLP",
            "sizes": list(self.sizes),
            "activations": list(self.activations),
            "loss": self.loss_name,
            "reduction": self.reduction,
            "bias": list(self.bias),
            "dtype": self.dtype.name,
            "l2": self.l2,
        }

    def with_params(self, params, dtype=None):
        """A net of this architecture holding a copy of ``params`` (one
        ``{"W", "b"}`` dict per layer), in ``dtype`` (default: this net's)."""
        return MLP.from_spec(
            {**self.spec(), "dtype": np.dtype(self.dtype if dtype is None else dtype).name}, params
        )

    def to_sequential(self):
        """The same net as a ``manual.Sequential`` of Linear and activation layers holding a copy
        of these params: the same loss and gradients (``tests/test_sequential.py``). bce and
        cross-entropy take logits there, so the twin ends on the last Linear; its output is
        this net's before the output activation. A net with an L2 penalty has no twin."""
        if self.l2:
            raise ValueError("a Sequential has no L2 penalty: an MLP with l2 has no Sequential twin")
        layers, params = [], []
        for l, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            layers.append(nn.Linear(n_in, n_out, bias=self.bias[l]))
            params.append(dict(self._params[l]))
            fused = l == self.n_layers - 1 and self._loss.output_activation is not None
            if not fused:
                layers.append(TWIN_ACTIVATIONS[self.activations[l]]())
                params.append({})
        loss = {"mse": "mse", "bce": "bce", "cross_entropy": "cross_entropy"}[self.loss_name]
        return Sequential.from_params(layers, params, loss=loss, reduction=self.reduction, dtype=self.dtype)

    def copy(self):
        """A deep copy: same architecture, its own parameter arrays."""
        net = MLP.__new__(MLP)
        net._setup(
            self._params,
            self.sizes,
            self.activations,
            self.loss_name,
            self.reduction,
            self.dtype,
            self.l2,
        )
        return net

    def __repr__(self):
        return (
            f"MLP({list(self.sizes)}, activations={list(self.activations)}, "
            f"loss={self.loss_name!r}, reduction={self.reduction!r}, "
            f"bias={list(self.bias)}, dtype={self.dtype.name}" + (f", l2={self.l2!r})" if self.l2 else ")")
        )

    # ----------------------------------------------------------- calls

    def forward(self, x):
        """The output ``a_L``, ``(batch, n_out)``, for x ``(batch, n_in)``."""
        x = self._check_x(x)
        return backprop.forward(self._params, self._acts, x, self._workspace(len(x))).copy()

    def loss(self, x, y):
        """The loss, a float; x ``(batch, n_in)``, y ``(batch, n_out)``."""
        x, y = self.check_data(x, y)
        return self._loss_unchecked(x, y)

    def loss_and_grads(self, x, y):
        """``(loss, grads)``: the loss and dL/dparams, ``grads`` shaped like ``net.params``."""
        x, y = self.check_data(x, y)
        _, grads = allocate_like(self._params)
        loss = self.loss_and_grads_into(x, y, grads)
        return loss, grads

    def trace(self, x, y):
        """Every intermediate of one forward and backward pass; ``print()`` it."""
        x, y = self.check_data(x, y)
        ws = backprop.Workspace(self.sizes, len(x), self.dtype)  # its own: the trace keeps the arrays
        _, grads = allocate_like(self._params)
        loss = self._forward_backward(x, y, ws, grads)
        layers = [
            LayerTrace(
                index=l + 1,
                activation=self.activations[l],
                z=ws.z[l],
                a=ws.a[l + 1],
                delta=ws.delta[l],
                dW=grads[l]["W"],
                db=grads[l].get("b"),
            )
            for l in range(self.n_layers)
        ]
        return Trace(self.sizes, self.loss_name, self.reduction, self.dtype, x, y, loss, layers, self.l2)

    # ----------------------------------------------------------- internals

    def _loss_unchecked(self, x, y):
        ws = self._workspace(len(x))
        out = backprop.forward(self._params, self._acts, x, ws)
        # the output delta's buffers serve as the loss's scratch
        loss = loss_and_output_delta(
            self._loss, self._acts[-1], ws.z[-1], out, y, self._scale(y), out=ws.delta[-1], work=ws.work[-1]
        )
        return loss + l2_penalty(self._params, self.l2, self.reduction, len(y)) if self.l2 else loss

    def loss_and_grads_into(self, x, y, grads):
        """The hot path: no validation, writes into ``grads``."""
        return self._forward_backward(x, y, self._workspace(len(x)), grads)

    def _forward_backward(self, x, y, ws, grads):
        out = backprop.forward(self._params, self._acts, x, ws)
        loss = loss_and_output_delta(
            self._loss, self._acts[-1], ws.z[-1], out, y, self._scale(y), out=ws.delta[-1], work=ws.work[-1]
        )
        backprop.backward(self._params, self._acts, ws, grads)
        if self.l2:
            loss += l2_penalty(self._params, self.l2, self.reduction, len(y), grads)
        return loss

    def _workspace(self, batch):
        ws = self._ws.get(batch)
        if ws is None:
            if self._full_ws is None or batch > self._full_ws.batch:
                self._full_ws = backprop.Workspace(self.sizes, batch, self.dtype)
                self._ws = {}
            if len(self._ws) >= MAX_WORKSPACE_VIEWS:
                self._ws = {}
            ws = self._ws[batch] = self._full_ws.rows(batch)
        return ws

    def _scale(self, y):
        return self._loss.scale(self.reduction, *y.shape)

    def _check_x(self, x):
        return checks.check_x(x, self.sizes[0], self.dtype)

    def check_data(self, x, y):
        """x ``(batch, n_in)`` and y ``(batch, n_out)`` validated, in the net's dtype."""
        x = checks.check_x(x, self.sizes[0], self.dtype)
        y = checks.check_y(y, len(x), self.sizes[-1], self.loss_name, self.dtype)
        return x, y


def check_architecture(sizes, activation, output_activation, loss, reduction, bias, init, dtype):
    """An MLP's (or an Ensemble's) arguments checked: ``(sizes, activation names, dtype)``."""
    sizes = checks.check_sizes(sizes)
    dtype = checks.check_dtype(dtype)
    checks.check_choice("init", init, INITS)
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"bias: expected True or False, got {bias!r}")
    names = layer_activations(activation, output_activation, len(sizes) - 1)
    check_loss(loss, reduction, names)
    return sizes, names, dtype


def layer_activations(activation, output_activation, n_layers):
    if isinstance(activation, str):
        names = [activation] * n_layers
    elif isinstance(activation, (list, tuple)):
        names = list(activation)
        if len(names) != n_layers:
            raise ValueError(
                f"activation: expected one name or a list of {n_layers} names (one per layer), "
                f"got {len(names)}: {names!r}"
            )
    else:
        raise TypeError(f"activation: expected a name or a list of names, got {activation!r}")
    if output_activation is not None:
        names[-1] = output_activation
    for name in names:
        checks.check_choice("activation", name, ACTIVATIONS)
    for i, name in enumerate(names[:-1], start=1):
        if name == "softmax":
            raise ValueError(
                f"activation: softmax is only allowed on the output layer (layer {n_layers}), "
                f"got it on layer {i} of {n_layers}"
            )
    return names


def check_loss(loss, reduction, names):
    checks.check_choice("loss", loss, LOSSES)
    checks.check_choice("reduction", reduction, REDUCTIONS)
    wanted = LOSSES[loss].output_activation
    if wanted is not None and names[-1] != wanted:
        raise ValueError(
            f"loss {loss!r} expects a {wanted} output layer, got {names[-1]!r}; "
            f"pass output_activation={wanted!r}"
        )
