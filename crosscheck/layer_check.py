"""Check a hand-written layer in CS231n's idiom against PyTorch, JAX and central
differences, and name the mistake (``crosscheck.diagnosis`` states the rules).

    report = crosscheck.check_layer(batchnorm_forward, batchnorm_backward, "batchnorm")
    print(report)                       # forward output first, then every gradient; the diagnosis
    report = crosscheck.check_layer(affine_forward, affine_backward, "affine", x, w, b, dout=dout)
    report = crosscheck.check_layer(dropout_forward, dropout_backward, "dropout", p=0.3)   # config
    report = crosscheck.check_layer(softmax_loss, None, "softmax_loss")                     # a loss
    crosscheck.assert_layer_matches(...)                   # the same, AssertionError carrying the report

``inputs``: the forward's own arguments, in its order (``x, gamma, beta, bn_param``;
the config dict may be left out, then the kind's default updated by ``**config``),
or nothing: the check draws inputs that show every mistake of its catalogue
(``crosscheck.layer_kinds``). ``dout``: the upstream gradient (default: drawn,
N(0, 1)). The kinds, their signatures and conventions: ``crosscheck.layer_kinds``.

The forward's output is compared first, then every gradient, each against every
truth: max abs error, max relative error (norm-wise, over the truth's largest
entry), the error over what rounding allows (``rounding`` bounds; passes <= 1).
The user's functions run guarded (``crosscheck.usercode``).
"""

import copy
import dataclasses
import html
import math
import sys
from dataclasses import dataclass, field

import numpy as np

from manual.layers import from_config

from . import backends, usercode
from .diagnosis import Candidate, Quantity, diagnose
from .errors import UsageError
from .layer_kinds import KINDS, kind_of, layer_truths
from .layer_mistakes import MISTAKES, Inputs
from .layouts import LayoutError, to_numpy
from .tolerances import tolerance

FD = "finite differences"
EPS64 = float(np.finfo(np.float64).eps)
KEPT_SIGMAS = 5  # a mask's kept fraction further than this from p (binomial) is not p's
# the drawn upstream gradient's stream: ``default_rng([DOUT_STREAM, seed])``, which no user's
# ``default_rng(s)`` reproduces (a dout equal to x makes affine's dw = xᵀx symmetric, dwᵀ unseen)
DOUT_STREAM = 0x5EED_D0D7


class LayerCallError(ValueError):
    """The user's function returned something that is not what its kind returns."""


@dataclass
class Row:
    """One array ("out", "loss", "dx", "dgamma", ...) of the user's against one truth."""

    name: str
    truth: str
    max_abs: float
    max_rel: float
    ratio: float  # the largest error over what rounding allows: passes when <= 1
    ok: bool
    verdict: str = ""
    # entries no rounding reaches (their bound is 0: a mask's 0, dout passed through) where the user's
    # differ; the ratio is over the other entries (over an allowance of 0 it would read 1e+305)
    exact_missed: int = 0
    exact_zero: bool = False  # those entries' truth is 0

    def __post_init__(self):
        self.verdict = self.verdict or ("PASS" if self.ok else "FAIL")


@dataclass
class LayerReport:
    name: str
    kind: str
    shapes: dict  # the forward's arrays' shapes
    param: dict | None
    dtype: object
    drawn: bool
    truths: list  # the truths' names, in order
    rows: list
    diagnosis: object = None  # a crosscheck.diagnosis.Diagnosis (None: a shape problem)
    shape_findings: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    options: dict = field(default_factory=dict)  # the kind's keywords outside its config (gate_order)

    @property
    def ok(self):
        return not self.shape_findings and all(r.ok for r in self.rows)

    @property
    def findings(self):
        if self.ok:
            return []
        return self.shape_findings or list(self.diagnosis.lines)

    @property
    def explained_by(self):
        """The keys of the catalogue's mistakes that give every one of the user's values."""
        return [] if self.ok or self.diagnosis is None else [c.key for c in self.diagnosis.explained_by]

    def text(self):
        return "\n".join(_render(self))

    __str__ = text

    def _repr_html_(self):
        return _html(self)

    def to_json(self):
        d = self.diagnosis
        return {
            "name": self.name,
            "kind": self.kind,
            "ok": self.ok,
            "shapes": self.shapes,
            "param": self.param,
            "options": self.options,
            "dtype": np.dtype(self.dtype).name,
            "inputs": "drawn" if self.drawn else "given",
            "truths": self.truths,
            "missing": self.missing,
            "rows": [vars(r) for r in self.rows],
            "diagnosis": {
                "verdict": "agrees" if self.ok else ("shape" if self.shape_findings else d.verdict),
                "sentences": self.findings,
                "explained_by": [] if d is None or self.ok else [
                    {"mistake": c.key, "text": c.text} for c in d.explained_by
                ],
                # the named mistake gives the gradients, not the loss: a second mistake is there
                "loss_explained": d is None or self.ok or not d.explained_by or not d.loss_aside,
                "unseen": [] if d is None else [{"mistake": c.key, "text": c.text} for c in d.unseen],
            },
            "notes": self.notes,
        }  # fmt: skip


