"""report.py on a hand-made benchmark JSON: the ratios, the targets, both formats."""

import json

import pytest

from . import report

MIB = 2**20


def bench(op, size, dtype, backend, seconds, **extra):
    info = {"op": op, "size": size, "dtype": dtype, "backend": backend, **extra}
    return {"stats": {"min": seconds, "median": 2 * seconds, "mean": 2 * seconds}, "extra_info": info}


@pytest.fixture
def saved(tmp_path):
    runs = []
    for op in report.OPS:
        runs += [bench(op, "tiny", "float32", "manual", 1e-6), bench(op, "tiny", "float32", "torch", 10e-6)]
        runs += [bench(op, "tiny", "float32", "jax", 2e-6)]
    step = dict(matmul_flops=4e9, step_peak_bytes=MIB, activations_bytes=MIB, grads_bytes=MIB)
    runs += [
        bench("step", "large", "float64", "manual", 1.0, **step),
        bench("step", "large", "float64", "numpy-matmuls", 0.95, matmul_flops=4e9),
        bench("step", "large", "float64", "jax", 0.5),
        {"stats": {"min": 1.0}, "extra_info": {}},  # not one of ours: ignored
    ]
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"benchmarks": runs}))
    return path


def test_rows_hold_the_ratios(saved):
    tiny, large = report.rows(report.load(saved))
    assert (tiny.size, large.size) == ("tiny", "large")
    assert tiny.ratios[("step", "torch")] == pytest.approx(0.1)
    assert tiny.ratios[("forward", "jax")] == pytest.approx(0.5)
    assert tiny.roofline is None and tiny.alloc_ratio is None
    assert large.roofline == pytest.approx(0.95)
    assert large.blas_gflops == pytest.approx(4 / 0.95)
    assert large.alloc_ratio == pytest.approx(0.5)
    assert large.ratios[("step", "jax")] == pytest.approx(2.0)
    assert large.ratios[("forward", "torch")] is None


def test_targets_pass_miss_and_unmeasured(saved):
    results = {
        (size, dtype, target.text): status
        for status, size, dtype, target, _ in report.target_results(report.rows(report.load(saved)))
    }
    assert results[("large", "float64", "step >= 90% of roofline")] == "PASS"
    assert results[("large", "float64", "step manual/jax <= 1.0")] == "MISS"
    assert results[("tiny", "float32", "step manual/torch <= 0.2")] == "PASS"
    assert results[("tiny", "float32", "step manual/jax <= 0.8")] == "PASS"
    assert results[("tiny", "float32", "step allocations <= 1.5x activations+gradients")] == "n/a"
    assert results[("large", "float64", "step allocations <= 1.5x activations+gradients")] == "PASS"


def test_main_prints_text_and_markdown_and_never_fails_on_a_miss(saved, capsys):
    assert report.main([str(saved)]) == 0
    text = capsys.readouterr().out
    assert "MISS  large  float64  step manual/jax <= 1.0" in text
    assert "95%" in text
    assert report.main([str(saved), "--markdown", "--stat", "median"]) == 0
    markdown = capsys.readouterr().out
    assert "| tiny | float32 | 0.10 | 0.50 |" in markdown
    assert "| MISS | large | float64 | step manual/jax <= 1.0 | 2.00 |" in markdown


def test_a_run_without_timings_says_so(tmp_path):
    path = tmp_path / "empty.json"
    path.write_text(json.dumps({"benchmarks": []}))
    assert "no benchmarks" in report.render(path)


def test_a_busy_machine_is_flagged(saved):
    data = json.loads(saved.read_text())
    assert "WARNING" not in report.render(saved)
    data["machine_info"] = {"backprop_by_hand": {"other_processes_cpu": 0.4}}
    saved.write_text(json.dumps(data))
    assert "WARNING: other processes used 40% of the CPUs" in report.render(saved)


@pytest.fixture
def ensemble_run(tmp_path):
    def ens(case, dtype, backend, seconds, nets, **extra):
        info = dict(n_nets=1000, nets_per_call=nets, **extra)
        return bench("ensemble", case, dtype, backend, seconds, **info)

    limit = dict(traffic_bytes=120e6, copy_bytes_per_second=30e9, bandwidth_limited_seconds=4e-3)
    runs = [
        ens("xor-n1000", "float64", "manual", 100e-6, 1000),  # 100 ns per net
        ens("xor-n1000", "float64", "jax", 250e-6, 1000),  # 250 ns per net
        ens("xor-n1000", "float64", "manual-single", 30e-6, 1),
        ens("xor-n100000", "float64", "manual", 10e-3, 100_000, **limit),
        bench("ensemble-ufuncs", "xor-n100000", "float64", "numpy", 0.1, ns_per_element={"exp": 0.8}),
        bench("ensemble-ufuncs", "xor-n100000", "float32", "numpy", 0.1, ns_per_element={"exp": 0.4}),
    ]
    path = tmp_path / "ensemble.json"
    path.write_text(json.dumps({"benchmarks": runs}))
    return path


