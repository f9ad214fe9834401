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

Every kind's drawn inputs show its catalogue's mistakes (``crosscheck.layer_mistakes``):
the batch, features and outputs of different sizes (a transposed or misreduced array shows by shape),
normalisation data whose mean and scale are far from 0 and 1, γ ≠ 1, β ≠ 0, repeated
embedding indices, ReLU inputs away from 0, a conv at stride 1 with 3×3 windows, pooling
windows that overlap (stride < pool size) on values without ties, a temporal mask counting
7 of the N·T = 10 positions, float64.
"""

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from manual.gradcheck import central_differences
from manual.layers import describe, from_config
from manual.layers.dropout import Dropout
from manual.losses import HEADS

from . import layer_compare as lc
from . import rounding
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

    def signature(self):
        args = ", ".join(self.arrays + ((self.param,) if self.param else ()))
        if self.loss:
            return f"{self.name}({args}) -> (loss, dx)"
        result = self.grads[0] if len(self.grads) == 1 else f"({', '.join(self.grads)})"
        forward, backward = (f"{self.name}_{way}{self.suffix}" for way in ("forward", "backward"))
        return f"{forward}({args}) -> (out, cache); {backward}(dout, cache) -> {result}"


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
    of its kink (for the SVM), on which dividing by N or not is plain."""
    y = np.arange(N) % C
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


# ------------------------------------------------------------------ truths


def layer_truths(case, dout, references):
    """``Truths`` of a layer kind on its ``EngineCase``, from the engine's layer, each reference
    named in ``references`` ("torch", "jax"), central differences and the running bound."""
    c = dataclasses.replace(case, layer=describe(from_config(case.layer)))  # every option spelled out
    engine = _engine(c, dout)
    bound = lc.bounds(c.layer, c.params, c.buffers, c.x, dout, c.train, c.mask)
    dtype = c.x.dtype if c.x.dtype.kind == "f" else next(iter(c.params.values())).dtype
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
    return _named(c, lc.LayerResult(None, dx, grads, {}))


def _named(c, result, value=np.asarray):
    """A ``LayerResult`` as the user's names: {"out", "dx", "dw", ...}; dx in x's own shape."""
    named = {}
    if result.out is not None:
        named["out"] = value(result.out)
    if result.dx is not None and "dx" in c.names:
        named["dx"] = np.reshape(value(result.dx), c.x_shape)
    for k, v in result.grads.items():
        named[c.names[f"d{k}"]] = value(v)
    return named


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
ALIASES = {"batchnorm_alt": "batchnorm"}


def kind_of(name):
    name = ALIASES.get(name, name)
    if name not in KINDS:
        raise ValueError(f"kind: expected one of {', '.join(KINDS)}, got {name!r}")
    return KINDS[name]
