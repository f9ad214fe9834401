"""Real use of the sequence layers: character-level models of the census first names
(``crosscheck.makemore``'s data and split), an LSTM and a one-block causal
transformer, each trained by the engine, PyTorch and JAX from one start on the same
batches; ``backprop-by-hand verify --example names-lstm`` / ``names-transformer``.

The names of a split are read as one stream, "." before each name and after the
last (".emma.olivia.ava."), cut into windows of T + 1 characters that start every
T characters: x is a window's first T characters (N, T), y its last T (N, T),
each position's next character, so every position is a prediction (from "." the
next name's first letter) and no padding or mask is needed.

    LSTM          Embedding(27, 16) → LSTM(16, 64) → Linear(64, 27)
    transformer   Embedding(27, 32) → PositionalEmbedding(16, 32)
                  → Residual(LayerNorm, MultiheadAttention(32, 4, causal))
                  → Residual(LayerNorm, Linear(32, 128), GELU, Linear(128, 32))
                  → LayerNorm(32) → Linear(32, 27)

cross-entropy over every position (logits (N, T, 27), labels (N, T)), Adam.
"""

from dataclasses import dataclass

import numpy as np

import manual

from . import makemore, side_by_side
from .datasets import Epochs
from .verify import versions

MODELS = ("lstm", "transformer")


@dataclass(frozen=True)
class Recipe:
    model: str = "lstm"
    context: int = 16  # T
    embedding: int = 16
    hidden: int = 64  # the LSTM's hidden size; the transformer's embedding is ``width``
    width: int = 32
    heads: int = 4
    lr: float = 3e-3
    batch_size: int = 32
    epochs: int = 8
    seed: int = 0
    shuffle_seed: int = 0

    def describe(self, vocab):
        training = (
            f"Adam lr {self.lr:g}, batches of {self.batch_size}, {self.epochs} epochs, T = {self.context}"
        )
        if self.model == "lstm":
            layers = (
                f"Embedding({vocab}, {self.embedding}) → LSTM({self.embedding}, {self.hidden}) → "
                f"Linear({self.hidden}, {vocab})"
            )
        else:
            e = self.width
            layers = (
                f"Embedding({vocab}, {e}) → PositionalEmbedding({self.context}, {e}) → "
                f"Residual(LayerNorm, MultiheadAttention({e}, {self.heads}, causal, bias=False)) → "
                f"Residual(LayerNorm, Linear({e}, {4 * e}), GELU, Linear({4 * e}, {e})) → LayerNorm → "
                f"Linear({e}, {vocab})"
            )
        return f"{layers}; {training}"


def model(recipe, vocab, dtype=np.float64):
    if recipe.model == "lstm":
        layers = [
            manual.Embedding(vocab, recipe.embedding),
            manual.LSTM(recipe.embedding, recipe.hidden),
            manual.Linear(recipe.hidden, vocab),
        ]
    else:
        e = recipe.width
        layers = [
            manual.Embedding(vocab, e),
            manual.PositionalEmbedding(recipe.context, e),
            manual.Residual(
                [manual.LayerNorm(e), manual.MultiheadAttention(e, recipe.heads, causal=True, bias=False)]
            ),
            manual.Residual(
                [manual.LayerNorm(e), manual.Linear(e, 4 * e), manual.GELU(), manual.Linear(4 * e, e)]
            ),
            manual.LayerNorm(e),
            manual.Linear(e, vocab),
        ]
    return manual.Sequential(layers, loss="cross_entropy", seed=recipe.seed, dtype=dtype)


def windows(words, stoi, context):
    """``(x (n, T), y (n, T))`` int: the split's stream cut into windows every T characters."""
    stream = np.array([stoi[c] for c in "." + ".".join(words) + "."], dtype=np.int64)
    starts = np.arange(0, len(stream) - context, context)
    x = stream[starts[:, None] + np.arange(context)]
    return x, stream[starts[:, None] + np.arange(1, context + 1)]


@dataclass
class Problem(Epochs):
    recipe: Recipe
    words: list
    chars: list
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    net: object

    @property
    def name(self):
        return f"names-{self.recipe.model}"


def load(recipe=Recipe(), train_windows=None):
    """The problem: the names' windows and the net. ``train_windows``: keep only the first so
    many training windows (a quick run; the validation part is kept whole)."""
    if recipe.model not in MODELS:
        raise ValueError(f"model: expected one of {', '.join(MODELS)}, got {recipe.model!r}")
    words = sorted(set(makemore.raw_names()))
    np.random.default_rng(makemore.SPLIT_SEED).shuffle(words)
    chars = makemore.vocabulary(words)
    stoi = {c: i for i, c in enumerate(chars)}
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    x_train, y_train = (a[:train_windows] for a in windows(words[:n1], stoi, recipe.context))
    x_val, y_val = windows(words[n1:n2], stoi, recipe.context)
    return Problem(recipe, words, chars, x_train, y_train, x_val, y_val, model(recipe, len(chars)))