def check_layer(
    forward,
    backward,
    kind,
    *inputs,
    dout=None,
    timeout=usercode.DEFAULT_TIMEOUT,
    seed=0,
    name=None,
    dtype=None,
    **config,
):
    """Run the user's ``forward`` and ``backward`` (None for a loss, whose one function returns
    ``(loss, dx)``) and every truth on the same inputs; return a ``LayerReport``. ``dtype``
    (float32 or float64, default float64): the drawn inputs' (given inputs carry their own)."""
    k = kind_of(kind)
    usercode.check_timeout(timeout)
    fwd = usercode.as_user_function(forward, name)
    if k.loss:
        if backward is not None:
            raise TypeError(f"{k.name} returns (loss, dx) itself: pass backward=None")
        bwd = None
    else:
        bwd = usercode.as_user_function(backward)
    arrays, param, drawn, options = _inputs(k, inputs, config, seed, _wanted(dtype))
    dtype = _dtype(k, arrays, None if drawn else _wanted(dtype))
    setting = {**(param or {}), **options}  # what the truth and the catalogue read
    if k.check is not None:
        k.check(arrays, setting)
    if k.name == "dropout" and param.get("mode", "train") == "train" and np.any(arrays[0] == 0):
        raise ValueError(
            "x: the check reads your mask from your output (kept where out ≠ 0), so x must have no "
            f"zeros; it has {int(np.sum(arrays[0] == 0))}"
        )
    calls = usercode.Calls()
    shapes = {n: tuple(np.shape(a)) for n, a in zip(k.arrays, arrays) if a is not None}
    report = LayerReport(
        bwd.name if bwd is not None else fwd.name,
        k.name,
        shapes,
        param,
        dtype,
        drawn,
        [],
        [],
        options=options,
    )
    references = backends.available()
    report.missing = [n for n in backends.installed() if n not in references]
    if k.loss:
        mine, mine_dtypes = _run_loss(k, fwd, arrays, timeout, calls)
        truths = k.truths(arrays, references)
        dout64 = None
    else:
        out, cache = _run_forward(k, fwd, arrays, param, timeout, calls)
        case = None if k.truths is not None else k.engine_case(arrays, setting, out[0])
        expected = k.out_shape(arrays) if case is None else _out_shape(case)
        if out[0].shape != expected:
            what = "out" if len(k.outputs) == 1 else f"({', '.join(k.outputs)}) stacked"
            report.shape_findings = [
                f"your forward's {what} has shape {out[0].shape}; the {k.name} of these inputs has {expected}"
            ]
            return report
        if dout is None:
            dout = np.random.default_rng([DOUT_STREAM, seed]).standard_normal(expected).astype(dtype)
        dout = np.stack(dout) if isinstance(dout, (tuple, list)) else np.asarray(dout)
        if dout.shape != expected:
            raise ValueError(f"dout: expected shape {expected} (the forward's output), got {dout.shape}")
        grads, grad_dtypes = _run_backward(k, bwd, dout, cache, timeout, calls)
        mine = {"out": out[0], **grads}
        mine_dtypes = {"out": out[1], **grad_dtypes}
        if case is None:
            truths = k.truths(arrays, setting, dout, references)
        else:
            truths = layer_truths(case, dout, references)
        dout64 = np.asarray(dout, np.float64)
        if len(k.outputs) > 1:  # each output its own array: next_h, next_c
            mine, mine_dtypes, truths = _split_outputs(k, mine, mine_dtypes, truths)
    report.truths = list(truths.values)
    report.notes += truths.notes
    report.shape_findings = _shape_findings(mine, truths.engine)
    if report.shape_findings:
        return report
    with np.errstate(all="ignore"):
        report.rows = _kinks(_rows(mine, truths, dtype, dout64), report.notes)
        report.rows, kink = _relu_kink(k, arrays, mine, truths, report.rows, dtype, dout64, report.notes)
        report.notes += _exact_notes(report.rows)
        report.notes += _symmetric_notes(truths.engine, k)
        user = {n: np.asarray(v, np.float64) for n, v in mine.items()}
        judged = dict(user)
        if kink is not None:  # the kink's subgradients not counted: judged as the first truth's
            first = truths.values[next(iter(truths.values))]
            first_dx = np.asarray(first.get("dx", truths.engine["dx"]), np.float64)
            judged["dx"] = np.where(kink, first_dx, user["dx"])
        quantities = _quantities(k, judged, mine_dtypes, truths, dtype)
        a64 = tuple(
            a
            if a is None
            else np.asarray(a, np.float64)
            if np.asarray(a).dtype.kind == "f"
            else np.asarray(a)
            for a in arrays
        )
        engine = {n: np.asarray(v, np.float64) for n, v in truths.engine.items()}
        base = Inputs(a64, setting, dout64, engine, user)
        candidates = []
        for m in MISTAKES.get(k.name, []):
            values = m.values(base)
            if values is not None and kink is not None and "dx" in values:  # nor the mistake's there
                values = {**values, "dx": np.where(kink, first_dx, values["dx"])}
            if values is not None:
                candidates.append(Candidate(m.key, k.name, m.text, values))
        report.diagnosis = diagnose(quantities, candidates, dtype, subject="layer")
        if kink is not None and report.diagnosis.explained_by:
            report.notes.append(
                f"what is named gives these values away from x = 0: the {int(kink.sum())} dx entries at the "
                "kink are left out of the diagnosis, yours and the mistake's alike"
            )
    if k.name == "dropout" and (param or {}).get("mode", "train") == "train":
        _kept_fraction(report, case.mask, float(param["p"]))
    report.notes += _notes(report, calls)
    return report


