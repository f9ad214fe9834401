"""The command line, ``backprop-by-hand`` (or ``python -m crosscheck``):

    walkthrough   every forward and backward number of one net, each gradient
                  beside its finite differences and the frameworks' values
    verify        manual vs PyTorch vs JAX: gradients, then training runs;
                  --dataset: scikit-learn's bundled datasets, scikit-learn compared too
    check         a hand-written backprop of yours (file.py:function) against
                  PyTorch, JAX and finite differences, and the mistake that explains it;
                  --kind: one CS231n layer (layers.py:batchnorm_backward --kind batchnorm)
    study         how often a small net's loop learns its data (study xor: seed
                  000's): thousands of starts per learning rate, trained at once
                  (manual.Ensemble), here or on Dask (--workers N, --scheduler)

Exit status: 0 when everything agrees, 1 when something differs, 2 for bad
usage or for code of yours that fails (one line on stderr; your code's
traceback above it when it raised).

This module parses, validates, calls and prints: each command's computation
and its report live with it (``walkthrough``; ``verify``, ``datasets``, ``cnn``,
``makemore``, ``sequences``; ``check_job``, ``layer_check``; ``study``, ``study_cluster``), the
net, data and training the options describe in ``inputs``, the progress bar in
``progress``, the child process ``check`` runs in in ``usercode``. Every option is
checked before anything is computed.
"""

import argparse
import errno
import os
import re
import sys
from pathlib import Path

import numpy as np

from manual.initializers import INITS
from manual.losses import LOSSES

from . import (
    backends,
    check_job,
    cnn,
    datasets,
    drawing,
    examples,
    jsonout,
    layer_check,
    layer_kinds,
    makemore,
    progress,
    seed_code,
    sequences,
    study,
    study_cluster,
    usercode,
    verify,
)
from .check import check_drawing
from .errors import UsageError, UserCodeError
from .inputs import cases_from, training_from, user_data, user_net
from .layouts import PRESETS, LayoutError, layout_from
from .plot import plot_datasets, plot_reports
from .walkthrough import walkthrough

PROG = "backprop-by-hand"
# the names models: makemore's MLP (crosscheck.makemore), the LSTM and the transformer (crosscheck.sequences)
NAMES_MODELS = ("names", *(f"names-{m}" for m in sequences.MODELS))
# what matplotlib's savefig writes (checked before a run, so a long one is not lost at the end)
PLOT_FORMATS = ("png", "pdf", "svg", "svgz", "eps", "ps", "jpg", "jpeg", "tif", "tiff", "webp", "pgf", "raw")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        missing = re.match(r"argument (--[\w-]+): expected one argument", message)
        if missing:
            flag = missing.group(1)
            message += f" (a value that starts with '-' is written {flag}=VALUE)"
        raise UsageError(message)


