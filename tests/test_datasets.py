"""scikit-learn's four bundled datasets, trained side by side (crosscheck.datasets):
the fixed split, the four backends on one path (a fast variant: the recipe's
first epoch), each recipe at least as good as scikit-learn's default fit,
and ``verify --dataset`` end to end on iris."""

import functools
import io
import json

import numpy as np
import pytest

import manual
from crosscheck import cli, datasets
from crosscheck.verify import TrainConfig, verify_case

from conftest import require

SIZES = {  # train rows, test rows, features
    "iris": (112, 38, 4),
    "breast_cancer": (426, 143, 30),
    "diabetes": (331, 111, 10),
    "digits": (1347, 450, 64),
}
FAST_EPOCHS = 1


@pytest.fixture(autouse=True)
def _sklearn():
    require("sklearn")


@pytest.mark.parametrize("name", datasets.NAMES)
def test_the_split_is_fixed_stratified_and_standardized(name):
    p = datasets.load(name)
    n_train, n_test, n_in = SIZES[name]
    assert p.x_train.shape == (n_train, n_in) and p.x_test.shape == (n_test, n_in)
    std = p.x_train.std(axis=0)
    np.testing.assert_allclose(p.x_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(std[std > 0], 1, rtol=1e-12)  # digits' blank pixels stay 0
    if p.recipe.task != "regression":
        train_share = np.bincount(
            p.y_train.argmax(1) if p.y_train.shape[1] > 1 else p.y_train[:, 0].astype(int)
        )
        test_share = np.bincount(p.y_test.astype(int))
        np.testing.assert_allclose(train_share / n_train, test_share / n_test, atol=1 / n_test)
    again = datasets.load(name)
    np.testing.assert_array_equal(again.x_train, p.x_train)
    np.testing.assert_array_equal(again.net.params[0]["W"], p.net.params[0]["W"])


@pytest.mark.parametrize("name", datasets.NAMES)
def test_the_four_backends_train_each_dataset_on_one_path(name):
    """The fast variant: the recipe's batches and optimizer for its first epoch, every
    gradient and every pair of trajectories within the table's float64 tolerances."""
    require("torch", "jax")
    p = datasets.load(name)
    case = p.case()
    case.training = TrainConfig(p.optimizer, FAST_EPOCHS, p.recipe.batch_size, shuffle_seed=0)
    report = verify_case(case, finite_differences=False)  # verify --dataset iris runs them (below)
    assert set(report.runs) == {"manual", "torch", "jax", "sklearn"} and not report.not_compared
    failing = [r for r in report.gradients + report.pairs if not r.ok]
    assert report.ok and len(report.pairs) == 6, f"{name}: {failing}"
    after = p.net.with_params(report.runs["manual"].params)
    assert after.loss(p.x_train, p.y_train) < 0.9 * p.net.loss(p.x_train, p.y_train)  # it learns


@pytest.mark.parametrize("name", datasets.NAMES)
def test_each_recipe_is_at_least_as_good_as_sklearns_default_fit(name):
    p = datasets.load(name)
    r = p.recipe
    history = manual.train(
        p.net, p.x_train, p.y_train, p.optimizer, r.epochs, batch_size=r.batch_size, shuffle_seed=0
    )
    mine = p.metric(history.params)
    theirs, note = datasets.default_fit(p)
    assert mine >= theirs, (
        f"{name}: the recipe's test {mine:.4f} < scikit-learn's default fit {theirs:.4f} ({note})"
    )
    assert mine > p.metric(p.net.params) + 0.2  # it learned something


def test_metric_is_accuracy_or_r2():
    y = np.array([0, 1, 2, 1])
    assert datasets.metric("multiclass", y, np.eye(3)[[0, 1, 1, 1]]) == 0.75
    assert datasets.metric("binary", np.array([1, 0]), np.array([[0.7], [0.6]])) == 0.5
    t = np.array([1.0, 2.0, 3.0])
    assert datasets.metric("regression", t, t[:, None]) == 1.0
    assert datasets.metric("regression", t, np.full((3, 1), 2.0)) == 0.0


def test_an_unknown_dataset_is_refused_by_name():
    with pytest.raises(
        ValueError, match="expected one of iris, breast_cancer, diabetes, digits, got 'mnist'"
    ):
        datasets.load("mnist")


@functools.cache
def iris_report():
    """``verify --dataset iris``'s computation, once: the tests below drive the CLI on it."""
    require("torch", "jax")
    return datasets.verify_dataset("iris")


IRIS = pytest.mark.xdist_group("iris-cli")  # one worker computes iris_report for all three


@pytest.fixture
def iris_cli(monkeypatch):
    report = iris_report()
    monkeypatch.setattr(datasets, "verify_dataset", lambda problem, progress=None: report)

    def main(*args):
        out = io.StringIO()
        return cli.main(["verify", "--dataset", "iris", "--no-progress", *args], out=out), out.getvalue()

    return main


@IRIS
def test_verify_dataset_reports_four_backends_the_default_fit_and_the_curves(iris_cli, tmp_path):
    plot = tmp_path / "curves.png"
    code, text = iris_cli("--plot", str(plot))
    assert code == 0, text
    assert "vs scikit-learn 1.9" in text and "manual-sklearn" in text
    assert "test accuracy after training: manual 1.0000, torch 1.0000, jax 1.0000, sklearn 1.0000" in text
    assert "MLPClassifier().fit with its defaults on the same split: 0.9737" in text
    assert "(200 epochs (hit max_iter=200 unconverged)" in text  # its ConvergenceWarning, said
    assert "time per epoch" in text and "finite differences: every parameter" in text
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@IRIS
def test_verify_dataset_json(iris_cli):
    code, text = iris_cli("--json")
    data = json.loads(text)["datasets"][0]
    assert code == 0 and data["ok"] and data["metric"] == "accuracy"
    assert data["test_metric"]["manual"] == data["test_metric"]["sklearn"] == 1.0
    assert set(data["seconds_per_epoch"]) == {"manual", "torch", "jax", "sklearn"}
    assert data["default_fit"]["metric"] == pytest.approx(0.9737, abs=1e-4)


@IRIS
def test_verify_dataset_fails_when_the_recipe_is_worse_than_the_default_fit(iris_cli, monkeypatch):
    monkeypatch.setattr(iris_report(), "default_fit", 1.5)
    code, text = iris_cli()
    assert code == 1 and "FAIL: the recipe is worse" in text
    assert "the recipe scores below scikit-learn's default fit on: iris" in text
