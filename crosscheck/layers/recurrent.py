"""RNN and LSTM, step by step through all T steps, so the bound compounds as the
error does: each step's hₜ (and cₜ) carries the error of every step before it,
through W_hh, the gates and the nonlinearity, and backpropagation through time
carries ∂hₜ, ∂cₜ back the same way.

    RNN    aₜ = xₜ W_ih + b_ih + b_hh + hₜ₋₁ W_hh,  hₜ = f(aₜ)
           ∂aₜ = (∂L/∂outₜ + ∂aₜ₊₁ W_hhᵀ) ⊙ f′
    LSTM   zₜ = xₜ W_ih + b_ih + b_hh + hₜ₋₁ W_hh;  i, f, o = σ(zⁱ, zᶠ, zᵒ), g = tanh(zᵍ)
           cₜ = f cₜ₋₁ + i g,  hₜ = o tanh(cₜ)
           ∂hₜ = ∂L/∂outₜ + ∂zₜ₊₁ W_hhᵀ,  ∂cₜ = ∂cₜ₊₁ fₜ₊₁ + ∂hₜ o (1 − tanh² cₜ)
    both   ∂x = A W_ihᵀ,  ∂W_ih = Xᵀ A,  ∂W_hh = Hprevᵀ A,  ∂b_ih = ∂b_hh = Σ A   (A: every step's ∂a / ∂z)
"""

from .. import rounding
from ..rounding import lift

KINDS = ("RNN", "LSTM")


def forward(layer, params, buffers, x, train, mask):
    several = isinstance(x, tuple)
    x, *states = [lift(v) for v in (x if several else (x,))]
    n, steps, size = x.shape
    H = layer["hidden_size"]
    p = {k: lift(v) for k, v in params.items()}
    rows = x.swapaxes(0, 1).reshape(steps * n, size)
    proj = ((rows @ p["W_ih"]) + p["b_ih"] + p["b_hh"]).reshape(steps, n, -1)
    zero = rounding.Tracked(0.0 * proj.v[0, :, :H])
    h = states[0] if len(states) > 0 else zero
    c = states[1] if len(states) > 1 else zero
    hs, cs, saved = [h], [c], []
    for t in range(steps):
        a = proj[t] + h @ p["W_hh"]
        if layer["kind"] == "RNN":
            h = rounding.tanh(a) if layer["nonlinearity"] == "tanh" else rounding.maximum0(a)
            saved.append(None)
        else:
            i, f = rounding.sigmoid(a[:, :H]), rounding.sigmoid(a[:, H : 2 * H])
            g, o = rounding.tanh(a[:, 2 * H : 3 * H]), rounding.sigmoid(a[:, 3 * H :])
            c = f * c + i * g
            tc = rounding.tanh(c)
            h = o * tc
            saved.append((i, f, g, o, tc))
            cs.append(c)
        hs.append(h)
    out = rounding.stack(hs[1:], axis=1)
    return out, {}, (rows, hs, cs, saved, p, several and 1 + len(states))


def backward(layer, dout, cache):
    rows, hs, cs, saved, p, several = cache
    steps, n = len(saved), hs[0].shape[0]
    W_hhT = p["W_hh"].T
    dh_next = dc_next = None
    da = [None] * steps
    for t in reversed(range(steps)):
        dh = dout[:, t] if dh_next is None else dout[:, t] + dh_next
        h = hs[t + 1]
        if layer["kind"] == "RNN":
            if layer["nonlinearity"] == "tanh":
                da[t] = dh * (1 - h * h)
            else:
                da[t] = rounding.where(h.v > 0, dh, 0.0)
        else:
            i, f, g, o, tc = saved[t]
            dc = dh * o * (1 - tc * tc)
            dc = dc if dc_next is None else dc + dc_next
            parts = [dc * (g * i * (1 - i)), dc * (cs[t] * f * (1 - f)), dc * (i * (1 - g * g))]
            parts.append(dh * (tc * o * (1 - o)))
            da[t] = rounding.concatenate(parts)
            dc_next = dc * f
        dh_next = da[t] @ W_hhT
    A = rounding.stack(da, axis=0).reshape(steps * n, -1)
    hprev = rounding.stack(hs[:-1], axis=0).reshape(steps * n, -1)
    db = A.sum(axis=0)
    grads = {"W_ih": rows.T @ A, "W_hh": hprev.T @ A, "b_ih": db, "b_hh": db}
    dx = (A @ p["W_ih"].T).reshape(steps, n, -1).swapaxes(0, 1)
    if not several:
        return dx, grads
    return (dx, dh_next, dc_next)[:several], grads
