"""``backprop-by-hand check`` and the net pictures, as a user drives them: a file
of theirs, its function, exit 0 when it agrees, 1 when it does not, 2 for bad
usage or for code of theirs that fails (its traceback shown when it raised);
nothing their file does (exit, hang, print, import late) makes the check exit 0
or print anything but the report on stdout."""

import io
import json
import struct
import subprocess
import sys

import pytest

from crosscheck import cli, drawing

from conftest import require

# a user's file: a vectorized backprop in nn.Linear's layout, correct, and one with seed 001's slip
USER_CODE = '''
import sys

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(params, x, y):
    """Samples as rows; W is (n_out, n_in), b is (n_out,); mse summed."""
    W1, b1, W2, b2 = params[0]["W"], params[0]["b"], params[1]["W"], params[1]["b"]
    a1 = sigmoid(x @ W1.T + b1)
    a2 = sigmoid(a1 @ W2.T + b2)
    loss = 0.5 * np.sum((a2 - y) ** 2)
    d2 = (a2 - y) * a2 * (1 - a2)
    d1 = (d2 @ W2) * a1 * (1 - a1)
    return loss, [{"W": d1.T @ x, "b": d1.sum(0)}, {"W": d2.T @ a1, "b": d2.sum(0)}]


def forgets_the_output_derivative(params, x, y):
    W1, b1, W2, b2 = params[0]["W"], params[0]["b"], params[1]["W"], params[1]["b"]
    a1 = sigmoid(x @ W1.T + b1)
    a2 = sigmoid(a1 @ W2.T + b2)
    d2 = (a2 - y) * a2 * (1 - a2)
    d1 = ((a2 - y) @ W2) * a1 * (1 - a1)
    return 0.5 * np.sum((a2 - y) ** 2), [{"W": d1.T @ x, "b": d1.sum(0)}, {"W": d2.T @ a1, "b": d2.sum(0)}]


def raises(params, x, y):
    return {}["no such key"]


def returns_in_the_engines_layout(params, x, y):
    loss, grads = forgets_the_output_derivative(params, x, y)
    return loss, [{"W": g["W"].T, "b": g["b"]} for g in grads]


def exits(params, x, y):
    sys.exit(0)


def hangs(params, x, y):
    while True:
        pass


def chatty(params, x, y):
    print("loss so far:", 0.0)
    return backprop(params, x, y)


def nan_in_w1(params, x, y):
    loss, grads = backprop(params, x, y)
    grads[0]["W"][0, 0] = np.nan
    return loss, grads


def imports_late(params, x, y):
    import mine_helpers  # a file beside this one, imported only when called

    return mine_helpers.backprop(params, x, y)


def asks(params, x, y):
    return float(input("learning rate? ")), None


def with_torch(params, x, y):
    import torch

    loss, grads = backprop(params, x, y)
    tensors = [{k: torch.tensor(v, requires_grad=True) * 1 for k, v in g.items()} for g in grads]
    return torch.tensor(loss), tensors
'''
NET = ["--sizes", "2,3,2", "--seed", "1", "--init", "xavier", "--x", "1,0;0,1;1,1", "--y", "0,1;1,0;1,1"]


def main(*args):
    out = io.StringIO()
    return cli.main(list(args), out=out), out.getvalue()


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(USER_CODE)
    (tmp_path / "mine_helpers.py").write_text("from mine import backprop\n")
    return path


@pytest.fixture
def frameworks():
    require("torch", "jax")


def test_a_correct_function_exits_0(user_file, frameworks):
    code, out = main("check", f"{user_file}:backprop", "--layout", "torch", *NET)
    assert code == 0, out
    assert "your backprop agrees with torch and jax and finite differences" in out


def test_a_wrong_function_exits_1_with_its_diagnosis(user_file, frameworks):
    code, out = main("check", f"{user_file}:forgets_the_output_derivative", "--layout", "torch", *NET)
    assert code == 1
    assert "W1 and b1 differ in every entry, by no common factor; the loss, W2 and b2 agree" in out
    assert (
        "one mistake of the catalogue gives exactly these values: σ′(z₂) left out of the delta sent back "
        "from the output layer to layer 1 (dW₂ keeps it)" in out
    )


