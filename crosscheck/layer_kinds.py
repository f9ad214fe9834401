"""The layer kinds a user's CS231n-style layer is checked as: per kind, the arrays its
forward takes, the gradients its backward returns, the inputs the check draws, and
the truth, obtained from the machinery that already proves the engine's layers
(``crosscheck.layer_compare``: the engine's layer, PyTorch's and JAX's, central
differences of ⟨dout, f⟩ and the running error bound). Adding a kind is one entry
in ``KINDS``.

CS231n's conventions (the assignments' ``layers.py``):

    affine          affine_forward(x, w, b)              x (N, d1, ..., dk) read as (N, D), w (D, M), b (M,)
    relu, sigmoid, tanh   <kind>_forward(x)              elementwise
    batchnorm       batchnorm_forward(x, gamma, beta, bn_param) x (N, D); bn_param {"mode", "eps", "momentum"}
    layernorm       layernorm_forward(x, gamma, beta, ln_param)    x (N, D); ln_param {"eps"}
    dropout         dropout_forward(x, dropout_param)    dropout_param {"p": KEEP probability, "mode", "seed"}
    word_embedding  word_embedding_forward(x, W)            x (N, T) integers in [0, V), W (V, D)
    temporal_affine temporal_affine_forward(x, w, b)        x (N, T, D), w (D, M), b (M,)
    backward        <kind>_backward(dout, cache) -> dx, or (dx, dparam1, ...) in the forward's order
                    (word_embedding's returns dW alone)
    softmax_loss, svm_loss   <kind>(x, y) -> (loss, dx)     x (N, C) scores, y (N,) labels; mean over N
    conv            conv_forward_naive(x, w, b, conv_param)  x (N, C, H, W), w (F, C, HH, WW), b (F,);
                    conv_param {"stride", "pad"}: pad zeros on each side; out (N, F, H', W'),
                    H' = 1 + (H + 2 pad − HH) // stride (the _fast and _im2col forms the same)
    max_pool, avg_pool   <kind>_forward_naive(x, pool_param)  x (N, C, H, W); pool_param
                    {"pool_height", "pool_width", "stride"}, no padding; H' = 1 + (H − pool_height) // stride
    spatial_batchnorm    spatial_batchnorm_forward(x, gamma, beta, bn_param)  x (N, C, H, W), gamma (C,):
                    batchnorm per channel over N, H and W; bn_param as batchnorm's
    temporal_softmax_loss    temporal_softmax_loss(x, y, mask) -> (loss, dx)   x (N, T, V), y (N, T) labels,
                    mask (N, T) bool: Σ over the positions where mask is True of −log softmax(x)_y,
                    divided by N (not by N·T, nor by the count of True)
    rnn_step        rnn_step_forward(x, prev_h, Wx, Wh, b) -> (next_h, cache), tanh; backward(dnext_h, cache)
                    -> (dx, dprev_h, dWx, dWh, db): the engine's RNN over T = 1
    rnn             rnn_forward(x, h0, Wx, Wh, b)       x (N, T, D), h (N, T, H); -> (dx, dh0, dWx, dWh, db)
    lstm_step       lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b) -> (next_h, next_c, cache);
                    backward(dnext_h, dnext_c, cache) -> (dx, dprev_h, dprev_c, dWx, dWh, db)
    lstm            lstm_forward(x, h0, Wx, Wh, b), c0 = 0; -> (dx, dh0, dWx, dWh, db)
                    Wx (D, 4H): the gates i, f, o, g (CS231n's); gate_order="ifgo" for PyTorch's i, f, g, o
    attention       attention_forward(q, k, v, mask=None) -> (out, cache); backward -> (dq, dk, dv):
                    softmax(q kᵀ/√d) v, mask bool or 0/1 (N, Tq, Tk), (N, 1, Tk), (N, Tk) or (Tq, Tk),
                    0 hiding a key (the Annotated Transformer's, CS231n's); a key mask, causal, or both
    spatial_groupnorm    spatial_groupnorm_forward(x, gamma, beta, G, gn_param)  x (N, C, H, W),
                    gamma (1, C, 1, 1): each sample's G groups of C/G channels; gn_param {"eps"}

Every kind's drawn inputs show its catalogue's mistakes (``crosscheck.layer_mistakes``):
the batch, features and outputs of different sizes (a transposed or misreduced array shows by shape),
normalisation data whose mean and scale are far from 0 and 1, γ ≠ 1, β ≠ 0, repeated
embedding indices, labels that repeat and are not the row index, ReLU inputs away from 0,
a conv at stride 1 with 3×3 windows, no square array symmetric, pooling windows that overlap
(stride < pool size) on values without ties, a temporal mask counting 7 of the N·T = 10
positions, float64.
"""

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from manual.gradcheck import central_differences
from manual.layers import describe, from_config
from manual.layers.dropout import Dropout
from manual.losses import HEADS
from references import jax_ref

from . import layer_compare as lc
from . import rounding
from .layers import recurrent as bound_lstm
from .layers import sequential_bounds


@dataclass(frozen=True)
class EngineCase:
    """A CS231n call as the engine's layer takes it: the layer's description, its params and
    buffers, x, the mode; ``names``: engine array name -> the user's ("dW" -> "dw")."""

    layer: dict
    params: dict
    buffers: dict
    x: np.ndarray
    train: bool
    names: dict
    x_shape: tuple  # the user's x's shape (affine reads it as (N, D))
    mask: object = None  # Dropout's keep mask (read from the user's forward)
    out_shape: tuple | None = None  # the user's out's shape where the engine's differs (a step: (N, H))
    engine_dout: object = None  # the user's dout -> the engine's (a step's (N, H) -> (N, 1, H))
    shapes: dict = field(default_factory=dict)  # a user's gradient's shape where it is not the engine's
    convert: object = None  # the named arrays, the user's names -> in the user's layout (the gate order)


@dataclass
class Truths:
    """Per truth ("torch", "jax", "finite differences"), the user's array names -> values;
    ``engine``: the engine's own (what the catalogue transforms); ``bound``: each array's
    running error bound e (``rounding.Tracked``), in units of u."""

    values: dict
    engine: dict
    bound: dict
    notes: list = field(default_factory=list)


