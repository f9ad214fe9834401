"""The ratio table of one benchmark run, and where the targets stand.

    python benchmarks/report.py .benchmarks/latest.json              # text
    python benchmarks/report.py .benchmarks/latest.json --markdown   # for the README
    python benchmarks/report.py JSON --stat median                   # default: min

Reads the JSON ``pytest --benchmark-json`` writes for ``benchmarks/``; each
entry's ``extra_info`` names its op, size, dtype and backend. Per size and
dtype it prints manual/torch and manual/jax time ratios per operation
(below 1: manual is faster), the step's roofline fraction (time of its
matmuls alone in NumPy / time of manual's step) and its peak allocation
over activations + gradients; then each target's PASS or MISS. It never
fails on a MISS: the exit status is about reading the file only.

``min`` is the default statistic because the noise on a shared machine
(other processes, a frequency step) only ever adds time; ``median`` is the
typical call.

Standard library only, so it runs on any saved JSON without the project.
"""

import argparse
import json
import math
import sys
from dataclasses import dataclass

OPS = ("forward", "loss_and_grads", "step", "epoch")
SIZE_ORDER = ("tiny", "small", "medium", "large")
FRAMEWORKS = ("torch", "jax")


BUSY = 0.05  # other processes' CPU share above which the timings are flagged


def load(path, stat="min"):
    """``{(op, size, dtype, backend): (seconds, extra_info)}`` from a benchmark JSON."""
    return _runs(_read(path), stat)


def _read(path):
    with open(path) as fh:
        return json.load(fh)


def others_share(data):
    """The CPU share other processes took during the run (conftest.py records it), or None."""
    return data.get("machine_info", {}).get("backprop_by_hand", {}).get("other_processes_cpu")


def _runs(data, stat):
    runs = {}
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info", {})
        key = tuple(info.get(k) for k in ("op", "size", "dtype", "backend"))
        if None not in key:
            runs[key] = (bench["stats"][stat], info)
    return runs


@dataclass
class Row:
    """One (size, dtype): every number the table and the targets read (None: not measured)."""

    size: str
    dtype: str
    ratios: dict  # (op, framework) -> manual time / framework time
    step_seconds: float | None
    roofline: float | None  # time(numpy-matmuls) / time(manual step)
    blas_gflops: float | None  # the step's matmul FLOPs / time(numpy-matmuls)
    peak_bytes: int | None
    alloc_ratio: float | None  # step peak / (activations + gradients bytes)
    floor: dict | None = None  # the straight-line step (tiny): its seconds and its ratios to the frameworks
    kernel_over_jax: float | None = None  # the step's matmuls alone in NumPy / jax's whole step
    checks_share: float | None = None  # of manual's step, the share its input checks take


def rows(runs):
    pairs = {
        (size, dtype)
        for (op, size, dtype, _) in runs
        if not op.startswith((ENSEMBLE, DATASET, LAYER, NAMES, MODEL, STUDY))
    }
    order = sorted(pairs, key=lambda p: (_size_rank(p[0]), p[0], p[1]))
    return [_row(runs, size, dtype) for size, dtype in order]


def _row(runs, size, dtype):
    def seconds(op, backend):
        hit = runs.get((op, size, dtype, backend))
        return None if hit is None else hit[0]

    ratios = {(op, fw): _div(seconds(op, "manual"), seconds(op, fw)) for op in OPS for fw in FRAMEWORKS}
    step = seconds("step", "manual")
    kernel = seconds("step", "numpy-matmuls")
    info = runs.get(("step", size, dtype, "manual"), (None, {}))[1]
    flops = info.get("matmul_flops")
    peak = info.get("step_peak_bytes")
    budget = None
    if "activations_bytes" in info and "grads_bytes" in info:
        budget = info["activations_bytes"] + info["grads_bytes"]
    kernel_over_jax = _div(kernel, seconds("step", "jax"))
    unchecked = seconds("step", "manual-unchecked")
    checks_share = None if unchecked is None or not step else 1 - unchecked / step
    floor_s = seconds("step", "numpy-floor")
    floor = (
        None
        if floor_s is None
        else {"seconds": floor_s, **{fw: _div(floor_s, seconds("step", fw)) for fw in FRAMEWORKS}}
    )
    return Row(
        checks_share=checks_share,
        kernel_over_jax=kernel_over_jax,
        floor=floor,
        size=size,
        dtype=dtype,
        ratios=ratios,
        step_seconds=step,
        roofline=_div(kernel, step),
        blas_gflops=None if flops is None else _div(flops / 1e9, kernel),
        peak_bytes=peak,
        alloc_ratio=_div(peak, budget),
    )


