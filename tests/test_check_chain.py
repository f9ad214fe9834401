"""Checking makemore's chain of intermediates (crosscheck.check_chain): the exercise written
here (tests/makemore_chain.py), its correct hand backward never flagged (float64 and float32,
the xp forward and the PyTorch one), each planted mistake found at the right intermediate with
the missing path, Bessel, the broadcast or the sign named; the scale; names with or without
"d"; functions that raise, exit, hang, print or return NaN; the HTML table."""

import re

import makemore_chain as mc
import numpy as np
import pytest

from crosscheck import check_chain
from crosscheck.chain import ChainCallError, assert_chain_matches
from crosscheck.diagnosis import Quantity, diagnose
from crosscheck.errors import UserCodeError

from conftest import require


@pytest.fixture(scope="module", autouse=True)
def frameworks():
    require("torch", "jax")


@pytest.fixture(scope="module")
def inputs():
    return mc.problem()


def hand(inputs, mistake=None):
    return lambda values: mc.backward(values, inputs["Xb"], inputs["Yb"], mistake)


def torch_inputs(inputs):
    import torch

    return {k: torch.tensor(v) for k, v in inputs.items()}


def test_the_correct_chain_is_not_flagged(inputs):
    report = check_chain(mc.forward, hand(inputs), inputs)
    assert report.ok, report.text()
    assert report.truths == ["torch", "jax"] and report.style == "xp"
    assert report.first_wrong is None and report.findings == []
    assert report.names[-1] == "loss" and [r.name for r in report.rows][:3] == [
        "logprobs",
        "probs",
        "counts_sum_inv",
    ]
    # makemore's dlogit_maxes: mathematically 0, judged on the size of what cancels, not on its own
    row = next(r for r in report.rows if r.name == "logit_maxes")
    assert row.ok and row.approximate
    assert max(r.ratios["torch"] for r in report.rows) < 0.1  # rounding is far inside the scale


def test_the_correct_chain_in_float32_gets_float32s_scale():
    inputs = mc.problem(dtype=np.float32)
    grads = mc.grads(inputs)
    assert all(g.dtype == np.float32 for g in grads.values())
    report = check_chain(mc.forward, grads, inputs)
    assert report.ok, report.text()
    assert report.dtype == np.float32


def test_float32_gradients_of_a_float64_chain_are_precision_not_a_mistake(inputs):
    grads = {k: g.astype(np.float32) for k, g in mc.grads(inputs).items()}
    report = check_chain(mc.forward, grads, inputs)
    assert report.ok, report.text()
    assert any("came as float32: judged to float32's precision" in n for n in report.notes)
    # and a float64 chain's gradients truncated to float32 are beyond float64's scale: the note is earned
    strict = check_chain(mc.forward, {k: g.astype(np.float64) for k, g in grads.items()}, inputs)
    assert not strict.ok


def test_float32_gradients_with_a_mistake_are_said_of_the_forward_not_of_a_net(inputs):
    """A float64 chain whose float32 gradients carry a mistake (the sign): the precision they are
    judged to is said of the forward, which a chain has, not of a net, which it has not."""
    grads = {k: g.astype(np.float32) for k, g in mc.grads(inputs, "sign").items()}
    report = check_chain(mc.forward, grads, inputs)
    assert not report.ok and report.explained_by == ["sign"], report.text()
    line = "your gradients came as float32: judged to float32's precision, the forward being float64"
    assert line in report.findings, report.text()
    assert not re.search(r"\bnet\b", report.text()), report.text()


def test_a_chains_float32_cure_is_the_forwards():
    """The diagnosis's cure for gradients that came as float32 and agree to float32's precision,
    worded for a chain: its forward is float64; no net, no --dtype (check_chain has neither)."""
    truth = np.linspace(-1.0, 1.0, 12)
    mine = truth.astype(np.float32).astype(np.float64) * (1 + 2e-8)
    d = diagnose(
        [Quantity("a", "da", mine, truth, np.abs(truth), "float32")], [], np.float64, subject="chain"
    )
    assert d.verdict == "precision", d.lines
    assert d.lines == [
        "your gradients came as float32 and agree with the truth to float32's precision; the forward is "
        "float64: give it float32 inputs (a float32 forward is judged to float32's precision), or return "
        "float64 arrays"
    ]


@pytest.mark.parametrize("closure", [False, True], ids=["inputs", "closure"])
def test_a_pytorch_forward_as_makemore_writes_it(inputs, closure):
    ti = torch_inputs(inputs)
    if closure:  # makemore's notebook: parameters that require grad, read from the enclosing scope
        for k in ("C", "W1", "b1", "bngain", "bnbias", "W2", "b2"):
            ti[k].requires_grad_(True)

        def forward():
            return mc.forward_torch(**ti)

        intermediates = mc.forward(np, **inputs)  # the parameters are not named here: their d's are left out
        report = check_chain(forward, {k: g for k, g in mc.grads(inputs).items() if k[1:] in intermediates})
        assert len(report.rows) == 19
        assert ti["W1"].grad is None  # the check does not touch the user's tensors' .grad
    else:
        report = check_chain(mc.forward_torch, lambda v: hand(inputs)(_numpy(v)), ti)  # tensors in
    assert report.ok, report.text()
    assert report.style == "torch" and report.truths == ["torch"]