def test_ensemble_rows_are_per_net_step(ensemble_run):
    runs = report.load(ensemble_run)
    assert report.rows(runs) == []  # not in the per-operation table
    small, big = report.ensemble_rows(runs)
    assert small.per_net["manual"] == pytest.approx(100e-9)
    assert small.per_net["manual-single"] == pytest.approx(30e-6)
    assert small.manual_over_jax == pytest.approx(0.4)
    assert small.single_over_manual == pytest.approx(300)
    assert small.over_limit is None and small.per_net.get("torch") is None
    assert big.over_limit == pytest.approx(2.5)
    assert report.ufunc_rows(runs) == [("exp", {"float64": 0.8, "float32": 0.4}, None)]


def test_ensemble_section_and_targets(ensemble_run):
    text = report.render(ensemble_run)
    assert "no benchmarks" not in text
    assert "ensemble manual/jax per net-step <= 0.5" in text
    results = {
        (size, t.text): s
        for s, size, _, t, _ in report.target_results(
            report.ensemble_rows(report.load(ensemble_run)), report.ENSEMBLE_TARGETS
        )
    }
    assert results[("xor-n1000", "ensemble manual/jax per net-step <= 0.5")] == "PASS"
    assert results[("xor-n100000", "ensemble step <= 2x its bandwidth limit")] == "MISS"
    assert "| exp | 0.400 | 0.800 | 2.00 |" in report.render(ensemble_run, markdown=True)


def test_layers_and_the_names_step_get_their_table_and_targets(tmp_path):
    names = dict(step_peak_bytes=3 * MIB, activations_bytes=MIB, grads_bytes=MIB)
    runs = [
        bench("layer", "Linear large", "float64", "manual", 2e-3),
        bench("layer", "Linear large", "float64", "torch", 1e-3),
        bench("layer", "Tanh large", "float64", "manual", 1e-3),
        bench("layer", "Tanh large", "float64", "torch", 1e-3),
        bench("names-step", "makemore", "float64", "manual", 240e-6, **names),
        bench("names-step", "makemore", "float64", "floor", 200e-6),
        bench("names-step", "makemore", "float64", "torch", 480e-6),
    ]
    path = tmp_path / "layers.json"
    path.write_text(json.dumps({"benchmarks": runs}))
    loaded = report.load(path)
    assert report.rows(loaded) == []  # not mistaken for the MLP's sizes
    (step,) = report.timed_rows(loaded, report.NAMES)
    assert step.manual_over_floor == pytest.approx(1.2)
    assert step.alloc_ratio == pytest.approx(1.5)
    text = report.render(path)
    assert "MISS  Linear large" in text and "PASS  Tanh large" in text
    assert "PASS  makemore" in text and "names step manual/torch <= 0.6" in text


def test_the_study_section_reads_speedup_sameness_and_dask_cost(tmp_path):
    same = dict(learned=[3, 4], final_loss=[[0.1], [0.2]], net_steps=10**9, chunks=10)
    cluster = dict(op="study", dtype="float64", backend="local-cluster-2")

    def on_cluster(size, seconds, chunks, chunk_seconds, per_chunk, **info):
        return bench(
            **cluster,
            size=size,
            seconds=seconds,
            chunks=chunks,
            chunk_seconds=chunk_seconds,
            overhead_per_chunk_seconds=per_chunk,
            **info,
        )

    runs = [
        bench("study", "xor-1e5", "float64", "in-process", 100.0, **same, chunk_seconds=99.0),
        on_cluster("xor-1e5", 50.0, 10, 98.0, 0.2, **{k: v for k, v in same.items() if k != "chunks"}),
        bench("study", "xor-1e5", "float64", "two-processes", 40.0, **same, chunk_seconds=79.0),
        # Dask's cost: 1 s + 200 x 5 ms = 2 s, and 1 s + 800 x 5 ms = 5 s
        on_cluster("overhead-200", 3.0, 200, 4.0, 2.0 / 200, learned=[1], final_loss=[[1.0]]),
        on_cluster("overhead-800", 9.0, 800, 13.0, 5.0 / 800, learned=[2], final_loss=[[1.0]]),
    ]
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"benchmarks": runs}))
    big, *small = report.study_rows(report.load(path))
    assert (big.speedup, big.machine, big.identical, small[0].identical) == (2.0, 2.5, True, None)
    assert big.of_machine == pytest.approx(0.8) and small[0].machine is None
    differ = {
        "in-process": dict(learned=[3]),
        "local-cluster-2": dict(learned=[3]),
        "two-processes": dict(learned=[4]),
    }
    assert report.StudyRow("x", {}, differ).identical is False
    assert big.dask_cost == pytest.approx((1.0, 0.005))
    assert big.overhead_share == pytest.approx(0.005 / 9.8)  # a chunk: 98 s / 10
    assert big.run_share == pytest.approx(2.0 / 100.0)  # 0.2 x 10 of (2 + 98) worker-seconds
    results = {
        t.text: status for status, size, _, t, _ in report.target_results([big, *small], report.STUDY_TARGETS)
    }
    assert results.pop("study on 2 workers: >= 95% of two plain processes'") == "MISS"
    assert set(results.values()) == {"PASS"} and len(results) == 2
    text = report.render(path)
    assert report.rows(report.load(path)) == []  # not in the operations' table
    assert "100 " in text  # ns per net-step: 100 s / 1e9
    assert "1.00 s a run" in text and "5.00 ms a chunk" in text and "0.250 s or more" in text
