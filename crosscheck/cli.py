"""The command line, ``backprop-by-hand`` (or ``python -m crosscheck``):

    walkthrough   every forward and backward number of one net, each gradient
                  beside its finite differences and the frameworks' values
    verify        manual vs PyTorch vs JAX: gradients, then training runs;
                  --dataset: scikit-learn's bundled datasets, scikit-learn compared too
    check         a hand-written backprop of yours (file.py:function) against
                  PyTorch, JAX and finite differences, and the mistake that explains it
    study xor     how often seed 000's loop learns XOR: thousands of starts per
                  learning rate, trained at once (manual.Ensemble)

Exit status: 0 when everything agrees, 1 when something differs, 2 for bad
usage (one line on stderr, no traceback).
"""

import argparse
import json
import sys
import traceback
from pathlib import Path

import numpy as np

import manual
from manual.initializers import INITS
from manual.losses import LOSSES

from . import backends, datasets, drawing, examples, seed_code, study
from .check import check, check_training, dumps
from .compare import compare, rounding_scale
from .errors import UsageError, UserCodeError
from .inputs import arch, cases_from, load_function, user_data, user_net
from .layouts import PRESETS, LayoutError, layout_from
from .plot import plot_datasets, plot_reports
from .tolerances import tolerance
from .verify import TrainConfig, verify_case

PROG = "backprop-by-hand"


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser():
    parser = _Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    walk = commands.add_parser("walkthrough", help="every number of one forward and backward pass")
    _add_net_options(walk)
    walk.add_argument("--precision", type=int, default=4, help="decimals shown (default 4)")
    walk.add_argument(
        "--plot",
        metavar="FILE.png",
        help="draw the net with z, a, delta on its units and W, dW on its "
        f"edges (up to {drawing.MAX_UNITS} units a layer)",
    )

    chk = commands.add_parser("check", help="your backprop against PyTorch, JAX and finite differences")
    chk.add_argument(
        "target",
        nargs="?",
        metavar="FILE.py:FUNCTION",
        help="fn(params, x, y) -> (loss, grads); with --training, step(params, x, y, lr) -> params",
    )
    _add_net_options(
        chk, examples_=tuple(seed_code.CASES), example_help="the seed's own code, its net and data"
    )
    chk.add_argument(
        "--layout",
        help="how your function lays out params, data and grads: a preset "
        f"({', '.join(PRESETS)}) or key=value pairs, e.g. weights=out_in,samples=columns,bias=column,"
        "container=flat (default: the engine's: weights=in_out,samples=rows,bias=flat,container=layers)",
    )
    chk.add_argument(
        "--training",
        action="store_true",
        help="the function is a training step, checked step by step against torch.optim.SGD and optax",
    )
    chk.add_argument("--lr", type=float, default=0.1, help="with --training: the learning rate (default 0.1)")
    chk.add_argument(
        "--steps", type=int, help="with --training: full-batch steps (default 100; seed000: 10,000)"
    )
    chk.add_argument(
        "--plot", metavar="FILE.png", help="draw the net, each gradient coloured by its agreement"
    )

    ver = commands.add_parser(
        "verify", help="manual vs PyTorch vs JAX (and scikit-learn with --dataset): gradients and training"
    )
    _add_net_options(ver, several=True)
    ver.add_argument(
        "--dataset",
        action="append",
        choices=[*datasets.NAMES, "all"],
        help="a scikit-learn dataset's standard net, trained by manual, PyTorch, JAX and scikit-learn "
        "(repeatable; all: the four)",
    )
    ver.add_argument("--epochs", type=int, help="training epochs (default: 10,000 for seed000, else 1,000)")
    ver.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    ver.add_argument("--lr", type=float, help="learning rate (default 0.1 for sgd, 1e-3 for adam)")
    ver.add_argument("--batch-size", type=int, help="mini-batch size (default: full batch)")
    ver.add_argument("--shuffle-seed", type=int, help="shuffle mini-batches with this seed")
    ver.add_argument("--plot", metavar="FILE.png", help="save the loss curves and the gaps between backends")
    ver.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")

    stu = commands.add_parser("study", help="how often seed 000's loop learns XOR, over thousands of starts")
    stu.add_argument("problem", choices=["xor"], help="the study to run (xor: seed 000's net and loop)")
    stu.add_argument("--nets", type=int, default=10_000, help="starts per learning rate (default 10,000)")
    stu.add_argument(
        "--lr", default="0.05,0.1,0.5,1,2", help="learning rates, comma-separated (default 0.05,0.1,0.5,1,2)"
    )
    stu.add_argument("--epochs", type=int, default=10_000, help="full-batch epochs (default 10,000)")
    stu.add_argument(
        "--init",
        default="uniform",
        help=f"initializers, comma-separated, of {', '.join(INITS)} (default uniform)",
    )
    stu.add_argument(
        "--data",
        default="xor,as_written",
        help="xor (4th sample [1, 1]) and/or as_written (the seed's [-1, 1]) (default both)",
    )
    stu.add_argument(
        "--check-every", type=int, default=10, help="epochs between checks of the outputs (default 10)"
    )
    stu.add_argument("--plot", metavar="FILE.png", help="save success against learning rate, and loss bands")
    stu.add_argument("--json", action="store_true", help="print the result as JSON")
    stu.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")
    return parser


