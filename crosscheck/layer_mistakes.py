"""The classic mistakes in a hand-written CS231n layer, per kind: each a named
transformation of the correct forward and backward, evaluated in float64 on the
same inputs and upstream gradient, giving the values it would produce (the
arrays it leaves out are the truth's). ``crosscheck.diagnosis`` names one only
when it reproduces every array of the layer, the right ones included.

Known-harmless variants are not entries: batchnorm's dvar → dmean term (exactly
0, since Σ (x − μ) = 0), a ReLU mask taken from the output (out > 0 ⇔ x > 0), the
softmax computed without subtracting the row's maximum (the same value, where it
does not overflow).

    MISTAKES[kind] -> [Mistake(key, text, values)],  values(Inputs) -> {name: array}
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Inputs:
    """What a mistake is evaluated on, in float64: the forward's arrays, its config dict,
    the upstream gradient, the true values (``{"out", "dx", ...}``) and the user's."""

    arrays: tuple
    param: dict
    dout: np.ndarray
    truth: dict
    user: dict


@dataclass(frozen=True)
class Mistake:
    key: str
    text: str
    values: object  # Inputs -> {name: array}, or None where it does not apply to these inputs


# ------------------------------------------------------------------ affine


def _affine_mean_db(i):
    return {"db": i.truth["db"] / len(i.arrays[0])}


def _affine_mean_dw(i):
    return {"dw": i.truth["dw"] / len(i.arrays[0])}


AFFINE = [
    Mistake("db-mean", "db averaged over the batch (dout.mean(axis=0)) instead of summed", _affine_mean_db),
    Mistake(
        "dw-mean", "dw divided by the batch size N: the upstream gradient already carries it", _affine_mean_dw
    ),
]


# ------------------------------------------------------------------ activations


def _relu_dout_mask(i):
    return {"dx": i.dout * (i.dout > 0)}


def _relu_no_mask(i):
    return {"dx": i.dout}


def _relu_inverted(i):
    return {"dx": i.dout * (i.arrays[0] < 0)}


def _sigmoid_of_out(i):
    s = 1 / (1 + np.exp(-i.truth["out"]))
    return {"dx": i.dout * s * (1 - s)}


def _sigmoid_from_x(i):
    x = i.arrays[0]
    return {"dx": i.dout * x * (1 - x)}


def _sigmoid_half(i):
    return {"dx": i.dout * i.truth["out"]}


def _tanh_from_x(i):
    return {"dx": i.dout * (1 - i.arrays[0] ** 2)}


def _tanh_of_out(i):
    return {"dx": i.dout * (1 - np.tanh(i.truth["out"]) ** 2)}


def _tanh_unsquared(i):
    return {"dx": i.dout * (1 - i.truth["out"])}


RELU = [
    Mistake("mask-from-dout", "the mask taken from dout (dout > 0) instead of from x", _relu_dout_mask),
    Mistake("no-mask", "dx = dout: the mask (x > 0) left out", _relu_no_mask),
    Mistake("mask-inverted", "the mask inverted: dout where x < 0", _relu_inverted),
]
SIGMOID = [
    Mistake(
        "sigmoid-of-out", "σ′ computed as σ(out)(1 − σ(out)), σ applied to the output again", _sigmoid_of_out
    ),
    Mistake(
        "sigmoid-from-x", "σ′ computed as x(1 − x), from the input instead of the output", _sigmoid_from_x
    ),
    Mistake("sigmoid-half", "σ′ computed as out, the (1 − out) left out", _sigmoid_half),
]
TANH = [
    Mistake("tanh-from-x", "tanh′ computed as 1 − x², from the input instead of the output", _tanh_from_x),
    Mistake(
        "tanh-of-out", "tanh′ computed as 1 − tanh(out)², tanh applied to the output again", _tanh_of_out
    ),
    Mistake("tanh-unsquared", "tanh′ computed as 1 − out, the square left out", _tanh_unsquared),
]


# ------------------------------------------------------------------ batchnorm and layernorm


