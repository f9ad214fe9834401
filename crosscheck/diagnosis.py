"""What a hand-written gradient's difference from the truth is, and which mistake
explains it: the rules every check of the harness states its diagnosis by.

The quantities are named arrays (a net's loss and its W1, b1, ...; a layer's dx,
dw, dgamma, ...), each with the user's value, the truth, and its rounding scale
(``crosscheck.compare``). The candidates are the mistakes of a catalogue, each
with the values it would produce on the same inputs.

- **Jointly, or not at all.** A mistake is named only when what it predicts
  matches the user's value of *every* quantity, the right ones included, and
  differs from the truth wherever the user's does. One that matches the wrong
  quantities but would change a right one too is said to, not named.
- **Precision is not a mistake.** A quantity within ``mistake_match`` of the truth
  is close: no mistake of a catalogue changes a gradient that little. When every
  failing quantity is close and the user's arrays came in float32, the report
  says so; otherwise it says how close they are.
- **What the data cannot show is said.** A candidate whose values pass as the
  truth on these inputs could not have been seen; it is listed.
- **Non-finite values are named** (which quantity, how many entries, where), and
  nothing is compared through them.
"""

from dataclasses import dataclass, field

import numpy as np

from .tolerances import tolerance

MAX_LISTED = 3  # candidates named as partial explanations
# float32's rounding leaves relative errors of 1e-8 and more in a computed gradient; a guard
# such as log(a + 1e-12) moves one by far less: what tells the two apart
FLOAT32_LIKE = 1e-9


@dataclass
class Quantity:
    """One compared array: ``mine`` the user's, ``truth``, ``scale`` its rounding
    scale (all float64, one shape); ``dtype`` the name of the dtype the user's came in."""

    key: object
    name: str
    mine: np.ndarray
    truth: np.ndarray
    scale: np.ndarray
    dtype: str = "float64"
    is_loss: bool = False


@dataclass
class Candidate:
    """A mistake made at one place, and the values it produces (a key left out: the truth)."""

    key: str
    where: object
    text: str
    values: dict

    def value(self, q):
        return np.asarray(self.values.get(q.key, q.truth), np.float64)


@dataclass
class Diagnosis:
    """verdict: "agrees", "non-finite", "precision", "close", "explained" or "unexplained".
    lines: the diagnosis in sentences. explained_by: the candidates that reproduce every
    quantity. off: the names of the quantities that are not even close to the truth;
    differences: name -> what the difference looks like. unseen: candidates these
    inputs cannot tell from the truth. precision: the user's lower dtype, if any."""

    verdict: str
    lines: list
    explained_by: list = field(default_factory=list)
    off: list = field(default_factory=list)
    differences: dict = field(default_factory=dict)
    unseen: list = field(default_factory=list)
    precision: str | None = None


def lowest_precision(quantities, dtype):
    """The user's float dtype when it is less precise than the check's ``dtype``, else None."""
    bits = {"float64": 64, "float32": 32, "float16": 16, "bfloat16": 16}
    own = bits[np.dtype(dtype).name]
    found = [q.dtype for q in quantities if bits.get(q.dtype, 64) < own]
    return min(found, key=lambda d: bits[d]) if found else None


def _effective(dtype, precision):
    """The dtype whose tolerances judge a user's values of ``precision`` for a check in ``dtype``."""
    return np.dtype(np.float32) if precision is not None else np.dtype(dtype)


def within(a, b, scale, dtype):
    """Entry by entry, whether a and b agree to the parity tolerance of ``dtype`` (rounding)."""
    ftz = 1024 * float(np.finfo(dtype).tiny)
    with np.errstate(invalid="ignore"):
        return np.abs(a - b) <= tolerance("parity", dtype).rtol * scale + ftz


def close(a, b, scale, dtype):
    """Whether two arrays are the same value to this harness: within ``mistake_match``
    of the larger, norm-wise, beyond their rounding (the loss: within ``loss_guard``)."""
    rtol = tolerance("mistake_match", dtype).rtol
    ref = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    return bool(np.all(np.abs(a - b) <= rtol * ref + tolerance("parity", dtype).rtol * scale))


def close_loss(a, b, scale, dtype):
    """The loss's own rule: within ``loss_guard`` relative, what users' guards such as
    log(a + ε) move it by, beyond its rounding."""
    rtol = tolerance("loss_guard", dtype).rtol
    return bool(abs(a - b) <= rtol * max(abs(a), abs(b)) + tolerance("parity", dtype).rtol * scale)


def _close(q, a, b, dtype):
    return close_loss(float(a), float(b), float(q.scale), dtype) if q.is_loss else close(a, b, q.scale, dtype)