def _numpy(values):
    return {k: v.detach().numpy() for k, v in values.items()}


PLANTED = {
    "bndiff-path": ("bndiff", "missing:bndiff2", "the path through bndiff2 is missing from dbndiff"),
    "counts-path": ("counts", "missing:counts_sum", "the path through counts_sum is missing from dcounts"),
    "bessel": ("bndiff2", "bessel-missing", "Bessel's correction missing in the path through bnvar: 1/8"),
    "broadcast": ("counts_sum_inv", "broadcast-not-summed", "a broadcast not summed back"),
    "sign": ("logprobs", "sign", "dlogprobs has the wrong sign"),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mistake", list(PLANTED))
def test_a_planted_mistake_is_found_where_it_is_and_named(mistake, dtype):
    where, key, text = PLANTED[mistake]
    inputs = mc.problem(dtype=dtype)
    report = check_chain(mc.forward, hand(inputs, mistake), inputs)
    assert not report.ok
    assert report.first_wrong == where, report.text()
    first = [r.name for r in report.rows].index(where)
    assert all(r.ok for r in report.rows[:first])  # everything after it is right
    assert report.findings[0].startswith(f"the first wrong gradient walking back from the loss is d{where}")
    assert any(text in line for line in report.findings), report.text()
    assert report.explained_by == [key]


def test_a_second_mistake_that_does_not_follow_from_the_first_is_said_and_named(inputs):
    # dbndiff misses a path, and db2 comes unsummed (N, V): db2 is made from dlogits alone, which is
    # right, so its error cannot follow from dbndiff's; both are named, and db2 is not among the followers
    grads = mc.grads(inputs, "bndiff-path")
    grads["db2"] = mc.grads(inputs)["dlogits"]
    report = check_chain(mc.forward, grads, inputs)
    assert report.first_wrong == "bndiff"
    text = report.text()
    following = next(x for x in report.findings if "as what follows from" in x)
    assert "db2" not in following and "the 5 gradients" in following, text  # dhprebn ... dC, not db2
    assert any(
        x.startswith("db2 is wrong too, and not as a consequence") and "(dlogits) is right" in x
        for x in report.findings
    ), text
    assert any("a broadcast not summed back" in x and "db2.sum(0)" in x for x in report.findings), text
    assert report.explained_by == ["missing:bndiff2", "broadcast-not-summed"]


def test_the_consumers_of_a_shared_tensor_are_found(inputs):
    report = check_chain(mc.forward, hand(inputs), inputs)
    assert report.consumers["bndiff"] == ["bndiff2", "bnraw"]
    assert report.consumers["counts"] == ["counts_sum", "probs"]
    assert report.consumers["counts_sum_inv"] == ["probs"]
    assert report.consumers["logits"] == ["logit_maxes", "norm_logits"]


def test_the_broadcast_says_whether_summing_it_would_be_right(inputs):
    grads = mc.grads(inputs)
    grads["dcounts_sum_inv"] = np.repeat(grads["dcounts_sum_inv"], 27, axis=1) * 2
    report = check_chain(mc.forward, grads, inputs)
    assert report.first_wrong == "counts_sum_inv"
    assert any("summed so, yours still differs" in line for line in report.findings)
    assert report.explained_by == []  # summed, it is still wrong: not what the broadcast explains


def test_a_bias_gradient_not_summed_over_the_batch_is_a_broadcast(inputs):
    grads = mc.grads(inputs)
    v = {**inputs, **mc.forward(np, **inputs)}
    top = np.zeros_like(v["logits"])
    top[np.arange(8), v["logits"].argmax(1)] = 1
    grads["db2"] = grads["dnorm_logits"] + top * grads["dlogit_maxes"]  # dlogits, not summed
    report = check_chain(mc.forward, {k: grads[k] for k in ("dlogits", "db2")}, inputs)
    assert report.first_wrong == "b2"
    assert any(
        "a broadcast not summed back" in x and "db2.sum(0)" in x and "yours is right" in x
        for x in report.findings
    )
    assert report.explained_by == ["broadcast-not-summed"]


def test_the_scale_sees_a_difference_far_below_any_mistake(inputs):
    grads = mc.grads(inputs)
    grads["dbndiff"] = grads["dbndiff"] * (1 + 1e-9)
    report = check_chain(mc.forward, grads, inputs)
    assert report.first_wrong == "bndiff" and report.explained_by == []
    assert report.diagnosis.verdict == "close", report.text()


def test_an_xp_forward_that_uses_numpy_itself_is_told_so(inputs):
    def numpy_inside(xp, **kw):
        out = mc.forward(xp, **kw)
        out["h"] = np.tanh(out["h"])
        return out

    with pytest.raises(
        UserCodeError, match="with xp = torch: an xp forward runs with NumPy, PyTorch and jax.numpy"
    ):
        check_chain(numpy_inside, {}, inputs)


def test_an_xp_forward_that_fails_under_numpy_too_is_not_blamed_on_the_namespace(inputs):
    def typo(xp, **kw):
        out = mc.forward(xp, **kw)
        out["h"] = xp.tanh(hpreact)  # noqa: F821 -- the typo: a name never defined
        return out

    with pytest.raises(UserCodeError, match="raised NameError") as err:
        check_chain(typo, {}, inputs)
    assert "with xp = torch" not in str(err.value) and "xp's functions" not in str(err.value)
    assert "with xp = numpy as well" in str(err.value)


def test_an_unexplained_difference_is_said_so(inputs):
    grads = mc.grads(inputs)
    grads["dh"] = grads["dh"] + 0.01 * np.random.default_rng(1).standard_normal(grads["dh"].shape)
    report = check_chain(mc.forward, {k: grads[k] for k in ("dlogprobs", "dlogits", "dh")}, inputs)
    assert report.first_wrong == "h" and report.explained_by == []
    assert any("no single mistake of the catalogue" in line for line in report.findings)


def test_names_with_or_without_d_and_a_subset(inputs):
    grads = mc.grads(inputs)
    report = check_chain(mc.forward, {"logprobs": grads["dlogprobs"], "dbndiff": grads["dbndiff"]}, inputs)
    assert report.ok and [r.name for r in report.rows] == ["logprobs", "bndiff"]
    with pytest.raises(ChainCallError, match="'dXb' is none of your forward's names"):
        check_chain(mc.forward, {"dXb": grads["dC"]}, inputs)


def test_assert_chain_matches_carries_the_report(inputs):
    with pytest.raises(AssertionError, match="first wrong gradient walking back from the loss is dlogprobs"):
        assert_chain_matches(mc.forward, hand(inputs, "sign"), inputs)


# ------------------------------------------------------------------ code that misbehaves


def test_a_forward_that_raises_exits_or_hangs_is_a_sentence(inputs):
    def raises(xp, **kw):
        raise KeyError("W3")

    def exits(xp, **kw):
        raise SystemExit(3)

    def hangs(xp, **kw):
        while True:
            pass

    with pytest.raises(UserCodeError, match="raised KeyError"):
        check_chain(raises, {}, inputs)
    with pytest.raises(UserCodeError, match=r"called exit\(3\)"):
        check_chain(exits, {}, inputs)
    with pytest.raises(UserCodeError, match="did not return within 0.5 s") as err:
        check_chain(hangs, {}, inputs, timeout=0.5)
    assert err.value.kind == "timed out"


def test_a_forward_that_prints_still_reports(inputs, capsys):
    def chatty(xp, **kw):
        print("hello from the forward")
        return mc.forward(xp, **kw)

    report = check_chain(chatty, hand(inputs), inputs)
    assert report.ok
    assert "hello from the forward" in capsys.readouterr().err


def test_nan_in_the_forward_or_the_gradients(inputs):
    def nan_forward(xp, **kw):
        out = mc.forward(xp, **kw)
        out["probs"] = out["probs"] * float("nan")
        out["loss"] = out["loss"] * float("nan")
        return out

    with pytest.raises(ChainCallError, match="your forward's probs has 216 non-finite entries"):
        check_chain(nan_forward, {}, inputs)
    grads = mc.grads(inputs)
    grads["dprobs"][0, 0] = np.nan
    report = check_chain(mc.forward, grads, inputs)
    assert report.first_wrong == "probs"
    assert any("dprobs has 1 NaN" in line for line in report.findings)


def test_wrong_returns_are_a_sentence(inputs):
    with pytest.raises(ChainCallError, match="returned a tuple of 2 items; expected a dict"):
        check_chain(lambda xp, **kw: (1, 2), {}, inputs)
    with pytest.raises(ChainCallError, match="expected the loss, a number, last"):
        check_chain(lambda xp, **kw: {"h": mc.forward(xp, **kw)["h"]}, {}, inputs)
    with pytest.raises(ChainCallError, match="returned None; expected a dict of gradients"):
        check_chain(mc.forward, lambda v: None, inputs)
    with pytest.raises(UserCodeError, match="raised ZeroDivisionError"):
        check_chain(mc.forward, lambda v: 1 / 0, inputs)


def test_a_pytorch_forward_whose_loss_needs_no_gradient_is_told_so(inputs):
    ti = torch_inputs(inputs)  # not passed as inputs, so nothing requires grad

    with pytest.raises(ChainCallError, match="loss does not require grad: its parameters must be tensors"):
        check_chain(lambda: mc.forward_torch(**ti), mc.grads(inputs))
    with pytest.raises(ChainCallError, match="grads is an empty dict"):
        check_chain(mc.forward, {}, inputs)


def test_the_report_renders_as_an_html_table(inputs):
    report = check_chain(mc.forward, hand(inputs, "bndiff-path"), inputs)
    page = report._repr_html_()
    assert page.startswith("<div>") and "<table>" in page and page.count("<tr") == len(report.rows) + 1
    assert "<code>dbndiff</code>" in page and "background:#fdd" in page
    assert "the path through bndiff2 is missing" in page
    assert report.to_json()["first_wrong"] == "bndiff"
