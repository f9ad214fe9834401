"""Real data: scikit-learn's four bundled datasets (they load offline), each with
one standard net, trained from one start by the engine, PyTorch, JAX and
scikit-learn on the same batches; ``backprop-by-hand verify --dataset NAME``.

Every recipe: a fixed split (``train_test_split``, 25% test, ``random_state=0``,
stratified for the classifiers), features standardized with the training
part's mean and standard deviation (a constant feature, as digits' blank
border pixels, is left at 0), the regression target likewise; the net's
weights from ``init`` with ``seed=0``; SGD with momentum, whose rule is the
same in all four (scikit-learn's Adam puts ε elsewhere: docs/sklearn.md);
mini-batches shuffled with ``shuffle_seed=0``, the short last one kept.
"""

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

import manual
from references import sklearn_ref

from . import backends
from .progress import Job
from .verify import Case, Report, TrainConfig, report_json, report_lines, summary, verify_case, versions

SPLIT_SEED = 0
TEST_SIZE = 0.25


@dataclass(frozen=True)
class Recipe:
    loader: str  # the sklearn.datasets function
    task: str  # "binary", "multiclass" or "regression"
    hidden: tuple
    activation: str
    lr: float
    momentum: float
    batch_size: int
    epochs: int
    l2: float = 0.0
    init: str = "he"

    def describe(self, n_in, n_out):
        sizes = "-".join(str(s) for s in (n_in, *self.hidden, n_out))
        out = {
            "binary": "sigmoid, bce",
            "multiclass": "softmax, cross-entropy",
            "regression": "identity, mse",
        }
        l2 = f", l2 {self.l2:g}" if self.l2 else ""
        return (
            f"{sizes} {self.activation} net ({out[self.task]}{l2}), SGD lr {self.lr:g} momentum "
            f"{self.momentum:g}, batches of {self.batch_size}, {self.epochs} epochs"
        )


RECIPES = {
    "iris": Recipe(
        "load_iris", "multiclass", (16,), "tanh", lr=0.05, momentum=0.9, batch_size=16, epochs=100
    ),
    "breast_cancer": Recipe(
        "load_breast_cancer", "binary", (16,), "relu", lr=0.01, momentum=0.9, batch_size=32, epochs=50
    ),
    "diabetes": Recipe(
        "load_diabetes", "regression", (16,), "tanh", lr=0.01, momentum=0.9, batch_size=32, epochs=50, l2=3.0
    ),
    "digits": Recipe(
        "load_digits", "multiclass", (64,), "relu", lr=0.05, momentum=0.9, batch_size=32, epochs=30
    ),
}
NAMES = tuple(RECIPES)


class Epochs:
    """The step counts of a problem trained in mini-batches: its ``x_train`` and its
    ``recipe``'s batch_size and epochs (the last, shorter batch counted)."""

    @property
    def steps_per_epoch(self):
        return -(-len(self.x_train) // self.recipe.batch_size)

    @property
    def steps(self):
        return self.recipe.epochs * self.steps_per_epoch


@dataclass
class Problem(Epochs):
    name: str
    recipe: Recipe
    net: manual.MLP  # the start
    x_train: np.ndarray
    y_train: np.ndarray  # targets as the net takes them: one-hot, 0/1 or standardized
    x_test: np.ndarray
    y_test: np.ndarray  # labels, or the standardized target

    @property
    def optimizer(self):
        return manual.SGD(lr=self.recipe.lr, momentum=self.recipe.momentum)

    def metric(self, params):
        """Test accuracy (classifiers) or R² (regression) of a net with ``params``."""
        return metric(self.recipe.task, self.y_test, self.net.with_params(params).forward(self.x_test))

    def case(self):
        r = self.recipe
        training = TrainConfig(self.optimizer, r.epochs, r.batch_size, shuffle_seed=0)
        title = f"scikit-learn's {self.name} ({len(self.x_train)} train / {len(self.x_test)} test)"
        return Case(self.name, title, self.net, self.x_train, self.y_train, training, peers=("sklearn",))


def metric(task, y_true, output):
    """Accuracy from the net's output ``(n, n_out)``, or R² of a one-output regression."""
    if task == "regression":
        pred = output[:, 0]
        return float(1 - np.sum((y_true - pred) ** 2) / np.sum((y_true - y_true.mean()) ** 2))
    pred = (output[:, 0] > 0.5).astype(int) if task == "binary" else output.argmax(axis=1)
    return float(np.mean(pred == y_true))


def split(name):
    """``(x_train, x_test, t_train, t_test)``: the fixed split, standardized; t are labels or the target."""
    sklearn_ref.require()  # scikit-learn loads here, on first use, as in the references
    import sklearn.datasets
    from sklearn.model_selection import train_test_split

    recipe = RECIPES[name]
    x, t = getattr(sklearn.datasets, recipe.loader)(return_X_y=True)
    stratify = None if recipe.task == "regression" else t
    x_tr, x_te, t_tr, t_te = train_test_split(
        x, t, test_size=TEST_SIZE, random_state=SPLIT_SEED, stratify=stratify
    )
    x_tr, x_te = _standardize(x_tr, x_te)
    if recipe.task == "regression":
        t_tr, t_te = (v[:, 0] for v in _standardize(t_tr[:, None], t_te[:, None]))
    return x_tr, x_te, t_tr, t_te


def _standardize(train, test):
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0)  # a constant feature stays 0
    return (train - mean) / std, (test - mean) / std


