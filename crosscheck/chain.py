"""Check makemore's "backprop ninja" exercise: the hand-computed gradient of every named
intermediate of a forward, against PyTorch autograd and ``jax.vjp``, and where the mistake is.

    def forward(C, W1, b1, bngain, bnbias, W2, b2, Xb, Yb):      # PyTorch, as makemore writes it
        emb = C[Xb]; embcat = emb.view(emb.shape[0], -1); ...; loss = -logprobs[range(n), Yb].mean()
        return {"emb": emb, "embcat": embcat, ..., "logprobs": logprobs, "loss": loss}

    report = crosscheck.check_chain(forward, {"dlogprobs": dlogprobs, "dprobs": dprobs, ...}, inputs)
    print(report)          # makemore's exact / approximate / maxdiff, err / allowed, PASS/FAIL per name

**The forward** returns its named intermediates as a dict, in the order it computes them,
the last the loss (a number). Two ways to write it:

- *PyTorch* (makemore's): ``forward(**inputs)`` of torch tensors, or ``forward()`` reading
  parameters that require grad from its closure. The check runs it and takes the true
  gradient of every intermediate with ``torch.autograd.grad`` (what ``retain_grad`` and
  ``loss.backward()`` give, without touching your tensors' ``.grad``).
- *Against an array namespace*: ``forward(xp, **inputs)``, its first parameter named ``xp``
  (or ``style="xp"``). It runs with ``xp`` = NumPy (your values), ``torch`` (autograd's truth)
  and ``jax.numpy`` (``jax.vjp``'s truth): write it in the names the three share
  (``xp.exp``, ``xp.log``, ``xp.tanh``, ``xp.sum(a, axis=0, keepdims=True)``, ``xp.amax``,
  ``xp.arange``, ``a.reshape``, ``@``, ``a.mean()``, indexing). JAX has no gradient of an
  intermediate: the check traces the forward to a jaxpr and adds a zero to each returned
  intermediate where it is computed; the vjp with respect to those zeros is its gradient.

``inputs``: a dict of arrays passed by name (float ones are leaves with a gradient of their
own: ``dC``, ``dW1``, ... can be checked too; integer ones, the indices, have none).

**The gradients** ``grads``: a dict by name, ``"dlogprobs"`` or ``"logprobs"`` (a key that is
an intermediate's name is that name; otherwise one leading ``d`` is dropped), or a function
``grads(values) -> dict`` called with the forward's values (torch tensors, detached, or NumPy
arrays for an ``xp`` forward). Give any subset, in any dtype; arrays or tensors.

**The report**, per name you gave, walking back from the loss: makemore's ``cmp`` columns
(exact: every entry equal; approximate: ``allclose`` at its defaults, rtol 1e-5, atol 1e-8;
maxdiff: the largest absolute difference) against PyTorch, and against every truth the error
over what rounding allows, PASS when <= 1 (``allowed`` below). Then **the first intermediate,
walking back from the loss, whose gradient is wrong while every one after it is right**: its
gradient is made from right ones, so the mistake is in the step that makes it. There the
check says what the difference is (``crosscheck.diagnosis``'s joint rule and wording):

- a tensor used by several later ones (makemore's bndiff, counts, counts_sum_inv, logits, h)
  gets one contribution per consumer: the check computes each, the true partial gradient
  through that consumer alone (autograd of the consumer's output with the true upstream
  gradient, every other named intermediate's gradient stopped by a hook), and names the path
  whose contribution is missing (or the only one counted) when that reproduces yours;
- a consumer that reduces an axis of n entries (a variance): Bessel's correction, yours with
  1/n where the forward divides by n − 1, or the other way round;
- the opposite sign;
- a shape that is the broadcast one (N, V) where the tensor is (N, 1): a broadcast not summed
  back over that axis, and whether summing it gives the truth.

**allowed** (err / allowed): a correct hand backward differs from autograd by rounding only.
Each backward step is a local vector-Jacobian product whose entries are sums of at most n
terms (n: the largest dimension of any intermediate), so a step's own rounding is at most
chain(n) u times the magnitude of its terms (``crosscheck.rounding``: chain(n) = min(n, 128)
+ log₂ n); the errors of the steps before it reach it through the chain, one step each. For
the intermediate k steps from the loss (k = the names after it, + 1 for the loss's own):

    allowed = layer_parity's rtol (4 u) · k · chain(n) · M + 1024 tiny

with M the magnitude of the terms its gradient is made of, norm-wise: the largest entry of
its true gradient, of each consumer's partial, and of each partial taken with the consumer's
gradient in absolute value (so that a gradient that cancels to ~0, makemore's dlogit_maxes,
is judged on the size of what cancels, not on its own). u is the chain's dtype's (a float32
forward gets float32's scale): precision is not a mistake, and gradients that came in a lower
precision than the forward are said to (the diagnosis's rule).

The user's functions run guarded (``crosscheck.usercode``): raising, exiting, hanging,
printing, NaN in the forward are a sentence, never a traceback of the harness.
"""

