"""Central finite differences over every parameter: the seeds' habit, for any net."""

from dataclasses import dataclass

import numpy as np

from .compare import max_errors, rounding_scale
from .tolerances import tolerance


@dataclass
class ParamCheck:
    """One parameter array. max_abs / max_rel: the largest difference, alone
    and over the array's largest entry. worst: the largest difference over
    what that entry allows (ok when <= 1)."""

    layer: int  # 1-based
    name: str  # "W" or "b"
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
            f"{self.rtol:g} relative plus the rounding of the loss over the step and of the net's dtype",
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


def gradcheck(net, x, y, eps=1e-6):
    """Compare ``net.loss_and_grads`` with central differences
    ``(L(p + eps) - L(p - eps)) / (2 eps)`` for every parameter entry.

    The differences are always taken in float64, on a float64 copy of the
    net: in float32 a step of 1e-6 is below the loss's rounding and the
    quotient would be noise. The analytic gradient is the net's own, in its
    own dtype. An entry passes when the two differ by at most
    ``rtol * |numeric|`` (the quotient's truncation) + ``16 ulp(L) / eps``
    (the loss's rounding over the step) + the parity tolerance of the net's
    dtype times the entry's rounding scale (the analytic gradient's own
    rounding, see ``manual.compare``).
    x: ``(batch, n_in)``, y: ``(batch, n_out)``.
    """
    if not eps > 0:
        raise ValueError(f"eps: expected a positive step, got {eps!r}")
    x, y = net._check_xy(x, y)
    _, analytic = net.loss_and_grads(x, y)
    numeric = numeric_grads(net, x, y, eps)
    fd = tolerance("finite_differences", np.float64)
    own = tolerance("parity", net.dtype)
    loss_scale, scales = rounding_scale(net, x, y)
    loss_noise = 16 * np.finfo(np.float64).eps * max(1.0, loss_scale) / eps
    checks = []
    for l, (a_layer, n_layer, s_layer) in enumerate(zip(analytic, numeric, scales), start=1):
        for name in a_layer:
            a = a_layer[name].astype(np.float64)
            n = n_layer[name]
            allowed = fd.rtol * np.abs(n) + loss_noise + own.rtol * s_layer[name]
            worst = float(np.max(np.abs(a - n) / allowed))
            max_abs, max_rel = max_errors(a, n)
            checks.append(ParamCheck(l, name, a.shape, max_abs, max_rel, worst, a_layer[name], n))
    return GradcheckResult(checks, eps, fd.rtol)


def numeric_grads(net, x, y, eps=1e-6):
    """dL/dparams by central differences, float64, shaped like ``net.params``."""
    net64 = net.with_params(net.params, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    grads = []
    for layer in net64._params:
        g_layer = {}
        for name, p in layer.items():
            g = np.empty_like(p)
            flat_p, flat_g = p.reshape(-1), g.reshape(-1)
            for i in range(flat_p.size):
                keep = flat_p[i]
                flat_p[i] = keep + eps
                up = net64._loss_unchecked(x, y)
                flat_p[i] = keep - eps
                down = net64._loss_unchecked(x, y)
                flat_p[i] = keep
                flat_g[i] = (up - down) / (2 * eps)
            g_layer[name] = g
        grads.append(g_layer)
    return grads

