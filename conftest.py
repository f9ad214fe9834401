"""Loaded before any test module (and before NumPy): size the thread pools.

Under pytest-xdist every worker is a process of its own, one per core. Left
alone, each would start OpenBLAS, OpenMP (PyTorch) and XLA thread pools as
wide as the machine, and two workers would fight over two cores: the suite
ran 3x slower that way. Each worker therefore gets one thread per pool.
Without xdist (the benchmarks' own runs) nothing changes.
"""

import os

if os.environ.get("PYTEST_XDIST_WORKER"):
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