def diagnose(quantities, candidates, dtype):
    """A ``Diagnosis`` of the user's quantities (``Quantity``) against the truth,
    with ``candidates`` (``Candidate``) as the possible explanations; ``dtype``:
    the check's (the net's, the layer's)."""
    dtype = np.dtype(dtype)
    bad = [q for q in quantities if not np.all(np.isfinite(q.mine))]
    if bad:
        return _non_finite(quantities, bad, dtype)
    precision = lowest_precision([q for q in quantities if not q.is_loss], dtype)
    judge = _effective(dtype, precision)
    failing = [q for q in quantities if not np.all(within(q.mine, q.truth, q.scale, dtype))]
    unseen = [
        c for c in candidates if all(np.all(within(c.value(q), q.truth, q.scale, dtype)) for q in quantities)
    ]
    if not failing:
        return Diagnosis("agrees", [], unseen=unseen, precision=precision)
    off = [q for q in failing if not _close(q, q.mine, q.truth, judge)]
    if not off:
        return _close_only(quantities, failing, dtype, precision, unseen)
    differences = {q.name: describe_difference(q.mine, q.truth, is_loss=q.is_loss) for q in off}
    lines = [_what_is_off(off, [q for q in quantities if q not in off], differences)]
    seen = [c for c in candidates if c not in unseen]

    def reproduces(c, qs):
        return all(_close(q, q.mine, c.value(q), judge) for q in qs) and all(
            not _close(q, c.value(q), q.truth, judge) for q in off if q in qs
        )

    explained = [c for c in seen if reproduces(c, quantities)]
    loss_aside = None
    if not explained and any(q.is_loss for q in off):
        grads = [q for q in quantities if not q.is_loss]
        if any(q in off for q in grads):
            explained = [c for c in seen if reproduces(c, grads)]
            loss_aside = next(q for q in off if q.is_loss)
    if precision:
        lines.append(
            f"your arrays came as {precision}: they are judged to {precision}'s precision, "
            f"the net being {dtype.name}"
        )
    if explained:
        lines.append(_explained(explained, loss_aside))
        verdict = "explained"
    else:
        lines.append(_unexplained(off, [c for c in seen if reproduces(c, off)], quantities, judge))
        verdict = "unexplained"
    return Diagnosis(verdict, lines, explained, [q.name for q in off], differences, unseen, precision)


def _non_finite(quantities, bad, dtype):
    lines = []
    for q in bad:
        if q.is_loss:
            lines.append(f"your loss is {float(q.mine)}")
            continue
        where = np.argwhere(~np.isfinite(q.mine))
        kinds = ", ".join(
            f"{n} {label}"
            for n, label in (
                (int(np.isnan(q.mine).sum()), "NaN"),
                (int(np.isposinf(q.mine).sum()), "+inf"),
                (int(np.isneginf(q.mine).sum()), "-inf"),
            )
            if n
        )
        first = ", ".join(str(tuple(int(i) for i in idx)) for idx in where[:4])
        more = f" and {len(where) - 4} more" if len(where) > 4 else ""
        at = f" at {first}{more}" if q.mine.ndim else ""
        lines.append(f"{q.name} has {kinds} (of {q.mine.size} entries){at}")
    rest = [q for q in quantities if q not in bad]
    agree = [q.name for q in rest if np.all(within(q.mine, q.truth, q.scale, dtype))]
    differ = [q.name for q in rest if q.name not in agree]
    if agree:
        lines.append(f"{_join(agree)} {'agrees' if len(agree) == 1 else 'agree'} with the truth")
    if differ:
        lines.append(f"{_join(differ)} {'differs' if len(differ) == 1 else 'differ'} from it as well")
    lines.append("no mistake is named from non-finite values: find where they arise first")
    return Diagnosis("non-finite", lines, off=[q.name for q in bad])


def _close_only(quantities, failing, dtype, precision, unseen):
    rel = max(_relative(q) for q in failing)
    names = _join([q.name for q in failing])
    if precision and all(np.all(within(q.mine, q.truth, q.scale, np.float32)) for q in failing):
        line = (
            f"your arrays came as {precision} and agree with the truth to {precision}'s precision; the "
            f"net is {np.dtype(dtype).name}: check with a {precision} net (dtype=np.{precision}, "
            f"--dtype {precision}), or return {np.dtype(dtype).name} arrays"
        )
        return Diagnosis("precision", [line], off=[], unseen=unseen, precision=precision)
    only_loss = all(q.is_loss for q in failing)
    float32_like = rel > FLOAT32_LIKE and all(
        np.all(within(q.mine, q.truth, q.scale, np.float32)) for q in failing
    )
    if float32_like and not only_loss:
        own = np.dtype(dtype).name
        line = (
            f"{names} agree with the truth to float32's precision, not {own}'s (off by at most "
            f"{rel:.1e} relative): a step of your function computes in float32, though its arrays came "
            f"as {own}"
        )
    elif only_loss:
        line = (
            f"your loss differs from the truth by {rel:.1e} relative, beyond rounding but within "
            f"{tolerance('loss_guard', dtype).rtol:g}, what guards such as log(a + ε) move a loss by; "
            "the gradients agree"
        )
    else:
        line = (
            f"{names} {'is' if len(failing) == 1 else 'are'} off by at most {rel:.1e} relative: far less "
            "than any mistake of the catalogue changes a gradient, more than rounding allows; a guard such "
            "as log(a + ε) or a clip, or a step computed in lower precision?"
        )
    return Diagnosis("close", [line], unseen=unseen, precision=precision)


