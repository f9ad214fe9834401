"""How often does a small net's training loop learn its data? Many starts at once, per
learning rate, initializer and init scale, with ``manual.Ensemble``; split into chunks
that run anywhere (``crosscheck.study_cluster``: in-process, or on Dask).

The preset is seed 000's question: a 2-2-1 sigmoid net with summed mse, trained by
full-batch gradient descent from U[0, 1) starts, learns XOR when every output lies
on the right side of 0.5. Start ``i`` is what ``manual.MLP(sizes, init=init,
seed=i)`` draws, times the init scale, wherever it runs; the same starts are trained
at every learning rate, so the rates are compared on equal terms.

A chunk is starts ``[start, stop)`` of one cell (data, sizes, init, scale) at every
learning rate, trained as one ensemble. It keeps per start what the report needs
(final loss, learned, the epoch it learned, the epoch it diverged) and, for the loss
curves, a histogram of the losses at fixed epochs. Merged in start order, chunks give
the same numbers bit for bit however the starts were cut (a net's arithmetic in an
ensemble does not depend on its neighbours: tested).
"""

import hashlib
import math
import numbers
import re
import time
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

import numpy as np

import manual
from manual.activations import ACTIVATIONS
from manual.initializers import INITS
from manual.losses import LOSSES, REDUCTIONS

from .errors import UsageError
from .examples import SEED000_X, SEED000_Y, XOR_X
from .inputs import load_npz, read_csv

DATA = {"xor": XOR_X.astype(np.float64), "as_written": SEED000_X.astype(np.float64)}
TARGETS = SEED000_Y.astype(np.float64)
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
# the loss curves' histogram: log10(loss) in 0.05-wide bins over [1e-16, 1e4), one bin
# below (0 included) and one above (non-finite included)
CURVE_EDGES = 10.0 ** np.linspace(-16, 4, 401)
CURVE_POINTS = 60
# a chunk's ensemble whose arrays hold about this many floats runs fastest per net-step
# here: XOR's 2-2-1 at 10,000 nets a call takes 109 ns a net-step, at 50,000 135 ns;
# a 2-16-1 at 2,500 nets 674 ns, at 10,000 762 ns (docs/study.md)
CHUNK_FLOATS = 750_000
Z95 = 1.959963984540054


# ------------------------------------------------------------------ what is studied


@dataclass(frozen=True)
class Dataset:
    """Inputs ``x`` ``(batch, n_in)`` and targets ``y`` ``(batch, n_out)``, float64."""

    name: str
    x: np.ndarray = field(repr=False, compare=False)
    y: np.ndarray = field(repr=False, compare=False)

    @property
    def sha256(self):
        h = hashlib.sha256()
        for a in (self.x, self.y):
            h.update(str(a.shape).encode())
            h.update(np.ascontiguousarray(a, np.float64).tobytes())
        return h.hexdigest()


@dataclass(frozen=True)
class Rule:
    """When a net has learned: ``right-side`` (every output on the target's side of 0.5),
    ``loss<=X`` (its loss at most X) or ``accuracy>=X`` (that share of samples classified
    right: the argmax for several outputs, the side of 0.5 for one)."""

    kind: str
    threshold: float | None = None

    def __str__(self):
        return self.kind if self.threshold is None else f"{self.kind}{self.threshold:g}"

    def holds(self, ens, data):
        """Per net, ``(N,)`` bool."""
        if self.kind == "loss<=":
            return ens.loss(data.x, data.y) <= self.threshold
        out = ens.forward(data.x)  # (N, batch, n_out)
        if self.kind == "right-side":
            return ((out > 0.5) == (data.y > 0.5)).all(axis=(1, 2))
        if out.shape[-1] == 1:
            right = (out[..., 0] > 0.5) == (data.y[:, 0] > 0.5)
        else:
            right = out.argmax(axis=-1) == data.y.argmax(axis=-1)
        return right.mean(axis=1) >= self.threshold


