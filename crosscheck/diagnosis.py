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
FLOAT32_LIKE = 1e-8
_MATCH32 = tolerance("mistake_match", "float32").rtol


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
    # an entry's index as the user's array has it (their layout); None: the plain layout's
    user_index: object = None

    def shown(self, index):
        index = tuple(int(i) for i in index)
        return index if self.user_index is None else self.user_index(index)


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
    inputs cannot tell from the truth. precision: the user's lower dtype, if any.
    loss_aside: the candidates explain the gradients but not the loss (a second mistake there)."""

    verdict: str
    lines: list
    explained_by: list = field(default_factory=list)
    off: list = field(default_factory=list)
    differences: dict = field(default_factory=dict)
    unseen: list = field(default_factory=list)
    precision: str | None = None
    loss_aside: bool = False


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
    """Whether two arrays are the same value to this harness: norm-wise within ``mistake_match``
    of the larger (1e-6; 1e-3 in float32), or, for an array so small against its terms'
    rounding that a correct implementation may be off by more, within that rounding
    (the loss has its own rule, ``close_loss``)."""
    rtol = tolerance("mistake_match", dtype).rtol
    ref = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    rounding = tolerance("parity", dtype).rtol * float(np.max(scale, initial=0.0))
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.max(np.abs(a - b), initial=0.0) <= max(rtol * ref, rounding))


def close_loss(a, b, scale, dtype):
    """The loss's own rule: within ``loss_guard`` relative, what users' guards such as
    log(a + ε) move it by, beyond its rounding."""
    rtol = tolerance("loss_guard", dtype).rtol
    return bool(abs(a - b) <= rtol * max(abs(a), abs(b)) + tolerance("parity", dtype).rtol * scale)


def _close(q, a, b, dtype):
    return close_loss(float(a), float(b), float(q.scale), dtype) if q.is_loss else close(a, b, q.scale, dtype)


# what a check's dtype is the dtype of, by its subject: a chain's is its forward's
_NOUN = {"chain": "forward"}


def diagnose(quantities, candidates, dtype, subject="net"):
    """A ``Diagnosis`` of the user's quantities (``Quantity``) against the truth,
    with ``candidates`` (``Candidate``) as the possible explanations; ``dtype``:
    the check's (the net's, the layer's, the chain's forward's); ``subject``: what is
    checked ("net", "layer", "chain"), for the sentences that name its dtype and the
    cure of a precision."""
    dtype = np.dtype(dtype)
    bad = [q for q in quantities if not np.all(np.isfinite(q.mine))]
    if bad:
        return _non_finite(quantities, bad, dtype)
    precision = lowest_precision(quantities, dtype)
    judge = _effective(dtype, precision)
    failing = [q for q in quantities if not np.all(within(q.mine, q.truth, q.scale, dtype))]
    unseen = [
        c for c in candidates if all(np.all(within(c.value(q), q.truth, q.scale, dtype)) for q in quantities)
    ]
    if not failing:
        return Diagnosis("agrees", [], unseen=unseen, precision=precision)
    off = [q for q in failing if not _close(q, q.mine, q.truth, judge)]
    if not off:
        return _close_only(quantities, failing, dtype, precision, unseen, subject)
    differences = {
        q.name: describe_difference(q.mine, q.truth, q.is_loss, _allowance(q, judge), q.shown) for q in off
    }
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
            f"{_came_as(quantities, precision)}: judged to {precision}'s precision, "
            f"the {_NOUN.get(subject, subject)} being {dtype.name}"
        )
    if explained:
        named = [q for q in quantities if not (loss_aside is not None and q.is_loss)]
        lines.append(_explained(explained, loss_aside, _residue(explained[0], named, judge), judge))
        verdict = "explained"
    else:
        lines.append(_unexplained(off, [c for c in seen if reproduces(c, off)], quantities, judge))
        verdict = "unexplained"
    return Diagnosis(
        verdict,
        lines,
        explained,
        [q.name for q in off],
        differences,
        unseen,
        precision,
        loss_aside is not None,
    )


def _allowance(q, dtype):
    """What rounding alone may change an entry of ``q`` by, in ``dtype``."""
    return tolerance("parity", dtype).rtol * np.asarray(q.scale, np.float64)


def _came_as(quantities, precision):
    """Which of the user's arrays came in the lower ``precision``: "your gradients came as float32"."""
    low = [q.name for q in quantities if q.dtype == precision]
    grads = [q for q in quantities if not q.is_loss]
    loss_too = any(q.is_loss and q.dtype == precision for q in quantities)
    if all(q.dtype == precision for q in grads):
        who = "your loss and gradients" if loss_too else "your gradients"
    else:
        who = _join(low)
    return f"{who} came as {precision}"


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
        first = ", ".join(str(q.shown(idx)) for idx in where[:4])
        more = f" and {len(where) - 4} more" if len(where) > 4 else ""
        at = f" at {first}{more}" if q.mine.size > 1 else ""
        of = "its only entry" if q.mine.size == 1 else f"of {q.mine.size} entries"
        lines.append(f"{q.name} has {kinds} ({of}){at}")
    rest = [q for q in quantities if q not in bad]
    agree = [q.name for q in rest if np.all(within(q.mine, q.truth, q.scale, dtype))]
    differ = [q.name for q in rest if q.name not in agree]
    if agree:
        lines.append(f"{_join(agree)} {'agrees' if len(agree) == 1 else 'agree'} with the truth")
    if differ:
        lines.append(f"{_join(differ)} {'differs' if len(differ) == 1 else 'differ'} from it as well")
    lines.append("no mistake is named from non-finite values: find where they arise first")
    return Diagnosis("non-finite", lines, off=[q.name for q in bad])


