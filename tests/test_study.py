"""backprop-by-hand study xor: what it reports is what the vmapped JAX reference's
runs of the same starts say, worked out here by hand from their snapshots."""

import io
import json
import struct
from contextlib import contextmanager

import numpy as np
import pytest

import manual
from crosscheck import cli, study, study_cluster
from references import jax_ref

from conftest import require

NETS, LRS, EPOCHS, EVERY = 12, (1.0, 2.0), 800, 10


def main(*args):
    out = io.StringIO()
    return cli.main(list(args), out=out), out.getvalue()


def outputs_by_hand(params, x):
    """Every net's outputs ``(N, 4)``: sigmoid(sigmoid(x W1 + b1) W2 + b2), nets first."""
    h = 1 / (1 + np.exp(-(np.einsum("bi,nij->nbj", x, params[0]["W"]) + params[0]["b"][:, None, :])))
    return (1 / (1 + np.exp(-(np.einsum("nbi,nij->nbj", h, params[1]["W"]) + params[1]["b"][:, None, :]))))[
        ..., 0
    ]


@pytest.mark.parametrize("data", ["xor", "as_written"])
def test_the_study_reports_what_the_reference_runs_show(data):
    require("jax")
    result = study_cluster.run(study.define((data,), lrs=LRS, nets=NETS, epochs=EPOCHS, check_every=EVERY))
    # the same starts (MLP(seed=i) draws), every one at every rate, trained by jax.vmap
    starts = [manual.MLP([2, 2, 1], seed=i).params for i in range(NETS)] * len(LRS)
    stacked = [{k: np.stack([s[l][k] for s in starts]) for k in ("W", "b")} for l in range(2)]
    spec = manual.MLP([2, 2, 1]).spec()
    x, y = study.DATA[data], study.TARGETS
    run = jax_ref.ensemble_train(
        spec, stacked, x, y, np.repeat(LRS, NETS), [np.arange(4)] * EPOCHS, record_every=EVERY
    )
    right = {
        step: ((outputs_by_hand(p, x) > 0.5) == (y[:, 0] > 0.5)).all(axis=1)
        for step, p in run.snapshots
        if step
    }
    final_out = outputs_by_hand(run.params, x)
    final_loss = 0.5 * ((final_out - y[:, 0]) ** 2).sum(axis=1)
    for r, row in enumerate(result.rows):
        nets = slice(r * NETS, (r + 1) * NETS)
        learned = right[EPOCHS][nets]
        assert (row.data, row.lr, row.nets, row.learned) == (data, LRS[r], NETS, int(learned.sum()))
        np.testing.assert_allclose(row.final_loss, np.quantile(final_loss[nets], study.QUANTILES), rtol=1e-9)
        # the first check from which on every output stayed right
        first = []
        for k in np.flatnonzero(learned):
            steps = sorted(right)
            wrong = [s for s in steps if not right[s][nets][k]]
            first.append(min(s for s in steps if s > max(wrong, default=0)))
        if first:
            assert row.epochs_to_learn == (np.median(first), np.quantile(first, 0.9))
        else:
            assert row.epochs_to_learn is None
    # informative: some starts learn and some do not (xor), or all learn at different speeds
    fractions = [row.fraction for row in result.rows]
    assert (0 < min(fractions) < 1) if data == "xor" else fractions == [1.0, 1.0]
    assert len({row.epochs_to_learn for row in result.rows}) == len(LRS)


def test_the_command_prints_a_table_and_json(tmp_path):
    args = ["study", "xor", "--nets", "6", "--lr", "0.5,2", "--epochs", "300", "--init", "uniform,xavier"]
    code, text = main(*args)
    assert code == 0
    assert "6 starts per learning rate, 300 epochs" in text
    assert len([line for line in text.splitlines() if line.strip().startswith(("xor", "as_written"))]) == 8
    code, raw = main(*args, "--json", "--plot", str(tmp_path / "s.png"))
    data = json.loads(raw)
    assert code == 0 and data["nets"] == 6 and len(data["rows"]) == 2 * 2 * 2
    assert {(r["data"], r["init"], r["lr"]) for r in data["rows"]} == {
        (d, i, lr) for d in ("xor", "as_written") for i in ("uniform", "xavier") for lr in (0.5, 2.0)
    }
    head = (tmp_path / "s.png").read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24]) == (1200, 480)


