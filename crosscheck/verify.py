"""Run the engine and the framework references on one net and judge whether
they agree: the computations behind ``backprop-by-hand verify`` (printing is
``cli.py``'s job)."""

import time
from dataclasses import dataclass, field

import numpy as np

import manual

from . import backends
from .compare import compare, drift_bound, params_gap, rounding_scale, trajectory_gap
from .tolerances import tolerance

GRADCHECK_MAX_PARAMS = 20_000  # central differences cost two forward passes per parameter
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
    gradients = check_gradients(case, available)
    fd = None
    n_params = sum(p.size for layer in case.net.params for p in layer.values())
    if finite_differences and n_params <= GRADCHECK_MAX_PARAMS:
        fd = manual.gradcheck(case.net, case.x, case.y, rtol=tolerance("finite_differences", np.float64).rtol)
    pairs, runs, gaps, step_seconds = [], {}, {}, {}
    if case.training is not None:
        cfg = case.training
        every = record_every or max(1, cfg.steps(len(case.x)) // SNAPSHOTS)
        for name in ["manual", *available]:
            stamps = [time.perf_counter()]

            def tick(stamps=stamps):
                stamps.append(time.perf_counter())
                if progress is not None:
                    progress()

            runs[name] = backends.train(
                name,
                case.net,
                case.x,
                case.y,
                cfg.optimizer,
                cfg.epochs,
                cfg.batch_size,
                cfg.shuffle_seed,
                record_every=every,
                progress=tick,
            )
            step_seconds[name] = np.diff(stamps)
        pairs, gaps = check_training(case, runs)
    return Report(case, found, gradients, fd, pairs, runs, gaps, step_seconds, not_compared)


def check_gradients(case, frameworks):
    mine = case.net.loss_and_grads(case.x, case.y)
    scale = rounding_scale(case.net, case.x, case.y)
    tol = tolerance("parity", case.net.dtype).rtol
    rows = []
    for name in frameworks:
        theirs = backends.loss_and_grads(name, case.net, case.x, case.y)
        for r in compare(mine, theirs, scale, case.net.dtype):
            rows.append(GradRow(r.name, name, r.max_abs, r.max_rel, r.max_scaled, tol, r.ok))
    return rows


def check_training(case, runs):
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
            gap = trajectory_gap(runs[a], runs[b])
            final = params_gap(runs[a].params, runs[b].params)
            loss_gap = float(gap.loss.max()) if gap.loss.size else 0.0
            pairs.append(PairRow(f"{a}-{b}", loss_gap, final, tol, loss_gap <= tol and final <= tol))
            gaps[f"{a}-{b}"] = gap
    return pairs, gaps
