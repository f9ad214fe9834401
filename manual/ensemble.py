"""Many nets of one architecture at once: backprop.py's equations with every
array carrying the nets in its last axis, so one NumPy call serves them all.

Layout (measured, docs/performance.md): nets last. W[l] is ``(n_in, n_out, N)``,
b[l] ``(n_out, N)``, and per layer z, a, δ are ``(batch, units, N)``: every
elementwise call runs unit-stride over the nets, and for the small fan-ins this
is for, ``np.einsum`` over the last axis beats a stack of tiny matrix products
(np.matmul on ``(N, batch, n_in)``) by 5x at 100,000 nets. The user-facing
arrays put the nets first, as ``torch.func.stack_module_state`` does: params
``(N, n_in, n_out)``, per-net data ``(N, batch, n_in)``, outputs ``(N, batch, n_out)``.

The activations, their derivatives and the output-delta table are the single
net's own (``activations.py``, ``losses.py``): one place for each formula.
"""

import numbers

import numpy as np

from . import checks
from .activations import ACTIVATIONS
from .initializers import initial_params
from .layers.linear import column_sum
from .losses import LOSSES, loss_and_output_delta
from .mlp import MLP, check_architecture, check_loss, layer_activations
from .model import Model


def _allocate(sizes, bias, n_nets, dtype):
    """``(buffer, views)``: one contiguous ``(P, N)`` buffer, and per layer a dict of
    views ``W`` ``(n_in, n_out, N)`` and ``b`` ``(n_out, N)`` into it."""
    shapes = []
    for n_in, n_out, has_bias in zip(sizes[:-1], sizes[1:], bias):
        shapes.append({"W": (n_in, n_out), "b": (n_out,)} if has_bias else {"W": (n_in, n_out)})
    total = sum(int(np.prod(s)) for layer in shapes for s in layer.values())
    buffer = np.zeros((total, n_nets), dtype)
    views, offset = [], 0
    for layer in shapes:
        views.append({})
        for k, shape in layer.items():
            size = int(np.prod(shape))
            views[-1][k] = buffer[offset : offset + size].reshape(*shape, n_nets)
            offset += size
    return buffer, views


class Workspace:
    """Per layer ``l``: ``z[l]``, ``a[l + 1]``, ``delta[l]``, ``work[l]``, each
    ``(batch, units, N)``; ``a[0]`` is pointed at the input by ``forward``."""

    def __init__(self, sizes, batch, n_nets, dtype):
        self.batch = batch
        shapes = [(batch, n, n_nets) for n in sizes[1:]]
        self.z = [np.empty(s, dtype) for s in shapes]
        self.a = [None] + [np.empty(s, dtype) for s in shapes]
        self.delta = [np.empty(s, dtype) for s in shapes]
        self.work = [np.empty(s, dtype) for s in shapes]


def _subscripts(a):
    """einsum's batch-in-net letters for a layer input: shared data has no net axis."""
    return "bi" if a.ndim == 2 else "bin"


def forward(params, activations, x, ws):
    """Fill ``ws``; return the output ``a[L]``, ``(batch, n_out, N)``.
    x: ``(batch, n_in)`` (shared) or ``(batch, n_in, N)``."""
    ws.a[0] = x
    for l, (layer, f) in enumerate(zip(params, activations)):
        a = _subscripts(ws.a[l])
        # z[l] = a[l] W[l] + b[l], per net
        np.einsum(f"{a},ijn->bjn", ws.a[l], layer["W"], out=ws.z[l])
        if "b" in layer:
            ws.z[l] += layer["b"]
        f.apply(ws.z[l], out=ws.a[l + 1], work=ws.work[l])  # a[l+1] = f(z[l])
    return ws.a[-1]


def backward(params, activations, ws, grads):
    """Fill ``grads`` (shaped like ``params``) from ``ws.delta[-1]`` down to the first layer."""
    for l in reversed(range(len(params))):
        delta, a = ws.delta[l], _subscripts(ws.a[l])
        np.einsum(f"{a},bjn->ijn", ws.a[l], delta, out=grads[l]["W"])  # ∂L/∂W[l] = a[l]ᵀ δ[l]
        if "b" in grads[l]:
            column_sum(delta, out=grads[l]["b"], work=ws.work[l])  # ∂L/∂b[l] = Σ over the batch
        if l > 0:
            # δ[l-1] = (δ[l] W[l]ᵀ) ⊙ f′(z[l-1]), f′ read off a[l] = f(z[l-1])
            np.einsum("bjn,ijn->bin", delta, params[l]["W"], out=ws.delta[l - 1])
            ws.delta[l - 1] *= activations[l - 1].derivative(ws.a[l], out=ws.work[l - 1])
    return grads