def _stats(x, axis, eps, eps_outside=False):
    mu = x.mean(axis=axis, keepdims=True)
    xc = x - mu
    var = (xc * xc).mean(axis=axis, keepdims=True)
    r = 1 / (np.sqrt(var) + eps) if eps_outside else 1 / np.sqrt(var + eps)
    return xc, var, r


def _norm_backward(i, axis, drop=(), bessel=False, no_gamma=False, eps_outside=False):
    """The staged backward of x̂ = (x − μ) r, r = 1/√(σ² + ε): through x − μ directly, the mean
    and the variance; ``drop``: the paths left out ("mean", "var"); ``bessel``: the variance's
    derivative with N − 1; ``no_gamma``: ∂L/∂x̂ taken as dout."""
    x, gamma, beta = i.arrays
    eps = float(i.param.get("eps", 1e-5))
    xc, var, r = _stats(x, axis, eps, eps_outside)
    n = x.shape[axis]
    dxhat = i.dout if no_gamma else i.dout * gamma
    dvar = np.sum(dxhat * xc, axis=axis, keepdims=True) * -0.5 * r**3
    dmean = np.sum(-dxhat * r, axis=axis, keepdims=True)
    dx = dxhat * r
    if "var" not in drop:
        dx = dx + dvar * 2 * xc / (n - 1 if bessel else n)
    if "mean" not in drop:
        dx = dx + dmean / n
    return dx


def _norm_forward_eps_outside(i, axis):
    x, gamma, beta = i.arrays
    xc, var, r = _stats(x, axis, float(i.param.get("eps", 1e-5)), eps_outside=True)
    xhat = xc * r
    other = 1 - axis
    return {
        "out": gamma * xhat + beta,
        "dx": _compact(i.dout * gamma, xhat, r, axis),
        "dgamma": np.sum(i.dout * xhat, axis=other if x.ndim == 2 and axis == 1 else 0),
    }


def _compact(g, xhat, r, axis):
    """∂L/∂x = r (g − mean(g) − x̂ mean(g x̂)) along ``axis``, from g = ∂L/∂x̂."""
    return r * (g - g.mean(axis=axis, keepdims=True) - xhat * (g * xhat).mean(axis=axis, keepdims=True))


def _bn(**how):
    def values(i):
        return {"dx": _norm_backward(i, 0, **how)}

    return values


def _bn_swapped(i):
    return {"dgamma": i.truth["dbeta"], "dbeta": i.truth["dgamma"]}


BATCHNORM = [
    Mistake(
        "bn-mean-path",
        "the path through the batch mean μ left out of dx (no dmean/N term)",
        _bn(drop=("mean",)),
    ),
    Mistake(
        "bn-var-path",
        "the path through the batch variance σ² left out of dx (no dvar term)",
        _bn(drop=("var",)),
    ),
    Mistake(
        "bn-both-paths",
        "the paths through μ and σ² both left out: dx = γ dout / √(σ² + ε)",
        _bn(drop=("mean", "var")),
    ),
    Mistake(
        "bn-bessel",
        "the variance's derivative with N − 1 (Bessel's correction), where the forward divides by N",
        _bn(bessel=True),
    ),
    Mistake("bn-no-gamma", "γ left out of dx (∂L/∂x̂ taken as dout, not γ · dout)", _bn(no_gamma=True)),
    Mistake("bn-swapped", "dγ and dβ swapped", _bn_swapped),
    Mistake(
        "bn-eps-outside",
        "ε outside the square root: 1/(√σ² + ε) instead of 1/√(σ² + ε), forward and backward",
        lambda i: _norm_forward_eps_outside(i, 0),
    ),
]


def _ln_wrong_axis_backward(i):
    """The forward right (over the features), the backward's sums over the batch axis, as
    batchnorm's backward reads them."""
    x, gamma, beta = i.arrays
    xc, var, r = _stats(x, 1, float(i.param.get("eps", 1e-5)))
    return {"dx": _compact(i.dout * gamma, xc * r, r, 0)}


def _ln_as_batchnorm(i):
    """Forward and backward over the batch axis: batchnorm's code with its axis unchanged."""
    x, gamma, beta = i.arrays
    xc, var, r = _stats(x, 0, float(i.param.get("eps", 1e-5)))
    xhat = xc * r
    return {
        "out": gamma * xhat + beta,
        "dx": _compact(i.dout * gamma, xhat, r, 0),
        "dgamma": np.sum(i.dout * xhat, axis=0),
    }