# ------------------------------------------------------------------ targets


@dataclass(frozen=True)
class Target:
    sizes: tuple
    text: str
    metric: str  # "roofline", "alloc_ratio" or "<op>:<framework>" (a ratio)
    bound: float
    at_least: bool  # True: metric >= bound passes; False: metric <= bound
    dtypes: tuple = ()  # the dtypes it is for; empty: every dtype

    def value(self, row):
        if ":" in self.metric:
            return row.ratios.get(tuple(self.metric.split(":")))
        return getattr(row, self.metric)

    def status(self, value):
        if value is None:
            return "n/a"
        ok = value >= self.bound if self.at_least else value <= self.bound
        return "PASS" if ok else "MISS"


TARGETS = (
    Target(("large",), "step >= 90% of roofline", "roofline", 0.9, True),
    Target(("large",), "step manual/jax <= 1.0", "step:jax", 1.0, False),
    Target(("tiny", "small"), "step manual/jax <= 0.8", "step:jax", 0.8, False),
    Target(("tiny", "small"), "step manual/torch <= 0.2", "step:torch", 0.2, False),
    Target(SIZE_ORDER, "step allocations <= 1.5x activations+gradients", "alloc_ratio", 1.5, False),
    Target(("tiny",), "input checks <= 10% of the step", "checks_share", 0.10, False),
)


def target_results(table, targets=TARGETS):
    """``[(status, size, dtype, target, value)]``, every target for every matching row."""
    out = []
    for target in targets:
        for row in table:
            if row.size in target.sizes and (not target.dtypes or row.dtype in target.dtypes):
                value = target.value(row)
                out.append((target.status(value), row.size, row.dtype, target, value))
    return out


# ------------------------------------------------------------------ formatting

SHORT = {"forward": "fwd", "loss_and_grads": "grads", "step": "step", "epoch": "epoch"}
HEADER = (
    ["size", "dtype"]
    + [f"{SHORT[op]} m/{fw}" for op in OPS for fw in FRAMEWORKS]
    + ["manual step", "checks", "roofline", "BLAS GFLOP/s", "step peak", "peak/(act+grad)"]
)


def cells(row):
    return (
        [row.size, row.dtype]
        + [_num(row.ratios[(op, fw)]) for op in OPS for fw in FRAMEWORKS]
        + [
            _time(row.step_seconds),
            _percent(row.checks_share),
            _percent(row.roofline),
            "-" if row.blas_gflops is None else f"{row.blas_gflops:.3g}",
            _bytes(row.peak_bytes),
            _num(row.alloc_ratio),
        ]
    )


def text_table(table):
    return _text_grid(HEADER, [cells(r) for r in table])


def markdown_table(table):
    return _markdown_grid(HEADER, [cells(r) for r in table])


def _text_grid(header, body, left=2):
    """Columns padded to their widest cell: the first ``left`` left-aligned (names), the rest right."""
    lines = [header] + body
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]

    def fmt(line):
        return "  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))

    return "\n".join([fmt(lines[0]), fmt(["-" * w for w in widths])] + [fmt(line) for line in lines[1:]])


def _markdown_grid(header, body, left=2):
    align = ["---"] * left + ["---:"] * (len(header) - left)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(line) + " |" for line in body]
    return "\n".join(lines)


def target_lines(results, markdown=False):
    if markdown:
        lines = ["| status | size | dtype | target | value |", "|---|---|---|---|---:|"]
        lines += [f"| {s} | {size} | {dtype} | {t.text} | {_num(v)} |" for s, size, dtype, t, v in results]
        return "\n".join(lines)
    # the ensemble cases' names and targets are longer than the sizes' ones
    w_size = max([6] + [len(r[1]) for r in results])
    w_text = max([48] + [len(r[3].text) for r in results])
    return "\n".join(
        f"{s:4}  {size:{w_size}} {dtype:7}  {t.text:{w_text}} {_num(v)}" for s, size, dtype, t, v in results
    )


def _num(v, digits=2):
    if v is None:
        return "-"
    if abs(v) >= 1000:
        return f"{v:.0f}"
    if 0 < abs(v) < 0.01:
        return f"{v:.2g}"  # a step that allocates almost nothing: keep its size visible
    return f"{v:.{digits}f}"


def _percent(v):
    return "-" if v is None else f"{100 * v:.0f}%"


