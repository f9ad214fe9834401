"""Check anyone's backprop: run a hand-written function beside PyTorch, JAX and
finite differences on the same net and data, say where it parts from them and
which classic mistake explains it.

    report = crosscheck.check(fn, net, x, y, layout="torch")   # fn(params, x, y) -> (loss, grads)
    print(report)                                               # the table, and the diagnosis
    crosscheck.assert_backprop_matches(fn, net, x, y)           # AssertionError carrying the report
    crosscheck.check_training(step, net, x, y, lr=0.1, steps=100)  # step(params, x, y, lr) -> params

net: a ``manual.MLP``, or its plain description and params ``(spec, params)``;
layout: see ``crosscheck.layouts``.
"""

import json
from dataclasses import dataclass, field

import numpy as np

import manual
from manual.gradcheck import compare_with_numeric, numeric_grads

from . import backends, mistakes
from .compare import compare, drift_bound, params_gap, rounding_scale
from .layouts import LayoutError, layout_from
from .tolerances import tolerance

FD = "finite differences"
MAX_FD_PARAMS = 20_000  # central differences cost two forward passes per parameter


@dataclass
class Row:
    """One quantity ("loss", "W1", ...) of the user's against one truth."""

    param: str
    truth: str  # "torch", "jax" or "finite differences"
    max_abs: float
    max_rel: float
    ratio: float  # error over what is allowed: passes when <= 1
    ok: bool


@dataclass
class Finding:
    """A parameter whose gradient parts from the truth, and what explains it."""

    param: str
    difference: str  # what it looks like: "differs by 4.005x", "has the opposite sign", ...
    explanations: list  # [(mistake key, layer, text)]

    def sentence(self):
        if not self.explanations:
            return f"{self.param} {self.difference}; no mistake in the catalogue explains it"
        texts = [text for _, _, text in self.explanations]
        return f"{self.param} {self.difference}; it equals the gradient with " + ", or with ".join(texts)


@dataclass
class CheckReport:
    name: str
    net: object
    x: np.ndarray
    y: np.ndarray
    scale: tuple  # the rounding scale of every quantity (compare.rounding_scale)
    layout: object
    loss: float
    grads: list  # the user's, in the plain layout, float64
    truths: dict  # name -> (loss, grads)
    rows: list
    first_layer: int | None  # 1-based, the first from the output down whose gradients part from the truth
    findings: list
    missing: list = field(default_factory=list)  # frameworks that are not installed

    @property
    def ok(self):
        return all(r.ok for r in self.rows)

    @property
    def reference(self):
        """The truth the differences and the diagnosis are stated against."""
        return next(iter(self.truths))

    def differs(self, param):
        """Per entry of ``param`` ("W1", "b2"), whether the user's value parts from the
        reference truth by more than the parity tolerance allows."""
        l, k = int(param[1:]), param[0]
        scale = self.scale[1][l - 1][k]
        truth = np.asarray(self.truths[self.reference][1][l - 1][k], np.float64)
        tol = tolerance("parity", self.net.dtype).rtol
        return np.abs(self.grads[l - 1][k] - truth) > tol * scale + 1024 * float(
            np.finfo(self.net.dtype).tiny
        )

    def text(self):
        return "\n".join(_render(self))

    __str__ = text

    def to_json(self):
        return {
            "name": self.name,
            "ok": self.ok,
            "architecture": "-".join(map(str, self.net.sizes)),
            "layout": self.layout.describe(),
            "truths": list(self.truths),
            "missing": self.missing,
            "rows": [vars(r) for r in self.rows],
            "first_layer": self.first_layer,
            "findings": [
                {
                    "param": f.param,
                    "difference": f.difference,
                    "sentence": f.sentence(),
                    "explanations": [{"mistake": k, "layer": l, "text": t} for k, l, t in f.explanations],
                }
                for f in self.findings
            ],
        }


