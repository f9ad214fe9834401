"""``study`` for any small net, in chunks, here or on Dask: what it reports for a net of
the user's is what the JAX reference's runs of the same (scaled) starts show; the
numbers do not depend on how the starts are cut or where they run (a 2-worker
LocalCluster, a scheduler address, the ``dask scheduler``/``dask worker`` commands, a
worker killed mid-run); a stopped run resumes computing only what is missing; bad
directories and addresses are refused with nothing overwritten."""

import importlib.util
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest

import manual
from crosscheck import cli, jsonout, study, study_cluster
from references import jax_ref

from conftest import REQUIRE_FRAMEWORKS, require

DASK = pytest.mark.xdist_group("dask")  # one xdist worker starts the clusters, one at a time


def require_dask():
    if importlib.util.find_spec("distributed") is None:
        message = "dask is not installed: pip install -c constraints.txt 'backprop-by-hand[dask]'"
        if REQUIRE_FRAMEWORKS:
            pytest.fail(message + " (BACKPROP_REQUIRE_FRAMEWORKS=1 turns this skip into a failure)")
        pytest.skip(message)


def main(*args):
    out = io.StringIO()
    return cli.main(list(args), out=out), out.getvalue()


def numbers(result):
    """Everything a study reports, timing left out."""
    rows = [vars(r) for r in result.rows]
    curves = [(c.data, c.init, c.sizes, c.scale, c.epochs.tolist(), c.losses.tolist()) for c in result.curves]
    return rows, curves


# eight points, two classes not linearly separable; labels in the last column
POINTS = np.array(
    [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0], [0.5, 0.2, 0], [0.2, 0.6, 1], [0.8, 0.4, 1], [0.9, 0.9, 0]],
    dtype=float,
)


def csv(tmp_path):
    path = tmp_path / "points.csv"
    np.savetxt(path, POINTS, delimiter=",", fmt="%g")
    return str(path)


def logits_by_hand(params, x):
    """relu(x W1 + b1) W2 + b2 per net, ``(N, batch)``: the output is its sigmoid."""
    h = np.maximum(0, np.einsum("bi,nij->nbj", x, params[0]["W"]) + params[0]["b"][:, None, :])
    return (np.einsum("nbi,nij->nbj", h, params[1]["W"]) + params[1]["b"][:, None, :])[..., 0]


def bce_by_hand(z, y):
    """Σ −(y log σ(z) + (1 − y) log(1 − σ(z))) = Σ log(1 + eᶻ) − y z, per net."""
    return (np.logaddexp(0, z) - y * z).sum(axis=1)


