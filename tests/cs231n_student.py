"""A student's CS231n layers, written here as the assignments ask for them
(``forward(x, ..., param) -> (out, cache)``, ``backward(dout, cache) -> grads``),
in two styles: CS231n's (``*_forward`` / ``*_backward``: vectorized, but the naive
loops of ``conv_*_naive`` and ``*_pool_*_naive`` as the assignment has them) and a
second one (``loops.*``: a loop over the samples, batchnorm's single-expression "alt"
backward; for conv and pooling the vectorized im2col and sliding windows, under
CS231n's fast names). Both correct. ``planted(kind, key)`` is the first with one
mistake of ``crosscheck.layer_mistakes`` made on purpose, checked on
``planted_inputs(kind, key)`` (none: the drawn ones; windows with ties for the tie
mistakes)."""

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


def conv_forward_naive(x, w, b, conv_param):
    """CS231n's naive conv: a loop over samples, filters and output positions."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    window = xp[n, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    dxp, dw, db = _conv_backward_padded(dout, cache)
    pad, (H, W) = cache[3]["pad"], cache[0].shape[2:]
    return dxp[:, :, pad : pad + H, pad : pad + W], dw, db


def _conv_backward_padded(dout, cache):
    """dx of the padded input, dw, db: the loops over samples, filters and output positions."""
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, Ho, Wo = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    rows, cols = np.s_[i * stride : i * stride + HH], np.s_[j * stride : j * stride + WW]
                    dw[f] += xp[n, :, rows, cols] * dout[n, f, i, j]
                    dxp[n, :, rows, cols] += w[f] * dout[n, f, i, j]
    return dxp, dw, db


def _pool_geometry(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    return ph, pw, s, 1 + (x.shape[2] - ph) // s, 1 + (x.shape[3] - pw) // s


def max_pool_forward_naive(x, pool_param):
    ph, pw, s, Ho, Wo = _pool_geometry(x, pool_param)
    out = np.zeros((*x.shape[:2], Ho, Wo), dtype=x.dtype)
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i * s : i * s + ph, j * s : j * s + pw].max(axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    """The gradient to the first maximum of each window (row-major), as PyTorch routes ties."""
    x, pool_param = cache
    ph, pw, s, Ho, Wo = _pool_geometry(x, pool_param)
    N, C = x.shape[:2]
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    a, b = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * s + a, j * s + b] += dout[n, c, i, j]
    return dx


def avg_pool_forward_naive(x, pool_param):
    ph, pw, s, Ho, Wo = _pool_geometry(x, pool_param)
    out = np.zeros((*x.shape[:2], Ho, Wo), dtype=x.dtype)
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i * s : i * s + ph, j * s : j * s + pw].mean(axis=(2, 3))
    return out, (x, pool_param)


def avg_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, s, Ho, Wo = _pool_geometry(x, pool_param)
    dx = np.zeros_like(x)
    for i in range(Ho):
        for j in range(Wo):
            dx[:, :, i * s : i * s + ph, j * s : j * s + pw] += dout[:, :, i, j][:, :, None, None] / (ph * pw)
    return dx


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """CS231n's: batchnorm on the rows (N·H·W, C), C moved last first."""
    N, C, H, W = x.shape
    out, cache = batchnorm_forward(x.transpose(0, 2, 3, 1).reshape(-1, C), gamma, beta, bn_param)
    return out.reshape(N, H, W, C).transpose(0, 3, 1, 2), cache


def spatial_batchnorm_backward(dout, cache):
    N, C, H, W = dout.shape
    dx, dgamma, dbeta = batchnorm_backward(dout.transpose(0, 2, 3, 1).reshape(-1, C), cache)
    return dx.reshape(N, H, W, C).transpose(0, 3, 1, 2), dgamma, dbeta


def temporal_softmax_loss(x, y, mask):
    N, T, V = x.shape
    x_flat, y_flat, mask_flat = x.reshape(N * T, V), y.reshape(N * T), mask.reshape(N * T)
    probs = np.exp(x_flat - np.max(x_flat, axis=1, keepdims=True))
    probs /= np.sum(probs, axis=1, keepdims=True)
    loss = -np.sum(mask_flat * np.log(probs[np.arange(N * T), y_flat])) / N
    dx_flat = probs.copy()
    dx_flat[np.arange(N * T), y_flat] -= 1
    dx_flat /= N
    dx_flat *= mask_flat[:, None]
    return loss, dx_flat.reshape(N, T, V)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h**2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    prev_h, caches = h0, []
    for t in range(T):
        prev_h, cache = rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)
        h[:, t] = prev_h
        caches.append(cache)
    return h, caches