def as_net(net):
    """A ``manual.MLP`` from an MLP or from ``(spec, params)``."""
    if isinstance(net, manual.MLP):
        return net
    if isinstance(net, (tuple, list)) and len(net) == 2 and isinstance(net[0], dict):
        spec, params = net
        return manual.MLP.from_params(
            [
                {k: v for k, v in layer.items() if k != "b" or spec["bias"][l]}
                for l, layer in enumerate(params)
            ],
            activation=list(spec["activations"]),
            loss=spec["loss"],
            reduction=spec["reduction"],
            dtype=spec["dtype"],
        )
    raise TypeError(f"net: expected a manual.MLP or (spec, params), got {type(net).__name__}")


def run_user(fn, net, x, y, layout):
    """``(loss, grads)`` of the user's function, in the plain layout; LayoutError
    when its shapes do not fit."""
    params = layout.params_to_user(net.params)
    xu, yu = layout.data_to_user(x, y)
    result = fn(params, xu, yu)
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise LayoutError(f"the function returned {type(result).__name__}; expected (loss, grads)")
    loss, grads = result
    return layout.loss_from_user(loss), layout.params_from_user(grads, net.spec(), "grads")


def check(fn, net, x, y, layout=None, name=None, **layout_keywords):
    """Run ``fn(params, x, y) -> (loss, grads)`` and every truth on the same net and
    data; return a ``CheckReport`` (``print`` it; ``.ok``)."""
    net = as_net(net)
    layout = layout_from(layout, **layout_keywords)
    x, y = net._check_xy(x, y)
    loss, grads = run_user(fn, net, x, y, layout)
    truths = {name_: backends.loss_and_grads(name_, net, x, y) for name_ in backends.available()}
    scale = rounding_scale(net, x, y)
    tol = tolerance("parity", net.dtype).rtol
    rows = []
    for truth, result in truths.items():
        for r in compare(result, (loss, grads), scale, net.dtype):
            rows.append(Row(r.name, truth, r.max_abs, r.max_rel, r.max_scaled / tol, r.ok))
    if sum(p.size for layer in net.params for p in layer.values()) <= MAX_FD_PARAMS:
        numeric = numeric_grads(net, x, y)
        true_loss = net.loss(x, y)
        fd = compare_with_numeric(
            grads, numeric, true_loss, rtol=tolerance("finite_differences", np.float64).rtol
        )
        rows += [Row(f"{c.name}{c.layer}", FD, c.max_abs, c.max_rel, c.worst, c.ok) for c in fd.checks]
        truths.setdefault(FD, (true_loss, numeric))
    report = CheckReport(
        name or getattr(fn, "__name__", "your function"),
        net,
        x,
        y,
        scale,
        layout,
        loss,
        grads,
        truths,
        rows,
        None,
        [],
        [k for k, v in backends.installed().items() if v is None],
    )
    failing = {r.param for r in rows if not r.ok and r.param != "loss"}
    for l in range(net.n_layers, 0, -1):
        if any(f"{k}{l}" in failing for k in "Wb"):
            report.first_layer = l
            break
    report.findings = diagnose(net, x, y, grads, truths[report.reference][1], failing)
    return report


def diagnose(net, x, y, grads, truth, failing):
    """A ``Finding`` per failing parameter, from the output down: what the difference
    looks like, and the catalogue's mistakes that reproduce the user's value."""
    if not failing:
        return []
    rtol = tolerance("mistake_match", net.dtype).rtol
    variants = {(m.key, l): mistakes.gradients(net, x, y, m, l)[1] for m, l in mistakes.applicable(net)}
    by_key = {m.key: m for m in mistakes.CATALOGUE}
    findings = []
    for l in range(net.n_layers, 0, -1):
        for k in "Wb":
            param = f"{k}{l}"
            if param not in failing:
                continue
            mine = grads[l - 1][k]
            explained = []
            for (key, at), variant in variants.items():
                theirs = variant[l - 1][k]
                if np.abs(mine - theirs).max() <= rtol * np.abs(theirs).max():
                    explained.append((key, at, by_key[key].describe(net, at)))
            findings.append(
                Finding(param, describe_difference(mine, np.asarray(truth[l - 1][k], np.float64)), explained)
            )
    return findings