@pytest.mark.parametrize("rule", ["accuracy>=0.75", "loss<=2"])
def test_a_users_net_and_data_reports_what_the_reference_runs_show(tmp_path, rule):
    """relu, not tanh: with tanh these starts pass saddles where a 1e-15 change of a weight
    grows to O(1) in 120 epochs, so no two implementations could agree on where they end."""
    require("jax")
    nets, lrs, epochs, every, scale = 10, (0.05, 0.3), 300, 10, 4.0
    d = study.define(
        data=[csv(tmp_path)],
        sizes=[(2, 3, 1)],
        activation="relu",
        loss="bce",
        lrs=lrs,
        inits=["xavier"],
        scales=[scale],
        nets=nets,
        epochs=epochs,
        check_every=every,
        success=rule,
        chunk=4,
    )
    result = study_cluster.run(d)
    # the same starts: MLP(seed=i)'s draws times the scale, every one at every rate, trained by JAX
    spec = manual.MLP([2, 3, 1], activation="relu", output_activation="sigmoid", loss="bce").spec()
    starts = [manual.MLP([2, 3, 1], init="xavier", seed=i).params for i in range(nets)] * len(lrs)
    stacked = [{k: scale * np.stack([s[l][k] for s in starts]) for k in ("W", "b")} for l in range(2)]
    x, y = POINTS[:, :2], POINTS[:, 2:]
    run = jax_ref.ensemble_train(
        spec, stacked, x, y, np.repeat(lrs, nets), [np.arange(8)] * epochs, record_every=every
    )

    def holds(p):
        z = logits_by_hand(p, x)
        if rule.startswith("loss"):
            return bce_by_hand(z, y[:, 0]) <= 2
        return ((z > 0) == (y[:, 0] > 0.5)).mean(axis=1) >= 0.75  # σ(z) > 0.5 where z > 0

    right = {step: holds(p) for step, p in run.snapshots if step}
    final = bce_by_hand(logits_by_hand(run.params, x), y[:, 0])
    for r, row in enumerate(result.rows):
        these = slice(r * nets, (r + 1) * nets)
        assert (row.data, row.sizes, row.scale, row.lr) == ("points", (2, 3, 1), scale, lrs[r])
        assert row.learned == int(right[epochs][these].sum())
        np.testing.assert_allclose(row.final_loss, np.quantile(final[these], study.QUANTILES), rtol=1e-9)
        first = []
        for k in np.flatnonzero(right[epochs][these]):
            wrong = [s for s in sorted(right) if not right[s][these][k]]
            first.append(min(s for s in sorted(right) if s > max(wrong, default=0)))
        assert row.epochs_to_learn == ((np.median(first), np.quantile(first, 0.9)) if first else None)
    # informative: the rates differ, and not every start learns at both
    assert (
        result.rows[0].learned != result.rows[1].learned
        or result.rows[0].epochs_to_learn != result.rows[1].epochs_to_learn
    )
    assert 0 < sum(r.learned for r in result.rows) < 2 * nets


@pytest.mark.parametrize(
    "net",
    [
        dict(data=["xor", "as_written"], lrs=(0.5, 2.0)),
        dict(data=["xor"], sizes=[(2, 6, 4, 1), (2, 3, 1)], activation="tanh", scales=(0.5, 2.0)),
        dict(data=["xor"], sizes=[(2, 16, 2)], activation="relu", loss="cross_entropy", lrs=(0.1, 1.0)),
    ],
    ids=["xor", "widths-and-scales", "cross-entropy"],
)
def test_the_numbers_do_not_depend_on_how_the_starts_are_cut(net, monkeypatch):
    """Per start, a chunk's ensemble computes what the whole one does, bit for bit."""
    if net.get("loss") == "cross_entropy":  # two one-hot outputs from XOR's 0/1 targets
        xor = study.Dataset("xor", study.DATA["xor"], np.eye(2)[study.TARGETS[:, 0].astype(int)])
        monkeypatch.setattr(study, "load_data", lambda *a: xor)
    base = dict(nets=23, epochs=120, check_every=7)
    whole = study_cluster.run(study.define(**net, **base, chunk=23))
    for chunk in (1, 5, 22):
        cut = study_cluster.run(study.define(**net, **base, chunk=chunk))
        assert numbers(cut) == numbers(whole)
    assert len({(r.learned, r.final_loss) for r in whole.rows}) > 1  # the cells and rates differ


@pytest.mark.parametrize(
    "grid, chunk",
    [
        # per net 3 x batch 4 x (2 + 1) units + 4 x 9 params = 72 floats; 750,000 / (72 x 5 rates)
        # = 2,083 starts, in hundreds
        (dict(), 2_000),
        # 3 x 4 x 17 + 4 x (3 x 16 + 17) = 464 floats, one rate: 1,616; the wider net decides
        (dict(sizes=[(2, 2, 1), (2, 16, 1)], lrs=(0.1,)), 1_600),
        (dict(chunk=7), 7),
    ],
)
def test_the_default_chunk_is_what_fits_the_cache(grid, chunk):
    assert study.define(**{"data": ["xor"], **grid}).chunk == chunk


