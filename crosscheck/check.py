"""Check anyone's backprop: run a hand-written function beside PyTorch, JAX and
finite differences on the same net and data, say where it parts from them and
which classic mistake explains it (``crosscheck.diagnosis`` states the rules).

    report = crosscheck.check(fn, net, layout="torch")             # fn(params, x, y) -> (loss, grads)
    print(report)                                                   # the table, and the diagnosis
    crosscheck.assert_backprop_matches(fn, net, x, y)               # AssertionError carrying the report

(a training step: ``crosscheck.steps.check_training``)

net: a ``manual.MLP``, or its plain description and params ``(spec, params)``;
x, y: the data, or left out: the check then draws data on which every mistake
of the catalogue changes the gradients (``draw_data``). layout: see
``crosscheck.layouts``. The user's function runs guarded (``crosscheck.usercode``):
its exceptions, exits, prints and a call longer than ``timeout`` seconds are
reported as its own, never the harness's.
"""

import json
import math
import numbers
from dataclasses import dataclass, field

import numpy as np

import manual
from manual.gradcheck import compare_with_numeric, numeric_grads

from . import backends, drawing, mistakes, usercode
from .compare import compare, finite_differences_skipped, rounding_scale
from .diagnosis import Candidate, Quantity, close_loss, diagnose
from .layouts import LayoutError, layout_from
from .tolerances import tolerance

FD = "finite differences"
DRAWN_BATCH = 5  # samples in drawn data: more than one, so sum, mean and one sample differ
DRAW_TRIES = 20


@dataclass
class Row:
    """One quantity ("loss", "W1", ...) of the user's against one truth.
    verdict: PASS, FAIL, or NOTE (the loss only: off by less than a guard in a log moves it)."""

    param: str
    truth: str  # "torch", "jax" or "finite differences"
    max_abs: float
    max_rel: float
    ratio: float  # error over what is allowed: passes when <= 1
    ok: bool
    verdict: str = ""
    key: object = None  # "loss", or (layer index, name)

    def __post_init__(self):
        self.verdict = self.verdict or ("PASS" if self.ok else "FAIL")


@dataclass
class CheckReport:
    name: str
    net: object
    x: np.ndarray
    y: np.ndarray
    scale: tuple  # the rounding scale of every quantity (compare.rounding_scale)
    layout: object
    loss: float
    grads: list  # the user's, in the plain layout, float64
    truths: dict  # name -> (loss, grads)
    rows: list
    diagnosis: object  # a crosscheck.diagnosis.Diagnosis
    notes: list = field(default_factory=list)
    missing: list = field(default_factory=list)  # frameworks that are not installed
    drawn: bool = False  # the check drew the data itself

    @property
    def ok(self):
        return all(r.ok for r in self.rows)

    @property
    def reference(self):
        """The truth the differences and the diagnosis are stated against."""
        return next(iter(self.truths))

    @property
    def first_layer(self):
        """1-based: the first layer from the output down whose gradients part from the truth (None)."""
        failing = {r.key[0] for r in self.rows if not r.ok and r.key != "loss"}
        return max(failing) + 1 if failing else None

    @property
    def findings(self):
        """The diagnosis's sentences (empty when everything agrees)."""
        return [] if self.ok else list(self.diagnosis.lines)

    @property
    def explained_by(self):
        """``[(mistake key, layer)]`` that give every one of the user's values."""
        return [(c.key, c.where) for c in self.diagnosis.explained_by]

    def differs(self, layer, name):
        """Per entry of parameter ``name`` ("W", "b") of layer ``layer`` (0-based), whether the
        user's value parts from the reference truth by more than the parity tolerance allows."""
        scale = self.scale[1][layer][name]
        truth = np.asarray(self.truths[self.reference][1][layer][name], np.float64)
        tol = tolerance("parity", self.net.dtype).rtol
        with np.errstate(invalid="ignore"):
            return ~(
                np.abs(self.grads[layer][name] - truth)
                <= tol * scale + 1024 * float(np.finfo(self.net.dtype).tiny)
            )

    def text(self):
        return "\n".join(_render(self))

    __str__ = text

    def to_json(self):
        d = self.diagnosis
        return {
            "name": self.name,
            "ok": self.ok,
            "architecture": "-".join(map(str, self.net.sizes)),
            "layout": self.layout.describe(),
            "data": "drawn" if self.drawn else "given",
            "batch": len(self.x),
            "truths": list(self.truths),
            "missing": self.missing,
            "rows": [vars(r) for r in self.rows],
            "first_layer": self.first_layer,
            "diagnosis": {
                "verdict": "agrees" if self.ok else d.verdict,
                "sentences": self.findings,
                "explained_by": [
                    {"mistake": c.key, "layer": c.where, "text": c.text} for c in d.explained_by
                ],
                "off": d.off,
                "differences": d.differences,
                "unseen": [{"mistake": c.key, "layer": c.where, "text": c.text} for c in d.unseen],
                "precision": d.precision,
            },
            "notes": self.notes,
        }


