"""The makemore-style names model (crosscheck.makemore): the census names as the module
says, and one epoch trained by the engine, PyTorch and JAX side by side: gradients within
their bound, every step's loss and every epoch's params within the trajectory tolerance,
the same losses, the same sampled names; the command line's report."""

import functools
import io
import json

import numpy as np
import pytest

from crosscheck import cli, makemore

from conftest import require


@functools.cache
def problem():
    """One epoch over the first 6,400 training examples (200 steps): the demo runs them all."""
    return makemore.load(makemore.Recipe(epochs=1), train_examples=6_400)


@functools.cache
def whole():
    return makemore.load(makemore.Recipe(epochs=1))


@pytest.fixture(scope="module")
def report():
    require("torch", "jax")
    return makemore.verify_names(problem())


def test_the_names_are_the_census_lists():
    p = whole()
    assert p.entries == 5_494 and len(p.words) == 5_163 and p.chars == [".", *"abcdefghijklmnopqrstuvwxyz"]
    # every name gives one example per letter and one for its end
    n1 = int(0.8 * len(p.words))
    assert len(p.x_train) == sum(len(w) + 1 for w in p.words[:n1]) == 28_911
    assert p.x_train.dtype == np.int64 and p.x_train.shape[1] == 3 and p.y_train.max() < 27


def test_the_three_train_side_by_side(report):
    assert report.ok
    assert {name for name, _ in report.gradients} == {"torch", "jax"}
    assert max(report.detectable.values()) <= 1e-6  # every gradient array is informative
    assert [pair for pair, *_ in report.pairs] == ["manual-torch", "manual-jax", "torch-jax"]
    assert all(max(gaps) <= 1e-12 for _, *gaps, _ in report.pairs)
    losses = {name: loss["val"] for name, loss in report.losses.items()}
    assert max(losses.values()) - min(losses.values()) < 1e-12
    assert losses["manual"] < np.log(27) - 0.6  # it learned: 3.30 for uniform guesses
    assert report.samples["manual"] == report.samples["torch"] == report.samples["jax"]
    assert len(report.samples["manual"]) == 12 and all(name.isalpha() for name in report.samples["manual"])


def test_the_command_line_reports_it(report, monkeypatch):
    monkeypatch.setattr(makemore, "load", problem)
    out = io.StringIO()
    assert cli.main(["verify", "--example", "names", "--json"], out=out) == 0
    data = json.loads(out.getvalue())["names"]
    assert data["names"] == 5_163 and data["ok"] and len(data["training"]) == 3


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--example", "names", "--example", "seed001"], "--example names runs alone"),
        (
            ["--example", "names", "--lr", "0.5"],
            "--example names brings its own net, data and training; drop --lr",
        ),
    ],
)
def test_flags_that_do_not_apply_are_refused(args, fragment, capsys):
    assert cli.main(["verify", *args], out=io.StringIO()) == 2
    assert fragment in capsys.readouterr().err
