"""``study`` in this process against a 2-worker Dask LocalCluster, on the paths a user
calls (``study_cluster.run``, the cluster's start-up and shut-down included). One group
per study, ``study <size>``; report.py prints the seconds, ns per net-step, the
throughput ratio and Dask's cost per chunk.

    size        what is trained                                        chunks
    xor-1e5     seed 000's XOR, 100,000 starts x 5 rates x 2,000 epochs   10 of 10,000 starts
    overhead    the same net, 4,000 starts x 5 rates x 200 epochs         200 of 20 starts: Dask's
                                                                          cost per chunk, measured
                                                                          where it is largest

Dask's cost per chunk is ``(wall x workers - time inside the chunks) / chunks``, the wall
time counted from when the cluster is up: scheduling, pickling, the result's trip back,
and the idle tail where one worker waits for the other's last chunk. With timing off
(``--benchmark-disable``) xor-1e5 runs once at 400 starts x 20 epochs, and overhead
not at all.
"""

import pytest

from crosscheck import study, study_cluster

SIZES = {
    "xor-1e5": dict(nets=100_000, epochs=2_000, chunk=10_000),
    "overhead": dict(nets=4_000, epochs=200, chunk=20),
}
LRS = (0.05, 0.1, 0.5, 1.0, 2.0)


@pytest.mark.parametrize("where", ["in-process", "local-cluster-2"])
@pytest.mark.parametrize("size", list(SIZES))
def test_study(benchmark, size, where):
    pytest.importorskip("distributed")
    if benchmark.disabled and size == "overhead":
        pytest.skip(
            "timing is off: the cost per chunk is measured only when timed (xor-1e5 runs the same code)"
        )
    grid = dict(SIZES[size]) if not benchmark.disabled else dict(nets=400, epochs=20, chunk=100)
    definition = study.define(data=["xor"], lrs=LRS, **grid)
    workers = 2 if where == "local-cluster-2" else None
    benchmark.group = f"study {size}"
    result = benchmark.pedantic(lambda: study_cluster.run(definition, workers), rounds=1, iterations=1)
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
