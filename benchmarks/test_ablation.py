"""What each performance choice in the engine buys: the step as it is, beside the
same step with one choice undone. A choice stays only where it pays at least 5%
at some size (DEVELOPERS.md); report.py prints the ratios.

    as-is          manual.Trainer(net, manual.SGD(lr)).step(x, y)
    matmul         the products as np.matmul (the @ operator) instead of np.dot
    per-parameter  the optimizer's update W1, b1, W2, ... one array at a time,
                   instead of once over the contiguous buffer they are views of
"""

import numpy as np
import pytest

import manual
from manual import backprop
from manual.optim import flat

from . import cases

VARIANTS = ("as-is", "matmul", "per-parameter")


class _MatmulNumpy:
    """numpy, with dot replaced by matmul."""

    def __getattr__(self, name):
        return np.matmul if name == "dot" else getattr(np, name)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("dtype", cases.DTYPES)
@pytest.mark.parametrize("size", cases.SIZES)
def test_step_ablation(benchmark, monkeypatch, size, dtype, variant):
    case = cases.CASES[size]
    if benchmark.disabled and size in ("medium", "large"):
        pytest.skip("ablation at this size: timed in nox -s benchmarks only")
    net = cases.make_net(case, dtype)
    x, y = cases.make_data(case, dtype)
    trainer = manual.Trainer(net, manual.SGD(lr=case.lr))
    if variant == "matmul":
        monkeypatch.setattr(backprop, "np", _MatmulNumpy())
    elif variant == "per-parameter":
        monkeypatch.setattr(
            trainer.optimizer,
            "step_flat",
            lambda p, g, state: trainer.optimizer.step(net.param_views, trainer.grads, state),
        )
    trainer.step(x, y)
    benchmark.group = f"ablation {size} {dtype}"
    benchmark.extra_info.update(op="ablation", size=size, dtype=dtype, backend=variant)
    benchmark(trainer.step, x, y)
    assert len(flat(net.param_views)) == 2 * case.n_layers