def as_net(net):
    """A ``manual.MLP`` from an MLP or from ``(spec, params)``."""
    if isinstance(net, manual.MLP):
        return net
    if isinstance(net, (tuple, list)) and len(net) == 2 and isinstance(net[0], dict) and "sizes" in net[0]:
        spec, params = net
        return manual.MLP.from_params(
            [
                {k: v for k, v in layer.items() if k != "b" or spec["bias"][l]}
                for l, layer in enumerate(params)
            ],
            activation=list(spec["activations"]),
            loss=spec["loss"],
            reduction=spec["reduction"],
            dtype=spec["dtype"],
            l2=spec.get("l2", 0.0),
        )
    if isinstance(net, (tuple, list)) and net and all(isinstance(layer, dict) for layer in net):
        raise TypeError(
            "net: expected a manual.MLP or (spec, params), got a list of "
            f"{len(net)} dicts, which looks like net.params: pass the net itself, or (net.spec(), net.params)"
        )
    raise TypeError(f"net: expected a manual.MLP or (spec, params), got {type(net).__name__}")


def draw_data(net, seed=0):
    """``(x, y)``: ``DRAWN_BATCH`` samples on which every mistake of the catalogue that
    applies to ``net`` changes the gradients beyond rounding (the first of a few
    seeds that manages it; else the one on which the most do). x ~ N(0, 1); y as
    the loss takes it (one-hot rows, {0, 1}, or U[0, 1) for mse)."""
    best = None
    for k in range(DRAW_TRIES):
        rng = np.random.default_rng(seed + k)
        n_in, n_out = net.sizes[0], net.sizes[-1]
        x = rng.standard_normal((DRAWN_BATCH, n_in))
        if net.loss_name == "cross_entropy":
            y = np.eye(n_out)[rng.integers(0, n_out, DRAWN_BATCH)]
        elif net.loss_name == "bce":
            y = rng.integers(0, 2, (DRAWN_BATCH, n_out)).astype(float)
        else:
            y = rng.random((DRAWN_BATCH, n_out))
        x, y = x.astype(net.dtype), y.astype(net.dtype)
        hidden = len(_unseen(net, x, y))
        if best is None or hidden < best[0]:
            best = (hidden, x, y)
        if hidden == 0:
            break
    return best[1], best[2]


def _unseen(net, x, y):
    truth = mistakes.gradients(net, x, y)
    scale = rounding_scale(net, x, y)
    return [
        (m, l)
        for m, l in mistakes.applicable(net)
        if all(r.ok for r in compare(truth, mistakes.gradients(net, x, y, m, l), scale, net.dtype))
    ]


def _data(net, x, y):
    if (x is None) != (y is None):
        raise TypeError("x, y: give both, or neither (the check then draws data that shows every mistake)")
    if x is None:
        return (*draw_data(net), True)
    return (*net.check_data(x, y), False)


def run_user(user, net, x, y, layout, timeout, calls):
    """``(loss, loss dtype, grads, grads dtypes)`` of the user's function, in the plain
    layout; LayoutError when its shapes do not fit, UserCodeError when it fails."""
    params = layout.params_to_user(net.params)
    xu, yu = layout.data_to_user(x, y)
    result = usercode.call(user, (params, xu, yu), timeout, calls)
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise LayoutError(f"the function returned {type(result).__name__}; expected (loss, grads)")
    loss, grads = result
    value, loss_dtype = layout.loss_from_user(loss)
    grads, dtypes = layout.params_from_user(grads, net.spec(), "grads")
    return value, loss_dtype, grads, dtypes


