"""The benchmark suite: ``manual`` against PyTorch eager and ``jax.jit``.

One pytest-benchmark group per (operation, size, dtype), so each table puts
the backends side by side on the same net and data:

- operations: ``forward``, ``loss_and_grads``, ``step`` (one SGD step); the
  step group also times ``numpy-matmuls``, the step's matrix products alone,
  the roofline the engine's step is measured against;
- sizes: see ``cases.CASES``; dtypes: float32, float64.

Run it with ``nox -s benchmarks`` (times everything, saves
``.benchmarks/latest.json``, prints ``report.py``'s ratio table). Under
``--benchmark-disable`` (``nox -s tests``) each benchmark body runs once, as
a smoke test; nothing here asserts on a time.
"""