def _add_net_options(p, several=False, examples_=examples.CASE_NAMES, example_help="a built-in example"):
    names = ", ".join(examples_)
    p.add_argument(
        "--example",
        action="append" if several else "store",
        choices=examples_,
        help=f"{example_help} ({names})" + ("; repeatable; default: all" if several else ""),
    )
    p.add_argument("--sizes", help="a net of your own: layer widths, e.g. 2,2,1")
    p.add_argument("--activation", help="one name, or one per layer: relu,relu,sigmoid (default sigmoid)")
    p.add_argument("--output-activation", help="the last layer's activation")
    p.add_argument("--loss", help=f"one of {', '.join(LOSSES)} (default mse)")
    p.add_argument("--reduction", help="sum (default) or mean")
    p.add_argument("--dtype", choices=["float32", "float64"], help="default float64")
    p.add_argument("--no-bias", action="store_true", help="layers without bias")
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "--weights",
        metavar="FILE.npz",
        help="arrays W1, b1, W2, ... (W of shape (n_in, n_out)), or a manual.save checkpoint "
        "(which brings its own architecture)",
    )
    source.add_argument("--seed", type=int, help="draw the params from this seed")
    p.add_argument("--init", default="uniform", help=f"with --seed: {', '.join(INITS)} (default uniform)")
    data = p.add_mutually_exclusive_group()
    data.add_argument(
        "--data", metavar="FILE", help=".npz with arrays x and y, or .csv: n_in columns of x, then y"
    )
    data.add_argument("--x", help='inputs, rows separated by ";": "1,0;0,1"')
    p.add_argument("--y", help='targets, rows separated by ";": "1;0"')
    p.add_argument("--json", action="store_true", help="print the results as JSON")


def training_from(args, case):
    """The training run ``verify`` does for a case; the command line overrides the example's."""
    try:
        if args.optimizer == "adam":
            opt = manual.Adam(lr=1e-3 if args.lr is None else args.lr)
        elif args.lr is not None or case.training is None:
            opt = manual.SGD(lr=0.1 if args.lr is None else args.lr)
        else:
            opt = case.training.optimizer
    except ValueError as err:
        raise UsageError(f"--lr: {err}") from None
    epochs = args.epochs if args.epochs is not None else (case.training.epochs if case.training else 1000)
    if epochs < 1:
        raise UsageError(f"--epochs: expected at least 1, got {epochs}")
    if args.batch_size is not None and args.batch_size < 1:
        raise UsageError(f"--batch-size: expected at least 1, got {args.batch_size}")
    if args.shuffle_seed is not None and args.shuffle_seed < 0:
        raise UsageError(f"--shuffle-seed: expected an integer >= 0, got {args.shuffle_seed}")
    return TrainConfig(opt, epochs, args.batch_size, args.shuffle_seed)


# ------------------------------------------------------------------ walkthrough


