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

import functools
import math
from dataclasses import dataclass, field

import numpy as np

import manual
from manual.activations import ACTIVATIONS
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


@dataclass(frozen=True)
class Resolution:
    param: str
    resolution: float


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
    data_can_be_drawn: bool = True  # False for a seed's own code, which comes with its data
    sharper: object = None  # a float32 net's: the same check on the net and data in float64

    @property
    def ok(self):
        return all(r.ok for r in self.rows) and (self.sharper is None or self.sharper.ok)

    @property
    def resolutions(self):
        """Per gradient, how far (norm-wise relative) a correct implementation in the net's dtype
        may be off on this data: the smallest error the check can see in it, at best."""
        truth = self.truths[self.reference]
        return [
            Resolution(f"{k}{l + 1}", resolution((l, k), truth, self.scale, self.net.dtype))
            for l, layer in enumerate(self.grads)
            for k in layer
        ]

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
    def decisive(self):
        """The report whose diagnosis stands: a float32 net's float64 run where that one fails
        (it sees what float32's rounding hides), else this one."""
        return self.sharper if self.sharper is not None and not self.sharper.ok else self

    @property
    def findings(self):
        """The diagnosis's sentences (empty when everything agrees)."""
        return [] if self.ok else list(self.decisive.diagnosis.lines)

    @property
    def explained_by(self):
        """``[(mistake key, layer)]`` that give every one of the user's values."""
        return [(c.key, c.where) for c in self.decisive.diagnosis.explained_by]

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
        d = self.decisive.diagnosis
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
            "float64_copy": None
            if self.sharper is None
            else {"ok": self.sharper.ok, "rows": [vars(r) for r in self.sharper.rows]},
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


def candidates(net, x, y):
    """Every mistake of the catalogue at every layer it applies to, with the values it gives."""
    return [
        Candidate(m.key, l, m.describe(net, l, len(x)), values_of(net, mistakes.gradients(net, x, y, m, l)))
        for m, l in mistakes.applicable(net)
    ]


def run_user(user, net, x, y, layout, timeout, calls):
    """``(loss, loss dtype, grads, grads dtypes)`` of the user's function, in the plain
    layout; LayoutError when its shapes do not fit, UserCodeError when it fails."""
    params = layout.params_to_user(net.params)
    xu, yu = layout.data_to_user(x, y)
    try:
        result = usercode.call(user, (params, xu, yu), timeout, calls)
    except usercode.UserCodeError as err:
        raise _with_layout_hint(err, layout, net, xu) from None
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        count = f" of {len(result)} items" if isinstance(result, (tuple, list)) else ""
        raise LayoutError(f"the function returned a {type(result).__name__}{count}; expected (loss, grads)")
    loss, grads = result
    value, loss_dtype = layout.loss_from_user(loss)
    grads, dtypes = layout.params_from_user(grads, net.spec(), "grads")
    return value, loss_dtype, grads, dtypes


TEXTBOOK = "the textbook backward pass"
SHAPE_WORDS = ("shape", "aligned", "broadcast", "dimension", "mismatch")


def _with_layout_hint(err, layout, net, x):
    """A shape error raised by the user's code, with the shapes it was given and the layout
    they came in: the likeliest cause is a layout that is not the function's."""
    if err.kind != "raised" or not any(w in str(err) for w in SHAPE_WORDS):
        return err
    w = layout.weight_shape(net.sizes[0], net.sizes[1])
    hint = (
        f" (a shape error: it was given W1 of shape {w} and x of shape {np.shape(x)}, in the layout "
        f"{layout.describe()}; if yours is another, say so with --layout or layout=)"
    )
    return usercode.UserCodeError(str(err) + hint, err.kind, err.user_traceback)


def check(
    fn,
    net,
    x=None,
    y=None,
    layout=None,
    name=None,
    timeout=usercode.DEFAULT_TIMEOUT,
    fixed_data=False,
    **layout_keywords,
):
    """Run ``fn(params, x, y) -> (loss, grads)`` and every truth on the same net and
    data; return a ``CheckReport`` (``print`` it; ``.ok``). ``fixed_data``: the data is a
    given (a seed's), so the report does not advise leaving it out.

    A float32 net's rounding can hide an error (summed over a batch, a correct float32
    gradient may be off by a percent or more): the function is run a second time on the
    net and data in float64 (``report.sharper``), where that bound is a million times
    smaller, unless it returns float32 whatever it is given."""
    net = as_net(net)
    layout = layout_from(layout, **layout_keywords)
    usercode.check_timeout(timeout)
    user = usercode.as_user_function(fn, name)
    x, y, drawn = _data(net, x, y)
    report = _check_once(user, net, x, y, layout, timeout, drawn, fixed_data)
    if net.dtype == np.float32:
        net64 = net.with_params(net.params, dtype=np.float64)
        sharper = _check_once(
            user, net64, x.astype(np.float64), y.astype(np.float64), layout, timeout, drawn, fixed_data
        )
        if sharper.diagnosis.precision is None:  # it computed in float64 when given float64
            report.sharper = sharper
        else:
            report.notes.append(
                "your function returns float32 even when given float64, so only the float32 comparison "
                "applies"
            )
    return report