def load(name, dtype=np.float64):
    """The dataset's ``Problem``: the split, the targets as the net takes them, the start."""
    if name not in RECIPES:
        raise ValueError(f"dataset: expected one of {', '.join(NAMES)}, got {name!r}")
    recipe = RECIPES[name]
    x_tr, x_te, t_tr, t_te = split(name)
    if recipe.task == "multiclass":
        n_out, out, loss = int(t_tr.max()) + 1, "softmax", "cross_entropy"
        y_tr = np.eye(n_out)[t_tr]
    elif recipe.task == "binary":
        n_out, out, loss = 1, "sigmoid", "bce"
        y_tr = t_tr[:, None].astype(np.float64)
    else:
        n_out, out, loss = 1, "identity", "mse"
        y_tr = t_tr[:, None]
    net = manual.MLP(
        [x_tr.shape[1], *recipe.hidden, n_out],
        activation=recipe.activation,
        output_activation=out,
        loss=loss,
        reduction="mean",
        init=recipe.init,
        seed=0,
        dtype=dtype,
        l2=recipe.l2,
    )
    cast = [np.asarray(a, dtype) for a in (x_tr, y_tr, x_te)]
    return Problem(name, recipe, net, cast[0], cast[1], cast[2], t_te)


# ------------------------------------------------------------------ the run


@dataclass
class Curve:
    epochs: np.ndarray  # 0 .. epochs
    train_loss: np.ndarray  # per epoch, the mean of its steps' losses (epoch 0: none, nan)
    test_metric: np.ndarray  # after each epoch (epoch 0: the start)


@dataclass
class DatasetReport:
    problem: Problem
    report: Report  # gradients, finite differences, the training pairs
    curves: dict  # backend -> Curve
    metrics: dict  # backend -> the test metric of its final params
    default_fit: float  # scikit-learn's own fit, with its defaults, on the same split
    default_fit_note: str
    seconds_per_epoch: dict = field(default_factory=dict)  # backend -> the median epoch's wall time

    @property
    def ok(self):
        return self.report.ok and self.metrics["manual"] >= self.default_fit

    @property
    def metric_name(self):
        return "R²" if self.problem.recipe.task == "regression" else "accuracy"


def verify_dataset(problem, progress=None):
    """Train a dataset's net (a ``Problem``, or a dataset's name) with every backend from
    one start on one batch order, compare them (``verify_case``), score each on the test part."""
    problem = load(problem) if isinstance(problem, str) else problem
    report = verify_case(problem.case(), progress=progress, record_every=problem.steps_per_epoch)
    curves = {k: curve(problem, run) for k, run in report.runs.items()}
    metrics = {k: problem.metric(run.params) for k, run in report.runs.items()}
    fit, note = default_fit(problem)
    seconds = {k: float(np.median(_by_epoch(problem, s).sum(axis=1))) for k, s in report.step_seconds.items()}
    return DatasetReport(problem, report, curves, metrics, fit, note, seconds)


def job(names):
    """``verify --dataset``'s run: the datasets ``names`` loaded, and their reports when run;
    the steps counted are every training step of the engine, each framework and scikit-learn."""
    problems = [load(name) for name in names]
    steps = sum(p.steps for p in problems) * (1 + len(backends.available()) + 1)
    return Job(steps, lambda progress=None: [verify_dataset(p, progress=progress) for p in problems])


