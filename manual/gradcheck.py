"""Central finite differences over every parameter: the seeds' habit, for any net
(an MLP or a Sequential)."""

from dataclasses import dataclass

import numpy as np

from .mlp import MLP
from .sequential import Sequential


@dataclass
class ParamCheck:
    """One parameter array. max_abs: the largest |analytic − numeric|; max_rel:
    that over the array's largest |numeric|; worst: the largest difference
    over what that entry is allowed (the entry passes when ≤ 1)."""

    layer: int  # 1-based: the parameter is net.params[layer - 1][name]
    name: str  # "W", "b", "gamma", ...
    shape: tuple
    max_abs: float
    max_rel: float
    worst: float
    analytic: np.ndarray
    numeric: np.ndarray

    @property
    def ok(self):
        return self.worst <= 1.0


@dataclass
class GradcheckResult:
    checks: list
    eps: float
    rtol: float
    atol: float

    @property
    def ok(self):
        return all(c.ok for c in self.checks)

    @property
    def max_rel(self):
        """The largest relative error over every parameter."""
        return max(c.max_rel for c in self.checks)

    def report(self):
        lines = [
            f"gradcheck: central differences in float64, eps={self.eps:g}; an entry passes within "
            f"{self.rtol:g} of its value plus {self.atol:.1e} (the loss's rounding over the step)",
            f"  {'param':<6} {'shape':<12} {'max abs err':>12} {'max rel err':>12} {'err/allowed':>12}",
        ]
        for c in self.checks:
            lines.append(
                f"  {c.name}{c.layer:<5} {str(c.shape):<12} {c.max_abs:>12.2e} {c.max_rel:>12.2e} "
                f"{c.worst:>12.2e}  {'ok' if c.ok else 'FAIL'}"
            )
        lines.append("  all ok" if self.ok else "  FAILED")
        return "\n".join(lines)

    def __str__(self):
        return self.report()

    def __bool__(self):
        return self.ok


def gradcheck(net, x, y, eps=1e-6, rtol=1e-6):
    """Compare the backward pass with central differences
    ``(L(p + eps) − L(p − eps)) / (2 eps)`` on every parameter entry.

    Both sides are computed on a float64 copy of the net: a float32 step of
    1e-6 is below the loss's rounding, so the quotient would be noise (how
    close the float32 engine comes to the float64 truth is a matter for the
    frameworks' parity, ``crosscheck``). An entry passes when the two differ by
    at most ``rtol · |numeric|`` (the quotient's truncation, ~eps² |L‴|, with
    room for curvature) plus ``atol = 16 · eps₆₄ · M / eps`` (the loss's
    rounding, divided by the step), where M = max(1, |L|, Σ |δ| |z's terms|):
    L moves by δ = ∂L/∂z per unit of the last pre-activation z, and z rounds with
    the magnitude of its terms, which can dwarf L (cross-entropy of the logits
    [126.1, 129.4] is a difference of terms near 129: |L| = 3.3, M = 246).

    A ``Sequential`` is checked in train mode, every evaluation with the same
    dropout masks (its generator's state replayed) and batch statistics; x, y as
    the net takes them. An MLP: x ``(batch, n_in)``, y ``(batch, n_out)``.
    """
    if not isinstance(net, (MLP, Sequential)):
        raise TypeError(
            f"net: expected a manual.MLP or manual.Sequential (check an ensemble's nets one by one: "
            f"ens.net(i)), got {net!r}"
        )
    if not eps > 0:
        raise ValueError(f"eps: expected a positive step, got {eps!r}")
    if not rtol >= 0:
        raise ValueError(f"rtol: expected a number >= 0, got {rtol!r}")
    x, y = net.check_data(x, y)
    net64, x, y = _float64(net, x, y)
    analytic, magnitude = _analytic(net64, x, y)
    return compare_with_numeric(analytic, numeric_grads(net64, x, y, eps), magnitude, eps, rtol)


