"""The names' sequence models (crosscheck.sequences): the stream cut into windows as the
module says (hand algebra), and an LSTM and a one-block causal transformer trained a few
steps by the engine, PyTorch and JAX side by side: gradients within their bound, every
step's loss and every epoch's params within the trajectory tolerance, the same losses and
sampled names; the command line's report."""

import functools
import io
import json

import numpy as np
import pytest

from crosscheck import cli, sequences

from conftest import require


def test_the_stream_is_cut_into_windows_of_next_characters():
    stoi = {c: i for i, c in enumerate(".abcdefghijklmnopqrstuvwxyz")}
    x, y = sequences.windows(["ab", "c"], stoi, 2)
    # ".ab.c." -> [0, 1, 2, 0, 3, 0]: windows every 2, each y the next characters of its x
    np.testing.assert_array_equal(x, [[0, 1], [2, 0]])
    np.testing.assert_array_equal(y, [[1, 2], [0, 3]])


@functools.cache
def problem(model):
    """Two epochs of 64 windows (4 steps each): the demo trains on all 1,634."""
    return sequences.load(sequences.Recipe(model=model, epochs=2), train_windows=64)


@pytest.fixture(scope="module", params=sequences.MODELS)
def report(request):
    require("torch", "jax")
    return sequences.verify_sequences(problem(request.param))


def test_the_three_train_side_by_side(report):
    assert report.ok
    assert {name for name, _ in report.training.gradients} == {"torch", "jax"}
    # every gradient array informative: to 1e-6, or, through the transformer's five chained layers
    # whose first-order bound grows to ~1e9 u (docs/layers.md), to 1e-4 for the first block's
    detect = 1e-6 if report.problem.recipe.model == "lstm" else 1e-4
    assert max(report.training.detectable.values()) <= detect
    assert all(max(g for g in gaps if g is not None) <= 1e-12 for _, *gaps, _ in report.training.pairs)
    losses = {name: loss["val"] for name, loss in report.losses.items()}
    assert max(losses.values()) - min(losses.values()) < 1e-12
    assert report.samples["manual"] == report.samples["torch"] == report.samples["jax"]


def test_the_command_line_reports_it(report, monkeypatch):
    name = report.problem.name
    monkeypatch.setattr(sequences, "load", lambda recipe: report.problem)
    monkeypatch.setattr(sequences, "verify_sequences", lambda p, progress=None: report)
    out = io.StringIO()
    assert cli.main(["verify", "--example", name, "--json"], out=out) == 0
    data = json.loads(out.getvalue())["names"]
    assert data["name"] == name and data["ok"] and len(data["training"]) == 3


def test_a_names_model_runs_alone(capsys):
    assert cli.main(["verify", "--example", "names-lstm", "--example", "seed001"], out=io.StringIO()) == 2
    assert "--example names-lstm runs alone" in capsys.readouterr().err
