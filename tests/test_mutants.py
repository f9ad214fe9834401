"""The suite can fail, and says where: mistakes planted in the engine, one at a
time, are caught by the parity matrix (the mutated engine against PyTorch's
cached results), with the failing layer named."""

import functools

import numpy as np
import pytest

from crosscheck import backends
from crosscheck.testing import assert_grads_close
from manual.activations import Sigmoid

from conftest import require
from test_parity import COMBOS, chosen

MUTANTS = {
    # the hidden and output layers forget sigma'(z): the mistake of seed 001, and more
    "sigmoid-derivative-forgotten": (Sigmoid, "derivative", lambda self, a, out: (out.fill(1.0), out)[1]),
}
F64 = [cid for cid, c in COMBOS.items() if c["dtype"] == np.float64]


@functools.cache
def torch_result(cid):
    _, net, x, y = chosen(cid)
    return backends.loss_and_grads("torch", net, x, y)


def first_failure(cids):
    """``(cid, message)`` of the first configuration whose engine gradients part from torch's, or None."""
    for cid in cids:
        _, net, x, y = chosen(cid)
        try:
            assert_grads_close(
                net, x, y, net.loss_and_grads(x, y), torch_result(cid), names=("manual", "torch")
            )
        except AssertionError as err:
            return cid, str(err)
    return None


@pytest.mark.parametrize("name", list(MUTANTS))
def test_a_planted_mistake_fails_the_float64_parity_matrix(name, monkeypatch):
    require("torch")
    assert first_failure(F64) is None  # the engine as it is passes
    target, attr, replacement = MUTANTS[name]
    monkeypatch.setattr(target, attr, replacement)
    caught = first_failure(F64)
    assert caught is not None, f"{name} passes all {len(F64)} float64 configurations"
    cid, message = caught
    assert "manual and torch disagree (float64)" in message and "max abs err" in message


def test_the_failure_names_the_broken_layer(monkeypatch):
    """A sigmoid net with bce: the output delta a - y needs no sigma', so only
    layer 1 (the hidden one) is wrong, and the message says so."""
    require("torch")
    cid = "sigmoid-bce-sigmoid-sum-f64-b128"
    _, net, *_ = chosen(cid)
    assert net.n_layers >= 2 and net.activations[:-1] == ("sigmoid",) * (net.n_layers - 1)
    monkeypatch.setattr(*MUTANTS["sigmoid-derivative-forgotten"])
    _, message = first_failure([cid])
    last = net.n_layers
    assert f"layer {last - 1} W (W{last - 1})" in message and f"layer {last} " not in message