def check(
    fn, net, x=None, y=None, layout=None, name=None, timeout=usercode.DEFAULT_TIMEOUT, **layout_keywords
):
    """Run ``fn(params, x, y) -> (loss, grads)`` and every truth on the same net and
    data; return a ``CheckReport`` (``print`` it; ``.ok``)."""
    net = as_net(net)
    layout = layout_from(layout, **layout_keywords)
    check_timeout(timeout)
    user = usercode.as_user_function(fn, name)
    x, y, drawn = _data(net, x, y)
    calls = usercode.Calls()
    loss, loss_dtype, grads, dtypes = run_user(user, net, x, y, layout, timeout, calls)
    truths = {name_: backends.loss_and_grads(name_, net, x, y) for name_ in backends.available()}
    scale = rounding_scale(net, x, y)
    notes = []
    rows = []
    for truth, result in truths.items():
        rows += _rows(truth, result, (loss, grads), scale, net.dtype)
    skipped = finite_differences_skipped(net)
    if skipped is None:
        numeric = numeric_grads(net, x, y)
        true_loss = net.loss(x, y)
        rows += _finite_difference_rows(grads, numeric, true_loss, scale[1], net.dtype)
        truths.setdefault(FD, (true_loss, numeric))
    else:
        notes.append(f"finite differences skipped: {skipped}")
    if not truths:
        truths["the textbook backward pass"] = mistakes.gradients(net, x, y)
        rows += _rows(
            "the textbook backward pass",
            truths["the textbook backward pass"],
            (loss, grads),
            scale,
            net.dtype,
        )
    reference = truths[next(iter(truths))]
    quantities = _quantities(net, (loss, grads), (loss_dtype, dtypes), reference, scale)
    candidates = [
        Candidate(m.key, l, m.describe(net, l, len(x)), values_of(net, mistakes.gradients(net, x, y, m, l)))
        for m, l in mistakes.applicable(net)
    ]
    diagnosis = diagnose(quantities, candidates, net.dtype)
    report = CheckReport(
        user.name,
        net,
        x,
        y,
        scale,
        layout,
        loss,
        grads,
        truths,
        rows,
        diagnosis,
        notes,
        [k for k, v in backends.installed().items() if v is None],
        drawn,
    )
    report.notes = _notes(report, calls) + notes
    return report


def _rows(truth, expected, actual, scale, dtype):
    rows = []
    for r in compare(expected, actual, scale, dtype):
        tol = tolerance("parity", dtype).rtol
        if r.name == "loss" and not r.ok and math.isfinite(r.max_abs):
            e, a = float(expected[0]), float(actual[0])
            if close_loss(a, e, float(scale[0]), dtype):
                rows.append(Row(r.name, truth, r.max_abs, r.max_rel, r.max_scaled / tol, True, "NOTE", r.key))
                continue
        rows.append(Row(r.name, truth, r.max_abs, r.max_rel, r.max_scaled / tol, r.ok, key=r.key))
    return rows


def _finite_difference_rows(grads, numeric, loss, scale, dtype):
    """The user's gradients against central differences (float64, ``manual.gradcheck``'s
    rule), allowing besides the rounding any correct implementation in the net's dtype
    has (a float32 net's gradients are float32: 1e-7 relative, beyond gradcheck's 1e-6 ·
    |numeric| where an entry is small)."""
    rule = compare_with_numeric(grads, numeric, loss, rtol=tolerance("finite_differences", np.float64).rtol)
    rows = []
    parity = tolerance("parity", dtype).rtol
    for c in rule.checks:
        l, k = c.layer - 1, c.name
        allowed = rule.rtol * np.abs(c.numeric) + rule.atol + parity * np.asarray(scale[l][k], np.float64)
        with np.errstate(invalid="ignore"):
            worst = float(np.max(np.abs(c.analytic - c.numeric) / allowed))
        worst = worst if np.isfinite(worst) else float("inf")
        rows.append(Row(f"{k}{c.layer}", FD, c.max_abs, c.max_rel, worst, worst <= 1, key=(l, k)))
    return rows


def _quantities(net, mine, dtypes, truth, scale):
    (loss, grads), (loss_dtype, grad_dtypes) = mine, dtypes
    qs = [
        Quantity(
            "loss",
            "the loss",
            np.float64(loss),
            np.float64(truth[0]),
            np.float64(scale[0]),
            loss_dtype,
            is_loss=True,
        )
    ]
    for l in reversed(range(net.n_layers)):
        for k in ("W", "b"):
            if k in grads[l]:
                qs.append(
                    Quantity(
                        (l, k),
                        f"{k}{l + 1}",
                        grads[l][k],
                        np.asarray(truth[1][l][k], np.float64),
                        scale[1][l][k],
                        grad_dtypes[l][k],
                    )
                )
    return qs


def values_of(net, result):
    loss, grads = result
    values = {"loss": np.float64(loss)}
    for l, layer in enumerate(grads):
        for k, v in layer.items():
            values[(l, k)] = v
    return values


