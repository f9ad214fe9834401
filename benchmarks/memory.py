"""Peak memory of one call, by tracemalloc.

tracemalloc sees Python objects and NumPy's data buffers (NumPy reports its
allocations to it), so for the engine it is the whole story. It does not see
PyTorch's or XLA's allocators: no such figure is taken for those backends.
"""

import tracemalloc


def peak_bytes(fn):
    """The peak of the memory ``fn()`` allocates on top of what exists before it.

    Buffers made before the call (a net's params, a Trainer's gradients and
    workspace after a warm-up step) are not counted: this is what the call
    itself allocates, at its worst moment.
    """
    already = tracemalloc.is_tracing()  # e.g. python -X tracemalloc: leave it running
    if not already:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not already:
            tracemalloc.stop()
    return peak - before
