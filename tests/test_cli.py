"""The command line, driven as a user drives it: ``crosscheck.cli.main`` with
captured output, and ``python -m crosscheck`` in a subprocess where the process
itself matters (exit status, one line on stderr)."""

import io
import json
import re
import struct
import subprocess
import sys
from importlib.metadata import entry_points

import numpy as np
import pytest

import manual
from crosscheck import backends, cli, examples
from crosscheck.verify import Case
from crosscheck.walkthrough import walkthrough

from conftest import require


def run(*args):
    return subprocess.run([sys.executable, "-m", "crosscheck", *args], capture_output=True, text=True)


def main(*args):
    out = io.StringIO()
    return cli.main(list(args), out=out), out.getvalue()


@pytest.fixture
def frameworks():
    require("torch", "jax")


# ------------------------------------------------------------------ walkthrough


def test_walkthrough_prints_every_quantity_with_its_checks(frameworks):
    code, out = main("walkthrough")  # seed002 by default
    assert code == 0, out
    for piece in [
        "z1 = x @ W1 + b1",
        "a1 = sigmoid(z1)",
        "loss = bce(a2, y), sum: ",
        "delta2 = (a2 - y)",
        "delta1 = (delta2 @ W2.T) * sigmoid'(z1)",
        "dW1 = x.T @ delta1",
        "db1 = sum of delta1",
        "(2, 2)",
    ]:
        assert piece in out, piece
    # beside each of the 4 gradients: finite differences, torch and jax, all agreeing
    assert (
        out.count("  finite differences  ") == 4 and out.count("agrees") == 4 * 3 + 2 + 1
    )  # + the two losses and the summary
    assert re.search(r"loss: manual [0-9.]+, torch [0-9.]+ \(agrees\), jax [0-9.]+ \(agrees\)", out)
    assert "every gradient agrees with finite differences and torch and jax" in out
    # the seed's claims and findings follow
    assert out.count("  ok     ") == len(manual_claims("seed002")) and "findings:" in out


def manual_claims(name):
    return examples.case(name).claims


def test_walkthrough_of_seed001_shows_the_right_w1_gradient_and_the_wrong_claim(frameworks):
    code, out = main("walkthrough", "--example", "seed001", "--precision", "6")
    assert code == 0
    trace = out.split("the seed's printed numbers")[0]
    assert "[[ 0.009124 -0.009124]]" in trace and "0.036545" not in trace
    assert "WRONG  Gradient for w1 (input to hidden): printed [0.036545, -0.036545]" in out


def test_walkthrough_of_a_net_described_on_the_command_line(frameworks):
    code, out = main(
        "walkthrough",
        "--sizes",
        "2,3,1",
        "--activation",
        "tanh",
        "--output-activation",
        "sigmoid",
        "--loss",
        "bce",
        "--seed",
        "3",
        "--init",
        "xavier",
        "--x",
        "1,0;0,1;0.5,0.5",
        "--y",
        "1;0;1",
    )
    assert code == 0, out
    assert "2-3-1 MLP, activations tanh -> sigmoid, loss bce" in out and "batch of 3" in out
    assert "DIFFERS" not in out


def test_walkthrough_with_weights_from_a_file(tmp_path, frameworks):
    # seed 002's weights, in the engine's layout, make seed 002's numbers
    path = tmp_path / "w.npz"
    np.savez(
        path,
        W1=np.array([[0.1, 0.3], [0.2, 0.4]]),
        b1=np.zeros(2),
        W2=np.array([[0.5], [0.6]]),
        b2=np.zeros(1),
    )
    code, out = main(
        "walkthrough",
        "--sizes",
        "2,2,1",
        "--loss",
        "bce",
        "--weights",
        str(path),
        "--x",
        "1,0",
        "--y",
        "1",
        "--json",
    )
    data = json.loads(out)
    assert code == 0 and data["ok"]
    printed = next(c for c in examples.seed002().claims if c.name == "analytic dW2")
    assert np.abs(np.ravel(data["layers"][1]["dW"]) - printed.printed).max() <= printed.tolerance