def write_study_files(folder):
    """The data files the bad-usage cases name as {tmp}/NAME."""
    texts = {
        "empty.csv": "",
        "blank.csv": "\n  \n",
        "ragged.csv": "1,2,3\n4,5\n",
        "ragged_after_header.csv": "x1,x2,y\n0,0,0\n\n1,1\n",
        "header_only.csv": "x1,x2,y\n",
        "word.csv": "x1,x2,y\n0,0,0\n0,a,1\n",
        "notnpz.npz": "hello",
        "reg.csv": "0,0.5\n1,2\n",
        "soft.csv": "0,0,1,0,0\n0,1,0.5,0.5,0\n",
        "easy.csv": "0,0,0\n1,1,1\n",
        "three.csv": "0,0,0\n1,0,1\n0,1,2\n",
    }
    for name, text in texts.items():
        (folder / name).write_text(text)
    np.savez(folder / "objects.npz", x=np.array([{"a": 1}], dtype=object), y=np.ones((1, 1)))
    np.savez(folder / "reg.npz", x=np.array([[0.0], [1.0]]), y=np.array([[0.5], [-1.0]]))


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["xor", "--nets", "0"], "--nets: expected a count >= 1, got 0"),
        (["xor", "--lr", "0.1,x"], "--lr: expected comma-separated numbers, got '0.1,x'"),
        (["xor", "--lr", "0.1,-1"], "--lr: expected positive learning rates, got [0.1, -1.0]"),
        (["xor", "--lr", "0.1,0.1"], "--lr: a learning rate is given twice"),
        (["xor", "--init", "uniform,gaussian"], "--init: expected distinct names from uniform, xavier, he"),
        (["--data", "xnor"], "--data xnor: expected xor, as_written, or a .npz or .csv file; no such file"),
        (["xor", "--epochs", "0"], "--epochs: expected a count >= 1, got 0"),
        (["xor", "--check-every", "0"], "--check-every: expected a count >= 1"),
        (["xor", "--plot", "/no/such/dir/s.png"], "directory /no/such/dir does not exist"),
        # the csv reader verify uses: no NumPy warning or advice, the line that is wrong
        (
            ["--data", "{tmp}/empty.csv"],
            "--data {tmp}/empty.csv: the file is empty; expected rows of numbers",
        ),
        (["--data", "{tmp}/blank.csv"], "--data {tmp}/blank.csv: the file is empty"),
        (["--data", "{tmp}/ragged.csv"], "ragged.csv: line 2 has 2 columns, expected 3 as on line 1"),
        (["--data", "{tmp}/ragged_after_header.csv"], "line 4 has 2 columns, expected 3 as on line 2"),
        (["--data", "{tmp}/header_only.csv"], "header_only.csv: has a header line and no rows of numbers"),
        (
            ["--data", "{tmp}/word.csv"],
            "word.csv: could not read numbers from it: line 3, column 2: 'a' is not a number",
        ),
        # verify's .npz reader: a file that is no zip is said so, never "load it unsafely"
        (
            ["--data", "{tmp}/notnpz.npz"],
            "--data {tmp}/notnpz.npz: not an .npz archive (a zip of .npy arrays",
        ),
        (
            ["--data", "{tmp}/objects.npz"],
            "objects.npz: holds an array of Python objects, which is never read",
        ),
        # targets the loss cannot take, refused before anything is trained
        (
            ["--data", "{tmp}/reg.csv", "--sizes", "1,4,1", "--loss", "bce", "--success", "loss<=1"],
            "--data {tmp}/reg.csv: expected targets in [0, 1] for --loss bce, got 2 on line 2",
        ),
        (
            ["--data", "{tmp}/reg.npz", "--sizes", "1,4,1", "--loss", "bce", "--success", "loss<=1"],
            "--data {tmp}/reg.npz: expected targets in [0, 1] for --loss bce, got -1 at y[1, 0]",
        ),
        (
            [
                "--data",
                "{tmp}/soft.csv",
                "--sizes",
                "2,4,3",
                "--loss",
                "cross_entropy",
                "--success",
                "loss<=1",
            ],
            "--data {tmp}/soft.csv: expected one-hot target rows (one 1, the rest 0) or one column of class "
            "labels 0..2 for --loss cross_entropy, got 0.5, 0.5, 0 on line 2",
        ),
        # one output is no class distribution; with labels 0..2 that is the first thing to say
        (
            ["--data", "{tmp}/easy.csv", "--sizes", "2,4,1", "--loss", "cross_entropy"],
            "--sizes 2,4,1 with --loss cross_entropy: expected 2 or more outputs (one per class), got 1",
        ),
        (
            ["--data", "{tmp}/three.csv", "--sizes", "2,4,1", "--loss", "cross_entropy"],
            "--sizes 2,4,1 with --loss cross_entropy: expected 2 or more outputs (one per class), got 1",
        ),
        # one hidden activation; the output's named as the command line sets it
        (
            ["--activation", "relu,tanh"],
            "--activation: expected one hidden activation, one of sigmoid, tanh, relu, leaky_relu, identity, "
            "got 'relu,tanh'",
        ),
        (
            ["--output-activation", "bogus"],
            "--output-activation: expected one of sigmoid, tanh, relu, leaky_relu, identity, softmax, "
            "got 'bogus'",
        ),
        (
            ["--data", "{tmp}/easy.csv", "--sizes", "2,4,1", "--loss", "bce", "--output-activation", "relu"],
            "--loss bce: expected a sigmoid output layer, got --output-activation relu; "
            "pass --output-activation sigmoid, or leave it out",
        ),
        (
            [
                "--data",
                "{tmp}/easy.csv",
                "--sizes",
                "2,4,2",
                "--loss",
                "cross_entropy",
                "--output-activation",
                "tanh",
            ],
            "--loss cross_entropy: expected a softmax output layer, got --output-activation tanh; "
            "pass --output-activation softmax, or leave it out",
        ),
        # study xor is seed 000's net, data and rule: a flag that changes them is refused, not dropped
        # (--nets 1 --epochs 1: what ran them before, a moment)
        (
            ["xor", "--loss", "bce", "--nets", "1", "--epochs", "1"],
            "study xor is seed 000's net, data and loop (2-2-1 sigmoid, summed mse, on xor and as_written, "
            "learned = right-side); drop --loss bce (or drop xor, to study a net or data of your own)",
        ),
        (
            ["xor", "--data", "{tmp}/easy.csv", "--sizes", "2,4,1", "--nets", "1", "--epochs", "1"],
            "drop --sizes 2,4,1, --data {tmp}/easy.csv (or drop xor",
        ),
        (["xor", "--data", "xnor", "--nets", "1", "--epochs", "1"], "drop --data xnor (or drop xor"),
        (
            ["xor", "--success", "loss<=0.1", "--activation", "tanh", "--nets", "1", "--epochs", "1"],
            "drop --activation tanh, --success loss<=0.1 (",
        ),
    ],
)
def test_bad_study_arguments_are_one_line_and_exit_2(args, fragment, tmp_path, capsys):
    write_study_files(tmp_path)
    code, out = main("study", *(a.format(tmp=tmp_path) for a in args))
    err = capsys.readouterr().err
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert fragment.format(tmp=tmp_path) in err, err
    assert not any(advice in err for advice in ("allow_pickle", "usecols", "Traceback")), err