import html
import inspect
import math
from dataclasses import dataclass, field

import numpy as np

from . import backends, usercode
from .diagnosis import Candidate, Quantity, diagnose
from .errors import UserCodeError
from .layouts import LayoutError, to_numpy
from .rounding import chain as chain_length
from .tolerances import tolerance

APPROX = {"rtol": 1e-5, "atol": 1e-8}  # torch.allclose's defaults, makemore's "approximate"


class ChainCallError(ValueError):
    """The user's forward or gradients are not what ``check_chain`` takes."""


@dataclass
class ChainRow:
    """One name's gradient: makemore's columns against the first truth, err / allowed per truth."""

    name: str
    shape: tuple
    exact: bool
    approximate: bool
    maxdiff: float
    ratios: dict  # truth -> err / allowed
    ok: bool
    verdict: str = ""

    def __post_init__(self):
        self.verdict = self.verdict or ("PASS" if self.ok else "FAIL")


@dataclass
class ChainReport:
    name: str
    style: str  # "torch" or "xp"
    dtype: object
    names: list  # every named tensor, in the forward's order (leaves first), the loss last
    truths: list
    rows: list  # the names given, walking back from the loss
    first_wrong: str | None = None
    findings: list = field(default_factory=list)
    consumers: dict = field(default_factory=dict)  # name -> the names it feeds directly
    diagnosis: object = None
    notes: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    explained_by: list = field(default_factory=list)  # the keys of the named mistakes

    @property
    def ok(self):
        return all(r.ok for r in self.rows)

    def text(self):
        return "\n".join(_render(self))

    __str__ = text
    __repr__ = text  # a notebook's text/plain: the report, not the dataclass's fields

    def _repr_html_(self):
        return _html(self)

    def to_json(self):
        return {
            "name": self.name,
            "style": self.style,
            "dtype": np.dtype(self.dtype).name,
            "ok": self.ok,
            "names": self.names,
            "truths": self.truths,
            "rows": [vars(r) for r in self.rows],
            "first_wrong": self.first_wrong,
            "sentences": self.findings,
            "explained_by": self.explained_by,
            "consumers": self.consumers,
            "notes": self.notes,
        }


def check_chain(forward, grads, inputs=None, *, style=None, timeout=usercode.DEFAULT_TIMEOUT, name=None):
    """Run the user's ``forward`` (see the module) and compare ``grads`` with the true gradient
    of every named intermediate; return a ``ChainReport``."""
    usercode.check_timeout(timeout)
    fwd = usercode.as_user_function(forward, name)
    style = style or _style(fwd.fn)
    if style not in ("torch", "xp"):
        raise ValueError(f"style: expected 'torch' or 'xp', got {style!r}")
    if inputs is not None and not isinstance(inputs, dict):
        raise TypeError(f"inputs: expected a dict of arrays by name, got {type(inputs).__name__}")
    inputs = dict(inputs or {})
    if not backends.REFERENCES["torch"].version():
        raise ImportError("check_chain needs PyTorch: pip install 'backprop-by-hand[torch]'")
    calls = usercode.Calls()
    torch_run = _torch_run(fwd, style, inputs, timeout, calls)
    names = torch_run.names
    if style == "xp":
        values, dtypes = _numpy_run(fwd, inputs, names, timeout, calls)
    else:
        values = {n: torch_run.values[n] for n in names}
        dtypes = dict(torch_run.dtypes)
    loss_name = names[-1]
    dtype = np.dtype(dtypes[loss_name])
    if dtype not in (np.float32, np.float64):
        raise ChainCallError(f"your forward's {loss_name} is {dtype.name}; expected float32 or float64")
    _finite(values)
    truths = {"torch": torch_run.grads}
    missing = []
    if style == "xp":
        if backends.REFERENCES["jax"].version():
            truths["jax"] = _jax_grads(fwd, inputs, names, dtype, timeout, calls)
        else:
            missing.append("jax")
    user = _user_grads(grads, names, torch_run, values, style, timeout, calls)
    report = ChainReport(fwd.name, style, dtype, names, list(truths), [], missing=missing)
    partials = _partials(torch_run)
    report.consumers = {k: [j for j in names if (k, j) in partials[0]] for k in names[:-1]}
    allowed = _allowed(names, values, torch_run.grads, partials, dtype)
    _compare(report, user, truths, allowed, values, partials, dtype)
    if calls.warnings:
        report.notes.append("your function warned: " + "; ".join(calls.notes()))
    return report