class Ensemble(Model):
    """N nets of one architecture, trained at once: ``manual.train(ens, ...)``.

    Built from a seed per net (each net drawn exactly as ``MLP(sizes, ...,
    seed=s)`` draws it), from a list of MLPs (``from_nets``) or from stacked
    arrays (``from_params``). ``ens.net(i)`` is net i as an MLP, a copy.
    Arguments as ``MLP``'s; ``seeds``: one int >= 0 per net (default 0..N-1).
    """

    def __init__(
        self,
        sizes,
        n_nets=None,
        activation="sigmoid",
        output_activation=None,
        loss="mse",
        reduction="sum",
        bias=True,
        init="uniform",
        seeds=None,
        dtype=np.float64,
    ):
        sizes, names, dtype = check_architecture(
            sizes, activation, output_activation, loss, reduction, bias, init, dtype
        )
        seeds = _check_seeds(seeds, n_nets)
        draws = [initial_params(sizes, init, s, bool(bias), dtype) for s in seeds]
        self._setup(_stack(draws), sizes, names, loss, reduction, dtype)

    @classmethod
    def from_params(
        cls, params, activation="sigmoid", output_activation=None, loss="mse", reduction="sum", dtype=None
    ):
        """Stacked params: one ``{"W": (N, n_in, n_out), "b": (N, n_out)}`` dict per layer (copied)."""
        if (
            not isinstance(params, (list, tuple))
            or not params
            or not all(isinstance(p, dict) for p in params)
        ):
            raise TypeError(
                "params: expected a list of {'W': (N, n_in, n_out), 'b': (N, n_out)} dicts, one per layer"
            )
        n_nets = {np.shape(v)[0] if np.ndim(v) else None for layer in params for v in layer.values()}
        if len(n_nets) != 1 or None in n_nets:
            raise ValueError(
                f"params: every array's first axis is the net: expected one count, got {n_nets!r}"
            )
        (n,) = n_nets
        if n < 1:
            raise ValueError("params: expected at least one net, got arrays with a first axis of 0")
        # each net's arrays through the single net's checks, then stacked again
        per_net = []
        for i in range(n):
            try:
                net_i = [{k: np.asarray(v)[i] for k, v in layer.items()} for layer in params]
                per_net.append(checks.check_params(net_i, dtype))
            except (TypeError, ValueError) as err:
                raise type(err)(f"params of net {i} (the arrays' first axis): {err}") from None
        sizes, dtype = per_net[0][1], per_net[0][2]
        names = layer_activations(activation, output_activation, len(sizes) - 1)
        check_loss(loss, reduction, names)
        ens = cls.__new__(cls)
        ens._setup(_stack([p[0] for p in per_net]), sizes, names, loss, reduction, dtype)
        return ens

    @classmethod
    def from_nets(cls, nets):
        """An ensemble of copies of ``nets``: MLPs of one architecture and dtype."""
        nets = list(nets)
        if not nets or not all(isinstance(n, MLP) for n in nets):
            raise TypeError("nets: expected a non-empty list of manual.MLP")
        specs = {str(n.spec()) for n in nets}
        if len(specs) != 1:
            raise ValueError(
                f"nets: expected one architecture and dtype, got {len(specs)}: {sorted(specs)[:2]}"
            )
        first = nets[0]
        if first.l2:
            raise ValueError(f"nets: an Ensemble has no L2 penalty, got nets with l2={first.l2}")
        ens = cls.__new__(cls)
        stacked = _stack([n.params for n in nets])
        ens._setup(stacked, first.sizes, first.activations, first.loss_name, first.reduction, first.dtype)
        return ens

    def _setup(self, stacked, sizes, names, loss, reduction, dtype):
        self.sizes = tuple(sizes)
        self.activations = tuple(names)
        self.loss_name = loss
        self.reduction = reduction
        self.dtype = np.dtype(dtype)
        self.n_nets = len(stacked[0]["W"])
        bias = [("b" in layer) for layer in stacked]
        self._flat, self._params = _allocate(self.sizes, bias, self.n_nets, self.dtype)
        for mine, given in zip(self._params, stacked):
            for k in mine:
                mine[k][...] = np.moveaxis(given[k], 0, -1)
        self._acts = tuple(ACTIVATIONS[n] for n in names)
        self._loss = LOSSES[loss]
        self._ws = {}
        self.loss_shape = (self.n_nets,)
        # the optimizer's view of the (P, N) buffers: a per-net setting broadcasts over each net's column
        self.update_shape = (-1, self.n_nets)

    # ----------------------------------------------------------- structure

    @property
    def params(self):
        """One dict per layer of the live arrays, nets first: W ``(N, n_in, n_out)``, b ``(N, n_out)``."""
        return [{k: np.moveaxis(v, -1, 0) for k, v in layer.items()} for layer in self._params]

    @property
    def bias(self):
        return tuple("b" in layer for layer in self._params)

    @property
    def n_layers(self):
        return len(self._params)

    def spec(self):
        return {
            "kind": "MLP",
            "sizes": list(self.sizes),
            "activations": list(self.activations),
            "loss": self.loss_name,
            "reduction": self.reduction,
            "bias": list(self.bias),
            "dtype": self.dtype.name,
            "l2": 0.0,  # an Ensemble has no L2 penalty (from_nets refuses nets with one)
        }

    def net(self, i):
        """Net ``i`` as a ``manual.MLP`` (a copy); negative ``i`` counts from the end."""
        if isinstance(i, bool) or not isinstance(i, numbers.Integral) or not -self.n_nets <= i < self.n_nets:
            raise IndexError(f"net: expected an index in [-{self.n_nets}, {self.n_nets}), got {i!r}")
        return MLP.from_spec(
            self.spec(), [{k: v[..., i] for k, v in layer.items()} for layer in self._params]
        )

    def copy(self):
        ens = Ensemble.__new__(Ensemble)
        ens._setup(self.params, self.sizes, self.activations, self.loss_name, self.reduction, self.dtype)
        return ens

    def __len__(self):
        return self.n_nets

    def __repr__(self):
        return (
            f"Ensemble({self.n_nets} x {list(self.sizes)}, activations={list(self.activations)}, "
            f"loss={self.loss_name!r}, reduction={self.reduction!r}, dtype={self.dtype.name})"
        )

    # ----------------------------------------------------------- calls

    def forward(self, x):
        """The outputs ``(N, batch, n_out)`` for x ``(batch, n_in)`` (every net's) or ``(N, batch, n_in)``."""
        x = self._check_x(x)
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged net reports, it does not warn
            out = forward(self._params, self._acts, x, self._workspace(len(x)))
        return np.moveaxis(out, -1, 0).copy()

    def loss(self, x, y):
        """The loss of every net, ``(N,)``."""
        x, y = self.check_data(x, y)
        return self._forward_backward(x, y, self._workspace(len(x)), None)

    def loss_and_grads(self, x, y):
        """``(losses (N,), grads)``: grads stacked like ``ens.params`` (nets first)."""
        x, y = self.check_data(x, y)
        _, grads = _allocate(self.sizes, self.bias, self.n_nets, self.dtype)
        losses = self._forward_backward(x, y, self._workspace(len(x)), grads)
        return losses, [{k: np.moveaxis(v, -1, 0) for k, v in layer.items()} for layer in grads]

    # ----------------------------------------------------------- internals

    def loss_and_grads_into(self, x, y, grads):
        """The hot path: x, y and grads in the internal layout (``check_data``'s), no validation."""
        return self._forward_backward(x, y, self._workspace(len(x)), grads)

    def apply_update(self, optimizer, state, grads_flat, losses, frozen):
        """The update, every net but those whose loss has not been finite: they are frozen
        (``frozen[i]``: the step it happened, −1 never; their gradients zeroed, their params
        put back) and never poison the others."""
        new = ~np.isfinite(losses) & (frozen < 0)
        if new.any():
            frozen[new] = state.step
        stuck = frozen >= 0
        if stuck.any():
            grads_flat.reshape(self.update_shape)[:, stuck] = 0
            kept = self._flat[:, stuck].copy()
        # an update that overflows leaves that net inf, and its next loss freezes it; no warning
        with np.errstate(over="ignore", invalid="ignore"):
            optimizer.step_flat(self._flat, grads_flat, state, self.update_shape)
        if stuck.any():
            self._flat[:, stuck] = kept
        return losses

    def _forward_backward(self, x, y, ws, grads):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out = forward(self._params, self._acts, x, ws)
            scale = self._loss.scale(self.reduction, len(x), self.sizes[-1])
            losses = loss_and_output_delta(
                self._loss,
                self._acts[-1],
                ws.z[-1],
                out,
                y,
                scale,
                out=ws.delta[-1],
                work=ws.work[-1],
                per_net=True,
            )
            if grads is not None:
                backward(self._params, self._acts, ws, grads)
        return losses

    def _workspace(self, batch):
        ws = self._ws.get(batch)
        if ws is None:
            if len(self._ws) >= 4:  # the full and short batches of a run, and an evaluation or two
                self._ws = {}
            ws = self._ws[batch] = Workspace(self.sizes, batch, self.n_nets, self.dtype)
        return ws

    def _check_x(self, x):
        """x as ``(batch, n_in)`` (shared) or, per net, ``(batch, n_in, N)`` (nets moved last, a copy)."""
        arr = checks.as_array("x", x, self.dtype)
        if arr.ndim != 3:
            return checks.check_x(arr, self.sizes[0], self.dtype)
        _check_per_net("x", arr, self.n_nets, self.sizes[0], "n_in")
        checks.check_finite("x", arr)  # first, so a bad value is named by (net, sample, feature)
        checks.check_x(arr.reshape(-1, arr.shape[-1]), self.sizes[0], self.dtype)  # values: finite, a batch
        return _nets_last(arr)

    def check_data(self, x, y):
        x = self._check_x(x)
        arr = checks.as_array("y", y, self.dtype)
        if arr.ndim != 3:
            return x, checks.check_y(arr, len(x), self.sizes[-1], self.loss_name, self.dtype)[..., None]
        _check_per_net("y", arr, self.n_nets, self.sizes[-1], "n_out")
        if arr.shape[1] != len(x):
            raise ValueError(f"y: expected {len(x)} samples per net, as x has, got shape {arr.shape}")
        checks.check_finite("y", arr)
        checks.check_y(
            arr.reshape(-1, arr.shape[-1]),
            arr.shape[0] * arr.shape[1],
            self.sizes[-1],
            self.loss_name,
            self.dtype,
        )  # values: finite, and what the loss takes
        return x, _nets_last(arr)

    def arrange_data(self, x, y):
        """x, y laid out as ``check_data`` returns them, unchecked (``Trainer.step(validate=False)``):
        per-net data with the nets moved last, shared y with an axis of 1 for them."""
        x, y = np.asarray(x), np.asarray(y)
        return (_nets_last(x) if x.ndim == 3 else x), (_nets_last(y) if y.ndim == 3 else y[..., None])


