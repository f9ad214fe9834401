"""Check anyone's training step: ``step(params, x, y, lr) -> new params`` run step
by step beside ``torch.optim.SGD`` and optax's ``sgd`` from the same start, and
the first step that parts diagnosed by ``crosscheck.diagnosis``'s rules: its
update read as a gradient.

    report = crosscheck.check_training(step, net, x, y, lr=0.1, steps=100)
"""

import json
import numbers
from dataclasses import dataclass, field

import numpy as np

import manual

from . import backends, mistakes, usercode
from .check import as_net, check_timeout, table_number, values_of
from .compare import drift_bound, params_gap, rounding_scale
from .diagnosis import Candidate, Quantity, diagnose
from .layouts import layout_from
from .tolerances import tolerance


@dataclass
class StepRow:
    truth: str
    first_step: int | None  # the first step whose params part from the truth, or None
    worst_gap: float  # the largest norm-wise relative params gap over the steps
    tolerance: float
    ok: bool


@dataclass
class TrainingReport:
    name: str
    net: object
    lr: float
    steps: int
    rows: list
    gaps: dict  # truth -> (steps + 1,) params gaps
    diagnosis: object  # of the first step that parts (None when none does)
    notes: list = field(default_factory=list)
    missing: list = field(default_factory=list)

    @property
    def ok(self):
        return all(r.ok for r in self.rows)

    @property
    def findings(self):
        return [] if self.diagnosis is None else list(self.diagnosis.lines)

    @property
    def explained_by(self):
        return [] if self.diagnosis is None else [(c.key, c.where) for c in self.diagnosis.explained_by]

    def text(self):
        return "\n".join(_render_training(self))

    __str__ = text

    def dumps(self):
        return json.dumps(
            self.to_json(), indent=1, default=lambda o: o.item() if hasattr(o, "item") else repr(o)
        )

    def to_json(self):
        d = self.diagnosis
        return {
            "name": self.name,
            "ok": self.ok,
            "lr": self.lr,
            "steps": self.steps,
            "rows": [vars(r) for r in self.rows],
            "diagnosis": None
            if d is None
            else {
                "verdict": d.verdict,
                "sentences": d.lines,
                "explained_by": [
                    {"mistake": c.key, "layer": c.where, "text": c.text} for c in d.explained_by
                ],
            },
            "notes": self.notes,
        }


def check_training(
    step_fn,
    net,
    x,
    y,
    lr,
    steps=100,
    layout=None,
    name=None,
    timeout=usercode.DEFAULT_TIMEOUT,
    **layout_keywords,
):
    """Run ``step_fn(params, x, y, lr) -> new params`` for ``steps`` full-batch steps
    beside ``torch.optim.SGD`` and optax's ``sgd`` from the same start; compare the
    params after every step. A ``TrainingReport``."""
    net = as_net(net)
    layout = layout_from(layout, **layout_keywords)
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"steps: expected a whole number of steps >= 1, got {steps!r}")
    steps = int(steps)
    optimizer = manual.SGD(lr=lr)  # refuses a learning rate that is not a positive number
    check_timeout(timeout)
    user = usercode.as_user_function(step_fn, name or getattr(step_fn, "__name__", "your step"))
    x, y = net.check_data(x, y)
    frameworks = backends.available()
    if not frameworks:
        raise RuntimeError("check_training compares with torch.optim and optax: install torch or jax")
    calls = usercode.Calls()
    mine = [net.params]
    xu, yu = layout.data_to_user(x, y)
    for _ in range(steps):
        new = usercode.call(user, (layout.params_to_user(mine[-1]), xu, yu, lr), timeout, calls)
        params, _ = layout.params_from_user(new, net.spec(), "the step's new params")
        mine.append(params)
    runs = {f: backends.train(f, net, x, y, optimizer, steps, record_every=1) for f in frameworks}
    if net.dtype == np.float64:
        tol = np.full(steps + 1, tolerance("trajectory", np.float64).rtol)
    else:
        tol = drift_bound(net, x, y, optimizer, steps)
    rows, gaps = [], {}
    for f, run in runs.items():
        snaps = dict(run.snapshots)
        with np.errstate(invalid="ignore"):
            gap = np.array([params_gap(mine[k], snaps[k]) for k in range(steps + 1)])
        over = np.nonzero(~(gap <= tol))[0]
        first = int(over[0]) if over.size else None
        gaps[f] = gap
        rows.append(
            StepRow(
                f,
                first,
                float(np.nanmax(gap) if np.isfinite(gap).any() else gap.max()),
                float(tol[-1]),
                first is None,
            )
        )
    diagnosis = None
    first = min((r.first_step for r in rows if r.first_step is not None), default=None)
    if first is not None:
        diagnosis = diagnose_step(net, x, y, lr, mine[first - 1], mine[first])
    notes = ["your step warned: " + "; ".join(calls.notes())] if calls.warnings else []
    return TrainingReport(
        user.name,
        net,
        lr,
        steps,
        rows,
        gaps,
        diagnosis,
        notes,
        [k for k, v in backends.installed().items() if v is None],
    )