@dataclass(frozen=True)
class Definition:
    """A study: every (data, sizes, init, scale) cell, ``nets`` starts each, trained at
    every learning rate for ``epochs`` full-batch epochs; ``chunk`` starts a task."""

    data: tuple
    sizes: tuple = ((2, 2, 1),)
    activation: str = "sigmoid"
    output_activation: str = "sigmoid"
    loss: str = "mse"
    reduction: str = "sum"
    lrs: tuple = (0.05, 0.1, 0.5, 1.0, 2.0)
    inits: tuple = ("uniform",)
    scales: tuple = (1.0,)
    nets: int = 10_000
    epochs: int = 10_000
    check_every: int = 10
    rule: Rule = Rule("right-side")
    chunk: int = 2_000

    def cells(self):
        """``(data index, sizes, init, scale)`` per cell, data slowest."""
        return list(product(range(len(self.data)), self.sizes, self.inits, self.scales))

    def chunks(self):
        """``(index, cell index, start, stop)`` per chunk, cell by cell."""
        out = []
        for c in range(len(self.cells())):
            for start in range(0, self.nets, self.chunk):
                out.append((len(out), c, start, min(start + self.chunk, self.nets)))
        return out

    def curve_epochs(self):
        """The epochs whose losses the curves show: about ``CURVE_POINTS``, log-spaced."""
        return np.unique(np.geomspace(1, self.epochs, CURVE_POINTS).round().astype(int))

    def to_json(self):
        """Everything the numbers depend on (the data by content), but not ``chunk``."""
        return {
            "data": [
                {"name": d.name, "sha256": d.sha256, "shape": [d.x.shape, d.y.shape]} for d in self.data
            ],
            "sizes": [list(s) for s in self.sizes],
            "activation": self.activation,
            "output_activation": self.output_activation,
            "loss": self.loss,
            "reduction": self.reduction,
            "lrs": list(self.lrs),
            "inits": list(self.inits),
            "init_scales": list(self.scales),
            "nets": self.nets,
            "epochs": self.epochs,
            "check_every": self.check_every,
            "success": str(self.rule),
        }

    @property
    def is_xor_preset(self):
        return self.sizes == ((2, 2, 1),) and all(d.name in DATA for d in self.data)


def _count(flag, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise UsageError(f"{flag}: expected a count >= 1, got {value!r}")
    return int(value)


def _positive(flag, values, what):
    values = tuple(values)
    ok = all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v) and v > 0 for v in values
    )
    if not values or not ok:
        raise UsageError(f"{flag}: expected positive {what}, got {list(values)}")
    if len(set(values)) != len(values):
        raise UsageError(
            f"{flag}: a{'n' * what.startswith('i')} {what[:-1]} is given twice in {list(values)}"
        )
    return tuple(float(v) for v in values)


def _names(flag, given, known):
    given = tuple(given)
    unknown = [v for v in given if v not in known]
    if not given or unknown or len(set(given)) != len(given):
        raise UsageError(f"{flag}: expected distinct names from {', '.join(known)}, got {list(given)}")
    return given


def _name(flag, value, known, what=""):
    """One of ``known``; ``what`` says what the one is ("one hidden activation, ")."""
    if value not in known:
        raise UsageError(f"{flag}: expected {what}one of {', '.join(known)}, got {value!r}")
    return value


def parse_rule(text):
    """``right-side``, ``loss<=X`` or ``accuracy>=X`` (X in (0, 1] for accuracy)."""
    if text == "right-side":
        return Rule("right-side")
    m = re.fullmatch(r"(loss<=|accuracy>=)([-+0-9.eE]+)", str(text).replace(" ", ""))
    try:
        threshold = float(m.group(2)) if m else math.nan
    except ValueError:
        threshold = math.nan
    ok = np.isfinite(threshold) and (threshold >= 0 if m and m.group(1) == "loss<=" else 0 < threshold <= 1)
    if not m or not ok:
        raise UsageError(
            f"--success: expected right-side, loss<=X (X >= 0) or accuracy>=X (0 < X <= 1), got {text!r}"
        )
    return Rule(m.group(1), threshold)