def assert_layer_matches(forward, backward, kind, *inputs, **keywords):
    """``check_layer`` in pytest's idiom: returns the report, or raises AssertionError whose
    message is the report (the table and the diagnosis)."""
    report = check_layer(forward, backward, kind, *inputs, **keywords)
    if not report.ok:
        raise AssertionError("\n" + report.text())
    return report


def functions_from_file(target, kind, forward=None, timeout=usercode.DEFAULT_TIMEOUT):
    """``(forward, backward)`` (``usercode.UserFunction``) for ``FILE.py:NAME`` of ``kind``: NAME the
    backward, its forward ``forward`` or found by CS231n's naming (``batchnorm_backward_alt`` ->
    ``batchnorm_forward``, ``conv_backward_naive`` -> ``conv_forward_naive``); a loss's NAME is the
    loss itself (backward None). UsageError when a name is not in the file."""
    k = kind_of(kind)
    user = usercode.load_function(target, timeout)
    if k.loss:
        if forward is not None:
            raise UsageError(f"--forward: {k.name} is one function, returning (loss, dx); drop --forward")
        return user, None
    path, _, name = target.rpartition(":")
    # the file named, not the backward's defining module: an imported backward keeps its own
    module = sys.modules[usercode.module_name(path)]
    if forward is None:
        forward = forward_name(name)
        if forward is None:
            raise UsageError(
                f"{target}: cannot tell the forward from the name {name!r} (CS231n's is <name>_backward "
                f"beside <name>_forward): name it with --forward"
            )
    fn = getattr(module, forward, None)
    if not callable(fn):
        raise UsageError(
            f"{target.rpartition(':')[0]}: no function {forward!r} (the forward; --forward NAME)"
        )
    return usercode.UserFunction(fn, f"{path}:{forward}", user.folder), user


def check_file(target, kind, forward=None, timeout=usercode.DEFAULT_TIMEOUT, seed=0, **options):
    """``check FILE.py:NAME --kind KIND``: the layer of ``functions_from_file`` checked on drawn
    inputs (``check_layer``, with the kind's keywords ``options``); a call that does not fit the
    kind is a UsageError."""
    fwd, bwd = functions_from_file(target, kind, forward, timeout)
    try:
        return check_layer(fwd, bwd, kind, timeout=timeout, seed=seed, **options)
    except LayerCallError as err:
        raise UsageError(str(err)) from None


def forward_name(backward):
    """CS231n's forward for a backward's name: ``x_backward[_alt|_naive|_fast]`` -> ``x_forward[...]``."""
    stem, sep, tail = backward.partition("_backward")
    if not sep or not stem:
        return None
    tail = "" if tail == "_alt" else tail  # batchnorm_backward_alt goes with batchnorm_forward
    return f"{stem}_forward{tail}"


# ------------------------------------------------------------------ inputs and the user's calls


def _wanted(dtype):
    if dtype is None:
        return None
    try:
        d = np.dtype(dtype)
    except TypeError:
        d = None
    if d not in (np.float32, np.float64):
        raise ValueError(f"dtype: expected float32 or float64, got {getattr(d, 'name', dtype)}")
    return d


def _inputs(k, inputs, config, seed, dtype=None):
    """``(arrays, param, drawn, options)``: the forward's arrays (None for an optional one left
    out), its config dict (a copy) and the kind's keywords (``Kind.options``)."""
    n = len(k.arrays)
    options = {**k.options, **{key: config.pop(key) for key in list(config) if key in k.options}}
    if inputs and not k.param and len(inputs) == n - len(k.optional):
        inputs = tuple(inputs) + (None,) * len(k.optional)  # attention_forward(q, k, v): no mask
    if inputs and len(inputs) not in (n, n + (1 if k.param else 0)):
        wanted = ", ".join(k.arrays + ((k.param,) if k.param else ()))
        raise TypeError(
            f"inputs: {k.name}'s forward takes {wanted}; got {len(inputs)} arguments ({k.signature()})"
        )
    param = None
    if k.param:
        given = inputs[n] if len(inputs) > n else None
        if given is not None and config:
            raise TypeError(f"give {k.param} in the inputs or as keywords ({', '.join(config)}), not both")
        if given is not None and not isinstance(given, dict):
            raise TypeError(f"{k.param}: expected a dict, got {type(given).__name__}")
        param = copy.deepcopy(given) if given is not None else {**k.defaults, **config}
        if k.name == "dropout" and "p" not in param:
            raise ValueError("dropout_param: expected 'p', the probability of keeping a unit")
    elif config:
        accepted = f" (its keywords: {', '.join(k.options)})" if k.options else ""
        raise TypeError(f"{k.name} takes no config{accepted}; got {', '.join(config)}")
    if inputs:
        arrays = tuple(None if a is None else np.array(a) for a in inputs[:n])
        return arrays, param, False, options
    return k.draw(np.random.default_rng(seed), dtype or np.float64), param, True, options