def _time(seconds):
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _bytes(n):
    if n is None:
        return "-"
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _div(a, b):
    if a is None or b is None or b == 0 or not math.isfinite(a) or not math.isfinite(b):
        return None
    return a / b


def _size_rank(size):
    return SIZE_ORDER.index(size) if size in SIZE_ORDER else len(SIZE_ORDER)


def ablations(runs):
    """``[(size, dtype, variant, slowdown)]``: each choice undone, as its step's time
    over the step as it is."""
    out = []
    for (op, size, dtype, variant), (seconds, _) in sorted(runs.items(), key=lambda kv: _size_rank(kv[0][1])):
        base = runs.get(("ablation", size, dtype, "as-is"))
        if op == "ablation" and variant != "as-is" and base:
            out.append((size, dtype, variant, seconds / base[0] - 1))
    return out


# ------------------------------------------------------------------ ensembles
#
# test_ensemble.py's entries: op "ensemble", size the case ("xor-n1000"), backend
# manual / jax / torch / manual-single, and extra_info["nets_per_call"], the nets one
# timed call steps (N, or 1 for manual-single); op "ensemble-ufuncs": ns per element
# of each NumPy call of the step, in extra_info["ns_per_element"].

ENSEMBLE = "ensemble"
ENSEMBLE_BACKENDS = ("manual", "jax", "torch", "manual-single")
ENSEMBLE_ORDER = ("xor-n1000", "xor-n100000", "small-n256")


@dataclass
class EnsembleRow:
    """One (case, dtype) of the ensemble benchmarks (None: not measured)."""

    size: str  # the case
    dtype: str
    n_nets: int | None
    per_net: dict  # backend -> seconds per net-step (a call's time / the nets it stepped)
    step_seconds: float | None  # manual's whole step
    manual_over_jax: float | None  # per net-step
    manual_over_torch: float | None
    single_over_manual: float | None  # one single-net step / manual's time per net: the ensemble's gain
    traffic_bytes: int | None = None  # what the step must read and write (test_ensemble.step_traffic)
    copy_bandwidth: float | None = None  # bytes per second np.copyto moves (read + write)
    limit_seconds: float | None = None  # traffic / bandwidth
    over_limit: float | None = None  # manual's step / limit
    jax_over_limit: float | None = None


def ensemble_rows(runs):
    pairs = {(size, dtype) for (op, size, dtype, _) in runs if op == ENSEMBLE}
    order = sorted(pairs, key=lambda p: (_ensemble_rank(p[0]), p[0], p[1]))
    return [_ensemble_row(runs, size, dtype) for size, dtype in order]


def _ensemble_row(runs, size, dtype):
    per_net, n_nets = {}, None
    for backend in ENSEMBLE_BACKENDS:
        hit = runs.get((ENSEMBLE, size, dtype, backend))
        if hit is not None:
            seconds, info = hit
            per_net[backend] = seconds / info.get("nets_per_call", 1)
            n_nets = info.get("n_nets", n_nets)
    manual, info = runs.get((ENSEMBLE, size, dtype, "manual"), (None, {}))
    limit = info.get("bandwidth_limited_seconds")
    jax = runs.get((ENSEMBLE, size, dtype, "jax"), (None, {}))[0]
    return EnsembleRow(
        size=size,
        dtype=dtype,
        n_nets=n_nets,
        per_net=per_net,
        step_seconds=manual,
        manual_over_jax=_div(per_net.get("manual"), per_net.get("jax")),
        manual_over_torch=_div(per_net.get("manual"), per_net.get("torch")),
        single_over_manual=_div(per_net.get("manual-single"), per_net.get("manual")),
        traffic_bytes=info.get("traffic_bytes"),
        copy_bandwidth=info.get("copy_bytes_per_second"),
        limit_seconds=limit,
        over_limit=_div(manual, limit),
        jax_over_limit=_div(jax, limit),
    )


def _ensemble_rank(size):
    return ENSEMBLE_ORDER.index(size) if size in ENSEMBLE_ORDER else len(ENSEMBLE_ORDER)


ENSEMBLE_TARGETS = (
    Target(
        ("xor-n1000",), "ensemble manual/jax per net-step <= 0.5", "manual_over_jax", 0.5, False, ("float64",)
    ),
    Target(
        ("xor-n1000",),
        "ensemble: single-net step / manual per net >= 100",
        "single_over_manual",
        100,
        True,
        ("float64",),
    ),
    Target(("xor-n100000",), "ensemble step <= 2x its bandwidth limit", "over_limit", 2.0, False),
)