def assert_chain_matches(forward, grads, inputs=None, **keywords):
    """``check_chain`` in pytest's idiom: the report, or AssertionError carrying it."""
    report = check_chain(forward, grads, inputs, **keywords)
    if not report.ok:
        raise AssertionError("\n" + report.text())
    return report


# ------------------------------------------------------------------ running the forward


def _style(fn):
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return "torch"
    return "xp" if params and params[0] == "xp" else "torch"


@dataclass
class _TorchRun:
    names: list
    tensors: dict  # name -> the tensor (the graph's)
    values: dict  # name -> float64 ndarray
    dtypes: dict
    grads: dict  # name -> the true gradient, float64 ndarray


def _returned(result, who):
    """The forward's dict, checked: names to arrays, the last a number."""
    if not isinstance(result, dict) or not result:
        what = "an empty dict" if isinstance(result, dict) else _what(result)
        raise ChainCallError(
            f"{who} returned {what}; expected a dict of its intermediates by name, in order, the loss last"
        )
    for k in result:
        if not isinstance(k, str):
            raise ChainCallError(f"{who} returned a dict with the key {k!r}; expected names (str)")
    return result


def _what(result):
    if isinstance(result, (tuple, list)):
        return f"a {type(result).__name__} of {len(result)} items"
    return "None" if result is None else f"a {type(result).__name__}"


def _torch_run(fwd, style, inputs, timeout, calls):
    import torch

    leaves = {}
    for k, v in inputs.items():
        t = v.detach().clone() if isinstance(v, torch.Tensor) else torch.as_tensor(np.array(v))
        if t.is_floating_point():
            t.requires_grad_(True)
        leaves[k] = t
    args = (torch,) if style == "xp" else ()
    with torch.enable_grad():
        try:
            result = _returned(_call(fwd, args, leaves, timeout, calls), fwd.name)
        except UserCodeError as err:
            if style == "xp" and err.kind == "raised" and _fails_with_numpy(fwd, inputs, timeout, calls):
                raise UserCodeError(
                    f"{err} (with xp = numpy as well: the mistake is in your forward, not in the namespace)",
                    kind=err.kind,
                    user_traceback=err.user_traceback,
                ) from None
            raise _portable(err, style, "torch") from None
    tensors = {k: t for k, t in leaves.items() if t.requires_grad}
    for k, v in result.items():
        if not isinstance(v, torch.Tensor):
            raise ChainCallError(
                f"{fwd.name}'s {k} is {_what(v)}; expected a torch tensor"
                + (" (an xp forward must compute with xp: it ran with xp = torch)" if style == "xp" else "")
            )
        if k in tensors and tensors[k] is not v:
            raise ChainCallError(f"{fwd.name} returned {k!r}, the name of one of its inputs")
        tensors[k] = v
    names = list(tensors)
    loss = tensors[names[-1]]
    if loss.numel() != 1:
        raise ChainCallError(
            f"{fwd.name}'s last intermediate {names[-1]} has shape {tuple(loss.shape)}; "
            "expected the loss, a number, last"
        )
    if not loss.requires_grad:
        raise ChainCallError(
            f"{fwd.name}'s {names[-1]} does not require grad: its parameters must be tensors with "
            "requires_grad=True (or pass them in inputs), as makemore makes them"
        )
    values, dtypes = {}, {}
    for k, t in tensors.items():
        values[k] = t.detach().cpu().double().numpy()
        dtypes[k] = str(t.dtype).removeprefix("torch.")
    wrt = [k for k in names[:-1] if tensors[k].requires_grad]
    got = torch.autograd.grad(loss.sum(), [tensors[k] for k in wrt], allow_unused=True, retain_graph=True)
    grads = {k: np.zeros_like(values[k]) for k in names}
    grads[names[-1]] = np.ones_like(values[names[-1]])
    for k, g in zip(wrt, got):
        if g is not None:
            grads[k] = g.detach().double().numpy()
    return _TorchRun(names, tensors, values, dtypes, grads)