def test_without_data_the_check_draws_data_that_shows_every_mistake(user_file, frameworks):
    code, out = main("check", f"{user_file}:backprop", "--layout", "torch", "--sizes", "2,3,2", "--seed", "1")
    assert code == 0 and "batch of 5 (drawn)" in out
    assert "data: 5 samples drawn by the check (x ~ N(0, 1)), on which every mistake" in out


def test_json(user_file, frameworks):
    code, out = main(
        "check", f"{user_file}:forgets_the_output_derivative", "--layout", "torch", *NET, "--json"
    )
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and data["first_layer"] == 1
    assert data["diagnosis"]["verdict"] == "explained" and data["diagnosis"]["off"] == ["W1", "b1"]
    assert [(e["mistake"], e["layer"]) for e in data["diagnosis"]["explained_by"]] == [
        ("derivative-dropped-going-down", 2)
    ]


def test_prints_go_to_stderr_so_json_stays_json(user_file, capsys, frameworks):
    code, out = main("check", f"{user_file}:chatty", "--layout", "torch", *NET, "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    assert "loss so far: 0.0" in capsys.readouterr().err


def test_the_seeds_code_from_the_command_line(frameworks):
    assert main("check", "--example", "seed002")[0] == 0
    code, out = main("check", "--example", "seed001")
    assert code == 1 and "only W1 differs by 4.005x in every entry" in out
    code, out = main("check", "--example", "seed000", "--steps", "50", "--lr", "0.1")
    assert code == 0 and "your training step agrees with torch and jax at every step" in out


def test_the_check_picture_is_written_at_its_size(tmp_path, user_file, frameworks):
    path = tmp_path / "check.png"
    code, _ = main(
        "check", f"{user_file}:forgets_the_output_derivative", "--layout", "torch", *NET, "--plot", str(path)
    )
    assert code == 1
    assert png_size(path) == (
        int(drawing.COLUMN_INCHES * 3 * drawing.DPI),
        int((drawing.ROW_INCHES * 3 + drawing.TOP + drawing.BOTTOM) * drawing.DPI),
    )


def test_the_walkthrough_picture_is_written_at_its_size(tmp_path, frameworks):
    path = tmp_path / "net.png"
    assert main("walkthrough", "--example", "seed002", "--plot", str(path))[0] == 0
    assert png_size(path) == (
        int(drawing.COLUMN_INCHES * 3 * drawing.DPI),
        int((drawing.ROW_INCHES * 2 + drawing.TOP + drawing.BOTTOM) * drawing.DPI),
    )


def png_size(path):
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


# ------------------------------------------------------------------ what a user's code can do


@pytest.mark.parametrize(
    "function, extra, last_line",
    [
        ("raises", [], "raised KeyError: 'no such key'"),
        ("exits", [], "called exit(0): nothing was checked"),
        (
            "hangs",
            ["--timeout", "0.5"],
            "did not return within 0.5 s (the time limit per call; --timeout SECONDS to change it)",
        ),
        ("asks", [], "raised EOFError: EOF when reading a line"),
    ],
)
def test_code_that_fails_exits_2_with_its_own_words(
    user_file, capsys, function, extra, last_line, frameworks
):
    code, out = main("check", f"{user_file}:{function}", "--layout", "torch", *NET, *extra)
    err = capsys.readouterr().err
    assert code == 2 and out == ""
    assert err.strip().splitlines()[-1] == f"backprop-by-hand: error: {user_file}:{function} {last_line}"
    assert "crosscheck/" not in err  # no frame of the harness's


def test_a_function_that_raises_shows_its_own_traceback(user_file, capsys, frameworks):
    main("check", f"{user_file}:raises", *NET)
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and 'return {}["no such key"]' in err


def test_a_file_that_exits_when_run_is_reported_not_passed(tmp_path, capsys):
    path = tmp_path / "notebook.py"
    path.write_text("import numpy as np\nprint('cell 1')\nexit()\n\ndef backprop(params, x, y):\n    pass\n")
    code, out = main("check", f"{path}:backprop", *NET)
    err = capsys.readouterr().err
    assert code == 2 and out == "" and "cell 1" in err
    assert err.strip().splitlines()[-1] == f"backprop-by-hand: error: {path} (when run) called exit(): " \
        "nothing was checked"  # fmt: skip


def test_a_file_that_fails_to_import_shows_its_traceback(tmp_path, capsys):
    path = tmp_path / "broken.py"
    path.write_text("import numpy as np\n\ndef f(params, x, y:\n    return 1\n")
    code, _ = main("check", f"{path}:f", *NET)
    err = capsys.readouterr().err
    assert (
        code == 2 and "SyntaxError" in err and "(when run) raised SyntaxError" in err.strip().splitlines()[-1]
    )


def test_an_import_inside_the_function_finds_the_files_folder(user_file, tmp_path, monkeypatch, frameworks):
    monkeypatch.chdir(tmp_path.parent)
    code, out = main("check", f"{user_file}:imports_late", "--layout", "torch", *NET)
    assert code == 0, out


def test_nan_is_named_from_the_command_line(user_file, frameworks):
    code, out = main("check", f"{user_file}:nan_in_w1", "--layout", "torch", *NET)
    assert code == 1 and "W1 has 1 NaN (of 6 entries) at (0, 0)" in out


def test_torch_tensors_that_require_grad_are_accepted(user_file, frameworks):
    code, out = main("check", f"{user_file}:with_torch", "--layout", "torch", *NET)
    assert code == 0, out


# ------------------------------------------------------------------ bad usage, before anything runs


def bad_usage(tmp_path, user_file):
    weights = tmp_path / "w.npz"
    import numpy as np

    np.savez(weights, W1=np.ones((2, 3)), b1=np.zeros(3), W2=np.ones((3, 2)), b2=np.zeros(2))
    (tmp_path / "notes.txt").write_text("not python\n")
    return [
        (["check", f"{tmp_path}/missing.py:f", *NET], "missing.py: no such file"),
        (["check", f"{user_file}", *NET], "expected FILE.py:FUNCTION"),
        (["check", f"{user_file}:nothing_here", *NET], "no function 'nothing_here' (found: asks, backprop, "),
        (["check", f"{tmp_path}/notes.txt:f", *NET], "notes.txt: expected a Python file ending in .py"),
        (["check", f"{tmp_path}:f", *NET], ": is a directory; expected a Python file"),
        (
            ["check", f"{user_file}:backprop", "--layout", "weights=sideways", *NET],
            "--layout: layout weights=",
        ),
        (
            ["check", f"{user_file}:returns_in_the_engines_layout", "--layout", "torch", *NET],
            "grads: W1 has shape (2, 3), expected (3, 2): that is W in layout weights='in_out'",
        ),
        (["check", f"{user_file}:backprop", "--x", "1,0", "--y", "1,1"], "your function needs a net"),
        (
            ["walkthrough", "--sizes", "2,9,1", "--seed", "0", "--x", "1,0", "--y", "1", "--plot", "p.png"],
            "--plot draws nets of up to 8 units a layer, so that every number has room; "
            "this one has 9 in layer 1",
        ),
        (
            ["walkthrough", "--example", "seed002", "--precision", "-1"],
            "--precision: expected a number of decimals",
        ),
        (
            ["walkthrough", "--example", "seed002", "--plot", str(tmp_path / "out.txt")],
            "expected a file ending in",
        ),
        (["check", "--example", "seed001", "--plot", str(tmp_path / "c.jpeg2")], "expected a file ending in"),
        (
            ["walkthrough", "--sizes", "-1,2", "--seed", "0"],
            "(a value that starts with '-' is written --sizes=VALUE)",
        ),
        (["walkthrough", "--sizes=-1,2", "--seed", "0"], "--sizes: expected at least two positive widths"),
        (["check", f"{user_file}:backprop", *NET[:-4], "--data", str(tmp_path)], "is a directory; expected"),
        (
            [
                "walkthrough",
                "--sizes",
                "2,3,2",
                "--weights",
                str(weights),
                "--no-bias",
                "--x",
                "1,0",
                "--y",
                "1,0",
            ],
            "--no-bias: ",
        ),
        (
            [
                "walkthrough",
                "--sizes",
                "2,3,2",
                "--weights",
                str(weights),
                "--init",
                "he",
                "--x",
                "1,0",
                "--y",
                "1,0",
            ],
            "--init draws weights; --weights",
        ),
        (
            ["check", f"{user_file}:backprop", *NET, "--training", "--steps", "0"],
            "--steps: expected at least 1",
        ),
        (["check", "--example", "seed001", "--sizes", "3,3,3", "--training"], "drop --sizes"),
        (["check", "--example", "seed001", "--training"], "is a backward pass, not a training step"),
        (["check", "--example", "seed002", "--steps", "5"], "go with a training step"),
        (["check", f"{user_file}:backprop", *NET, "--steps", "5"], "--lr and --steps go with --training"),
        (
            ["check", f"{user_file}:backprop", *NET, "--timeout", "0"],
            "--timeout: expected a number of seconds",
        ),
    ]


N_BAD = 23


def test_the_bad_usage_list_is_counted(tmp_path, user_file):
    assert len(bad_usage(tmp_path, user_file)) == N_BAD


@pytest.mark.parametrize("i", range(N_BAD))
def test_bad_usage_is_one_line_and_exit_2(tmp_path, user_file, capsys, i, frameworks):
    args, fragment = bad_usage(tmp_path, user_file)[i]
    code, out = main(*args)
    err = capsys.readouterr().err
    assert code == 2 and out == "", (args, out)
    assert len(err.strip().splitlines()) == 1 and fragment in err, (args, err)


def test_a_pipe_closed_early_ends_quietly():
    proc = subprocess.run(
        f"{sys.executable} -m crosscheck walkthrough --example seed002 | head -1",
        shell=True,
        capture_output=True,
        text=True,
    )
    assert proc.stdout.startswith("walkthrough: seed002") and proc.stdout.count("\n") == 1
    assert proc.stderr == ""


# ------------------------------------------------------------------ the process itself


def run(tmp_path, *args, code):
    path = tmp_path / "hostile.py"
    path.write_text(code)
    return subprocess.run(
        [sys.executable, "-m", "crosscheck", "check", f"{path}:f", *args, "--sizes", "2,3,1", "--seed", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_os_exit_in_the_users_code_is_never_exit_0(tmp_path):
    proc = run(tmp_path, code="import os\n\ndef f(params, x, y):\n    os._exit(0)\n")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "the check ended before it could report (exit status 0)" in proc.stderr


def test_a_loop_that_swallows_every_stop_is_ended(tmp_path):
    code = (
        "def f(params, x, y):\n    while True:\n        try:\n            while True:\n                pass\n"
        "        except:\n            pass\n"
    )
    proc = run(tmp_path, "--timeout", "0.2", code=code)
    assert proc.returncode == 2 and "caught every attempt to stop it; the process ends here" in proc.stderr
    # one sentence: the harness ended it, so no second one blaming the user's code for ending the process
    assert "ended the process" not in proc.stderr and proc.stderr.count("error:") == 1, proc.stderr


def test_output_at_the_file_descriptor_stays_off_the_json(tmp_path, frameworks):
    code = (
        "import os, sys\nimport numpy as np\n\n"
        "def f(params, x, y):\n"
        "    os.system('echo from a shell')\n"
        "    print('to the real stdout', file=sys.__stdout__)\n"
        "    zeros = [{'W': np.zeros((2, 3)), 'b': np.zeros(3)}, {'W': np.zeros((3, 1)), 'b': np.zeros(1)}]\n"
        "    return 0.0, zeros\n"
    )
    proc = run(tmp_path, "--json", code=code)
    data = json.loads(proc.stdout)  # strict JSON, nothing else on stdout
    assert data["ok"] is False and "from a shell" in proc.stderr and "to the real stdout" in proc.stderr


def test_json_is_strict_even_with_nan(user_file, frameworks):
    code, out = main("check", f"{user_file}:nan_in_w1", "--layout", "torch", *NET, "--json")
    assert code == 1 and "NaN" in out
    json.loads(out, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))


@pytest.mark.parametrize("flag", ["--loss", "--activation", "--reduction", "--init"])
def test_an_empty_net_option_is_refused_not_defaulted(user_file, flag, capsys):
    code, _ = main("check", f"{user_file}:backprop", "--sizes", "2,3,2", "--seed", "1", flag, "")
    assert code == 2 and "unknown" in capsys.readouterr().err


def test_float32_data_that_does_not_fit_is_said_so(user_file, capsys):
    code, _ = main("check", f"{user_file}:backprop", "--sizes", "2,3,2", "--seed", "1", "--dtype", "float32",
                   "--x", "1e39,1", "--y", "0,1")  # fmt: skip
    assert code == 2 and "x: 1e+39 at index (0, 0) does not fit float32" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "1"])
def test_a_seed_given_to_an_example_is_refused_even_when_it_is_0(value, capsys):
    """--seed 0 is a flag given, not a default: never silently ignored."""
    code, _ = main("check", "--example", "seed001", "--seed", value)
    assert code == 2 and "drop --seed" in capsys.readouterr().err
