"""``verify --plot``: the backends' loss curves on one axis, and the per-step gap
between backends on a log axis, one column per net; for ``--dataset``, the
learning curves (train loss, test metric per epoch) of the four backends."""

from pathlib import Path

import numpy as np

from .errors import UsageError

STYLES = {  # drawn on top of each other: widths and dashes keep all three visible
    "manual": dict(color="#1f77b4", lw=3.0, alpha=0.55),
    "torch": dict(color="#d62728", lw=1.6, ls="--"),
    "jax": dict(color="#2ca02c", lw=1.2, ls=":"),
    "sklearn": dict(color="#ff7f0e", lw=0, marker="o", ms=3.5, mfc="none"),
}
PAIR_COLORS = {
    "manual-torch": "#9467bd",
    "manual-jax": "#ff7f0e",
    "torch-jax": "#7f7f7f",
    "manual-sklearn": "#8c564b",
    "torch-sklearn": "#e377c2",
    "jax-sklearn": "#17becf",
}
COLUMN_INCHES, HEIGHT_INCHES, DPI = 5.0, 7.0, 100


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'backprop-by-hand[plot]'") from None
    return plt


def _save(plt, fig, path):
    target = Path(path)
    if not target.parent.is_dir():
        raise UsageError(f"--plot {path}: directory {target.parent} does not exist")
    fig.savefig(target, dpi=DPI)
    plt.close(fig)


def plot_reports(reports, path):
    """Save a PNG of ``COLUMN_INCHES * DPI`` pixels per net across, ``HEIGHT_INCHES * DPI`` down."""
    plt = _pyplot()
    reports = [r for r in reports if r.runs]
    fig, axes = plt.subplots(
        2, len(reports), figsize=(COLUMN_INCHES * len(reports), HEIGHT_INCHES), squeeze=False, dpi=DPI
    )
    for col, r in enumerate(reports):
        _losses(axes[0][col], r)
        _gaps(axes[1][col], r)
    fig.suptitle("manual vs PyTorch vs JAX, trained from the same start", fontsize=13)
    fig.tight_layout()
    _save(plt, fig, path)


def plot_datasets(
    reports, path, title="manual, PyTorch, JAX and scikit-learn from one start, on the same batches"
):
    """The learning curves of ``DatasetReport``s: train loss (top) and test metric
    (bottom) per epoch, every backend drawn over the others, one column per dataset."""
    plt = _pyplot()
    width = max(4.2 * len(reports), 7.0)  # one column still holds the title
    fig, axes = plt.subplots(2, len(reports), figsize=(width, 6.0), squeeze=False, dpi=DPI)
    for col, r in enumerate(reports):
        for name, curve in r.curves.items():
            axes[0][col].plot(curve.epochs, curve.train_loss, label=name, **STYLES.get(name, {}))
            axes[1][col].plot(curve.epochs, curve.test_metric, label=name, **STYLES.get(name, {}))
        axes[1][col].axhline(r.default_fit, color="black", ls="--", lw=1, label="sklearn fit(), defaults")
        axes[0][col].set_title(f"{r.problem.name}: train loss", fontsize=11)
        axes[0][col].set_yscale("log")
        axes[1][col].set_title(f"{r.problem.name}: test {r.metric_name}", fontsize=11)
        axes[1][col].set_ylim(max(0.0, min(r.default_fit, r.metrics["manual"]) - 0.25), None)
        for ax in axes[:, col]:
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
            ax.legend(frameon=False, fontsize=8)
    fig.suptitle(title, fontsize=13)
    fig.tight_layout()
    _save(plt, fig, path)


def _losses(ax, r):
    for name, h in r.runs.items():
        ax.plot(np.arange(1, len(h.losses) + 1), h.losses, label=name, **STYLES.get(name, {}))
    ax.set_yscale("log")
    ax.set_title(f"{r.case.name}: loss", fontsize=11)
    ax.set_xlabel("step")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3, which="both")


def _gaps(ax, r):
    tiny = np.finfo(np.float64).eps / 100  # a gap of exactly 0 has no place on a log axis: drawn here
    for pair, gap in r.gaps.items():
        color = PAIR_COLORS.get(pair, None)
        steps = np.arange(1, len(gap.loss) + 1)
        # each step's gap jitters between 0 and a few ulps: show it faintly,
        # and its running maximum (the envelope the tolerance bounds) boldly
        ax.plot(steps, np.maximum(gap.loss, tiny), ",", color=color, alpha=0.25)
        ax.plot(
            steps,
            np.maximum(np.maximum.accumulate(gap.loss), tiny),
            lw=1.6,
            color=color,
            label=f"{pair}: loss, max so far",
        )
        if len(gap.steps):
            ax.plot(
                gap.steps,
                np.maximum(gap.params, tiny),
                "o",
                ms=3.5,
                color=color,
                mfc="white",
                label=f"{pair}: params",
            )
    tol = r.pairs[0].tolerance
    ax.axhline(tol, color="black", ls="--", lw=1, label=f"tolerance {tol:.0e}")
    ax.set_yscale("log")
    ax.set_ylim(tiny / 2, max(tol * 100, 1e-6))
    ax.set_title("relative gap between backends", fontsize=11)
    ax.set_xlabel("step")
    ax.legend(frameon=False, fontsize=7, ncol=2)
    ax.grid(alpha=0.3, which="both")