LAYERNORM = [
    Mistake(
        "ln-wrong-axis",
        "the statistics over the batch axis (0) instead of each sample's features (1), forward and backward",
        _ln_as_batchnorm,
    ),
    Mistake(
        "ln-backward-axis",
        "the backward's sums over the batch axis (0), as batchnorm's, while the forward "
        "normalizes each sample's features",
        _ln_wrong_axis_backward,
    ),
    Mistake(
        "ln-mean-path",
        "the path through the mean left out of dx",
        lambda i: {"dx": _norm_backward(i, 1, drop=("mean",))},
    ),
    Mistake(
        "ln-var-path",
        "the path through the variance left out of dx",
        lambda i: {"dx": _norm_backward(i, 1, drop=("var",))},
    ),
    Mistake("ln-no-gamma", "γ left out of dx", lambda i: {"dx": _norm_backward(i, 1, no_gamma=True)}),
    Mistake("ln-swapped", "dγ and dβ swapped", _bn_swapped),
]


# ------------------------------------------------------------------ dropout


def _keep(i):
    return np.asarray(i.user.get("out")) != 0


def _dropout_no_scale(i):
    if i.param.get("mode", "train") != "train":
        return None
    return {"dx": i.dout * _keep(i)}


def _dropout_drop_scale(i):
    if i.param.get("mode", "train") != "train":
        return None
    p = float(i.param["p"])
    keep = _keep(i)
    return {"out": i.arrays[0] * keep / (1 - p), "dx": i.dout * keep / (1 - p)}


def _dropout_fresh_mask(i):
    """A mask in the backward other than the forward's: dout / p where the user's dx is not 0."""
    if i.param.get("mode", "train") != "train" or "dx" not in i.user:
        return None
    other = np.asarray(i.user["dx"]) != 0
    if np.array_equal(other, _keep(i)) or other.shape != _keep(i).shape:
        return None
    return {"dx": i.dout * other / float(i.param["p"])}


def _dropout_not_inverted(i):
    if i.param.get("mode", "train") != "train":
        return None
    keep = _keep(i)
    return {"out": i.arrays[0] * keep, "dx": i.dout * keep}


DROPOUT = [
    Mistake(
        "dropout-no-scale", "the 1/p scale left out of the backward (dx = dout · mask)", _dropout_no_scale
    ),
    Mistake(
        "dropout-not-inverted",
        "the 1/p scale left out of forward and backward (not inverted dropout)",
        _dropout_not_inverted,
    ),
    Mistake(
        "dropout-drop-prob",
        "p read as the probability of dropping (PyTorch's): kept entries scaled by 1/(1 − p)",
        _dropout_drop_scale,
    ),
    Mistake(
        "dropout-fresh-mask",
        "a mask in the backward other than the forward's (a fresh draw?): dx is dout/p "
        "where a different set of entries is kept",
        _dropout_fresh_mask,
    ),
]


# ------------------------------------------------------------------ embedding


def _embedding_overwrite(i):
    idx, W = i.arrays
    dW = np.zeros_like(i.truth["dW"])
    dW[idx] = i.dout  # a repeated index keeps one position's gradient (NumPy: the last)
    return {"dW": dW}


EMBEDDING = [
    Mistake(
        "embedding-overwrite",
        "dW[x] = dout or dW[x] += dout: a repeated index keeps one position's gradient, "
        "not their sum (np.add.at(dW, x, dout) adds them all)",
        _embedding_overwrite,
    ),
]


# ------------------------------------------------------------------ losses


def _n(i):
    return len(i.arrays[0])


def _softmax_probs(i):
    x, y = i.arrays
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


LOSS_SUM = [
    Mistake(
        "loss-not-averaged",
        "the loss and dx summed over the batch, not divided by N",
        lambda i: {"loss": i.truth["loss"] * _n(i), "dx": i.truth["dx"] * _n(i)},
    ),
    Mistake("dx-not-averaged", "dx not divided by N (the loss is)", lambda i: {"dx": i.truth["dx"] * _n(i)}),
    Mistake(
        "loss-only-not-averaged",
        "the loss not divided by N (dx is)",
        lambda i: {"loss": i.truth["loss"] * _n(i)},
    ),
]


