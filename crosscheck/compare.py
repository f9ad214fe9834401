"""Error measures: how far apart two results are, and how far apart they may be.

Parity (the engine against PyTorch and JAX) is judged entry by entry, relative
to the *magnitude of the terms* each entry is computed from
(``rounding_scale``): a floating-point sum of terms t is off by at most about
n eps sum |t|, however small the sum itself. An entry that is large is thus
held to a relative error; an entry that is nearly zero because its terms
cancel (a bias gradient summing deltas of both signs, a - y for an output
that rounds to the target) is held to the rounding of its terms, which is
all any implementation can promise for it.
"""

from dataclasses import dataclass

import numpy as np

from manual import train
from manual.activations import ACTIVATIONS
from manual.losses import LOSSES, l2_divisor

from .tolerances import tolerance

# central differences cost two forward passes per parameter: walkthrough, verify and check
# take them on nets of up to this many parameters, and say so when they skip them
FINITE_DIFFERENCES_MAX_PARAMS = 20_000


def finite_differences_skipped(net):
    """None when finite differences are taken on ``net``, else why they are not."""
    n = sum(p.size for layer in net.params for p in layer.values())
    if n <= FINITE_DIFFERENCES_MAX_PARAMS:
        return None
    return (
        f"{n:,} parameters, above the limit of {FINITE_DIFFERENCES_MAX_PARAMS:,} "
        "(two forward passes per parameter)"
    )


@dataclass(frozen=True)
class Comparison:
    """One row of a comparison. ``key``: "loss", or ``(layer index, name)`` of the
    parameter (``net.params[l][name]``); ``name``: how it is shown, "loss" or "W1",
    "b1", ... (the seeds' 1-based layers).

    max_abs: the largest |actual - expected|; max_rel: that over the largest
    |expected| of the array; max_scaled: the largest |actual - expected| over
    the entry's rounding scale, the number the tolerance judges."""

    name: str
    max_abs: float
    max_rel: float
    max_scaled: float
    ok: bool
    key: object = None


def compare(expected, actual, scale, dtype, check="parity"):
    """Compare two ``(loss, grads)`` results entry by entry against ``scale``
    (``rounding_scale(net, x, y)``); one ``Comparison`` per quantity."""
    tol = tolerance(check, dtype)
    rows = []
    for key, name, e, a, s in _quantities(expected, actual, scale):
        e, a, s = (np.asarray(v, dtype=np.float64) for v in (e, a, s))
        if e.shape != a.shape:
            raise ValueError(f"{name}: shapes differ: {e.shape} vs {a.shape}")
        max_abs, max_rel = max_errors(a, e)
        diff = np.abs(a - e)
        # XLA flushes subnormal numbers to zero: where the terms of a sum are
        # subnormal, each can vanish, so a difference below 1024 smallest
        # normals (that many flushed terms) is flush-to-zero, not a disagreement
        ftz = 1024 * float(np.finfo(dtype).tiny)
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = np.where(diff <= ftz, 0.0, diff / s)
        max_scaled = float(scaled.max()) if scaled.size else 0.0
        if not np.isfinite(max_abs):
            max_scaled = float("inf")
        rows.append(Comparison(name, max_abs, max_rel, max_scaled, max_scaled <= tol.rtol, key))
    return rows


def display(key):
    """How a parameter key is shown: "loss", or (0, "W") as the seeds' "W1"."""
    return key if key == "loss" else f"{key[1]}{key[0] + 1}"


def _quantities(expected, actual, scale):
    """``(key, name, expected, actual, scale)`` for the loss and every parameter."""
    (loss_e, grads_e), (loss_a, grads_a), (loss_s, grads_s) = expected, actual, scale
    yield "loss", "loss", loss_e, loss_a, loss_s
    for l, (ge, ga, gs) in enumerate(zip(grads_e, grads_a, grads_s)):
        if set(ge) != set(ga):
            raise ValueError(f"layer {l + 1}: parameters differ: {sorted(ge)} vs {sorted(ga)}")
        for k in ge:
            yield (l, k), display((l, k)), ge[k], ga[k], gs[k]