def _check_once(user, net, x, y, layout, timeout, drawn, fixed_data):
    """``check`` on one net and data: the user's function, every truth, the diagnosis."""
    calls = usercode.Calls()
    loss, loss_dtype, grads, dtypes = run_user(user, net, x, y, layout, timeout, calls)
    with np.errstate(all="ignore"):  # the user's values may overflow a comparison: said, not warned
        truths = {name_: backends.loss_and_grads(name_, net, x, y) for name_ in backends.available()}
        if not truths:  # no framework: the catalogue's own textbook backward pass (held to both in the tests)
            truths[TEXTBOOK] = mistakes.gradients(net, x, y)
        _check_finite_truth(truths)
        scale = rounding_scale(net, x, y)
        notes = []
        rows = []
        for truth, result in truths.items():
            rows += _rows(truth, result, (loss, grads), scale, net.dtype)
        skipped = finite_differences_skipped(net)
        if skipped is None:
            numeric = numeric_grads(net, x, y)
            true_loss = net.loss(x, y)
            fd_rows = _finite_difference_rows(grads, numeric, true_loss, scale[1], net.dtype)
            rows += _kinks(net, x, fd_rows, rows, notes)
            truths[FD] = (true_loss, numeric)
        else:
            notes.append(f"finite differences skipped: {skipped}")
        reference = truths[next(iter(truths))]
        quantities = _quantities(net, (loss, grads), (loss_dtype, dtypes), reference, scale, layout)
        diagnosis = diagnose(quantities, candidates(net, x, y), net.dtype)
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
        not fixed_data,
    )
    report.notes = _notes(report, calls) + notes
    return report


def _check_finite_truth(truths):
    """The truth must be finite: on data or weights where the net's own loss or gradients
    overflow there is nothing to hold a user's function to."""
    for name, (loss, grads) in truths.items():
        bad = [] if np.isfinite(loss) else ["the loss"]
        bad += [
            f"{k}{l + 1}" for l, g in enumerate(grads) for k, v in g.items() if not np.all(np.isfinite(v))
        ]
        if bad:
            raise ValueError(
                f"on this net and data, {name}'s own {', '.join(bad)} {'is' if len(bad) == 1 else 'are'} not "
                "finite (an overflow): choose data and weights on which the net's numbers are finite"
            )


def _rows(truth, expected, actual, scale, dtype):
    rows = []
    tol = tolerance("parity", dtype).rtol
    for r in compare(expected, actual, scale, dtype):
        if r.name == "loss" and not r.ok and math.isfinite(r.max_abs):
            e, a = float(expected[0]), float(actual[0])
            if close_loss(a, e, float(scale[0]), dtype):
                rows.append(Row(r.name, truth, r.max_abs, r.max_rel, r.max_scaled / tol, True, "NOTE", r.key))
                continue
        ok = r.ok and (r.key == "loss" or r.max_rel <= _cap(r.key, expected, scale, dtype))
        rows.append(Row(r.name, truth, r.max_abs, r.max_rel, r.max_scaled / tol, ok, key=r.key))
    return rows


def _cap(key, truth, scale, dtype):
    """The largest norm-wise relative error a parameter's gradient may have and pass: what every
    comparison promises to see (``mistake_match``: 1e-6, 1e-3 in float32), unless the array is
    so small against its terms' rounding that a correct implementation may be off by more
    (then that much: ``resolution``)."""
    return max(tolerance("mistake_match", dtype).rtol, resolution(key, truth, scale, dtype))


def resolution(key, truth, scale, dtype):
    """How far, norm-wise relative, a correct implementation in ``dtype`` may be from the truth
    on this array: its largest rounding allowance over its largest value."""
    l, k = key
    value = float(np.max(np.abs(np.asarray(truth[1][l][k], np.float64)), initial=0.0))
    allowance = tolerance("parity", dtype).rtol * float(np.max(scale[1][l][k], initial=0.0))
    return allowance / value if value > 0 else float("inf")