def _softmax_no_one(i):
    return {"dx": _softmax_probs(i) / _n(i)}


def _svm_true_class_margin(i):
    x, y = i.arrays
    rows = np.arange(len(x))
    dx = i.truth["dx"].copy()
    dx[rows, y] -= 1 / len(x)
    return {"loss": i.truth["loss"] + 1.0, "dx": dx}


def _svm_no_true_column(i):
    x, y = i.arrays
    dx = i.truth["dx"].copy()
    dx[np.arange(len(x)), y] = 0
    return {"dx": dx}


SOFTMAX = LOSS_SUM + [
    Mistake("softmax-no-one", "the 1 not subtracted at the true class (dx = softmax(x)/N)", _softmax_no_one),
    Mistake("softmax-sign", "dx with the opposite sign (onehot − softmax)", lambda i: {"dx": -i.truth["dx"]}),
]
SVM = LOSS_SUM + [
    Mistake(
        "svm-true-class",
        "the margin counted for the true class (its margin of 1 not set to 0)",
        _svm_true_class_margin,
    ),
    Mistake(
        "svm-no-true-column",
        "the true class's −(number of positive margins) left out of dx",
        _svm_no_true_column,
    ),
]


# ------------------------------------------------------------------ conv


def _conv_geometry(i):
    return int(i.param.get("stride", 1)), int(i.param.get("pad", 0))


def _conv_dx(dout, w, shape, stride, pad):
    """∂L/∂x of a cross-correlation: each window's gradient, w weighted by dout, added back into
    the padded input (one strided slice per kernel offset), the padding cut off."""
    n, c, h, wd = shape
    ho, wo = dout.shape[2:]
    dxp = np.zeros((n, c, h + 2 * pad, wd + 2 * pad))
    for u in range(w.shape[2]):
        for v in range(w.shape[3]):
            part = np.einsum("nfij,fc->ncij", dout, w[:, :, u, v])
            dxp[:, :, u : u + stride * ho : stride, v : v + stride * wo : stride] += part
    return dxp[:, :, pad : pad + h, pad : pad + wd]


def _conv_dx_flipped(i):
    x, w, b = i.arrays
    return {"dx": _conv_dx(i.dout, w[:, :, ::-1, ::-1], x.shape, *_conv_geometry(i))}


CONV = [
    Mistake(
        "conv-dw-flipped",
        "dw with the kernel flipped (rotated 180°): a convolution where the forward is a cross-correlation",
        lambda i: {"dw": i.truth["dw"][:, :, ::-1, ::-1]},
    ),
    Mistake(
        "conv-dx-flipped",
        "dx from the kernel flipped the wrong way round: the full convolution's 180° rotation "
        "applied to the windows' scatter-add, which needs none (or left out where dout is convolved)",
        _conv_dx_flipped,
    ),
]


# ------------------------------------------------------------------ pooling


def _pool_windows(i):
    """The windows in CS231n's loop order (row by row, then left to right): (i, j, slice of x)."""
    x = i.arrays[0]
    ph, pw, s = (int(i.param[k]) for k in ("pool_height", "pool_width", "stride"))
    ho, wo = 1 + (x.shape[2] - ph) // s, 1 + (x.shape[3] - pw) // s
    for a in range(ho):
        for b in range(wo):
            yield a, b, np.s_[:, :, a * s : a * s + ph, b * s : b * s + pw]


def _window_max(window):
    return window.max(axis=(2, 3), keepdims=True)


def _ties(i):
    """Whether any window holds its maximum more than once."""
    x = i.arrays[0]
    return any(np.any((x[w] == _window_max(x[w])).sum(axis=(2, 3)) > 1) for _, _, w in _pool_windows(i))


