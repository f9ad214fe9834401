"""One ``Sequential`` trained by the engine, PyTorch and JAX from one start on the
same batches: the real-use runs (the names models, the digits CNN) share this.

First the gradients on the first batch, each framework's against the engine's
within 4 u of their running error bound, every array asserted informative; then
the three trainings, losses every step and params every epoch, compared pairwise
(``trajectory`` tolerance); then each trained net as a function of x, eval mode,
for the problem to score.
"""

from dataclasses import dataclass, field

import numpy as np

from references import jax_ref, torch_ref

from . import backends
from . import layer_compare as lc
from .compare import loss_floor, params_gap, trajectory_gap
from .progress import Job
from .tolerances import tolerance

REFERENCES = {"torch": torch_ref, "jax": jax_ref}


@dataclass
class SideBySide:
    frameworks: dict
    gradients: list  # layer_compare.Row per framework: ("torch", row)
    detectable: dict  # per parameter, the smallest relative error the gradient check sees
    runs: dict  # backend -> its training run
    gaps: dict  # "manual-torch" -> TrajectoryGap
    buffer_gaps: dict  # pair -> the largest relative difference of the final running statistics
    finals: dict  # backend -> the trained net's eval-mode output as a function of x
    step_seconds: dict = field(default_factory=dict)  # backend -> the median step's wall time

    @property
    def tolerance(self):
        return tolerance("trajectory", np.float64).rtol

    @property
    def pairs(self):
        """``[(pair, loss gap, params gap, buffers gap, ok)]``; the buffers gap None without buffers."""
        out = []
        for pair, gap in self.gaps.items():
            worst = (float(gap.loss.max()), float(gap.params.max()), self.buffer_gaps[pair])
            out.append((pair, *worst, all(v is None or v <= self.tolerance for v in worst)))
        return out

    @property
    def ok(self):
        return all(row.ok for _, row in self.gradients) and all(p[-1] for p in self.pairs)


def job(problem, verify):
    """A real-use problem's run, ``verify(problem, progress=...)``: the steps counted are every
    training step of the engine and of each framework."""
    steps = problem.steps * (1 + len(backends.available()))
    return Job(steps, lambda progress=None: verify(problem, progress=progress))


def run(net, x, y, optimizer, epochs, batch_size, shuffle_seed, progress=None):
    """The gradients on the first batch, then the three trainings and their gaps."""
    frameworks = [k for k, v in backends.installed().items() if v]
    first = backends.batch_indices(len(x), 1, batch_size, shuffle_seed)[0]
    xb, yb = x[first], y[first]
    mine = backends.loss_and_grads("manual", net, xb, yb)
    bound = lc.sequential_bounds(net, xb, yb)
    gradients = []
    for name in frameworks:
        for row in lc.compare_sequential(backends.loss_and_grads(name, net, xb, yb), mine, bound, net.dtype):
            gradients.append((name, row))
    detectable = lc.sequential_detectable(mine, bound, net.dtype)
    steps_per_epoch = -(-len(x) // batch_size)
    runs, seconds = {}, {}
    for name in ["manual", *frameworks]:
        runs[name], steps = backends.timed_train(
            name, net, x, y, optimizer, epochs, batch_size, shuffle_seed,
            record_every=steps_per_epoch, progress=progress,
        )  # fmt: skip
        seconds[name] = float(np.median(steps))
    gaps, buffer_gaps = {}, {}
    names = list(runs)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            gaps[f"{a}-{b}"] = trajectory_gap(runs[a], runs[b], loss_floor(net.spec(), batch_size))
            # a net without running statistics (the digits CNN) has no buffers to compare
            has_buffers = any(_buffers(runs[a]))
            buffer_gaps[f"{a}-{b}"] = (
                params_gap(_buffers(runs[a]), _buffers(runs[b])) if has_buffers else None
            )
    finals = {name: forward_fn(name, net, r) for name, r in runs.items()}
    return SideBySide(backends.installed(), gradients, detectable, runs, gaps, buffer_gaps, finals, seconds)


def _buffers(run):
    return run.net.buffers if hasattr(run, "net") else run.buffers


def forward_fn(name, net, run):
    """The trained net's eval-mode output as a function of x, each implementation's own."""
    if name == "manual":
        return run.net.forward
    spec = net.spec()
    return lambda x: REFERENCES[name].sequential_forward(spec, run.params, run.buffers, x)


def mean_cross_entropy(logits, y):
    """Mean cross-entropy of logits ``(..., classes)`` against labels ``(...)``, computed here."""
    logits = np.asarray(logits, np.float64).reshape(-1, np.shape(logits)[-1])
    y = np.asarray(y).reshape(-1)
    shifted = logits - logits.max(axis=1, keepdims=True)
    logsumexp = np.log(np.exp(shifted).sum(axis=1))
    return float(np.mean(logsumexp - shifted[np.arange(len(y)), y]))


def train_val_losses(training, problem):
    """``{backend: {"train": ..., "val": ...}}``: each trained net's mean cross-entropy, eval mode."""
    return {
        name: {
            "train": mean_cross_entropy(f(problem.x_train), problem.y_train),
            "val": mean_cross_entropy(f(problem.x_val), problem.y_val),
        }
        for name, f in training.finals.items()
    }


def gradient_lines(report):
    lines = ["  gradients on the first batch: max abs err, err / allowed (4 u of the bound; pass: <= 1)"]
    for name, row in report.gradients:
        verdict = "PASS" if row.ok else "FAIL"
        lines.append(f"    {name:<6} {row.name:<16} {row.max_abs:.1e}  {row.ratio:.1e}  {verdict}")
    worst = max(report.detectable.values())
    lines.append(f"    (each gradient array would show a relative error of {worst:.1e}, the least sensitive)")
    return lines


def training_lines(
    report, steps, what="losses every step, params every epoch, running statistics at the end"
):
    lines = [f"  training: {steps:,} steps (pass: every gap <= {report.tolerance:.0e}); {what}"]
    lines.append(f"    {'backends':<14} {'loss gap':>10} {'params gap':>11} {'buffers gap':>12}")
    for pair, loss_gap, params_gap_, buffers_gap, ok in report.pairs:
        buffers = "-" if buffers_gap is None else f"{buffers_gap:.1e}"
        gaps = f"{loss_gap:>10.1e} {params_gap_:>11.1e} {buffers:>12}"
        lines.append(f"    {pair:<14} {gaps}  {'PASS' if ok else 'FAIL'}")
    return lines


def training_json(report):
    return {
        "frameworks": report.frameworks,
        "gradients": [{"framework": name, **vars(row)} for name, row in report.gradients],
        "detectable": report.detectable,
        "training": [
            {"pair": pair, "loss_gap": a, "params_gap": b, "buffers_gap": c, "ok": ok}
            for pair, a, b, c, ok in report.pairs
        ],
        "seconds_per_step": report.step_seconds,
    }