def _close_only(quantities, failing, dtype, precision, unseen, subject="net"):
    rel = max(_relative(q) for q in failing)
    names = _join([q.name for q in failing])
    own = np.dtype(dtype).name
    at_float32 = all(
        np.all(within(q.mine, q.truth, q.scale, np.float32)) and _relative(q) <= _MATCH32 for q in failing
    )
    if precision and at_float32:
        noun = _NOUN.get(subject, subject)
        how = (
            "dtype=np.float32, --dtype float32"
            if subject == "net"
            else "dtype=np.float32 from Python, --dtype float32 on the command line: the inputs drawn in "
            "float32; or your own float32 inputs"
        )
        if precision != "float32":
            cure = f"return float32 or {own} arrays (a {noun} is float32 or float64)"
        elif subject == "chain":  # check_chain takes no dtype: the forward's inputs make it
            cure = (
                f"give it float32 inputs (a float32 forward is judged to float32's precision), or return "
                f"{own} arrays"
            )
        else:
            cure = f"check with a float32 {subject} ({how}), or return {own} arrays"
        line = (
            f"{_came_as(quantities, precision)} and agree with the truth to {precision}'s precision; "
            f"the {noun} is {own}: {cure}"
        )
        return Diagnosis("precision", [line], off=[], unseen=unseen, precision=precision)
    only_loss = all(q.is_loss for q in failing)
    # float32's rounding moves nearly every entry; a difference in a few entries is no precision's
    spread = sum(int(np.sum(~within(q.mine, q.truth, q.scale, dtype))) for q in failing) / sum(
        q.mine.size for q in failing
    )
    float32_like = rel > FLOAT32_LIKE and at_float32 and spread > 0.5
    if float32_like and not only_loss:
        line = (
            f"{names} {'agrees' if len(failing) == 1 else 'agree'} with the truth to float32's precision, "
            f"not {own}'s (off by at most {rel:.1e} relative), as gradients computed in float32 would be, "
            f"though the arrays came as {own}"
        )
    elif only_loss:
        line = (
            f"your loss differs from the truth by {rel:.1e} relative, beyond rounding but within "
            f"{tolerance('loss_guard', dtype).rtol:g}, what guards such as log(a + ε) move a loss by; "
            "the gradients agree"
        )
    else:
        where = "; ".join(_beyond_rounding(q, dtype) for q in failing if not q.is_loss)
        line = (
            f"{names} {'is' if len(failing) == 1 else 'are'} off by at most {rel:.1e} relative: far less "
            "than any mistake of the catalogue changes a gradient, more than rounding allows; a guard such "
            "as log(a + ε) or a clip, or gradients computed in lower precision?"
            + (f" ({where})" if where else "")
        )
    return Diagnosis("close", [line], unseen=unseen, precision=precision)


def _beyond_rounding(q, dtype):
    """ "W1: 1 of 12 entries beyond rounding, at (2, 0)": where a close array is not within it."""
    wrong = np.argwhere(~within(q.mine, q.truth, q.scale, dtype))
    at = ", ".join(str(q.shown(idx)) for idx in wrong[:6]) + (
        f" and {len(wrong) - 6} more" if len(wrong) > 6 else ""
    )
    return f"{q.name}: {len(wrong)} of {q.mine.size} entries beyond rounding, at {at}"


def _relative(q):
    ref = float(np.max(np.abs(q.truth), initial=0.0))
    diff = float(np.max(np.abs(q.mine - q.truth), initial=0.0))
    return diff / ref if ref > 0 else float("inf")


def _what_is_off(off, rest, differences):
    """ "only W1 differs by 0.5x in every entry; W2, b2 and b1 agree", quantities that
    differ alike grouped: "the loss is 2x the truth's (...); W2, b2, W1 and b1 differ by 2x"."""
    groups = {}
    for q in off:
        # a one-entry array's "differs by 2x" groups with the others' "differs by 2x in every entry"
        text = differences[q.name]
        core = text.removesuffix(" in every entry")
        groups.setdefault(core, [[], core])
        groups[core][0].append(q.name)
        if text != core:
            groups[core][1] = text
    parts = []
    for names, text in groups.values():
        if len(names) > 1:
            text = text.replace("differs", "differ", 1).replace("has ", "have ", 1).replace("is ", "are ", 1)
        parts.append(f"{_join(names)} {text}")
    agree = [q.name for q in rest]
    some_gradient_agrees = any(not q.is_loss for q in rest)
    head = f"only {parts[0]}" if len(parts) == 1 and some_gradient_agrees else "; ".join(parts)
    if agree:
        head += f"; {_join(agree)} {'agrees' if len(agree) == 1 else 'agree'}"
    return head