def describe_difference(mine, truth):
    """What a wrong gradient looks like against the truth: a constant factor, a
    sign, zeros, or which entries."""
    if not np.any(mine):
        return "is all zeros"
    if not np.any(truth):
        return "is not zero where the truth is"
    factor = float(np.vdot(mine, truth) / np.vdot(truth, truth))
    if np.abs(mine - factor * truth).max() <= 1e-6 * np.abs(mine).max():
        if abs(factor + 1) <= 1e-6:
            return "has the opposite sign"
        return f"differs by {factor:.4g}x" if factor > 0 else f"differs by {factor:.4g}x (the opposite sign)"
    wrong = np.argwhere(~np.isclose(mine, truth, rtol=1e-6, atol=1e-12 * np.abs(truth).max()))
    if len(wrong) == mine.size:
        return "differs in every entry, by no common factor"
    shown = ", ".join(str(tuple(int(i) for i in idx)) for idx in wrong[:6])
    more = f" and {len(wrong) - 6} more" if len(wrong) > 6 else ""
    return f"differs in {len(wrong)} of {mine.size} entries: {shown}{more}, by no common factor"


def assert_backprop_matches(fn, net, x, y, layout=None, **layout_keywords):
    """``check`` in pytest's idiom: returns the report, or raises AssertionError whose
    message is the report (the table and the diagnosis)."""
    report = check(fn, net, x, y, layout, **layout_keywords)
    if not report.ok:
        raise AssertionError("\n" + report.text())
    return report


# ------------------------------------------------------------------ training


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
    findings: list  # at the first step that parts
    missing: list = field(default_factory=list)

    @property
    def ok(self):
        return all(r.ok for r in self.rows)

    def text(self):
        return "\n".join(_render_training(self))

    __str__ = text

    def to_json(self):
        return {
            "name": self.name,
            "ok": self.ok,
            "lr": self.lr,
            "steps": self.steps,
            "rows": [vars(r) for r in self.rows],
            "findings": [
                {"param": f.param, "difference": f.difference, "sentence": f.sentence()}
                for f in self.findings
            ],
        }


def check_training(step_fn, net, x, y, lr, steps=100, layout=None, name=None, **layout_keywords):
    """Run ``step_fn(params, x, y, lr) -> new params`` for ``steps`` full-batch steps
    beside ``torch.optim.SGD`` and optax's ``sgd`` from the same start; compare the
    params after every step. A ``TrainingReport``."""
    net = as_net(net)
    layout = layout_from(layout, **layout_keywords)
    x, y = net._check_xy(x, y)
    frameworks = backends.available()
    if not frameworks:
        raise RuntimeError("check_training compares with torch.optim and optax: install torch or jax")
    optimizer = manual.SGD(lr=lr)
    runs = {f: backends.train(f, net, x, y, optimizer, steps, record_every=1) for f in frameworks}
    mine = [net.params]
    xu, yu = layout.data_to_user(x, y)
    for _ in range(steps):
        new = step_fn(layout.params_to_user(mine[-1]), xu, yu, lr)
        mine.append(layout.params_from_user(new, net.spec(), "the step's new params"))
    if net.dtype == np.float64:
        tol = np.full(steps + 1, tolerance("trajectory", np.float64).rtol)
    else:
        tol = drift_bound(net, x, y, optimizer, steps)
    rows, gaps = [], {}
    for f, run in runs.items():
        snaps = dict(run.snapshots)
        gap = np.array([params_gap(mine[k], snaps[k]) for k in range(steps + 1)])
        over = np.nonzero(gap > tol)[0]
        first = int(over[0]) if over.size else None
        gaps[f] = gap
        rows.append(StepRow(f, first, float(gap.max()), float(tol[-1]), first is None))
    findings = []
    first = min((r.first_step for r in rows if r.first_step is not None), default=None)
    if first is not None:
        findings = diagnose_step(
            net, x, y, lr, mine[first - 1], mine[first], dict(runs[frameworks[0]].snapshots)[first]
        )
    return TrainingReport(
        name or getattr(step_fn, "__name__", "your step"),
        net,
        lr,
        steps,
        rows,
        gaps,
        findings,
        [k for k, v in backends.installed().items() if v is None],
    )