def load_data(spec, n_in, n_out, loss):
    """A ``Dataset`` from ``xor``, ``as_written``, or a file: ``.npz`` with arrays ``x``
    and ``y``, or a numeric ``.csv`` whose last columns are the targets (``n_out`` of
    them, or one column of class labels 0..n_out-1 for cross_entropy); targets the loss
    cannot take (bce: outside [0, 1]; cross_entropy: rows that are not one-hot) are refused,
    naming the first (its line in a .csv)."""
    lines = None  # a .csv's line number of each sample
    if spec in DATA:
        x, y = DATA[spec], TARGETS
    else:
        path = Path(spec)
        if not path.is_file():
            raise UsageError(f"--data {spec}: expected xor, as_written, or a .npz or .csv file; no such file")
        if path.suffix.lower() == ".npz":
            arrays = load_npz(path, f"--data {spec}")
            if not {"x", "y"} <= set(arrays):
                raise UsageError(f"--data {spec}: expected arrays x and y in the .npz, got {sorted(arrays)}")
            x, y = np.asarray(arrays["x"]), np.asarray(arrays["y"])
        elif path.suffix.lower() == ".csv":
            table, lines = read_csv(path, f"--data {spec}")
            width = 1 if (loss == "cross_entropy" and table.shape[1] == n_in + 1) else n_out
            x, y = table[:, : table.shape[1] - width], table[:, table.shape[1] - width :]
        else:
            raise UsageError(f"--data {spec}: expected a file ending in .npz or .csv")
        if y.ndim == 1:
            y = y[:, None]
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y) or len(x) == 0:
        raise UsageError(
            f"--data {spec}: expected x (batch, n_in) and y (batch, n_out) with one row per sample, "
            f"got x {x.shape} and y {y.shape}"
        )
    if not (np.issubdtype(x.dtype, np.number) and np.issubdtype(y.dtype, np.number)):
        raise UsageError(f"--data {spec}: expected numbers, got {x.dtype} and {y.dtype}")
    x, y = x.astype(np.float64), y.astype(np.float64)
    if loss == "cross_entropy" and y.shape[1] == 1 and n_out > 1:
        labels = y[:, 0]
        if not (np.all(labels == np.round(labels)) and labels.min() >= 0 and labels.max() < n_out):
            raise UsageError(
                f"--data {spec}: expected class labels 0..{n_out - 1}, got {np.unique(labels)[:8]}"
            )
        y = np.eye(n_out)[labels.astype(int)]
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise UsageError(f"--data {spec}: expected finite numbers, found NaN or infinity")
    if x.shape[1] != n_in or y.shape[1] != n_out:
        raise UsageError(
            f"--data {spec}: the net takes {n_in} inputs and gives {n_out} outputs; "
            f"the data has {x.shape[1]} input and {y.shape[1]} target columns"
        )

    def at(i, j):
        return f"on line {lines[i]}" if lines is not None else f"at y[{i}{'' if j is None else f', {j}'}]"

    if loss == "bce" and ((y < 0) | (y > 1)).any():
        i, j = np.argwhere((y < 0) | (y > 1))[0]
        raise UsageError(
            f"--data {spec}: expected targets in [0, 1] for --loss bce, got {y[i, j]:g} {at(i, j)}"
        )
    one_hot = ((y == 0) | (y == 1)).all(axis=1) & (y.sum(axis=1) == 1)
    if loss == "cross_entropy" and not one_hot.all():
        i = int(np.argmin(one_hot))
        raise UsageError(
            f"--data {spec}: expected one-hot target rows (one 1, the rest 0) or one column of class labels "
            f"0..{n_out - 1} for --loss cross_entropy, got {', '.join(f'{v:g}' for v in y[i])} {at(i, None)}"
        )
    name = spec if spec in DATA else Path(spec).stem
    return Dataset(name, x, y)