def _call(fwd, args, kwargs, timeout, calls):
    def run():
        return fwd.fn(*args, **kwargs)

    return usercode.call(usercode.UserFunction(run, fwd.name, fwd.folder), (), timeout, calls, fwd.name)


def _fails_with_numpy(fwd, inputs, timeout, calls):
    """Whether the xp forward raises with xp = numpy too (then its error is its own, no namespace's)."""
    arrays = {k: np.array(_plain(v)) for k, v in inputs.items()}
    try:
        _call(fwd, (np,), arrays, timeout, calls)
    except UserCodeError as err:
        return err.kind == "raised"
    return False


def _portable(err, style, namespace):
    """An xp forward that raised with a framework's namespace: say what it ran with."""
    if style != "xp" or err.kind != "raised":
        return err
    return UserCodeError(
        f"{err} (with xp = {namespace}: an xp forward runs with NumPy, PyTorch and jax.numpy, so it must "
        "compute with xp's functions, the names the three share, not NumPy's own)",
        kind=err.kind,
        user_traceback=err.user_traceback,
    )


def _numpy_run(fwd, inputs, names, timeout, calls):
    arrays = {k: _plain(v) for k, v in inputs.items()}
    result = _returned(
        _call(fwd, (np,), {k: np.array(v) for k, v in arrays.items()}, timeout, calls), fwd.name
    )
    values, dtypes = {}, {}
    for k in names:
        v = arrays[k] if k in arrays and k not in result else result.get(k)
        if v is None:
            raise ChainCallError(
                f"{fwd.name} run with xp = numpy did not return {k!r}, which it did with torch"
            )
        a = np.asarray(v)
        values[k], dtypes[k] = a.astype(np.float64), a.dtype.name
    return values, dtypes


def _plain(v):
    arr, _ = to_numpy(v, "input")
    return arr


def _finite(values):
    for k, v in values.items():
        if not np.all(np.isfinite(v)):
            n = int(np.sum(~np.isfinite(v)))
            raise ChainCallError(
                f"your forward's {k} has {n} non-finite entr{'y' if n == 1 else 'ies'} (NaN or inf) of "
                f"{v.size}: no gradient can be checked through it; find where it arises first"
            )


def _jax_grads(fwd, inputs, names, dtype, timeout, calls):
    """Every named tensor's gradient by ``jax.vjp``: the forward traced to a jaxpr, a zero added
    to each returned intermediate where it is computed, the vjp taken w.r.t. those zeros."""
    import jax
    import jax.extend.core as jcore
    import jax.numpy as jnp

    arrays = {k: _plain(v) for k, v in inputs.items()}
    floats = [k for k, v in arrays.items() if v.dtype.kind == "f"]
    with jax.enable_x64(dtype == np.float64):
        fixed = {k: jnp.asarray(v) for k, v in arrays.items() if k not in floats}

        def f(*xs):
            result = fwd.fn(jnp, **fixed, **dict(zip(floats, xs)))
            return [result[k] for k in names if k not in floats]

        xs = [jnp.asarray(arrays[k]) for k in floats]
        closed = _call(
            usercode.UserFunction(lambda: jax.make_jaxpr(f)(*xs), fwd.name), (), {}, timeout, calls
        )
        jaxpr = closed.jaxpr
        outs = jaxpr.outvars
        inner = [k for k in names if k not in floats]
        tapped = {}
        for k, v in zip(inner, outs):
            if not isinstance(v, jcore.Literal):
                tapped.setdefault(v, []).append(k)

        def run(xs, taps):
            env = {}

            def read(v):
                return v.val if isinstance(v, jcore.Literal) else env[v]

            def write(v, value):
                if v in tapped:
                    value = value + taps[tapped[v][0]]
                env[v] = value

            for v, c in zip(jaxpr.constvars, closed.consts):
                env[v] = c
            for v, x in zip(jaxpr.invars, xs):
                write(v, x)
            for eqn in jaxpr.eqns:
                params = eqn.primitive.get_bind_params(eqn.params)
                # older JAX returns (subfuns, params), newer the params alone
                subfuns, params = params if isinstance(params, tuple) else ((), params)
                ans = eqn.primitive.bind(*subfuns, *map(read, eqn.invars), **params)
                for v, a in zip(eqn.outvars, ans if eqn.primitive.multiple_results else [ans]):
                    if not isinstance(v, jcore.DropVar):
                        write(v, a)
            return jnp.sum(read(outs[-1]))

        zeros = {vs[0]: jnp.zeros(v.aval.shape, v.aval.dtype) for v, vs in tapped.items()}
        gx, gt = jax.grad(run, argnums=(0, 1))(xs, zeros)
    grads = {k: np.asarray(g, np.float64) for k, g in zip(floats, gx)}
    for vs in tapped.values():
        for k in vs:
            grads[k] = np.asarray(gt[vs[0]], np.float64)
    for k in names:
        grads.setdefault(k, np.zeros(np.shape(arrays.get(k, 0.0))))
    grads[names[-1]] = np.ones_like(grads[names[-1]])
    return grads