def _dtype(k, arrays, wanted=None):
    floats = [a.dtype for a in arrays if a is not None and a.dtype.kind == "f"]
    if not floats or any(d not in (np.float32, np.float64) for d in floats):
        raise TypeError(f"{k.name}: expected float32 or float64 arrays, got {[str(a.dtype) for a in arrays]}")
    if wanted is not None and any(d != wanted for d in floats):
        raise TypeError(
            f"dtype={wanted.name} draws the inputs in {wanted.name}; yours are {floats[0].name}: pass them "
            f"as {wanted.name} (x.astype(np.{wanted.name})), or leave the inputs out"
        )
    return np.dtype(floats[0])


def _copies(arrays, param):
    """Fresh copies for the user's call: a 0-d integer (spatial_groupnorm's G) as a Python int."""

    def fresh(a):
        if a is None:
            return None
        return int(a) if a.ndim == 0 and a.dtype.kind in "iu" else np.array(a)

    return tuple(fresh(a) for a in arrays) + ((copy.deepcopy(param),) if param is not None else ())


def _run_forward(k, fwd, arrays, param, timeout, calls):
    """``((out, dtype name), cache)``; several outputs (lstm_step's next_h, next_c) stacked."""
    result = usercode.call(fwd, _copies(arrays, param), timeout, calls)
    count = len(k.outputs)
    if not (isinstance(result, (tuple, list)) and len(result) == count + 1):
        raise LayerCallError(f"{fwd.name} returned {_what(result)}; expected ({', '.join(k.outputs)}, cache)")
    if count == 1:
        return _array(result[0], f"{fwd.name}'s out"), result[1]
    outs = [_array(v, f"{fwd.name}'s {n}") for n, v in zip(k.outputs, result)]
    if len({o.shape for o, _ in outs}) != 1:
        shapes = ", ".join(f"{n} {o.shape}" for n, (o, _) in zip(k.outputs, outs))
        raise LayerCallError(f"{fwd.name}'s outputs differ in shape: {shapes}; expected one shape")
    return (np.stack([o for o, _ in outs]), outs[0][1]), result[count]


def _split_outputs(k, mine, dtypes, truths):
    """A stacked "out" as each output's own array, in the user's values and every truth's (the
    engine's keeps "out" too: the catalogue and the rounding magnitude read it stacked)."""

    def split(d):
        if "out" not in d:
            return d
        rest = {n: v for n, v in d.items() if n != "out"}
        return {**dict(zip(k.outputs, d["out"])), **rest}

    dtypes = {**dict.fromkeys(k.outputs, dtypes["out"]), **{n: v for n, v in dtypes.items() if n != "out"}}
    values = {t: split(v) for t, v in truths.values.items()}
    engine = {**split(truths.engine), "out": truths.engine["out"]}
    return (
        split(mine),
        dtypes,
        dataclasses.replace(truths, values=values, engine=engine, bound=split(truths.bound)),
    )


def _run_backward(k, bwd, dout, cache, timeout, calls):
    upstream = (np.array(dout),) if len(k.outputs) == 1 else tuple(np.array(d) for d in dout)
    returned = usercode.call(bwd, (*upstream, cache), timeout, calls)
    result = returned if isinstance(returned, (tuple, list)) else (returned,)
    if len(result) != len(k.grads) or (returned is None and len(k.grads) > 1):
        raise LayerCallError(
            f"{bwd.name} returned {_what(returned)}; expected {', '.join(k.grads)}"
            + (" (a tuple, in the forward's order)" if len(k.grads) > 1 else "")
        )
    grads, dtypes = {}, {}
    for n, v in zip(k.grads, result):
        grads[n], dtypes[n] = _array(v, f"{bwd.name}'s {n}")
    return grads, dtypes


def _run_loss(k, fn, arrays, timeout, calls):
    result = usercode.call(fn, _copies(arrays, None), timeout, calls)
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise LayerCallError(f"{fn.name} returned {_what(result)}; expected (loss, dx)")
    loss, loss_dtype = _array(result[0], f"{fn.name}'s loss")
    if loss.size != 1:
        raise LayerCallError(f"{fn.name}'s loss has shape {loss.shape}; expected a number")
    dx, dx_dtype = _array(result[1], f"{fn.name}'s dx")
    return {"loss": loss.reshape(()), "dx": dx}, {"loss": loss_dtype, "dx": dx_dtype}


def _array(value, what):
    """``(float64 array, dtype name)``; a torch tensor is read as ``layouts.to_numpy`` reads it."""
    if value is None:
        raise LayerCallError(f"{what} is None; expected an array (a missing return?)")
    try:
        arr, dtype = to_numpy(value, what)
    except LayoutError as err:
        raise LayerCallError(str(err)) from None
    if arr.dtype.kind not in "fiub":
        raise LayerCallError(f"{what}: expected an array of numbers, got dtype {arr.dtype}")
    return arr.astype(np.float64), dtype


def _what(result):
    if isinstance(result, (tuple, list)):
        return f"a {type(result).__name__} of {len(result)} item{'s' if len(result) != 1 else ''}"
    return "None" if result is None else f"a {type(result).__name__}"