def diagnose_step(net, x, y, lr, before, after, truth_after):
    """Why one step's params part from the truth: the step mistake (an update before
    the delta goes back through it), or a gradient mistake read off the update."""
    at_start = net.with_params(before)
    implied = [{k: (before[l][k] - after[l][k]) / lr for k in after[l]} for l in range(net.n_layers)]
    truth = [
        {k: (before[l][k] - truth_after[l][k]) / lr for k in truth_after[l]} for l in range(net.n_layers)
    ]
    rtol = tolerance("mistake_match", net.dtype).rtol
    failing = {
        f"{k}{l + 1}"
        for l in range(net.n_layers)
        for k in after[l]
        if np.abs(after[l][k] - truth_after[l][k]).max() > rtol * np.abs(truth_after[l][k]).max()
    }
    findings = diagnose(at_start, x, y, implied, truth, failing)
    for f in findings:
        l, k = int(f.param[1:]), f.param[0]
        for at in range(2, net.n_layers + 1):
            variant = mistakes.step_with_update_first(at_start, x, y, lr, at)[l - 1][k]
            if np.abs(after[l - 1][k] - variant).max() <= rtol * np.abs(variant).max():
                f.explanations.append(
                    (mistakes.STEP_MISTAKE.key, at, mistakes.STEP_MISTAKE.describe(net, at))
                )
        f.difference = f.difference.replace("differs", "'s update differs").replace(
            "is all", "'s update is all"
        )
    return findings


# ------------------------------------------------------------------ text


def _render(r):
    net = r.net
    arch = "-".join(map(str, net.sizes))
    yield (
        f"check: {r.name}: {arch} net, {', '.join(net.activations)}, {net.loss_name} ({net.reduction}), "
        f"{net.dtype.name}, batch of {len(r.x)}; layout {r.layout.describe()}"
    )
    truths = list(r.truths)
    yield (
        "  your loss and gradients against each truth: max abs err, max rel err, err / allowed (pass: <= 1)"
    )
    yield "    param  " + "".join(f"{t:<36}" for t in truths).rstrip()
    by_param = {}
    for row in r.rows:
        by_param.setdefault(row.param, {})[row.truth] = row
    order = ["loss"] + [f"{k}{l}" for l in range(net.n_layers, 0, -1) for k in "Wb" if f"{k}{l}" in by_param]
    for param in order:
        cells = []
        for t in truths:
            row = by_param[param].get(t)
            cells.append(
                " " * 36
                if row is None
                else f"{row.max_abs:.1e}  {row.max_rel:.1e}  {row.ratio:.1e}  {_verdict(row.ok)}    "
            )
        yield f"    {param:<6} " + "".join(cells).rstrip()
    if r.ok:
        yield f"  your backprop agrees with {' and '.join(truths)}"
    else:
        if r.first_layer is not None:
            yield f"  from the output down, your gradients first part from the truth at layer {r.first_layer}"
        for f in r.findings:
            yield f"  {f.sentence()}"
        if not any(row.param != "loss" and not row.ok for row in r.rows):
            yield "  the gradients agree; the loss does not"
    for k in r.missing:
        extra = backends.EXTRAS[k]
        yield f"  ({k} is not installed: pip install 'backprop-by-hand[{extra}]' to compare with it)"


def _render_training(r):
    arch = "-".join(map(str, r.net.sizes))
    yield (
        f"check training: {r.name}: {arch} net, {', '.join(r.net.activations)}, {r.net.loss_name}, "
        f"{r.net.dtype.name}; SGD lr={r.lr:g}, {r.steps:,} full-batch steps from the same start"
    )
    yield f"    {'truth':<8} {'worst params gap':>17} {'tolerance':>10}  first step that parts"
    for row in r.rows:
        first = "-" if row.first_step is None else str(row.first_step)
        gaps = f"{row.worst_gap:>17.1e} {row.tolerance:>10.1e}"
        yield f"    {row.truth:<8} {gaps}  {first:<5} {_verdict(row.ok)}"
    if r.ok:
        yield f"  your training step agrees with {' and '.join(row.truth for row in r.rows)} at every step"
    for f in r.findings:
        yield f"  {f.sentence()}"


def _verdict(ok):
    return "PASS" if ok else "FAIL"


def dumps(report):
    return json.dumps(
        report.to_json(), indent=1, default=lambda o: o.item() if hasattr(o, "item") else repr(o)
    )
