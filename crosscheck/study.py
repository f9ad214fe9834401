"""How often does seed 000's loop learn XOR? Every start at once, per learning
rate and initializer, with ``manual.Ensemble``.

Seed 000 trains a 2-2-1 sigmoid net with summed mse by full-batch gradient
descent from an unseeded ``np.random.rand`` start. Here start ``i`` is what
``manual.MLP([2, 2, 1], init=init, seed=i)`` draws (``uniform``: U[0, 1), the
seed's ``rand``), and the same starts are trained at every learning rate, so
the rates are compared on equal terms. A net has learned its data when every
output lies on the right side of 0.5.
"""

import numbers
from dataclasses import dataclass, field

import numpy as np

import manual
from manual.initializers import INITS

from .errors import UsageError
from .examples import SEED000_X, SEED000_Y, XOR_X
from .progress import Job

DATA = {"xor": XOR_X.astype(np.float64), "as_written": SEED000_X.astype(np.float64)}
TARGETS = SEED000_Y.astype(np.float64)
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass
class StudyRow:
    """One (data, init, learning rate): ``nets`` starts trained for ``epochs``.

    learned: how many ended with every output on the right side of 0.5.
    final_loss: the quantiles ``QUANTILES`` of the final losses over all starts.
    epochs_to_learn: over the starts that learned, the first checked epoch from
    which on every output was on the right side (median, 90th percentile);
    None when none learned. diverged: starts frozen for a non-finite loss.
    """

    data: str
    init: str
    lr: float
    nets: int
    learned: int
    final_loss: tuple
    epochs_to_learn: tuple | None
    diverged: int

    @property
    def fraction(self):
        return self.learned / self.nets


@dataclass
class Curves:
    """Loss quantiles over the epochs for one (data, init): ``epochs`` ``(checks,)``,
    ``losses`` ``(checks, learning rates, len(QUANTILES))``."""

    data: str
    init: str
    lrs: tuple
    epochs: np.ndarray
    losses: np.ndarray


@dataclass
class Study:
    nets: int
    epochs: int
    check_every: int
    rows: list = field(default_factory=list)
    curves: list = field(default_factory=list)