def _out_shape(case):
    if case.out_shape is not None:
        return tuple(case.out_shape)
    if case.layer["kind"] == "Dropout":
        return tuple(case.x_shape)
    buffers = {k: np.array(v) for k, v in case.buffers.items()}
    layer = from_config(case.layer)
    out = layer.forward(case.params, case.x, train=case.train, rng=np.random.default_rng(0), buffers=buffers)[
        0
    ]
    return out.shape


# ------------------------------------------------------------------ shapes, rows, the diagnosis


def _shape_findings(mine, truth):
    found = []
    for n, v in mine.items():
        want = np.shape(truth[n])
        if v.shape != want:
            found.append(f"your {n} has shape {v.shape}; it should have {want}" + _shape_hint(v, truth[n]))
    return found


def _shape_hint(v, truth):
    """What a wrong shape suggests, when the values say it: not reshaped back, transposed."""
    v = np.asarray(v, np.float64)
    if not isinstance(truth, np.ndarray):
        return ""
    t = np.asarray(truth, np.float64)
    if v.ndim == t.ndim == 4 and v.shape[:2] == t.shape[:2]:
        padded = _padding_hint(v, t)
        if padded:
            return padded
    if v.size == t.size and np.allclose(v.reshape(t.shape), t, rtol=1e-6, atol=1e-12):
        return " (its values are right: reshape it to the input's shape, e.g. dx.reshape(x.shape))"
    if v.ndim == 2 and v.T.shape == t.shape and np.allclose(v.T, t, rtol=1e-6, atol=1e-12):
        return " (its values are right, transposed)"
    flat = t.reshape(len(t), -1) if t.ndim > 2 else None
    if flat is not None and v.ndim == 2 and v.shape == flat.T.shape:
        if np.allclose(v.T, flat, rtol=1e-6, atol=1e-12):
            return (
                " (its values are right, transposed and flattened: transpose it back and reshape it "
                "to the input's shape)"
            )
        return " (the shape of the input flattened and transposed: transposed and flattened?)"
    if v.ndim < t.ndim or v.size < t.size:
        return " (summed over the wrong axis?)"
    return ""


def _padding_hint(v, t):
    """A (N, C, H, W) gradient the size of the padded input, or emptied by pad:-pad with pad 0."""
    grow = (v.shape[2] - t.shape[2], v.shape[3] - t.shape[3])
    if v.size == 0:
        return (
            " (empty: dx_pad[:, :, pad:-pad, pad:-pad] with pad 0 is an empty slice; cut the padding "
            "off with dx_pad[:, :, pad:pad + H, pad:pad + W])"
        )
    if grow[0] == grow[1] and grow[0] > 0 and grow[0] % 2 == 0:
        p = grow[0] // 2
        inner = v[:, :, p : p + t.shape[2], p : p + t.shape[3]]
        right = np.allclose(inner, t, rtol=1e-6, atol=1e-12)
        return (
            f" (the padded input's shape: the padding not stripped, pad {p} on each side"
            + ("; inside it your values are right" if right else "")
            + "; dx = dx_pad[:, :, pad:pad + H, pad:pad + W])"
        )
    return ""


def _allowed(e, dtype):
    return tolerance("layer_parity", dtype).rtol * np.asarray(e, np.float64) + 1024 * float(
        np.finfo(dtype).tiny
    )


def _errors(v, truth, n, truths, dtype, dout64):
    """``(t, diff, allowed, exact)`` of the user's array ``v`` (name ``n``) against the truth named
    ``truth``, entry by entry: its values, |v − t|, what rounding allows (central differences: their
    truncation too) and the entries no rounding reaches (their allowance the subnormal floor alone)."""
    t = np.asarray(truths.values[truth][n], np.float64)
    allowed = _allowed(truths.bound[n], dtype)
    if truth == FD:
        magnitude = _magnitude(truths.engine, dout64)
        allowed = allowed + tolerance("finite_differences", np.float64).rtol * np.abs(t)
        allowed = allowed + 16 * EPS64 * max(1.0, magnitude) / 1e-6
    exact = np.zeros(t.shape, bool) if truth == FD else np.broadcast_to(truths.bound[n] == 0, t.shape)
    return t, np.abs(v - t), np.broadcast_to(allowed, t.shape), exact


def _rows(mine, truths, dtype, dout64):
    rows = []
    for truth, values in truths.values.items():
        for n, v in mine.items():
            if n not in values:
                continue
            t, diff, allowed, exact = _errors(v, truth, n, truths, dtype, dout64)
            missed = exact & (diff > allowed)  # allowed: the subnormal floor alone there
            finite = np.all(np.isfinite(diff))
            worst = float(np.max(diff[~exact] / allowed[~exact], initial=0.0)) if finite else math.inf
            top = float(np.max(np.abs(t), initial=0.0))
            biggest = float(np.max(diff, initial=0.0)) if finite else math.inf
            rel = biggest / top if top > 0 else (0.0 if biggest == 0 else math.inf)
            ok = worst <= 1 and not missed.any()
            zero = bool(missed.any() and np.all(t[missed] == 0))
            rows.append(
                Row(n, truth, biggest, rel, worst, ok, exact_missed=int(missed.sum()), exact_zero=zero)
            )
    return rows