def _user_grads(grads, names, run, values, style, timeout, calls):
    """``{name: (float64 array, dtype name)}`` from the user's dict (or function)."""
    if callable(grads) and not isinstance(grads, dict):
        shown = (
            {k: t.detach().clone() for k, t in run.tensors.items()}
            if style == "torch"
            else {k: np.array(v) for k, v in values.items()}
        )
        fn = usercode.as_user_function(grads)
        grads = usercode.call(fn, (shown,), timeout, calls)
        who = f"{fn.name} returned"
    else:
        who = "grads is"
    if not isinstance(grads, dict) or not grads:
        what = "an empty dict" if isinstance(grads, dict) else _what(grads)
        raise ChainCallError(f"{who} {what}; expected a dict of gradients by name ({{'dlogprobs': ...}})")
    out = {}
    for key, g in grads.items():
        n = _name_of(key, names)
        if n in out:
            raise ChainCallError(f"grads: {n!r} given twice (as {key!r} and once more)")
        if g is None:
            raise ChainCallError(f"grads[{key!r}] is None; expected an array (a missing assignment?)")
        try:
            arr, dt = to_numpy(g, f"grads[{key!r}]")
        except LayoutError as err:
            raise ChainCallError(str(err)) from None
        if arr.dtype.kind not in "fiub":
            raise ChainCallError(f"grads[{key!r}]: expected an array of numbers, got dtype {arr.dtype}")
        out[n] = (arr.astype(np.float64), dt)
    return out


def _name_of(key, names):
    if not isinstance(key, str):
        raise ChainCallError(f"grads: the key {key!r} is not a name")
    if key in names:
        return key
    if key.startswith("d") and key[1:] in names:
        return key[1:]
    raise ChainCallError(
        f"grads: {key!r} is none of your forward's names ({', '.join(names)}), with or without a 'd' "
        "(a parameter's gradient is checked when the parameter is passed in inputs, or returned in the dict)"
    )


# ------------------------------------------------------------------ paths and scales


def _partials(run):
    """``(P, A)``: ``P[(k, j)]`` the true partial gradient of the loss w.r.t. k through the
    consumer j alone (autograd of j with j's true gradient, every other named tensor's gradient
    stopped by a hook that records what reaches it); ``A[(k, j)]`` the same with j's gradient
    in absolute value (the size of the terms, for the scale). Only pairs with a nonzero partial."""
    import torch

    names, tensors = run.names, run.tensors
    P, A = {}, {}
    for jpos, j in enumerate(names):
        earlier = [k for k in names[:jpos] if tensors[k].requires_grad and tensors[k] is not tensors[j]]
        if jpos == 0 or not tensors[j].requires_grad or not earlier:
            continue
        g = torch.as_tensor(run.grads[j], dtype=tensors[j].dtype)
        for upstream, store in ((g, P), (g.abs(), A)):
            seen = {}
            hooks = []
            for k in earlier:

                def hook(grad, k=k, seen=seen):
                    seen[k] = seen.get(k, 0) + grad.detach().double().numpy()
                    return torch.zeros_like(grad)

                hooks.append(tensors[k].register_hook(hook))
            try:
                torch.autograd.grad(
                    tensors[j], [tensors[k] for k in earlier], upstream.reshape(tensors[j].shape),
                    allow_unused=True, retain_graph=True,
                )  # fmt: skip
            finally:
                for h in hooks:
                    h.remove()
            for k, v in seen.items():
                if np.any(v != 0) or store is A and (k, j) in P:
                    store[(k, j)] = v
    return P, A