def walkthrough(args, out):
    (case,) = cases_from(args)
    net, x, y = case.net, case.x, case.y
    if args.plot:  # refused before anything is printed
        drawing.check_size(net.sizes)
        _plot_path(args.plot)
    trace = net.trace(x, y)
    fd = manual.gradcheck(net, x, y, rtol=tolerance("finite_differences", np.float64).rtol)
    by_param = {f"{ch.name}{ch.layer}": ch for ch in fd.checks}
    scale = rounding_scale(net, x, y)
    others = {name: backends.loss_and_grads(name, net, x, y) for name in backends.available()}
    verdicts = {
        name: {r.name: r for r in compare((trace.loss, trace.grads), res, scale, net.dtype)}
        for name, res in others.items()
    }
    beside = {}
    for l, layer in enumerate(trace.grads, start=1):
        for k in layer:
            p = f"{k}{l}"
            ch = by_param[p]
            rows = [("finite differences", ch.numeric, f"max rel err {ch.max_rel:.1e}  {_agrees(ch.ok)}")]
            for name, res in others.items():
                v = verdicts[name][p]
                rows.append((name, res[1][l - 1][k], f"err/scale {v.max_scaled:.1e}  {_agrees(v.ok)}"))
            beside[p] = rows
    ok = fd.ok and all(v.ok for rows in verdicts.values() for v in rows.values())
    if args.json:
        _dump(_walkthrough_json(case, trace, fd, others, ok), out)
        return 0 if ok else 1
    out.write(f"walkthrough: {case.name}: {case.title}\n\n")
    out.write(trace.format(args.precision, beside=beside) + "\n\n")
    losses = ", ".join(
        [f"manual {trace.loss:.10g}"]
        + [f"{name} {res[0]:.10g} ({_agrees(verdicts[name]['loss'].ok)})" for name, res in others.items()]
    )
    out.write(f"  loss: {losses}\n")
    out.write(
        f"  every gradient {'agrees' if ok else 'does NOT agree'} with "
        f"{' and '.join(['finite differences', *others])}\n"
    )
    if case.claims:
        out.write("\n" + "\n".join(_claim_lines(case)) + "\n")
    if case.findings:
        out.write("\nfindings:\n" + "".join(f"  - {f}\n" for f in case.findings))
    out.write(_missing_note(backends.installed()))
    if args.plot:
        first = lambda values: [np.asarray(v, np.float64)[0] for v in values]  # noqa: E731 - the batch's first sample
        sample = f", sample 1 of {len(x)}" if len(x) > 1 else ""
        picture = drawing.layout_net(
            net.sizes,
            net.params,
            trace.grads,
            first(t.z for t in trace.layers),
            first(t.a for t in trace.layers),
            first(t.delta for t in trace.layers),
            x=np.asarray(x, np.float64)[0],
            title=f"{case.name}: {case.title}{sample}, loss {trace.loss:.4g}",
        )
        drawing.save(picture, _plot_path(args.plot))
    return 0 if ok else 1


def _plot_path(path):
    if not Path(path).resolve().parent.is_dir():
        raise UsageError(f"--plot {path}: directory {Path(path).resolve().parent} does not exist")
    return path


def _agrees(ok):
    return "agrees" if ok else "DIFFERS"


# ------------------------------------------------------------------ verify


def verify(args, out):
    if args.dataset:
        return verify_datasets(args, out)
    cases = cases_from(args)
    for c in cases:
        c.training = training_from(args, c)
    runs = 1 + len(backends.available())
    steps = sum(c.training.steps(len(c.x)) for c in cases) * runs
    return _report_all(
        args, out, cases, steps, verify_case, plot_reports, "reports", _report_json, render_verify
    )


def _report_all(args, out, items, steps, compute, plot, key, to_json, render):
    """``compute(item, progress=...)`` for every item under one progress bar of ``steps``
    steps; then the plot, and the reports as text or JSON. Exit 0 when all agree."""
    bar = _progress_bar(args, steps)
    reports = [compute(item, progress=bar.update if bar else None) for item in items]
    if bar:
        bar.close()
    if args.plot:
        plot(reports, args.plot)
    ok = all(r.ok for r in reports)
    if args.json:
        _dump({"ok": ok, key: [to_json(r) for r in reports]}, out)
    else:
        out.write(render(reports))
    return 0 if ok else 1


DISPLAY = {"torch": "PyTorch", "jax": "JAX", "sklearn": "scikit-learn"}

# what --dataset brings itself: the net, its data and its training
DATASET_CLASHES = (
    "example", "sizes", "weights", "seed", "init", "data", "x", "y", "activation", "output_activation",
    "loss", "reduction", "dtype", "no_bias", "epochs", "optimizer", "lr", "batch_size", "shuffle_seed",
)  # fmt: skip