def _exact_notes(rows):
    """A sentence per array whose exact entries (no rounding reaches them) the user's miss."""
    notes = []
    missed = [r for r in rows if r.exact_missed and r.verdict != "NOTE"]  # a NOTE has its own
    for n in dict.fromkeys(r.name for r in missed):
        r = next(r for r in missed if r.name == n)
        what = "exactly 0" if r.exact_zero else "exact"
        one = r.exact_missed == 1
        notes.append(
            f"{n}: {r.exact_missed} {'entry is' if one else 'entries are'} {what} in every correct "
            f"implementation (no rounding reaches {'it' if one else 'them'}"
            f"{', e.g. a mask' if r.exact_zero else ''}) and yours {'is' if one else 'are'} not; err / "
            "allowed is the other entries' (over an allowance of 0 it has no number), "
            f"'{_EXACT[r.exact_zero].strip()}' where "
            "those pass"
        )
    return notes


def _symmetric_notes(engine, k):
    """A sentence per gradient whose truth is its own transpose over its last two axes (affine's dw
    = xᵀx for dout = x): a transposed one gives the same values, so the check cannot see it."""
    notes = []
    for n in k.grads:
        t = np.asarray(engine.get(n, ()), np.float64)
        if t.ndim < 2 or t.shape[-1] != t.shape[-2] or t.shape[-1] < 2:
            continue
        top = float(np.max(np.abs(t), initial=0.0))
        if np.allclose(t, np.swapaxes(t, -1, -2), rtol=1e-9, atol=1e-12 * top):
            notes.append(
                f"{n}: its true value is symmetric on these inputs ({n}ᵀ = {n}), so a transposed {n} gives "
                "the same values and this check cannot see one (an upstream gradient equal to an input "
                "does this: leave dout out and the check draws one)"
            )
    return notes


def _kinks(rows, notes):
    """Central differences' rows made a NOTE where every framework agrees with the user's array:
    at a kink (a ReLU's input exactly 0, a hinge's margin exactly 0) PyTorch and JAX take one
    side's derivative, a central difference averages both."""
    frameworks = {r.truth for r in rows if r.truth != FD}
    agreed = {r.name for r in rows if r.truth in frameworks}
    agreed = {n for n in agreed if all(r.ok for r in rows if r.name == n and r.truth in frameworks)}
    out, noted = [], []
    for r in rows:
        if r.truth == FD and not r.ok and frameworks and r.name in agreed:
            out.append(Row(r.name, r.truth, r.max_abs, r.max_rel, r.ratio, True, "NOTE"))
            noted.append(r.name)
        else:
            out.append(r)
    if noted:
        notes.append(
            f"finite differences disagree with {' and '.join(sorted(frameworks))} on {', '.join(noted)}, "
            "where yours agrees with them: the function has a kink on these inputs (a ReLU's input or a "
            "margin exactly 0, tied maxima in a pooling window, where a central difference averages both "
            "sides); not counted"
        )
    return out


def _relu_kink(k, arrays, mine, truths, rows, dtype, dout64, notes):
    """A ReLU's dx where x is exactly 0: any relu′(0) in [0, 1] is a subgradient there, so where the
    user's dx lies between the one-sided derivatives' values (0 and dout, inclusive) it is a convention,
    not a mistake. When the frameworks' dx rows (central differences' without them) differ only at such
    entries, the failing dx rows are a NOTE, said with the user's relu′(0) and each truth's; a dx that
    also differs elsewhere still fails, and a note says which entries fail. ``(rows, kink)``: kink the
    entries not counted (None where nothing was said), which the diagnosis judges as the truth's."""
    if k.name != "relu" or "dx" not in mine or dout64 is None:
        return rows, None
    v = np.asarray(mine["dx"], np.float64)
    at = np.broadcast_to(np.asarray(arrays[0]) == 0, v.shape)
    if not at.any():
        return rows, None
    d = np.broadcast_to(dout64, v.shape)
    slack = tolerance("layer_parity", dtype).rtol * np.abs(d) + 1024 * float(np.finfo(dtype).tiny)
    kink = at & (np.minimum(0, d) - slack <= v) & (v <= np.maximum(0, d) + slack)
    failing = {}  # index of a failing dx row -> (its truth's values, bad entries, exact entries)
    for i, r in enumerate(rows):
        if r.name == "dx" and not r.ok:
            t, diff, allowed, exact = _errors(v, r.truth, "dx", truths, dtype, dout64)
            failing[i] = (t, ~(diff <= allowed), exact)  # NaN counts as bad
    frameworks = any(r.truth != FD for r in rows if r.name == "dx")
    judged = [i for i in failing if rows[i].truth != FD or not frameworks]
    differ = np.zeros(v.shape, bool)  # where yours differs from the frameworks
    for i in judged:
        differ |= failing[i][1]
    if not (differ & kink).any():
        return rows, None  # yours is the frameworks' at the kink (central differences: ``_kinks``)
    yours = _derivative_at(v, d, kink)
    counted = f"where x is exactly 0 ({int(at.sum())} of {v.size} entries, at {_entries(at)})"
    out = list(rows)
    wrong = differ & ~kink
    if not wrong.any():
        theirs, elsewhere = {}, []
        for i, (t, bad, _) in failing.items():
            out[i] = dataclasses.replace(rows[i], ok=True, verdict="NOTE")
            if (bad & ~kink).any():  # central differences, where yours is the frameworks'
                elsewhere.append(rows[i].truth)
            theirs.setdefault(_derivative_at(t, d, at), []).append(rows[i].truth)
        # "torch and jax take 0 and finite differences 0.5"
        groups = [(" and ".join(ts), value) for value, ts in theirs.items()]
        take = "take" if len(theirs[groups[0][1]]) > 1 else "takes"
        others = " and ".join(
            f"{who} {take} {value}" if j == 0 else f"{who} {value}" for j, (who, value) in enumerate(groups)
        )
        noted = " and ".join(rows[i].truth for i in failing if rows[i].truth not in elsewhere)
        also = (
            f"; {' and '.join(elsewhere)} differ elsewhere too, where yours is the frameworks' (an input "
            "within their step of 0, where they average both sides)"
            if elsewhere
            else ""
        )
        notes.append(
            f"dx differs from {noted or 'the frameworks'} only {counted}: your relu′(0) = {yours}, where "
            f"{others}; any value from 0 to 1 is a subgradient there, so this is a convention at the kink, "
            f"not a mistake, and not counted (a difference anywhere else would still fail){also}"
        )
        return out, kink
    for i, (t, bad, exact) in failing.items():
        missed = exact & bad & ~kink  # the kink's subgradients are no exact entry missed
        zero = bool(missed.any() and np.all(t[missed] == 0))
        out[i] = dataclasses.replace(rows[i], exact_missed=int(missed.sum()), exact_zero=zero)
    n = int(wrong.sum())
    against = "the frameworks" if frameworks else FD
    notes.append(
        f"dx {counted}: yours there (relu′(0) = {yours}) is a subgradient, a convention at the kink and not "
        f"counted; the {n} other {'entry' if n == 1 else 'entries'} that differ{'s' if n == 1 else ''} from "
        f"{against}, at {_entries(wrong)}, {'is' if n == 1 else 'are'} what fails"
    )
    return out, kink


