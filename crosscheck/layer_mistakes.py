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
}
