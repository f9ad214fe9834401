"""Real use of the layers: a character-level model of first names in the shape of
makemore's MLP (Bengio et al. 2003, as Karpathy's "makemore" builds it), trained
by the engine, PyTorch and JAX from one start on the same batches;
``backprop-by-hand verify --example names``.

The names are the US census first-name lists the PyPI package ``names`` ships
(``dist.female.first``, ``dist.male.first``: 5,494 entries, 5,163 distinct names;
nothing is downloaded), lowercased, shuffled with ``np.random.default_rng(42)``
and split 80/10/10 by name. Each name is read with a context of three characters,
"." marking the start and the end, so a name of n letters gives n + 1 examples.

    Embedding(27, 10) → Flatten → Linear(30, 200, bias=False) → BatchNorm1d(200) → Tanh
    → Linear(200, 27), cross-entropy from integer labels

The Linear before the BatchNorm has no bias: the normalization subtracts the mean,
so a bias there has a gradient of exactly 0 (makemore drops it for that reason).
"""

import os
from dataclasses import dataclass, field

import numpy as np

import manual
from references import jax_ref, torch_ref

from . import backends
from . import layer_compare as lc
from .compare import params_gap, trajectory_gap
from .datasets import Epochs
from .tolerances import tolerance
from .verify import versions

FILES = ("dist.female.first", "dist.male.first")
SPLIT_SEED = 42
SAMPLE_SEED = 2026
REFERENCES = {"torch": torch_ref, "jax": jax_ref}


@dataclass(frozen=True)
class Recipe:
    block: int = 3
    embedding: int = 10
    hidden: int = 200
    lr: float = 0.1
    batch_size: int = 32
    epochs: int = 5
    seed: int = 0
    shuffle_seed: int = 0

    def describe(self, vocab):
        return (
            f"Embedding({vocab}, {self.embedding}) → Flatten → Linear({self.block * self.embedding}, "
            f"{self.hidden}, bias=False) → BatchNorm1d({self.hidden}) → Tanh → "
            f"Linear({self.hidden}, {vocab}); SGD lr {self.lr:g}, batches of {self.batch_size}, "
            f"{self.epochs} epochs"
        )


def raw_names():
    """Every entry of the two census lists, lowercased (the ``names`` package's files)."""
    try:
        import names as package
    except ImportError as err:
        raise ImportError(
            f"the names data needs the 'names' package ({err}): pip install -c constraints.txt "
            "'backprop-by-hand[names]'"
        ) from None
    folder = os.path.dirname(package.__file__)
    out = []
    for file in FILES:
        with open(os.path.join(folder, file)) as f:
            out += [line.split()[0].lower() for line in f if line.strip()]
    return out


def vocabulary(words):
    """``["."] + the letters``: index 0 marks the start and the end of a name."""
    return ["."] + sorted(set("".join(words)))


def examples(words, stoi, block):
    """``(x (n, block) int, y (n,) int)``: every name's contexts and next characters."""
    xs, ys = [], []
    for w in words:
        context = [0] * block
        for ch in w + ".":
            xs.append(context)
            ys.append(stoi[ch])
            context = context[1:] + [stoi[ch]]
    return np.array(xs, dtype=np.int64), np.array(ys, dtype=np.int64)


@dataclass
class Problem(Epochs):
    recipe: Recipe
    entries: int
    words: list
    chars: list
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    net: object


def model(recipe, vocab, dtype=np.float64):
    return manual.Sequential(
        [
            manual.Embedding(vocab, recipe.embedding),
            manual.Flatten(),
            manual.Linear(recipe.block * recipe.embedding, recipe.hidden, bias=False),
            manual.BatchNorm1d(recipe.hidden),
            manual.Tanh(),
            manual.Linear(recipe.hidden, vocab),
        ],
        loss="cross_entropy",
        seed=recipe.seed,
        dtype=dtype,
    )