ENSEMBLE_HEADER = [
    "case",
    "dtype",
    "N",
    *(f"{b} ns/net" for b in ENSEMBLE_BACKENDS),
    "m/jax",
    "m/torch",
    "single/m",
    "manual step",
    "traffic",
    "copy GB/s",
    "bw limit",
    "step/limit",
]


def ensemble_cells(row):
    return [
        row.size,
        row.dtype,
        "-" if row.n_nets is None else str(row.n_nets),
        *(_ns(row.per_net.get(b)) for b in ENSEMBLE_BACKENDS),
        _num(row.manual_over_jax),
        _num(row.manual_over_torch),
        _num(row.single_over_manual),
        _time(row.step_seconds),
        _bytes(row.traffic_bytes),
        "-" if row.copy_bandwidth is None else f"{row.copy_bandwidth / 1e9:.3g}",
        _time(row.limit_seconds),
        _num(row.over_limit),
    ]


def ufunc_rows(runs):
    """``[(name, {dtype: ns per element}, elements)]``: the ensemble-ufuncs entries, calls in run order."""
    costs, elements = {}, None
    for (op, _, dtype, _), (_, info) in runs.items():
        if op == ENSEMBLE + "-ufuncs":
            elements = info.get("elements", elements)
            for name, ns in info.get("ns_per_element", {}).items():
                costs.setdefault(name, {})[dtype] = ns
    return [(name, by_dtype, elements) for name, by_dtype in costs.items()]


def _ufunc_grid(costs, markdown):
    header = ["NumPy call", "float32 ns/elem", "float64 ns/elem", "f64/f32"]
    body = [
        [
            name,
            _num(c.get("float32"), 3),
            _num(c.get("float64"), 3),
            _num(_div(c.get("float64"), c.get("float32"))),
        ]
        for name, c, _ in costs
    ]
    return _markdown_grid(header, body, left=1) if markdown else _text_grid(header, body, left=1)


def _ensemble_section(table, costs, stat, markdown):
    parts = []
    if table:
        body = [ensemble_cells(r) for r in table]
        grid = _markdown_grid(ENSEMBLE_HEADER, body, 3) if markdown else _text_grid(ENSEMBLE_HEADER, body, 3)
        legend = (
            f"Ensembles: ns per net-step ({stat} of the rounds): one call's time / the nets it steps"
            " (manual, jax, torch: N; manual-single: one net's Trainer.step,"
            " so N single-net steps cost N x it).\n"
            "m/jax, m/torch: manual per net-step / the framework's; single/m: a single-net step /"
            " manual's time per net (how much the ensemble gains over a loop of single nets).\n"
            "traffic: the bytes the step must read and write (params, grads, SGD scratch, the workspace's"
            " z, a, delta, work: each written once, read once); copy GB/s: np.copyto on arrays that size,"
            " read + write counted;\n"
            "bw limit: traffic / copy bandwidth; step/limit: manual's step over it."
        )
        for row in table:
            if row.jax_over_limit is not None:
                legend += (
                    f"\n{row.size} {row.dtype}: jax's step takes {_num(row.jax_over_limit)}x"
                    " the bandwidth limit."
                )
        parts.append(f"{grid}\n\n{_legend(legend, markdown)}")
    if costs:
        elements = costs[0][2]
        legend = (
            "What each NumPy call of the XOR ensemble step costs here, ns per element"
            f" ({elements} elements: the hidden layer's (batch, units, N) at N = 100,000;"
            " einsum: per multiply-add term)."
        )
        parts.append(f"{_ufunc_grid(costs, markdown)}\n\n{_legend(legend, markdown)}")
    return "\n\n".join(parts)


DATASET_BACKENDS = ("manual", "torch", "jax", "sklearn")


DATASET = "dataset-epoch"


@dataclass
class DatasetRow:
    size: str  # the dataset's name
    dtype: str
    seconds: dict  # backend -> seconds per epoch

    def over_manual(self, backend):
        return _div(self.seconds.get(backend), self.seconds.get("manual"))

    @property
    def sklearn_over_manual(self):
        return self.over_manual("sklearn")

    @property
    def torch_over_manual(self):
        return self.over_manual("torch")


DATASET_TARGETS = (
    Target(("digits",), "digits epoch: sklearn / manual >= 5", "sklearn_over_manual", 5.0, True),
    Target(("digits",), "digits epoch: torch eager / manual >= 1", "torch_over_manual", 1.0, True),
)