def test_the_default_chunk_of_a_large_batch_is_at_least_100_starts(tmp_path):
    rows = np.random.default_rng(0).random((1_000, 3)).round()
    np.savetxt(tmp_path / "big.csv", rows, delimiter=",")
    # 3 x 1,000 x (8 + 1) + 4 x 33 = 27,132 floats a net: 5 starts at 5 rates, so 100
    assert study.define(data=[str(tmp_path / "big.csv")], sizes=[(2, 8, 1)]).chunk == 100


def test_the_merged_curves_are_quantiles_of_the_losses():
    """The loss bands read off the chunks' histograms: within one bin (0.05 in log10) of the
    exact quantiles of every start's loss at that epoch."""
    d = study.define(data=["xor"], lrs=(2.0,), nets=40, epochs=400, check_every=5, chunk=9)
    result = study_cluster.run(d)
    ens = manual.Ensemble([2, 2, 1], seeds=range(40))
    trainer = manual.Trainer(ens, manual.SGD(lr=2.0))
    at = {int(e): i for i, e in enumerate(d.curve_epochs())}
    for epoch in range(1, 401):
        losses = trainer.step(study.DATA["xor"], study.TARGETS)
        if epoch in at:
            exact = np.quantile(losses, study.QUANTILES, method="inverted_cdf")
            got = result.curves[0].losses[at[epoch], 0]
            assert np.abs(np.log10(got) - np.log10(exact)).max() <= 0.05 + 1e-12, (epoch, got, exact)
    assert len(set(result.curves[0].losses[:, 0, 0])) > 10  # the 5% quantile moves


# ------------------------------------------------------------------ on Dask

SMALL = dict(data=["xor"], lrs=(0.5, 2.0), nets=30, epochs=400, check_every=10, chunk=5)


@pytest.fixture(scope="module")
def cluster():
    require_dask()
    import logging

    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, dashboard_address=":0", silence_logs=logging.ERROR
    ) as c:
        yield c


@pytest.fixture(scope="module")
def undisturbed():
    return study_cluster.run(study.define(**SMALL))


@DASK
def test_a_scheduler_address_gives_the_in_process_numbers(cluster, undisturbed):
    said = []
    result = study_cluster.run(study.define(**SMALL), scheduler=cluster.scheduler_address, say=said.append)
    assert numbers(result) == numbers(undisturbed)
    assert result.timing["workers"] == 2 and result.timing["computed"] == 6
    assert said == [
        f"running on the Dask scheduler at {cluster.scheduler_address}; dashboard: {cluster.dashboard_link}"
    ]


@DASK
def test_workers_2_runs_on_a_local_cluster_with_the_same_numbers(tmp_path, undisturbed):
    require_dask()
    args = ["study", "--data", "xor", "--lr", "0.5,2", "--nets", "30", "--epochs", "400", "--chunk", "5"]
    code, here = main(*args, "--json")
    code2, there = main(*args, "--json", "--workers", "2")
    assert code == code2 == 0
    a, b = json.loads(here), json.loads(there)
    assert a["rows"] == b["rows"] and a["rows"][0]["learned"] == undisturbed.rows[0].learned
    assert b["timing"]["where"] == "a Dask LocalCluster of 2 worker processes"


@DASK
def test_a_worker_killed_mid_run_changes_nothing(tmp_path, undisturbed):
    """A worker process killed while it trains a chunk: Dask retries the chunk elsewhere
    (the nanny starts a new worker), every chunk is counted once, the numbers are the same."""
    require_dask()
    import logging

    from distributed import LocalCluster

    killed = {}
    # the cluster's own objects, not a second Client: two clients in one process can bind a
    # future to the other's event loop
    with LocalCluster(
        n_workers=2, threads_per_worker=1, dashboard_address=":0", silence_logs=logging.ERROR
    ) as c:
        pids = {n.worker_address: n.pid for n in c.workers.values()}

        def kill_one(chunk, result):
            if killed:
                return
            busy = {
                a: [t.key for t in ws.processing] for a, ws in c.scheduler.workers.items() if ws.processing
            }
            worker = sorted(busy)[0]
            killed.update(worker=worker, keys=busy[worker])
            os.kill(pids[worker], signal.SIGKILL)

        seen = []
        result = study_cluster.run(
            study.define(**SMALL),
            scheduler=c.scheduler_address,
            out=tmp_path / "run",
            on_chunk=lambda chunk, r: (seen.append(chunk[0]), kill_one(chunk, r)),
        )
        assert {n.pid for n in c.workers.values()} != set(pids.values())  # a new worker took its place
    assert killed["keys"]  # it was training a chunk when it died
    assert sorted(seen) == list(range(6)) and len(list((tmp_path / "run").glob("chunk-*.npz"))) == 6
    assert numbers(result) == numbers(undisturbed)