def _pool_backward(i, route, assign=False):
    """dx with each window's dout[:, :, a, b] sent where ``route(window)`` (N, C, ph, pw) says,
    added (or, ``assign``, written over what earlier windows left there)."""
    x = i.arrays[0]
    dx = np.zeros_like(x)
    for a, b, w in _pool_windows(i):
        part = route(x[w]) * i.dout[:, :, a, b][:, :, None, None]
        if assign:
            dx[w] = part
        else:
            dx[w] += part
    return dx


def _one_hot_max(window, last=False):
    n, c, ph, pw = window.shape
    flat = window.reshape(n, c, -1)
    arg = (ph * pw - 1 - flat[:, :, ::-1].argmax(axis=-1)) if last else flat.argmax(axis=-1)
    return (np.arange(ph * pw) == arg[..., None]).reshape(window.shape)


def _maxpool_assign_max(i):
    """dx[argmax] = dout: a maximum shared by overlapping windows keeps the last one's gradient."""
    x = i.arrays[0]
    dx = np.zeros_like(x)
    for a, b, w in _pool_windows(i):
        hot = _one_hot_max(x[w])
        region = dx[w]
        region[hot] = np.broadcast_to(i.dout[:, :, a, b][:, :, None, None], hot.shape)[hot]
    return {"dx": dx}


def _only_with_ties(values):
    def wrapped(i):
        return values(i) if _ties(i) else None  # on values without ties it is no mistake at all

    return wrapped


MAX_POOL = [
    Mistake(
        "maxpool-all",
        "the gradient sent to every element of the window, not only to its maximum",
        lambda i: {"dx": _pool_backward(i, lambda w: np.ones_like(w))},
    ),
    Mistake(
        "maxpool-assign",
        "dx[window] = mask · dout for +=: where windows overlap, each window's assignment erases what "
        "the windows before it sent there",
        lambda i: {"dx": _pool_backward(i, lambda w: w == _window_max(w), assign=True)},
    ),
    Mistake(
        "maxpool-assign-max",
        "dx[argmax] = dout for +=: a maximum shared by overlapping windows keeps only the last "
        "window's gradient",
        _maxpool_assign_max,
    ),
    Mistake(
        "maxpool-tie-last",
        "on tied maxima the gradient sent to the last of them; PyTorch sends it to the first (row-major)",
        _only_with_ties(lambda i: {"dx": _pool_backward(i, lambda w: _one_hot_max(w, last=True))}),
    ),
    Mistake(
        "maxpool-tie-all",
        "on tied maxima the gradient sent to every one of them (mask = window == max); PyTorch sends it "
        "to the first (row-major)",
        _only_with_ties(lambda i: {"dx": _pool_backward(i, lambda w: w == _window_max(w))}),
    ),
]


def _window_size(i):
    return int(i.param["pool_height"]) * int(i.param["pool_width"])


AVG_POOL = [
    Mistake(
        "avgpool-not-divided",
        "dx not divided by the window size pool_height · pool_width",
        lambda i: {"dx": i.truth["dx"] * _window_size(i)},
    ),
    Mistake(
        "avgpool-assign",
        "dx[window] = dout / size for +=: where windows overlap, each window's assignment erases what "
        "the windows before it sent there",
        lambda i: {"dx": _pool_backward(i, lambda w: np.full_like(w, 1 / _window_size(i)), assign=True)},
    ),
]


# ------------------------------------------------------------------ spatial batchnorm


def _rows(a):
    """(N, C, H, W) -> (N·H·W, C): batchnorm's layout, a row per sample and position."""
    return a.transpose(0, 2, 3, 1).reshape(-1, a.shape[1])


def _as_rows(values):
    """A batchnorm mistake on (N, C, H, W): evaluated on the rows (N·H·W, C), out and dx back."""

    def wrapped(i):
        x, gamma, beta = i.arrays
        n, c, h, w = x.shape

        def rows(d):
            return {k: _rows(v) if k in ("out", "dx") else v for k, v in d.items()}

        found = values(Inputs((_rows(x), gamma, beta), i.param, _rows(i.dout), rows(i.truth), rows(i.user)))
        if found is None:
            return None
        back = {"out", "dx"}
        return {k: v.reshape(n, h, w, c).transpose(0, 3, 1, 2) if k in back else v for k, v in found.items()}

    return wrapped