def dataset_rows(runs):
    """One ``DatasetRow`` per dataset of benchmarks/test_datasets.py."""
    found = {}
    for (op, size, dtype, backend), (seconds, _) in runs.items():
        if op == DATASET:
            found.setdefault((size, dtype), {})[backend] = seconds
    return [DatasetRow(size, dtype, sec) for (size, dtype), sec in sorted(found.items())]


def _dataset_section(table, stat, markdown):
    header = ["dataset", *(f"{b} ms" for b in DATASET_BACKENDS), "sklearn/m", "torch/m", "jax/m"]
    body = []
    for row in table:
        sec = row.seconds
        body.append(
            [row.size]
            + [_num(None if sec.get(b) is None else sec[b] * 1e3) for b in DATASET_BACKENDS]
            + [_num(row.over_manual(b)) for b in ("sklearn", "torch", "jax")]
        )
    grid = _markdown_grid(header, body, 1) if markdown else _text_grid(header, body, 1)
    legend = (
        f"Datasets: ms per epoch ({stat} of the rounds) of each recipe (crosscheck.datasets), as each"
        " library's user runs one: manual.train(epochs=1); torch's eager step and jax's jitted step"
        " over the same batches; scikit-learn's partial_fit over the training part.\n"
        "sklearn/m, torch/m, jax/m: that library's epoch over manual's; above 1: manual is faster."
    )
    return f"{grid}\n\n{_legend(legend, markdown)}"


# ------------------------------------------------------------------ layers and the names step
#
# test_layers.py's entries: op "layer", size "<Kind> <size>" (Linear large), backend manual /
# torch / jax; op "names-step", size "makemore", backend manual / floor / torch / jax, the
# manual one with step_peak_bytes, activations_bytes and grads_bytes.

LAYER, NAMES = "layer", "names-step"
LAYER_BACKENDS = ("manual", "torch", "torch-1thread", "jax")
NAMES_BACKENDS = ("manual", "floor", "torch", "jax")


@dataclass
class TimedRow:
    """One layer at one size, or the names step: seconds per backend and the ratios the targets read."""

    size: str  # "Linear large", or "makemore" for the names step
    dtype: str
    seconds: dict  # backend -> seconds per call
    alloc_ratio: float | None = None  # the names step's peak / (activations + gradients)
    peak_bytes: int | None = None

    def over(self, backend):
        return _div(self.seconds.get("manual"), self.seconds.get(backend))

    @property
    def manual_over_torch(self):
        return self.over("torch")

    @property
    def manual_over_floor(self):
        return self.over("floor")

    @property
    def manual_over_torch_explicit(self):
        return self.over("torch-explicit")


def timed_rows(runs, op):
    """One ``TimedRow`` per (size, dtype) of ``op`` ("layer" or "names-step"), in run order."""
    found = {}
    for (kind, size, dtype, backend), (seconds, info) in runs.items():
        if kind == op:
            row = found.setdefault((size, dtype), TimedRow(size, dtype, {}))
            row.seconds[backend] = seconds
            if "step_peak_bytes" in info:
                row.peak_bytes = info["step_peak_bytes"]
                row.alloc_ratio = _div(row.peak_bytes, info["activations_bytes"] + info["grads_bytes"])
    return list(found.values())


LAYER_TARGETS = tuple(
    Target((f"{kind} large",), "layer fwd+bwd manual/torch <= 1.5", "manual_over_torch", 1.5, False)
    for kind in (
        "Linear",
        "BatchNorm1d",
        "LayerNorm",
        "Tanh",
        "GELU",
        "SiLU",
        "Dropout",
        "Embedding",
        "Conv2d",
    )
)
# test_models.py's steps: op "model-step", size "digits-cnn epoch" / "names-lstm step"
MODEL = "model-step"
MODEL_BACKENDS = ("manual", "torch", "torch-explicit", "jax")
MODEL_TARGETS = (
    Target(("digits-cnn epoch",), "digits CNN epoch manual/torch <= 1.0", "manual_over_torch", 1.0, False),
    Target(
        ("names-lstm step",),
        "LSTM step manual/torch-explicit <= 1.0",
        "manual_over_torch_explicit",
        1.0,
        False,
    ),
    Target(
        ("names-lstm step",), "LSTM step allocations <= 1.5x activations+gradients", "alloc_ratio", 1.5, False
    ),
)
NAMES_TARGETS = (
    Target(("makemore",), "names step manual/floor <= 1.25", "manual_over_floor", 1.25, False),
    Target(("makemore",), "names step manual/torch <= 0.6", "manual_over_torch", 0.6, False),
    Target(("makemore",), "names step allocations <= 1.5x activations+gradients", "alloc_ratio", 1.5, False),
)


