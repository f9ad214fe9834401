"""A student's CS231n layers, written here as the assignments ask for them
(``forward(x, ..., param) -> (out, cache)``, ``backward(dout, cache) -> grads``),
in two styles: vectorized (``*_forward`` / ``*_backward``) and a second one
(``loops.*``: a loop over the samples, batchnorm's single-expression "alt"
backward). Both correct. ``planted(kind, key)`` is the vectorized one with one
mistake of ``crosscheck.layer_mistakes`` made on purpose."""

import numpy as np

# ------------------------------------------------------------------ correct, vectorized


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def sigmoid_forward(x):
    out = 1 / (1 + np.exp(-x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)


def tanh_forward(x):
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    return dout * (1 - cache**2)


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    if mode == "train":
        mu = x.mean(axis=0)
        xc = x - mu
        var = (xc**2).mean(axis=0)
        std = np.sqrt(var + eps)
        xhat = xc / std
        out = gamma * xhat + beta
        cache = (xhat, xc, var, std, gamma, eps)
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    else:
        xhat = (x - running_mean) / np.sqrt(running_var + eps)
        out = gamma * xhat + beta
        cache = (xhat, None, None, np.sqrt(running_var + eps), gamma, eps)
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    """The staged backward: through x − μ, the mean and the variance (in test mode the
    statistics are constants)."""
    xhat, xc, var, std, gamma, eps = cache
    N = dout.shape[0]
    if xc is None:
        return dout * gamma / std, (dout * xhat).sum(axis=0), dout.sum(axis=0)
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    dvar = np.sum(dxhat * xc, axis=0) * -0.5 * (var + eps) ** -1.5
    dmean = np.sum(-dxhat / std, axis=0) + dvar * np.sum(-2 * xc, axis=0) / N
    dx = dxhat / std + dvar * 2 * xc / N + dmean / N
    return dx, dgamma, dbeta


def batchnorm_backward_harmless(dout, cache):
    """The dvar → dmean term left out: exactly nothing, since Σ (x − μ) = 0."""
    xhat, xc, var, std, gamma, eps = cache
    N = dout.shape[0]
    dxhat = dout * gamma
    dvar = np.sum(dxhat * xc, axis=0) * -0.5 * (var + eps) ** -1.5
    dmean = np.sum(-dxhat / std, axis=0)
    dx = dxhat / std + dvar * 2 * xc / N + dmean / N
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def batchnorm_backward_alt(dout, cache):
    """The single expression, the assignment's "alt" form."""
    xhat, xc, var, std, gamma, eps = cache
    N = dout.shape[0]
    dgamma = (dout * xhat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    dx = gamma / (N * std) * (N * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    mu = x.mean(axis=1, keepdims=True)
    xc = x - mu
    var = (xc**2).mean(axis=1, keepdims=True)
    std = np.sqrt(var + eps)
    xhat = xc / std
    return gamma * xhat + beta, (xhat, std, gamma)


def layernorm_backward(dout, cache):
    xhat, std, gamma = cache
    D = dout.shape[1]
    dgamma = (dout * xhat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    g = dout * gamma
    dx = (D * g - g.sum(axis=1, keepdims=True) - xhat * (g * xhat).sum(axis=1, keepdims=True)) / (D * std)
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
    else:
        out = x
    return out.astype(x.dtype, copy=False), (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        return dout * mask
    return dout


def word_embedding_forward(x, W):
    return W[x], (x, W.shape)


def word_embedding_backward(dout, cache):
    x, shape = cache
    dW = np.zeros(shape, dtype=dout.dtype)
    np.add.at(dW, x, dout)
    return dW


def temporal_affine_forward(x, w, b):
    N, T, D = x.shape
    out = (x.reshape(N * T, D) @ w + b).reshape(N, T, -1)
    return out, (x, w, b)


def temporal_affine_backward(dout, cache):
    x, w, b = cache
    N, T, D = x.shape
    M = b.shape[0]
    dx = (dout.reshape(N * T, M) @ w.T).reshape(N, T, D)
    dw = dout.reshape(N * T, M).T.dot(x.reshape(N * T, D)).T
    db = dout.sum(axis=(0, 1))
    return dx, dw, db


def softmax_loss(x, y):
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    N = x.shape[0]
    loss = -log_probs[np.arange(N), y].sum() / N
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    return loss, dx / N


def svm_loss(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1.0)
    margins[np.arange(N), y] = 0
    loss = margins.sum() / N
    positive = (margins > 0).astype(x.dtype)
    positive[np.arange(N), y] = -positive.sum(axis=1)
    return loss, positive / N


# ------------------------------------------------------------------ correct, another style


class loops:
    """Loops over the samples (and the single-expression batchnorm): the same values."""

    @staticmethod
    def affine_backward(dout, cache):
        x, w, b = cache
        dx, dw, db = np.zeros_like(x), np.zeros_like(w), np.zeros_like(b)
        for n in range(x.shape[0]):
            xn = x[n].reshape(-1)
            dx[n] = (w @ dout[n]).reshape(x.shape[1:])
            dw += np.outer(xn, dout[n])
            db += dout[n]
        return dx, dw, db

    @staticmethod
    def relu_backward(dout, cache):
        dx = np.zeros_like(dout)
        for n in range(dout.shape[0]):
            dx[n] = np.where(cache[n] > 0, dout[n], 0)
        return dx

    @staticmethod
    def sigmoid_backward(dout, cache):
        return np.array([dout[n] * cache[n] * (1 - cache[n]) for n in range(len(dout))])

    @staticmethod
    def tanh_backward(dout, cache):
        return np.array([dout[n] * (1 - cache[n] ** 2) for n in range(len(dout))])

    batchnorm_backward = staticmethod(batchnorm_backward_alt)

    @staticmethod
    def layernorm_backward(dout, cache):
        xhat, std, gamma = cache
        dx = np.zeros_like(dout)
        for n in range(dout.shape[0]):
            g = dout[n] * gamma
            dx[n] = (g - g.mean() - xhat[n] * (g * xhat[n]).mean()) / std[n]
        return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)

    @staticmethod
    def dropout_backward(dout, cache):
        dropout_param, mask = cache
        if dropout_param["mode"] != "train":
            return dout
        return np.array([dout[n] * mask[n] for n in range(len(dout))])

    @staticmethod
    def word_embedding_backward(dout, cache):
        x, shape = cache
        dW = np.zeros(shape, dtype=dout.dtype)
        for n in range(x.shape[0]):
            for t in range(x.shape[1]):
                dW[x[n, t]] += dout[n, t]
        return dW

    @staticmethod
    def temporal_affine_backward(dout, cache):
        x, w, b = cache
        dx, dw, db = np.zeros_like(x), np.zeros_like(w), np.zeros_like(b)
        for n in range(x.shape[0]):
            dx[n] = dout[n] @ w.T
            dw += x[n].T @ dout[n]
            db += dout[n].sum(axis=0)
        return dx, dw, db

    @staticmethod
    def softmax_loss(x, y):
        N = x.shape[0]
        loss, dx = 0.0, np.zeros_like(x)
        for n in range(N):
            e = np.exp(x[n] - x[n].max())
            p = e / e.sum()
            loss -= np.log(p[y[n]])
            dx[n] = p
            dx[n, y[n]] -= 1
        return loss / N, dx / N

    @staticmethod
    def svm_loss(x, y):
        N, C = x.shape
        loss, dx = 0.0, np.zeros_like(x)
        for n in range(N):
            for j in range(C):
                if j == y[n]:
                    continue
                margin = x[n, j] - x[n, y[n]] + 1
                if margin > 0:
                    loss += margin
                    dx[n, j] += 1
                    dx[n, y[n]] -= 1
        return loss / N, dx / N


FUNCTIONS = {
    "affine": (affine_forward, affine_backward),
    "relu": (relu_forward, relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "batchnorm": (batchnorm_forward, batchnorm_backward),
    "layernorm": (layernorm_forward, layernorm_backward),
    "dropout": (dropout_forward, dropout_backward),
    "word_embedding": (word_embedding_forward, word_embedding_backward),
    "temporal_affine": (temporal_affine_forward, temporal_affine_backward),
    "softmax_loss": (softmax_loss, None),
    "svm_loss": (svm_loss, None),
}


def second_style(kind):
    forward, backward = FUNCTIONS[kind]
    if backward is None:
        return getattr(loops, kind), None
    return forward, getattr(loops, backward.__name__)


# ------------------------------------------------------------------ mistakes made on purpose


def _bn_backward(drop=(), bessel=False, no_gamma=False):
    def backward(dout, cache):
        xhat, xc, var, std, gamma, eps = cache
        N = dout.shape[0]
        dxhat = dout if no_gamma else dout * gamma
        dvar = np.sum(dxhat * xc, axis=0) * -0.5 * (var + eps) ** -1.5
        dmean = np.sum(-dxhat / std, axis=0) + dvar * np.sum(-2 * xc, axis=0) / N
        dx = dxhat / std
        if "var" not in drop:
            dx = dx + dvar * 2 * xc / (N - 1 if bessel else N)
        if "mean" not in drop:
            dx = dx + dmean / N
        return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)

    return backward


def _bn_swapped(dout, cache):
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    return dx, dbeta, dgamma


def _bn_eps_outside_forward(x, gamma, beta, bn_param):
    eps = bn_param.get("eps", 1e-5)
    mu = x.mean(axis=0)
    xc = x - mu
    var = (xc**2).mean(axis=0)
    std = np.sqrt(var) + eps
    xhat = xc / std
    return gamma * xhat + beta, (xhat, xc, var, std, gamma, eps)


def _ln_as_batchnorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    mu = x.mean(axis=0)
    std = np.sqrt(((x - mu) ** 2).mean(axis=0) + eps)
    xhat = (x - mu) / std
    return gamma * xhat + beta, (xhat, std, gamma)


def _ln_as_batchnorm_backward(dout, cache):
    xhat, std, gamma = cache
    N = dout.shape[0]
    dgamma, dbeta = (dout * xhat).sum(axis=0), dout.sum(axis=0)
    dx = gamma / (N * std) * (N * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


def _ln_backward_axis(dout, cache):
    xhat, std, gamma = cache
    N = dout.shape[0]
    g = dout * gamma
    dx = (N * g - g.sum(axis=0) - xhat * (g * xhat).sum(axis=0)) / (N * std)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def _ln_paths(drop=(), no_gamma=False):
    def backward(dout, cache):
        xhat, std, gamma = cache
        D = dout.shape[1]
        xc = xhat * std
        g = dout if no_gamma else dout * gamma
        dvar = np.sum(g * xc, axis=1, keepdims=True) * -0.5 * std**-3
        dmean = np.sum(-g / std, axis=1, keepdims=True)
        dx = g / std
        if "var" not in drop:
            dx = dx + dvar * 2 * xc / D
        if "mean" not in drop:
            dx = dx + dmean / D
        return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)

    return backward


def _ln_swapped(dout, cache):
    dx, dgamma, dbeta = layernorm_backward(dout, cache)
    return dx, dbeta, dgamma


def _dropout_no_scale(dout, cache):
    dropout_param, mask = cache
    return dout * (mask > 0)


def _dropout_forward_not_inverted(x, dropout_param):
    np.random.seed(dropout_param["seed"])
    mask = np.random.rand(*x.shape) < dropout_param["p"]
    return x * mask, (dropout_param, mask)


def _dropout_forward_drop_prob(x, dropout_param):
    np.random.seed(dropout_param["seed"])
    p = dropout_param["p"]
    mask = (np.random.rand(*x.shape) < p) / (1 - p)
    return x * mask, (dropout_param, mask)


def _dropout_fresh_mask(dout, cache):
    dropout_param, mask = cache
    p = dropout_param["p"]
    return dout * (np.random.rand(*dout.shape) < p) / p


def _embedding_assign(dout, cache):
    x, shape = cache
    dW = np.zeros(shape, dtype=dout.dtype)
    dW[x] = dout
    return dW


def _embedding_plus_assign(dout, cache):
    x, shape = cache
    dW = np.zeros(shape, dtype=dout.dtype)
    dW[x] += dout
    return dW


def _affine_db_mean(dout, cache):
    dx, dw, db = affine_backward(dout, cache)
    return dx, dw, dout.mean(axis=0)


def _affine_dw_mean(dout, cache):
    dx, dw, db = affine_backward(dout, cache)
    return dx, dw / dout.shape[0], db


def _temporal_db_mean(dout, cache):
    dx, dw, db = temporal_affine_backward(dout, cache)
    return dx, dw, db / dout.shape[0]


def _temporal_dw_mean(dout, cache):
    dx, dw, db = temporal_affine_backward(dout, cache)
    return dx, dw / dout.shape[0], db


def _scaled_loss(fn, loss_factor, dx_factor):
    def loss(x, y):
        value, dx = fn(x, y)
        return value * (x.shape[0] if loss_factor else 1), dx * (x.shape[0] if dx_factor else 1)

    return loss


def _softmax_no_one(x, y):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    loss, _ = softmax_loss(x, y)
    return loss, e / e.sum(axis=1, keepdims=True) / x.shape[0]


def _softmax_sign(x, y):
    loss, dx = softmax_loss(x, y)
    return loss, -dx


def _svm_true_class(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1.0)  # the true class's margin of 1 kept
    loss = margins.sum() / N
    positive = (margins > 0).astype(x.dtype)
    positive[np.arange(N), y] = -positive.sum(axis=1)
    return loss, positive / N


def _svm_no_true_column(x, y):
    loss, dx = svm_loss(x, y)
    dx[np.arange(x.shape[0]), y] = 0
    return loss, dx


PLANTED = {
    ("affine", "db-mean"): (affine_forward, _affine_db_mean),
    ("affine", "dw-mean"): (affine_forward, _affine_dw_mean),
    ("temporal_affine", "db-mean"): (temporal_affine_forward, _temporal_db_mean),
    ("temporal_affine", "dw-mean"): (temporal_affine_forward, _temporal_dw_mean),
    ("relu", "mask-from-dout"): (relu_forward, lambda dout, x: dout * (dout > 0)),
    ("relu", "no-mask"): (relu_forward, lambda dout, x: dout),
    ("relu", "mask-inverted"): (relu_forward, lambda dout, x: dout * (x < 0)),
    ("sigmoid", "sigmoid-of-out"): (
        sigmoid_forward,
        lambda dout, out: sigmoid_backward(dout, sigmoid_forward(out)[0]),
    ),
    ("sigmoid", "sigmoid-from-x"): (lambda x: (1 / (1 + np.exp(-x)), x), lambda dout, x: dout * x * (1 - x)),
    ("sigmoid", "sigmoid-half"): (sigmoid_forward, lambda dout, out: dout * out),
    ("tanh", "tanh-from-x"): (lambda x: (np.tanh(x), x), lambda dout, x: dout * (1 - x**2)),
    ("tanh", "tanh-of-out"): (tanh_forward, lambda dout, out: dout * (1 - np.tanh(out) ** 2)),
    ("tanh", "tanh-unsquared"): (tanh_forward, lambda dout, out: dout * (1 - out)),
    ("batchnorm", "bn-mean-path"): (batchnorm_forward, _bn_backward(drop=("mean",))),
    ("batchnorm", "bn-var-path"): (batchnorm_forward, _bn_backward(drop=("var",))),
    ("batchnorm", "bn-both-paths"): (batchnorm_forward, _bn_backward(drop=("mean", "var"))),
    ("batchnorm", "bn-bessel"): (batchnorm_forward, _bn_backward(bessel=True)),
    ("batchnorm", "bn-no-gamma"): (batchnorm_forward, _bn_backward(no_gamma=True)),
    ("batchnorm", "bn-swapped"): (batchnorm_forward, _bn_swapped),
    ("batchnorm", "bn-eps-outside"): (_bn_eps_outside_forward, batchnorm_backward_alt),
    ("layernorm", "ln-wrong-axis"): (_ln_as_batchnorm_forward, _ln_as_batchnorm_backward),
    ("layernorm", "ln-backward-axis"): (layernorm_forward, _ln_backward_axis),
    ("layernorm", "ln-mean-path"): (layernorm_forward, _ln_paths(drop=("mean",))),
    ("layernorm", "ln-var-path"): (layernorm_forward, _ln_paths(drop=("var",))),
    ("layernorm", "ln-no-gamma"): (layernorm_forward, _ln_paths(no_gamma=True)),
    ("layernorm", "ln-swapped"): (layernorm_forward, _ln_swapped),
    ("dropout", "dropout-no-scale"): (dropout_forward, _dropout_no_scale),
    ("dropout", "dropout-not-inverted"): (_dropout_forward_not_inverted, _dropout_no_scale),
    ("dropout", "dropout-drop-prob"): (_dropout_forward_drop_prob, dropout_backward),
    ("dropout", "dropout-fresh-mask"): (dropout_forward, _dropout_fresh_mask),
    ("word_embedding", "embedding-overwrite"): (word_embedding_forward, _embedding_assign),
    ("word_embedding", "embedding-overwrite+="): (word_embedding_forward, _embedding_plus_assign),
    ("softmax_loss", "loss-not-averaged"): (_scaled_loss(softmax_loss, True, True), None),
    ("softmax_loss", "dx-not-averaged"): (_scaled_loss(softmax_loss, False, True), None),
    ("softmax_loss", "loss-only-not-averaged"): (_scaled_loss(softmax_loss, True, False), None),
    ("softmax_loss", "softmax-no-one"): (_softmax_no_one, None),
    ("softmax_loss", "softmax-sign"): (_softmax_sign, None),
    ("svm_loss", "loss-not-averaged"): (_scaled_loss(svm_loss, True, True), None),
    ("svm_loss", "dx-not-averaged"): (_scaled_loss(svm_loss, False, True), None),
    ("svm_loss", "loss-only-not-averaged"): (_scaled_loss(svm_loss, True, False), None),
    ("svm_loss", "svm-true-class"): (_svm_true_class, None),
    ("svm_loss", "svm-no-true-column"): (_svm_no_true_column, None),
}


def planted(kind, key):
    """``(forward, backward)`` of ``kind`` with the mistake ``key`` made on purpose; the key a
    correct diagnosis names (``embedding-overwrite+=`` is ``embedding-overwrite``)."""
    return PLANTED[(kind, key)]
