"""Loaded before any test module (and before NumPy): size the thread pools,
and make XLA compile quickly.

Under pytest-xdist every worker is a process of its own, one per core. Left
alone, each would start OpenBLAS, OpenMP (PyTorch) and XLA thread pools as
wide as the machine, and two workers would fight over two cores: the suite
ran 3x slower that way. Each worker therefore gets one thread per pool.

XLA's compilation is most of what the JAX reference costs the suite (112 ms
of every 140 ms for a parity configuration's gradients, one compile per
shape). At backend optimization level 0 it is ~40% cheaper; the computation
is the same operations, left unfused, which JAX's results agree with to the
tolerance as before (84 s -> 67 s for the suite, measured). The benchmarks
(nox -s benchmarks, no xdist) and the demo run JAX with its defaults.
"""

import os

if os.environ.get("PYTEST_XDIST_WORKER"):
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")
    os.environ.setdefault(
        "XLA_FLAGS",
        "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        " --xla_backend_optimization_level=0",
    )