def _timed_section(layers, names, models, stat, markdown):
    parts = []
    if layers:
        header = ["layer", "dtype", *(f"{b} us" for b in LAYER_BACKENDS), "m/torch", "m/torch-1", "m/jax"]
        body = [
            [r.size, r.dtype]
            + [_num(None if r.seconds.get(b) is None else r.seconds[b] * 1e6, 1) for b in LAYER_BACKENDS]
            + [_num(r.over("torch")), _num(r.over("torch-1thread")), _num(r.over("jax"))]
            for r in layers
        ]
        grid = _markdown_grid(header, body) if markdown else _text_grid(header, body)
        legend = (
            f"Layers: one forward (train mode) + backward with a fixed upstream gradient, us per call"
            f" ({stat} of the rounds), float64; makemore: batch 32, width 200; large: batch 4,096,"
            " width 1,024.\ntorch: the kind's nn.Module, eager (torch-1thread: on one intra-op thread,"
            " as NumPy's elementwise calls run); jax: jax.jit of jax.vjp."
        )
        parts.append(f"{grid}\n\n{_legend(legend, markdown)}")
    if names:
        header = ["step", "dtype", *(f"{b} us" for b in NAMES_BACKENDS), "m/floor", "m/torch", "m/jax"]
        header += ["step peak", "peak/(act+grad)"]
        body = [
            [r.size, r.dtype]
            + [_num(None if r.seconds.get(b) is None else r.seconds[b] * 1e6, 1) for b in NAMES_BACKENDS]
            + [_num(r.over("floor")), _num(r.over("torch")), _num(r.over("jax"))]
            + [_bytes(r.peak_bytes), _num(r.alloc_ratio)]
            for r in names
        ]
        grid = _markdown_grid(header, body) if markdown else _text_grid(header, body)
        legend = (
            "The names model's SGD step (batch 32): manual: Trainer.step; floor: the same step as"
            " straight-line NumPy (benchmarks/floor.py MakemoreStep); torch eager; jax.jit + optax."
        )
        parts.append(f"{grid}\n\n{_legend(legend, markdown)}")
    if models:
        header = [
            "model",
            "dtype",
            *(f"{b} ms" for b in MODEL_BACKENDS),
            "m/torch",
            "m/torch-explicit",
            "m/jax",
        ]
        header += ["step peak", "peak/(act+grad)"]
        body = [
            [r.size, r.dtype]
            + [_num(None if r.seconds.get(b) is None else r.seconds[b] * 1e3, 2) for b in MODEL_BACKENDS]
            + [_num(r.over("torch")), _num(r.over("torch-explicit")), _num(r.over("jax"))]
            + [_bytes(r.peak_bytes), _num(r.alloc_ratio)]
            for r in models
        ]
        grid = _markdown_grid(header, body) if markdown else _text_grid(header, body)
        legend = (
            "The digits CNN's epoch (43 SGD-momentum steps of 32) and the names LSTM's Adam step (batch 32,"
            " T 16): manual: Trainer.step; torch eager (nn.LSTM's fused kernel; torch-explicit: the same cell"
            " as per-step torch ops); jax.jit + optax."
        )
        parts.append(f"{grid}\n\n{_legend(legend, markdown)}")
    return "\n\n".join(parts)


STUDY = "study"
STUDY_BACKENDS = ("in-process", "local-cluster-2", "two-processes")