@dataclass(frozen=True)
class Kind:
    name: str
    arrays: tuple  # the forward's array arguments, in order
    grads: tuple  # the backward's results, in order
    draw: object  # (rng, dtype) -> arrays
    param: str | None = None  # the config dict's name ("bn_param"), passed last
    defaults: dict = field(default_factory=dict)  # the config the check uses when none is given
    engine_case: object = None  # (arrays, param, user's out) -> EngineCase
    truths: object = None  # for a loss: (arrays, dtype) -> Truths
    loss: bool = False
    check: object = None  # (arrays, param) -> None, ValueError/TypeError on inputs it cannot take
    suffix: str = ""  # CS231n's functions' ending ("_naive": conv_forward_naive)
    outputs: tuple = ("out",)  # what the forward returns before its cache (lstm_step: next_h, next_c)
    options: dict = field(default_factory=dict)  # keywords outside the config dict, their defaults
    optional: tuple = ()  # trailing arrays the forward may go without (attention's mask)
    out_shape: object = None  # for a kind whose truths are its own (``truths`` set, not a loss)

    def signature(self):
        args = ", ".join(self.arrays + ((self.param,) if self.param else ()))
        if self.loss:
            return f"{self.name}({args}) -> (loss, dx)"
        result = self.grads[0] if len(self.grads) == 1 else f"({', '.join(self.grads)})"
        forward, backward = (f"{self.name}_{way}{self.suffix}" for way in ("forward", "backward"))
        outs, upstream = ", ".join(self.outputs), ", ".join(f"d{o}" for o in self.outputs)
        if self.outputs == ("out",):
            upstream = "dout"
        return f"{forward}({args}) -> ({outs}, cache); {backward}({upstream}, cache) -> {result}"


# ------------------------------------------------------------------ drawn inputs

N, D, M, T, V, C = 5, 4, 3, 2, 6, 7  # all different: a transposed or misreduced array shows by shape