def verify_datasets(args, out):
    defaults = vars(build_parser().parse_args(["verify"]))
    given = [f"--{k.replace('_', '-')}" for k in DATASET_CLASHES if getattr(args, k) != defaults[k]]
    if given:
        raise UsageError(
            f"--dataset brings its own net, data and training; drop {', '.join(given)} (docs/datasets.md)"
        )
    if backends.version("sklearn") is None:
        raise UsageError(
            "--dataset needs scikit-learn (its datasets): "
            "pip install -c constraints.txt 'backprop-by-hand[sklearn]'"
        )
    if args.plot:
        _plot_path(args.plot)
    names = list(datasets.NAMES) if "all" in args.dataset else list(dict.fromkeys(args.dataset))
    problems = [datasets.load(name) for name in names]
    runs = 1 + len(backends.available()) + 1  # the engine, the frameworks, scikit-learn
    steps = sum(p.steps for p in problems) * runs
    compute = datasets.verify_dataset
    return _report_all(
        args, out, problems, steps, compute, plot_datasets, "datasets", _dataset_json, render_datasets
    )


def render_datasets(reports):
    lines = [f"verify: {_versions(reports[0].report.frameworks)}", ""]
    for r in reports:
        lines += _render_report(r.report)
        lines += _dataset_lines(r) + [""]
    lines.append(_summary([r.report for r in reports]))
    worse = [r.problem.name for r in reports if r.metrics["manual"] < r.default_fit]
    if worse:
        lines.append(f"the recipe scores below scikit-learn's default fit on: {', '.join(worse)}")
    return "\n".join(lines) + "\n" + _missing_note(backends.installed())


def _dataset_lines(r):
    name, metric = r.problem.name, r.metric_name
    scores = ", ".join(f"{k} {v:.4f}" for k, v in r.metrics.items())
    better = r.metrics["manual"] >= r.default_fit
    est = "MLPRegressor()" if r.problem.recipe.task == "regression" else "MLPClassifier()"
    lines = [
        f"  test {metric} after training: {scores}",
        f"  scikit-learn's own {est}.fit with its defaults on the same split: {r.default_fit:.4f} "
        f"({r.default_fit_note})  {'PASS' if better else 'FAIL'}: the recipe is "
        f"{'at least as good' if better else 'worse'}",
    ]
    base = r.seconds_per_epoch["manual"]
    times = ", ".join(
        f"{k} {s * 1e3:.2f} ms" + ("" if k == "manual" else f" ({s / base:.1f}x)")
        for k, s in r.seconds_per_epoch.items()
    )
    lines.append(f"  time per epoch, the median epoch of these runs: {times}")
    if "sklearn" in r.seconds_per_epoch:
        lines.append(
            "    (sklearn here is one partial_fit per batch, each with its input checks; its own epoch, "
            "one partial_fit over the data, is timed in nox -s benchmarks)"
        )
    for peer, why in r.report.not_compared.items():
        lines.append(f"  {name}: {peer} not compared: {why}")
    return lines


def _dataset_json(r):
    return {
        **_report_json(r.report),
        "recipe": r.problem.recipe.describe(r.problem.x_train.shape[1], r.problem.net.sizes[-1]),
        "metric": r.metric_name,
        "test_metric": r.metrics,
        "default_fit": {"metric": r.default_fit, "note": r.default_fit_note},
        "seconds_per_epoch": r.seconds_per_epoch,
        "ok": r.ok,
    }


def _versions(fw):
    return " vs ".join(["manual"] + [f"{DISPLAY[k]} {v}" for k, v in fw.items() if v])


def render_verify(reports):
    fw = reports[0].frameworks
    lines = [f"verify: {_versions(fw)}", ""]
    for r in reports:
        lines += _render_report(r) + [""]
    lines.append(_summary(reports))
    return "\n".join(lines) + "\n" + _missing_note(fw)


def _render_report(r):
    c = r.case
    lines = [f"{c.name}: {c.title}, {c.net.dtype.name}, batch of {len(c.x)}"]
    if r.gradients:
        lines.append(
            f"  gradients against each framework: max abs err, max rel err, err / rounding scale "
            f"(pass: <= {r.gradients[0].tolerance:.1e})"
        )
        by_param = {}
        for g in r.gradients:
            by_param.setdefault(g.param, {})[g.framework] = g
        names = list(next(iter(by_param.values())))
        lines.append("    param  " + "".join(f"{name:<36}" for name in names).rstrip())
        for param, row in by_param.items():
            cells = [
                f"{g.max_abs:.1e}  {g.max_rel:.1e}  {g.max_scaled:.1e}  {'PASS' if g.ok else 'FAIL'}    "
                for g in row.values()
            ]
            lines.append(f"    {param:<6} " + "".join(cells).rstrip())
    if r.gradcheck is not None:
        worst = max(r.gradcheck.checks, key=lambda ch: ch.worst)
        lines.append(
            f"  finite differences: every parameter, largest rel err {r.gradcheck.max_rel:.1e} "
            f"({worst.name}{worst.layer})  {'PASS' if r.gradcheck.ok else 'FAIL'}"
        )
    if c.claims:
        lines += ["  " + line for line in _claim_lines(c)]
    if r.pairs:
        lines.append(
            f"  training: {c.training.describe()}, from the same start (pass: <= {r.pairs[0].tolerance:.1e})"
        )
        lines.append(f"    {'backends':<14} {'loss gap, any step':>18} {'final params gap':>17}")
        for p in r.pairs:
            lines.append(
                f"    {p.pair:<14} {p.loss_gap:>18.1e} {p.params_gap:>17.1e}  {'PASS' if p.ok else 'FAIL'}"
            )
        final = ", ".join(f"{k} {run.losses[-1]:.6g}" for k, run in r.runs.items())
        lines.append(f"    last loss: {final}")
    return lines


