"""Hand-written optimizers with PyTorch's update rules.

An optimizer is configuration only; its running buffers live in an
``OptimizerState`` (``opt.init(params)``), so a state can be saved, restored
and handed to another run. ``opt.step(params, grads, state)`` updates the
parameter arrays in place and may overwrite ``grads``; it allocates nothing:
the scratch memory is made once by ``init``.

Parameters are visited in a fixed flat order, layer by layer, each layer's
in its dict's order (``W`` then ``b``; see ``flat``); every per-parameter
buffer follows that order. Each
kind of buffer is one contiguous array with a view per parameter, so the
update rules, which are elementwise, can run over the whole net in one
NumPy call each (``step_flat``): an MLP keeps its params that way too.
"""

import inspect
import math
from dataclasses import dataclass, field

import numpy as np


def flat(tree):
    """The arrays of a params- or grads-shaped list, in order: layer by layer, each
    layer's in its dict's order (W1, b1, W2, ... for an MLP)."""
    return [v for layer in tree for v in layer.values()]


def allocate_like(tree, dtype=None):
    """``(buffer, views)``: one contiguous 1-D array, and a list shaped like
    ``tree`` (params-shaped, or a flat list of arrays) of views into it."""
    arrays = flat(tree) if tree and isinstance(tree[0], dict) else list(tree)
    if dtype is None:
        dtype = arrays[0].dtype if arrays else np.float64
    buffer = np.empty(sum(a.size for a in arrays), dtype)
    views, offset = [], 0
    for a in arrays:
        views.append(buffer[offset : offset + a.size].reshape(a.shape))
        offset += a.size
    if not (tree and isinstance(tree[0], dict)):
        return buffer, views
    it = iter(views)
    return buffer, [{k: next(it) for k in layer} for layer in tree]


@dataclass
class OptimizerState:
    """What an optimizer carries between steps.

    step: updates done so far. buffers: name -> one array per parameter
    (momentum, Adam moments). scratch: working memory, not part of the state
    proper (never saved). ``flat`` / ``flat_scratch``: the contiguous arrays
    those are views of (see ``contiguous``)."""

    step: int
    buffers: dict
    scratch: list = field(default_factory=list, repr=False)
    flat: dict = field(default_factory=dict, repr=False)
    flat_scratch: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def contiguous(cls, step, buffers, like):
        """A state whose buffers are views of one array per kind, holding a copy
        of ``buffers`` (arrays in flat param order); ``like`` gives the shapes."""
        state = cls(step=step, buffers={})
        for name, arrays in buffers.items():
            state.flat[name], views = allocate_like(like)
            for v, a in zip(views, arrays):
                v[...] = a
            state.buffers[name] = views
        state.flat_scratch, state.scratch = allocate_like(like)
        return state

    def copy(self):
        like = self.scratch or next(iter(self.buffers.values()), [])
        return OptimizerState.contiguous(self.step, self.buffers, like)


