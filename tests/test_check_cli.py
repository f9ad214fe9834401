"""``backprop-by-hand check`` and the net pictures, as a user drives them: a file
of theirs, its function, exit 0 when it agrees, 1 when it does not, 2 for bad
usage (its traceback shown when their code raises)."""

import io
import json
import struct

import pytest

from crosscheck import cli, drawing

from conftest import require

# a user's file: a vectorized backprop in nn.Linear's layout, correct, and one with seed 001's slip
USER_CODE = '''
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
'''
NET = ["--sizes", "2,3,2", "--seed", "1", "--init", "xavier", "--x", "1,0;0,1;1,1", "--y", "0,1;1,0;1,1"]


def main(*args):
    out = io.StringIO()
    return cli.main(list(args), out=out), out.getvalue()


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(USER_CODE)
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
    assert "from the output down, your gradients first part from the truth at layer 1" in out
    assert "it equals the gradient with σ′(z₂) dropped at the output layer" in out


def test_json(user_file, frameworks):
    code, out = main(
        "check", f"{user_file}:forgets_the_output_derivative", "--layout", "torch", *NET, "--json"
    )
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and data["first_layer"] == 1
    assert [f["param"] for f in data["findings"]] == ["W1", "b1"]
    assert {e["mistake"] for f in data["findings"] for e in f["explanations"]} == {
        "output-derivative-dropped"
    }


def test_the_seeds_code_from_the_command_line(frameworks):
    assert main("check", "--example", "seed002")[0] == 0
    code, out = main("check", "--example", "seed001")
    assert code == 1 and "W1 differs by 4.005x" in out
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


def bad_usage(tmp_path, user_file):
    return [
        (["check", f"{tmp_path}/missing.py:f", *NET], "missing.py: no such file"),
        (["check", f"{user_file}", *NET], "expected FILE.py:FUNCTION"),
        (["check", f"{user_file}:nothing_here", *NET], "no function 'nothing_here' (found: backprop, "),
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
    ]


@pytest.mark.parametrize("i", range(7))
def test_bad_usage_is_one_line_and_exit_2(tmp_path, user_file, capsys, i, frameworks):
    args, fragment = bad_usage(tmp_path, user_file)[i]
    code, out = main(*args)
    err = capsys.readouterr().err
    assert code == 2 and out == "", (args, out)
    assert len(err.strip().splitlines()) == 1 and fragment in err, (args, err)


def test_a_function_that_raises_shows_its_traceback_and_exits_2(user_file, capsys, frameworks):
    code, out = main("check", f"{user_file}:raises", *NET)
    err = capsys.readouterr().err
    assert code == 2 and out == ""
    assert "Traceback (most recent call last)" in err and 'return {}["no such key"]' in err
    assert (
        err.strip().splitlines()[-1]
        == f"backprop-by-hand: error: {user_file}:raises raised KeyError: 'no such key'"
    )


def test_a_file_that_fails_to_import_shows_its_traceback(tmp_path, capsys):
    path = tmp_path / "broken.py"
    path.write_text("import numpy as np\n\ndef f(params, x, y:\n    return 1\n")
    code, _ = main("check", f"{path}:f", *NET)
    err = capsys.readouterr().err
    assert (
        code == 2 and "SyntaxError" in err and "raised SyntaxError when run" in err.strip().splitlines()[-1]
    )