def rnn_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx, dWh, db = np.zeros((D, H), dh.dtype), np.zeros((H, H), dh.dtype), np.zeros(H, dh.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dprev_h, cache[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dprev_h, dWx, dWh, db


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """CS231n's gate order: the blocks of a = x Wx + h Wh + b are i, f, o, g."""
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o, g = (
        _sigmoid(a[:, :H]),
        _sigmoid(a[:, H : 2 * H]),
        _sigmoid(a[:, 2 * H : 3 * H]),
        np.tanh(a[:, 3 * H :]),
    )
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tc = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tc**2)
    da = np.hstack(
        [dc * g * i * (1 - i), dc * prev_c * f * (1 - f), dnext_h * tc * o * (1 - o), dc * i * (1 - g**2)]
    )
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def lstm_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    prev_h, prev_c, caches = h0, np.zeros_like(h0), []
    for t in range(T):
        prev_h, prev_c, cache = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b)
        h[:, t] = prev_h
        caches.append(cache)
    return h, caches


def lstm_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx, dWh, db = np.zeros((D, 4 * H), dh.dtype), np.zeros((H, 4 * H), dh.dtype), np.zeros(4 * H, dh.dtype)
    dprev_h, dprev_c = np.zeros((N, H), dh.dtype), np.zeros((N, H), dh.dtype)
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(
            dh[:, t] + dprev_h, dprev_c, cache[t]
        )
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dprev_h, dWx, dWh, db


def attention_forward(q, k, v, mask=None):
    """softmax(q kᵀ / √d) v, the scores where mask == 0 set to −1e9 (the Annotated Transformer's)."""
    d = q.shape[-1]
    scores = q @ k.swapaxes(-1, -2) / np.sqrt(d)
    if mask is not None:
        scores = np.where(mask == 0, -1e9, scores)
    p = np.exp(scores - scores.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    return p @ v, (q, k, v, p)


def attention_backward(dout, cache):
    q, k, v, p = cache
    d = q.shape[-1]
    dv = p.swapaxes(-1, -2) @ dout
    dp = dout @ v.swapaxes(-1, -2)
    ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True)) / np.sqrt(d)
    return ds @ k, ds.swapaxes(-1, -2) @ q, dv


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """CS231n's: each sample's G groups of C/G channels normalized over their channels and positions;
    gamma and beta (1, C, 1, 1)."""
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    xg = x.reshape(N, G, -1)
    mu = xg.mean(axis=2, keepdims=True)
    std = np.sqrt(xg.var(axis=2, keepdims=True) + eps)
    xhat = ((xg - mu) / std).reshape(x.shape)
    return gamma * xhat + beta, (xhat, std, gamma, G)


def spatial_groupnorm_backward(dout, cache):
    xhat, std, gamma, G = cache
    N, C, H, W = dout.shape
    dgamma = (dout * xhat).sum(axis=(0, 2, 3), keepdims=True)
    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
    g = (dout * gamma).reshape(N, G, -1)
    xh = xhat.reshape(N, G, -1)
    m = g.shape[2]
    dx = (m * g - g.sum(axis=2, keepdims=True) - xh * (g * xh).sum(axis=2, keepdims=True)) / (m * std)
    return dx.reshape(dout.shape), dgamma, dbeta


# ------------------------------------------------------------------ correct, another style


