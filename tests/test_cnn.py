"""The digits CNN (crosscheck.cnn): the images as the module says, two epochs trained by the
engine, PyTorch and JAX side by side (gradients within their bound, every step's loss and
every epoch's params within the trajectory tolerance, the same test accuracy), scored beside
the MLP recipe and scikit-learn's default fit; the command line's report."""

import functools
import io
import json

import numpy as np
import pytest

from crosscheck import cli, cnn

from conftest import require


@functools.cache
def problem():
    """Two epochs (86 steps): the demo runs the recipe's 15."""
    return cnn.load(cnn.Recipe(epochs=2))


@pytest.fixture(scope="module")
def report():
    require("torch", "jax", "sklearn")
    return cnn.verify_cnn(problem())


def test_the_images_are_the_digits_split():
    require("sklearn")
    p = problem()
    assert p.x_train.shape == (1347, 1, 8, 8) and p.x_test.shape == (450, 1, 8, 8)
    assert p.x_train.dtype == np.float64 and p.y_train.dtype == np.int64
    # scaled by the training part's mean and deviation over all pixels
    assert abs(p.x_train.mean()) < 1e-12 and abs(p.x_train.std() - 1) < 1e-12
    assert sorted(set(p.y_test)) == list(range(10))


def test_the_three_train_side_by_side(report):
    assert report.ok
    assert {name for name, _ in report.training.gradients} == {"torch", "jax"}
    assert max(report.training.detectable.values()) <= 1e-6  # every gradient array is informative
    assert all(max(g for g in gaps if g is not None) <= 1e-12 for _, *gaps, _ in report.training.pairs)
    assert all(gaps[-1] is None for _, *gaps, _ in report.training.pairs)  # no buffers to compare
    accuracies = set(report.metrics.values())
    assert len(accuracies) == 1 and accuracies.pop() > 0.9  # it learned, the same in all three
    assert report.curves["manual"].test_metric[0] < 0.3  # from a start that guesses
    assert 0.9 < report.mlp <= 1 and 0.9 < report.default_fit <= 1


def test_the_command_line_reports_it(report, monkeypatch):
    monkeypatch.setattr(cnn, "load", problem)
    monkeypatch.setattr(cnn, "verify_cnn", lambda p, progress=None: report)
    out = io.StringIO()
    assert cli.main(["verify", "--dataset", "digits-cnn", "--json"], out=out) == 0
    data = json.loads(out.getvalue())["cnn"]
    assert data["ok"] and len(data["training"]) == 3 and len(data["curves"]["manual"]["train_loss"]) == 3


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--dataset", "digits-cnn", "--dataset", "iris"], "--dataset digits-cnn runs alone"),
        (["--dataset", "digits-cnn", "--epochs", "3"], "--dataset digits-cnn brings its own net"),
    ],
)
def test_flags_that_do_not_apply_are_refused(args, fragment, capsys):
    assert cli.main(["verify", *args], out=io.StringIO()) == 2
    assert fragment in capsys.readouterr().err