def _notes(report, calls):
    notes = []
    d = report.diagnosis
    if report.drawn:
        notes.append(
            f"data: {len(report.x)} samples drawn by the check (x ~ N(0, 1)), on which "
            + (
                "every mistake of the catalogue changes the gradients"
                if not d.unseen
                else "every mistake of the catalogue but those below changes the gradients"
            )
        )
    if d.unseen:
        texts = "; ".join(c.text for c in d.unseen)
        drawn_unseen = {(m.key, l) for m, l in _unseen(report.net, *draw_data(report.net))}
        if report.drawn or all((c.key, c.where) in drawn_unseen for c in d.unseen):
            advice = "no data drawn for this net shows them: the net itself hides them"
        else:
            advice = "leave the data out and the check draws data that shows them"
        n = len(d.unseen)
        notes.append(
            f"on this net and data, {n} mistake{'s' if n > 1 else ''} of the catalogue "
            f"give{'' if n > 1 else 's'} the true gradients, so this check could not have seen "
            f"{'them' if n > 1 else 'it'}: {texts} ({advice})"
        )
    if report.ok and d.verdict == "close":
        notes += d.lines
    if calls.warnings:
        notes.append("your function warned: " + "; ".join(calls.notes()))
    return notes


def assert_backprop_matches(fn, net, x=None, y=None, layout=None, **keywords):
    """``check`` in pytest's idiom: returns the report, or raises AssertionError whose
    message is the report (the table and the diagnosis)."""
    report = check(fn, net, x, y, layout, **keywords)
    if not report.ok:
        raise AssertionError("\n" + report.text())
    return report


def check_timeout(timeout):
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not timeout > 0:
        raise ValueError(f"timeout: expected a positive number of seconds or None, got {timeout!r}")


# ------------------------------------------------------------------ text


def _render(r):
    net = r.net
    arch = "-".join(map(str, net.sizes))
    l2 = f", l2 = {net.l2:g}" if net.l2 else ""
    yield (
        f"check: {r.name}: {arch} net, {', '.join(net.activations)}, {net.loss_name} ({net.reduction}){l2}, "
        f"{net.dtype.name}, batch of {len(r.x)}{' (drawn)' if r.drawn else ''}; layout {r.layout.describe()}"
    )
    truths = list(r.truths)
    yield (
        "  your loss and gradients against each truth: max abs err, max rel err, err / allowed (pass: <= 1)"
    )
    yield "    param  " + "".join(f"{t:<36}" for t in truths).rstrip()
    by_param = {}
    for row in r.rows:
        by_param.setdefault(row.param, {})[row.truth] = row
    order = ["loss"] + [f"{k}{l}" for l in range(net.n_layers, 0, -1) for k in "Wb" if f"{k}{l}" in by_param]
    for param in order:
        cells = []
        for t in truths:
            row = by_param[param].get(t)
            cells.append(
                " " * 36
                if row is None
                else "  ".join(table_number(v) for v in (row.max_abs, row.max_rel, row.ratio))
                + f"  {row.verdict}    "
            )
        yield f"    {param:<6} " + "".join(cells).rstrip()
    if r.ok:
        yield f"  your backprop agrees with {' and '.join(truths)}"
    elif r.diagnosis.verdict == "agrees":
        failing = sorted({row.truth for row in r.rows if not row.ok})
        yield (
            f"  your loss and gradients agree with {r.reference}, but not with {' and '.join(failing)}: "
            "see the FAIL lines above (the truths disagree with each other: please report it)"
        )
    else:
        for line in r.diagnosis.lines:
            yield f"  {line}"
    for note in r.notes:
        yield f"  note: {note}"
    for k in r.missing:
        extra = backends.EXTRAS[k]
        yield f"  ({k} is not installed: pip install 'backprop-by-hand[{extra}]' to compare with it)"


def table_number(v):
    """A table number: 1.2e-03, or nan / inf spelled out."""
    return f"{v:.1e}" if math.isfinite(v) else f"{'nan' if math.isnan(v) else 'inf':>7}"


def check_drawing(report):
    """The check's net with every gradient coloured: red where the user's parts from the truth."""
    net = report.net
    differs = {f"{k}{l + 1}": report.differs(l, k) for l, layer in enumerate(net.params) for k in layer}
    caption = "; ".join(report.findings) or "every gradient agrees with the truth"
    trace = net.trace(report.x, report.y)
    return drawing.layout_net(
        net.sizes,
        net.params,
        report.grads,
        z=[np.asarray(t.z, np.float64)[0] for t in trace.layers],
        a=[np.asarray(t.a, np.float64)[0] for t in trace.layers],
        x=np.asarray(report.x, np.float64)[0],
        differs=differs,
        truth=report.truths[report.reference][1],
        caption=caption,
        title=f"{report.name}: your dW and db, coloured against {report.reference}",
    )


def dumps(report):
    return json.dumps(
        report.to_json(), indent=1, default=lambda o: o.item() if hasattr(o, "item") else repr(o)
    )
