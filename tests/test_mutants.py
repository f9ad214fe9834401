"""The suite can fail, and says where: every mistake of tests/mutants.py,
planted in the engine one at a time, is caught in float64 (the parity matrix
against PyTorch, finite differences, or the 1,000-step trajectories), and the
failure names the layer. ``python tests/mutants.py`` prints the whole kill table."""

import numpy as np
import pytest

from crosscheck.testing import assert_grads_close

import mutants
from conftest import require
from test_parity import chosen

FLOAT64 = {k: v for k, v in mutants.CHECKS.items() if k != "parity float32"}
MUTANTS = pytest.mark.xdist_group("mutants")  # one worker keeps PyTorch's results for all of them


@MUTANTS
def test_the_engine_as_it_is_passes_every_check():
    require("torch")
    assert all(
        failing == 0 for failing, _ in mutants.caught(mutants.Mutant("none", "", (), ""), FLOAT64).values()
    )


@MUTANTS
@pytest.mark.parametrize("name", [m.name for m in mutants.MUTANTS])
def test_every_planted_mistake_is_caught_in_float64(name):
    require("torch")
    result = mutants.caught(mutants.BY_NAME[name], FLOAT64, stop=True)
    assert any(failing for failing, _ in result.values()), f"{name} survives: {result}"


@MUTANTS
def test_the_failure_names_the_broken_layer(monkeypatch):
    """A sigmoid net with bce: the output delta a - y needs no sigma', so only the
    hidden layer is wrong when its derivative is dropped, and the message says so."""
    require("torch")
    from crosscheck import backends

    _, net, x, y = chosen("sigmoid-bce-sigmoid-sum-f64-b128")
    theirs = backends.loss_and_grads("torch", net, x, y)
    assert net.n_layers >= 2 and net.activations[:-1] == ("sigmoid",) * (net.n_layers - 1)
    mutants.plant(mutants.BY_NAME["hidden derivative dropped"], monkeypatch)
    with pytest.raises(AssertionError) as info:
        assert_grads_close(net, x, y, net.loss_and_grads(x, y), theirs, names=("manual", "torch"))
    message = str(info.value)
    last = net.n_layers
    assert "manual and torch disagree (float64)" in message
    assert f"layer {last - 1} W (W{last - 1}): max abs err" in message and f"layer {last} " not in message


def test_a_mutant_whose_text_is_gone_fails_loudly(monkeypatch):
    gone = mutants.Mutant("gone", "", (("manual.backprop", "no such text", ""),), "")
    with pytest.raises(AssertionError, match="no longer contains"):
        mutants.plant(gone, monkeypatch)
    assert np.isfinite(1.0)


@MUTANTS
@pytest.mark.parametrize("name", [m.name for m, _ in mutants.LAYER_MUTANTS])
def test_every_mistake_planted_in_a_layer_kind_is_caught_in_float64(name):
    require("torch")
    mutant, kinds = mutants.LAYER_BY_NAME[name]
    failing, total = mutants.layer_caught(mutant, kinds)
    assert failing, f"{name} survives all {total} cases of {kinds}"