def _kinks(net, x, fd_rows, rows, notes):
    """Finite differences' rows, a disagreement of theirs made a NOTE where every framework
    agrees with the user's function: on data where a ReLU's input is exactly 0 (its kink,
    where PyTorch and JAX take the derivative as 0), a central difference averages both sides."""
    frameworks = {r.truth for r in rows if r.truth != TEXTBOOK}
    if not frameworks:
        return fd_rows
    agreed = {r.key for r in rows if r.ok and r.truth in frameworks}
    agreed = {k for k in agreed if all(r.ok for r in rows if r.key == k and r.truth in frameworks)}
    out, noted = [], []
    for r in fd_rows:
        if not r.ok and r.key in agreed:
            out.append(Row(r.param, r.truth, r.max_abs, r.max_rel, r.ratio, True, "NOTE", r.key))
            noted.append(r.param)
        else:
            out.append(r)
    if noted:
        kink = _at_a_kink(net, x)
        why = (
            "a ReLU's input is exactly 0 on this data (its kink: PyTorch and JAX take the derivative as 0 "
            "there, a central difference averages both sides)"
            if kink
            else "the loss is not smooth enough here for a central difference"
        )
        notes.append(
            f"finite differences disagree with {' and '.join(sorted(frameworks))} on {', '.join(noted)}, "
            f"where your function agrees with them: {why}; not counted"
        )
    return out


def _at_a_kink(net, x):
    """Whether some ReLU or leaky ReLU of the net sees an input of exactly 0."""
    a = np.asarray(x, np.float64)
    for layer, name in zip(net.params, net.activations):
        z = a @ np.asarray(layer["W"], np.float64) + np.asarray(layer.get("b", 0.0), np.float64)
        if name in ("relu", "leaky_relu") and np.any(z == 0):
            return True
        a = ACTIVATIONS[name](z)
    return False


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
        value = float(np.max(np.abs(c.numeric), initial=0.0))
        cap = max(
            tolerance("mistake_match", dtype).rtol,
            parity * float(np.max(scale[l][k])) / value if value else 0,
        )
        ok = worst <= 1 and c.max_rel <= cap
        rows.append(Row(f"{k}{c.layer}", FD, c.max_abs, c.max_rel, worst, ok, key=(l, k)))
    return rows


def _quantities(net, mine, dtypes, truth, scale, layout):
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
                        user_index=functools.partial(layout.user_index, k, n_out=net.sizes[l + 1]),
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
        n = len(d.unseen)
        them = "them" if n > 1 else "it"
        if report.drawn:
            advice = f"no data drawn for this net shows {them}: the net itself hides {them}"
        elif not report.data_can_be_drawn:
            advice = f"the example's own data cannot show {them}"
        else:
            drawn_unseen = {(m.key, l) for m, l in _unseen(report.net, *draw_data(report.net))}
            if all((c.key, c.where) in drawn_unseen for c in d.unseen):
                advice = f"no data drawn for this net shows {them} either: the net itself hides {them}"
            else:
                advice = f"leave the data out and the check draws data that shows {them}"
        notes.append(
            f"on this net and data, {n} mistake{'s' if n > 1 else ''} of the catalogue "
            f"give{'' if n > 1 else 's'} the true gradients, so this check could not have seen {them}: "
            f"{texts} ({advice})"
        )
    blind = [
        (r.param, r.resolution)
        for r in report.resolutions
        if r.resolution > tolerance("mistake_match", report.net.dtype).rtol
    ]
    if blind:
        shown = ", ".join(f"{name} {res:.1e}" for name, res in blind)
        notes.append(
            f"on this data, a correct {report.net.dtype.name} implementation may be this far off, relative, "
            f"so smaller errors cannot be seen in: {shown} (the rounding of their terms, summed over the "
            f"batch{'; a float64 net sees far less' if report.net.dtype == np.float32 else ''})"
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
    yield from _table(r)
    if r.sharper is not None:
        worst = max(res.resolution for res in r.resolutions)
        yield (
            f"  the same function on the net and data in float64 (float32's rounding may hide up to "
            f"{worst:.1e} relative here):"
        )
        yield from _table(r.sharper)
    d = r.decisive
    if r.ok:
        yield f"  your backprop agrees with {' and '.join(truths)}"
    elif d.diagnosis.verdict == "agrees":
        failing = sorted({row.truth for row in d.rows if not row.ok})
        yield (
            f"  your loss and gradients agree with {d.reference}, but not with {' and '.join(failing)}: "
            "see the FAIL lines above (the truths disagree with each other: please report it)"
        )
    else:
        for line in d.diagnosis.lines:
            yield f"  {line}"
    for note in r.notes + ([n for n in r.sharper.notes if n not in r.notes] if r.sharper else []):
        yield f"  note: {note}"
    for k in r.missing:
        extra = backends.EXTRAS[k]
        yield f"  ({k} is not installed: pip install 'backprop-by-hand[{extra}]' to compare with it)"


def _table(r):
    net = r.net
    truths = list(r.truths)
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