def test_study_xor_takes_its_own_settings_restated_and_the_grid():
    args = ["--sizes", "2,2,1", "--loss", "mse", "--success", "right-side", "--output-activation", "sigmoid"]
    code, text = main("study", "xor", "--data", "xor", *args, "--nets", "2", "--epochs", "10", "--lr", "1")
    assert code == 0 and text.startswith("XOR study: 2 starts per learning rate, 10 epochs"), text


def hand_study(losses=(0.1,), diverged=(0,), sizes=((2, 2, 1),), scales=(1.0,), finite_through=0):
    """A merged study of 4 starts, 100 epochs, written by hand: per rate (1, 2, ...) every final
    loss and loss quantile ``losses[r]`` (inf: diverged; 1.0 up to epoch ``finite_through``
    for those), ``diverged[r]`` starts diverged, in every cell."""
    lrs = tuple(float(r + 1) for r in range(len(losses)))
    d = study.define(("xor",), sizes=sizes, scales=scales, lrs=lrs, nets=4, epochs=100)
    at = d.curve_epochs()
    bands = np.array(losses)[None, :, None] * np.ones((len(at), len(lrs), len(study.QUANTILES)))
    bands[at <= finite_through] = np.where(
        np.isinf(bands[at <= finite_through]), 1.0, bands[at <= finite_through]
    )
    rows, curves = [], []
    for _, size, init, scale in d.cells():
        for lr, loss, lost in zip(lrs, losses, diverged):
            rows.append(study.StudyRow("xor", init, lr, 4, 0, (loss,) * 5, None, lost, size, scale))
        curves.append(study.Curves("xor", init, lrs, at, bands, size, scale))
    return study.Study(4, 100, 10, rows, curves, d)