def _derivative_at(values, dout, at):
    """relu′(0) as ``values`` = relu′(0) · dout take it where ``at`` (and dout ≠ 0): one number
    (to 6 digits), or the range of those seen."""
    seen = values[at & (dout != 0)] / dout[at & (dout != 0)]
    if seen.size == 0:
        return "unseen (dout is 0 there)"
    lo, hi = (f"{float(e) + 0.0:.6g}" for e in (seen.min(), seen.max()))  # + 0.0: -0 reads 0
    return lo if lo == hi else f"{lo} to {hi}"


def _entries(mask, shown=4):
    where = [str(tuple(int(i) for i in idx)) for idx in np.argwhere(mask)]
    more = f" and {len(where) - shown} more" if len(where) > shown else ""
    return ", ".join(where[:shown]) + more


def _magnitude(engine, dout64):
    """What ⟨dout, f⟩ (or a loss) rounds with: Σ |dout ⊙ out|, or the loss's size."""
    if dout64 is None:
        return abs(float(engine["loss"])) + 1.0
    return float(np.sum(np.abs(dout64 * np.asarray(engine["out"], np.float64))))


def _quantities(k, mine, dtypes, truths, dtype):
    """The user's arrays against the first truth, each with its rounding scale for the
    diagnosis (whose ``within`` allows ``parity``'s rtol times it: layer_parity's 4 u e)."""
    reference = truths.values[next(iter(truths.values))]
    to_scale = tolerance("layer_parity", dtype).rtol / tolerance("parity", dtype).rtol
    qs = []
    for n, v in mine.items():
        truth = reference.get(n, truths.engine[n])
        qs.append(
            Quantity(
                n,
                n,
                np.asarray(v, np.float64),
                np.asarray(truth, np.float64),
                np.asarray(truths.bound[n], np.float64) * to_scale,
                dtypes[n],
                is_loss=n == "loss",
            )
        )
    return qs


def _kept_fraction(report, mask, p):
    """Dropout: the mask read from the user's output keeps a fraction p of the entries, within
    ``KEPT_SIGMAS`` binomial standard deviations (p is CS231n's probability of keeping)."""
    n = mask.size
    kept = float(mask.mean())
    sigma = math.sqrt(p * (1 - p) / n) if 0 < p < 1 else 0.0
    ok = abs(kept - p) <= KEPT_SIGMAS * sigma + 1e-12
    report.rows.append(Row("kept", f"p = {p:g}", abs(kept - p), abs(kept - p) / p, abs(kept - p) / max(
        KEPT_SIGMAS * sigma, 1e-12), ok))  # fmt: skip
    if not ok:
        hint = (
            " (p read as the probability of dropping, PyTorch's p?)"
            if abs(kept - (1 - p)) <= KEPT_SIGMAS * sigma
            else ""
        )
        line = (
            f"your mask keeps {kept:.1%} of the {n} entries; p = {p:g} is the probability of keeping one, "
            f"so {p:.0%} ± {KEPT_SIGMAS * sigma:.1%} should be kept{hint}"
        )
        if report.diagnosis is not None and report.diagnosis.verdict == "agrees":
            report.diagnosis.lines = [line]
            report.diagnosis.verdict = "unexplained"
        elif report.diagnosis is not None:
            report.diagnosis.lines.append(line)


