"""The corpus (tests/corpus/): 54 hand-written backprops by other hands, in every
style people write, each checked as its author would check it, from the command
line, with the net its CASE describes and data the check draws. For each, the
verdict and the sentence it must get:

- correct (12): exit 0, in every layout and style, float32 and torch tensors included;
- one mistake of the catalogue (24): exit 1, that mistake named (alone, or beside
  those that coincide with it on the net), and explaining every gradient;
- wrong outside the catalogue (9): exit 1, no mistake named, what is seen said;
- hostile (9): exit, hang, prints, NaN, a raise, a late import, input(), a wrong
  container: the right exit code and the user's own words, never a harness traceback.
"""

import ast
import io
import json
import re
from pathlib import Path

import pytest

import manual
from crosscheck import cli
from crosscheck.check import draw_data

from conftest import require

CORPUS = Path(__file__).resolve().parent / "corpus"
FILES = sorted(CORPUS.glob("user_*.py"))

# file -> the sentence (a fragment of it) the diagnosis must contain, for what the catalogue does not explain
OUTSIDE = {
    "user_37_half_dW1": "only W1 differs by 0.5x in every entry; the loss, W2, b2 and b1 agree",
    "user_38_db2_negated": "only b2 has the opposite sign; the loss, W2, W1 and b1 agree",
    "user_39_returns_float32": (
        "your gradients came as float32 and agree with the truth to float32's precision"
    ),
    "user_40_float32_internal": "agree with the truth to float32's precision, not float64's",
    "user_41_output_deriv_in_hidden": "no single mistake of the catalogue gives these values",
    "user_42_two_mistakes": "no single mistake of the catalogue gives these values",
    "user_43_dropout_backward": "no single mistake of the catalogue gives these values",
    "user_44_bias_wrong_axis": "only b1 differs in every entry, by no common factor",
    "user_45_single_entry_off": "only W1 differs in 1 of 6 entries: (1, 2), by no common factor",
}
# file -> (exit code, a fragment of the last stderr line, or of the report)
HOSTILE = {
    "user_46_notebook_exit": (2, " (when run) called exit(): nothing was checked"),
    "user_47_sys_exit": (2, ":backprop called exit(0): nothing was checked"),
    "user_48_while_true": (2, ":backprop did not return within 1 s (the time limit per call"),
    "user_49_chatty_prints": (0, None),
    "user_50_nan_dW1": (1, "W1 has 3 NaN (of 12 entries) at (0, 0), (1, 0), (2, 0)"),
    "user_51_shape_error": (2, ":backprop raised ValueError: shapes (5,2) and (4,2) not aligned"),
    "user_52_lazy_helper_import": (0, None),
    "user_53_input_prompt": (2, ":backprop raised EOFError: EOF when reading a line"),
    "user_54_wrong_container": (
        2,
        "grads: container='layers' expects a list of {'W': ..., 'b': ...} dicts, got a tuple of ndarray: "
        "that is container='flat'",
    ),
}
# mistakes that give the same loss and gradients on every net of their kind (2 outputs: halving
# the batch × outputs of PyTorch's mean is dropping mse's ½): named together, as they should be
COINCIDE = {"user_24_loss_mean_over_samples": {("mse-without-half", 2)}}


def case_of(path):
    """The file's CASE, read without running the file (some exit when run)."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "CASE":
            return {kw.arg: ast.literal_eval(kw.value) for kw in node.value.keywords}
    raise AssertionError(f"{path.name} has no CASE")


def command(path, case):
    acts = case["activation"] if isinstance(case["activation"], str) else ",".join(case["activation"])
    args = [
        "check", f"{path}:{'step' if case['kind'] == 'step' else 'backprop'}",
        "--sizes", ",".join(map(str, case["sizes"])), "--activation", acts,
        "--output-activation", case["output_activation"], "--loss", case["loss"],
        "--reduction", case["reduction"], "--dtype", case["dtype"], "--seed", "0", "--init", "xavier",
        "--layout", case["layout"], "--timeout", "1", "--json",
    ]  # fmt: skip
    if not case["bias"]:
        args.append("--no-bias")
    if case["kind"] == "step":
        options = {
            k: case[k] for k in ("activation", "output_activation", "loss", "reduction", "bias", "dtype")
        }
        net = manual.MLP(case["sizes"], init="xavier", seed=0, **options)
        x, y = draw_data(net)

        def text(m):
            return ";".join(",".join(repr(float(v)) for v in row) for row in m)

        args += ["--training", "--x", text(x), "--y", text(y), "--lr", "0.1", "--steps", "5"]
    return args


def test_the_corpus_is_what_the_module_says():
    kinds = [case_of(p)["expect"] for p in FILES]
    assert len(FILES) == 54
    assert {k: kinds.count(k) for k in set(kinds)} == {
        "correct": 12,
        "mistake": 24,
        "outside": 9,
        "hostile": 9,
    }
    assert {p.stem for p in FILES if case_of(p)["expect"] == "outside"} == set(OUTSIDE)
    assert {p.stem for p in FILES if case_of(p)["expect"] == "hostile"} == set(HOSTILE)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_each_file_gets_its_verdict_and_its_sentence(path, capsys):
    require("torch", "jax")
    case = case_of(path)
    out = io.StringIO()
    code = cli.main(command(path, case), out=out)
    err = capsys.readouterr().err
    assert "Traceback" not in err or case["expect"] == "hostile", err
    assert not re.search(r'File ".*/crosscheck/', err), f"a harness frame in the report:\n{err}"
    report = json.loads(out.getvalue()) if out.getvalue() else None
    expect = case["expect"]
    if expect == "correct":
        assert code == 0, out.getvalue()
    elif expect == "mistake":
        diagnosis = report["diagnosis"]
        named = {(e["mistake"], e["layer"]) for e in diagnosis["explained_by"]}
        assert code == 1 and diagnosis["verdict"] == "explained", out.getvalue()
        assert tuple(case["mistake"]) in named and named <= {tuple(case["mistake"])} | COINCIDE.get(
            path.stem, set()
        )
    elif expect == "outside":
        diagnosis = report["diagnosis"]
        assert code == 1 and diagnosis["explained_by"] == [], out.getvalue()
        assert any(OUTSIDE[path.stem] in s for s in diagnosis["sentences"]), diagnosis["sentences"]
    else:
        want_code, fragment = HOSTILE[path.stem]
        assert code == want_code, (out.getvalue(), err)
        if code == 2:
            assert out.getvalue() == "" and fragment in err.strip().splitlines()[-1], err
        elif code == 0:
            assert report["ok"] and report["diagnosis"]["verdict"] == "agrees"
        else:
            assert fragment in report["diagnosis"]["sentences"], report