class loops:
    """Another style, the same values: loops over the samples (the single-expression batchnorm); for
    the spatial kinds, where CS231n's naive code is the loops, vectorized (im2col, sliding windows)."""

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

    @staticmethod
    def conv_forward_im2col(x, w, b, conv_param):
        """im2col: every window a row, one product; the cache holds the rows."""
        stride, pad = conv_param["stride"], conv_param["pad"]
        F, C, HH, WW = w.shape
        xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        win = np.lib.stride_tricks.sliding_window_view(xp, (HH, WW), axis=(2, 3))[:, :, ::stride, ::stride]
        N, _, Ho, Wo = win.shape[:4]
        cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(N * Ho * Wo, -1)
        out = (cols @ w.reshape(F, -1).T + b).reshape(N, Ho, Wo, F).transpose(0, 3, 1, 2)
        return out, (x.shape, cols, w, conv_param)

    @staticmethod
    def conv_backward_im2col(dout, cache):
        shape, cols, w, conv_param = cache
        stride, pad = conv_param["stride"], conv_param["pad"]
        N, C, H, W = shape
        F, _, HH, WW = w.shape
        _, _, Ho, Wo = dout.shape
        d = dout.transpose(0, 2, 3, 1).reshape(-1, F)
        dw = (d.T @ cols).reshape(w.shape)
        dcols = (d @ w.reshape(F, -1)).reshape(N, Ho, Wo, C, HH, WW)
        dxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=dout.dtype)
        for u in range(HH):
            for v in range(WW):
                rows, cols_ = np.s_[u : u + stride * Ho : stride], np.s_[v : v + stride * Wo : stride]
                dxp[:, :, rows, cols_] += dcols[..., u, v].transpose(0, 3, 1, 2)
        return dxp[:, :, pad : pad + H, pad : pad + W], dw, d.sum(axis=0)

    @staticmethod
    def max_pool_forward_fast(x, pool_param):
        ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
        win = np.lib.stride_tricks.sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::s, ::s]
        return win.max(axis=(4, 5)), (x, pool_param)

    @staticmethod
    def max_pool_backward_fast(dout, cache):
        """Each window's first maximum as a flat index, the gradients added with np.add.at."""
        x, pool_param = cache
        ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
        N, C, H, W = x.shape
        win = np.lib.stride_tricks.sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::s, ::s]
        Ho, Wo = win.shape[2:4]
        a, b = np.divmod(win.reshape(N, C, Ho, Wo, -1).argmax(axis=-1), pw)
        rows = np.arange(Ho)[:, None] * s + a
        cols = np.arange(Wo) * s + b
        planes = np.arange(N * C).reshape(N, C, 1, 1) * H * W
        dx = np.zeros(x.size, dtype=dout.dtype)
        np.add.at(dx, (planes + rows * W + cols).ravel(), dout.ravel())
        return dx.reshape(x.shape)

    @staticmethod
    def avg_pool_forward_fast(x, pool_param):
        ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
        win = np.lib.stride_tricks.sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::s, ::s]
        return win.mean(axis=(4, 5)), (x.shape, pool_param)

    @staticmethod
    def avg_pool_backward_fast(dout, cache):
        shape, pool_param = cache
        ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
        Ho, Wo = dout.shape[2:]
        dx = np.zeros(shape, dtype=dout.dtype)
        for u in range(ph):
            for v in range(pw):
                dx[:, :, u : u + s * Ho : s, v : v + s * Wo : s] += dout / (ph * pw)
        return dx

    @staticmethod
    def spatial_batchnorm_forward(x, gamma, beta, bn_param):
        """Directly over the axes (0, 2, 3), keepdims."""
        eps = bn_param.get("eps", 1e-5)
        mu = x.mean(axis=(0, 2, 3), keepdims=True)
        var = x.var(axis=(0, 2, 3), keepdims=True)
        xhat = (x - mu) / np.sqrt(var + eps)
        g = gamma[None, :, None, None]
        return g * xhat + beta[None, :, None, None], (xhat, np.sqrt(var + eps), g)

    @staticmethod
    def spatial_batchnorm_backward(dout, cache):
        xhat, std, g = cache
        m = dout.size // dout.shape[1]
        dbeta, dgamma = dout.sum(axis=(0, 2, 3)), (dout * xhat).sum(axis=(0, 2, 3))
        dx = g / (m * std) * (m * dout - dbeta[None, :, None, None] - xhat * dgamma[None, :, None, None])
        return dx, dgamma, dbeta

    @staticmethod
    def temporal_softmax_loss(x, y, mask):
        N, T, V = x.shape
        loss, dx = 0.0, np.zeros_like(x)
        for n in range(N):
            for t in range(T):
                if not mask[n, t]:
                    continue
                e = np.exp(x[n, t] - x[n, t].max())
                p = e / e.sum()
                loss -= np.log(p[y[n, t]])
                dx[n, t] = p
                dx[n, t, y[n, t]] -= 1
        return loss / N, dx / N