# ------------------------------------------------------------------ the run


@dataclass
class SequenceReport:
    problem: Problem
    training: side_by_side.SideBySide
    losses: dict  # backend -> {"train": ..., "val": ...}, per character
    samples: dict  # backend -> [names]

    @property
    def ok(self):
        return self.training.ok


def verify_sequences(problem=None, progress=None):
    """The model end to end: gradients on the first batch, the three trained side by side,
    train / validation loss per character, names sampled from each."""
    problem = problem or load()
    r = problem.recipe
    training = side_by_side.run(
        problem.net, problem.x_train, problem.y_train, manual.Adam(lr=r.lr), r.epochs, r.batch_size,
        r.shuffle_seed, progress=progress,
    )  # fmt: skip
    losses = side_by_side.train_val_losses(training, problem)
    samples = {name: sample(f, problem.chars, r.context) for name, f in training.finals.items()}
    return SequenceReport(problem, training, losses, samples)


def job(model):
    """``verify --example names-<model>``'s run: the problem loaded, its report when run."""
    return side_by_side.job(load(Recipe(model=model)), verify_sequences)


def sample(forward, chars, context, count=12, seed=makemore.SAMPLE_SEED, longest=20):
    """``count`` names, every implementation from the same uniform draws ``u (count, longest)``:
    from ".", each next character the first whose cumulative probability passes u, until ".".
    All names grow at once, each as the first positions of a (count, T) batch padded with "."
    on the right and read at its last character: both models are causal, so what follows a
    position never changes it, and every call has one shape (one compile for jax.jit)."""
    u = np.random.default_rng(seed).random((count, longest))
    seqs, done = [[0] for _ in range(count)], [False] * count
    for step in range(longest):
        x = np.zeros((count, context), dtype=np.int64)
        last = []
        for i, seq in enumerate(seqs):
            window = seq[-context:]
            x[i, : len(window)] = window
            last.append(len(window) - 1)
        logits = np.asarray(forward(x), np.float64)[np.arange(count), last]
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        cumulative = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
        for i in range(count):
            if not done[i]:
                k = int(min(np.searchsorted(cumulative[i], u[i, step]), len(chars) - 1))
                done[i] = k == 0
                if not done[i]:
                    seqs[i].append(k)
        if all(done):
            break
    return ["".join(chars[k] for k in seq[1:]) for seq in seqs]


# ------------------------------------------------------------------ the report


def render(report):
    p = report.problem
    lines = [
        f"verify: {versions(report.training.frameworks)}",
        "",
        f"{p.name}: {len(p.words):,} distinct census names as one stream; {len(p.x_train):,} training and "
        f"{len(p.x_val):,} validation windows of {p.recipe.context}",
        f"  {p.recipe.describe(len(p.chars))}, float64, from one start on the same batches",
    ]
    if report.training.gradients:
        lines += side_by_side.gradient_lines(report.training)
    lines += side_by_side.training_lines(report.training, p.steps, "losses every step, params every epoch")
    lines.append("  after training: train / validation loss per character")
    for name, loss in report.losses.items():
        lines.append(f"    {name:<6} {loss['train']:.4f} / {loss['val']:.4f}")
    times = ", ".join(f"{k} {s * 1e6:.0f} µs" for k, s in report.training.step_seconds.items())
    lines.append(f"  time per step, the median of the run: {times}")
    lines.append("  twelve names sampled from each (the same uniform draws):")
    for name, words in report.samples.items():
        lines.append(f"    {name:<6} {' '.join(words)}")
    lines.append("")
    frameworks = " and ".join(k for k, v in report.training.frameworks.items() if v)
    lines.append(
        f"all agree: the {p.name} model's gradients and training match {frameworks}"
        if report.ok
        else "DISAGREEMENT: see the FAIL lines above"
    )
    return "\n".join(lines) + "\n"


def report_json(report):
    p = report.problem
    return {
        "name": p.name,
        "recipe": p.recipe.describe(len(p.chars)),
        "examples": {"train": len(p.x_train), "val": len(p.x_val)},
        **side_by_side.training_json(report.training),
        "losses": report.losses,
        "samples": report.samples,
        "ok": report.ok,
    }