def _stack(nets):
    """One params list per net -> one dict per layer of arrays with the nets first."""
    return [{k: np.stack([p[l][k] for p in nets]) for k in layer} for l, layer in enumerate(nets[0])]


def _nets_last(arr):
    """Per-net data ``(N, batch, units)`` as the step computes on it, ``(batch, units, N)`` (a copy)."""
    return np.ascontiguousarray(np.moveaxis(arr, 0, -1))


def _check_per_net(name, arr, n_nets, width, what):
    if arr.shape[0] != n_nets or arr.shape[2] != width:
        raise ValueError(
            f"{name}: per-net data is (N, batch, {what}) = ({n_nets}, batch, {width}), got shape {arr.shape}"
        )


def _check_seeds(seeds, n_nets):
    if (seeds is None or n_nets is not None) and (
        isinstance(n_nets, bool) or not isinstance(n_nets, numbers.Integral) or n_nets < 1
    ):
        raise ValueError(f"n_nets: expected a count >= 1 (or seeds, one per net), got {n_nets!r}")
    if seeds is None:
        return list(range(int(n_nets)))
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds: expected ints >= 0, one per net, got {seeds!r}")
    seeds = [checks.check_seed(s) for s in seeds]
    if not seeds or (n_nets is not None and len(seeds) != n_nets):
        raise ValueError(f"seeds: expected one seed per net ({n_nets}), got {len(seeds)}")
    return seeds