def _residue(candidate, quantities, dtype):
    """``[(name, relative)]``: the quantities the user's values match ``candidate``'s to the
    catalogue's resolution but not to rounding (a second, smaller difference left over)."""
    left = []
    for q in quantities:
        predicted = candidate.value(q)
        ref = float(np.max(np.abs(predicted), initial=0.0))
        # the mistake's values round as their own size does, not as the truth's: N times it where
        # the mistake sums for a mean, and at least each value's own magnitude, where the truth is
        # exact (a dropped entry's 0) and the mistake's is not
        grown = max(1.0, ref / float(np.max(np.abs(q.truth), initial=0.0) or ref or 1.0))
        scale = np.maximum(q.scale * grown, np.abs(predicted))
        if not np.all(within(q.mine, predicted, scale, dtype)):
            diff = float(np.max(np.abs(q.mine - predicted), initial=0.0))
            left.append((q.name, diff / ref if ref > 0 else float("inf")))
    return left


def _explained(explained, loss_aside, residue, dtype):
    texts = list(dict.fromkeys(c.text for c in explained))
    what = "these values" if loss_aside is None else "these gradients"
    how = (
        f"gives exactly {what}"
        if not residue
        else f"gives {what} to {tolerance('mistake_match', dtype).rtol:g} relative"
    )
    if loss_aside is not None:
        how += " (not this loss)"
    if len(texts) == 1:
        line = f"one mistake of the catalogue {how}: {texts[0]}"
    else:
        line = f"each of these {len(texts)} mistakes {how} (on these inputs they coincide): " + "; or ".join(
            texts
        )
    if residue:
        names = _join(name for name, _ in residue)
        worst = max(rel for _, rel in residue)
        line += (
            f"; {names} {'still differs' if len(residue) == 1 else 'still differ'} from that mistake's "
            f"by up to {worst:.1e} relative, more than rounding allows: a second, smaller difference"
        )
    if loss_aside is not None:
        line += "; the loss is not that mistake's: yours " + describe_difference(
            loss_aside.mine, loss_aside.truth, True
        ).removeprefix("is ")
    return line


def _unexplained(off, partial, quantities, dtype):
    what = "these values" if len(off) > 1 else f"this {off[0].name.removeprefix('the ')}"
    line = f"no single mistake of the catalogue gives {what}"
    shown = []
    for c in partial[:MAX_LISTED]:
        changed = [q.name for q in quantities if q not in off and not _close(q, c.value(q), q.truth, dtype)]
        if changed:
            shown.append(f"{c.text} gives {what}, but would change {_join(changed)} too")
    return line + ("; " + "; ".join(shown) if shown else "")


def describe_difference(mine, truth, is_loss=False, allowance=0.0, shown=None):
    """What a wrong value looks like against the truth: a constant factor, a sign,
    zeros, or which entries ("differs by 4.005x", "has the opposite sign", ...).
    ``allowance``: what rounding alone may change each entry by (a factor or an entry
    is read to that, or to 1e-6 relative). ``shown``: an entry's index as the user's
    array has it (default: as it is here)."""
    mine, truth = np.asarray(mine, np.float64), np.asarray(truth, np.float64)
    allowance = np.broadcast_to(np.asarray(allowance, np.float64), mine.shape)
    if is_loss or mine.ndim == 0:
        m, t = float(mine), float(truth)
        if t != 0 and m != 0 and abs(m / t - 1) > 1e-9:
            return f"is {_factor(m / t)} the truth's (yours {m:.10g}, the truth {t:.10g})"
        return f"differs: yours {m:.10g}, the truth {t:.10g}"
    if not np.any(mine):
        return "is all zeros"
    if not np.any(truth):
        return "is not zero where the truth is"
    top = max(float(np.abs(mine).max()), float(np.abs(truth).max()))
    m, t = mine / top, truth / top  # scaled, so that the products below cannot overflow
    factor = float(np.vdot(m, t) / np.vdot(t, t))
    if np.all(np.abs(mine - factor * truth) <= np.maximum(1e-6 * np.abs(mine).max(), allowance)):
        every = " in every entry" if mine.size > 1 else ""
        if abs(factor + 1) <= 1e-6:
            return f"has the opposite sign{every}"
        return f"differs by {_factor(factor)}{every}"
    wrong = np.argwhere(
        np.abs(mine - truth) > np.maximum(1e-6 * np.abs(truth) + 1e-12 * np.abs(truth).max(), allowance)
    )
    if len(wrong) == mine.size:
        return "differs in every entry, by no common factor"
    listed = ", ".join(str(shown(idx) if shown else tuple(int(i) for i in idx)) for idx in wrong[:6])
    more = f" and {len(wrong) - 6} more" if len(wrong) > 6 else ""
    return f"differs in {len(wrong)} of {mine.size} entries: {listed}{more}, by no common factor"


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