class Optimizer:
    name = "?"
    buffer_names = ()

    def init(self, params):
        """A fresh state for ``params`` (zeroed buffers, step 0)."""
        arrays = flat(params)
        zeros = [np.zeros_like(p) for p in arrays]
        return OptimizerState.contiguous(0, {name: zeros for name in self.buffer_names}, arrays)

    def step(self, params, grads, state):
        """One in-place update of ``params`` from ``grads`` (params-shaped lists); advances ``state``."""
        if self.n_nets is not None:
            raise ValueError(
                f"{self!r} has per-net settings: step an ensemble with manual.Trainer or manual.train"
            )
        state.step += 1
        bufs = [state.buffers[name] for name in self.buffer_names]
        for i, (p, g, s) in enumerate(zip(flat(params), flat(grads), state.scratch)):
            self._update(p, g, s, state.step, *(b[i] for b in bufs))

    def step_flat(self, params, grads, state, shape=None):
        """``step`` on the contiguous arrays the params and grads are views of:
        the same elementwise rule, a few NumPy calls for the whole net. ``shape``
        views every one of them so, ``(-1, N)`` for an ensemble: a per-net
        hyperparameter, ``(N,)``, then broadcasts over each net's column."""
        state.step += 1
        arrays = [params, grads, state.flat_scratch, *(state.flat[n] for n in self.buffer_names)]
        if shape is not None:
            arrays = [a.reshape(shape) for a in arrays]
        self._update(arrays[0], arrays[1], arrays[2], state.step, *arrays[3:])

    @property
    def n_nets(self):
        """How many nets the per-net hyperparameters are for (None: all are numbers)."""
        lengths = set(self._per_net_lengths().values())
        return lengths.pop() if len(lengths) == 1 else None

    def _per_net_lengths(self):
        """``{setting: nets}`` for the per-net settings (a tuple's items as ``betas[0]``, ...)."""
        lengths = {}
        for k, v in self._hyper().items():
            for j, item in enumerate(v if isinstance(v, tuple) else (v,)):
                if isinstance(item, np.ndarray):
                    lengths[f"{k}[{j}]" if isinstance(v, tuple) else k] = len(item)
        return lengths

    def config(self):
        """The hyperparameters, as plain data (a per-net one as a list)."""
        return {"name": self.name, **_plain(self._hyper())}

    def __repr__(self):
        # the settings that differ from the defaults, as one would type them
        defaults = {k: p.default for k, p in inspect.signature(type(self).__init__).parameters.items()}
        shown = {k: v for k, v in _plain(self._hyper()).items() if k == "lr" or defaults.get(k) != v}
        args = ", ".join(f"{k}={v!r}" for k, v in shown.items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """torch.optim.SGD (dampening 0):

    g = grad + weight_decay * p
    buf = momentum * buf + g            (buf starts at 0, so buf_1 = g)
    d = g + momentum * buf if nesterov else buf
    p -= lr * d
    """

    name = "sgd"

    def __init__(self, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        self.lr = _check_positive("lr", lr)
        self.momentum = _check_nonnegative("momentum", momentum)
        self.weight_decay = _check_nonnegative("weight_decay", weight_decay)
        if nesterov and not np.all(self.momentum):
            raise ValueError(f"nesterov=True needs a momentum > 0 (for every net), got momentum={momentum!r}")
        self.nesterov = bool(nesterov)
        self.buffer_names = ("momentum_buffer",) if np.any(self.momentum) else ()
        _check_lengths(self)

    def _hyper(self):
        return {
            "lr": self.lr,
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "weight_decay": self.weight_decay,
        }

    def _update(self, p, g, s, t, buf=None):
        mu = _as(self.momentum, p)
        if _nonzero(self.weight_decay):
            np.multiply(p, _as(self.weight_decay, p), out=s)
            g += s
        d = g
        if buf is not None:
            buf *= mu
            buf += g
            if self.nesterov:
                np.multiply(buf, mu, out=s)
                g += s
            else:
                d = buf
        np.multiply(d, _as(self.lr, p), out=s)
        p -= s


class Adam(Optimizer):
    """torch.optim.Adam (weight decay coupled into the gradient, as L2):

    g = grad + weight_decay * p
    m = beta1 m + (1 - beta1) g
    v = beta2 v + (1 - beta2) g**2
    p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)
    """

    name = "adam"
    buffer_names = ("exp_avg", "exp_avg_sq")
    decoupled = False

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.lr = _check_positive("lr", lr)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"betas: expected two numbers in [0, 1), got {betas!r}")
        self.betas = tuple(_check_in("betas", b, 0, 1) for b in betas)
        self.eps = _check_positive("eps", eps)
        self.weight_decay = _check_nonnegative("weight_decay", weight_decay)
        _check_lengths(self)

    def _hyper(self):
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps, "weight_decay": self.weight_decay}

    def _update(self, p, g, s, t, m, v):
        beta1, beta2 = self.betas
        if _nonzero(self.weight_decay):
            if self.decoupled:
                # AdamW: shrink the weights directly, outside the moments
                p *= _as(1 - self.lr * self.weight_decay, p)
            else:
                np.multiply(p, _as(self.weight_decay, p), out=s)
                g += s
        m *= _as(beta1, p)
        np.multiply(g, _as(1 - beta1, p), out=s)
        m += s
        v *= _as(beta2, p)
        np.multiply(g, g, out=s)
        s *= _as(1 - beta2, p)
        v += s
        step_size = _as(self.lr / (1 - beta1**t), p)
        # s = sqrt(v) / sqrt(1 - beta2**t) + eps, then p -= step_size * m / s
        np.sqrt(v, out=s)
        s /= math.sqrt(1 - beta2**t) if np.ndim(beta2) == 0 else _as(np.sqrt(1 - beta2**t), p)
        s += _as(self.eps, p)
        np.divide(m, s, out=s)
        s *= step_size
        p -= s