def _normal(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def _away_from_zero(rng, shape, dtype, least=0.1):
    """N(0, 1) entries at least ``least`` from 0: no ReLU kink, no dropped entry mistaken for a zero."""
    v = rng.standard_normal(shape)
    return (np.sign(v) * (least + np.abs(v))).astype(dtype)


def _normalisation_data(rng, shape, dtype, axis):
    """Data whose mean and scale along ``axis``'s groups are far from 0 and 1 (means ±2 to ±5,
    scales from 0.05 to 5): a mistake that keeps the mean, or a scale of 1, shows."""
    other = shape[1 - axis]
    mean = rng.choice([-1, 1], other) * rng.uniform(2, 5, other)
    scale = np.exp(rng.uniform(np.log(0.05), np.log(5), other))
    shape_of = (1, other) if axis == 0 else (other, 1)
    return (mean.reshape(shape_of) + scale.reshape(shape_of) * rng.standard_normal(shape)).astype(dtype)


def _gamma_beta(rng, n, dtype):
    gamma = rng.uniform(0.5, 2.0, n) * rng.choice([-1, 1], n)
    return gamma.astype(dtype), rng.uniform(-1, 1, n).astype(dtype)


def _draw_affine(rng, dtype):
    return _normal(rng, (N, 2, 3), dtype), _normal(rng, (6, M), dtype), _normal(rng, (M,), dtype)


def _draw_batchnorm(rng, dtype):
    return (_normalisation_data(rng, (N, D), dtype, axis=0), *_gamma_beta(rng, D, dtype))


def _draw_layernorm(rng, dtype):
    return (_normalisation_data(rng, (N, D), dtype, axis=1), *_gamma_beta(rng, D, dtype))


def _draw_embedding(rng, dtype):
    idx = rng.integers(0, V, (N, T))
    idx[0, :2] = idx[1, 0] = 2  # repeated: within a sequence and across samples
    return idx, _normal(rng, (V, D), dtype)


def _draw_temporal(rng, dtype):
    return _normal(rng, (N, T, D), dtype), _normal(rng, (D, M), dtype), _normal(rng, (M,), dtype)


def _draw_dropout(rng, dtype):
    return (_away_from_zero(rng, (50, 40), dtype),)  # 2,000 entries: the kept fraction reads p to ±1%


def _draw_scores(rng, dtype):
    """Scores (N, C) and labels with some margins positive and some not, none within 0.05
    of its kink (for the SVM), on which dividing by N or not is plain. The labels differ from
    the row index in every row (x[i, i] for x[i, y[i]] shows) and some class repeats."""
    rows = np.arange(N) % C
    while True:
        y = rng.integers(0, C, N)
        if np.all(y != rows) and 1 < len(np.unique(y)) < N:
            break
    x = rng.standard_normal((N, C))
    for _ in range(100):
        margins = x - x[np.arange(N), y][:, None] + 1
        near = np.abs(margins) < 0.05
        near[np.arange(N), y] = False
        if not near.any():
            break
        x = np.where(near, x + 0.2, x)
    return x.astype(dtype), y


# spatial: batch, channels, filters, height and width all different; 3×3 kernels, 3×2 pools
IMAGE = (2, 3, 5, 6)
FILTERS = 4


def _draw_conv(rng, dtype):
    return (
        _normal(rng, IMAGE, dtype),
        _normal(rng, (FILTERS, IMAGE[1], 3, 3), dtype),
        _normal(rng, (FILTERS,), dtype),
    )


def _draw_pool(rng, dtype):
    """Values 0.1 apart in a random order: no ties in any window, and no two within a central
    difference's step (a max's kink)."""
    size = int(np.prod(IMAGE))
    return (((rng.permutation(size) - size / 2) * 0.1).reshape(IMAGE).astype(dtype),)


def _draw_spatial_batchnorm(rng, dtype):
    n, c, h, w = IMAGE
    rows = _normalisation_data(rng, (n * h * w, c), np.float64, axis=0)  # a mean and scale per channel
    x = rows.reshape(n, h, w, c).transpose(0, 3, 1, 2)
    return (np.ascontiguousarray(x).astype(dtype), *_gamma_beta(rng, c, dtype))


def _draw_temporal_scores(rng, dtype):
    """Scores (N, T, V), labels, and a mask of 7 of the N·T = 10 positions (neither N nor N·T, so
    dividing by N, N·T or the count of True differ), its False positions spread over samples."""
    x = rng.standard_normal((N, T, V)).astype(dtype)
    y = rng.integers(0, V, (N, T))
    mask = np.ones((N, T), bool)
    mask[1, 1] = mask[3, 1] = mask[4, 0] = False
    return x, y, mask


# ------------------------------------------------------------------ the engine's layer for each kind


def _affine_case(arrays, param, out):
    x, w, b = arrays
    flat = x.reshape(len(x), -1)
    layer = {"kind": "Linear", "in_features": flat.shape[1], "out_features": w.shape[1], "bias": True}
    return EngineCase(layer, {"W": w, "b": b}, {}, flat, True, {"dx": "dx", "dW": "dw", "db": "db"}, x.shape)


def _temporal_case(arrays, param, out):
    x, w, b = arrays
    layer = {"kind": "Linear", "in_features": w.shape[0], "out_features": w.shape[1], "bias": True}
    return EngineCase(layer, {"W": w, "b": b}, {}, x, True, {"dx": "dx", "dW": "dw", "db": "db"}, x.shape)


def _activation_case(kind):
    def case(arrays, param, out):
        (x,) = arrays
        return EngineCase({"kind": kind}, {}, {}, x, True, {"dx": "dx"}, x.shape)

    return case


def _batchnorm_case(arrays, param, out):
    x, gamma, beta = arrays
    d = x.shape[1]
    train = param.get("mode", "train") == "train"
    layer = {
        "kind": "BatchNorm1d",
        "num_features": d,
        "eps": float(param.get("eps", 1e-5)),
        "momentum": 1 - float(param.get("momentum", 0.9)),  # CS231n's m keeps the old: PyTorch's is 1 − m
    }
    buffers = {
        "running_mean": np.asarray(param.get("running_mean", np.zeros(d)), x.dtype),
        "running_var": np.asarray(param.get("running_var", np.ones(d)), x.dtype),
    }
    names = {"dx": "dx", "dgamma": "dgamma", "dbeta": "dbeta"}
    return EngineCase(layer, {"gamma": gamma, "beta": beta}, buffers, x, train, names, x.shape)


def _layernorm_case(arrays, param, out):
    x, gamma, beta = arrays
    layer = {"kind": "LayerNorm", "normalized_shape": [x.shape[-1]], "eps": float(param.get("eps", 1e-5))}
    names = {"dx": "dx", "dgamma": "dgamma", "dbeta": "dbeta"}
    return EngineCase(layer, {"gamma": gamma, "beta": beta}, {}, x, True, names, x.shape)


def _embedding_case(arrays, param, out):
    x, W = arrays
    layer = {"kind": "Embedding", "num_embeddings": W.shape[0], "embedding_dim": W.shape[1]}
    return EngineCase(layer, {"W": W}, {}, x, True, {"dW": "dW"}, x.shape)


def _dropout_case(arrays, param, out):
    """The mask is the user's: read from their output (kept where it is not 0; x has no zeros)."""
    (x,) = arrays
    train = param.get("mode", "train") == "train"
    mask = None if not train else np.asarray(out) != 0
    layer = {"kind": "Dropout", "p": 1 - float(param["p"])}  # CS231n's p keeps a unit, PyTorch's drops it
    return EngineCase(layer, {}, {}, x, train, {"dx": "dx"}, x.shape, mask)


def _check_spatial(what):
    def check(arrays, param):
        x = arrays[0]
        if np.ndim(x) != 4:
            raise ValueError(f"x: expected (N, C, H, W) for {what}, got shape {np.shape(x)}")

    return check


def _check_keys(name, param, keys, least):
    """The config's integer entries ``keys``, each >= ``least[key]``."""
    for key in keys:
        value = param.get(key)
        if (
            isinstance(value, (bool, np.bool_))
            or not isinstance(value, (int, np.integer))
            or value < least[key]
        ):
            raise ValueError(f"{name}: expected {key!r}, an integer >= {least[key]}, got {value!r}")


POOL_KEYS = ("pool_height", "pool_width", "stride")


def _check_pool(what):
    def check(arrays, param):
        _check_spatial(what)(arrays, param)
        _check_keys("pool_param", param, POOL_KEYS, dict.fromkeys(POOL_KEYS, 1))
        x = arrays[0]
        if x.shape[2] < param["pool_height"] or x.shape[3] < param["pool_width"]:
            raise ValueError(
                f"x: {x.shape[2:]} is smaller than a {param['pool_height']} × {param['pool_width']} window"
            )

    return check


def _check_conv(arrays, param):
    x, w, b = arrays
    _check_spatial("conv")(arrays, param)
    _check_keys("conv_param", param, ("stride", "pad"), {"stride": 1, "pad": 0})
    if w.ndim != 4 or w.shape[1] != x.shape[1] or b.shape != (w.shape[0],):
        raise ValueError(
            f"w, b: expected w (F, C, HH, WW) with C = {x.shape[1]} (x's channels) and b (F,), got w "
            f"{w.shape}, b {b.shape}"
        )
    pad = param["pad"]
    if x.shape[2] + 2 * pad < w.shape[2] or x.shape[3] + 2 * pad < w.shape[3]:
        raise ValueError(
            f"w: its {w.shape[2:]} windows are larger than x padded by {pad}, {x.shape[2:]} + 2·{pad}"
        )


def _check_temporal_scores(arrays, param):
    x, y, mask = arrays
    if x.ndim != 3 or y.shape != x.shape[:2] or mask.shape != x.shape[:2]:
        raise ValueError(
            f"x, y, mask: expected (N, T, V), (N, T), (N, T); got {x.shape}, {y.shape}, {mask.shape}"
        )
    if y.dtype.kind not in "iu" or y.size and (y.min() < 0 or y.max() >= x.shape[2]):
        raise ValueError(f"y: expected integer labels in [0, V = {x.shape[2]}), got {y.dtype} in "
                         f"[{y.min()}, {y.max()}]")  # fmt: skip
    if mask.dtype != bool:
        raise TypeError(f"mask: expected a bool array (N, T), got dtype {mask.dtype}")
    if not mask.any():
        raise ValueError("mask: no position is True: the loss is 0 and dx is 0, nothing to check")


def _conv_case(arrays, param, out):
    x, w, b = arrays
    layer = {
        "kind": "Conv2d",
        "in_channels": w.shape[1],
        "out_channels": w.shape[0],
        "kernel_size": list(w.shape[2:]),
        "stride": int(param.get("stride", 1)),
        "padding": int(param.get("pad", 0)),
        "bias": True,
    }
    return EngineCase(layer, {"W": w, "b": b}, {}, x, True, {"dx": "dx", "dW": "dw", "db": "db"}, x.shape)


def _pool_case(kind):
    def case(arrays, param, out):
        (x,) = arrays
        layer = {
            "kind": kind,
            "kernel_size": [int(param["pool_height"]), int(param["pool_width"])],
            "stride": int(param["stride"]),
            "padding": 0,  # CS231n's pooling pads nothing
        }
        return EngineCase(layer, {}, {}, x, True, {"dx": "dx"}, x.shape)

    return case


def _spatial_batchnorm_case(arrays, param, out):
    case = _batchnorm_case(arrays, param, out)
    return dataclasses.replace(case, layer={**case.layer, "kind": "BatchNorm2d"})


# ------------------------------------------------------------------ sequences, attention, group norm

# recurrences: batch, steps, features and hidden size all different; attention: Tq ≠ Tk, d ≠ dv
RN, RT, RD, RH = 3, 4, 5, 2
AN, ATQ, ATK, AD, ADV = 2, 3, 5, 4, 6
GN_IMAGE, GN_GROUPS = (2, 6, 3, 4), 3  # two channels a group: per channel, per group, per sample differ
GATE_ORDERS = ("ifog", "ifgo")  # CS231n's i, f, o, g; PyTorch's i, f, g, o


def _draw_recurrent(step, gates, with_c=False):
    """x, h0 (and prev_c), Wx (D, G·H), Wh (H, G·H), b: pre-activations of order 1, neither
    saturated nor near 0, so 1 − h² and 1 − a² differ, and h0 ≠ 0 (h_t and h_t−1 differ)."""

    def draw(rng, dtype):
        x = _normal(rng, (RN, RD) if step else (RN, RT, RD), dtype)
        states = [_normal(rng, (RN, RH), dtype)] + ([_normal(rng, (RN, RH), dtype)] if with_c else [])
        w = gates * RH
        weights = (
            0.5 * rng.standard_normal((RD, w)),
            0.5 * rng.standard_normal((RH, w)),
            rng.uniform(-1, 1, w),
        )
        return (x, *states, *(a.astype(dtype) for a in weights))

    return draw


def _check_recurrent(kind, step, with_c=False):
    def check(arrays, param):
        x, h0, *rest = arrays
        c0 = rest.pop(0) if with_c else None
        Wx, Wh, b = rest
        gates = 4 if kind == "LSTM" else 1
        if x.ndim != (2 if step else 3):
            raise ValueError(f"x: expected {'(N, D)' if step else '(N, T, D)'}, got shape {x.shape}")
        n, d = len(x), x.shape[-1]
        if Wh.ndim != 2 or Wh.shape[1] != gates * Wh.shape[0]:
            raise ValueError(f"Wh: expected (H, {gates if gates > 1 else ''}H), got shape {Wh.shape}")
        h = Wh.shape[0]
        want = {"Wx": (d, gates * h), "b": (gates * h,), "prev_h" if step else "h0": (n, h)}
        if with_c:
            want["prev_c"] = (n, h)
        got = {"Wx": Wx.shape, "b": b.shape, "prev_h" if step else "h0": h0.shape}
        if with_c:
            got["prev_c"] = c0.shape
        wrong = [f"{k} {got[k]} (expected {v})" for k, v in want.items() if got[k] != v]
        if wrong:
            raise ValueError(f"{', '.join(wrong)}, for x {x.shape} and Wh {Wh.shape}")
        if kind == "LSTM" and param.get("gate_order") not in GATE_ORDERS:
            raise ValueError(
                f"gate_order: expected 'ifog' (CS231n's i, f, o, g) or 'ifgo' (PyTorch's i, f, g, o), "
                f"got {param.get('gate_order')!r}"
            )

    return check


def gate_columns(hidden, order):
    """The column indices taking gate blocks in ``order`` to the engine's i, f, g, o (and back:
    the swap of o and g is its own inverse)."""
    blocks = (0, 1, 3, 2) if order == "ifog" else (0, 1, 2, 3)
    return np.concatenate([np.arange(b * hidden, (b + 1) * hidden) for b in blocks])


def _recurrent_case(kind, step):
    """The engine's RNN or LSTM with W_ih = Wx, W_hh = Wh, b_ih = b, b_hh = 0 (CS231n has one
    bias), on (x, h0) (an LSTM's c0 = 0); a step is the layer over T = 1."""

    def case(arrays, param, out):
        x, h0, Wx, Wh, b = arrays
        hidden = Wh.shape[0]
        params = {"W_ih": Wx, "W_hh": Wh, "b_ih": b, "b_hh": np.zeros_like(b)}
        convert = None
        if kind == "LSTM":
            cols = gate_columns(hidden, param.get("gate_order", "ifog"))
            params = {k: v[..., cols] for k, v in params.items()}

            def convert(named):
                return {k: v[..., cols] if k in ("dWx", "dWh", "db") else v for k, v in named.items()}

        layer = {"kind": kind, "input_size": Wx.shape[0], "hidden_size": hidden}
        names = {
            "dx": "dx",
            "dh0": "dprev_h" if step else "dh0",
            "dW_ih": "dWx",
            "dW_hh": "dWh",
            "db_ih": "db",
        }
        seq = x[:, None] if step else x
        return EngineCase(
            layer,
            params,
            {},
            (seq, h0),
            True,
            names,
            x.shape,
            out_shape=(len(x), hidden) if step else None,
            engine_dout=(lambda d: np.asarray(d)[:, None]) if step else None,
            convert=convert,
        )

    return case


def _draw_attention(rng, dtype):
    """q (N, Tq, d), k (N, Tk, d), v (N, Tk, dv) of scale 1.5, and a mask (N, Tq, Tk), True where a
    query may attend: sample 0's last two keys and sample 1's first masked for every query."""
    q, k, v = (
        1.5 * _normal(rng, shape, np.float64) for shape in ((AN, ATQ, AD), (AN, ATK, AD), (AN, ATK, ADV))
    )
    keep = np.ones((AN, ATK), bool)
    keep[0, -2:] = keep[1, 0] = False
    return (
        q.astype(dtype),
        k.astype(dtype),
        v.astype(dtype),
        np.broadcast_to(keep[:, None], (AN, ATQ, ATK)).copy(),
    )


def attention_keep(mask, q, k):
    """The user's mask as (N, Tq, Tk) bool, True where query i may attend key j (the Annotated
    Transformer's and CS231n's convention: 0 or False hides), or None. Shapes: (N, Tq, Tk),
    (N, 1, Tk), (N, Tk) (a key mask, every query alike) and (Tq, Tk)."""
    if mask is None:
        return None
    n, tq, tk = q.shape[0], q.shape[-2], k.shape[-2]
    m = np.asarray(mask) != 0
    if m.shape == (n, tk):
        m = m[:, None, :]
    elif m.shape == (tq, tk):
        m = m[None]
    if m.ndim != 3 or m.shape[0] not in (1, n) or m.shape[1] not in (1, tq) or m.shape[2] != tk:
        raise ValueError(
            f"mask: expected (N, Tq, Tk) = {(n, tq, tk)}, (N, 1, Tk), (N, Tk) or (Tq, Tk), "
            f"got {np.shape(mask)}"
        )
    return np.broadcast_to(m, (n, tq, tk))


def _engine_mask(keep):
    """``(causal, key_padding_mask)`` that the engine's ScaledDotProductAttention hides the same
    entries by (True = ignore that key), or ValueError: a key mask, PyTorch's top-left causal
    mask, or both."""
    tq, tk = keep.shape[1:]
    attended = keep.any(axis=1)  # a key some query sees
    if np.array_equal(keep, np.broadcast_to(attended[:, None], keep.shape)):
        return False, ~attended
    causal = np.tril(np.ones((tq, tk), bool))
    if np.array_equal(keep, causal & attended[:, None]):
        return True, ~attended
    raise ValueError(
        "mask: the check expresses a mask of keys (the same for every query), the causal mask "
        "(query i sees keys j <= i), or both; this mask is neither"
    )


def _check_attention(arrays, param):
    q, k, v, mask = arrays
    if not (q.ndim == k.ndim == v.ndim >= 3) or q.shape[-1] != k.shape[-1] or k.shape[:-1] != v.shape[:-1]:
        raise ValueError(
            "q, k, v: expected (N, ..., Tq, d), (N, ..., Tk, d), (N, ..., Tk, dv), "
            f"got {q.shape}, {k.shape}, {v.shape}"
        )
    if mask is not None:
        if mask.dtype.kind not in "biu" or (mask.dtype.kind != "b" and not np.isin(mask, (0, 1)).all()):
            raise TypeError(f"mask: expected bool or 0/1 (0 hides a key), got {mask.dtype}")
        keep = attention_keep(mask, q, k)
        if not keep.any(axis=-1).all():
            raise ValueError("mask: a query sees no key at all: its softmax has no entries")
        _engine_mask(keep)


def _attention_case(arrays, param, out):
    q, k, v, mask = arrays
    keep = attention_keep(mask, q, k)
    causal, hidden = (False, None) if keep is None else _engine_mask(keep)
    x = (q, k, v) if hidden is None or not hidden.any() else (q, k, v, hidden)
    names = {"dq": "dq", "dk": "dk", "dv": "dv"}
    return EngineCase(
        {"kind": "ScaledDotProductAttention", "causal": bool(causal)}, {}, {}, x, True, names, q.shape
    )


def _draw_groupnorm(rng, dtype):
    """x (N, C, H, W) whose channels' means (±2 to ±5) and scales (0.05 to 5) differ within each
    group, γ and β (1, C, 1, 1) as CS231n's, G = 3 (two channels a group)."""
    n, c, h, w = GN_IMAGE
    mean = rng.choice([-1, 1], c) * rng.uniform(2, 5, c)
    scale = np.exp(rng.uniform(np.log(0.05), np.log(5), c))
    x = mean[:, None, None] + scale[:, None, None] * rng.standard_normal(GN_IMAGE)
    gamma, beta = _gamma_beta(rng, c, np.float64)
    view = (1, c, 1, 1)
    return (
        x.astype(dtype),
        gamma.reshape(view).astype(dtype),
        beta.reshape(view).astype(dtype),
        np.array(GN_GROUPS),
    )


def _check_groupnorm(arrays, param):
    x, gamma, beta, G = arrays
    if x.ndim != 4:
        raise ValueError(f"x: expected (N, C, H, W) for spatial_groupnorm, got shape {x.shape}")
    c = x.shape[1]
    if G.ndim != 0 or G.dtype.kind not in "iu" or int(G) < 1 or c % int(G):
        raise ValueError(f"G: expected an integer number of groups dividing C = {c}, got {G!r}")
    for name, a in (("gamma", gamma), ("beta", beta)):
        if a.size != c:
            raise ValueError(f"{name}: expected C = {c} entries ((1, C, 1, 1) or (C,)), got shape {a.shape}")


def _groupnorm_case(arrays, param, out):
    x, gamma, beta, G = arrays
    c = x.shape[1]
    layer = {
        "kind": "GroupNorm",
        "num_groups": int(G),
        "num_channels": c,
        "eps": float(param.get("eps", 1e-5)),
    }
    params = {"gamma": gamma.reshape(c), "beta": beta.reshape(c)}
    names = {"dx": "dx", "dgamma": "dgamma", "dbeta": "dbeta"}
    shapes = {"dgamma": gamma.shape, "dbeta": beta.shape}
    return EngineCase(layer, params, {}, x, True, names, x.shape, shapes=shapes)


# ------------------------------------------------------------------ lstm_step: two outputs


def _lstm_step_out_shape(arrays):
    x, h0 = arrays[:2]
    return (2, *h0.shape)


def lstm_cell(x, h, c, W, U, b, order, xp=np):
    """One LSTM step, the gates in ``order``'s blocks of z = x W + h U + b: ``(h', c')``."""
    hidden = U.shape[0]
    z = x @ W + h @ U + b
    block = {name: z[..., k * hidden : (k + 1) * hidden] for k, name in enumerate(order)}
    sig = lambda a: 1 / (1 + xp.exp(-a))  # noqa: E731
    c_new = sig(block["f"]) * c + sig(block["i"]) * xp.tanh(block["g"])
    return sig(block["o"]) * xp.tanh(c_new), c_new


def _lstm_step_truths(arrays, param, dout, references):
    """CS231n's lstm_step (next_h and next_c). The engine's LSTM returns h alone, so ∂L/∂next_c
    has no way into its backward: the truths are PyTorch's ``nn.LSTMCell`` (autograd of
    ⟨dnext_h, h'⟩ + ⟨dnext_c, c'⟩), JAX's vjp of a jnp cell, and central differences of that
    sum in float64; the bound is the LSTM's (``crosscheck.layers.recurrent``) over one step
    with ∂c' = dnext_c carried in."""
    order = param.get("gate_order", "ifog")
    x, h0, c0, Wx, Wh, b = arrays
    dtype = x.dtype
    hidden = Wh.shape[0]
    cols = gate_columns(hidden, order)
    W_ih, W_hh, bias = Wx[:, cols], Wh[:, cols], b[cols]  # the engine's order: i, f, g, o
    dh, dc = np.asarray(dout[0], dtype), np.asarray(dout[1], dtype)
    names = ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db")
    values = {}
    for name in references:
        grads, out = _lstm_step_torch(x, h0, c0, W_ih, W_hh, bias, dh, dc) if name == "torch" else (
            _lstm_step_jax(x, h0, c0, W_ih, W_hh, bias, dh, dc))  # fmt: skip
        grads = list(grads[:3]) + [g[..., cols] for g in grads[3:]]  # back to the user's order
        values[name] = {"out": np.stack(out), **dict(zip(names, grads))}
    a64 = [np.array(a, np.float64) for a in arrays]
    d64 = np.asarray(dout, np.float64)

    def phi():
        h, c = lstm_cell(*a64[:3], *a64[3:], order)
        return float(np.vdot(d64[0], h) + np.vdot(d64[1], c))

    values["finite differences"] = dict(zip(names, (central_differences(phi, a, 1e-6) for a in a64)))
    layer = {"kind": "LSTM", "input_size": x.shape[1], "hidden_size": hidden}
    params = {"W_ih": W_ih, "W_hh": W_hh, "b_ih": bias, "b_hh": np.zeros_like(bias)}
    out, _, cache = bound_lstm.forward(layer, params, {}, (x[:, None], h0, c0), True, None)
    rows, hs, cs, saved, _, p, _ = cache
    dz, dprev_c, dprev_h = bound_lstm.lstm_back(
        rounding.exact(dh), None, rounding.exact(dc), saved[0], cs[0], p["W_hh"].T
    )
    e = {
        "out": np.stack([hs[1].e, cs[1].e]),
        "dx": (dz @ p["W_ih"].T).e,
        "dprev_h": dprev_h.e,
        "dprev_c": dprev_c.e,
        "dWx": (rows.T @ dz).e[:, cols],
        "dWh": (hs[0].T @ dz).e[:, cols],
        "db": dz.sum(axis=0).e[cols],
    }
    first = next(iter(values))
    engine = {n: np.asarray(v, np.float64) for n, v in values[first].items()}
    notes = ["lstm_step: the engine's LSTM returns h alone, so dnext_c has no way into its backward; the "
             "truths are PyTorch's nn.LSTMCell, JAX's vjp of a jnp cell and central differences"]  # fmt: skip
    return Truths(values, engine, e, notes)


def _lstm_step_torch(x, h0, c0, W_ih, W_hh, bias, dh, dc):
    import torch

    dtype = getattr(torch, x.dtype.name)
    cell = torch.nn.LSTMCell(x.shape[1], W_hh.shape[0], dtype=dtype)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(np.ascontiguousarray(W_ih.T)))
        cell.weight_hh.copy_(torch.from_numpy(np.ascontiguousarray(W_hh.T)))
        cell.bias_ih.copy_(torch.from_numpy(bias))
        cell.bias_hh.zero_()
    ins = [torch.from_numpy(np.array(a)).requires_grad_(True) for a in (x, h0, c0)]
    h, c = cell(ins[0], (ins[1], ins[2]))
    torch.autograd.backward([h, c], [torch.from_numpy(dh), torch.from_numpy(dc)])
    grads = [t.grad.numpy().copy() for t in ins]
    grads += [
        cell.weight_ih.grad.numpy().T.copy(),
        cell.weight_hh.grad.numpy().T.copy(),
        cell.bias_ih.grad.numpy().copy(),
    ]
    return grads, (h.detach().numpy().copy(), c.detach().numpy().copy())


