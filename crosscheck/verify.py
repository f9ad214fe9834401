"""Run the engine and the framework references on one net and judge whether
they agree, and say so: ``backprop-by-hand verify``'s computation and its report
(``render``, ``report_json``)."""

from dataclasses import dataclass, field

import numpy as np

import manual

from . import backends
from .compare import (
    compare,
    drift_bound,
    finite_differences_skipped,
    loss_floor,
    params_gap,
    rounding_scale,
    trajectory_gap,
)
from .progress import Job
from .tolerances import tolerance

SNAPSHOTS = 50  # params recorded per training run, for the params gap (and the plot)


@dataclass
class TrainConfig:
    optimizer: object
    epochs: int
    batch_size: int | None = None
    shuffle_seed: int | None = None

    def steps(self, n):
        """Optimizer steps over n samples."""
        per_epoch = 1 if self.batch_size is None else -(-n // self.batch_size)
        return self.epochs * per_epoch

    def describe(self):
        batches = "full batch" if self.batch_size is None else f"batches of {self.batch_size}"
        if self.batch_size is not None and self.shuffle_seed is not None:
            batches += f" shuffled with seed {self.shuffle_seed}"
        return f"{self.optimizer!r}, {self.epochs:,} epochs, {batches}"


@dataclass
class Case:
    """A net and its data to verify; ``claims`` are a seed's printed numbers."""

    name: str
    title: str
    net: manual.MLP
    x: np.ndarray
    y: np.ndarray
    training: TrainConfig | None
    claims: list = field(default_factory=list)
    findings: list = field(default_factory=list)
    peers: tuple = ()  # peers (backends.PEERS) to compare too, where they express the net


@dataclass
class GradRow:
    param: str  # "loss", "W1", "b1", ...
    framework: str
    max_abs: float
    max_rel: float
    max_scaled: float
    tolerance: float
    ok: bool


@dataclass
class PairRow:
    pair: str  # "manual-torch", ...
    loss_gap: float  # largest relative loss difference over the steps
    params_gap: float  # final params, largest norm-wise relative difference
    tolerance: float
    ok: bool


@dataclass
class Report:
    case: Case
    frameworks: dict  # name -> version, or None when missing
    gradients: list
    gradcheck: object  # a manual GradcheckResult, or None when the net is too large
    pairs: list
    runs: dict  # backend -> its training run (losses, params, snapshots)
    gaps: dict  # pair -> TrajectoryGap
    step_seconds: dict = field(default_factory=dict)  # backend -> (steps,) wall time of each step
    not_compared: dict = field(default_factory=dict)  # peer -> why it was not compared
    gradcheck_skipped: str | None = None  # why finite differences were not taken

    @property
    def ok(self):
        rows = self.gradients + self.pairs
        return all(r.ok for r in rows) and (self.gradcheck is None or self.gradcheck.ok)

    @property
    def compared(self):
        """What the engine was checked against, e.g. ["finite differences", "torch", "jax"]."""
        return (["finite differences"] if self.gradcheck is not None else []) + [
            name for name, version in self.frameworks.items() if version
        ]


def verify_case(case, progress=None, record_every=None, finite_differences=True):
    """Everything ``verify`` reports for one case; ``progress()`` is called after
    every training step of every backend; params are recorded every ``record_every``
    steps (default: about ``SNAPSHOTS`` times a run). ``finite_differences=False``
    skips the gradcheck (two forward passes per parameter)."""
    found = backends.installed()
    available = [name for name, version in found.items() if version]
    not_compared = {}
    for peer in case.peers:
        why = "not installed" if backends.version(peer) is None else None
        why = why or backends.unsupported(peer, case.net, case.training and case.training.optimizer)
        if why is None:
            found[peer] = backends.version(peer)
            available.append(peer)
        else:
            not_compared[peer] = why
    gradients, _ = gradient_rows(case.net, case.x, case.y, case.net.loss_and_grads(case.x, case.y), available)
    fd = None
    skipped = finite_differences_skipped(case.net) if finite_differences else "not asked for"
    if skipped is None:
        fd = manual.gradcheck(case.net, case.x, case.y, rtol=tolerance("finite_differences", np.float64).rtol)
    pairs, runs, gaps, step_seconds = [], {}, {}, {}
    if case.training is not None:
        cfg = case.training
        every = record_every or max(1, cfg.steps(len(case.x)) // SNAPSHOTS)
        for name in ["manual", *available]:
            runs[name], step_seconds[name] = backends.timed_train(
                name,
                case.net,
                case.x,
                case.y,
                cfg.optimizer,
                cfg.epochs,
                cfg.batch_size,
                cfg.shuffle_seed,
                record_every=every,
                progress=progress,
            )
        pairs, gaps = training_pairs(case, runs)
    return Report(case, found, gradients, fd, pairs, runs, gaps, step_seconds, not_compared, skipped)


def job(cases):
    """``verify``'s run over ``cases`` (each with its training): their reports, one per case;
    the steps counted are every training step of the engine and of each framework."""
    steps = sum(c.training.steps(len(c.x)) for c in cases) * (1 + len(backends.available()))
    return Job(steps, lambda progress=None: [verify_case(c, progress=progress) for c in cases])


def gradient_rows(net, x, y, mine, frameworks):
    """``(rows, results)``: the engine's ``mine = (loss, grads)`` against each of
    ``frameworks`` (a ``GradRow`` per quantity and framework), and their results."""
    scale = rounding_scale(net, x, y)
    tol = tolerance("parity", net.dtype).rtol
    rows, results = [], {}
    for name in frameworks:
        results[name] = theirs = backends.loss_and_grads(name, net, x, y)
        for r in compare(mine, theirs, scale, net.dtype):
            rows.append(GradRow(r.name, name, r.max_abs, r.max_rel, r.max_scaled, tol, r.ok))
    return rows, results


def training_pairs(case, runs):
    cfg = case.training
    if case.net.dtype == np.float64:
        tol = tolerance("trajectory", np.float64).rtol
    else:
        # float32 drifts: judge it against the bound derived for this very run
        tol = float(
            drift_bound(
                case.net, case.x, case.y, cfg.optimizer, cfg.epochs, cfg.batch_size, cfg.shuffle_seed
            )[-1]
        )
    names = list(runs)
    pairs, gaps = [], {}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            gap = trajectory_gap(runs[a], runs[b], loss_floor(case.net.spec(), cfg.batch_size or len(case.x)))
            final = params_gap(runs[a].params, runs[b].params)
            loss_gap = float(gap.loss.max()) if gap.loss.size else 0.0
            pairs.append(PairRow(f"{a}-{b}", loss_gap, final, tol, loss_gap <= tol and final <= tol))
            gaps[f"{a}-{b}"] = gap
    return pairs, gaps


# ------------------------------------------------------------------ the report


DISPLAY = {"torch": "PyTorch", "jax": "JAX", "sklearn": "scikit-learn"}


def versions(frameworks):
    return " vs ".join(["manual"] + [f"{DISPLAY[k]} {v}" for k, v in frameworks.items() if v])


def render(reports):
    """``verify``'s text for a list of ``Report``."""
    fw = reports[0].frameworks
    lines = [f"verify: {versions(fw)}", ""]
    for r in reports:
        lines += report_lines(r) + [""]
    lines.append(summary(reports))
    return "\n".join(lines) + "\n" + backends.missing_note(fw)


def report_lines(r):
    c = r.case
    lines = [f"{c.name}: {c.title}, {c.net.dtype.name}, batch of {len(c.x)}"]
    if r.gradients:
        lines.append(
            f"  gradients against each framework: max abs err, max rel err, err / rounding scale "
            f"(pass: <= {r.gradients[0].tolerance:.1e})"
        )
        by_param = {}
        for g in r.gradients:
            by_param.setdefault(g.param, {})[g.framework] = g
        names = list(next(iter(by_param.values())))
        lines.append("    param  " + "".join(f"{name:<36}" for name in names).rstrip())
        for param, row in by_param.items():
            cells = [
                f"{g.max_abs:.1e}  {g.max_rel:.1e}  {g.max_scaled:.1e}  {'PASS' if g.ok else 'FAIL'}    "
                for g in row.values()
            ]
            lines.append(f"    {param:<6} " + "".join(cells).rstrip())
    if r.gradcheck is not None:
        worst = max(r.gradcheck.checks, key=lambda ch: ch.worst)
        lines.append(
            f"  finite differences: every parameter, largest rel err {r.gradcheck.max_rel:.1e} "
            f"({worst.name}{worst.layer})  {'PASS' if r.gradcheck.ok else 'FAIL'}"
        )
    elif r.gradcheck_skipped and r.gradcheck_skipped != "not asked for":
        lines.append(f"  finite differences skipped: {r.gradcheck_skipped}")
    if c.claims:
        lines += ["  " + line for line in claim_lines(c)]
    if r.pairs:
        lines.append(
            f"  training: {c.training.describe()}, from the same start (pass: <= {r.pairs[0].tolerance:.1e})"
        )
        lines.append(f"    {'backends':<14} {'loss gap, any step':>18} {'final params gap':>17}")
        for p in r.pairs:
            lines.append(
                f"    {p.pair:<14} {p.loss_gap:>18.1e} {p.params_gap:>17.1e}  {'PASS' if p.ok else 'FAIL'}"
            )
        final = ", ".join(f"{k} {run.losses[-1]:.6g}" for k, run in r.runs.items())
        lines.append(f"    last loss: {final}")
    return lines


def claim_lines(case):
    """A seed's printed numbers, each ok or WRONG with the right value."""
    lines = ["the seed's printed numbers:"]
    for claim in case.claims:
        if claim.ok:
            lines.append(f"  ok     {claim.name}: {short(claim.printed)}")
        else:
            lines.append(
                f"  WRONG  {claim.name}: printed {short(claim.printed)}, right {short(claim.computed)}"
            )
            if claim.note:
                lines.append(f"         {claim.note}")
    return lines


def summary(reports):
    ok = all(r.ok for r in reports)
    compared = reports[0].compared
    if not ok:
        text = "DISAGREEMENT: see the FAIL lines above"
    elif compared == ["finite differences"]:
        text = (
            "the engine agrees with finite differences; nothing else was compared "
            "(no framework is installed, so no framework gradient and no training run)"
        )
    else:
        text = f"all agree: the engine's gradients and training runs match {' and '.join(compared)}"
    for r in reports:
        for c in r.case.claims:
            if not c.ok:
                text += (
                    f"\n{r.case.name} printed a wrong number: {c.name}, {short(c.printed)} "
                    f"(right: {short(c.computed)}, on which {' and '.join(['the engine', *compared])} agree)"
                )
    return text


def short(value):
    if np.ndim(value) == 0:
        return f"{float(value):.10g}"
    return "[" + ", ".join(f"{v:.10g}" for v in np.asarray(value, dtype=float).ravel()) + "]"


def report_json(r):
    c = r.case
    return {
        "name": c.name,
        "title": c.title,
        "architecture": "-".join(map(str, c.net.sizes)),
        "dtype": c.net.dtype.name,
        "frameworks": r.frameworks,
        "compared": r.compared,
        "gradients": [vars(g) for g in r.gradients],
        "gradcheck": None
        if r.gradcheck is None
        else {
            "ok": r.gradcheck.ok,
            "params": [
                {"param": f"{ch.name}{ch.layer}", "max_abs": ch.max_abs, "max_rel": ch.max_rel, "ok": ch.ok}
                for ch in r.gradcheck.checks
            ],
        },
        "gradcheck_skipped": r.gradcheck_skipped,
        "claims": [
            {"name": cl.name, "printed": cl.printed, "computed": cl.computed, "ok": cl.ok} for cl in c.claims
        ],
        "training": None
        if c.training is None
        else {
            "config": c.training.describe(),
            "pairs": [vars(p) for p in r.pairs],
            "final_loss": {k: float(run.losses[-1]) for k, run in r.runs.items()},
        },
        "ok": r.ok,
    }