def drawn(result, tmp_path, monkeypatch):
    """The loss panel of the figure ``study.plot`` saves."""
    import matplotlib.figure

    kept = []
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda self, *a, **k: kept.append(self))
    study.plot(result, tmp_path / "s.png")
    return kept[0].axes[1]


@pytest.mark.parametrize(
    "finite_through, note",
    [
        (0, "every start diverged: no finite loss"),  # not one: matplotlib had no log axis to draw
        (1, "every start diverged: no finite loss after epoch 1"),  # the first epoch's, then inf
    ],
)
def test_the_loss_panel_says_when_every_start_diverged(finite_through, note, tmp_path, monkeypatch):
    panel = drawn(hand_study((np.inf,), (4,), finite_through=finite_through), tmp_path, monkeypatch)
    assert [t.get_text() for t in panel.texts] == [note]
    assert panel.get_xlim() == (1, 100)  # the run's epochs, not an empty log axis's 0.1 to 10


def test_the_loss_panel_names_a_rate_whose_every_start_diverged(tmp_path, monkeypatch):
    panel = drawn(hand_study((0.1, np.inf), (0, 4), finite_through=1), tmp_path, monkeypatch)
    assert [t.get_text() for t in panel.get_legend().get_texts()] == ["lr 1", "lr 2: every start diverged"]
    assert len(panel.texts) == 0 and panel.get_xlim() == (1, 100)


def test_the_loss_panel_says_when_no_loss_is_on_its_scale(tmp_path, monkeypatch):
    panel = drawn(hand_study((0.0,)), tmp_path, monkeypatch)  # every loss below 1e-16: the quantiles 0
    assert [t.get_text() for t in panel.texts] == ["every loss below 1e-16: nothing to draw on a log scale"]


@pytest.mark.parametrize(
    "sizes, scales, title",
    [
        (((2, 3, 1), (2, 4, 1)), (1.0,), "xor, 2-3-1, uniform"),
        (((2, 2, 1),), (1.0, 2.0), "xor, uniform, scale 1"),
        (((2, 2, 1),), (1.0,), "xor, uniform"),
    ],
)
def test_the_loss_panel_names_its_cell_as_the_legend_does(sizes, scales, title, tmp_path, monkeypatch):
    panel = drawn(hand_study(sizes=sizes, scales=scales), tmp_path, monkeypatch)
    assert panel.get_title() == f"{title}\nmedian, 25-75% and 5-95% of starts"


def test_the_tables_columns_are_as_wide_as_the_longest_name(tmp_path):
    (tmp_path / "three_onehot.csv").write_text("0,0,0\n0,1,1\n1,0,1\n1,1,0\n")  # 12 letters; 2-100-100-1: 11
    data = f"xor,{tmp_path / 'three_onehot.csv'}"
    code, text = main(
        "study", "--data", data, "--sizes", "2,2,1", "2,100,100,1", "--nets", "2", "--epochs", "5"
    )
    lines = text.splitlines()
    head = next(line for line in lines if line.split()[:1] == ["data"])
    rows = [line for line in lines if line.split()[:1] in (["xor"], ["three_onehot"])]
    assert code == 0 and len(rows) == 2 * 2 * 5
    for row in rows:  # every column begins under its heading, one space or more after the last
        assert row[head.index("sizes") - 1 :].startswith(" 2-"), row
        assert row[head.index("init") - 1 :].startswith(" uniform"), row