def _claim_lines(case):
    lines = ["the seed's printed numbers:"]
    for claim in case.claims:
        if claim.ok:
            lines.append(f"  ok     {claim.name}: {_short(claim.printed)}")
        else:
            lines.append(
                f"  WRONG  {claim.name}: printed {_short(claim.printed)}, right {_short(claim.computed)}"
            )
            if claim.note:
                lines.append(f"         {claim.note}")
    return lines


def _summary(reports):
    ok = all(r.ok for r in reports)
    compared = reports[0].compared
    if not ok:
        text = "DISAGREEMENT: see the FAIL lines above"
    elif compared == ["finite differences"]:
        text = (
            "the engine agrees with finite differences; nothing else was compared "
            "(no framework is installed, so no framework gradient and no training run)"
        )
    else:
        text = f"all agree: the engine's gradients and training runs match {' and '.join(compared)}"
    for r in reports:
        for c in r.case.claims:
            if not c.ok:
                text += (
                    f"\n{r.case.name} printed a wrong number: {c.name}, {_short(c.printed)} "
                    f"(right: {_short(c.computed)}, on which {' and '.join(['the engine', *compared])} agree)"
                )
    return text


def _missing_note(found):
    missing = [k for k, version in found.items() if version is None]
    return "".join(
        f"({k} is not installed: pip install 'backprop-by-hand[{backends.EXTRAS[k]}]' to compare with it)\n"
        for k in missing
    )


def _progress_bar(args, total):
    if args.no_progress or args.json or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="step", desc="training manual, torch, jax", leave=False)


# ------------------------------------------------------------------ check


def check_command(args, out):
    if args.example:
        if args.target:
            raise UsageError("give either FILE.py:FUNCTION or --example, not both")
        code = seed_code.CASES[args.example]()
        fn, layout, net, x, y, name = code.fn, code.layout, code.net, code.x, code.y, code.title
        training = code.training
        lr, steps = (code.lr, code.steps) if training and args.steps is None else (args.lr, args.steps or 100)
    else:
        if not args.target:
            raise UsageError("name your function: FILE.py:FUNCTION (or --example seed000|seed001|seed002)")
        fn, name = load_function(args.target), args.target
        try:
            layout = layout_from(args.layout)
        except LayoutError as err:
            raise UsageError(f"--layout: {err}") from None
        if args.sizes is None and args.weights is None:
            raise UsageError(
                "your function needs a net: --sizes (with --seed or --weights), or --weights FILE"
            )
        net = user_net(args)
        x, y = user_data(args, net)
        training, lr, steps = args.training, args.lr, args.steps or 100
    if steps < 1 or not lr > 0:
        raise UsageError(f"--steps and --lr: expected a positive count and rate, got {steps} and {lr}")
    if args.plot and training:
        raise UsageError("--plot draws a gradient check; with --training there is none to draw")
    if args.plot:
        drawing.check_size(net.sizes)
        _plot_path(args.plot)
    try:
        if training:
            report = check_training(fn, net, x, y, lr, steps, layout, name=name)
        else:
            report = check(fn, net, x, y, layout, name=name)
    except LayoutError as err:
        raise UsageError(f"{name}: {err} (layout: {layout.describe()})") from None
    except Exception as err:
        raise UserCodeError(f"{name} raised {type(err).__name__}: {err}") from err
    out.write((dumps(report) if args.json else report.text()) + "\n")
    if args.plot:
        drawing.save(check_drawing(report), _plot_path(args.plot))
    return 0 if report.ok else 1