def test_walkthrough_json(frameworks):
    code, out = main("walkthrough", "--example", "seed002", "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] is True
    assert [sorted(layer) for layer in data["layers"]] == [
        ["a", "activation", "dW", "db", "delta", "jax", "layer", "numeric", "torch", "z"]
    ] * 2
    assert set(data["frameworks_loss"]) == {"torch", "jax"}
    assert np.allclose(data["layers"][1]["torch"]["W"], data["layers"][1]["dW"], rtol=1e-12)


# ------------------------------------------------------------------ verify


def test_verify_reports_seed001s_wrong_number_and_passes(frameworks):
    code, out = main("verify", "--example", "seed001", "--epochs", "100")
    assert code == 0, out
    assert (
        "WRONG  Gradient for w1 (input to hidden): printed [0.036545, -0.036545], right [0.0091239308" in out
    )
    assert "seed001 printed a wrong number" in out
    assert (
        "all agree: the engine's gradients and training runs match finite differences and torch and jax"
        in out
    )
    assert "FAIL" not in out
    for pair in ("manual-torch", "manual-jax", "torch-jax"):
        assert pair in out
    assert out.count("PASS") == 6 + 1 + 3  # 2 frameworks x (loss, W1, W2), gradcheck, 3 pairs


def test_verify_json_has_the_same_results(frameworks):
    code, out = main("verify", "--example", "seed001", "--example", "seed002", "--epochs", "50", "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] is True
    seed001, seed002 = data["reports"]
    assert [c["name"] for c in seed001["claims"] if not c["ok"]] == ["Gradient for w1 (input to hidden)"]
    assert all(c["ok"] for c in seed002["claims"])
    rows = {(g["param"], g["framework"]): g for g in seed002["gradients"]}
    assert set(rows) == {(p, f) for p in ("loss", "W1", "b1", "W2", "b2") for f in ("torch", "jax")}
    assert all(g["max_scaled"] <= g["tolerance"] for g in rows.values())
    assert [p["pair"] for p in seed001["training"]["pairs"]] == ["manual-torch", "manual-jax", "torch-jax"]
    assert seed001["training"]["config"] == "SGD(lr=0.1), 50 epochs, full batch"


@pytest.mark.parametrize("fmt", ["npz", "csv"])
def test_verify_a_users_net_and_data(tmp_path, fmt, frameworks):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((12, 3)), rng.random((12, 2))
    data = tmp_path / f"data.{fmt}"
    if fmt == "npz":
        np.savez(data, x=x, y=y)
    else:
        np.savetxt(data, np.hstack([x, y]), delimiter=",", header="x1,x2,x3,y1,y2", comments="")
    weights = tmp_path / "w.npz"
    np.savez(weights, W1=rng.standard_normal((3, 4)), b1=np.zeros(4), W2=rng.standard_normal((4, 2)))
    code, out = main(
        "verify",
        "--sizes",
        "3,4,2",
        "--activation",
        "relu",
        "--output-activation",
        "identity",
        "--reduction",
        "mean",
        "--weights",
        str(weights),
        "--data",
        str(data),
        "--epochs",
        "40",
        "--optimizer",
        "adam",
        "--lr",
        "0.01",
        "--batch-size",
        "5",
        "--shuffle-seed",
        "2",
    )
    assert code == 0, out
    assert "your net: 3-4-2 net, relu, identity, mse (mean)" in out
    assert "Adam(lr=0.01), 40 epochs, batches of 5 shuffled with seed 2" in out
    assert "b2" not in out  # the file had no b2: layer 2 has no bias


def test_verify_float32_is_judged_against_its_drift_bound(frameworks):
    code, out = main(
        "verify",
        "--sizes",
        "2,8,1",
        "--activation",
        "tanh",
        "--dtype",
        "float32",
        "--seed",
        "1",
        "--init",
        "xavier",
        "--x",
        "1,0;0,1;1,1;0,0",
        "--y",
        "1;1;0;0",
        "--epochs",
        "200",
    )
    assert code == 0, out
    assert "float32" in out and "pass: <= 1.0e-09" not in out


class OffByAPercent:
    """The torch reference, with its W1 gradient 1% too large."""

    def __init__(self, ref):
        self.ref = ref

    def __getattr__(self, name):
        return getattr(self.ref, name)

    def loss_and_grads(self, spec, params, x, y):
        loss, grads = self.ref.loss_and_grads(spec, params, x, y)
        grads[0]["W"] = grads[0]["W"] * 1.01
        return loss, grads


def test_verify_exits_1_and_says_which_gradient_fails_against_which_framework(monkeypatch, frameworks):
    monkeypatch.setitem(backends.REFERENCES, "torch", OffByAPercent(backends.REFERENCES["torch"]))
    code, out = main("verify", "--example", "seed002", "--epochs", "5")
    assert code == 1
    assert "DISAGREEMENT" in out
    rows = {
        line.split()[0]: line
        for line in out.splitlines()
        if line.startswith("    ") and line.split()[0] in ("loss", "W1", "b1", "W2", "b2")
    }
    assert rows["W1"].count("FAIL") == 1 and rows["W1"].index("FAIL") < rows["W1"].index(
        "PASS"
    )  # torch, not jax
    assert all("FAIL" not in rows[p] for p in ("loss", "b1", "W2", "b2"))


def test_verify_plot_is_a_png_of_the_expected_size(tmp_path, frameworks):
    path = tmp_path / "curves.png"
    code, _ = main(
        "verify", "--example", "seed001", "--example", "seed002", "--epochs", "30", "--plot", str(path)
    )
    assert code == 0
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    assert (width, height) == (2 * 500, 700)  # one 5-inch column per net at 100 dpi, 7 inches tall


def test_progress_bar_on_a_terminal_only(monkeypatch, frameworks):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    code, _ = main("verify", "--example", "seed002", "--epochs", "20")
    assert code == 0 and "step" in err.getvalue()
    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    main("verify", "--example", "seed002", "--epochs", "20", "--no-progress")
    assert err.getvalue() == ""


# ------------------------------------------------------------------ bad usage


def bad_usage(tmp_path):
    weights = tmp_path / "w.npz"
    np.savez(weights, W1=np.ones((3, 2)), W2=np.ones((2, 1)))
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 this is not a zip archive at all")
    empty, header, pickled = tmp_path / "empty.csv", tmp_path / "header.csv", tmp_path / "pickled.npz"
    empty.write_text("\n")
    header.write_text("x1,x2,y\n")
    np.savez(pickled, x=np.array([{"a": 1}], dtype=object), y=np.ones((1, 1)))
    return [
        (["verify", "--example", "seed999"], "invalid choice: 'seed999'"),
        (["walkthrough", "--sizes", "2,x,1", "--x", "1,0", "--y", "1"], "--sizes: expected comma-separated"),
        (
            ["walkthrough", "--sizes", "2,2,1", "--weights", str(weights), "--x", "1,0", "--y", "1"],
            "its weights make a 3-2-1 net, --sizes says 2-2-1",
        ),
        (
            [
                "walkthrough",
                "--sizes",
                "2,2,1",
                "--weights",
                str(tmp_path / "missing.npz"),
                "--x",
                "1,0",
                "--y",
                "1",
            ],
            "missing.npz: no such file",
        ),
        (
            ["walkthrough", "--sizes", "2,2,1", "--weights", str(corrupt), "--x", "1,0", "--y", "1"],
            "corrupt.npz: not an .npz archive (a zip of .npy arrays, what np.savez writes)",
        ),
        (
            ["walkthrough", "--sizes", "2,2,1", "--seed", "0", "--data", str(empty)],
            "empty.csv: the file is empty; expected rows of numbers",
        ),
        (
            ["walkthrough", "--sizes", "2,2,1", "--seed", "0", "--data", str(header)],
            "header.csv: has a header line and no rows of numbers",
        ),
        (
            ["walkthrough", "--sizes", "2,2,1", "--seed", "0", "--data", str(pickled)],
            "pickled.npz: holds an array of Python objects, which is never read",
        ),
        (["walkthrough", "--sizes", "2,2,1", "--seed", "0"], "needs data"),
        (
            ["walkthrough", "--sizes", "2,2,1", "--seed", "0", "--x", "1,0,5", "--y", "1"],
            "expected shape (batch, 2)",
        ),
        (
            ["walkthrough", "--sizes", "2,2,1", "--activation", "sigmod", "--x", "1,0", "--y", "1"],
            "unknown activation 'sigmod'",
        ),
        (["verify", "--example", "seed001", "--epochs", "-3"], "epochs"),
        (["walkthrough", "--seed", "3"], "add --sizes"),
        (["bogus"], "invalid choice"),
        (["walkthrough", "--weights", str(weights), "--x", "1,0,0", "--y", "1"], "need --sizes"),
        (
            [
                "walkthrough",
                "--weights",
                str(checkpoint_file(tmp_path)),
                "--dtype",
                "float64",
                "--x",
                "1,0",
                "--y",
                "1",
            ],
            "is a checkpoint of a 2-2-1 net, tanh, sigmoid, bce (mean), float32 net: "
            "dtype float32 in the file, float64",
        ),
        (
            ["verify", "--dataset", "iris", "--lr", "0.1"],
            "--dataset brings its own net, data and training; drop --lr",
        ),
        (["verify", "--dataset", "iris", "--init", "xavier", "--no-bias"], "drop --init, --no-bias"),
        (
            ["verify", "--dataset", "iris", "--optimizer", "adam", "--epochs", "3"],
            "drop --epochs, --optimizer",
        ),
        (["verify", "--dataset", "iris", "--plot", str(tmp_path / "no" / "c.png")], "does not exist"),
        (["verify", "--dataset", "mnist"], "invalid choice: 'mnist'"),
    ]


@pytest.mark.parametrize("i", range(21))
def test_bad_usage_is_one_line_and_exit_2(tmp_path, capsys, i):
    args, fragment = bad_usage(tmp_path)[i]
    code, out = main(*args)
    err = capsys.readouterr().err
    assert code == 2 and out == "", (args, out)
    assert len(err.strip().splitlines()) == 1 and fragment in err, (args, err)


def test_bad_usage_from_the_shell_exits_2_without_a_traceback():
    proc = run("verify", "--example", "seed999")
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert "invalid choice: 'seed999'" in proc.stderr


def test_walkthrough_says_when_it_skips_finite_differences(frameworks):
    net = manual.MLP([150, 150, 1], seed=0, init="xavier")
    case = Case("big", "a 150-150-1 net", net, np.zeros((1, 150)), np.zeros((1, 1)), None)
    result = walkthrough(case)
    assert result.gradcheck is None and result.ok
    assert (
        "  finite differences skipped: 22,801 parameters, above the limit of 20,000 (two forward passes per "
        "parameter)" in result.text()
    )


def test_console_script_is_installed_as_backprop_by_hand():
    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts.get("backprop-by-hand") == "crosscheck.cli:main"


def checkpoint_file(tmp_path):
    """A tanh/bce float32 checkpoint: nothing like the command line's defaults (sigmoid, mse, float64)."""
    net = manual.MLP(
        [2, 2, 1],
        activation="tanh",
        output_activation="sigmoid",
        loss="bce",
        reduction="mean",
        init="xavier",
        seed=4,
        dtype=np.float32,
    )
    path = tmp_path / "ckpt.npz"
    manual.save(path, net)
    return path


def test_a_checkpoint_serves_as_weights_with_its_own_architecture(tmp_path, frameworks):
    path = checkpoint_file(tmp_path)
    code, out = main("walkthrough", "--weights", str(path), "--x", "1,0;0,1", "--y", "1;0", "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"]
    assert [layer["activation"] for layer in data["layers"]] == ["tanh", "sigmoid"]
    assert data["title"] == "2-2-1 net, tanh, sigmoid, bce (mean)"
    net, _ = manual.load(path)
    assert data["loss"] == pytest.approx(
        net.loss(np.array([[1, 0], [0, 1]], np.float32), np.array([[1], [0]], np.float32)), rel=1e-6
    )
    # flags that agree with the checkpoint are accepted
    code, _ = main(
        "walkthrough",
        "--weights",
        str(path),
        "--sizes",
        "2,2,1",
        "--loss",
        "bce",
        "--dtype",
        "float32",
        "--x",
        "1,0",
        "--y",
        "1",
    )
    assert code == 0
