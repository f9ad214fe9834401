"""Run the engine and the framework references on one net and judge whether
they agree: the computations behind ``python -m manual verify`` (printing is
``cli.py``'s job).

The references are found at call time (``references.torch_ref`` and
``references.jax_ref``, each only if its framework is installed): the engine
itself never imports them.
"""

import importlib
import importlib.util
from dataclasses import dataclass, field

import numpy as np

from .compare import compare, drift_bound, params_gap, rounding_scale, trajectory_gap
from .gradcheck import gradcheck
from .mlp import MLP
from .tolerances import tolerance

FRAMEWORKS = {"torch": ("torch", "references.torch_ref"), "jax": ("jax", "references.jax_ref")}
GRADCHECK_MAX_PARAMS = 20_000  # central differences cost two forward passes per parameter


@dataclass
class TrainConfig:
    optimizer: object
    epochs: int
    batch_size: int | None = None
    shuffle_seed: int | None = None

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
    net: MLP
    x: np.ndarray
    y: np.ndarray
    training: TrainConfig | None
    claims: list = field(default_factory=list)
    findings: list = field(default_factory=list)


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
    gradcheck: object  # a GradcheckResult, or None when the net is too large
    pairs: list
    histories: dict  # backend -> History
    gaps: dict  # pair -> TrajectoryGap

    @property
    def ok(self):
        rows = self.gradients + self.pairs
        return all(r.ok for r in rows) and (self.gradcheck is None or self.gradcheck.ok)


def frameworks():
    """{"torch": (module or None, version or None), "jax": ...}: the references
    whose framework is installed, imported now."""
    found = {}
    for name, (package, module) in FRAMEWORKS.items():
        if importlib.util.find_spec(package) is None or importlib.util.find_spec("references") is None:
            found[name] = (None, None)
            continue
        found[name] = (importlib.import_module(module), importlib.import_module(package).__version__)
    return found


def check(case, progress=None):
    """Everything ``verify`` reports for one case. ``progress(n)`` is told of
    each finished chunk of training epochs."""
    backends = frameworks()
    available = {name: mod for name, (mod, _) in backends.items() if mod is not None}
    gradients = check_gradients(case, available)
    fd = None
    if sum(p.size for layer in case.net.params for p in layer.values()) <= GRADCHECK_MAX_PARAMS:
        fd = gradcheck(case.net, case.x, case.y)
    pairs, histories, gaps = [], {}, {}
    if case.training is not None:
        histories = {"manual": train_in_chunks(_manual(), case, progress)}
        for name, mod in available.items():
            histories[name] = train_in_chunks(mod, case, progress)
        pairs, gaps = check_training(case, histories)
    return Report(case, {k: v for k, (_, v) in backends.items()}, gradients, fd, pairs, histories, gaps)


def check_gradients(case, available):
    mine = case.net.loss_and_grads(case.x, case.y)
    scale = rounding_scale(case.net, case.x, case.y)
    tol = tolerance("parity", case.net.dtype).rtol
    rows = []
    for name, mod in available.items():
        theirs = mod.loss_and_grads(case.net, case.x, case.y)
        for r in compare(mine, theirs, scale, case.net.dtype):
            rows.append(GradRow(r.name, name, r.max_abs, r.max_rel, r.max_scaled, tol, r.ok))
    return rows


CHUNKS = 50


def train_in_chunks(backend, case, progress=None):
    """``backend.train`` in up to 50 pieces joined by ``resume`` (bit-for-bit the
    same as one call, see tests/test_checkpoint.py), so a progress bar can move."""
    from .train import History

    cfg = case.training
    sizes = [len(c) for c in np.array_split(np.arange(cfg.epochs), min(CHUNKS, max(cfg.epochs, 1)))]
    net, state, losses = case.net, None, []
    snapshots = [(0, case.net.params)]  # and the params at the end of every chunk
    for epochs in sizes:
        hist = backend.train(net, case.x, case.y, cfg.optimizer, epochs, batch_size=cfg.batch_size,
                             shuffle_seed=cfg.shuffle_seed, resume=state)
        net, state = hist.net, hist.state
        losses.append(hist.losses)
        snapshots.append((state.step, hist.params))
        if progress is not None:
            progress(epochs)
    return History(losses=np.concatenate(losses), params=hist.params, net=hist.net,
                   snapshots=snapshots, state=state)


def check_training(case, histories):
    cfg = case.training
    if case.net.dtype == np.float64:
        tol = tolerance("trajectory", np.float64).rtol
    else:
        # float32 drifts: judge it against the bound derived for this very run
        tol = float(drift_bound(case.net, case.x, case.y, cfg.optimizer, cfg.epochs,
                                cfg.batch_size, cfg.shuffle_seed)[-1])
    names = list(histories)
    pairs, gaps = [], {}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            gap = trajectory_gap(histories[a], histories[b])
            final = params_gap(histories[a].params, histories[b].params)
            loss_gap = float(gap.loss.max()) if gap.loss.size else 0.0
            pairs.append(PairRow(f"{a}-{b}", loss_gap, final, tol, loss_gap <= tol and final <= tol))
            gaps[f"{a}-{b}"] = gap
    return pairs, gaps


def _manual():
    import manual

    return manual
