"""The command line: ``python -m manual walkthrough|verify`` (also installed as
``backprop-by-hand``).

    walkthrough   every forward and backward number of one net, each gradient
                  beside its finite differences and the frameworks' values
    verify        manual vs PyTorch vs JAX: gradients, then training runs

Exit status: 0 when everything agrees, 1 when something differs, 2 for bad
usage (one line on stderr, no traceback).
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from . import examples
from .compare import compare, rounding_scale
from .gradcheck import gradcheck
from .initializers import INITS
from .losses import LOSSES
from .mlp import MLP
from .optim import SGD, Adam
from .verify import Case, TrainConfig, check, frameworks


class UsageError(Exception):
    """Bad usage: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser():
    parser = _Parser(prog="python -m manual", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    walk = commands.add_parser("walkthrough", help="every number of one forward and backward pass")
    _add_net_options(walk)
    walk.add_argument("--precision", type=int, default=4, help="decimals shown (default 4)")

    ver = commands.add_parser("verify", help="manual vs PyTorch vs JAX: gradients and training")
    _add_net_options(ver, several=True)
    ver.add_argument("--epochs", type=int, help="training epochs (default: 10,000 for seed000, else 1,000)")
    ver.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    ver.add_argument("--lr", type=float, help="learning rate (default 0.1 for sgd, 1e-3 for adam)")
    ver.add_argument("--batch-size", type=int, help="mini-batch size (default: full batch)")
    ver.add_argument("--shuffle-seed", type=int, help="shuffle mini-batches with this seed")
    ver.add_argument("--plot", metavar="FILE.png", help="save the loss curves and the gaps between backends")
    ver.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")
    return parser


def _add_net_options(p, several=False):
    names = ", ".join(examples.CASE_NAMES)
    p.add_argument("--example", action="append" if several else "store", choices=examples.CASE_NAMES,
                   help=f"a built-in example ({names})" + ("; repeatable; default: all" if several else
                                                           "; default seed002"))
    p.add_argument("--sizes", help="a net of your own: layer widths, e.g. 2,2,1")
    p.add_argument("--activation", default="sigmoid", help="one name, or one per layer: relu,relu,sigmoid")
    p.add_argument("--output-activation", help="the last layer's activation")
    p.add_argument("--loss", default="mse", help=f"one of {', '.join(LOSSES)} (default mse)")
    p.add_argument("--reduction", default="sum", help="sum (default) or mean")
    p.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    p.add_argument("--no-bias", action="store_true", help="layers without bias")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--weights", metavar="FILE.npz",
                        help="params: arrays W1, b1, W2, ... (W of shape (n_in, n_out)), or a manual.save checkpoint")
    source.add_argument("--seed", type=int, help="draw the params from this seed")
    p.add_argument("--init", default="uniform", help=f"with --seed: {', '.join(INITS)} (default uniform)")
    data = p.add_mutually_exclusive_group()
    data.add_argument("--data", metavar="FILE", help=".npz with arrays x and y, or .csv: n_in columns of x, then y")
    data.add_argument("--x", help='inputs, rows separated by ";": "1,0;0,1"')
    p.add_argument("--y", help='targets, rows separated by ";": "1;0"')
    p.add_argument("--json", action="store_true", help="print the results as JSON")


# ------------------------------------------------------------------ inputs


def cases_from(args):
    """The cases the arguments describe: built-in examples, or one net of the user's."""
    if args.sizes is None:
        if any(getattr(args, k) is not None for k in ("weights", "seed", "data", "x", "y")):
            raise UsageError("--weights, --seed, --data, --x and --y describe a net of your own: add --sizes")
        names = args.example if isinstance(args.example, list) else [args.example or "seed002"]
        if args.command == "verify" and args.example is None:
            names = list(examples.CASE_NAMES)
        return [examples.case(n, epochs=getattr(args, "epochs", None)) for n in names]
    if args.example:
        raise UsageError("give either --example or --sizes, not both")
    net = user_net(args)
    x, y = user_data(args, net)
    return [Case("your net", _describe(net), net, x, y, None)]