def load(recipe=Recipe(), train_examples=None):
    """The problem: the names, their examples, the net. ``train_examples``: keep only the
    first so many training examples (a quick run; the validation part is kept whole)."""
    raw = raw_names()
    words = sorted(set(raw))
    np.random.default_rng(SPLIT_SEED).shuffle(words)
    chars = vocabulary(words)
    stoi = {c: i for i, c in enumerate(chars)}
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    x_train, y_train = examples(words[:n1], stoi, recipe.block)
    x_train, y_train = x_train[:train_examples], y_train[:train_examples]
    x_val, y_val = examples(words[n1:n2], stoi, recipe.block)
    return Problem(recipe, len(raw), words, chars, x_train, y_train, x_val, y_val, model(recipe, len(chars)))


# ------------------------------------------------------------------ the run


@dataclass
class NamesReport:
    problem: Problem
    frameworks: dict
    gradients: list  # layer_compare.Row per framework: ("torch", row)
    detectable: dict  # per parameter, the smallest relative error the gradient check sees
    runs: dict  # backend -> its training run
    gaps: dict  # "manual-torch" -> TrajectoryGap
    buffer_gaps: dict  # pair -> the largest relative difference of the final running statistics
    losses: dict  # backend -> {"train": ..., "val": ...}, eval mode
    samples: dict  # backend -> [names]
    step_seconds: dict = field(default_factory=dict)

    @property
    def tolerance(self):
        return tolerance("trajectory", np.float64).rtol

    @property
    def pairs(self):
        """``[(pair, loss gap, params gap, buffers gap, ok)]``."""
        out = []
        for pair, gap in self.gaps.items():
            worst = (float(gap.loss.max()), float(gap.params.max()), self.buffer_gaps[pair])
            out.append((pair, *worst, all(v <= self.tolerance for v in worst)))
        return out

    @property
    def ok(self):
        return all(row.ok for _, row in self.gradients) and all(p[-1] for p in self.pairs)


def verify_names(problem=None, progress=None):
    """The names model end to end: gradients on the first batch against both frameworks
    (within 4 u of their bound), the three trained side by side (params every epoch,
    losses every step, running statistics at the end), their losses and names."""
    problem = problem or load()
    net, r = problem.net, problem.recipe
    frameworks = [k for k, v in backends.installed().items() if v]
    first = backends.batch_indices(len(problem.x_train), 1, r.batch_size, r.shuffle_seed)[0]
    xb, yb = problem.x_train[first], problem.y_train[first]
    mine = backends.loss_and_grads("manual", net, xb, yb)
    bound = lc.sequential_bounds(net, xb, yb)
    gradients = []
    for name in frameworks:
        for row in lc.compare_sequential(backends.loss_and_grads(name, net, xb, yb), mine, bound, net.dtype):
            gradients.append((name, row))
    detectable = lc.sequential_detectable(mine, bound, net.dtype)
    runs, seconds = {}, {}
    for name in ["manual", *frameworks]:
        runs[name], steps = backends.timed_train(
            name, net, problem.x_train, problem.y_train, manual.SGD(lr=r.lr), r.epochs, r.batch_size,
            r.shuffle_seed, record_every=problem.steps_per_epoch, progress=progress,
        )  # fmt: skip
        seconds[name] = float(np.median(steps))
    gaps, buffer_gaps = {}, {}
    names = list(runs)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            gaps[f"{a}-{b}"] = trajectory_gap(runs[a], runs[b])
            buffer_gaps[f"{a}-{b}"] = params_gap(_buffers(runs[a]), _buffers(runs[b]))
    finals = {name: _forward_fn(name, problem, run) for name, run in runs.items()}
    losses = {
        name: {
            "train": _loss(f, problem.x_train, problem.y_train),
            "val": _loss(f, problem.x_val, problem.y_val),
        }
        for name, f in finals.items()
    }
    samples = {name: sample(f, problem.chars, problem.recipe.block) for name, f in finals.items()}
    return NamesReport(
        problem,
        backends.installed(),
        gradients,
        detectable,
        runs,
        gaps,
        buffer_gaps,
        losses,
        samples,
        seconds,
    )


def _buffers(run):
    return run.net.buffers if hasattr(run, "net") else run.buffers


def _forward_fn(name, problem, run):
    """The trained net's eval-mode logits as a function of x, each implementation's own."""
    if name == "manual":
        return run.net.forward
    spec = problem.net.spec()
    return lambda x: REFERENCES[name].sequential_forward(spec, run.params, run.buffers, x)


