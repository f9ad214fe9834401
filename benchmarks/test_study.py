"""``study`` in this process against a 2-worker Dask LocalCluster, on the paths a user
calls (``study_cluster.run``, the cluster's start-up and shut-down included), and the
same chunks on two plain processes (a ``ProcessPoolExecutor``, no Dask): what two
processes at once can do on this machine, so that the cluster's ratio can be read
against the machine's own. One group per study, ``study <size>``; report.py prints the
seconds, ns per net-step, the throughput ratios and Dask's cost per chunk.

    size        what is trained                                        chunks
    xor-1e5     seed 000's XOR, 100,000 starts x 5 rates x 2,000 epochs   50 of 2,000 starts
    overhead-200  the same net, 4,000 starts x 5 rates x 200 epochs     200 of 20 starts
    overhead-800  16,000 starts, the same chunks                          800 of 20 starts

Dask's cost in a run is ``wall x workers - time inside the chunks``, the wall time counted
from when the cluster is up: the workers' first import of the engine, scheduling, pickling,
the results' trip back, and the idle tail where one worker waits for the other's last
chunk. The two overhead sizes (cluster only) differ in nothing but the number of chunks, so
report.py splits that cost into a part per run and a part per chunk. With timing off
(``--benchmark-disable``) xor-1e5 runs once at 400 starts x 20 epochs, the rest not at all.
"""

from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from multiprocessing import get_context

import pytest

from crosscheck import study, study_cluster

SIZES = {
    "xor-1e5": dict(nets=100_000, epochs=2_000),  # the default chunk: 2,000 starts
    "overhead-200": dict(nets=4_000, epochs=200, chunk=20),
    "overhead-800": dict(nets=16_000, epochs=200, chunk=20),
}
LRS = (0.05, 0.1, 0.5, 1.0, 2.0)


def two_processes(definition):
    """The chunks on two spawned processes, merged as ``study_cluster.run`` merges them."""
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        results = list(pool.map(study.run_chunk, repeat(definition), definition.chunks()))
    found = study.merge(definition, {int(r["chunk"][0]): r for r in results})
    found.timing = {
        "chunks": len(results),
        "wall_seconds": None,
        "chunk_seconds": sum(float(r["seconds"]) for r in results),
        "overhead_per_chunk_seconds": None,
    }
    return found


@pytest.mark.parametrize("where", ["in-process", "local-cluster-2", "two-processes"])
@pytest.mark.parametrize("size", list(SIZES))
def test_study(benchmark, size, where):
    pytest.importorskip("distributed")
    if size.startswith("overhead") and (benchmark.disabled or where != "local-cluster-2"):
        pytest.skip("Dask's cost is measured on the cluster only, when timed (xor-1e5 runs the same code)")
    if benchmark.disabled and where == "two-processes":
        pytest.skip("timing is off: the plain processes are only a yardstick for the cluster's time")
    grid = dict(SIZES[size]) if not benchmark.disabled else dict(nets=400, epochs=20, chunk=100)
    definition = study.define(data=["xor"], lrs=LRS, **grid)
    benchmark.group = f"study {size}"
    if where == "two-processes":
        call = lambda: two_processes(definition)  # noqa: E731
    else:
        workers = 2 if where == "local-cluster-2" else None
        call = lambda: study_cluster.run(definition, workers)  # noqa: E731
    result = benchmark.pedantic(call, rounds=1, iterations=1)
    t = result.timing
    benchmark.extra_info.update(
        op="study",
        size=size,
        dtype="float64",
        backend=where,
        net_steps=grid["nets"] * len(LRS) * grid["epochs"],
        chunks=t["chunks"],
        wall_seconds=t["wall_seconds"],
        chunk_seconds=t["chunk_seconds"],
        overhead_per_chunk_seconds=t["overhead_per_chunk_seconds"],
        learned=[r.learned for r in result.rows],
        final_loss=[list(r.final_loss) for r in result.rows],
    )