def _float64(net, x, y):
    """A float64 copy of the net, and x, y in float64 where they are floats (not indices, labels)."""

    def up(a):
        return a.astype(np.float64) if a.dtype.kind == "f" else a

    return net.with_params(net.params, dtype=np.float64), up(x), up(y)


def _analytic(net, x, y):
    """The backward pass's gradients, and the magnitude M the loss rounds with."""
    if isinstance(net, Sequential):
        t = net.trace(x, y, train=True, rng=_replay(net))
        return t.grads, max(abs(t.loss), float(np.vdot(np.abs(t.douts[-1]), np.abs(t.outputs[-1]))))
    trace = net.trace(x, y)
    out = trace.layers[-1]
    a_prev = trace.layers[-2].a if len(trace.layers) > 1 else x
    last = net.params[-1]
    z_terms = np.abs(a_prev) @ np.abs(last["W"]) + np.abs(last.get("b", 0.0))
    return trace.grads, max(abs(trace.loss), float(np.vdot(np.abs(out.delta), z_terms)))


def _replay(net):
    """A generator in the state of ``net.rng`` now (the same dropout masks every time)."""
    rng = np.random.default_rng()
    rng.bit_generator.state = net.rng.bit_generator.state
    return rng


def _frozen_loss(net, x, y):
    """The training loss as a function of no arguments: train mode, the same masks each call."""
    state = net.rng.bit_generator.state

    def loss():
        rng = np.random.default_rng()
        rng.bit_generator.state = state
        out, _ = net._forward(x, True, rng)
        return net._head.value_and_grad(out, y, net.reduction)[0]

    return loss


def compare_with_numeric(analytic, numeric, loss, eps=1e-6, rtol=1e-6):
    """Judge gradients (shaped like params) against ``numeric_grads`` taken with
    step ``eps`` on a loss whose rounding scales with ``loss`` (its value, or the
    magnitude of its terms), by ``gradcheck``'s rule."""
    atol = 16 * float(np.finfo(np.float64).eps) * max(1.0, abs(loss)) / eps
    checks = []
    for l, (a_layer, n_layer) in enumerate(zip(analytic, numeric), start=1):
        for name in a_layer:
            a, n = np.asarray(a_layer[name], np.float64), n_layer[name]
            diff = np.abs(a - n)
            largest = float(np.abs(n).max())
            max_abs = float(diff.max())
            max_rel = max_abs / largest if largest > 0 else (0.0 if max_abs == 0 else float("inf"))
            worst = float((diff / (rtol * np.abs(n) + atol)).max())
            checks.append(ParamCheck(l, name, a.shape, max_abs, max_rel, worst, a, n))
    return GradcheckResult(checks, eps, rtol, atol)


def numeric_grads(net, x, y, eps=1e-6):
    """dL/dparams by central differences, float64, shaped like ``net.params`` (a Sequential's:
    in train mode, with the masks its generator would draw now, at every evaluation)."""
    net64, x, y = _float64(net, *net.check_data(x, y))
    loss = (
        _frozen_loss(net64, x, y) if isinstance(net64, Sequential) else (lambda: net64._loss_unchecked(x, y))
    )
    return [{k: central_differences(loss, v, eps) for k, v in layer.items()} for layer in net64.param_views]


def central_differences(f, arr, eps=1e-6):
    """∂f/∂arr entry by entry, (f(arr + eps) − f(arr − eps)) / 2 eps, ``f`` a function of no
    arguments that reads ``arr`` (moved in place, one entry at a time, and put back)."""
    grad = np.empty(arr.shape, arr.dtype)
    # by index, not through arr.reshape(-1): of a non-C-contiguous array (a column selection, a
    # transpose) that is a copy, and the moves would never reach arr
    for i in np.ndindex(arr.shape):
        keep = arr[i]
        arr[i] = keep + eps
        up = f()
        arr[i] = keep - eps
        down = f()
        arr[i] = keep
        grad[i] = (up - down) / (2 * eps)
    return grad