def build_parser():
    parser = _Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    walk = commands.add_parser("walkthrough", help="every number of one forward and backward pass")
    _add_net_options(walk)
    walk.add_argument("--precision", type=int, default=4, help="decimals shown, 0 to 16 (default 4)")
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
    chk.add_argument("--lr", type=float, help="with --training: the learning rate (default 0.1)")
    chk.add_argument("--steps", type=int, help="with --training: full-batch steps (default 100)")
    chk.add_argument(
        "--timeout",
        type=float,
        default=usercode.DEFAULT_TIMEOUT,
        help=f"seconds each call of your function may take (default {usercode.DEFAULT_TIMEOUT:g})",
    )
    chk.add_argument(
        "--plot", metavar="FILE.png", help="draw the net, each gradient coloured by its agreement"
    )
    chk.add_argument(
        "--kind",
        choices=[*layer_kinds.KINDS, *layer_kinds.ALIASES],
        help="FUNCTION is a CS231n layer's backward (or a loss: softmax_loss, svm_loss, "
        "temporal_softmax_loss) of this kind",
    )
    chk.add_argument(
        "--forward", metavar="NAME", help="with --kind: the forward's name (default: <name>_forward)"
    )
    chk.add_argument(
        "--gate-order",
        choices=layer_kinds.GATE_ORDERS,
        help="with --kind lstm or lstm_step: the gates' blocks in Wx, ifog (CS231n's, the default) or "
        "ifgo (PyTorch's)",
    )

    ver = commands.add_parser(
        "verify", help="manual vs PyTorch vs JAX (and scikit-learn with --dataset): gradients and training"
    )
    _add_net_options(ver, several=True, examples_=(*examples.CASE_NAMES, *NAMES_MODELS))
    ver.add_argument(
        "--dataset",
        action="append",
        choices=[*datasets.NAMES, "all", cnn.NAME],
        help="a scikit-learn dataset's standard net, trained by manual, PyTorch, JAX and scikit-learn "
        f"(repeatable; all: the four); {cnn.NAME}: a CNN on the digits images, alone",
    )
    ver.add_argument("--epochs", type=int, help="training epochs (default: 10,000 for seed000, else 1,000)")
    ver.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    ver.add_argument("--lr", type=float, help="learning rate (default 0.1 for sgd, 1e-3 for adam)")
    ver.add_argument("--batch-size", type=int, help="mini-batch size (default: full batch)")
    ver.add_argument("--shuffle-seed", type=int, help="shuffle mini-batches with this seed")
    ver.add_argument("--plot", metavar="FILE.png", help="save the loss curves and the gaps between backends")
    ver.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")

    stu = commands.add_parser(
        "study",
        help="how often a small net's loop learns its data (default seed 000's XOR), over many starts",
    )
    stu.add_argument(
        "problem",
        nargs="?",
        choices=["xor"],
        help="xor: seed 000's net, data and loop (the defaults below); with it, a flag that changes the net, "
        "the data (other than xor, as_written) or --success is refused",
    )
    stu.add_argument(
        "--sizes",
        nargs="+",
        default=["2,2,1"],
        metavar="N,..,N",
        help="layer widths; several architectures are several cells of the grid (default 2,2,1)",
    )
    stu.add_argument(
        "--activation", default="sigmoid", help="the hidden layers' activation, one name (default sigmoid)"
    )
    stu.add_argument(
        "--output-activation", help="output activation (default: what the loss needs, else --activation)"
    )
    stu.add_argument("--loss", choices=list(LOSSES), default="mse", help="loss (default mse, as the seed)")
    stu.add_argument(
        "--reduction", choices=["sum", "mean"], default="sum", help="loss over samples (default sum)"
    )
    stu.add_argument(
        "--data",
        default="xor,as_written",
        help="comma-separated: xor (4th sample [1, 1]), as_written (the seed's [-1, 1]), or a file: "
        ".npz with x and y, or .csv with the targets in the last columns, one header line allowed "
        "(default xor,as_written)",
    )
    stu.add_argument(
        "--nets", type=int, default=10_000, help="starts per cell and learning rate (default 10,000)"
    )
    stu.add_argument(
        "--lr", default="0.05,0.1,0.5,1,2", help="learning rates, comma-separated (default 0.05,0.1,0.5,1,2)"
    )
    stu.add_argument(
        "--init",
        default="uniform",
        help=f"initializers, comma-separated, of {', '.join(INITS)} (default uniform)",
    )
    stu.add_argument(
        "--init-scale", default="1", help="factors on every initial parameter, comma-separated (default 1)"
    )
    stu.add_argument("--epochs", type=int, default=10_000, help="full-batch epochs (default 10,000)")
    stu.add_argument(
        "--success",
        help="when a net has learned: right-side (every output on its target's side of 0.5; the default for "
        "0/1 targets), loss<=X, or accuracy>=X",
    )
    stu.add_argument(
        "--check-every", type=int, default=10, help="epochs between checks of the rule (default 10)"
    )
    where = stu.add_argument_group("where it runs (default: in this process)")
    where.add_argument("--workers", type=int, help="on a Dask LocalCluster of N worker processes")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="on a running Dask cluster")
    where.add_argument(
        "--chunk",
        type=int,
        help="starts per task (default: what fits a core's cache, 2,000 for XOR's 5 rates); "
        "the numbers do not depend on it",
    )
    where.add_argument("--out", metavar="DIR", help="write each finished chunk under DIR")
    where.add_argument(
        "--resume", action="store_true", help="finish the study under --out DIR: only missing chunks"
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
    p.add_argument("--init", help=f"with --seed: {', '.join(INITS)} (default uniform)")
    data = p.add_mutually_exclusive_group()
    data.add_argument(
        "--data", metavar="FILE", help=".npz with arrays x and y, or .csv: n_in columns of x, then y"
    )
    data.add_argument("--x", help='inputs, rows separated by ";": "1,0;0,1"')
    p.add_argument("--y", help='targets, rows separated by ";": "1;0"')
    p.add_argument("--json", action="store_true", help="print the results as JSON")


def plot_path(path):
    """``path`` if a plot can be saved there (its folder exists, matplotlib writes its format)."""
    if path is None:
        return None
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise UsageError(f"--plot {path}: directory {folder} does not exist")
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in PLOT_FORMATS:
        raise UsageError(f"--plot {path}: expected a file ending in one of .{', .'.join(PLOT_FORMATS)}")
    return path


# ------------------------------------------------------------------ walkthrough


def walkthrough_command(args, out):
    if not 0 <= args.precision <= 16:
        raise UsageError(f"--precision: expected a number of decimals from 0 to 16, got {args.precision}")
    path = plot_path(args.plot)
    (case,) = cases_from(args)
    if path:
        drawing.check_size(case.net.sizes)
    result = walkthrough(case)
    if args.json:
        jsonout.dump(result.to_json(), out)
    else:
        out.write(result.text(args.precision))
    if path:
        drawing.save(result.drawing(), path)
    return 0 if result.ok else 1


# ------------------------------------------------------------------ verify

TRAINING = "training manual, torch, jax"  # the progress bar's label
# what --dataset brings itself: the net, its data and its training
DATASET_CLASHES = (
    "example", "sizes", "weights", "seed", "init", "data", "x", "y", "activation", "output_activation",
    "loss", "reduction", "dtype", "no_bias", "epochs", "optimizer", "lr", "batch_size", "shuffle_seed",
)  # fmt: skip


def verify_command(args, out):
    path = plot_path(args.plot)
    if args.dataset and cnn.NAME in args.dataset:
        return verify_cnn(args, out, path)
    if args.dataset:
        return verify_datasets(args, out, path)
    if args.example and set(args.example) & set(NAMES_MODELS):
        return verify_names(args, out, path)
    cases = cases_from(args)
    for c in cases:
        c.training = training_from(args, c)
    reports = progress.run(args, verify.job(cases), "step", TRAINING)
    if path:
        plot_reports(reports, path)
    return _print_reports(args, out, reports, "reports", verify.report_json, verify.render)


def verify_datasets(args, out, path):
    _refuse_changed(args, "--dataset", DATASET_CLASHES, see=" (docs/datasets.md)")
    if backends.version("sklearn") is None:
        raise UsageError(
            "--dataset needs scikit-learn (its datasets): "
            "pip install -c constraints.txt 'backprop-by-hand[sklearn]'"
        )
    names = list(datasets.NAMES) if "all" in args.dataset else list(dict.fromkeys(args.dataset))
    reports = progress.run(args, datasets.job(names), "step", TRAINING)
    if path:
        plot_datasets(reports, path)
    return _print_reports(args, out, reports, "datasets", datasets.dataset_json, datasets.render)


def verify_names(args, out, path):
    """``--example names`` (makemore's MLP), ``names-lstm``, ``names-transformer``: a model of the
    census names, trained by the three side by side."""
    name = next(e for e in args.example if e in NAMES_MODELS)
    if len(args.example) > 1:
        raise UsageError(f"--example {name} runs alone: give it without the other examples")
    if path:
        raise UsageError(f"--example {name} has no plot yet: drop --plot")
    _refuse_changed(args, f"--example {name}", [k for k in DATASET_CLASHES if k != "example"])
    if name == "names":
        report = _side_by_side(args, makemore.job, f"the {name} model")
        return _print_report(args, out, report, "names", makemore.report_json, makemore.render)
    model = name.removeprefix("names-")
    report = _side_by_side(args, lambda: sequences.job(model), f"the {name} model")
    return _print_report(args, out, report, "names", sequences.report_json, sequences.render)


def verify_cnn(args, out, path):
    """``--dataset digits-cnn``: the CNN on scikit-learn's digits (crosscheck.cnn)."""
    if len(args.dataset) > 1:
        raise UsageError(f"--dataset {cnn.NAME} runs alone: give it without the other datasets")
    _refuse_changed(args, f"--dataset {cnn.NAME}", DATASET_CLASHES)
    report = _side_by_side(args, cnn.job, "the digits CNN")
    if path:
        plot_datasets([report], path, "manual, PyTorch and JAX from one start, on the same batches")
    return _print_report(args, out, report, "cnn", cnn.report_json, cnn.render)


def _side_by_side(args, job, label):
    """A real-use model's report: its ``job()`` (loading its data: a missing package is bad
    usage) run under a progress bar."""
    try:
        loaded = job()
    except ImportError as err:
        raise UsageError(str(err)) from None
    return progress.run(args, loaded, "step", f"{TRAINING} on {label}")


def _refuse_changed(args, what, keys, see=""):
    """UsageError naming the flags among ``keys`` set to other than ``verify``'s defaults."""
    defaults = vars(build_parser().parse_args(["verify"]))
    given = [f"--{k.replace('_', '-')}" for k in keys if getattr(args, k) != defaults[k]]
    if given:
        raise UsageError(f"{what} brings its own net, data and training; drop {', '.join(given)}{see}")


# ------------------------------------------------------------------ check

# what a seed's code brings itself: its net, data and layout
EXAMPLE_CLASHES = (
    "sizes", "weights", "seed", "init", "data", "x", "y", "activation", "output_activation", "loss",
    "reduction", "dtype", "no_bias", "layout",
)  # fmt: skip
# what a layer's check does not take: a net, its data, its layout, a training step
LAYER_CLASHES = (*EXAMPLE_CLASHES, "example", "training", "lr", "steps", "plot")


def check_command(args, out):
    with usercode.timeout_named("--timeout SECONDS"):
        return _check_command(args, out)


def _check_command(args, out):
    if args.kind is not None:
        return check_layer_command(args, out)
    if args.forward is not None:
        raise UsageError("--forward goes with --kind (a CS231n layer)")
    if args.gate_order is not None:
        raise UsageError("--gate-order goes with --kind lstm or lstm_step")
    path = plot_path(args.plot)
    _check_numbers(args)
    job = _seed_job(args) if args.example else _file_job(args)
    if path and job.training:
        what = "with --training" if args.training else f"--example {args.example} is a training step:"
        raise UsageError(f"--plot draws a gradient check; {what} there is none to draw")
    if path:
        drawing.check_size(job.net.sizes)
    report = job.run(args.timeout)
    _print(args, out, report)
    if path:
        drawing.save(check_drawing(report), path)
    return 0 if report.ok else 1


def check_layer_command(args, out):
    """``check FILE.py:NAME --kind KIND``: a CS231n layer (crosscheck.layer_check)."""
    given = _flags_given(args, [k for k in LAYER_CLASHES if k not in ("seed", "dtype")])
    if given:
        raise UsageError(f"--kind checks one layer on inputs it draws: drop {', '.join(given)}")
    if not args.target:
        raise UsageError("name your layer's backward: FILE.py:NAME, e.g. layers.py:batchnorm_backward")
    _check_timeout(args)
    options = {}
    if args.gate_order is not None:
        if "gate_order" not in layer_kinds.kind_of(args.kind).options:
            raise UsageError(f"--gate-order goes with --kind lstm or lstm_step, not {args.kind}")
        options["gate_order"] = args.gate_order
    if args.dtype is not None:
        options["dtype"] = args.dtype  # the drawn inputs'
    seed = 0 if args.seed is None else args.seed
    report = layer_check.check_file(args.target, args.kind, args.forward, args.timeout, seed=seed, **options)
    _print(args, out, report)
    return 0 if report.ok else 1


def _seed_job(args):
    """``--example``: a seed's code, with the flags that may go with it."""
    if args.target:
        raise UsageError("give either FILE.py:FUNCTION or --example, not both")
    given = _flags_given(args, EXAMPLE_CLASHES)
    if given:
        raise UsageError(
            f"--example {args.example} brings the seed's own net, data and layout; drop {', '.join(given)}"
        )
    code = seed_code.CASES[args.example]()
    if args.training and not code.training:
        raise UsageError(f"--example {args.example} is a backward pass, not a training step: drop --training")
    if not code.training and (args.lr is not None or args.steps is not None):
        raise UsageError(
            f"--lr and --steps go with a training step; --example {args.example} is a backward pass"
        )
    return check_job.of_seed(code, args.lr, args.steps)


def _kind_hint(target):
    """A name in CS231n's idiom (``batchnorm_backward``, ``softmax_loss``): it is probably a layer."""
    name = target.rpartition(":")[2]
    stem = name.partition("_backward")[0] if layer_check.forward_name(name) else name
    if stem in layer_kinds.KINDS:
        return f" (a CS231n layer? --kind {stem})"
    if layer_check.forward_name(name):
        return f" (a CS231n layer? --kind KIND, one of {', '.join(layer_kinds.KINDS)})"
    return ""


def _file_job(args):
    """``FILE.py:FUNCTION``: the user's function, on the net, data and layout the flags give."""
    if not args.target:
        raise UsageError("name your function: FILE.py:FUNCTION (or --example seed000|seed001|seed002)")
    try:
        layout = layout_from(args.layout)
    except LayoutError as err:
        raise UsageError(f"--layout: {err}") from None
    if args.sizes is None and args.weights is None:
        raise UsageError(
            "your function needs a net: --sizes (with --seed or --weights), or --weights FILE"
            + _kind_hint(args.target)
        )
    if not args.training and (args.lr is not None or args.steps is not None):
        raise UsageError("--lr and --steps go with --training")
    net = user_net(args)
    if args.training and args.data is None and args.x is None:
        raise UsageError("--training needs data: --x and --y, or --data FILE")
    data = user_data(args, net, optional=not args.training)
    return check_job.of_file(args.target, net, data, layout, args.training, args.lr, args.steps, args.timeout)


def _check_numbers(args):
    """``--timeout``, ``--steps`` and ``--lr`` in their ranges."""
    _check_timeout(args)
    if args.steps is not None and args.steps < 1:
        raise UsageError(f"--steps: expected at least 1, got {args.steps}")
    if args.lr is not None and not (args.lr > 0 and np.isfinite(args.lr)):
        raise UsageError(f"--lr: expected a positive learning rate, got {args.lr:g}")


def _check_timeout(args):
    try:
        usercode.check_timeout(args.timeout)
    except ValueError as err:
        raise UsageError(f"--{err}") from None


def _flags_given(args, keys):
    """The flags among ``keys`` given (``check``'s all default to None or False)."""
    return [
        f"--{k.replace('_', '-')}"
        for k in keys
        if getattr(args, k) is not None and getattr(args, k) is not False
    ]


# ------------------------------------------------------------------ study


# what `study xor` fixes; the grid (--nets, --lr, --init, --init-scale, --epochs, --check-every),
# --data xor or as_written and where it runs stay the user's
STUDY_XOR = (
    "seed 000's net, data and loop (2-2-1 sigmoid, summed mse, on xor and as_written, learned = right-side)"
)


def study_command(args, out):
    if args.problem == "xor":
        _study_xor_clashes(args)
    definition = study.define(
        data=[v.strip() for v in args.data.split(",")],
        sizes=[_widths(v) for v in args.sizes],
        activation=args.activation,
        output_activation=args.output_activation,
        loss=args.loss,
        reduction=args.reduction,
        lrs=_numbers("--lr", args.lr),
        inits=[v.strip() for v in args.init.split(",")],
        scales=_numbers("--init-scale", args.init_scale),
        nets=args.nets,
        epochs=args.epochs,
        check_every=args.check_every,
        success=args.success,
        chunk=args.chunk,
    )
    path = plot_path(args.plot)
    chunks = len(definition.chunks())

    def say(text):
        print(text, file=sys.stderr)
        if text.startswith("running on") and args.workers is not None and chunks < args.workers:
            print(_idle_note(definition, chunks, args.workers, args.resume), file=sys.stderr)

    shown = progress.bar(args, chunks * definition.epochs, "epoch", f"{chunks} chunk{'s' * (chunks > 1)}")
    try:
        result = study_cluster.run(
            definition,
            args.workers,
            args.scheduler,
            args.out,
            args.resume,
            progress=shown.update if shown else None,
            say=say,
        )
    finally:
        if shown:
            shown.close()
    if path:
        study.plot(result, path)
    if args.json:
        jsonout.dump(study.as_json(result), out)
    else:
        out.write(study.render(result) + "\n")
    return 0


def _idle_note(definition, chunks, workers, resume):
    """What a run of fewer chunks than workers leaves idle, and the ``--chunk`` that would not."""
    idle = workers - chunks
    note = (
        f"note: {chunks} chunk{'s' * (chunks > 1)} for {workers} workers: {idle} worker{'s' * (idle > 1)} "
        f"will have nothing to do"
    )
    chunk = chunk_for(definition.nets, len(definition.cells()), workers)
    if resume or chunk is None:  # a resumed run keeps its chunks; fewer starts than workers: no chunk does
        return note
    made = len(definition.cells()) * -(-definition.nets // chunk)
    return f"{note}; --chunk {chunk} makes {made} chunks"


def chunk_for(nets, cells, workers):
    """The largest chunk that cuts ``cells`` cells of ``nets`` starts into ``workers`` chunks or
    more; None when even one start a chunk is too few."""
    if nets * cells < workers:
        return None
    chunk = -(-nets // -(-workers // cells))
    while cells * -(-nets // chunk) < workers:
        chunk -= 1
    return chunk


def _study_xor_clashes(args):
    """UsageError naming the flags that would make ``study xor`` another study than seed 000's."""
    given = [f"--sizes {' '.join(args.sizes)}"] if [_widths(v) for v in args.sizes] != [(2, 2, 1)] else []
    for flag, value, same in (
        ("--activation", args.activation, ("sigmoid",)),
        ("--output-activation", args.output_activation, (None, "sigmoid")),
        ("--loss", args.loss, ("mse",)),
        ("--reduction", args.reduction, ("sum",)),
        ("--success", args.success, (None, "right-side")),
    ):
        if value not in same:
            given.append(f"{flag} {value}")
    if any(v.strip() not in study.DATA for v in args.data.split(",")):
        given.append(f"--data {args.data}")
    if given:
        raise UsageError(
            f"study xor is {STUDY_XOR}; drop {', '.join(given)} "
            "(or drop xor, to study a net or data of your own)"
        )


def _widths(text):
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"--sizes: expected comma-separated layer widths like 2,2,1, got {text!r}") from None


def _numbers(flag, text):
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"{flag}: expected comma-separated numbers, got {text!r}") from None


# ------------------------------------------------------------------ printing


def _print(args, out, report):
    """A check's report: its JSON, or its text."""
    out.write((jsonout.dumps(report.to_json()) if args.json else report.text()) + "\n")


def _print_reports(args, out, reports, key, to_json, render):
    """``verify``'s reports: JSON (``ok`` and the list under ``key``), or ``render``ed; the exit status."""
    ok = all(r.ok for r in reports)
    if args.json:
        jsonout.dump({"ok": ok, key: [to_json(r) for r in reports]}, out)
    else:
        out.write(render(reports))
    return 0 if ok else 1


def _print_report(args, out, report, key, to_json, render):
    """One real-use model's report: JSON (``ok`` and it under ``key``), or ``render``ed; the exit status."""
    if args.json:
        jsonout.dump({"ok": report.ok, key: to_json(report)}, out)
    else:
        out.write(render(report))
    return 0 if report.ok else 1


# ------------------------------------------------------------------ entry point

COMMANDS = {
    "walkthrough": walkthrough_command,
    "verify": verify_command,
    "check": check_command,
    "study": study_command,
}


def main(argv=None, out=None):
    """The command line; ``out``: where the report goes (default stdout). Run as the
    command itself (``out`` left out), ``check`` runs in a child process, so that code of
    the user's which ends the process (``os._exit``, a crash) is reported, not passed."""
    whole = out is None
    out = out or sys.stdout
    try:
        args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    except UsageError as err:
        return _error(err)
    if whole and args.command == "check" and hasattr(os, "fork"):
        try:
            return usercode.in_child(lambda: _run(args, out))
        except UserCodeError as err:
            return _error(err)
    return _run(args, out)


def _run(args, out):
    try:
        code = COMMANDS[args.command](args, out)
        out.flush()  # here, where a full disk can be said, not in the interpreter's exit
        return code
    except (UsageError, UserCodeError) as err:
        return _error(err)
    except study_cluster.Interrupted as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return 130  # as a shell reports a process ended by SIGINT
    except BrokenPipeError:
        # the reader went away (| head): stop quietly
        _stdout_to_devnull()
        return 1
    except OSError as err:
        if err.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG):
            raise
        print(f"{PROG}: error: could not write the report: {err.strerror}", file=sys.stderr)
        _stdout_to_devnull()
        return 1


def _stdout_to_devnull():
    """After a write to stdout failed: the interpreter's own flush at exit would fail (and
    complain) a second time on what is still buffered."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _error(err):
    """Bad usage, or the user's code failing: its traceback if it has one, one line; exit status 2."""
    if getattr(err, "user_traceback", ""):
        print(err.user_traceback, file=sys.stderr, end="")
    print(f"{PROG}: error: {err}", file=sys.stderr)
    return 2