@dataclass
class StudyRow:
    """One study size: seconds per place, and what the places found (equal or not)."""

    size: str
    seconds: dict
    info: dict
    dtype: str = "float64"
    dask_cost: tuple = None  # (seconds a run, seconds a chunk), from the overhead sizes

    @property
    def speedup(self):
        return _div(self.seconds.get("in-process"), self.seconds.get("local-cluster-2"))

    @property
    def machine(self):
        """What two plain processes at once gain here: the ceiling of any 2-worker speedup."""
        return _div(self.seconds.get("in-process"), self.seconds.get("two-processes"))

    @property
    def of_machine(self):
        """The cluster's throughput over the two plain processes'."""
        return _div(self.speedup, self.machine)

    @property
    def identical(self):
        found = [
            (i.get("learned"), i.get("final_loss"))
            for b, i in sorted(self.info.items())
            if b in STUDY_BACKENDS
        ]
        return None if len(found) < 2 else all(f == found[0] for f in found[1:])

    @property
    def chunk_seconds(self):
        """A chunk's own time on the cluster."""
        i = self.info.get("local-cluster-2", {})
        return _div(i.get("chunk_seconds"), i.get("chunks"))

    @property
    def dask_total(self):
        """Dask's cost in this run: the cluster's worker-seconds not spent inside a chunk."""
        i = self.info.get("local-cluster-2", {})
        per = i.get("overhead_per_chunk_seconds")
        return None if per is None or not i.get("chunks") else per * i["chunks"]

    @property
    def run_share(self):
        """Dask's cost over the cluster's worker-seconds in this run."""
        i = self.info.get("local-cluster-2", {})
        total = self.dask_total
        return None if total is None else _div(total, total + i.get("chunk_seconds", 0.0))

    @property
    def overhead_share(self):
        """Dask's cost per chunk over a chunk's own time."""
        return None if self.dask_cost is None else _div(self.dask_cost[1], self.chunk_seconds)


def _dask_cost(found):
    """(a run's, a chunk's) Dask cost from the two overhead sizes: the same chunks, 4x as many."""
    few, many = found.get("overhead-200"), found.get("overhead-800")
    if few is None or many is None or few.dask_total is None or many.dask_total is None:
        return None
    n_few, n_many = (r.info["local-cluster-2"]["chunks"] for r in (few, many))
    per_chunk = (many.dask_total - few.dask_total) / (n_many - n_few)
    return few.dask_total - per_chunk * n_few, per_chunk


def study_rows(runs):
    found = {}
    for (kind, size, _dtype, backend), (seconds, info) in runs.items():
        if kind == STUDY:
            row = found.setdefault(size, StudyRow(size, {}, {}))
            row.seconds[backend], row.info[backend] = seconds, info
    cost = _dask_cost(found)
    for row in found.values():
        row.dask_cost = cost
    return list(found.values())


STUDY_TARGETS = (
    Target(("xor-1e5",), "study on 2 workers: >= 1.8x the in-process throughput", "speedup", 1.8, True),
    Target(("xor-1e5",), "study on 2 workers: >= 95% of two plain processes'", "of_machine", 0.95, True),
    Target(("xor-1e5",), "study: Dask's cost per chunk <= 2% of a chunk", "overhead_share", 0.02, False),
)


def _study_section(table, markdown):
    header = ["study", "in-process s", "2 workers s", "2 processes s", "ns/net-step here", "speedup"]
    header += ["2 processes", "same numbers"]
    header += ["chunks", "chunk s", "Dask s", "of the run"]
    body = []
    for r in table:
        cl = r.info.get("local-cluster-2", {})
        steps = r.info.get("in-process", {}).get("net_steps")
        body.append(
            [r.size]
            + [_num(r.seconds.get(b), 1) for b in STUDY_BACKENDS]
            + [
                _num(
                    None
                    if not steps or "in-process" not in r.seconds
                    else r.seconds["in-process"] / steps * 1e9,
                    0,
                )
            ]
            + [_num(r.speedup), _num(r.machine), {None: "-", True: "yes", False: "NO"}[r.identical]]
            + [_num(cl.get("chunks"), 0)]
            + [_num(r.chunk_seconds, 3), _num(r.dask_total, 2)]
            + ["-" if r.run_share is None else f"{100 * r.run_share:.2f}%"]
        )
    grid = _markdown_grid(header, body) if markdown else _text_grid(header, body)
    legend = (
        "study_cluster.run in this process and on a 2-worker Dask LocalCluster (its start-up included),"
        " and the same chunks on two plain processes without Dask; speedup: in-process over the cluster,"
        " 2 processes: in-process over the plain processes (what this machine allows two workers);"
        " same numbers: every row's learned count and loss quantiles equal in every place.\nDask s: wall x"
        " workers - time inside the chunks, from when the cluster is up; of the run: of wall x workers."
    )
    cost = table[0].dask_cost if table else None
    if cost is not None:
        fixed, per_chunk = cost
        legend += (
            f"\nDask's cost, from overhead-200 and -800 (the same chunks, 4x as many): {fixed:.2f} s a run"
            f" (the workers' first import, the idle tail) + {per_chunk * 1e3:.2f} ms a chunk, which is 2%"
            f" of a chunk of {per_chunk / 0.02:.3f} s or more."
        )
    return f"{grid}\n\n{_legend(legend, markdown)}"