def user_net(args):
    sizes = parse_sizes(args.sizes)
    acts = args.activation.split(",") if "," in args.activation else args.activation
    common = dict(activation=acts, output_activation=args.output_activation, loss=args.loss,
                  reduction=args.reduction)
    try:
        if args.weights is not None:
            net = MLP.from_params(load_weights(args.weights, len(sizes) - 1), dtype=args.dtype, **common)
            if net.sizes != sizes:
                raise UsageError(f"{args.weights}: its weights make a {_arch(net.sizes)} net, --sizes says {_arch(sizes)}")
            return net
        seed = 0 if args.seed is None else args.seed
        return MLP(sizes, bias=not args.no_bias, init=args.init, seed=seed, dtype=args.dtype, **common)
    except (ValueError, TypeError) as err:
        raise UsageError(str(err)) from None


def parse_sizes(text):
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise UsageError(f"--sizes: expected comma-separated layer widths like 2,2,1, got {text!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise UsageError(f"--sizes: expected at least two positive widths like 2,2,1, got {text!r}")
    return sizes


def load_weights(path, n_layers):
    """[{"W", "b"}] from an .npz of W1, b1, W2, ... or from a manual.save checkpoint."""
    data = _load_npz(path)
    if "checkpoint" in data:
        from .checkpoint import load

        try:
            return load(path)[0].params
        except (ValueError, OSError) as err:
            raise UsageError(str(err)) from None
    params = []
    for l in range(1, n_layers + 1):
        if f"W{l}" not in data:
            raise UsageError(f"{path}: no array W{l}; expected W1, b1, ..., W{n_layers}, b{n_layers} "
                             f"(found {', '.join(sorted(data)) or 'nothing'})")
        layer = {"W": data[f"W{l}"]}
        if f"b{l}" in data:
            layer["b"] = data[f"b{l}"]
        params.append(layer)
    extra = set(data) - {f"{k}{l}" for l in range(1, n_layers + 1) for k in "Wb"}
    if extra:
        raise UsageError(f"{path}: arrays {sorted(extra)} do not belong to a {n_layers}-layer net")
    return params


def user_data(args, net):
    if args.data is not None:
        if args.y is not None:
            raise UsageError("--y goes with --x; with --data the targets are in the file")
        x, y = load_data(args.data, net)
    elif args.x is not None and args.y is not None:
        x, y = parse_matrix("--x", args.x), parse_matrix("--y", args.y)
    else:
        raise UsageError("a net of your own needs data: --x and --y, or --data FILE")
    try:
        return net._check_xy(np.asarray(x, dtype=net.dtype), np.asarray(y, dtype=net.dtype))
    except (ValueError, TypeError) as err:
        raise UsageError(str(err)) from None


def parse_matrix(name, text):
    try:
        rows = [[float(v) for v in row.split(",")] for row in text.split(";")]
        return np.array(rows, dtype=float)
    except ValueError:
        raise UsageError(f'{name}: expected numbers, rows separated by ";" and values by ",", got {text!r}') from None


def load_data(path, net):
    if str(path).endswith(".csv"):
        try:
            table = np.loadtxt(path, delimiter=",", ndmin=2)
        except OSError:
            raise UsageError(f"{path}: no such file") from None
        except ValueError as err:
            try:  # one header line
                table = np.loadtxt(path, delimiter=",", ndmin=2, skiprows=1)
            except ValueError:
                raise UsageError(f"{path}: not a CSV of numbers ({err})") from None
        n_in, n_out = net.sizes[0], net.sizes[-1]
        if table.shape[1] != n_in + n_out:
            raise UsageError(f"{path}: expected {n_in} + {n_out} columns (x then y), got {table.shape[1]}")
        return table[:, :n_in], table[:, n_in:]
    data = _load_npz(path)
    if "x" not in data or "y" not in data:
        raise UsageError(f"{path}: expected arrays x and y, found {', '.join(sorted(data)) or 'nothing'}")
    return data["x"], data["y"]


def _load_npz(path):
    if not Path(path).is_file():
        raise UsageError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except Exception as err:  # zipfile, pickle refusal, truncated data: all mean "not an npz we can read"
        raise UsageError(f"{path}: not a readable .npz file ({type(err).__name__}: {err})") from None


def training_from(args, case):
    """The training run ``verify`` does for a case; the command line overrides the example's."""
    try:
        if args.optimizer == "adam":
            opt = Adam(lr=1e-3 if args.lr is None else args.lr)
        elif args.lr is not None or case.training is None:
            opt = SGD(lr=0.1 if args.lr is None else args.lr)
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
    trace = net.trace(x, y)
    fd = gradcheck(net, x, y)
    numeric = [{} for _ in trace.layers]
    for ch in fd.checks:
        numeric[ch.layer - 1][ch.name] = ch.numeric
    fd_ok = {f"{ch.name}{ch.layer}": ch for ch in fd.checks}
    scale = rounding_scale(net, x, y)
    found = frameworks()
    others, verdicts = {}, {}
    for name, (mod, _) in found.items():
        if mod is not None:
            others[name] = mod.loss_and_grads(net, x, y)
            verdicts[name] = {r.name: r for r in compare(trace_result(trace), others[name], scale, net.dtype)}
    beside = {}
    for l, layer in enumerate(trace.grads, start=1):
        for k in layer:
            p = f"{k}{l}"
            ch = fd_ok[p]
            rows = [("finite differences", ch.numeric, f"max rel err {ch.max_rel:.1e}  {'agrees' if ch.ok else 'DIFFERS'}")]
            for name, res in others.items():
                v = verdicts[name][p]
                rows.append((name, res[1][l - 1][k], f"err/scale {v.max_scaled:.1e}  {'agrees' if v.ok else 'DIFFERS'}"))
            beside[p] = rows
    ok = fd.ok and all(v.ok for rows in verdicts.values() for v in rows.values())
    if args.json:
        json.dump(_walkthrough_json(case, trace, numeric, others, ok), out, indent=1, default=_jsonable)
        out.write("\n")
        return 0 if ok else 1
    out.write(f"walkthrough: {case.name}: {case.title}\n\n")
    out.write(trace.format(args.precision, beside=beside) + "\n\n")
    losses = ", ".join([f"manual {trace.loss:.10g}"] + [
        f"{name} {res[0]:.10g} ({'agrees' if verdicts[name]['loss'].ok else 'DIFFERS'})" for name, res in others.items()])
    out.write(f"  loss: {losses}\n")
    out.write(f"  every gradient {'agrees' if ok else 'does NOT agree'} with finite differences"
              f"{' and ' + ' and '.join(others) if others else ''}\n")
    out.write(_missing_note(found))
    return 0 if ok else 1


def trace_result(trace):
    return trace.loss, trace.grads


# ------------------------------------------------------------------ verify


def verify(args, out):
    cases = cases_from(args)
    for c in cases:
        c.training = training_from(args, c)
    bar = _progress_bar(args, sum(c.training.epochs for c in cases) * (1 + _n_frameworks()))
    reports = [check(c, progress=bar.update if bar else None) for c in cases]
    if bar:
        bar.close()
    if args.plot:
        from .plot import plot_reports

        plot_reports(reports, args.plot)
    ok = all(r.ok for r in reports)
    if args.json:
        json.dump({"ok": ok, "reports": [_report_json(r) for r in reports]}, out, indent=1, default=_jsonable)
        out.write("\n")
    else:
        out.write(render_verify(reports))
    return 0 if ok else 1


def render_verify(reports):
    fw = reports[0].frameworks
    names = " vs ".join(["manual"] + [f"{'PyTorch' if k == 'torch' else 'JAX'} {v}" for k, v in fw.items() if v])
    lines = [f"verify: {names}", ""]
    for r in reports:
        lines += _render_report(r) + [""]
    lines.append(_summary(reports))
    text = "\n".join(lines) + "\n"
    return text + _missing_note({k: (None, v) for k, v in fw.items()})


def _render_report(r):
    c = r.case
    lines = [f"{c.name}: {c.title}, {c.net.dtype.name}, batch of {len(c.x)}"]
    if r.gradients:
        lines.append(f"  gradients against each framework: max abs err, max rel err, err / rounding scale "
                     f"(pass: <= {r.gradients[0].tolerance:.1e})")
        by_param = {}
        for g in r.gradients:
            by_param.setdefault(g.param, {})[g.framework] = g
        names = list(next(iter(by_param.values())))
        lines.append("    param  " + "".join(f"{name:<36}" for name in names).rstrip())
        for param, row in by_param.items():
            cells = [f"{g.max_abs:.1e}  {g.max_rel:.1e}  {g.max_scaled:.1e}  {'PASS' if g.ok else 'FAIL'}    "
                     for g in row.values()]
            lines.append(f"    {param:<6} " + "".join(cells).rstrip())
    if r.gradcheck is not None:
        worst = max(r.gradcheck.checks, key=lambda ch: ch.worst)
        lines.append(f"  finite differences: every parameter, largest rel err {r.gradcheck.max_rel:.1e} "
                     f"({worst.name}{worst.layer})  {'PASS' if r.gradcheck.ok else 'FAIL'}")
    if c.claims:
        lines.append("  the seed's printed numbers:")
        for claim in c.claims:
            if claim.ok:
                lines.append(f"    ok     {claim.name}: {_short(claim.printed)}")
            else:
                lines.append(f"    WRONG  {claim.name}: printed {_short(claim.printed)}, right {_short(claim.computed)}"
                             f" (the engine, PyTorch and JAX agree on it)")
                if claim.note:
                    lines.append(f"           {claim.note}")
    if r.pairs:
        lines.append(f"  training: {c.training.describe()}, from the same start (pass: <= {r.pairs[0].tolerance:.1e})")
        lines.append(f"    {'backends':<14} {'loss gap, any step':>18} {'final params gap':>17}")
        for p in r.pairs:
            lines.append(f"    {p.pair:<14} {p.loss_gap:>18.1e} {p.params_gap:>17.1e}  {'PASS' if p.ok else 'FAIL'}")
        final = ", ".join(f"{k} {h.losses[-1]:.6g}" for k, h in r.histories.items())
        lines.append(f"    last loss: {final}")
    return lines


def _summary(reports):
    ok = all(r.ok for r in reports)
    wrong = [(r.case.name, c) for r in reports for c in r.case.claims if not c.ok]
    text = ("all agree: every gradient and every training run matches across the backends"
            if ok else "DISAGREEMENT: see the FAIL lines above")
    for name, c in wrong:
        text += f"\n{name} printed a wrong number: {c.name}, {_short(c.printed)} (right: {_short(c.computed)})"
    return text


def _missing_note(fw):
    missing = [k for k, (mod, ver) in fw.items() if ver is None]
    return "".join(f"({k} is not installed: pip install 'backprop-by-hand[{k}]' to compare with it)\n" for k in missing)


def _n_frameworks():
    return sum(1 for mod, _ in frameworks().values() if mod)


def _progress_bar(args, total):
    if args.no_progress or args.json or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="epoch", desc="training manual, torch, jax", leave=False)