def _lstm_step_jax(x, h0, c0, W_ih, W_hh, bias, dh, dc):
    import jax
    import jax.numpy as jnp

    with jax_ref.x64(x.dtype):
        args = [jnp.asarray(a) for a in (x, h0, c0, W_ih, W_hh, bias)]
        out, vjp = jax.vjp(lambda *a: lstm_cell(*a, "ifgo", xp=jnp), *args)
        grads = vjp((jnp.asarray(dh), jnp.asarray(dc)))
        return [np.asarray(g) for g in grads], tuple(np.asarray(o) for o in out)


# ------------------------------------------------------------------ truths


def layer_truths(case, dout, references):
    """``Truths`` of a layer kind on its ``EngineCase``, from the engine's layer, each reference
    named in ``references`` ("torch", "jax"), central differences and the running bound."""
    c = dataclasses.replace(case, layer=describe(from_config(case.layer)))  # every option spelled out
    dout = dout if c.engine_dout is None else c.engine_dout(dout)
    engine = _engine(c, dout)
    bound = lc.bounds(c.layer, c.params, c.buffers, c.x, dout, c.train, c.mask)
    first = c.x[0] if isinstance(c.x, tuple) else c.x
    dtype = first.dtype if first.dtype.kind == "f" else next(iter(c.params.values())).dtype
    values = {
        name: _named(c, lc.reference(name, c.layer, c.params, c.buffers, c.x, dout, dtype, c.train, c.mask))
        for name in references
    }
    values["finite differences"] = _numeric(c, dout)
    return Truths(values, _named(c, engine), _named(c, bound, lambda t: rounding.lift(t).e))


