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

from .layer_kinds import attention_keep


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


def _temporal_mean_db_nt(i):
    n, t = i.arrays[0].shape[:2]
    return {"db": i.truth["db"] / (n * t)}


# temporal_affine's dout is (N, T, M): db is averaged over N (dout.sum(axis=(0, 1)) / N) or over N and T
TEMPORAL_AFFINE = [
    Mistake(
        "db-mean", "db averaged over the batch (dout.sum(axis=(0, 1)) / N) instead of summed", _affine_mean_db
    ),
    Mistake(
        "db-mean-nt",
        "db averaged over the batch and the steps (dout.mean(axis=(0, 1))) instead of summed",
        _temporal_mean_db_nt,
    ),  # fmt: skip
    AFFINE[1],
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


def _svm_true_class_in_loss(i):
    """The true class's margin, x_y − x_y + 1 = 1 in every sample, added to the loss (the mean
    over N: + 1), its gradient left out as it should be: dx the truth's."""
    return {"loss": i.truth["loss"] + 1.0}


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
        "svm-true-class-loss",
        "the true class's margin (always 1) counted in the loss, + 1 once averaged over N; dx leaves "
        "it out, as it should",
        _svm_true_class_in_loss,
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

# ------------------------------------------------------------------ recurrences


def _rnn(i, step, tanh_of_z=False, no_dh_next=False, dwh_from_h=False):
    """CS231n's vanilla RNN, hₜ = tanh(aₜ), aₜ = xₜ Wx + hₜ₋₁ Wh + b, forward and backward in
    float64, with a mistake: tanh′ as 1 − a² (of the pre-activation), ∂hₜ without the next
    step's ∂aₜ₊₁ Whᵀ, or ∂Wh from hₜ instead of hₜ₋₁."""
    x, h0, Wx, Wh, b = i.arrays
    xs, dout = (x[:, None], i.dout[:, None]) if step else (x, i.dout)
    hs, zs = [h0], []
    for t in range(xs.shape[1]):
        zs.append(xs[:, t] @ Wx + hs[-1] @ Wh + b)
        hs.append(np.tanh(zs[-1]))
    dx, dWx, dWh, db = np.zeros_like(xs), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    carry = np.zeros_like(h0)
    for t in reversed(range(xs.shape[1])):
        dh = dout[:, t] if no_dh_next else dout[:, t] + carry
        da = dh * (1 - (zs[t] ** 2 if tanh_of_z else hs[t + 1] ** 2))
        dx[:, t] = da @ Wx.T
        dWx += xs[:, t].T @ da
        dWh += (hs[t + 1] if dwh_from_h else hs[t]).T @ da
        db += da.sum(axis=0)
        carry = da @ Wh.T
    if dwh_from_h:
        return {"dWh": dWh}
    return {
        "dx": dx[:, 0] if step else dx,
        "dprev_h" if step else "dh0": carry,
        "dWx": dWx,
        "dWh": dWh,
        "db": db,
    }


def _rnn_mistakes(step):
    entries = [
        Mistake(
            "rnn-tanh-of-z",
            "tanh′ taken of the pre-activation, 1 − a² where it wants 1 − h² (h = tanh(a))",
            lambda i: _rnn(i, step, tanh_of_z=True),
        ),
        Mistake(
            "rnn-dwh-next-h",
            "dWh from the step's own h (hₜᵀ da) instead of the previous one (hₜ₋₁ᵀ da)",
            lambda i: _rnn(i, step, dwh_from_h=True),
        ),
    ]
    if not step:
        entries.insert(
            1,
            Mistake(
                "rnn-no-dh-next",
                "dh from the next step not added: each step's dh is the upstream dh[:, t] alone, "
                "without dprev_h from step t + 1",
                lambda i: _rnn(i, step, no_dh_next=True),
            ),
        )
    return entries


def _sig(a):
    return 1 / (1 + np.exp(-a))


OTHER_ORDER = {"ifog": "ifgo", "ifgo": "ifog"}


def _lstm(i, step, swapped=False, no_dc_next=False, no_tanh_prime=False):
    """The LSTM (gates in ``gate_order``'s blocks), forward and backward in float64, with a
    mistake: the blocks read in the other order (forward and backward), ∂cₜ without the next
    step's ∂cₜ₊₁ fₜ₊₁ (a step: without dnext_c), or ∂cₜ from ∂hₜ as ∂hₜ ⊙ o without tanh′(cₜ)."""
    if step:
        x, h0, c0, Wx, Wh, b = i.arrays
        xs, dhs, carry_c = x[:, None], i.dout[0][:, None], i.dout[1]
    else:
        x, h0, Wx, Wh, b = i.arrays
        xs, dhs, c0 = x, i.dout, np.zeros_like(i.arrays[1])
        carry_c = np.zeros_like(h0)
    order = i.param.get("gate_order", "ifog")
    order = OTHER_ORDER[order] if swapped else order
    H = Wh.shape[0]
    at = {name: slice(k * H, (k + 1) * H) for k, name in enumerate(order)}
    hs, cs, saved = [h0], [c0], []
    for t in range(xs.shape[1]):
        a = xs[:, t] @ Wx + hs[-1] @ Wh + b
        gi, gf, go, gg = _sig(a[:, at["i"]]), _sig(a[:, at["f"]]), _sig(a[:, at["o"]]), np.tanh(a[:, at["g"]])
        cs.append(gf * cs[-1] + gi * gg)
        hs.append(go * np.tanh(cs[-1]))
        saved.append((gi, gf, go, gg))
    dx, dWx, dWh, db = np.zeros_like(xs), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    carry_h = np.zeros_like(h0)
    for t in reversed(range(xs.shape[1])):
        gi, gf, go, gg = saved[t]
        tc = np.tanh(cs[t + 1])
        dh = dhs[:, t] + carry_h
        dc = dh * go * (1 if no_tanh_prime else 1 - tc**2)
        if not no_dc_next:
            dc = dc + carry_c
        da = np.zeros((len(x), 4 * H))
        da[:, at["i"]] = dc * gg * gi * (1 - gi)
        da[:, at["f"]] = dc * cs[t] * gf * (1 - gf)
        da[:, at["o"]] = dh * tc * go * (1 - go)
        da[:, at["g"]] = dc * gi * (1 - gg**2)
        dx[:, t] = da @ Wx.T
        dWx += xs[:, t].T @ da
        dWh += hs[t].T @ da
        db += da.sum(axis=0)
        carry_c, carry_h = dc * gf, da @ Wh.T
    grads = {"dWx": dWx, "dWh": dWh, "db": db}
    if step:
        found = {"dx": dx[:, 0], "dprev_h": carry_h, "dprev_c": carry_c, **grads}
        if swapped:
            found.update(next_h=hs[1], next_c=cs[1])
        return found
    found = {"dx": dx, "dh0": carry_h, **grads}
    if swapped:
        found["out"] = np.stack(hs[1:], axis=1)
    return found


def _lstm_mistakes(step):
    return [
        Mistake(
            "lstm-gate-order",
            "the gates' blocks read in the other order (i, f, g, o for CS231n's i, f, o, g, or the "
            "reverse with gate_order='ifgo'), forward and backward",
            lambda i: _lstm(i, step, swapped=True),
        ),
        Mistake(
            "lstm-no-dc-next",
            "dnext_c not added to dc: the cell's gradient from the next step forgotten"
            if step
            else "dc from the next step forgotten: dcₜ without dcₜ₊₁ ⊙ fₜ₊₁",
            lambda i: _lstm(i, step, no_dc_next=True),
        ),
        Mistake(
            "lstm-no-tanh-prime",
            "tanh′(c) missing in dc from dh: dc = dh ⊙ o, not dh ⊙ o ⊙ (1 − tanh²(c))",
            lambda i: _lstm(i, step, no_tanh_prime=True),
        ),
    ]


# ------------------------------------------------------------------ attention


def _attention(i, no_scale=False, no_subtraction=False, unmasked_backward=False):
    """softmax(q kᵀ/√d) v's backward in float64, with a mistake: no 1/√d in ∂q and ∂k, the
    softmax's backward as P ⊙ ∂P (without − P Σ ∂P ⊙ P), or P recomputed in the backward from
    the scores without the mask."""
    q, k, v, mask = i.arrays
    keep = attention_keep(mask, q, k)
    if unmasked_backward and (keep is None or keep.all()):
        return None  # nothing is hidden: no mask to leave out
    d = q.shape[-1]
    S = q @ k.swapaxes(-1, -2) / np.sqrt(d)

    def softmax(scores, keep):
        if keep is not None:
            keep = keep.reshape(keep.shape[0], *(1,) * (scores.ndim - 3), *keep.shape[1:])
            scores = np.where(keep, scores, -np.inf)
        e = np.exp(scores - scores.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    P = softmax(S, None if unmasked_backward else keep)
    dv = P.swapaxes(-1, -2) @ i.dout
    dP = i.dout @ v.swapaxes(-1, -2)
    dS = P * dP if no_subtraction else P * (dP - (dP * P).sum(axis=-1, keepdims=True))
    scale = 1.0 if no_scale else 1 / np.sqrt(d)
    found = {"dq": dS @ k * scale, "dk": dS.swapaxes(-1, -2) @ q * scale}
    if unmasked_backward:
        found["dv"] = dv
    return found


ATTENTION = [
    Mistake(
        "attention-no-scale",
        "the 1/√d left out of the backward: dq = dS k, dk = dSᵀ q, where the forward divides the scores "
        "by √d",
        lambda i: _attention(i, no_scale=True),
    ),
    Mistake(
        "attention-softmax-no-subtraction",
        "the softmax's backward without the subtraction: dS = P ⊙ dP, not P ⊙ (dP − Σⱼ dP ⊙ P)",
        lambda i: _attention(i, no_subtraction=True),
    ),
    Mistake(
        "attention-mask-backward",
        "the mask not applied in the backward: P recomputed from the scores without it, so the hidden "
        "keys get gradient (where P itself is kept from the forward the mask needs no step: P is 0 there)",
        lambda i: _attention(i, unmasked_backward=True),
    ),
]


# ------------------------------------------------------------------ spatial group norm


def _groupnorm(i, groups=None, no_gamma=False):
    """Group norm in float64 over ``groups`` groups of each sample's channels (G; C: per channel;
    1: per sample over everything), forward and backward; ``no_gamma``: ∂L/∂x̂ taken as dout."""
    x, gamma, beta, G = i.arrays
    n, c = x.shape[:2]
    groups = int(G) if groups is None else groups
    eps = float(i.param.get("eps", 1e-5))
    xg = x.reshape(n, groups, -1)
    xc = xg - xg.mean(axis=-1, keepdims=True)
    r = 1 / np.sqrt((xc * xc).mean(axis=-1, keepdims=True) + eps)
    xhat = (xc * r).reshape(x.shape)
    view = (1, c) + (1,) * (x.ndim - 2)
    g = i.dout if no_gamma else i.dout * gamma.reshape(view)
    dx = _compact(g.reshape(n, groups, -1), xhat.reshape(n, groups, -1), r, -1).reshape(x.shape)
    if no_gamma:
        return {"dx": dx}
    others = (0, *range(2, x.ndim))
    out = gamma.reshape(view) * xhat + beta.reshape(view)
    return {"out": out, "dx": dx, "dgamma": np.sum(i.dout * xhat, axis=others).reshape(gamma.shape)}


SPATIAL_GROUPNORM = [
    Mistake(
        "gn-per-channel",
        "the statistics per channel (over its H·W positions: an instance norm), not over the group's C/G "
        "channels, forward and backward",
        lambda i: _groupnorm(i, groups=i.arrays[0].shape[1]),
    ),
    Mistake(
        "gn-per-sample",
        "the statistics per sample over all of C, H and W (a layer norm, G = 1), not per group, forward "
        "and backward",
        lambda i: _groupnorm(i, groups=1),
    ),
    Mistake(
        "gn-no-gamma",
        "γ left out of dx (∂L/∂x̂ taken as dout, not γ · dout)",
        lambda i: _groupnorm(i, no_gamma=True),
    ),
]

MISTAKES = {
    "affine": AFFINE,
    "temporal_affine": TEMPORAL_AFFINE,
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
    "rnn_step": _rnn_mistakes(step=True),
    "rnn": _rnn_mistakes(step=False),
    "lstm_step": _lstm_mistakes(step=True),
    "lstm": _lstm_mistakes(step=False),
    "attention": ATTENTION,
    "spatial_groupnorm": SPATIAL_GROUPNORM,
}