@DASK
def test_the_documented_dask_commands_make_a_cluster_it_runs_on(tmp_path, undisturbed):
    """``dask scheduler`` and ``dask worker ADDRESS``, as docs/study.md says."""
    require_dask()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    dask = os.path.join(os.path.dirname(sys.executable), "dask")
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **quiet
    )
    worker = None
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        worker = subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--no-dashboard"], **quiet)
        code, text = main(
            "study",
            "--data",
            "xor",
            "--lr",
            "0.5,2",
            "--nets",
            "30",
            "--epochs",
            "400",
            "--chunk",
            "5",
            "--scheduler",
            address,
            "--json",
        )
        assert code == 0, text
        data = json.loads(text)
        assert [r["learned"] for r in data["rows"]] == [r.learned for r in undisturbed.rows]
        assert data["timing"]["where"] == f"the Dask scheduler at {address}"
    finally:
        for p in (worker, scheduler):
            if p is not None:
                p.terminate()
                p.wait(timeout=30)


# ------------------------------------------------------------------ kept, resumed


class Stop(Exception):
    pass


def test_a_stopped_run_resumes_computing_only_the_missing_chunks(tmp_path, undisturbed):
    out = tmp_path / "run"

    def stop_after_two(chunk, result):
        if len(list(out.glob("chunk-*.npz"))) == 2:
            raise Stop

    with pytest.raises(Stop):
        study_cluster.run(study.define(**SMALL), out=out, on_chunk=stop_after_two)
    assert sorted(p.name for p in out.iterdir()) == ["chunk-00000.npz", "chunk-00001.npz", "study.json"]
    computed = []
    result = study_cluster.run(
        study.define(**SMALL), out=out, resume=True, on_chunk=lambda c, r: computed.append(c[0])
    )
    assert computed == [2, 3, 4, 5]
    assert (result.timing["chunks"], result.timing["computed"]) == (6, 4)
    assert numbers(result) == numbers(undisturbed)
    # and once complete, a resume computes nothing and says the same
    again = study_cluster.run(
        study.define(**SMALL), out=out, resume=True, on_chunk=lambda c, r: computed.append(c)
    )
    assert len(computed) == 4 and numbers(again) == numbers(undisturbed)