def diagnose_step(net, x, y, lr, before, after):
    """Why one step's params part from the truth: its update read as a gradient,
    (p − p_new) / lr, diagnosed against the true gradient at ``before`` with the
    catalogue and the step's own mistake (an update before the delta goes back)."""
    at_start = net.with_params(before, dtype=np.float64)
    x64, y64 = np.asarray(x, np.float64), np.asarray(y, np.float64)
    before = [{k: np.asarray(v, np.float64) for k, v in layer.items()} for layer in before]

    def implied(new):
        return [
            {k: (before[l][k] - np.asarray(new[l][k], np.float64)) / lr for k in new[l]}
            for l in range(net.n_layers)
        ]

    truth = mistakes.gradients(at_start, x64, y64)
    grad_scale = rounding_scale(at_start, x64, y64)[1]
    eps = float(np.finfo(net.dtype).eps)
    qs = []
    with np.errstate(invalid="ignore", over="ignore"):
        mine = implied(after)
    for l in reversed(range(net.n_layers)):
        for k in ("W", "b"):
            if k in before[l]:
                # the update's own rounding, read back through the division by lr
                scale = (
                    grad_scale[l][k]
                    + 4 * eps / tolerance("parity", net.dtype).rtol * np.abs(before[l][k]) / lr
                )
                qs.append(
                    Quantity(
                        (l, k), f"W{l + 1}'s update".replace("W", k, 1), mine[l][k], truth[1][l][k], scale
                    )
                )
    candidates = [
        Candidate(
            m.key,
            l,
            m.describe(at_start, l, len(x)),
            values_of(at_start, mistakes.gradients(at_start, x64, y64, m, l)),
        )
        for m, l in mistakes.applicable(at_start)
    ]
    candidates += [
        Candidate(
            mistakes.STEP_MISTAKE.key,
            l,
            mistakes.STEP_MISTAKE.describe(at_start, l),
            values_of(at_start, (0.0, implied(mistakes.step_with_update_first(at_start, x64, y64, lr, l)))),
        )
        for l in range(2, net.n_layers + 1)
    ]
    return diagnose(qs, candidates, net.dtype)


def _render_training(r):
    arch = "-".join(map(str, r.net.sizes))
    yield (
        f"check training: {r.name}: {arch} net, {', '.join(r.net.activations)}, {r.net.loss_name}, "
        f"{r.net.dtype.name}; SGD lr={r.lr:g}, {r.steps:,} full-batch steps from the same start"
    )
    yield f"    {'truth':<8} {'worst params gap':>17} {'tolerance':>10}  first step that parts"
    for row in r.rows:
        first = "-" if row.first_step is None else str(row.first_step)
        gaps = f"{table_number(row.worst_gap):>17} {row.tolerance:>10.1e}"
        yield f"    {row.truth:<8} {gaps}  {first:<5} {'PASS' if row.ok else 'FAIL'}"
    if r.ok:
        yield f"  your training step agrees with {' and '.join(row.truth for row in r.rows)} at every step"
    else:
        first = min(row.first_step for row in r.rows if row.first_step is not None)
        yield f"  at step {first}, the first that parts, your update read as a gradient, (p − p_new) / lr:"
        for line in r.findings:
            yield f"  {line}"
    for note in r.notes:
        yield f"  note: {note}"
