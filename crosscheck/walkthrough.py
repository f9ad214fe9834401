"""Every number of one forward and backward pass, each gradient beside its finite
differences and the frameworks' values: ``backprop-by-hand walkthrough``'s
computation and its report."""

from dataclasses import dataclass

import numpy as np

import manual

from . import backends, drawing
from .compare import finite_differences_skipped
from .tolerances import tolerance
from .verify import claim_lines, gradient_rows


@dataclass
class Walkthrough:
    case: object
    trace: object  # the engine's manual.trace.Trace
    gradcheck: object  # a manual GradcheckResult, or None when skipped
    gradcheck_skipped: str | None
    results: dict  # framework -> (loss, grads)
    rows: dict  # framework -> {"loss" | "W1" | ...: verify.GradRow}

    @property
    def ok(self):
        fd_ok = self.gradcheck is None or self.gradcheck.ok
        return fd_ok and all(r.ok for rows in self.rows.values() for r in rows.values())

    def text(self, precision=4):
        case, trace = self.case, self.trace
        fd = {} if self.gradcheck is None else {f"{ch.name}{ch.layer}": ch for ch in self.gradcheck.checks}
        beside = {}
        for l, layer in enumerate(trace.grads, start=1):
            for k in layer:
                p = f"{k}{l}"
                rows = []
                if p in fd:
                    ch = fd[p]
                    rows.append(
                        ("finite differences", ch.numeric, f"max rel err {ch.max_rel:.1e}  {_agrees(ch.ok)}")
                    )
                for name, res in self.results.items():
                    v = self.rows[name][p]
                    rows.append((name, res[1][l - 1][k], f"err/scale {v.max_scaled:.1e}  {_agrees(v.ok)}"))
                beside[p] = rows
        out = [f"walkthrough: {case.name}: {case.title}", "", trace.format(precision, beside=beside), ""]
        losses = ", ".join(
            [f"manual {trace.loss:.10g}"]
            + [
                f"{name} {res[0]:.10g} ({_agrees(self.rows[name]['loss'].ok)})"
                for name, res in self.results.items()
            ]
        )
        out.append(f"  loss: {losses}")
        against = ([] if self.gradcheck is None else ["finite differences"]) + list(self.results)
        if against:
            out.append(
                f"  every gradient {'agrees' if self.ok else 'does NOT agree'} with {' and '.join(against)}"
            )
        if self.gradcheck_skipped:
            out.append(f"  finite differences skipped: {self.gradcheck_skipped}")
        if case.claims:
            out += [""] + claim_lines(case)
        if case.findings:
            out += ["", "findings:"] + [f"  - {f}" for f in case.findings]
        return "\n".join(out) + "\n" + backends.missing_note(backends.installed())

    def to_json(self):
        case, trace = self.case, self.trace
        numeric = (
            {}
            if self.gradcheck is None
            else {f"{ch.name}{ch.layer}": ch.numeric for ch in self.gradcheck.checks}
        )
        layers = []
        for l, t in enumerate(trace.layers, start=1):
            layers.append(
                {
                    "layer": l,
                    "activation": t.activation,
                    "z": t.z,
                    "a": t.a,
                    "delta": t.delta,
                    "dW": t.dW,
                    "db": t.db,
                    "numeric": {k: numeric[f"{k}{l}"] for k in trace.grads[l - 1] if f"{k}{l}" in numeric},
                    **{name: res[1][l - 1] for name, res in self.results.items()},
                }
            )
        return {
            "name": case.name,
            "title": case.title,
            "loss": trace.loss,
            "ok": self.ok,
            "gradcheck_skipped": self.gradcheck_skipped,
            "frameworks_loss": {name: res[0] for name, res in self.results.items()},
            "layers": layers,
        }

    def drawing(self):
        """The net drawn with the batch's first sample's numbers on it."""
        case, trace = self.case, self.trace

        def first(values):
            return [np.asarray(v, np.float64)[0] for v in values]

        sample = f", sample 1 of {len(case.x)}" if len(case.x) > 1 else ""
        return drawing.layout_net(
            case.net.sizes,
            case.net.params,
            trace.grads,
            first(t.z for t in trace.layers),
            first(t.a for t in trace.layers),
            first(t.delta for t in trace.layers),
            x=np.asarray(case.x, np.float64)[0],
            title=f"{case.name}: {case.title}{sample}, loss {trace.loss:.4g}",
        )


def walkthrough(case):
    """The ``Walkthrough`` of a case (a net and its data, ``verify.Case``)."""
    net, x, y = case.net, case.x, case.y
    trace = net.trace(x, y)
    skipped = finite_differences_skipped(net)
    fd = None
    if skipped is None:
        fd = manual.gradcheck(net, x, y, rtol=tolerance("finite_differences", np.float64).rtol)
    rows, results = gradient_rows(net, x, y, (trace.loss, trace.grads), backends.available())
    by_framework = {name: {} for name in results}
    for r in rows:
        by_framework[r.framework][r.param] = r
    return Walkthrough(case, trace, fd, skipped, results, by_framework)


def _agrees(ok):
    return "agrees" if ok else "DIFFERS"