def test_fewer_chunks_than_workers_is_said_once_on_the_command_line(monkeypatch, capsys):
    @contextmanager
    def cluster(workers=None, scheduler=None, say=None):  # says what a LocalCluster says; runs here
        if say is not None:
            say(f"running on a Dask LocalCluster of {workers} worker processes")
        yield study_cluster.InProcess()

    monkeypatch.setattr(study_cluster, "executor", cluster)
    args = ["study", "--data", "xor", "--lr", "1", "--nets", "10", "--epochs", "5", "--workers", "2"]
    # 10 starts at one rate: one chunk (the default is 10,400 starts); 5 a chunk make two
    assert main(*args)[0] == 0
    assert capsys.readouterr().err.splitlines() == [
        "running on a Dask LocalCluster of 2 worker processes",
        "note: 1 chunk for 2 workers: 1 worker will have nothing to do; --chunk 5 makes 2 chunks",
    ]
    assert main(*args, "--chunk", "5")[0] == 0
    assert capsys.readouterr().err.splitlines() == ["running on a Dask LocalCluster of 2 worker processes"]
    # the Python API says only where it runs
    said = []
    study_cluster.run(study.define(("xor",), lrs=(1.0,), nets=10, epochs=5), workers=2, say=said.append)
    assert said == ["running on a Dask LocalCluster of 2 worker processes"]


@pytest.mark.parametrize(
    "nets, cells, workers, chunk",
    # the largest --chunk that gives every worker one: ceil(nets / ceil(workers / cells)), smaller
    # while that is too few (5 starts cannot be 4 chunks of 2: 3); none with fewer starts than workers
    [(10, 1, 2, 5), (10_000, 1, 3, 3_334), (10, 2, 4, 5), (5, 1, 4, 1), (3, 1, 4, None)],
)
def test_the_chunk_suggested_gives_every_worker_one(nets, cells, workers, chunk):
    assert cli.chunk_for(nets, cells, workers) == chunk


def test_a_csv_may_start_with_one_header_line(tmp_path):
    (tmp_path / "h.csv").write_text("x1,x2,y\n0,0,0\n0,1,1\n\n1,0,1\n1,1,0\n")
    data = study.load_data(str(tmp_path / "h.csv"), 2, 1, "mse")
    assert data.name == "h" and data.x.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert data.y.tolist() == [[0], [1], [1], [0]]
    code, text = main(
        "study", "--data", str(tmp_path / "h.csv"), "--nets", "2", "--epochs", "10", "--lr", "1"
    )
    assert code == 0 and "2 starts per learning rate, 10 epochs" in text


@pytest.mark.parametrize(
    "p, text",
    # Wilson's lower bound for 10,000 of 10,000 is 1 - 3.84 / 10,003.84: 99.96%, not "100.0"
    [(1 - 3.841458820694124 / 10_003.841458820694, "99.96"), (1.0, "100.0"), (0.0, "0.0")]
    + [(0.000384, "0.04"), (0.8028, "80.3"), (0.99951, "99.95")],
)
def test_a_percentage_that_is_not_0_or_100_never_reads_as_one(p, text):
    assert study.percent(p) == text


@pytest.mark.parametrize(
    "learned, nets, lo, hi",
    [
        # Wilson by hand: (k + z²/2 ± z √(k (n - k) / n + z²/4)) / (n + z²), z = 1.96
        (8_028, 10_000, 0.794886, 0.810481),
        (801_761, 1_000_000, 0.800978, 0.802541),
        # all or none: the far bound is exactly 1 or 0, the near one n / (n + z²) or z² / (n + z²)
        (20_000, 20_000, 20_000 / (20_000 + study.Z95**2), 1.0),
        (30, 30, 30 / (30 + study.Z95**2), 1.0),
        (0, 100, 0.0, study.Z95**2 / (100 + study.Z95**2)),
    ],
)
def test_the_learned_fraction_has_wilsons_95_percent_interval(learned, nets, lo, hi):
    row = study.StudyRow("xor", "uniform", 0.1, nets, learned, (0.0,) * 5, None, 0)
    got = row.interval
    assert got == pytest.approx((lo, hi), abs=1e-6)
    assert (got[1] == 1.0) == (learned == nets) and (got[0] == 0.0) == (learned == 0)