def _notes(report, calls):
    notes = []
    d = report.diagnosis
    if d is not None and d.unseen:
        texts = "; ".join(c.text for c in d.unseen)
        notes.append(
            f"on these inputs, {len(d.unseen)} mistake(s) of the catalogue give the true values, so this "
            f"check could not have seen them: {texts}"
            + (
                " (leave the inputs out and the check draws inputs that show them)"
                if not report.drawn
                else ""
            )
        )
    if report.kind == "dropout":
        notes.append("dropout: the mask is read from your forward's output (kept where out ≠ 0)")
    if calls.warnings:
        notes.append("your function warned: " + "; ".join(calls.notes()))
    return notes


# ------------------------------------------------------------------ text


def _describe(r):
    shapes = ", ".join(f"{n} {s}" for n, s in r.shapes.items())
    param = ""
    if r.param is not None:
        shown = {k: v for k, v in r.param.items() if not isinstance(v, np.ndarray)}
        param = "; " + ", ".join(f"{k} {v!r}" for k, v in shown.items())
    if r.options:
        param += "; " + ", ".join(f"{k}={v!r}" for k, v in r.options.items())
    return f"{r.kind}, {shapes}{' (drawn)' if r.drawn else ''}, {np.dtype(r.dtype).name}{param}"


def _render(r):
    yield f"check_layer: {r.name}: {_describe(r)}"
    if r.rows:
        yield (
            "  your forward and backward against each truth: max abs err, max rel err, "
            "err / allowed (pass: <= 1)"
        )
        yield "    array   " + "".join(f"{t:<36}" for t in r.truths).rstrip()
        names = list(dict.fromkeys(row.name for row in r.rows))
        for n in names:
            cells = []
            for t in r.truths + [row.truth for row in r.rows if row.name == n and row.truth not in r.truths]:
                row = next((x for x in r.rows if x.name == n and x.truth == t), None)
                cells.append(
                    " " * 36
                    if row is None
                    else "  ".join(_number(v) for v in (row.max_abs, row.max_rel))
                    + f"  {_ratio(row)}"
                    + f"  {row.verdict}    "
                )
            yield f"    {n:<7} " + "".join(cells).rstrip()
    if r.ok:
        yield f"  {_agrees(r)}"
    else:
        for line in r.findings:
            yield f"  {line}"
    for note in r.notes:
        yield f"  note: {note}"
    for k in r.missing:
        extra = backends.EXTRAS[k]
        yield f"  ({k} is not installed: pip install 'backprop-by-hand[{extra}]' to compare with it)"


def _agrees(r):
    """The headline of a report that passes: the truths whose every row is PASS (a NOTE's, central
    differences at a kink, not claimed)."""
    noted = [t for t in r.truths if any(x.truth == t and x.verdict == "NOTE" for x in r.rows)]
    agreed = [t for t in r.truths if t not in noted]
    if not agreed:  # every truth's NOTE is at a kink (``_kinks``, ``_relu_kink``)
        return f"your {r.kind} agrees with {' and '.join(noted)} away from its kink (see the note)"
    line = f"your {r.kind} agrees with {' and '.join(agreed)}"
    return line + (f" ({' and '.join(noted)}: see the note)" if noted else "")


_EXACT = {True: "exact 0", False: "  exact"}


def _ratio(row):
    """err / allowed over the entries rounding reaches; where those pass and the user's miss entries
    that are exact, what those should be."""
    return _EXACT[row.exact_zero] if row.exact_missed and row.ratio <= 1 else _number(row.ratio)


def _number(v):
    return f"{v:.1e}" if math.isfinite(v) else f"{'nan' if math.isnan(v) else 'inf':>7}"


def _html(r):
    """The report as an HTML table (Jupyter), with the diagnosis below it."""
    e = html.escape
    head = "".join(f"<th colspan=4>{e(t)}</th>" for t in r.truths)
    sub = "".join("<th>max abs</th><th>max rel</th><th>err/allowed</th><th></th>" for _ in r.truths)
    body = []
    for n in dict.fromkeys(row.name for row in r.rows):
        cells = []
        for t in r.truths:
            row = next((x for x in r.rows if x.name == n and x.truth == t), None)
            if row is None:
                cells.append("<td colspan=4></td>")
                continue
            colour = "#2a7" if row.ok else "#c33"
            cells.append(
                "".join(f"<td>{_number(v)}</td>" for v in (row.max_abs, row.max_rel))
                + f"<td>{e(_ratio(row).strip())}</td>"
                + f"<td style='color:{colour}'><b>{row.verdict}</b></td>"
            )
        body.append(f"<tr><td><code>{e(n)}</code></td>{''.join(cells)}</tr>")
    lines = r.findings or [_agrees(r)]
    notes = "".join(f"<li>note: {e(n)}</li>" for n in r.notes)
    return (
        f"<div><p><b>check_layer</b>: <code>{e(r.name)}</code>: {e(_describe(r))}</p>"
        f"<table><tr><th></th>{head}</tr><tr><th>array</th>{sub}</tr>{''.join(body)}</table>"
        f"<ul>{''.join(f'<li>{e(x)}</li>' for x in lines)}{notes}</ul></div>"
    )


__all__ = ["KINDS", "LayerCallError", "LayerReport", "assert_layer_matches", "check_layer"]