def _allowed(names, values, truth, partials, dtype):
    """Per name, what rounding allows a correct hand gradient to differ by (the module's rule)."""
    P, A = partials
    n = max((max(v.shape, default=1) for v in values.values()), default=1)
    rtol = tolerance("layer_parity", dtype).rtol
    tiny = 1024 * float(np.finfo(dtype).tiny)
    out = {}
    for pos, k in enumerate(names):
        steps = len(names) - pos  # the names after k, and the loss's own
        terms = (
            [truth[k]] + [v for (a, _), v in P.items() if a == k] + [v for (a, _), v in A.items() if a == k]
        )
        magnitude = max(float(np.max(np.abs(t), initial=0.0)) for t in terms)
        out[k] = rtol * steps * chain_length(n) * magnitude + tiny
    return out


# ------------------------------------------------------------------ rows and the first wrong


def _compare(report, user, truths, allowed, values, partials, dtype):
    names = report.names
    given = [k for k in reversed(names) if k in user]
    first = next(iter(truths))
    low = sorted({user[k][1] for k in given if _bits(user[k][1]) < _bits(dtype.name)})
    if low:
        report.notes.append(
            f"your {', '.join(f'd{k}' for k in given if user[k][1] in low)} came as {' or '.join(low)}: "
            f"judged to {low[0]}'s precision, the forward being {dtype.name}"
        )
    for k in given:
        mine, came = user[k]
        t = truths[first][k]
        if mine.shape != t.shape:
            report.rows.append(ChainRow(k, mine.shape, False, False, math.inf, {}, False, "SHAPE"))
            continue
        scale = allowed[k] if _bits(came) >= _bits(dtype.name) else allowed[k] * _u("float32") / _u(dtype)
        diff = np.abs(mine - t)
        with np.errstate(invalid="ignore"):
            ratios = {
                name: float(np.max(np.abs(mine - g[k]) / scale, initial=0.0)) for name, g in truths.items()
            }
            approx = bool(np.allclose(mine, t, **APPROX))
        ratios = {name: (r if math.isfinite(r) else math.inf) for name, r in ratios.items()}
        ok = all(r <= 1 for r in ratios.values())
        report.rows.append(
            ChainRow(
                k, t.shape, bool(np.all(mine == t)), approx, float(np.max(diff, initial=0.0)), ratios, ok
            )
        )
    bad = [r for r in report.rows if not r.ok]
    if not bad:
        return
    k = bad[0].name
    report.first_wrong = k
    after = [r.name for r in report.rows[: report.rows.index(bad[0])]]
    head = f"the first wrong gradient walking back from the loss is d{k}"
    head += (
        f" ({_some(after)} after it {'is' if len(after) == 1 else 'are'} right): the mistake is in "
        f"the step that makes d{k}"
        if after
        else ": the mistake is in the step that makes it from the loss"
    )
    report.findings.append(head)
    wrong = {r.name for r in bad}
    # a later wrong gradient follows from a wrong one when some gradient it is made from (a consumer's)
    # is wrong or not given; made from right ones alone, it is a mistake of its own
    own = [
        r.name
        for r in bad[1:]
        if report.consumers.get(r.name)
        and all(j in user and j not in wrong for j in report.consumers[r.name])
    ]
    follows = [r.name for r in bad[1:] if r.name not in own]
    if follows:
        report.findings.append(
            f"{_some(follows)} before it {'is' if len(follows) == 1 else 'are'} wrong too, as what follows "
            f"from {'it' if not own else 'a wrong gradient'} would be"
        )
    right = set(after) | {r.name for r in report.rows if r.ok}
    lines, keys, report.diagnosis = _step(k, user, truths, allowed, values, partials, dtype, report, right)
    report.findings += lines
    report.explained_by = keys
    for j in own:
        made = report.consumers[j]
        report.findings.append(
            f"d{j} is wrong too, and not as a consequence: the gradient{'s' if len(made) > 1 else ''} it "
            f"is made from ({' and '.join(f'd{c}' for c in made)}) {'are' if len(made) > 1 else 'is'} "
            f"right — a second mistake, in the step that makes d{j}"
        )
        lines, keys, _ = _step(j, user, truths, allowed, values, partials, dtype, report, right)
        report.findings += lines
        report.explained_by += keys