def _relative(q):
    ref = float(np.max(np.abs(q.truth), initial=0.0))
    diff = float(np.max(np.abs(q.mine - q.truth), initial=0.0))
    return diff / ref if ref > 0 else float("inf")


def _what_is_off(off, rest, differences):
    """ "only W1 differs by 0.5x in every entry; W2, b2 and b1 agree", quantities that
    differ alike grouped: "the loss is 2x the truth's (...); W2, b2, W1 and b1 differ by 2x"."""
    groups = {}
    for q in off:
        groups.setdefault(differences[q.name], []).append(q.name)
    parts = []
    for text, names in groups.items():
        if len(names) > 1:
            text = text.replace("differs", "differ", 1).replace("has ", "have ", 1).replace("is ", "are ", 1)
        parts.append(f"{_join(names)} {text}")
    agree = [q.name for q in rest]
    head = f"only {parts[0]}" if len(parts) == 1 and agree else "; ".join(parts)
    if agree:
        head += f"; {_join(agree)} {'agrees' if len(agree) == 1 else 'agree'}"
    return head


def _explained(explained, loss_aside):
    texts = list(dict.fromkeys(c.text for c in explained))
    if len(texts) == 1:
        line = f"one mistake of the catalogue gives exactly these values: {texts[0]}"
    else:
        line = (
            f"each of these {len(texts)} mistakes gives exactly these values (on these inputs they "
            "coincide): " + "; or ".join(texts)
        )
    if loss_aside is not None:
        line += f"; your loss differs besides: {describe_difference(loss_aside.mine, loss_aside.truth, True)}"
    return line


def _unexplained(off, partial, quantities, dtype):
    what = "these values" if len(off) > 1 else f"this {off[0].name}"
    line = f"no single mistake of the catalogue gives {what}"
    shown = []
    for c in partial[:MAX_LISTED]:
        changed = [q.name for q in quantities if q not in off and not _close(q, c.value(q), q.truth, dtype)]
        if changed:
            shown.append(f"{c.text} gives {what}, but would change {_join(changed)} too")
    return line + ("; " + "; ".join(shown) if shown else "")


def describe_difference(mine, truth, is_loss=False):
    """What a wrong value looks like against the truth: a constant factor, a sign,
    zeros, or which entries ("differs by 4.005x", "has the opposite sign", ...)."""
    mine, truth = np.asarray(mine, np.float64), np.asarray(truth, np.float64)
    if is_loss or mine.ndim == 0:
        m, t = float(mine), float(truth)
        if t != 0 and m != 0 and abs(m / t - 1) > 1e-9:
            return f"is {_factor(m / t)} the truth's (yours {m:.10g}, the truth {t:.10g})"
        return f"differs: yours {m:.10g}, the truth {t:.10g}"
    if not np.any(mine):
        return "is all zeros"
    if not np.any(truth):
        return "is not zero where the truth is"
    factor = float(np.vdot(mine, truth) / np.vdot(truth, truth))
    if np.abs(mine - factor * truth).max() <= 1e-6 * np.abs(mine).max():
        every = " in every entry" if mine.size > 1 else ""
        if abs(factor + 1) <= 1e-6:
            return f"has the opposite sign{every}"
        return f"differs by {_factor(factor)}{every}"
    wrong = np.argwhere(~np.isclose(mine, truth, rtol=1e-6, atol=1e-12 * np.abs(truth).max()))
    if len(wrong) == mine.size:
        return "differs in every entry, by no common factor"
    shown = ", ".join(str(tuple(int(i) for i in idx)) for idx in wrong[:6])
    more = f" and {len(wrong) - 6} more" if len(wrong) > 6 else ""
    return f"differs in {len(wrong)} of {mine.size} entries: {shown}{more}, by no common factor"


def _factor(f):
    """A factor as a user reads it: never "1x" for one that is not 1."""
    for digits in (4, 6, 9, 12):
        text = f"{f:.{digits}g}"
        if float(text) != 1.0 or f == 1.0:
            break
    return f"{text}x" if f > 0 else f"{text}x (the opposite sign)"


def _join(names):
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