def smallest_detectable(result, scale, dtype, check="parity", per_net=False):
    """Per quantity of a ``(loss, grads)`` result ("loss", "W1", ...), the smallest
    relative error of it that the comparison would catch: the tolerance over
    the largest ratio of an entry to its rounding scale. An array of exact
    zeros, or of entries far below their rounding, catches nothing (inf).
    ``per_net``: an ensemble's result (nets first), one number per net, ``(N,)``."""
    tol = tolerance(check, dtype).rtol
    out = {}
    for _, name, value, _, s in _quantities(result, result, scale):
        value, s = np.abs(np.asarray(value, np.float64)), np.asarray(s, np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(value == 0, 0.0, value / s)
        if per_net:
            top = ratio.reshape(len(ratio), -1).max(axis=1)
            with np.errstate(divide="ignore"):
                out[name] = np.where(top > 0, tol / top, np.inf)
        else:
            top = float(ratio.max()) if ratio.size else 0.0
            out[name] = tol / top if top > 0 else float("inf")
    return out


def rounding_scale(net, x, y):
    """``(loss_scale, grads_scale)``: per loss and gradient entry, the summed
    magnitude of the terms it is computed from, in float64.

    A forward pass carries, beside each activation, the magnitude its
    rounding scales with (``output_scale``); a backward pass on magnitudes
    (|W|, the magnitude of each derivative's terms) then mirrors the delta
    recursion. Rounding in any correct implementation of the same math stays
    below ~depth * sqrt(n) * eps times these numbers.

    ``net`` may be a ``manual.Ensemble``: its params carry the nets first,
    x and y are shared or per net ``(N, batch, ...)``, and every scale gains a
    leading axis of nets (the loss's is ``(N,)``), like its results.
    """
    y = np.asarray(y, dtype=np.float64)
    params, a, amag, zs, zmags = _forward_magnitudes(net, x)
    names = net.activations
    loss = LOSSES[net.loss_name]
    red = loss.scale(net.reduction, *y.shape[-2:])

    out, out_mag = a[-1], amag[-1]
    last = names[-1]
    fused = loss.output_activation is not None
    m = (out_mag + np.abs(y)) * red
    if not fused:
        if last == "softmax":
            m = out_mag * (m + (m * out_mag).sum(axis=-1, keepdims=True))
        else:
            m = m * _derivative_terms(last, out, out_mag - np.abs(out))
    loss_scale = _loss_terms(net.loss_name, zs[-1], zmags[-1], out_mag, y) * red

    grads = []
    for l in range(len(params) - 1, -1, -1):
        g = {"W": _t(amag[l]) @ m}
        if "b" in params[l]:
            g["b"] = m.sum(axis=-2)
        grads.append(g)
        if l > 0:
            m = (m @ _t(np.abs(params[l]["W"]))) * _derivative_terms(
                names[l - 1], a[l], amag[l] - np.abs(a[l])
            )
    grads = grads[::-1]
    l2 = getattr(net, "l2", 0.0)
    if l2:
        # the L2 term's own: ½·l2·Σ W² / divisor in the loss, l2·|W| / divisor per gradient entry
        scale = l2 / l2_divisor(net.reduction, y.shape[-2])
        loss_scale = loss_scale + 0.5 * scale * sum(float(np.vdot(p["W"], p["W"])) for p in params)
        for g, p in zip(grads, params):
            g["W"] = g["W"] + scale * np.abs(p["W"])
    return (float(loss_scale) if np.ndim(loss_scale) == 0 else loss_scale), grads


def _t(a):
    """The transpose of a matrix, or of each in a stack of them (an ensemble's)."""
    return np.swapaxes(a, -1, -2)


def _bias(layer):
    """b, broadcastable against (batch, n_out) or, nets first, (N, batch, n_out)."""
    return layer["b"][..., None, :] if "b" in layer else 0.0


def output_scale(net, x):
    """Per entry of ``net.forward(x)``, the magnitude its rounding scales with:
    compare two implementations' outputs as |a - b| <= rtol * output_scale."""
    return _forward_magnitudes(net, x)[2][-1]


def _forward_magnitudes(net, x):
    """The forward pass in float64, and beside each z and a the summed
    magnitude of what it is computed from: |a_prev| @ |W| + |b| for z, and for
    a = f(z), |a| plus |f'(z)| times z's magnitude (the error z passes on).
    Returns (params, a, amag, zs, zmags), with a[0] = x."""
    params = [{k: np.asarray(v, dtype=np.float64) for k, v in layer.items()} for layer in net.params]
    x = np.asarray(x, dtype=np.float64)
    a, amag, zs, zmags = [x], [np.abs(x)], [], []
    for layer, name in zip(params, net.activations):
        z = a[-1] @ layer["W"] + _bias(layer)
        zmag = amag[-1] @ np.abs(layer["W"]) + np.abs(_bias(layer))
        out = _apply(name, z)
        if name == "sigmoid":
            # an output in (0, 1) is in general only absolutely accurate: a
            # correct sigmoid may compute 1 - sigmoid(-z), or 0.5 (1 + tanh(z/2)),
            # and round a tiny value to 0; so its own rounding scales with 1
            mag = 1 + _slope(name, out) * zmag
        elif name == "softmax":
            # |d softmax_i| <= 2 a_i max_j |dz_j|
            mag = 1 + 2 * out * zmag.max(axis=-1, keepdims=True)
        else:
            mag = np.abs(out) + _slope(name, out) * zmag
        a.append(out)
        amag.append(mag)
        zs.append(z)
        zmags.append(zmag)
    return params, a, amag, zs, zmags


def _apply(name, z):
    with np.errstate(over="ignore", under="ignore"):
        if z.ndim == 3:  # an ensemble's (N, batch, units): the engine's rows are axis 1 with the nets last
            return np.moveaxis(ACTIVATIONS[name](np.moveaxis(z, 0, -1)), -1, 0)
        return ACTIVATIONS[name](z)


def _slope(name, a):
    """|f′(z)| read off a, bounding how an error in z reaches a (softmax: at most 1 per unit)."""
    act = ACTIVATIONS[name]
    return np.ones_like(a) if not act.elementwise else np.abs(act.prime(a).astype(np.float64))


def _derivative_terms(name, a, a_err):
    """The magnitude of the terms f'(z) is computed from, read off a
    (sigma' = a - a**2, tanh' = 1 - a**2), plus what an error in a moves it by."""
    return {
        "sigmoid": lambda: a + a * a + a_err,
        "tanh": lambda: 1 + a * a + 2 * a_err,
        "relu": lambda: (a > 0).astype(float),
        "leaky_relu": lambda: np.where(a > 0, 1.0, 0.01),
        "identity": lambda: np.ones_like(a),
    }[name]()


def _loss_terms(loss, z, zmag, out_mag, y):
    """Summed over the batch and the outputs (the last two axes): a number, or one per net."""
    if loss == "mse":
        return (0.5 * (out_mag + np.abs(y)) ** 2).sum(axis=(-2, -1))
    if loss == "bce":
        # max(z, 0) - z y + log(1 + exp(-|z|)): the 1 is summed too
        return (zmag * (1 + np.abs(y)) + 1).sum(axis=(-2, -1))
    # cross_entropy: max z + log sum exp(z - max) - sum y z, per row
    return (zmag.max(axis=-1) + (np.abs(y) * zmag).sum(axis=-1) + np.log(z.shape[-1]) + 1).sum(axis=-1)


def max_errors(actual, expected):
    """(max_abs, max_rel) between two arrays, computed in float64."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise ValueError(f"shapes differ: {actual.shape} vs {expected.shape}")
    if actual.size == 0:
        return 0.0, 0.0
    max_abs = float(np.max(np.abs(actual - expected)))
    scale = float(np.max(np.abs(expected)))
    if max_abs == 0.0:
        return 0.0, 0.0
    if not np.isfinite(max_abs):
        return float("inf"), float("inf")
    return max_abs, (max_abs / scale if scale > 0 else float("inf"))


@dataclass
class TrajectoryGap:
    """How far two training runs of the same net drift apart.

    loss: ``(steps,)``, per step |loss_a - loss_b| / |loss_b|.
    steps, params: at each snapshot both runs recorded (``record_every``),
    the largest norm-wise relative gap over the parameter arrays.
    """

    loss: np.ndarray
    steps: np.ndarray
    params: np.ndarray


def loss_floor(spec, batch):
    """The smallest scale a loss's rounding is relative to, whatever its value: for a
    cross-entropy (and bce, nll) each sample's term is a log-sum-exp minus a logit, whose
    sum of exponentials has a largest term of 1 after the shift, so any implementation
    carries an absolute error of ~u per sample however close to 0 the loss gets (a
    memorized batch at 5e-9 differs by one rounding of 1, 2e-16: 5e-8 relative). That is
    1 for a mean over the batch and ``batch`` for a sum; 0 for mse, whose terms are squares
    with no such floor. ``spec``: a net's ``spec()``."""
    if spec.get("loss") in ("cross_entropy", "bce", "nll"):
        return float(batch) if spec.get("reduction") == "sum" else 1.0
    return 0.0


def trajectory_gap(a, b, loss_scale=0.0):
    """The per-step gap between two ``History`` objects of the same run
    (same net, data, optimizer, batches), e.g. the engine's and PyTorch's: the loss gap
    relative to max(|loss|, ``loss_scale``) (``loss_floor``), the params' relative gap."""
    if len(a.losses) != len(b.losses):
        raise ValueError(f"runs of different lengths: {len(a.losses)} and {len(b.losses)} steps")
    la, lb = np.asarray(a.losses, np.float64), np.asarray(b.losses, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = np.where(la == lb, 0.0, np.abs(la - lb) / np.maximum(np.abs(lb), loss_scale))
    snaps_b = dict(b.snapshots)
    steps, params = [], []
    for step, pa in a.snapshots:
        if step in snaps_b:
            steps.append(step)
            params.append(params_gap(pa, snaps_b[step]))
    return TrajectoryGap(loss=loss, steps=np.asarray(steps, dtype=int), params=np.asarray(params))


def params_gap(a, b):
    """The largest norm-wise relative difference over two params' arrays."""
    return max(max_errors(la[k], lb[k])[1] for la, lb in zip(a, b) for k in lb)


def drift_bound(net, x, y, optimizer, epochs, batch_size=None, shuffle_seed=None):
    """An upper bound on how far two correct backends' runs may drift apart,
    ``(steps + 1,)``: the largest relative param gap allowed after each step.

    First-order error propagation: with e_t the gap after t steps,
    e_{t+1} <= A_t e_t + d_t, so e_t <= sum_{s<t} d_s prod A <= G sum_{s<t} d_s, where

    - d_s, the disagreement one step injects, is at most twice (once per
      backend) the update's own rounding, rho |u_s| / |p_s| (rho: the parity
      tolerance of the net's dtype, u_s the step's update), plus the rounding
      of p - u, eps;
    - G, how much the dynamics amplify a disagreement, is measured: a float64
      run whose start is nudged by 1e-7 is followed against an unnudged one,
      and G is the largest growth factor seen (at least 1).

    The update sizes come from the same float64 run.
    """
    start = net.with_params(net.params, dtype=np.float64)
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    run = dict(epochs=epochs, batch_size=batch_size, shuffle_seed=shuffle_seed, record_every=1)
    base = train(start, x, y, optimizer, **run)
    signs = np.random.default_rng(0)
    nudged = [
        {k: v * (1 + 1e-7 * signs.choice([-1.0, 1.0], size=v.shape)) for k, v in layer.items()}
        for layer in start.params
    ]
    moved = train(start.with_params(nudged), x, y, optimizer, **run)
    growth = max(1.0, float((trajectory_gap(moved, base).params / params_gap(nudged, start.params)).max()))

    flat = [np.concatenate([v.ravel() for layer in p for v in layer.values()]) for _, p in base.snapshots]
    update = np.array([np.abs(b - a).max() / np.abs(a).max() for a, b in zip(flat, flat[1:])])
    rho = tolerance("parity", net.dtype).rtol
    eps = float(np.finfo(net.dtype).eps)
    return growth * np.concatenate([[0.0], np.cumsum(2 * (rho * update + eps))])