class torch_style:
    """The second style for the sequence kinds and attention: PyTorch's gate order (checked with
    gate_order="ifgo"), the recurrence's backward unrolled in one function, attention with torch's
    key-padding convention turned into −inf, group norm a loop over the samples."""

    @staticmethod
    def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
        i, f, g, o = np.split(x @ Wx + prev_h @ Wh + b, 4, axis=1)
        i, f, g, o = _sigmoid(i), _sigmoid(f), np.tanh(g), _sigmoid(o)
        next_c = f * prev_c + i * g
        return o * np.tanh(next_c), next_c, (x, prev_h, prev_c, Wx, Wh, i, f, g, o, next_c)

    @staticmethod
    def lstm_step_backward(dnext_h, dnext_c, cache):
        x, prev_h, prev_c, Wx, Wh, i, f, g, o, next_c = cache
        tc = np.tanh(next_c)
        do = dnext_h * tc
        dc = dnext_c + dnext_h * o * (1 - tc * tc)
        di, df, dg = dc * g, dc * prev_c, dc * i
        da = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g * g), do * o * (1 - o)], axis=1)
        return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)

    @staticmethod
    def lstm_forward(x, h0, Wx, Wh, b):
        hs, cs, c = [h0], [np.zeros_like(h0)], np.zeros_like(h0)
        for t in range(x.shape[1]):
            h, c, _ = torch_style.lstm_step_forward(x[:, t], hs[-1], c, Wx, Wh, b)
            hs.append(h)
            cs.append(c)
        return np.stack(hs[1:], axis=1), (x, hs, cs, Wx, Wh, b)

    @staticmethod
    def lstm_backward(dh, cache):
        x, hs, cs, Wx, Wh, b = cache
        dx = np.zeros_like(x)
        dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
        dh_next, dc_next = np.zeros_like(hs[0]), np.zeros_like(hs[0])
        for t in reversed(range(x.shape[1])):
            _, _, step = torch_style.lstm_step_forward(x[:, t], hs[t], cs[t], Wx, Wh, b)
            dx[:, t], dh_next, dc_next, a, bb, c = torch_style.lstm_step_backward(
                dh[:, t] + dh_next, dc_next, step
            )
            dWx += a
            dWh += bb
            db += c
        return dx, dh_next, dWx, dWh, db

    @staticmethod
    def rnn_step_forward(x, prev_h, Wx, Wh, b):
        a = x @ Wx + prev_h @ Wh + b
        return np.tanh(a), (x, prev_h, Wx, Wh, a)

    @staticmethod
    def rnn_step_backward(dnext_h, cache):
        """tanh′ from the pre-activation, correctly: 1 − tanh(a)² (= 1 − h²)."""
        x, prev_h, Wx, Wh, a = cache
        da = dnext_h / np.cosh(a) ** 2
        return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)

    @staticmethod
    def rnn_forward(x, h0, Wx, Wh, b):
        hs = [h0]
        for t in range(x.shape[1]):
            hs.append(np.tanh(x[:, t] @ Wx + hs[-1] @ Wh + b))
        return np.stack(hs[1:], axis=1), (x, np.stack(hs, axis=1), Wx, Wh)

    @staticmethod
    def rnn_backward(dh, cache):
        """The whole sequence's ∂a first, then every gradient as one product over the steps."""
        x, hs, Wx, Wh = cache
        N, T, D = x.shape
        da = np.zeros_like(dh)
        carry = np.zeros_like(hs[:, 0])
        for t in reversed(range(T)):
            da[:, t] = (dh[:, t] + carry) * (1 - hs[:, t + 1] ** 2)
            carry = da[:, t] @ Wh.T
        rows = da.reshape(N * T, -1)
        dWx = x.reshape(N * T, D).T @ rows
        dWh = hs[:, :-1].reshape(N * T, -1).T @ rows
        return da @ Wx.T, carry, dWx, dWh, rows.sum(axis=0)

    @staticmethod
    def attention_forward(q, k, v, mask=None):
        """The scores of hidden keys −inf (torch's masked_fill), the softmax through np.exp of the
        shifted scores."""
        scores = np.einsum("...id,...jd->...ij", q, k) / np.sqrt(q.shape[-1])
        if mask is not None:
            scores = np.where(np.asarray(mask, bool), scores, -np.inf)
        e = np.exp(scores - scores.max(axis=-1, keepdims=True))
        p = e / e.sum(axis=-1, keepdims=True)
        return np.einsum("...ij,...jd->...id", p, v), (q, k, v, p)

    @staticmethod
    def attention_backward(dout, cache):
        q, k, v, p = cache
        dp = np.einsum("...id,...jd->...ij", dout, v)
        ds = p * dp - p * np.einsum("...ij,...ij->...i", p, dp)[..., None]
        ds = ds / np.sqrt(q.shape[-1])
        return (
            np.einsum("...ij,...jd->...id", ds, k),
            np.einsum("...ij,...id->...jd", ds, q),
            np.einsum("...ij,...id->...jd", p, dout),
        )

    @staticmethod
    def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
        N, C, H, W = x.shape
        out, cache = np.zeros_like(x), []
        for n in range(N):
            xg = x[n].reshape(G, -1)
            mu, var = xg.mean(axis=1, keepdims=True), xg.var(axis=1, keepdims=True)
            xhat = ((xg - mu) / np.sqrt(var + gn_param["eps"])).reshape(C, H, W)
            out[n] = gamma[0] * xhat + beta[0]
            cache.append((xhat, np.sqrt(var + gn_param["eps"])))
        return out, (cache, gamma, G)

    @staticmethod
    def spatial_groupnorm_backward(dout, cache):
        per_sample, gamma, G = cache
        dx = np.zeros_like(dout)
        dgamma, dbeta = np.zeros_like(gamma), np.zeros_like(gamma)
        for n, (xhat, std) in enumerate(per_sample):
            dgamma[0] += (dout[n] * xhat).sum(axis=(1, 2), keepdims=True)
            dbeta[0] += dout[n].sum(axis=(1, 2), keepdims=True)
            g, xh = (dout[n] * gamma[0]).reshape(G, -1), xhat.reshape(G, -1)
            dx[n] = (
                (g - g.mean(axis=1, keepdims=True) - xh * (g * xh).mean(axis=1, keepdims=True)) / std
            ).reshape(xhat.shape)
        return dx, dgamma, dbeta


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
    "conv": (conv_forward_naive, conv_backward_naive),
    "max_pool": (max_pool_forward_naive, max_pool_backward_naive),
    "avg_pool": (avg_pool_forward_naive, avg_pool_backward_naive),
    "spatial_batchnorm": (spatial_batchnorm_forward, spatial_batchnorm_backward),
    "temporal_softmax_loss": (temporal_softmax_loss, None),
    "rnn_step": (rnn_step_forward, rnn_step_backward),
    "rnn": (rnn_forward, rnn_backward),
    "lstm_step": (lstm_step_forward, lstm_step_backward),
    "lstm": (lstm_forward, lstm_backward),
    "attention": (attention_forward, attention_backward),
    "spatial_groupnorm": (spatial_groupnorm_forward, spatial_groupnorm_backward),
}
# the second style's forward and backward where it has its own pair (CS231n's fast names)
SECOND = {
    "conv": ("conv_forward_im2col", "conv_backward_im2col"),
    "max_pool": ("max_pool_forward_fast", "max_pool_backward_fast"),
    "avg_pool": ("avg_pool_forward_fast", "avg_pool_backward_fast"),
    "spatial_batchnorm": ("spatial_batchnorm_forward", "spatial_batchnorm_backward"),
}