def _engine(c, dout):
    if c.layer["kind"] != "Dropout" or not c.train:
        return lc.engine(c.layer, c.params, c.buffers, c.x, dout, c.train)[0]
    # the user's mask, through the engine's own layer (its backward takes the mask as its cache)
    layer = Dropout(c.layer["p"])
    out = c.x * c.mask * c.x.dtype.type(1 / (1 - layer.p))
    dx, _ = layer.backward(np.asarray(dout), c.mask)
    return lc.LayerResult(out, dx, {}, {})


def _numeric(c, dout):
    """dx and the params' gradients of ⟨dout, f⟩ by central differences in float64 (out: the
    engine's, in float64)."""
    if c.layer["kind"] == "Dropout" and c.train:
        d64 = np.asarray(dout, np.float64)
        scale = 1 / (1 - c.layer["p"])
        x64 = np.array(c.x, np.float64)
        dx = central_differences(lambda: float(np.vdot(d64, x64 * c.mask * scale)), x64, 1e-6)
        return _named(c, lc.LayerResult(None, dx, {}, {}))
    dx, grads, _ = lc.numeric(c.layer, c.params, c.buffers, c.x, dout, c.train)
    return _named(c, lc.LayerResult(None, dx, grads, {}, lc.inputs_of(c.layer)))


