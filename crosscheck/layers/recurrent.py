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

The carried error, two ways. Entry by entry (``Tracked`` alone), the error δs of
a state passes to the next through |W_hh|: a bound that holds for every sign
pattern of δs, and grows as ρ(|W_hh|)ᵀ (≈ 4ᵀ at H = 64 with PyTorch's init)
where the error itself grows as the product of the steps' Jacobians. So each step
also bounds the ℓ2 norm r of each sample's carried error, first order as ``Tracked``:

    r ← ‖Jₜ‖₂ r + ‖this step's own error‖₂          forward, s = h (RNN) or (h, c) (LSTM)
    r ← ‖Jₜ‖₂ r + ‖this step's own error‖₂          backward: BPTT carries (∂h, ∂c) through Jₜᵀ

Jₜ = ∂sₜ/∂sₜ₋₁ per sample, at the computed values (its spectral norm from an SVD),
and this step's own error the ``Tracked`` bound of the step run from its carried
input taken as exact. Every entry's bound is then the smaller of the two (an entry is
at most its vector's norm): both hold, so their minimum does.
"""

import numpy as np

from .. import rounding
from ..rounding import Tracked, exact, lift

KINDS = ("RNN", "LSTM")


def tightened(t, r):
    """``t`` with each entry's bound at most its sample's norm bound ``r`` (N,)."""
    return Tracked(t.v, np.minimum(t.e, r[:, None]))


def peak(a):
    """Per sample, max |a| over the last axis."""
    return np.max(np.abs(a), axis=-1)


def gain(J):
    """Per sample, the spectral norm of the Jacobians J (N, S, S)."""
    return np.linalg.norm(J, 2, axis=(-2, -1))


# ------------------------------------------------------------------ forward


def rnn_step(layer, proj, h, W_hh):
    """hₜ and Jₜ = ∂hₜ/∂hₜ₋₁ = diag(f′) W_hhᵀ (N, H, H)."""
    a = proj + h @ W_hh
    if layer["nonlinearity"] == "tanh":
        h = rounding.tanh(a)
        slope = 1 - h.v * h.v
    else:
        h = rounding.maximum0(a)
        slope = (a.v > -a.e).astype(float)  # within its error of the kink: either side
    return h, slope[:, :, None] * W_hh.v.T


def lstm_step(proj, h, c, W_hh, H):
    """hₜ, cₜ, the gates and Jₜ = ∂(hₜ, cₜ)/∂(hₜ₋₁, cₜ₋₁) (N, 2H, 2H)."""
    a = proj + h @ W_hh
    i, f = rounding.sigmoid(a[:, :H]), rounding.sigmoid(a[:, H : 2 * H])
    g, o = rounding.tanh(a[:, 2 * H : 3 * H]), rounding.sigmoid(a[:, 3 * H :])
    c_new = f * c + i * g
    tc = rounding.tanh(c_new)
    gates = (i, f, g, o, tc)
    return o * tc, c_new, gates, lstm_jacobian([q.v for q in gates], c.v, W_hh.v, H)


def lstm_jacobian(gates, c_prev, W_hh, H):
    i, f, g, o, tc = gates
    Wi, Wf, Wg, Wo = (W_hh[:, k * H : (k + 1) * H].T for k in range(4))  # δz_b = W_bᵀ δh
    col = lambda v: v[:, :, None]  # noqa: E731  diag(v) M, per sample
    dc_dh = col(c_prev * f * (1 - f)) * Wf + col(g * i * (1 - i)) * Wi + col(i * (1 - g * g)) * Wg
    dc_dc = np.zeros_like(dc_dh) + np.eye(H) * col(f)
    dh_dc = col(o * (1 - tc * tc))
    dh_dh = dh_dc * dc_dh + col(tc * o * (1 - o)) * Wo
    return np.concatenate(
        [np.concatenate([dh_dh, dh_dc * dc_dc], -1), np.concatenate([dc_dh, dc_dc], -1)], -2
    )


def joint(*ts):
    """Per sample, the ℓ2 norm of the errors of several Tracked (N, ·) side by side."""
    return np.sqrt(sum(np.sum(t.e * t.e, axis=-1) for t in ts))


def forward(layer, params, buffers, x, train, mask):
    several = isinstance(x, tuple)
    x, *states = [lift(v) for v in (x if several else (x,))]
    n, steps, size = x.shape
    H = layer["hidden_size"]
    p = {k: lift(v) for k, v in params.items()}
    rows = x.swapaxes(0, 1).reshape(steps * n, size)
    proj = ((rows @ p["W_ih"]) + p["b_ih"] + p["b_hh"]).reshape(steps, n, -1)
    zero = Tracked(0.0 * proj.v[0, :, :H])
    h = states[0] if len(states) > 0 else zero
    c = states[1] if len(states) > 1 else zero
    r = joint(h, c)
    hs, cs, saved, gains = [h], [c], [], []
    for t in range(steps):
        if layer["kind"] == "RNN":
            box, J = rnn_step(layer, proj[t], h, p["W_hh"])
            own, _ = rnn_step(layer, proj[t], exact(h.v), p["W_hh"])
            gains.append(gain(J))
            r = np.minimum(gains[-1] * r + joint(own), joint(box))
            h = tightened(box, r)
            saved.append(None)
        else:
            box_h, box_c, gates, J = lstm_step(proj[t], h, c, p["W_hh"], H)
            own_h, own_c, _, _ = lstm_step(proj[t], exact(h.v), exact(c.v), p["W_hh"], H)
            gains.append(gain(J))
            r = np.minimum(gains[-1] * r + joint(own_h, own_c), joint(box_h, box_c))
            h, c = tightened(box_h, r), tightened(box_c, r)
            saved.append(gates)
            cs.append(c)
        hs.append(h)
    out = rounding.stack(hs[1:], axis=1)
    return out, {}, (rows, hs, cs, saved, gains, p, several and 1 + len(states))


# ------------------------------------------------------------------ backward through time


def rnn_back(layer, dout, dh_next, h, W_hhT):
    dh = dout if dh_next is None else dout + dh_next  # none after the last step: no rounding
    if layer["nonlinearity"] == "tanh":
        da = dh * (1 - h * h)
    else:
        da = rounding.where(h.v > 0, dh, 0.0)
    return da, da @ W_hhT


def lstm_back(dout, dh_next, dc_next, gates, c_prev, W_hhT):
    i, f, g, o, tc = gates
    dh = dout if dh_next is None else dout + dh_next
    dc = dh * o * (1 - tc * tc)
    dc = dc if dc_next is None else dc + dc_next
    parts = [dc * (g * i * (1 - i)), dc * (c_prev * f * (1 - f)), dc * (i * (1 - g * g))]
    parts.append(dh * (tc * o * (1 - o)))
    dz = rounding.concatenate(parts)
    return dz, dc * f, dz @ W_hhT


def backward(layer, dout, cache):
    rows, hs, cs, saved, gains, p, several = cache
    steps, n = len(saved), hs[0].shape[0]
    W_hhT = p["W_hh"].T
    dh_next = dc_next = None
    r = np.zeros(n)  # the norm bound of the carried (∂h, ∂c) error
    da = [None] * steps
    for t in reversed(range(steps)):
        as_exact = (None, None) if dh_next is None else (exact(dh_next.v), exact(dc_next.v))
        if layer["kind"] == "RNN":
            h = hs[t + 1]
            box_da, box_next = rnn_back(layer, dout[:, t], dh_next, h, W_hhT)
            own_da, own_next = rnn_back(layer, dout[:, t], as_exact[0], h, W_hhT)
            slope = 1 - h.v * h.v if layer["nonlinearity"] == "tanh" else (h.v + h.e > 0)
            da[t] = tightened(box_da, peak(slope) * r + joint(own_da))
            r = np.minimum(gains[t] * r + joint(own_next), joint(box_next))
            dh_next = dc_next = tightened(box_next, r)
        else:
            i, f, g, o, tc = (q.v for q in saved[t])
            box_dz, box_dc, box_next = lstm_back(dout[:, t], dh_next, dc_next, saved[t], cs[t], W_hhT)
            own_dz, own_dc, own_next = lstm_back(dout[:, t], *as_exact, saved[t], cs[t], W_hhT)
            # ∂zₜ's carried error: i, f, g through ∂cₜ (itself through ∂hₜ and ∂cₜ₊₁), o through ∂hₜ
            r_dc = (peak(o * (1 - tc * tc)) + 1) * r
            carried = peak(g * i * (1 - i)) + peak(cs[t].v * f * (1 - f)) + peak(i * (1 - g * g))
            da[t] = tightened(box_dz, carried * r_dc + peak(tc * o * (1 - o)) * r + joint(own_dz))
            r = np.minimum(gains[t] * r + joint(own_next, own_dc), joint(box_next, box_dc))
            dh_next, dc_next = tightened(box_next, r), tightened(box_dc, r)
    A = rounding.stack(da, axis=0).reshape(steps * n, -1)
    hprev = rounding.stack(hs[:-1], axis=0).reshape(steps * n, -1)
    db = A.sum(axis=0)
    grads = {"W_ih": rows.T @ A, "W_hh": hprev.T @ A, "b_ih": db, "b_hh": db}
    dx = (A @ p["W_ih"].T).reshape(steps, n, -1).swapaxes(0, 1)
    if not several:
        return dx, grads
    return (dx, dh_next, dc_next)[:several], grads