@pytest.mark.parametrize(
    "workers", [[], pytest.param(["--workers", "2"], marks=DASK)], ids=["in-process", "local-cluster"]
)
def test_ctrl_c_says_what_was_kept_in_one_line_and_resume_finishes(tmp_path, workers):
    """SIGINT mid-run: exit 130 and one line saying how many chunks are kept, no traceback;
    --resume then computes the rest, and the numbers are the undisturbed run's."""
    if workers:
        require_dask()
    out = tmp_path / "run"
    # SMALL's starts in chunks of 1 (both rates in each) and 1,000 epochs: 30 chunks of ~0.05 s
    args = ["study", "--data", "xor", "--lr", "0.5,2", "--nets", "30", "--epochs", "1000", "--chunk", "1"]
    run = subprocess.Popen(
        [sys.executable, "-m", "crosscheck", *args, *workers, "--out", str(out), "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while len(list(out.glob("chunk-*.npz"))) < 2 and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)
    run.send_signal(signal.SIGINT)
    stdout, stderr = run.communicate(timeout=120)
    lines = [line for line in stderr.splitlines() if not line.startswith("running on")]
    kept = len(list(out.glob("chunk-*.npz")))
    assert run.returncode == 130 and stdout == "" and "Traceback" not in stderr, stderr
    assert lines == [
        f"backprop-by-hand: interrupted: {kept} of 30 chunks are under {out}; add --resume to finish"
    ]
    assert 2 <= kept < 30
    code, text = main(*args, "--out", str(out), "--resume", "--json")
    again = study_cluster.run(study.define(**{**SMALL, "epochs": 1000, "chunk": 1}))
    assert code == 0 and json.loads(text)["rows"] == study.as_json(again)["rows"]


@pytest.mark.parametrize(
    "answer, fragment",
    [
        (None, "something listens there but did not answer as a Dask scheduler does within 0.5 s"),
        # read as Dask's 8-byte length, 0xff... asks for 2^64 bytes (a NumPy MemoryError inside Dask)
        (b"\xff" * 64, "something answers there, but not as a Dask scheduler does"),
        (b"HTTP/1.0 400 Bad request\r\n\r\n", "something answers there, but not as a Dask scheduler does"),
    ],
    ids=["silent", "garbage", "http"],
)
def test_a_listener_that_is_not_a_dask_scheduler_is_refused_at_once(answer, fragment, monkeypatch, capsys):
    monkeypatch.setattr(study_cluster, "PROBE_SECONDS", 0.5)
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    held = []

    def serve():
        conn, _ = server.accept()
        held.append(conn)  # kept open, silent or having said its piece
        if answer:
            conn.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    began = time.monotonic()
    code, text = main(
        "study", "xor", "--nets", "10", "--epochs", "10", "--scheduler", f"tcp://127.0.0.1:{port}"
    )
    err = capsys.readouterr().err
    assert code == 2 and text == "" and len(err.strip().splitlines()) == 1 and fragment in err, err
    assert time.monotonic() - began < 5
    for conn in held:
        conn.close()
    server.close()


STUDY = ["study", "--data", "xor", "--lr", "0.5,2", "--nets", "30", "--epochs", "40", "--chunk", "10"]


@pytest.mark.parametrize(
    "setup,args,fragment",
    [
        (
            "study",
            [],
            "already holds a study (3 chunk files): add --resume to finish it, or give another directory",
        ),
        (
            "study",
            ["--resume", "--lr", "0.5,1"],
            "that study differs from this one: lrs was [0.5, 2.0], now [0.5, 1.0]",
        ),
        ("study", ["--resume", "--chunk", "15"], "it was cut into chunks of 10 starts (give --chunk 10)"),
        ("other", [], "the directory is not empty and holds no study; give a new or empty one"),
        ("other", ["--resume"], "holds no study to resume (no study.json)"),
        ("file", [], "expected a directory, got a file"),
        ("broken", ["--resume"], "chunk-00001.npz is not a whole .npz archive (cut short, or not a chunk)"),
        (
            "truncated",
            ["--resume"],
            "chunk-00001.npz is not a whole .npz archive (cut short, or not a chunk)",
        ),
        ("other arrays", ["--resume"], "chunk-00001.npz cannot be read as a chunk (KeyError"),
        # the same shapes from a study at other rates: merged, it would change the numbers
        ("foreign", ["--resume"], "chunk-00001.npz is a chunk of another study"),
    ],
)
def test_a_directory_that_is_not_this_study_is_refused_and_left_as_it_was(
    tmp_path, setup, args, fragment, capsys
):
    out = tmp_path / "run"
    if setup == "study":
        assert main(*STUDY, "--out", str(out))[0] == 0
    elif setup == "other":
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    elif setup == "file":
        out.write_text("mine")
    elif setup == "broken":
        assert main(*STUDY, "--out", str(out))[0] == 0
        (out / "chunk-00001.npz").write_bytes(b"not a chunk")
    elif setup == "other arrays":
        assert main(*STUDY, "--out", str(out))[0] == 0
        np.savez(out / "chunk-00001.npz", x=np.zeros(3))
    elif setup == "truncated":
        assert main(*STUDY, "--out", str(out))[0] == 0
        whole = (out / "chunk-00001.npz").read_bytes()
        (out / "chunk-00001.npz").write_bytes(whole[:500])
    elif setup == "foreign":
        assert main(*STUDY, "--out", str(out))[0] == 0
        other = [v if v != "0.5,2" else "0.5,3" for v in STUDY]
        assert main(*other, "--out", str(tmp_path / "other"))[0] == 0
        (out / "chunk-00001.npz").write_bytes((tmp_path / "other" / "chunk-00001.npz").read_bytes())
    before = {p: p.read_bytes() for p in ([out] if out.is_file() else out.iterdir())}
    capsys.readouterr()
    code, text = main(*STUDY, "--out", str(out), *args)
    err = capsys.readouterr().err
    assert code == 2 and text == "" and len(err.strip().splitlines()) == 1 and fragment in err, err
    assert {p: p.read_bytes() for p in ([out] if out.is_file() else out.iterdir())} == before


def test_a_resume_after_the_data_file_changed_says_so_in_words(tmp_path, capsys):
    data = tmp_path / "points.csv"
    np.savetxt(data, POINTS, delimiter=",")
    args = ["study", "--data", str(data), "--sizes", "2,3,1", "--nets", "4", "--epochs", "10"]
    assert main(*args, "--out", str(tmp_path / "run"))[0] == 0
    np.savetxt(data, POINTS[::-1], delimiter=",")  # the same points, in another order
    capsys.readouterr()
    code, _ = main(*args, "--out", str(tmp_path / "run"), "--resume")
    err = capsys.readouterr().err
    assert code == 2 and "the contents of data set points changed since the study began" in err, err
    assert "sha256" not in err


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["--resume"], "--resume needs --out DIR"),
        (["--workers", "0"], "--workers: expected a count >= 1, got 0"),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "--workers and --scheduler: give one"),
        (
            ["--scheduler", "localhost"],
            "--scheduler: expected an address like tcp://HOST:8786, got 'localhost'",
        ),
        (
            ["--scheduler", "tcp://127.0.0.1:9"],
            "--scheduler tcp://127.0.0.1:9: could not reach a Dask scheduler",
        ),
        (["--chunk", "0"], "--chunk: expected a count >= 1, got 0"),
        (["--init-scale", "1,0"], "--init-scale: expected positive init scales, got [1.0, 0.0]"),
        (["--sizes", "2,x,1"], "--sizes: expected comma-separated layer widths like 2,2,1, got '2,x,1'"),
        (
            ["--sizes", "3,2,1"],
            "--data xor: the net takes 3 inputs and gives 1 outputs; the data has 2 input",
        ),
        (["--sizes", "2,2,1", "2,4,2"], "--sizes: expected one input and one output width for every net"),
        (["--loss", "bce", "--output-activation", "tanh"], "--sizes 2,2,1 with --loss bce:"),
        (["--success", "accuracy>=2"], "--success: expected right-side, loss<=X (X >= 0) or accuracy>=X"),
        (["--activation", "softmax"], "--activation: expected one hidden activation, one of"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(args, fragment, capsys):
    if "--workers" in args or "--scheduler" in args:
        require_dask()
    code, out = main(*STUDY, *args)
    err = capsys.readouterr().err
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and fragment in err, err


@pytest.mark.parametrize(
    "content,fragment",
    [
        ("1,2\n3,x\n", "could not read numbers from it"),
        ("0,0,0.5\n1,1,0\n", "the targets are not all 0 or 1; say when a net has learned"),
        ("0,0\n1,1\n", "the net takes 2 inputs and gives 1 outputs; the data has 1 input and 1 target"),
        ("0,0,nan\n1,1,0\n", "expected finite numbers"),
    ],
)
def test_a_data_file_that_does_not_fit_is_refused(tmp_path, content, fragment, capsys):
    path = tmp_path / "d.csv"
    path.write_text(content)
    code, out = main("study", "--data", str(path), "--nets", "2", "--epochs", "2")
    err = capsys.readouterr().err
    assert code == 2 and out == "" and fragment in err, err


def test_a_users_net_from_the_command_line(tmp_path):
    """A .csv and a .npz of the same points are the same data: the same numbers, cell by cell."""
    npz = tmp_path / "same.npz"
    np.savez(npz, x=POINTS[:, :2], y=POINTS[:, 2])
    args = [
        "study",
        "--data",
        f"{csv(tmp_path)},{npz}",
        "--sizes",
        "2,3,1",
        "2,5,1",
        "--activation",
        "tanh",
        "--loss",
        "bce",
        "--init",
        "xavier",
        "--init-scale",
        "1,3",
        "--lr",
        "1",
        "--nets",
        "8",
        "--epochs",
        "200",
        "--success",
        "accuracy>=0.75",
    ]
    code, text = main(*args)
    assert code == 0, text
    assert "Study: 8 starts per learning rate, 200 epochs" in text and "learned = accuracy>=0.75" in text
    rows = {}
    for line in text.splitlines():
        if line.strip().startswith(("points", "same")):
            name, *rest = line.split()
            rows.setdefault(name, []).append(rest)
    assert len(rows["points"]) == 4 and rows["points"] == rows["same"]
    assert len({tuple(r) for r in rows["points"]}) == 4  # widths and scales differ


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="/dev/full is Linux's")
def test_a_full_disk_is_one_line_not_a_traceback():
    with open("/dev/full", "w") as full:
        run = subprocess.run(
            [sys.executable, "-m", "crosscheck", "study", "xor", "--nets", "10", "--epochs", "10", "--json"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert run.returncode == 1
    assert run.stderr == "backprop-by-hand: error: could not write the report: No space left on device\n"


def test_quantiles_read_a_diverged_loss_as_the_largest_without_a_warning():
    # NumPy's linear method by hand: q (n - 1) between sorted neighbours; nan and inf as +inf
    values = np.array([3.0, np.nan, 1.0, 2.0, np.inf])  # sorted: 1, 2, 3, inf, inf
    assert study.quantiles_of(values, (0.0, 0.25, 0.5, 0.625, 0.75, 1.0)) == (
        1.0,
        2.0,
        3.0,
        np.inf,
        np.inf,
        np.inf,
    )
    assert study.quantiles_of(np.array([1.0, 2.0, 4.0]), (0.25, 0.75)) == (1.5, 3.0)


def test_a_study_where_starts_diverge_counts_them_and_warns_nothing(tmp_path):
    data = tmp_path / "line.npz"
    np.savez(data, x=np.array([[1.0], [2.0]]), y=np.array([[1.0], [2.0]]))
    # at this rate some Xavier starts of a tanh net settle and the others overflow
    d = study.define(
        data=[str(data)],
        sizes=[(1, 8, 1)],
        activation="tanh",
        output_activation="identity",
        inits=("xavier",),
        lrs=(0.25,),
        nets=40,
        epochs=300,
        success="loss<=0.01",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy's inf - inf in a quantile warned here
        row = study_cluster.run(d).rows[0]
    assert 0 < row.diverged < 40 and row.learned > 0
    assert np.isfinite(row.final_loss[0]) and row.final_loss[-1] == np.inf
    assert not np.isnan(row.final_loss).any()
    # and --json stays strict JSON, a diverged quantile written as the project writes inf
    rows = json.loads(jsonout.dumps(study.as_json(study_cluster.run(d))))["rows"]
    assert rows[0]["final_loss_quantiles"][-1] == "Infinity"