# the sequence kinds' and attention's second style, and the keywords it is checked with
TORCH_STYLE = {"lstm_step": {"gate_order": "ifgo"}, "lstm": {"gate_order": "ifgo"}, "rnn_step": {}, "rnn": {},
               "attention": {}, "spatial_groupnorm": {}}  # fmt: skip


def second_keywords(kind):
    return TORCH_STYLE.get(kind, {})


def second_style(kind):
    if kind in TORCH_STYLE:
        return getattr(torch_style, f"{kind}_forward"), getattr(torch_style, f"{kind}_backward")
    if kind in SECOND:
        return tuple(getattr(loops, name) for name in SECOND[kind])
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


def _temporal_db_mean_nt(dout, cache):
    dx, dw, db = temporal_affine_backward(dout, cache)
    return dx, dw, dout.mean(axis=(0, 1))  # the natural way: averaged over N and T


def _temporal_dw_mean(dout, cache):
    dx, dw, db = temporal_affine_backward(dout, cache)
    return dx, dw / dout.shape[0], db


def _scaled_loss(fn, loss_factor, dx_factor):
    def loss(x, y, *mask):
        value, dx = fn(x, y, *mask)
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


def _svm_true_class_in_loss(x, y):
    """CS231n's loops with the j == y[i] skip left out of the loss alone: the true class's margin
    (exactly 1) is added to the loss, its gradient left out as it should be."""
    N, C = x.shape
    loss, dx = 0.0, np.zeros_like(x)
    for n in range(N):
        for j in range(C):
            margin = x[n, j] - x[n, y[n]] + 1
            if margin > 0:
                loss += margin
                if j != y[n]:
                    dx[n, j] += 1
                    dx[n, y[n]] -= 1
    return loss / N, dx / N


def _svm_no_true_column(x, y):
    loss, dx = svm_loss(x, y)
    dx[np.arange(x.shape[0]), y] = 0
    return loss, dx


def _conv_dw_flipped(dout, cache):
    dx, dw, db = conv_backward_naive(dout, cache)
    return dx, dw[:, :, ::-1, ::-1], db


def _conv_dx_flipped(dout, cache):
    """The scatter-add with the kernel rotated 180°, as if a full convolution's flip were needed."""
    x, w, b, conv_param = cache
    _, dw, db = conv_backward_naive(dout, cache)
    dx, _, _ = conv_backward_naive(dout, (x, w[:, :, ::-1, ::-1], b, conv_param))
    return dx, dw, db


def _conv_padding_kept(dout, cache):
    return _conv_backward_padded(dout, cache)


def _conv_pad_minus_pad(dout, cache):
    """dx_pad[:, :, pad:-pad, pad:-pad]: empty when pad is 0."""
    pad = cache[3]["pad"]
    dxp, dw, db = _conv_backward_padded(dout, cache)
    return dxp[:, :, pad:-pad, pad:-pad], dw, db


def _max_pool_windows(x, pool_param):
    ph, pw, s, Ho, Wo = _pool_geometry(x, pool_param)
    for i in range(Ho):
        for j in range(Wo):
            yield i, j, np.s_[:, :, i * s : i * s + ph, j * s : j * s + pw]


def _max_pool_backward_mask(assign=False, every=False, last=False):
    """The mask form students write: (window == max) or, ``last``, the last maximum; ``every``: no mask."""

    def backward(dout, cache):
        x, pool_param = cache
        dx = np.zeros_like(x)
        for i, j, w in _max_pool_windows(x, pool_param):
            window = x[w]
            if every:
                mask = np.ones_like(window)
            elif last:
                flat = window.reshape(*window.shape[:2], -1)
                arg = flat.shape[-1] - 1 - flat[:, :, ::-1].argmax(axis=-1)
                mask = (np.arange(flat.shape[-1]) == arg[..., None]).reshape(window.shape)
            else:
                mask = window == window.max(axis=(2, 3), keepdims=True)
            part = mask * dout[:, :, i, j][:, :, None, None]
            if assign:
                dx[w] = part
            else:
                dx[w] += part
        return dx

    return backward


