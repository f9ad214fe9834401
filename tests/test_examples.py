"""The seed examples run as a user runs them: python -m manual.examples."""

import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "-m", "manual.examples", *args], capture_output=True, text=True)


def test_seed001_reports_its_wrong_number_and_the_right_one():
    out = run("seed001")
    assert out.returncode == 0, out.stderr
    assert "WRONG Gradient for w1 (input to hidden): printed [ 0.036545, -0.036545], engine [ 0.00912393, -0.00912393]" in out.stdout
    assert "ok    Loss" in out.stdout and "ok    Gradient for w2" in out.stdout


def test_seed002_walkthrough_and_every_claim_ok():
    out = run("seed002")
    assert out.returncode == 0, out.stderr
    assert "WRONG" not in out.stdout
    for piece in ["[[0.525  0.5744]]", "[[0.6473]]", "0.435", "[[-0.3527]]", "[[-0.044  -0.0517]]"]:
        assert piece in out.stdout, piece


def test_seed000_trains_both_datasets_and_says_what_is_wrong_with_the_data():
    out = run("seed000")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("learned the targets: yes") == 2
    assert "The fourth sample is [-1, 1], not [1, 1]" in out.stdout


def test_unknown_example_is_a_usage_error():
    out = run("seed999")
    assert out.returncode == 2 and "usage" in out.stderr