class AdamW(Adam):
    """torch.optim.AdamW: Adam with decoupled weight decay,
    ``p *= 1 - lr * weight_decay`` before the Adam step (default 1e-2, as PyTorch)."""

    name = "adamw"
    decoupled = True

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(lr, betas, eps, weight_decay)


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW}


def from_config(config):
    """The optimizer ``opt.config()`` describes."""
    config = dict(config)
    name = config.pop("name")
    if "betas" in config:
        config["betas"] = tuple(config["betas"])
    return OPTIMIZERS[name](**config)


def _as(setting, p):
    """A setting, or a quantity derived from it, as the update uses it on ``p``: a
    number stays a Python float, which NumPy rounds to a float32 array's dtype;
    a per-net array (float64, computed in float64) is rounded to it the same way."""
    return setting.astype(p.dtype, copy=False) if isinstance(setting, np.ndarray) else setting


def _nonzero(setting):
    """Whether a setting (a number, or one per net) is not all zero; np.any on a plain
    float costs ~3 µs, 5% of a small step."""
    return bool(setting.any()) if isinstance(setting, np.ndarray) else setting != 0


def _check_positive(name, value):
    return _check_in(name, value, 0, math.inf, low_open=True)


def _check_nonnegative(name, value):
    return _check_in(name, value, 0, math.inf)


def _check_in(name, value, low, high, low_open=False):
    """A finite number in [low, high) ((low, high) with low_open), or a 1-D array of
    them, one per net of an ensemble (returned as float64)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value)
        if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iuf":
            raise ValueError(
                f"{name}: expected a number, or a 1-D array of numbers (one per net), got {value!r}"
            )
        values, result = arr.astype(np.float64), None
    elif isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    else:
        values, result = np.array([float(value)]), float(value)
    ok = np.isfinite(values) & (values > low if low_open else values >= low) & (values < high)
    if not ok.all():
        where = "" if result is not None else f" at net {int(np.argmin(ok))}"
        bound = f"a number in ({low}, {high})" if low_open else f"a number in [{low}, {high})"
        bound = "a positive finite number" if (low_open and high == math.inf) else bound
        bound = "a finite number >= 0" if (not low_open and high == math.inf) else bound
        raise ValueError(f"{name}: expected {bound}, got {value!r}{where}")
    return values if result is None else result


def _check_lengths(optimizer):
    lengths = optimizer._per_net_lengths()
    if len(set(lengths.values())) > 1:
        raise ValueError(f"per-net settings of different lengths: {lengths}")


def _plain(hyper):
    return {
        k: (
            v.tolist()
            if isinstance(v, np.ndarray)
            else tuple(b.tolist() if isinstance(b, np.ndarray) else b for b in v)
            if isinstance(v, tuple)
            else v
        )
        for k, v in hyper.items()
    }