def _max_pool_assign_max(dout, cache):
    x, pool_param = cache
    ph, pw, s, Ho, Wo = _pool_geometry(x, pool_param)
    dx = np.zeros_like(x)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(Ho):
                for j in range(Wo):
                    window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    a, b = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * s + a, j * s + b] = dout[n, c, i, j]
    return dx


def _avg_pool_not_divided(dout, cache):
    x, pool_param = cache
    return avg_pool_backward_naive(dout, cache) * pool_param["pool_height"] * pool_param["pool_width"]


def _avg_pool_assign(dout, cache):
    x, pool_param = cache
    ph, pw, s, Ho, Wo = _pool_geometry(x, pool_param)
    dx = np.zeros_like(x)
    for i, j, w in _max_pool_windows(x, pool_param):
        dx[w] = np.broadcast_to(dout[:, :, i, j][:, :, None, None] / (ph * pw), dx[w].shape)
    return dx


def _spatial(forward, backward):
    """A batchnorm pair as CS231n's spatial batchnorm calls it: on the rows (N·H·W, C)."""

    def spatial_forward(x, gamma, beta, bn_param):
        N, C, H, W = x.shape
        out, cache = forward(x.transpose(0, 2, 3, 1).reshape(-1, C), gamma, beta, bn_param)
        return out.reshape(N, H, W, C).transpose(0, 3, 1, 2), cache

    def spatial_backward(dout, cache):
        N, C, H, W = dout.shape
        dx, dgamma, dbeta = backward(dout.transpose(0, 2, 3, 1).reshape(-1, C), cache)
        return dx.reshape(N, H, W, C).transpose(0, 3, 1, 2), dgamma, dbeta

    return spatial_forward, spatial_backward


def _sbn_over_batch_forward(x, gamma, beta, bn_param):
    eps = bn_param.get("eps", 1e-5)
    mu, var = x.mean(axis=0), x.var(axis=0)
    xhat = (x - mu) / np.sqrt(var + eps)
    g = gamma[:, None, None]
    return g * xhat + beta[:, None, None], (xhat, np.sqrt(var + eps), g)