def define(
    data=("xor", "as_written"),
    sizes=((2, 2, 1),),
    activation="sigmoid",
    output_activation=None,
    loss="mse",
    reduction="sum",
    lrs=(0.05, 0.1, 0.5, 1.0, 2.0),
    inits=("uniform",),
    scales=(1.0,),
    nets=10_000,
    epochs=10_000,
    check_every=10,
    success=None,
    chunk=None,
):
    """A checked ``Definition``; a UsageError naming what was expected for a bad argument.
    ``output_activation`` None: what the loss needs (bce sigmoid, cross_entropy softmax),
    else ``activation``; ``success`` None: right-side for 0/1 targets, else one must be given;
    ``chunk`` None: ``default_chunk``."""
    nets, epochs, check_every = (
        _count(f, v) for f, v in (("--nets", nets), ("--epochs", epochs), ("--check-every", check_every))
    )
    if chunk is not None:
        chunk = _count("--chunk", chunk)
    lrs = _positive("--lr", lrs, "learning rates")
    scales = _positive("--init-scale", scales, "init scales")
    inits = _names("--init", inits, INITS)
    _name("--activation", activation, [a for a in ACTIVATIONS if a != "softmax"], "one hidden activation, ")
    _name("--loss", loss, list(LOSSES))
    _name("--reduction", reduction, list(REDUCTIONS))
    wanted = LOSSES[loss].output_activation
    if output_activation is None:
        output_activation = wanted or activation
    _name("--output-activation", output_activation, list(ACTIVATIONS))
    sizes = tuple(tuple(s) for s in sizes)
    if not sizes or len(set(sizes)) != len(sizes):
        raise UsageError(f"--sizes: expected distinct architectures, got {[list(s) for s in sizes]}")
    for s in sizes:
        if len(s) < 2 or not all(
            isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 1 for n in s
        ):
            raise UsageError(f"--sizes: expected layer widths >= 1 like 2,2,1, got {list(s)}")
        if wanted is not None and output_activation != wanted:
            # the engine's message names its keyword (output_activation=); here it is a flag
            raise UsageError(
                f"--sizes {','.join(map(str, s))} with --loss {loss}: expected a {wanted} output layer, got "
                f"--output-activation {output_activation}; pass --output-activation {wanted}, or leave it out"
            )
        try:
            manual.Ensemble(list(s), 1, activation, output_activation, loss, reduction)
        except (TypeError, ValueError) as err:
            raise UsageError(f"--sizes {','.join(map(str, s))} with --loss {loss}: {err}") from None
        if loss == "cross_entropy" and s[-1] < 2:
            raise UsageError(
                f"--sizes {','.join(map(str, s))} with --loss cross_entropy: expected 2 or more outputs "
                f"(one per class), got {s[-1]}; for two classes, 2 outputs or --loss bce"
            )
    if len({(s[0], s[-1]) for s in sizes}) != 1:
        raise UsageError(f"--sizes: expected one input and one output width for every net, got {sizes}")
    data = tuple(data)
    if not data or len(set(data)) != len(data):
        raise UsageError(f"--data: expected distinct data sets, got {list(data)}")
    sets = tuple(load_data(d, sizes[0][0], sizes[0][-1], loss) for d in data)
    if len({d.name for d in sets}) != len(sets):
        raise UsageError(f"--data: two data sets share a name, got {[d.name for d in sets]}")
    binary = all(np.isin(d.y, (0.0, 1.0)).all() for d in sets)
    rule = parse_rule(success) if success is not None else None
    if rule is None:
        if not binary:
            raise UsageError(
                "--success: the targets are not all 0 or 1; say when a net has learned "
                "(loss<=X or accuracy>=X)"
            )
        rule = Rule("right-side") if loss != "cross_entropy" else Rule("accuracy>=", 1.0)
    if rule.kind in ("right-side", "accuracy>=") and not binary:
        raise UsageError(f"--success {rule}: expected targets of 0 and 1, got other values")
    if chunk is None:
        chunk = default_chunk(sizes, max(len(d.x) for d in sets), len(lrs))
    return Definition(
        sets,
        sizes,
        activation,
        output_activation,
        loss,
        reduction,
        lrs,
        inits,
        scales,
        nets,
        epochs,
        check_every,
        rule,
        chunk,
    )