def _named(c, result, value=np.asarray):
    """A ``LayerResult`` as the user's names: {"out", "dx", "dw", ...}, each in the user's shape
    (dx in x's own); an engine array the user has no name for (RNN's ∂b_hh) left out."""
    named = {}
    if result.out is not None:
        out = value(result.out)
        named["out"] = out if c.out_shape is None else np.reshape(out, c.out_shape)
    engine = {**lc.input_grads(result.inputs, result.dx), **{f"d{k}": v for k, v in result.grads.items()}}
    for k, v in engine.items():
        if k in c.names:
            user = c.names[k]
            shape = c.shapes.get(user, c.x_shape if user == "dx" else None)
            named[user] = value(v) if shape is None else np.reshape(value(v), shape)
    return named if c.convert is None else c.convert(named)


def _softmax_truths(arrays, references):
    """CS231n's softmax_loss: the mean over N of −log softmax(x)_y. The engine's cross-entropy
    head; the references' as the loss of a Linear layer whose input is the identity
    (z = I W = W exactly, so ∂L/∂W is ∂L/∂x)."""
    x, y = arrays
    n, classes = x.shape
    loss, dx = HEADS["cross_entropy"].value_and_grad(x, y, "mean")
    spec = {
        "kind": "Sequential",
        "layers": [{"kind": "Linear", "in_features": n, "out_features": classes, "bias": False}],
        "loss": "cross_entropy",
        "reduction": "mean",
        "dtype": x.dtype.name,
    }
    eye = np.eye(n, dtype=x.dtype)
    values = {}
    for name in references:
        value, grads, _ = lc.REFERENCES[name].sequential_loss_and_grads(spec, [{"W": x}], [{}], eye, y)
        values[name] = {"loss": np.float64(value), "dx": grads[0]["W"]}
    x64 = np.array(x, np.float64)
    numeric = central_differences(lambda: HEADS["cross_entropy"].value_and_grad(x64, y, "mean")[0], x64, 1e-6)
    values["finite differences"] = {"dx": numeric}
    b_loss, b_grads, _ = sequential_bounds(spec, [{"W": x}], [{}], eye, y)
    bound = {"loss": b_loss.e, "dx": b_grads[0]["W"].e}
    return Truths(values, {"loss": np.float64(loss), "dx": dx}, bound)