def _by_epoch(problem, per_step):
    """Per-step values as ``(epochs, steps per epoch)``, the whole epochs only."""
    per_epoch = problem.steps_per_epoch
    whole = len(per_step) // per_epoch
    return np.asarray(per_step, np.float64)[: whole * per_epoch].reshape(whole, per_epoch)


def curve(problem, run):
    """A run's ``Curve``: its train loss per epoch and ``problem.metric`` after each."""
    per_epoch = problem.steps_per_epoch
    losses = _by_epoch(problem, run.losses)
    epochs = len(losses)
    train_loss = np.concatenate([[np.nan], losses.mean(axis=1)])
    snaps = dict(run.snapshots)
    test = np.array([problem.metric(snaps[e * per_epoch]) for e in range(epochs + 1)])
    return Curve(np.arange(epochs + 1), train_loss, test)


def default_fit(problem):
    """``(metric, note)`` of scikit-learn's ``MLPClassifier()`` / ``MLPRegressor()``
    with every default but ``random_state=0``, fitted on the same standardized split."""
    sklearn_ref.require()
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    task = problem.recipe.task
    est = MLPRegressor(random_state=0) if task == "regression" else MLPClassifier(random_state=0)
    y = problem.y_train[:, 0] if task != "multiclass" else problem.y_train.argmax(axis=1)
    if task == "binary":
        y = y.astype(int)
    start = time.perf_counter()
    with warnings.catch_warnings():
        # said below, from n_iter_; any other warning still surfaces
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        est.fit(np.asarray(problem.x_train, np.float64), y)
    seconds = time.perf_counter() - start
    stopped = (
        f"hit max_iter={est.max_iter} unconverged" if est.n_iter_ == est.max_iter else "stopped by its tol"
    )
    out = est.predict(problem.x_test) if task == "regression" else est.predict_proba(problem.x_test)
    out = out.reshape(len(out), -1)
    if task == "binary":
        out = out[:, 1:]
    note = f"{est.n_iter_} epochs ({stopped}), {seconds:.2f} s"
    return metric(task, problem.y_test, out), note


# ------------------------------------------------------------------ the report


def render(reports):
    """``verify --dataset``'s text for a list of ``DatasetReport``."""
    lines = [f"verify: {versions(reports[0].report.frameworks)}", ""]
    for r in reports:
        lines += report_lines(r.report)
        lines += _dataset_lines(r) + [""]
    lines.append(summary([r.report for r in reports]))
    worse = [r.problem.name for r in reports if r.metrics["manual"] < r.default_fit]
    if worse:
        lines.append(f"the recipe scores below scikit-learn's default fit on: {', '.join(worse)}")
    return "\n".join(lines) + "\n" + backends.missing_note(backends.installed())


def _dataset_lines(r):
    name, metric_name = r.problem.name, r.metric_name
    scores = ", ".join(f"{k} {v:.4f}" for k, v in r.metrics.items())
    better = r.metrics["manual"] >= r.default_fit
    est = "MLPRegressor()" if r.problem.recipe.task == "regression" else "MLPClassifier()"
    lines = [
        f"  test {metric_name} after training: {scores}",
        f"  scikit-learn's own {est}.fit with its defaults on the same split: {r.default_fit:.4f} "
        f"({r.default_fit_note})  {'PASS' if better else 'FAIL'}: the recipe is "
        f"{'at least as good' if better else 'worse'}",
    ]
    base = r.seconds_per_epoch["manual"]
    times = ", ".join(
        f"{k} {s * 1e3:.2f} ms" + ("" if k == "manual" else f" ({s / base:.1f}x)")
        for k, s in r.seconds_per_epoch.items()
    )
    lines.append(f"  time per epoch, the median epoch of these runs: {times}")
    if "sklearn" in r.seconds_per_epoch:
        lines.append(
            "    (sklearn here is one partial_fit per batch, each with its input checks; its own epoch, "
            "one partial_fit over the data, is timed in nox -s benchmarks)"
        )
    for peer, why in r.report.not_compared.items():
        lines.append(f"  {name}: {peer} not compared: {why}")
    return lines


def dataset_json(r):
    return {
        **report_json(r.report),
        "recipe": r.problem.recipe.describe(r.problem.x_train.shape[1], r.problem.net.sizes[-1]),
        "metric": r.metric_name,
        "test_metric": r.metrics,
        "default_fit": {"metric": r.default_fit, "note": r.default_fit_note},
        "seconds_per_epoch": r.seconds_per_epoch,
        "ok": r.ok,
    }