def _loss(forward, x, y):
    """Mean cross-entropy of eval-mode logits, computed here from the logits alone."""
    logits = np.asarray(forward(x), np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    logsumexp = np.log(np.exp(shifted).sum(axis=1))
    return float(np.mean(logsumexp - shifted[np.arange(len(y)), y]))


def sample(forward, chars, block, count=12, seed=SAMPLE_SEED, longest=20):
    """``count`` names drawn from the model in eval mode, every implementation from the same
    uniform draws (each next character: the first whose cumulative probability passes u)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        context, name = [0] * block, ""
        for _ in range(longest):
            logits = np.asarray(forward(np.array([context])), np.float64)[0]
            p = np.exp(logits - logits.max())
            cumulative = np.cumsum(p / p.sum())
            k = int(min(np.searchsorted(cumulative, rng.random()), len(chars) - 1))
            if k == 0:
                break
            name += chars[k]
            context = context[1:] + [k]
        out.append(name)
    return out


# ------------------------------------------------------------------ the report


def render(report):
    p = report.problem
    lines = [
        f"verify: {versions(report.frameworks)}",
        "",
        f"names: {p.entries:,} census entries, {len(p.words):,} distinct names, {len(p.chars)} symbols; "
        f"{len(p.x_train):,} training and {len(p.x_val):,} validation examples",
        f"  {p.recipe.describe(len(p.chars))}, float64, from one start on the same batches",
    ]
    if report.gradients:
        lines.append(
            "  gradients on the first batch: max abs err, err / allowed (4 u of the bound; pass: <= 1)"
        )
        for name, row in report.gradients:
            verdict = "PASS" if row.ok else "FAIL"
            lines.append(f"    {name:<6} {row.name:<16} {row.max_abs:.1e}  {row.ratio:.1e}  {verdict}")
        worst = max(report.detectable.values())
        lines.append(
            f"    (each gradient array would show a relative error of {worst:.1e}, the least sensitive)"
        )
    lines.append(
        f"  training: {p.steps:,} steps (pass: every gap <= {report.tolerance:.0e}); losses every step, "
        "params every epoch, running statistics at the end"
    )
    lines.append(f"    {'backends':<14} {'loss gap':>10} {'params gap':>11} {'buffers gap':>12}")
    for pair, loss_gap, params_gap_, buffers_gap, ok in report.pairs:
        gaps = f"{loss_gap:>10.1e} {params_gap_:>11.1e} {buffers_gap:>12.1e}"
        lines.append(f"    {pair:<14} {gaps}  {'PASS' if ok else 'FAIL'}")
    lines.append("  after training, in eval mode (running statistics): train / validation loss")
    for name, loss in report.losses.items():
        lines.append(f"    {name:<6} {loss['train']:.4f} / {loss['val']:.4f}")
    times = ", ".join(f"{k} {s * 1e6:.0f} µs" for k, s in report.step_seconds.items())
    lines.append(f"  time per step, the median of the run: {times}")
    lines.append("  twelve names sampled from each (the same uniform draws):")
    for name, words in report.samples.items():
        lines.append(f"    {name:<6} {' '.join(words)}")
    ok = report.ok
    lines.append("")
    lines.append(
        "all agree: the names model's gradients and training match "
        + " and ".join(k for k, v in report.frameworks.items() if v)
        if ok
        else "DISAGREEMENT: see the FAIL lines above"
    )
    return "\n".join(lines) + "\n" + backends.missing_note(report.frameworks)


def report_json(report):
    p = report.problem
    return {
        "name": "names",
        "recipe": p.recipe.describe(len(p.chars)),
        "entries": p.entries,
        "names": len(p.words),
        "examples": {"train": len(p.x_train), "val": len(p.x_val)},
        "frameworks": report.frameworks,
        "gradients": [{"framework": name, **vars(row)} for name, row in report.gradients],
        "detectable": report.detectable,
        "training": [
            {"pair": pair, "loss_gap": a, "params_gap": b, "buffers_gap": c, "ok": ok}
            for pair, a, b, c, ok in report.pairs
        ],
        "losses": report.losses,
        "samples": report.samples,
        "seconds_per_step": report.step_seconds,
        "ok": report.ok,
    }
