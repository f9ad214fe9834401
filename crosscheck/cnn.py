"""Real use of the spatial layers: a small CNN on scikit-learn's 8×8 digits, trained
by the engine, PyTorch and JAX from one start on the same batches, scored beside
the MLP recipe of ``--dataset digits`` and scikit-learn's default ``fit`` on the
same split; ``backprop-by-hand verify --dataset digits-cnn``.

    Conv2d(1, 8, 3, padding=1) → ReLU → MaxPool2d(2) → Conv2d(8, 16, 3, padding=1) → ReLU
    → Flatten → Linear(256, 10), cross-entropy from integer labels

The split is ``--dataset digits``' (25% test, stratified, ``random_state=0``); the
images keep their layout, scaled by the training part's mean and standard
deviation over all pixels (per-pixel standardization, the MLP's, would give each
position its own scale and break what a convolution shares).
"""

from dataclasses import dataclass

import numpy as np

import manual

from . import datasets, side_by_side
from .datasets import Epochs
from .verify import versions

NAME = "digits-cnn"


@dataclass(frozen=True)
class Recipe:
    channels: tuple = (8, 16)
    lr: float = 0.05
    momentum: float = 0.9
    batch_size: int = 32
    epochs: int = 15
    seed: int = 0
    shuffle_seed: int = 0

    def describe(self):
        a, b = self.channels
        return (
            f"Conv2d(1, {a}, 3, padding=1) → ReLU → MaxPool2d(2) → Conv2d({a}, {b}, 3, padding=1) → ReLU → "
            f"Flatten → Linear({b * 16}, 10); SGD lr {self.lr:g} momentum {self.momentum:g}, "
            f"batches of {self.batch_size}, {self.epochs} epochs"
        )


def model(recipe, dtype=np.float64):
    a, b = recipe.channels
    return manual.Sequential(
        [
            manual.Conv2d(1, a, 3, padding=1),
            manual.ReLU(),
            manual.MaxPool2d(2),
            manual.Conv2d(a, b, 3, padding=1),
            manual.ReLU(),
            manual.Flatten(),
            manual.Linear(b * 16, 10),
        ],
        loss="cross_entropy",
        seed=recipe.seed,
        dtype=dtype,
    )


@dataclass
class Problem(Epochs):
    recipe: Recipe
    net: manual.Sequential
    x_train: np.ndarray  # (n, 1, 8, 8)
    y_train: np.ndarray  # (n,) labels
    x_test: np.ndarray
    y_test: np.ndarray
    name: str = NAME

    @property
    def optimizer(self):
        return manual.SGD(lr=self.recipe.lr, momentum=self.recipe.momentum)

    def metric(self, params):
        """Test accuracy of the net with ``params``."""
        return accuracy(self.net.with_params(params).forward, self.x_test, self.y_test)


def load(recipe=Recipe(), dtype=np.float64):
    import sklearn.datasets
    from sklearn.model_selection import train_test_split

    datasets.sklearn_ref.require()
    x, t = sklearn.datasets.load_digits(return_X_y=True)
    x_tr, x_te, t_tr, t_te = train_test_split(
        x, t, test_size=datasets.TEST_SIZE, random_state=datasets.SPLIT_SEED, stratify=t
    )
    mean, std = x_tr.mean(), x_tr.std()
    images = [((v - mean) / std).reshape(-1, 1, 8, 8).astype(dtype) for v in (x_tr, x_te)]
    return Problem(recipe, model(recipe, dtype), images[0], t_tr.astype(np.int64), images[1], t_te)


# ------------------------------------------------------------------ the run


@dataclass
class CNNReport:
    problem: Problem
    training: side_by_side.SideBySide
    curves: dict  # backend -> datasets.Curve (train loss per epoch, test accuracy after each)
    metrics: dict  # backend -> test accuracy of its final params
    mlp: float  # the MLP recipe of --dataset digits, trained by the engine on the same split
    default_fit: float  # scikit-learn's MLPClassifier() with its defaults, on the same split
    default_fit_note: str
    metric_name: str = "accuracy"

    @property
    def ok(self):
        return self.training.ok


def accuracy(forward, x, labels):
    return float(np.mean(np.asarray(forward(x)).argmax(axis=1) == labels))


def verify_cnn(problem=None, progress=None):
    """The CNN end to end: gradients on the first batch, the three trained side by side,
    learning curves, test accuracy; the MLP recipe and scikit-learn's default fit beside it."""
    problem = problem or load()
    r = problem.recipe
    training = side_by_side.run(
        problem.net, problem.x_train, problem.y_train, problem.optimizer, r.epochs, r.batch_size,
        r.shuffle_seed, progress=progress,
    )  # fmt: skip
    metrics = {name: accuracy(f, problem.x_test, problem.y_test) for name, f in training.finals.items()}
    curves = {name: datasets.curve(problem, run) for name, run in training.runs.items()}
    mlp_problem = datasets.load("digits")
    mlp = manual.train(
        mlp_problem.net, mlp_problem.x_train, mlp_problem.y_train, mlp_problem.optimizer,
        epochs=mlp_problem.recipe.epochs, batch_size=mlp_problem.recipe.batch_size, shuffle_seed=0,
    )  # fmt: skip
    mlp_accuracy = mlp_problem.metric(mlp.net.params)
    fit, note = datasets.default_fit(mlp_problem)
    return CNNReport(problem, training, curves, metrics, mlp_accuracy, fit, note)


def job():
    """``verify --dataset digits-cnn``'s run: the problem loaded, its report when run."""
    return side_by_side.job(load(), verify_cnn)


# ------------------------------------------------------------------ the report


def render(report):
    p = report.problem
    lines = [
        f"verify: {versions(report.training.frameworks)}",
        "",
        f"{NAME}: scikit-learn's digits as 8×8 images ({len(p.x_train)} train / {len(p.x_test)} test)",
        f"  {p.recipe.describe()}, float64, from one start on the same batches",
    ]
    if report.training.gradients:
        lines += side_by_side.gradient_lines(report.training)
    lines += side_by_side.training_lines(report.training, p.steps, "losses every step, params every epoch")
    lines.append("  test accuracy")
    for name, value in report.metrics.items():
        lines.append(f"    {name:<7} {value:.4f}")
    lines.append(f"    --dataset digits' MLP recipe, trained by the engine: {report.mlp:.4f}")
    fit = f"{report.default_fit:.4f} ({report.default_fit_note})"
    lines.append(f"    scikit-learn MLPClassifier() with its defaults: {fit}")
    times = ", ".join(f"{k} {s * 1e6:.0f} µs" for k, s in report.training.step_seconds.items())
    lines.append(f"  time per step, the median of the run: {times}")
    lines.append("")
    frameworks = " and ".join(k for k, v in report.training.frameworks.items() if v)
    lines.append(
        f"all agree: the CNN's gradients and training match {frameworks}"
        if report.ok
        else "DISAGREEMENT: see the FAIL lines above"
    )
    return "\n".join(lines) + "\n"


def report_json(report):
    return {
        "name": NAME,
        "recipe": report.problem.recipe.describe(),
        "examples": {"train": len(report.problem.x_train), "test": len(report.problem.x_test)},
        **side_by_side.training_json(report.training),
        "test_accuracy": report.metrics,
        "mlp_recipe_accuracy": report.mlp,
        "sklearn_default_fit": {"accuracy": report.default_fit, "note": report.default_fit_note},
        "curves": {
            k: {"train_loss": c.train_loss.tolist(), "test_accuracy": c.test_metric.tolist()}
            for k, c in report.curves.items()
        },
        "ok": report.ok,
    }