# ------------------------------------------------------------------ formatting helpers


def _short(value):
    if np.ndim(value) == 0:
        return f"{float(value):.10g}"
    return "[" + ", ".join(f"{v:.10g}" for v in np.asarray(value, dtype=float).ravel()) + "]"


def _arch(sizes):
    return "-".join(map(str, sizes))


def _describe(net):
    return f"{_arch(net.sizes)} net, {', '.join(net.activations)}, {net.loss_name} ({net.reduction})"


def _jsonable(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    return repr(obj)


def _report_json(r):
    c = r.case
    return {
        "name": c.name,
        "title": c.title,
        "dtype": c.net.dtype.name,
        "frameworks": r.frameworks,
        "gradients": [vars(g) for g in r.gradients],
        "gradcheck": None if r.gradcheck is None else {
            "ok": r.gradcheck.ok,
            "params": [{"param": f"{ch.name}{ch.layer}", "max_abs": ch.max_abs, "max_rel": ch.max_rel, "ok": ch.ok}
                       for ch in r.gradcheck.checks],
        },
        "claims": [{"name": cl.name, "printed": cl.printed, "computed": cl.computed, "ok": cl.ok} for cl in c.claims],
        "training": None if c.training is None else {
            "config": c.training.describe(),
            "pairs": [vars(p) for p in r.pairs],
            "final_loss": {k: float(h.losses[-1]) for k, h in r.histories.items()},
        },
        "ok": r.ok,
    }


def _walkthrough_json(case, trace, numeric, others, ok):
    layers = []
    for l, t in enumerate(trace.layers, start=1):
        layers.append({"layer": l, "activation": t.activation, "z": t.z, "a": t.a, "delta": t.delta, "dW": t.dW,
                       "db": t.db, "numeric": numeric[l - 1],
                       **{name: res[1][l - 1] for name, res in others.items()}})
    return {"name": case.name, "title": case.title, "loss": trace.loss, "ok": ok,
            "frameworks_loss": {name: res[0] for name, res in others.items()}, "layers": layers}


# ------------------------------------------------------------------ entry point


def main(argv=None, out=None):
    out = out or sys.stdout
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
        return {"walkthrough": walkthrough, "verify": verify}[args.command](args, out)
    except UsageError as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 2

