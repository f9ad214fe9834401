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
from dataclasses import dataclass

import numpy as np

import manual

from . import backends, side_by_side
from .datasets import Epochs
from .verify import versions

FILES = ("dist.female.first", "dist.male.first")
SPLIT_SEED = 42
SAMPLE_SEED = 2026


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
    training: side_by_side.SideBySide
    losses: dict  # backend -> {"train": ..., "val": ...}, eval mode
    samples: dict  # backend -> [names]

    def __getattr__(self, name):  # the training's gradients, pairs, runs, ... read through
        if name == "training":
            raise AttributeError(name)
        return getattr(self.training, name)

    @property
    def ok(self):
        return self.training.ok


def verify_names(problem=None, progress=None):
    """The names model end to end: gradients on the first batch against both frameworks
    (within 4 u of their bound), the three trained side by side (params every epoch,
    losses every step, running statistics at the end), their losses and names."""
    problem = problem or load()
    r = problem.recipe
    training = side_by_side.run(
        problem.net, problem.x_train, problem.y_train, manual.SGD(lr=r.lr), r.epochs, r.batch_size,
        r.shuffle_seed, progress=progress,
    )  # fmt: skip
    losses = side_by_side.train_val_losses(training, problem)
    samples = {name: sample(f, problem.chars, problem.recipe.block) for name, f in training.finals.items()}
    return NamesReport(problem, training, losses, samples)


def job():
    """``verify --example names``' run: the problem loaded, its report when run."""
    return side_by_side.job(load(), verify_names)


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
        lines += side_by_side.gradient_lines(report.training)
    lines += side_by_side.training_lines(report.training, p.steps)
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
        **side_by_side.training_json(report.training),
        "losses": report.losses,
        "samples": report.samples,
        "ok": report.ok,
    }