def _sbn_over_batch(i):
    """Statistics over N alone (x.mean(axis=0)): one per channel and position."""
    x, gamma, beta = i.arrays
    xc, var, r = _stats(x, 0, float(i.param.get("eps", 1e-5)))
    xhat = xc * r
    g4 = gamma[:, None, None]
    return {
        "out": g4 * xhat + beta[:, None, None],
        "dx": _compact(i.dout * g4, xhat, r, 0),
        "dgamma": np.sum(i.dout * xhat, axis=(0, 2, 3)),
    }


def _sbn_no_transpose(i):
    """x.reshape(-1, C) with C still on axis 1: each "channel" column a mix of channels and positions."""
    x, gamma, beta = i.arrays
    c = x.shape[1]
    rows, drows = x.reshape(-1, c), i.dout.reshape(-1, c)
    xc, var, r = _stats(rows, 0, float(i.param.get("eps", 1e-5)))
    xhat = xc * r
    return {
        "out": (gamma * xhat + beta).reshape(x.shape),
        "dx": _compact(drows * gamma, xhat, r, 0).reshape(x.shape),
        "dgamma": np.sum(drows * xhat, axis=0),
        "dbeta": np.sum(drows, axis=0),
    }


SPATIAL_BATCHNORM = [
    Mistake(
        "sbn-over-batch",
        "the statistics over N alone (one per channel and position), not per channel over N, H and W",
        _sbn_over_batch,
    ),
    Mistake(
        "sbn-no-transpose",
        "x.reshape(-1, C) without moving C last first (x.transpose(0, 2, 3, 1)): each column mixes "
        "channels and positions",
        _sbn_no_transpose,
    ),
] + [Mistake(m.key, m.text, _as_rows(m.values)) for m in BATCHNORM]


# ------------------------------------------------------------------ temporal softmax loss


def _temporal_terms(i):
    """softmax(x) − onehot(y) at every position, (N, T, V), and each position's −log p_y (N, T)."""
    x, y, mask = i.arrays
    e = np.exp(x - x.max(axis=2, keepdims=True))
    p = e / e.sum(axis=2, keepdims=True)
    onehot = np.arange(x.shape[2]) == y[..., None]
    return p - onehot, -np.log(np.sum(p * onehot, axis=2))


def _tsl_mask_backward(i):
    g, _ = _temporal_terms(i)
    return {"dx": g / _n(i)}


def _tsl_mask_ignored(i):
    g, terms = _temporal_terms(i)
    return {"loss": terms.sum() / _n(i), "dx": g / _n(i)}


def _tsl_by(i, divisor):
    return {"loss": i.truth["loss"] * _n(i) / divisor, "dx": i.truth["dx"] * _n(i) / divisor}


TEMPORAL_SOFTMAX = LOSS_SUM + [
    Mistake("tsl-mask-backward", "the mask not applied in the backward: dx at the positions the loss "
            "leaves out", _tsl_mask_backward),
    Mistake("tsl-mask-ignored", "the mask not applied at all, in the loss nor in dx", _tsl_mask_ignored),
    Mistake("tsl-mean-over-NT", "the loss and dx divided by N·T (a mean over positions), not by N",
            lambda i: _tsl_by(i, i.arrays[0].shape[0] * i.arrays[0].shape[1])),
    Mistake("tsl-mean-over-mask", "the loss and dx divided by the number of counted positions (mask.sum()), "
            "not by N", lambda i: _tsl_by(i, int(np.sum(i.arrays[2])))),
]  # fmt: skip

MISTAKES = {
    "affine": AFFINE,
    "temporal_affine": AFFINE,
    "relu": RELU,
    "sigmoid": SIGMOID,
    "tanh": TANH,
    "batchnorm": BATCHNORM,
    "layernorm": LAYERNORM,
    "dropout": DROPOUT,
    "word_embedding": EMBEDDING,
    "softmax_loss": SOFTMAX,
    "svm_loss": SVM,
    "conv": CONV,
    "max_pool": MAX_POOL,
    "avg_pool": AVG_POOL,
    "spatial_batchnorm": SPATIAL_BATCHNORM,
    "temporal_softmax_loss": TEMPORAL_SOFTMAX,
}
