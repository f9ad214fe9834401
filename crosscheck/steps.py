"""Check anyone's training step: ``step(params, x, y, lr) -> new params`` run step
by step beside ``torch.optim.SGD`` and optax's ``sgd`` from the same start, and
the first step that parts diagnosed by ``crosscheck.diagnosis``'s rules: its
update read as a gradient.

    report = crosscheck.check_training(step, net, x, y, lr=0.1, steps=100)
"""

import functools
import numbers
from dataclasses import dataclass, field

import numpy as np

import manual

from . import backends, mistakes, usercode
from .check import as_net, candidates, table_number, values_of
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
                "unseen": [{"mistake": c.key, "layer": c.where, "text": c.text} for c in d.unseen],
            },
            "notes": self.notes,
            "missing": self.missing,
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
    usercode.check_timeout(timeout)
    user = usercode.as_user_function(step_fn, name or getattr(step_fn, "__name__", "your step"))
    if x is None or y is None:
        raise TypeError("check_training needs data: x and y (a training step has no data of its own)")
    x, y = net.check_data(x, y)
    # without a framework, the engine's own SGD, which the suite holds to both, is the truth
    truths = backends.available() or ["manual"]
    calls = usercode.Calls()
    mine, dtypes = [net.params], []
    xu, yu = layout.data_to_user(x, y)
    for _ in range(steps):
        new = usercode.call(user, (layout.params_to_user(mine[-1]), xu, yu, lr), timeout, calls)
        params, kinds = layout.params_from_user(new, net.spec(), "the step's new params")
        mine.append(params)
        dtypes.append(kinds)
    with np.errstate(all="ignore"):  # a diverging run overflows: said below, not warned
        runs = {f: backends.train(f, net, x, y, optimizer, steps, record_every=1) for f in truths}
        if net.dtype == np.float64:
            tol = np.full(steps + 1, tolerance("trajectory", np.float64).rtol)
        else:
            tol = drift_bound(net, x, y, optimizer, steps)
        rows, gaps, notes = [], {}, []
        for f, run in runs.items():
            snaps = dict(run.snapshots)
            bad = [k for k in range(steps + 1) if not _finite(snaps[k])]
            last = bad[0] - 1 if bad else steps
            if last < steps:
                notes.append(
                    f"{f}'s own run is not finite from step {last + 1} (the learning rate diverges on this "
                    f"net and data): steps 1 to {last} compared"
                )
            gap = np.array([params_gap(mine[k], snaps[k]) for k in range(last + 1)])
            over = np.nonzero(~(gap <= tol[: last + 1]))[0]
            first = int(over[0]) if over.size else None
            gaps[f] = gap
            worst = float(np.nanmax(gap)) if np.isfinite(gap).any() else float("inf")
            rows.append(StepRow(_label(f), first, worst, float(tol[last]), first is None))
        diagnosis = None
        first = min((r.first_step for r in rows if r.first_step is not None), default=None)
        if first is not None:
            diagnosis = diagnose_step(net, x, y, lr, mine[first - 1], mine[first], dtypes[first - 1], layout)
    if calls.warnings:
        notes.append("your step warned: " + "; ".join(calls.notes()))
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


def _finite(params):
    return all(np.all(np.isfinite(v)) for layer in params for v in layer.values())


def _label(backend):
    return "manual (the engine's SGD)" if backend == "manual" else backend


def diagnose_step(net, x, y, lr, before, after, dtypes=None, layout=None):
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
                came = "float64" if dtypes is None else dtypes[l][k]
                shown = (
                    None
                    if layout is None
                    else functools.partial(layout.user_index, k, n_out=net.sizes[l + 1])
                )
                qs.append(
                    Quantity(
                        (l, k),
                        f"{k}{l + 1}'s update",
                        mine[l][k],
                        truth[1][l][k],
                        scale,
                        came,
                        user_index=shown,
                    )
                )
    found = candidates(at_start, x64, y64)
    found += [
        Candidate(
            mistakes.STEP_MISTAKE.key,
            l,
            mistakes.STEP_MISTAKE.describe(at_start, l),
            values_of(at_start, (0.0, implied(mistakes.step_with_update_first(at_start, x64, y64, lr, l)))),
        )
        for l in range(2, net.n_layers + 1)
    ]
    return diagnose(qs, found, net.dtype)


def _render_training(r):
    arch = "-".join(map(str, r.net.sizes))
    yield (
        f"check training: {r.name}: {arch} net, {', '.join(r.net.activations)}, {r.net.loss_name} "
        f"({r.net.reduction}), {r.net.dtype.name}; SGD lr={r.lr:g}, {r.steps:,} full-batch steps from the "
        "same start"
    )
    width = max(8, *(len(row.truth) for row in r.rows))
    yield f"    {'truth':<{width}} {'worst params gap':>17} {'tolerance':>10}  first step that parts"
    for row in r.rows:
        first = "-" if row.first_step is None else str(row.first_step)
        gaps = f"{table_number(row.worst_gap):>17} {row.tolerance:>10.1e}"
        yield f"    {row.truth:<{width}} {gaps}  {first:<5} {'PASS' if row.ok else 'FAIL'}"
    if r.ok:
        yield f"  your training step agrees with {' and '.join(row.truth for row in r.rows)} at every step"
    else:
        first = min(row.first_step for row in r.rows if row.first_step is not None)
        yield f"  at step {first}, the first that parts, your update read as a gradient, (p − p_new) / lr:"
        for line in r.findings:
            yield f"  {line}"
    for note in r.notes:
        yield f"  note: {note}"
    for k in r.missing:
        extra = backends.EXTRAS[k]
        yield f"  ({k} is not installed: pip install 'backprop-by-hand[{extra}]' to compare with it)"
