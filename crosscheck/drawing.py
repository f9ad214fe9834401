"""A net drawn the way learners draw it: units as circles, weights as edges,
the numbers written on them.

``walkthrough --plot`` writes z, a and δ on every unit and W and ∂L/∂W on every
edge (for the batch's first sample); ``check --plot`` colours every gradient by
its agreement with the truth, the parts that differ in red, and puts the
diagnosis under the picture. ``layout_net`` computes the drawing as data (what
is written where, which edges are marked as differing); ``save`` renders it
with matplotlib.
"""

from dataclasses import dataclass, field

import numpy as np

from .errors import UsageError

MAX_UNITS = 8  # a layer wider than this has no room for its numbers
COLUMN_INCHES, ROW_INCHES, DPI = 3.2, 1.7, 100
RADIUS = 0.45  # inches
LABEL_GAP = 0.62  # inches from a unit's rim to the labels of the edges into it
TOP, BOTTOM = 0.7, 0.9  # inches for the title, and for the caption
AGREE, DIFFER, PLAIN = "#2ca02c", "#d62728", "#555555"


@dataclass
class Unit:
    layer: int  # 0: the inputs
    index: int
    x: float
    y: float
    text: str
    color: str = PLAIN
    differs: bool = False


@dataclass
class Edge:
    layer: int  # the W it belongs to, 1-based
    source: int
    target: int
    text: str
    color: str = PLAIN
    differs: bool = False


@dataclass
class Drawing:
    sizes: tuple
    width: int  # pixels
    height: int
    title: str
    caption: str
    units: list = field(default_factory=list)
    edges: list = field(default_factory=list)

    def differing_edges(self):
        return {(e.layer, e.source, e.target) for e in self.edges if e.differs}


def check_size(sizes):
    widest = max(sizes)
    if widest > MAX_UNITS:
        layer = list(sizes).index(widest)
        where = "the input" if layer == 0 else f"layer {layer}"
        raise UsageError(
            f"--plot draws nets of up to {MAX_UNITS} units a layer, so that every number has "
            f"room; this one has {widest} in {where}"
        )


def layout_net(
    sizes, params, grads, z=None, a=None, delta=None, x=None, differs=None, truth=None, title="", caption=""
):
    """The drawing as data. params, grads: one {"W": (n_in, n_out), "b"} dict per
    layer; z, a, delta: per layer (1..L) the values of one sample (any may be None),
    x its inputs; differs: per parameter name ("W1", "b1") a boolean mask of the
    entries that part from the truth (None: no colouring), and ``truth`` the true
    gradients, written beside the entries that differ."""
    check_size(sizes)
    columns = len(sizes)
    width = int(COLUMN_INCHES * columns * DPI)
    height = int((ROW_INCHES * max(sizes) + TOP + BOTTOM) * DPI)
    d = Drawing(tuple(sizes), width, height, title, caption)
    for layer, n in enumerate(sizes):
        for i in range(n):
            # inches from the bottom-left corner; each column centred
            cx = COLUMN_INCHES * (layer + 0.5)
            cy = BOTTOM + ROW_INCHES * (max(sizes) / 2 + (n - 1) / 2 - i)
            lines = [f"x{_sub(i + 1)}" + ("" if x is None else f" = {_num(x[i])}")] if layer == 0 else []
            color, wrong = PLAIN, False
            if layer > 0:
                for symbol, values in (("z", z), ("a", a), ("δ", delta)):
                    if values is not None:
                        lines.append(f"{symbol} {_num(values[layer - 1][i])}")
                if "b" in params[layer - 1]:
                    lines += [f"b {_num(params[layer - 1]['b'][i])}", f"∂b {_num(grads[layer - 1]['b'][i])}"]
                    if differs is not None:
                        wrong = bool(differs[f"b{layer}"][i])
                        color = DIFFER if wrong else AGREE
                    if wrong and truth is not None:
                        lines.append(f"true {_num(truth[layer - 1]['b'][i])}")
            d.units.append(Unit(layer, i, cx, cy, "\n".join(lines), color, wrong))
    for l in range(1, columns):
        W, dW = params[l - 1]["W"], grads[l - 1]["W"]
        for i in range(sizes[l - 1]):
            for j in range(sizes[l]):
                wrong = False if differs is None else bool(differs[f"W{l}"][i, j])
                color = PLAIN if differs is None else (DIFFER if wrong else AGREE)
                text = f"W {_num(W[i, j])}\n∂W {_num(dW[i, j])}"
                if wrong and truth is not None:
                    text += f"\ntrue {_num(truth[l - 1]['W'][i, j])}"
                d.edges.append(Edge(l, i, j, text, color, wrong))
    return d


def save(drawing, path):
    """Render ``drawing`` to a PNG of ``drawing.width`` × ``drawing.height`` pixels."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'backprop-by-hand[plot]'") from None
    w, h = drawing.width / DPI, drawing.height / DPI
    fig = plt.figure(figsize=(w, h), dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))  # axes in inches: circles stay round
    ax.set_axis_off()
    ax.set_xlim(0, w)
    ax.set_ylim(0, h)
    where = {(u.layer, u.index): (u.x, u.y) for u in drawing.units}
    for e in drawing.edges:
        (x0, y0), (x1, y1) = where[(e.layer - 1, e.source)], where[(e.layer, e.target)]
        ax.plot([x0, x1], [y0, y1], color=e.color, lw=2.6 if e.differs else 1.2, zorder=1)
        # labelled just before the unit it feeds, as textbooks draw it: the labels of edges
        # into one unit fan out by their angle, and crossings in mid-column carry none
        t = 1 - (RADIUS + LABEL_GAP) / float(np.hypot(x1 - x0, y1 - y0))
        ax.text(
            x0 + t * (x1 - x0),
            y0 + t * (y1 - y0),
            e.text,
            fontsize=7,
            ha="center",
            va="center",
            color=e.color,
            zorder=3,
            bbox=dict(fc="white", ec="none", alpha=0.85, pad=0.3),
        )
    for u in drawing.units:
        ax.add_patch(
            plt.Circle((u.x, u.y), RADIUS, fc="white", ec=u.color, lw=2.6 if u.differs else 1.4, zorder=2)
        )
        ax.text(
            u.x, u.y, u.text, fontsize=7, ha="center", va="center", color=u.color, zorder=4, linespacing=1.15
        )
    ax.text(w / 2, h - TOP / 2, drawing.title, ha="center", va="center", fontsize=10)
    if drawing.caption:
        ax.text(
            w / 2,
            BOTTOM / 2,
            drawing.caption,
            ha="center",
            va="center",
            fontsize=8.5,
            wrap=True,
            color=DIFFER if any(e.differs for e in drawing.edges) else "black",
        )
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def _num(v):
    return f"{v:.3g}"


def _sub(n):
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