def check_drawing(report):
    """The check's net with every gradient coloured: red where the user's parts from the truth."""
    net = report.net
    differs = {
        f"{k}{l}": report.differs(f"{k}{l}") for l, layer in enumerate(net.params, start=1) for k in layer
    }
    caption = "; ".join(f.sentence() for f in report.findings) or "every gradient agrees with the truth"
    trace = net.trace(report.x, report.y)
    first = (
        [np.asarray(t.z, np.float64)[0] for t in trace.layers],
        [np.asarray(t.a, np.float64)[0] for t in trace.layers],
    )
    return drawing.layout_net(
        net.sizes,
        net.params,
        report.grads,
        z=first[0],
        a=first[1],
        x=np.asarray(report.x, np.float64)[0],
        differs=differs,
        truth=report.truths[report.reference][1],
        caption=caption,
        title=f"{report.name}: your dW and db, coloured against {report.reference}",
    )


# ------------------------------------------------------------------ formatting helpers


def _short(value):
    if np.ndim(value) == 0:
        return f"{float(value):.10g}"
    return "[" + ", ".join(f"{v:.10g}" for v in np.asarray(value, dtype=float).ravel()) + "]"


def _jsonable(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    return repr(obj)


def _dump(data, out):
    json.dump(data, out, indent=1, default=_jsonable)
    out.write("\n")


def _report_json(r):
    c = r.case
    return {
        "name": c.name,
        "title": c.title,
        "architecture": arch(c.net.sizes),
        "dtype": c.net.dtype.name,
        "frameworks": r.frameworks,
        "compared": r.compared,
        "gradients": [vars(g) for g in r.gradients],
        "gradcheck": None
        if r.gradcheck is None
        else {
            "ok": r.gradcheck.ok,
            "params": [
                {"param": f"{ch.name}{ch.layer}", "max_abs": ch.max_abs, "max_rel": ch.max_rel, "ok": ch.ok}
                for ch in r.gradcheck.checks
            ],
        },
        "claims": [
            {"name": cl.name, "printed": cl.printed, "computed": cl.computed, "ok": cl.ok} for cl in c.claims
        ],
        "training": None
        if c.training is None
        else {
            "config": c.training.describe(),
            "pairs": [vars(p) for p in r.pairs],
            "final_loss": {k: float(run.losses[-1]) for k, run in r.runs.items()},
        },
        "ok": r.ok,
    }


def _walkthrough_json(case, trace, fd, others, ok):
    numeric = {f"{ch.name}{ch.layer}": ch.numeric for ch in fd.checks}
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
                "numeric": {k: numeric[f"{k}{l}"] for k in trace.grads[l - 1]},
                **{name: res[1][l - 1] for name, res in others.items()},
            }
        )
    return {
        "name": case.name,
        "title": case.title,
        "loss": trace.loss,
        "ok": ok,
        "frameworks_loss": {name: res[0] for name, res in others.items()},
        "layers": layers,
    }


# ------------------------------------------------------------------ study


def study_command(args, out):
    lrs = _numbers("--lr", args.lr)
    names = [v.strip() for v in args.init.split(",")], [v.strip() for v in args.data.split(",")]
    study.check_arguments(args.nets, lrs, args.epochs, *names, args.check_every)
    if args.plot:
        _plot_path(args.plot)
    bar = None
    if not (args.no_progress or args.json or not sys.stderr.isatty()):
        try:
            from tqdm import tqdm

            total = args.epochs * len(names[0]) * len(names[1])
            bar = tqdm(
                total=total, unit="epoch", desc=f"training {args.nets * len(lrs):,} nets at once", leave=False
            )
        except ImportError:
            pass
    result = study.xor_study(
        args.nets, lrs, args.epochs, *names, args.check_every, bar.update if bar else None
    )
    if bar:
        bar.close()
    if args.plot:
        study.plot(result, args.plot)
    if args.json:
        _dump(study.as_json(result), out)
    else:
        out.write(study.render(result) + "\n")
    return 0


def _numbers(flag, text):
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"{flag}: expected comma-separated numbers, got {text!r}") from None


# ------------------------------------------------------------------ entry point


def main(argv=None, out=None):
    out = out or sys.stdout
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
        commands = {
            "walkthrough": walkthrough,
            "verify": verify,
            "check": check_command,
            "study": study_command,
        }
        return commands[args.command](args, out)
    except UsageError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    except UserCodeError as err:
        traceback.print_exception(err.__cause__, file=sys.stderr)
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