def _step(k, user, truths, allowed, values, partials, dtype, report, right):
    """``(lines, keys, diagnosis)`` for the step that makes d{k}, made from right gradients."""
    first = next(iter(truths))
    mine, _ = user[k]
    truth = truths[first][k]
    if mine.shape != truth.shape:
        line, explained = _shape_finding(k, mine, truth)
        return [line], ["broadcast-not-summed"] if explained else [], None
    # the step that makes dk combines its consumers' gradients: those given are the ones the joint
    # rule holds the mistake to (they are right, and no candidate changes them)
    used = [j for j in report.consumers.get(k, []) if j in right and j in user]
    quantities = [
        Quantity(
            n, f"d{n}", user[n][0], truths[first][n], allowed[n] / tolerance("parity", dtype).rtol, user[n][1]
        )
        for n in [k] + used
    ]
    candidates = _candidates(k, truth, values, partials, report.consumers.get(k, []))
    d = diagnose(quantities, candidates, dtype, subject="chain")
    return list(d.lines), [c.key for c in d.explained_by], d


def _bits(name):
    return {"float64": 64, "float32": 32, "float16": 16, "bfloat16": 16}.get(name, 64)


def _u(dtype):
    return float(np.finfo(np.dtype(dtype)).eps) / 2


def _some(names):
    """ "dprobs and dlogprobs", or for many "the 14 gradients" (the table lists them)."""
    if len(names) <= 3:
        return " and ".join(f"d{n}" for n in names)
    return f"the {len(names)} gradients"


def _shape_finding(k, mine, truth):
    """``(line, explained)``: a wrong shape, and whether it is a broadcast not summed back
    (explained: summed so, it is right)."""
    line = f"your d{k} has shape {mine.shape}; {k} has {truth.shape}"
    lead = mine.ndim - truth.ndim
    if lead >= 0 and mine.size > truth.size:
        # the axes along which k was broadcast where it was used: leading ones, and its 1s
        axes = tuple(range(lead)) + tuple(
            lead + i for i, (a, b) in enumerate(zip(mine.shape[lead:], truth.shape)) if a != b
        )
        if all(truth.shape[i - lead] == 1 for i in axes if i >= lead):
            summed = mine.sum(axis=axes, keepdims=True).reshape(truth.shape)
            where = f"axis {axes[0]}" if len(axes) == 1 else f"axes {axes}"
            how = f"d{k}.sum({axes[0] if len(axes) == 1 else axes}{', keepdims=True' if not lead else ''})"
            line += (
                f": a broadcast not summed back — {k} was broadcast along {where} where it was used, so its "
                f"gradient is the sum over {where} ({how})"
            )
            ref = float(np.max(np.abs(truth), initial=0.0))
            right = bool(np.allclose(summed, truth, rtol=1e-6, atol=1e-6 * ref))
            line += (
                "; summed so, yours is right" if right else "; summed so, yours still differs from the truth"
            )
            return line, right
    if mine.size == truth.size:
        line += " (the right number of entries: reshape it to the tensor's shape)"
    return line, False


def _candidates(k, truth, values, partials, consumers):
    """The mistakes made in the step that makes d{k}, each with the d{k} it would give."""
    P = partials[0]
    out = [Candidate("sign", k, f"d{k} has the wrong sign", {k: -truth})]
    parts = {j: P[(k, j)] for j in consumers}
    if len(parts) > 1:
        for j, p in parts.items():
            others = [o for o in parts if o != j]
            text = f"the path through {j} is missing from d{k} (its contribution, d{j} sent back to {k}, "
            text += "not added"
            text += f"; only the path through {others[0]} counted)" if len(others) == 1 else ")"
            out.append(Candidate(f"missing:{j}", k, text, {k: truth - p}))
            if len(others) > 1:
                out.append(Candidate(f"only:{j}", k, f"d{k} counts only the path through {j}", {k: p}))
    for j, p in parts.items():
        reduced = [a for a, (s, r) in enumerate(zip(values[k].shape, values[j].shape)) if s > 1 and r == 1]
        for n in {values[k].shape[a] for a in reduced if values[k].shape[a] > 2}:
            out.append(
                Candidate(
                    "bessel-missing", k,
                    f"Bessel's correction missing in the path through {j}: 1/{n} where the forward's {j} "
                    f"divides by n − 1 = {n - 1}",
                    {k: truth - p + p * (n - 1) / n},
                )
            )  # fmt: skip
            out.append(
                Candidate(
                    "bessel-added", k,
                    f"Bessel's correction where the forward has none, in the path through {j}: 1/{n - 1} "
                    f"where {j} divides by n = {n}",
                    {k: truth - p + p * n / (n - 1)},
                )
            )  # fmt: skip
    return out