def _svm_truths(arrays, references):
    """CS231n's svm_loss: the mean over N of Σ_{j ≠ y} max(0, x_j − x_y + 1). PyTorch's
    ``multi_margin_loss`` (which also divides by C) times C; central differences of it in
    float64. The engine has no hinge loss and JAX none of this one: they are not truths here."""
    import torch
    import torch.nn.functional as F

    x, y = arrays
    classes = x.shape[1]

    def torch_loss(xv):
        xt = torch.tensor(xv, requires_grad=True)
        loss = F.multi_margin_loss(xt, torch.from_numpy(np.asarray(y, np.int64)), reduction="mean") * classes
        loss.backward()
        return float(loss.detach()), xt.grad.numpy().copy()

    value, dx = torch_loss(x)
    x64 = np.array(x, np.float64)
    numeric = central_differences(lambda: torch_loss(x64)[0], x64, 1e-6)
    values = {"torch": {"loss": np.float64(value), "dx": dx}, "finite differences": {"dx": numeric}}
    notes = ["svm_loss: the engine has no hinge loss and JAX none of this one; the truths are PyTorch's and "
             "central differences"]  # fmt: skip
    return Truths(values, {"loss": np.float64(value), "dx": dx.astype(np.float64)}, _svm_bound(x, y), notes)


def _svm_bound(x, y):
    """The running error bound of the hinge loss and its gradient (``rounding.Tracked``)."""
    n = len(x)
    rows = np.arange(n)
    t = rounding.exact(x)
    correct = rounding.Tracked(t.v[rows, y][:, None], t.e[rows, y][:, None])
    margins = t - correct + 1.0
    positive = margins.v > 0
    positive[rows, y] = False
    terms = rounding.where(positive, rounding.maximum0(margins), rounding.Tracked(np.zeros_like(t.v)))
    loss = terms.sum() / float(n)
    # the gradient: counts of positive margins (exact) over N, one rounding each
    dx = positive.astype(np.float64)
    dx[rows, y] = -positive.sum(axis=1)
    return {"loss": loss.e, "dx": np.abs(dx / n)}


def _temporal_softmax_truths(arrays, references):
    """CS231n's temporal_softmax_loss: Σ over the positions (n, t) where mask is True of
    −log softmax(x[n, t])_y[n, t], divided by N. The engine's cross-entropy head expresses it
    exactly: on the counted positions' rows, reduction "sum", then / N (their gradient / N, the
    others' exactly 0); the references' the same way (a Linear layer whose input is the identity,
    as softmax_loss's). Central differences run over every entry of x, the uncounted included,
    so the zeros there are checked by a truth that never selects rows."""
    x, y, mask = arrays
    n = len(x)
    rows, labels = x[mask], y[mask]
    count, classes = rows.shape

    def spread(grad, fill=0.0):
        full = np.full(x.shape, fill, np.asarray(grad).dtype)
        full[mask] = grad
        return full

    loss, grad = HEADS["cross_entropy"].value_and_grad(rows, labels, "sum")
    spec = {
        "kind": "Sequential",
        "layers": [{"kind": "Linear", "in_features": count, "out_features": classes, "bias": False}],
        "loss": "cross_entropy",
        "reduction": "sum",
        "dtype": x.dtype.name,
    }
    eye = np.eye(count, dtype=x.dtype)
    values = {}
    for name in references:
        value, grads, _ = lc.REFERENCES[name].sequential_loss_and_grads(
            spec, [{"W": rows}], [{}], eye, labels
        )
        values[name] = {"loss": np.float64(value) / n, "dx": spread(grads[0]["W"] / x.dtype.type(n))}
    x64 = np.array(x, np.float64)
    numeric = central_differences(
        lambda: HEADS["cross_entropy"].value_and_grad(x64[mask], labels, "sum")[0] / n, x64, 1e-6
    )
    values["finite differences"] = {"dx": numeric}
    b_loss, b_grads, _ = sequential_bounds(spec, [{"W": rows}], [{}], eye, labels)
    bound = {"loss": (b_loss / float(n)).e, "dx": spread((b_grads[0]["W"] / float(n)).e)}
    engine = {"loss": np.float64(loss) / n, "dx": spread(grad / x.dtype.type(n))}
    return Truths(values, engine, bound)