def default_chunk(sizes, batch, rates):
    """Starts per chunk whose ensemble (starts x rates nets) holds about ``CHUNK_FLOATS``
    floats for the largest of ``sizes``: per net, z, a and delta ``(batch, width)`` per layer
    and four copies of the parameters (them, their gradient, two temporaries); in multiples of
    100, at least 100 (XOR at 5 rates: 2,000)."""
    per_net = max(3 * batch * sum(s[1:]) + 4 * sum((i + 1) * o for i, o in zip(s, s[1:])) for s in sizes)
    starts = CHUNK_FLOATS // (per_net * rates)
    return max(100, starts // 100 * 100)


# ------------------------------------------------------------------ one chunk


def run_chunk(definition, chunk, progress=None):
    """Train chunk ``(index, cell, start, stop)`` of ``definition``; returns its arrays, every
    per-start one ``(learning rates, stop - start)``: ``final_loss``, ``learned``, ``first``
    (the check from which on the rule held, -1 none), ``frozen`` (the step whose loss was not
    finite, -1 none); ``curves`` ``(curve epochs, learning rates, bins)`` counts; ``seconds``.
    ``progress(k)`` is called with the epochs done since its last call."""
    began = time.perf_counter()
    d = definition
    index, cell, start, stop = chunk
    data_i, sizes, init, scale = d.cells()[cell]
    data = d.data[data_i]
    n, lrs = stop - start, np.array(d.lrs)
    starts = manual.Ensemble(
        list(sizes),
        seeds=range(start, stop),
        activation=d.activation,
        output_activation=d.output_activation,
        loss=d.loss,
        reduction=d.reduction,
        init=init,
    )
    # every start once per learning rate: net k is start k % n at rate lrs[k // n]
    tiled = [
        {k: scale * np.tile(v, (len(lrs),) + (1,) * (v.ndim - 1)) for k, v in layer.items()}
        for layer in starts.params
    ]
    ens = manual.Ensemble.from_params(tiled, d.activation, d.output_activation, d.loss, d.reduction)
    trainer = manual.Trainer(ens, manual.SGD(lr=np.repeat(lrs, n)))
    curve_at = {int(e): i for i, e in enumerate(d.curve_epochs())}
    curves = np.zeros((len(curve_at), len(lrs), len(CURVE_EDGES) + 1), np.int64)
    first = np.full(ens.n_nets, -1)
    last_report = 0
    for epoch in range(1, d.epochs + 1):
        losses = trainer.step(data.x, data.y)
        if epoch in curve_at:
            bins = np.searchsorted(CURVE_EDGES, np.where(np.isfinite(losses), losses, np.inf), side="right")
            for r in range(len(lrs)):
                curves[curve_at[epoch], r] = np.bincount(
                    bins[r * n : (r + 1) * n], minlength=curves.shape[-1]
                )
        if epoch % d.check_every == 0 or epoch == d.epochs:
            right = d.rule.holds(ens, data)
            first[~right] = -1  # learned means: from some check on, to the end
            first[right & (first < 0)] = epoch
            if progress is not None:
                progress(epoch - last_report)
                last_report = epoch
    learned = d.rule.holds(ens, data)
    shape = (len(lrs), n)
    return {
        "chunk": np.array([index, cell, start, stop]),
        "final_loss": ens.loss(data.x, data.y).reshape(shape),
        "learned": learned.reshape(shape),
        "first": np.where(learned, first, -1).reshape(shape),
        "frozen": trainer.frozen.reshape(shape),
        "curves": curves,
        "seconds": np.array(time.perf_counter() - began),
    }


# ------------------------------------------------------------------ merged


@dataclass
class StudyRow:
    """One cell at one learning rate: ``nets`` starts trained for ``epochs``.

    learned: how many ended with the rule holding. final_loss: the quantiles ``QUANTILES``
    of the final losses over all starts. epochs_to_learn: over the starts that learned,
    the first checked epoch from which on the rule held (median, 90th percentile); None
    when none learned. diverged: starts frozen for a non-finite loss.
    """

    data: str
    init: str
    lr: float
    nets: int
    learned: int
    final_loss: tuple
    epochs_to_learn: tuple | None
    diverged: int
    sizes: tuple = (2, 2, 1)
    scale: float = 1.0

    @property
    def fraction(self):
        return self.learned / self.nets

    @property
    def interval(self):
        """The fraction's 95% confidence interval (Wilson's score interval)."""
        n, p, z2 = self.nets, self.fraction, Z95**2
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
        # all or none learned: the bound at 1 (or 0) is exact, where centre ± half rounds beside it
        lo = 0.0 if self.learned == 0 else max(0.0, centre - half)
        hi = 1.0 if self.learned == self.nets else min(1.0, centre + half)
        return lo, hi


@dataclass
class Curves:
    """Loss quantiles over the epochs for one cell: ``epochs`` ``(checks,)``, ``losses``
    ``(checks, learning rates, len(QUANTILES))``, read off the merged histograms (within
    one bin, 0.05 in log10, of the exact quantile)."""

    data: str
    init: str
    lrs: tuple
    epochs: np.ndarray
    losses: np.ndarray
    sizes: tuple = (2, 2, 1)
    scale: float = 1.0


@dataclass
class Study:
    nets: int
    epochs: int
    check_every: int
    rows: list = field(default_factory=list)
    curves: list = field(default_factory=list)
    definition: Definition | None = None
    timing: dict | None = None


def merge(definition, results):
    """The ``Study`` from every chunk's result (``{chunk index: run_chunk's dict}``), in start order."""
    d = definition
    study = Study(d.nets, d.epochs, d.check_every, definition=d)
    by_cell = {}
    for index, cell, _, _ in d.chunks():
        by_cell.setdefault(cell, []).append(results[index])
    for cell, parts in by_cell.items():
        data_i, sizes, init, scale = d.cells()[cell]
        joined = {
            k: np.concatenate([p[k] for p in parts], axis=1)
            for k in ("final_loss", "learned", "first", "frozen")
        }
        for r, lr in enumerate(d.lrs):
            took = joined["first"][r][joined["learned"][r]]
            study.rows.append(
                StudyRow(
                    data=d.data[data_i].name,
                    init=init,
                    lr=lr,
                    nets=d.nets,
                    learned=int(joined["learned"][r].sum()),
                    final_loss=quantiles_of(joined["final_loss"][r], QUANTILES),
                    epochs_to_learn=(float(np.median(took)), float(np.quantile(took, 0.9)))
                    if took.size
                    else None,
                    diverged=int((joined["frozen"][r] >= 0).sum()),
                    sizes=sizes,
                    scale=scale,
                )
            )
        counts = sum(p["curves"] for p in parts)
        study.curves.append(
            Curves(d.data[data_i].name, init, d.lrs, d.curve_epochs(), _quantiles(counts), sizes, scale)
        )
    return study


def quantiles_of(values, qs):
    """``qs`` of ``values`` as NumPy's linear method gives them, with a non-finite value (a
    diverged start's loss) read as +inf, the largest: a quantile between two infinities is
    inf, not inf - inf = NaN (and no NumPy warning)."""
    ordered = np.sort(np.where(np.isfinite(values), values, np.inf))
    out = []
    for q in qs:
        at = q * (len(ordered) - 1)
        below, frac = int(np.floor(at)), at - np.floor(at)
        lo, hi = ordered[below], ordered[min(below + 1, len(ordered) - 1)]
        # lo inf makes hi inf: lo == hi; hi alone inf gives inf without an inf - inf
        out.append(float(lo) if frac == 0 or lo == hi else float(lo + (hi - lo) * frac))
    return tuple(out)


def _quantiles(counts):
    """``QUANTILES`` of each histogram of ``counts`` ``(..., bins)``, interpolated in log10 within
    the bin that holds each (so within one bin, 0.05 in log10, of the exact quantile); 0 below
    the first edge, inf above the last."""
    cum = np.cumsum(counts, axis=-1)
    out = np.empty(counts.shape[:-1] + (len(QUANTILES),))
    for idx in np.ndindex(counts.shape[:-1]):
        c, k = cum[idx], counts[idx]
        for qi, q in enumerate(QUANTILES):
            target = q * c[-1]
            b = int(
                np.searchsorted(c, target, side="left")
            )  # the first bin whose cumulative count reaches it
            if b == 0 or b == len(c) - 1:
                out[idx + (qi,)] = 0.0 if b == 0 else np.inf
                continue
            within = (target - c[b - 1]) / k[b]
            lo, hi = CURVE_EDGES[b - 1], CURVE_EDGES[b]
            out[idx + (qi,)] = lo * (hi / lo) ** within
    return out


# ------------------------------------------------------------------ output


def _net(d):
    sizes = " | ".join("-".join(map(str, s)) for s in d.sizes)
    acts = d.activation if d.output_activation == d.activation else f"{d.activation}/{d.output_activation}"
    return f"{sizes} {acts}, {d.loss} {'summed' if d.reduction == 'sum' else 'averaged'}"


def percent(p):
    """``p`` in percent to one decimal, or as many more as keep a value that is not 0 or 100
    from reading as one: 10,000 of 10,000 learned, a 95% interval from 99.96, not 100.0."""
    for digits in range(1, 6):
        text = f"{100 * p:.{digits}f}"
        if (p == 0 or float(text) != 0) and (p == 1 or float(text) != 100):
            break
    return text


def render(study):
    """The study as a text table."""
    d = study.definition
    what = "XOR study" if d.is_xor_preset else "Study"
    rule = "every output on the right side of 0.5" if d.rule.kind == "right-side" else str(d.rule)
    seed = ": seed 000's loop" if d.is_xor_preset and d.loss == "mse" and d.activation == "sigmoid" else ""
    lines = [
        f"{what}: {study.nets:,} starts per learning rate, {study.epochs:,} epochs of full-batch gradient "
        f"descent ({_net(d)}{seed}); learned = {rule} at the end; epochs checked every {study.check_every}",
        "",
    ]
    show_sizes, show_scale = len(d.sizes) > 1, d.scales != (1.0,)
    # as wide as the longest name in them, and never narrower than before
    wd = max(11, 1 + max(len(x.name) for x in d.data))
    ws = max(10, 1 + max(len("-".join(map(str, s))) for s in d.sizes))
    head = f"  {'data':<{wd}} " + (f"{'sizes':<{ws}} " if show_sizes else "") + f"{'init':<8} "
    head += f"{'scale':>6} " if show_scale else ""
    lines.append(
        head + f"{'lr':>6} {'learned [95% interval]':>30} {'final loss median [p5, p95]':>32} "
        f"{'epochs to learn median / p90':>30}"
    )
    for r in study.rows:
        took = (
            "-" if r.epochs_to_learn is None else f"{r.epochs_to_learn[0]:,.0f} / {r.epochs_to_learn[1]:,.0f}"
        )
        loss = f"{r.final_loss[2]:.2e} [{r.final_loss[0]:.1e}, {r.final_loss[4]:.1e}]"
        lo, hi = r.interval
        learned = f"{r.learned:,} ({percent(r.fraction)}%) [{percent(lo)}, {percent(hi)}]"
        line = f"  {r.data:<{wd}} " + (f"{'-'.join(map(str, r.sizes)):<{ws}} " if show_sizes else "")
        line += f"{r.init:<8} " + (f"{r.scale:>6g} " if show_scale else "")
        lines.append(line + f"{r.lr:>6g} {learned:>30} {loss:>32} {took:>30}")
        if r.diverged:
            lines[-1] += f"  ({r.diverged} diverged)"
    if study.timing:
        t = study.timing
        lines += [
            "",
            f"  {t['chunks']} chunk{'s' * (t['chunks'] > 1)} ({t['computed']} computed in this run) in "
            f"{t['where']}: {t['wall_seconds']:.1f} s, {t['chunk_seconds']:.1f} s inside the chunks",
        ]
    return "\n".join(lines)


def as_json(study):
    return {
        "nets": study.nets,
        "epochs": study.epochs,
        "check_every": study.check_every,
        "definition": study.definition.to_json(),
        "quantiles": list(QUANTILES),
        "rows": [
            {
                "data": r.data,
                "sizes": list(r.sizes),
                "init": r.init,
                "init_scale": r.scale,
                "lr": r.lr,
                "nets": r.nets,
                "learned": r.learned,
                "fraction": r.fraction,
                "interval95": list(r.interval),
                "final_loss_quantiles": list(r.final_loss),
                "epochs_to_learn": None
                if r.epochs_to_learn is None
                else dict(zip(("median", "p90"), r.epochs_to_learn)),
                "diverged": r.diverged,
            }
            for r in study.rows
        ],
        "timing": study.timing,
    }


def plot(study, path):
    """Success fraction against learning rate, per cell; the first cell's loss bands over the epochs."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'backprop-by-hand[plot]'") from None
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), dpi=100)
    styles = ["-", "--", "-.", ":"]
    markers = ["o", "s", "^", "v", "D"]
    d = study.definition

    def cell(c):
        """The cell's name as the table tells cells apart: sizes and scale when there are several."""
        return ", ".join(
            [c.data]
            + (["-".join(map(str, c.sizes))] if len(d.sizes) > 1 else [])
            + [c.init]
            + ([f"scale {c.scale:g}"] if len(d.scales) > 1 else [])
        )

    def rows_of(c):
        key = (c.data, c.sizes, c.init, c.scale)
        return [r for r in study.rows if (r.data, r.sizes, r.init, r.scale) == key]

    for curves in study.curves:
        rows = rows_of(curves)
        names = [n.name for n in d.data]
        style = dict(ls=styles[names.index(curves.data) % 4], marker=markers[d.inits.index(curves.init) % 5])
        left.plot([r.lr for r in rows], [r.fraction for r in rows], **style, label=cell(curves))
    left.set(
        xscale="log", xlabel="learning rate", ylabel="fraction of starts that learned", ylim=(-0.02, 1.02)
    )
    left.set_title(f"{study.nets:,} starts per rate, {study.epochs:,} epochs")
    left.legend()
    left.grid(alpha=0.3)
    main = study.curves[0]
    lost = {r.lr: r.diverged == r.nets for r in rows_of(main)}
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(main.lrs)))
    drawable = np.isfinite(main.losses) & (main.losses > 0)  # the histogram's open ends are not drawn
    for r, (lr, color) in enumerate(zip(main.lrs, colors)):
        q = np.where(drawable[:, r, :], main.losses[:, r, :], np.nan)
        right.fill_between(main.epochs, q[:, 0], q[:, 4], color=color, alpha=0.12, lw=0)
        right.fill_between(main.epochs, q[:, 1], q[:, 3], color=color, alpha=0.3, lw=0)
        alone = np.isfinite(q[:, 2]).sum() == 1  # a line of one point is not seen: a dot
        label = f"lr {lr:g}" + (": every start diverged" if lost[lr] else "")
        right.plot(
            main.epochs, q[:, 2], color=color, lw=1.6, marker="o" if alone else None, ms=4, label=label
        )
    right.set(xscale="log", yscale="log", xlabel="epoch", ylabel="loss", xlim=(1, max(study.epochs, 2)))
    finite = main.epochs[np.isfinite(main.losses).any(axis=(1, 2))]
    note = None
    if all(lost.values()):
        note = "every start diverged: no finite loss" + (
            f" after epoch {finite.max():,}" if finite.size else ""
        )
    elif not drawable.any():
        note = f"every loss below {CURVE_EDGES[0]:.0e}: nothing to draw on a log scale"
    if not drawable.any():  # a log axis with nothing on it has no ticks to find: the histogram's range
        right.set_ylim(CURVE_EDGES[0], CURVE_EDGES[-1])
    if note:
        right.text(0.5, 0.5, note, transform=right.transAxes, ha="center", va="center")
    right.set_title(f"{cell(main)}\nmedian, 25-75% and 5-95% of starts")  # two lines: a long name fits
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