# ------------------------------------------------------------------ text


def _describe(r):
    how = "PyTorch" if r.style == "torch" else "xp: NumPy, PyTorch and JAX"
    return f"{len(r.names)} named tensors ending in {r.names[-1]}, {np.dtype(r.dtype).name} ({how})"


def _cells(row, truths):
    if row.verdict == "SHAPE":
        return ["", "", "", *["" for _ in truths]]
    return [
        str(row.exact),
        str(row.approximate),
        f"{row.maxdiff:.1e}",
        *[_number(row.ratios[t]) if t in row.ratios else "" for t in truths],
    ]


def _number(v):
    return f"{v:.1e}" if math.isfinite(v) else ("nan" if math.isnan(v) else "inf")


def _render(r):
    yield f"check_chain: {r.name}: {_describe(r)}"
    if r.rows:
        yield (
            "  your gradients, walking back from the loss: makemore's exact / approximate / maxdiff "
            f"(against {r.truths[0]}), err / allowed per truth (pass: <= 1)"
        )
        width = max(8, max(len(x.name) + 1 for x in r.rows))
        head = ["exact", "approx", "maxdiff", *r.truths]
        yield "    " + "gradient".ljust(width + 1) + "shape".ljust(14) + "".join(f"{h:<9}" for h in head)
        for row in r.rows:
            cells = _cells(row, r.truths)
            mark = "  <- first wrong" if row.name == r.first_wrong else ""
            yield (
                f"    d{row.name:<{width}}{str(tuple(row.shape)):<14}"
                + "".join(f"{c:<9}" for c in cells)
                + f"{row.verdict}{mark}"
            )
    if r.ok:
        yield f"  every gradient you gave agrees with {' and '.join(r.truths)}"
    for line in r.findings:
        yield f"  {line}"
    for note in r.notes:
        yield f"  note: {note}"
    for k in r.missing:
        extra = backends.EXTRAS[k]
        yield f"  ({k} is not installed: pip install 'backprop-by-hand[{extra}]' to compare with it)"


def _html(r):
    """The report as an HTML table (Jupyter), the diagnosis below it."""
    e = html.escape
    head = "".join(
        f"<th>{e(h)}</th>"
        for h in [
            "gradient",
            "shape",
            "exact",
            "approximate",
            "maxdiff",
            *[f"{t} err/allowed" for t in r.truths],
            "",
        ]
    )
    body = []
    for row in r.rows:
        colour = "#2a7" if row.ok else "#c33"
        cells = "".join(f"<td>{e(c)}</td>" for c in _cells(row, r.truths))
        style = " style='background:#fdd'" if row.name == r.first_wrong else ""
        body.append(
            f"<tr{style}><td><code>d{e(row.name)}</code></td><td>{e(str(tuple(row.shape)))}</td>{cells}"
            f"<td style='color:{colour}'><b>{row.verdict}</b></td></tr>"
        )
    lines = r.findings or [f"every gradient you gave agrees with {' and '.join(r.truths)}"]
    notes = "".join(f"<li>note: {e(n)}</li>" for n in r.notes)
    return (
        f"<div><p><b>check_chain</b>: <code>{e(r.name)}</code>: {e(_describe(r))}</p>"
        f"<table><tr>{head}</tr>{''.join(body)}</table>"
        f"<ul>{''.join(f'<li>{e(x)}</li>' for x in lines)}{notes}</ul></div>"
    )


__all__ = ["ChainCallError", "ChainReport", "assert_chain_matches", "check_chain"]