# ------------------------------------------------------------------ the table

# windows of 3 × 2 every 1: overlapping along both axes
POOL_DEFAULTS = {"pool_height": 3, "pool_width": 2, "stride": 1}

KINDS = {
    k.name: k
    for k in (
        Kind("affine", ("x", "w", "b"), ("dx", "dw", "db"), _draw_affine, engine_case=_affine_case),
        Kind(
            "relu",
            ("x",),
            ("dx",),
            lambda rng, dt: (_away_from_zero(rng, (N, D), dt),),
            engine_case=_activation_case("ReLU"),
        ),
        Kind(
            "sigmoid",
            ("x",),
            ("dx",),
            lambda rng, dt: (_normal(rng, (N, D), dt),),
            engine_case=_activation_case("Sigmoid"),
        ),
        Kind(
            "tanh",
            ("x",),
            ("dx",),
            lambda rng, dt: (_normal(rng, (N, D), dt),),
            engine_case=_activation_case("Tanh"),
        ),
        Kind(
            "batchnorm",
            ("x", "gamma", "beta"),
            ("dx", "dgamma", "dbeta"),
            _draw_batchnorm,
            "bn_param",
            {"mode": "train", "eps": 1e-5, "momentum": 0.9},
            _batchnorm_case,
        ),
        Kind(
            "layernorm",
            ("x", "gamma", "beta"),
            ("dx", "dgamma", "dbeta"),
            _draw_layernorm,
            "ln_param",
            {"eps": 1e-5},
            _layernorm_case,
        ),
        Kind(
            "dropout",
            ("x",),
            ("dx",),
            _draw_dropout,
            "dropout_param",
            {"p": 0.7, "mode": "train", "seed": 123},
            _dropout_case,
        ),
        Kind("word_embedding", ("x", "W"), ("dW",), _draw_embedding, engine_case=_embedding_case),
        Kind(
            "temporal_affine", ("x", "w", "b"), ("dx", "dw", "db"), _draw_temporal, engine_case=_temporal_case
        ),
        Kind("softmax_loss", ("x", "y"), ("dx",), _draw_scores, truths=_softmax_truths, loss=True),
        Kind("svm_loss", ("x", "y"), ("dx",), _draw_scores, truths=_svm_truths, loss=True),
        Kind(
            "conv",
            ("x", "w", "b"),
            ("dx", "dw", "db"),
            _draw_conv,
            "conv_param",
            {"stride": 1, "pad": 0},
            _conv_case,
            check=_check_conv,
            suffix="_naive",
        ),
        Kind(
            "max_pool",
            ("x",),
            ("dx",),
            _draw_pool,
            "pool_param",
            POOL_DEFAULTS,
            _pool_case("MaxPool2d"),
            check=_check_pool("max_pool"),
            suffix="_naive",
        ),
        Kind(
            "avg_pool",
            ("x",),
            ("dx",),
            _draw_pool,
            "pool_param",
            POOL_DEFAULTS,
            _pool_case("AvgPool2d"),
            check=_check_pool("avg_pool"),
            suffix="_naive",
        ),
        Kind(
            "spatial_batchnorm",
            ("x", "gamma", "beta"),
            ("dx", "dgamma", "dbeta"),
            _draw_spatial_batchnorm,
            "bn_param",
            {"mode": "train", "eps": 1e-5, "momentum": 0.9},
            _spatial_batchnorm_case,
            check=_check_spatial("spatial_batchnorm"),
        ),
        Kind(
            "rnn_step",
            ("x", "prev_h", "Wx", "Wh", "b"),
            ("dx", "dprev_h", "dWx", "dWh", "db"),
            _draw_recurrent(True, 1),
            engine_case=_recurrent_case("RNN", True),
            check=_check_recurrent("RNN", True),
            outputs=("next_h",),
        ),
        Kind(
            "rnn",
            ("x", "h0", "Wx", "Wh", "b"),
            ("dx", "dh0", "dWx", "dWh", "db"),
            _draw_recurrent(False, 1),
            engine_case=_recurrent_case("RNN", False),
            check=_check_recurrent("RNN", False),
            outputs=("h",),
        ),
        Kind(
            "lstm_step",
            ("x", "prev_h", "prev_c", "Wx", "Wh", "b"),
            ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"),
            _draw_recurrent(True, 4, with_c=True),
            truths=_lstm_step_truths,
            check=_check_recurrent("LSTM", True, with_c=True),
            outputs=("next_h", "next_c"),
            options={"gate_order": "ifog"},
            out_shape=_lstm_step_out_shape,
        ),
        Kind(
            "lstm",
            ("x", "h0", "Wx", "Wh", "b"),
            ("dx", "dh0", "dWx", "dWh", "db"),
            _draw_recurrent(False, 4),
            engine_case=_recurrent_case("LSTM", False),
            check=_check_recurrent("LSTM", False),
            outputs=("h",),
            options={"gate_order": "ifog"},
        ),
        Kind(
            "attention",
            ("q", "k", "v", "mask"),
            ("dq", "dk", "dv"),
            _draw_attention,
            engine_case=_attention_case,
            check=_check_attention,
            optional=("mask",),
        ),
        Kind(
            "spatial_groupnorm",
            ("x", "gamma", "beta", "G"),
            ("dx", "dgamma", "dbeta"),
            _draw_groupnorm,
            "gn_param",
            {"eps": 1e-5},
            _groupnorm_case,
            check=_check_groupnorm,
        ),
        Kind(
            "temporal_softmax_loss",
            ("x", "y", "mask"),
            ("dx",),
            _draw_temporal_scores,
            truths=_temporal_softmax_truths,
            loss=True,
            check=_check_temporal_scores,
        ),
    )
}
# the single-expression batchnorm_backward_alt is checked as batchnorm
ALIASES = {"batchnorm_alt": "batchnorm", "scaled_dot_product_attention": "attention"}


def kind_of(name):
    name = ALIASES.get(name, name)
    if name not in KINDS:
        raise ValueError(f"kind: expected one of {', '.join(KINDS)}, got {name!r}")
    return KINDS[name]