def _ns(seconds):
    return "-" if seconds is None else _num(seconds * 1e9, 1)


def render(path, markdown=False, stat="min"):
    data = _read(path)
    runs = _runs(data, stat)
    table = rows(runs)
    ens_table = ensemble_rows(runs)
    costs = ufunc_rows(runs)
    data_table = dataset_rows(runs)
    layers, names, models = timed_rows(runs, LAYER), timed_rows(runs, NAMES), timed_rows(runs, MODEL)
    studies = study_rows(runs)
    if not (table or ens_table or costs or data_table or layers or names or models or studies):
        return f"{path}: no benchmarks from benchmarks/ in it (were they run with --benchmark-disable?)"
    results = (
        target_results(table)
        + target_results(ens_table, ENSEMBLE_TARGETS)
        + target_results(data_table, DATASET_TARGETS)
        + target_results(layers, LAYER_TARGETS)
        + target_results(names, NAMES_TARGETS)
        + target_results(models, MODEL_TARGETS)
        + target_results(studies, STUDY_TARGETS)
    )
    counts = {s: sum(r[0] == s for r in results) for s in ("PASS", "MISS", "n/a")}
    summary = f"{counts['PASS']} pass, {counts['MISS']} miss, {counts['n/a']} not measured"
    sections = []
    if table:
        sections.append(_ops_section(table, runs, stat, markdown))
    if ens_table or costs:
        sections.append(_ensemble_section(ens_table, costs, stat, markdown))
    if data_table:
        sections.append(_dataset_section(data_table, stat, markdown))
    if layers or names or models:
        sections.append(_timed_section(layers, names, models, stat, markdown))
    if studies:
        sections.append(_study_section(studies, markdown))
    busy = others_share(data)
    if busy is not None and busy > BUSY:
        sections.append(
            f"WARNING: other processes used {busy:.0%} of the CPUs during this run;"
            " they contend with the benchmark's BLAS threads, so these ratios are unreliable."
            " Rerun on a quiet machine."
        )
    if markdown:
        sections.append(f"Targets ({summary}):\n\n{target_lines(results, True)}")
    else:
        sections.append(f"Targets ({summary}):\n{target_lines(results)}")
    return "\n\n".join(sections)


def _legend(text, markdown):
    return "  \n".join(text.splitlines()) if markdown else text  # Markdown line breaks


def _ops_section(table, runs, stat, markdown):
    legend = (
        f"m/torch, m/jax: manual time / framework time ({stat} of the rounds); below 1: manual is faster.\n"
        "fwd: forward; grads: loss_and_grads; step: one SGD step (Trainer.step: forward, backward, update);\n"
        "epoch: manual.train for one epoch of 8 batches against the frameworks' loops"
        " over the same batches.\n"
        "checks: the share of manual's step its input checks take (against Trainer.step(validate=False)).\n"
        "roofline: time of the step's matmuls alone in NumPy / time of manual's step;"
        " BLAS GFLOP/s: those matmuls' speed.\n"
        "step peak: what one manual step allocates (tracemalloc), over activations + gradients bytes."
    )
    for row in table:
        if row.size == "large" and row.kernel_over_jax is not None:
            legend += (
                f"\nlarge {row.dtype}: the step's matmuls alone in NumPy take {_num(row.kernel_over_jax)}"
                f" of jax.jit's whole step: no NumPy step, however lean, gets below that ratio."
            )
        if row.floor:
            legend += (
                f"\nfloor, {row.size} {row.dtype}: the same NumPy calls as straight-line code take "
                f"{_time(row.floor['seconds'])}: floor/jax {_num(row.floor['jax'])}, "
                f"floor/torch {_num(row.floor['torch'])} (manual's step: {_time(row.step_seconds)})."
            )
    undone = ablations(runs)
    if undone:
        legend += "\nwhat each choice buys (the step with it undone, slower by):"
        for size, dtype, variant, slower in undone:
            legend += f"\n  {size:6} {dtype:7} {variant:14} {100 * slower:+.1f}%"
    grid = markdown_table(table) if markdown else text_table(table)
    return f"{grid}\n\n{_legend(legend, markdown)}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("json", help="the file pytest --benchmark-json wrote")
    parser.add_argument("--markdown", action="store_true", help="Markdown tables, for the README")
    parser.add_argument(
        "--stat", default="min", choices=("min", "median", "mean"), help="which statistic of the rounds"
    )
    args = parser.parse_args(argv)
    print(render(args.json, args.markdown, args.stat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