def _sbn_over_batch_backward(dout, cache):
    xhat, std, g = cache
    N = dout.shape[0]
    dgamma, dbeta = (dout * xhat).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))
    dxhat = dout * g
    dx = (N * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (N * std)
    return dx, dgamma, dbeta


def _sbn_no_transpose_forward(x, gamma, beta, bn_param):
    out, cache = batchnorm_forward(x.reshape(-1, x.shape[1]), gamma, beta, bn_param)
    return out.reshape(x.shape), cache


def _sbn_no_transpose_backward(dout, cache):
    dx, dgamma, dbeta = batchnorm_backward(dout.reshape(-1, dout.shape[1]), cache)
    return dx.reshape(dout.shape), dgamma, dbeta


def _temporal_no_mask_backward(x, y, mask):
    loss, _ = temporal_softmax_loss(x, y, mask)
    _, dx = temporal_softmax_loss(x, y, np.ones_like(mask))
    return loss, dx


def _temporal_no_mask(x, y, mask):
    return temporal_softmax_loss(x, y, np.ones_like(mask))


def _temporal_divided(by):
    def loss(x, y, mask):
        value, dx = temporal_softmax_loss(x, y, mask)
        d = x.shape[1] if by == "T" else mask.sum() / x.shape[0]
        return value / d, dx / d

    return loss


def _rnn_step_forward_z(x, prev_h, Wx, Wh, b):
    a = x @ Wx + prev_h @ Wh + b
    return np.tanh(a), (x, prev_h, Wx, Wh, np.tanh(a), a)


def _rnn_step_backward_planted(tanh_of_z=False, dwh_next_h=False):
    def backward(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h, a = cache
        da = dnext_h * (1 - (a**2 if tanh_of_z else next_h**2))
        dWh = (next_h if dwh_next_h else prev_h).T @ da
        return da @ Wx.T, da @ Wh.T, x.T @ da, dWh, da.sum(axis=0)

    return backward


def _rnn_planted(step_backward, no_dh_next=False):
    """CS231n's rnn_forward / rnn_backward around a planted step (and the carry, ``no_dh_next``)."""

    def forward(x, h0, Wx, Wh, b):
        h, prev_h, caches = np.zeros((*x.shape[:2], h0.shape[1]), x.dtype), h0, []
        for t in range(x.shape[1]):
            prev_h, cache = _rnn_step_forward_z(x[:, t], prev_h, Wx, Wh, b)
            h[:, t] = prev_h
            caches.append(cache)
        return h, caches

    def backward(dh, cache):
        N, T, H = dh.shape
        dx = np.zeros((N, T, cache[0][0].shape[1]), dh.dtype)
        dWx, dWh, db, dprev_h = 0, 0, 0, np.zeros((N, H), dh.dtype)
        for t in reversed(range(T)):
            upstream = dh[:, t] if no_dh_next else dh[:, t] + dprev_h
            dx[:, t], dprev_h, a, c, d = step_backward(upstream, cache[t])
            dWx, dWh, db = dWx + a, dWh + c, db + d
        return dx, dprev_h, dWx, dWh, db

    return forward, backward


def _lstm_step_backward_planted(no_dc_next=False, no_tanh_prime=False):
    def backward(dnext_h, dnext_c, cache):
        x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
        tc = np.tanh(next_c)
        dc = dnext_h * o * (1 if no_tanh_prime else 1 - tc**2)
        if not no_dc_next:
            dc = dc + dnext_c
        da = np.hstack(
            [dc * g * i * (1 - i), dc * prev_c * f * (1 - f), dnext_h * tc * o * (1 - o), dc * i * (1 - g**2)]
        )
        return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)

    return backward


def _lstm_planted(step_backward):
    def backward(dh, cache):
        N, T, H = dh.shape
        dx = np.zeros((N, T, cache[0][0].shape[1]), dh.dtype)
        dWx, dWh, db = 0, 0, 0
        dprev_h, dprev_c = np.zeros((N, H), dh.dtype), np.zeros((N, H), dh.dtype)
        for t in reversed(range(T)):
            dx[:, t], dprev_h, dprev_c, a, c, d = step_backward(dh[:, t] + dprev_h, dprev_c, cache[t])
            dWx, dWh, db = dWx + a, dWh + c, db + d
        return dx, dprev_h, dWx, dWh, db

    return lstm_forward, backward


def _attention_backward_planted(no_scale=False, no_subtraction=False):
    def backward(dout, cache):
        q, k, v, p = cache
        dp = dout @ v.swapaxes(-1, -2)
        ds = p * dp if no_subtraction else p * (dp - (dp * p).sum(axis=-1, keepdims=True))
        if not no_scale:
            ds = ds / np.sqrt(q.shape[-1])
        return ds @ k, ds.swapaxes(-1, -2) @ q, p.swapaxes(-1, -2) @ dout

    return backward


def _attention_forward_scores(q, k, v, mask=None):
    out, (q, k, v, p) = attention_forward(q, k, v, mask)
    return out, (q, k, v, q @ k.swapaxes(-1, -2) / np.sqrt(q.shape[-1]))


def _attention_backward_unmasked(dout, cache):
    """The softmax recomputed from the cached scores, the mask forgotten."""
    q, k, v, scores = cache
    p = np.exp(scores - scores.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    return attention_backward(dout, (q, k, v, p))


def _groupnorm_groups(groups):
    """spatial_groupnorm with its statistics over other groups: "C" per channel, 1 per sample."""

    def forward(x, gamma, beta, G, gn_param):
        return spatial_groupnorm_forward(x, gamma, beta, x.shape[1] if groups == "C" else groups, gn_param)

    return forward


def _groupnorm_no_gamma(dout, cache):
    xhat, std, gamma, G = cache
    dx, dgamma, dbeta = spatial_groupnorm_backward(dout, (xhat, std, np.ones_like(gamma), G))
    return dx, (dout * xhat).sum(axis=(0, 2, 3), keepdims=True), dbeta


PLANTED = {
    ("affine", "db-mean"): (affine_forward, _affine_db_mean),
    ("affine", "dw-mean"): (affine_forward, _affine_dw_mean),
    ("temporal_affine", "db-mean"): (temporal_affine_forward, _temporal_db_mean),
    ("temporal_affine", "db-mean-nt"): (temporal_affine_forward, _temporal_db_mean_nt),
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
    ("svm_loss", "svm-true-class-loss"): (_svm_true_class_in_loss, None),
    ("svm_loss", "svm-no-true-column"): (_svm_no_true_column, None),
    ("conv", "conv-dw-flipped"): (conv_forward_naive, _conv_dw_flipped),
    ("conv", "conv-dx-flipped"): (conv_forward_naive, _conv_dx_flipped),
    ("max_pool", "maxpool-all"): (max_pool_forward_naive, _max_pool_backward_mask(every=True)),
    ("max_pool", "maxpool-assign"): (max_pool_forward_naive, _max_pool_backward_mask(assign=True)),
    ("max_pool", "maxpool-assign-max"): (max_pool_forward_naive, _max_pool_assign_max),
    ("max_pool", "maxpool-tie-last"): (max_pool_forward_naive, _max_pool_backward_mask(last=True)),
    ("max_pool", "maxpool-tie-all"): (max_pool_forward_naive, _max_pool_backward_mask()),
    ("avg_pool", "avgpool-not-divided"): (avg_pool_forward_naive, _avg_pool_not_divided),
    ("avg_pool", "avgpool-assign"): (avg_pool_forward_naive, _avg_pool_assign),
    ("spatial_batchnorm", "sbn-over-batch"): (_sbn_over_batch_forward, _sbn_over_batch_backward),
    ("spatial_batchnorm", "sbn-no-transpose"): (_sbn_no_transpose_forward, _sbn_no_transpose_backward),
    ("temporal_softmax_loss", "loss-not-averaged"): (_scaled_loss(temporal_softmax_loss, True, True), None),
    ("temporal_softmax_loss", "dx-not-averaged"): (_scaled_loss(temporal_softmax_loss, False, True), None),
    ("temporal_softmax_loss", "loss-only-not-averaged"): (
        _scaled_loss(temporal_softmax_loss, True, False),
        None,
    ),
    ("temporal_softmax_loss", "tsl-mask-backward"): (_temporal_no_mask_backward, None),
    ("temporal_softmax_loss", "tsl-mask-ignored"): (_temporal_no_mask, None),
    ("temporal_softmax_loss", "tsl-mean-over-NT"): (_temporal_divided("T"), None),
    ("temporal_softmax_loss", "tsl-mean-over-mask"): (_temporal_divided("count"), None),
    ("rnn_step", "rnn-tanh-of-z"): (_rnn_step_forward_z, _rnn_step_backward_planted(tanh_of_z=True)),
    ("rnn_step", "rnn-dwh-next-h"): (_rnn_step_forward_z, _rnn_step_backward_planted(dwh_next_h=True)),
    ("rnn", "rnn-tanh-of-z"): _rnn_planted(_rnn_step_backward_planted(tanh_of_z=True)),
    ("rnn", "rnn-no-dh-next"): _rnn_planted(_rnn_step_backward_planted(), no_dh_next=True),
    ("rnn", "rnn-dwh-next-h"): _rnn_planted(_rnn_step_backward_planted(dwh_next_h=True)),
    # PyTorch's i, f, g, o where CS231n's i, f, o, g is checked
    ("lstm_step", "lstm-gate-order"): (torch_style.lstm_step_forward, torch_style.lstm_step_backward),
    ("lstm_step", "lstm-no-dc-next"): (lstm_step_forward, _lstm_step_backward_planted(no_dc_next=True)),
    ("lstm_step", "lstm-no-tanh-prime"): (lstm_step_forward, _lstm_step_backward_planted(no_tanh_prime=True)),
    ("lstm", "lstm-gate-order"): (torch_style.lstm_forward, torch_style.lstm_backward),
    ("lstm", "lstm-no-dc-next"): _lstm_planted(_lstm_step_backward_planted(no_dc_next=True)),
    ("lstm", "lstm-no-tanh-prime"): _lstm_planted(_lstm_step_backward_planted(no_tanh_prime=True)),
    ("attention", "attention-no-scale"): (attention_forward, _attention_backward_planted(no_scale=True)),
    ("attention", "attention-softmax-no-subtraction"): (
        attention_forward,
        _attention_backward_planted(no_subtraction=True),
    ),
    ("attention", "attention-mask-backward"): (_attention_forward_scores, _attention_backward_unmasked),
    ("spatial_groupnorm", "gn-per-channel"): (_groupnorm_groups("C"), spatial_groupnorm_backward),
    ("spatial_groupnorm", "gn-per-sample"): (_groupnorm_groups(1), spatial_groupnorm_backward),
    ("spatial_groupnorm", "gn-no-gamma"): (spatial_groupnorm_forward, _groupnorm_no_gamma),
}
# the batchnorm mistakes, planted in CS231n's spatial batchnorm (which calls batchnorm's pair)
PLANTED.update(
    {
        ("spatial_batchnorm", key): _spatial(*pair)
        for (kind, key), pair in list(PLANTED.items())
        if kind == "batchnorm"
    }
)


def _tied_pool_inputs():
    """Integers in a few levels: windows with tied maxima (a max's kink, where central differences
    take half of each side)."""
    x = np.random.default_rng(3).integers(0, 4, (2, 3, 5, 6)).astype(np.float64)
    return x, {"pool_height": 3, "pool_width": 2, "stride": 1}


# the inputs a planted mistake shows on, where the drawn ones cannot (no ties in a drawn window)
PLANTED_INPUTS = {
    ("max_pool", "maxpool-tie-last"): _tied_pool_inputs,
    ("max_pool", "maxpool-tie-all"): _tied_pool_inputs,
}


def planted_inputs(kind, key):
    make = PLANTED_INPUTS.get((kind, key))
    return make() if make else ()


def planted(kind, key):
    """``(forward, backward)`` of ``kind`` with the mistake ``key`` made on purpose; the key a
    correct diagnosis names (``embedding-overwrite+=`` is ``embedding-overwrite``)."""
    return PLANTED[(kind, key)]