def check_arguments(nets, lrs, epochs, inits, data, check_every):
    """UsageError naming what was expected, for every argument of ``xor_study``."""
    if isinstance(nets, bool) or not isinstance(nets, int) or nets < 1:
        raise UsageError(f"--nets: expected a count >= 1, got {nets!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise UsageError(f"--epochs: expected a count >= 1, got {epochs!r}")
    if isinstance(check_every, bool) or not isinstance(check_every, int) or check_every < 1:
        raise UsageError(f"--check-every: expected a count >= 1, got {check_every!r}")
    lrs = tuple(lrs)
    if not lrs or not all(
        isinstance(r, numbers.Real) and not isinstance(r, bool) and np.isfinite(r) and r > 0 for r in lrs
    ):
        raise UsageError(f"--lr: expected positive learning rates, got {list(lrs)}")
    if len(set(lrs)) != len(lrs):
        raise UsageError(f"--lr: a learning rate is given twice in {list(lrs)}")
    for name, given, known in (("--init", inits, INITS), ("--data", data, DATA)):
        unknown = [v for v in given if v not in known]
        if not given or unknown or len(set(given)) != len(given):
            raise UsageError(
                f"--{name[2:]}: expected distinct names from {', '.join(known)}, got {list(given)}"
            )


def xor_study(
    nets=10_000,
    lrs=(0.05, 0.1, 0.5, 1.0, 2.0),
    epochs=10_000,
    inits=("uniform",),
    data=("xor", "as_written"),
    check_every=10,
    progress=None,
):
    """Train ``nets`` starts at each learning rate, for each init and data set, as one
    ensemble of ``nets * len(lrs)`` nets each; returns a ``Study``. ``progress(k)``
    is called with the epochs done since its last call."""
    check_arguments(nets, lrs, epochs, inits, data, check_every)
    lrs = tuple(float(r) for r in lrs)
    study = Study(nets, epochs, check_every)
    for init in inits:
        starts = manual.Ensemble([2, 2, 1], seeds=range(nets), activation="sigmoid", loss="mse", init=init)
        for name in data:
            rows, curves = _run(starts, name, init, lrs, epochs, check_every, progress)
            study.rows += rows
            study.curves.append(curves)
    return study


def job(nets, lrs, epochs, inits, data, check_every):
    """``xor_study``'s run, its arguments checked first; the steps counted are its epochs,
    once per init and data set (every learning rate's nets train at once)."""
    check_arguments(nets, lrs, epochs, inits, data, check_every)
    steps = epochs * len(inits) * len(data)
    return Job(steps, lambda progress=None: xor_study(nets, lrs, epochs, inits, data, check_every, progress))


def _run(starts, data, init, lrs, epochs, check_every, progress):
    n = starts.n_nets
    # every start once per learning rate: net k is start k % n at rate lrs[k // n]
    tiled = [
        {k: np.tile(v, (len(lrs),) + (1,) * (v.ndim - 1)) for k, v in layer.items()}
        for layer in starts.params
    ]
    ens = manual.Ensemble.from_params(tiled, activation="sigmoid", loss="mse")
    trainer = manual.Trainer(ens, manual.SGD(lr=np.repeat(lrs, n)))
    x = DATA[data]
    first_right = np.full(ens.n_nets, -1)
    checked, quantiles = [], []
    for epoch in range(1, epochs + 1):
        losses = trainer.step(x, TARGETS)
        if epoch % check_every == 0 or epoch == epochs:
            right = _right_side(ens, x)
            first_right[~right] = -1  # learned means: from some check on, to the end
            first_right[right & (first_right < 0)] = epoch
            checked.append(epoch)
            quantiles.append(np.quantile(losses.reshape(len(lrs), n), QUANTILES, axis=1).T)
            if progress is not None:
                progress(epoch - (checked[-2] if len(checked) > 1 else 0))
    final = ens.loss(x, TARGETS).reshape(len(lrs), n)
    learned = _right_side(ens, x).reshape(len(lrs), n)
    first_right = first_right.reshape(len(lrs), n)
    frozen = trainer.frozen.reshape(len(lrs), n)
    rows = []
    for r, lr in enumerate(lrs):
        took = first_right[r][learned[r]]
        rows.append(
            StudyRow(
                data=data,
                init=init,
                lr=lr,
                nets=n,
                learned=int(learned[r].sum()),
                final_loss=tuple(float(q) for q in np.quantile(final[r], QUANTILES)),
                epochs_to_learn=(float(np.median(took)), float(np.quantile(took, 0.9)))
                if took.size
                else None,
                diverged=int((frozen[r] >= 0).sum()),
            )
        )
    return rows, Curves(data, init, lrs, np.array(checked), np.array(quantiles))


def _right_side(ens, x):
    """Per net: every output on the right side of 0.5 (targets are 0 and 1)."""
    out = ens.forward(x)[..., 0]  # (N, 4)
    return ((out > 0.5) == (TARGETS[:, 0] > 0.5)).all(axis=1)


# ------------------------------------------------------------------ output


def render(study):
    """The study as a text table."""
    lines = [
        f"XOR study: {study.nets:,} starts per learning rate, {study.epochs:,} epochs of full-batch gradient "
        f"descent (2-2-1 sigmoid, mse summed: seed 000's loop); learned = every output on the right side "
        f"of 0.5 at the end; epochs checked every {study.check_every}",
        "",
        f"  {'data':<11} {'init':<8} {'lr':>6} {'learned':>16} {'final loss median [p5, p95]':>32} "
        f"{'epochs to learn median / p90':>30}",
    ]
    for r in study.rows:
        took = (
            "-" if r.epochs_to_learn is None else f"{r.epochs_to_learn[0]:,.0f} / {r.epochs_to_learn[1]:,.0f}"
        )
        loss = f"{r.final_loss[2]:.2e} [{r.final_loss[0]:.1e}, {r.final_loss[4]:.1e}]"
        learned = f"{r.learned:,} ({100 * r.fraction:.1f}%)"
        lines.append(f"  {r.data:<11} {r.init:<8} {r.lr:>6g} {learned:>16} {loss:>32} {took:>30}")
        if r.diverged:
            lines[-1] += f"  ({r.diverged} diverged)"
    return "\n".join(lines)


def as_json(study):
    return {
        "nets": study.nets,
        "epochs": study.epochs,
        "check_every": study.check_every,
        "quantiles": list(QUANTILES),
        "rows": [
            {
                "data": r.data,
                "init": r.init,
                "lr": r.lr,
                "nets": r.nets,
                "learned": r.learned,
                "fraction": r.fraction,
                "final_loss_quantiles": list(r.final_loss),
                "epochs_to_learn": None
                if r.epochs_to_learn is None
                else dict(zip(("median", "p90"), r.epochs_to_learn)),
                "diverged": r.diverged,
            }
            for r in study.rows
        ],
    }


def plot(study, path):
    """Success fraction against learning rate; the loss's quantile bands over the epochs."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'backprop-by-hand[plot]'") from None
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), dpi=100)
    for curves in study.curves:
        rows = [r for r in study.rows if (r.data, r.init) == (curves.data, curves.init)]
        style = dict(
            ls="-" if curves.data == "xor" else "--", marker="o" if curves.init == "uniform" else "s"
        )
        fractions = [r.fraction for r in rows]
        left.plot([r.lr for r in rows], fractions, **style, label=f"{curves.data}, {curves.init}")
    left.set(
        xscale="log", xlabel="learning rate", ylabel="fraction of starts that learned", ylim=(-0.02, 1.02)
    )
    left.set_title(f"{study.nets:,} starts per rate, {study.epochs:,} epochs")
    left.legend()
    left.grid(alpha=0.3)
    main = study.curves[0]
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(main.lrs)))
    for r, (lr, color) in enumerate(zip(main.lrs, colors)):
        q = main.losses[:, r, :]
        right.fill_between(main.epochs, q[:, 0], q[:, 4], color=color, alpha=0.12, lw=0)
        right.fill_between(main.epochs, q[:, 1], q[:, 3], color=color, alpha=0.3, lw=0)
        right.plot(main.epochs, q[:, 2], color=color, lw=1.6, label=f"lr {lr:g}")
    right.set(xscale="log", yscale="log", xlabel="epoch", ylabel="loss")
    right.set_title(f"{main.data}, {main.init}: median, 25-75% and 5-95% of starts")
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
