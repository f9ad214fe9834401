"""The MLP's forward, loss_and_grads and Trainer.step, an earlier engine beside this one, in one run.

    git archive <rev> manual | tar -x -C /tmp/before && mv /tmp/before/manual /tmp/before/manual_before
    BACKPROP_BEFORE=/tmp/before python -m pytest benchmarks/versions.py -p no:randomly \\
        --benchmark-json=.benchmarks/versions.json --benchmark-min-rounds=20
    python -m benchmarks.versions .benchmarks/versions.json     # after / before, per case

Not collected by the suite (its name is not test_*): a one-off, run when a change
must show it slows the MLP by at most 5% (docs/performance.md has the last run).
The engine keeps no absolute imports of itself, so a renamed copy imports beside it.
"""

import json
import os
import sys

import pytest

from . import cases

OPS = ("forward", "loss_and_grads", "step")


def _module(version):
    if version == "after":
        import manual

        return manual
    where = os.environ.get("BACKPROP_BEFORE")
    if not where:
        pytest.skip("BACKPROP_BEFORE: the folder holding manual_before (see this module's docstring)")
    sys.path.insert(0, where)
    import manual_before

    return manual_before


@pytest.mark.parametrize("version", ["before", "after"])
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", cases.DTYPES)
@pytest.mark.parametrize("size", cases.SIZES)
def test_mlp(benchmark, size, dtype, op, version):
    mod = _module(version)
    case = cases.CASES[size]
    net = cases.make_net(case, dtype, engine=mod)
    x, y = cases.make_data(case, dtype)
    if op == "forward":
        fn = lambda: net.forward(x)  # noqa: E731
    elif op == "loss_and_grads":
        fn = lambda: net.loss_and_grads(x, y)  # noqa: E731
    else:
        trainer = mod.Trainer(net, mod.SGD(lr=case.lr))
        fn = lambda: trainer.step(x, y)  # noqa: E731
    fn()
    benchmark.group = f"{size} {dtype} {op}"
    benchmark.extra_info.update(size=size, dtype=dtype, op=op, version=version)
    benchmark(fn)


def main(path):
    with open(path) as fh:
        runs = {
            tuple(b["extra_info"][k] for k in ("size", "dtype", "op", "version")): b["stats"]
            for b in json.load(fh)["benchmarks"]
        }
    print(
        f"{'size':7} {'dtype':8} {'op':15} {'before us':>10} {'after us':>10}"
        f" {'min a/b':>8} {'median a/b':>10}"
    )
    for (size, dtype, op, version), after in sorted(runs.items()):
        before = runs.get((size, dtype, op, "before"))
        if version == "after" and before:
            print(
                f"{size:7} {dtype:8} {op:15} {before['min'] * 1e6:10.2f} {after['min'] * 1e6:10.2f}"
                f" {after['min'] / before['min']:8.3f} {after['median'] / before['median']:10.3f}"
            )


if __name__ == "__main__":
    main(sys.argv[1])
