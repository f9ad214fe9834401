"""A net and its data from the command line's options: built-in examples, or
the user's own net (``--sizes``, ``--weights`` or ``--seed``) and data
(``--x``/``--y`` or ``--data``). Every problem is a ``UsageError``, one line."""

import importlib.util
import sys
from pathlib import Path

import numpy as np

import manual
from manual.checkpoint import META_KEY

from . import examples
from .errors import UsageError, UserCodeError
from .verify import Case

# the net options' defaults; None on the parser, so an explicit flag can be told from a default
NET_DEFAULTS = {"activation": "sigmoid", "loss": "mse", "reduction": "sum", "dtype": "float64"}


def cases_from(args):
    """The cases the arguments describe: built-in examples, or one net of the user's."""
    if args.sizes is None and args.weights is None:
        if any(getattr(args, k) is not None for k in ("seed", "data", "x", "y")):
            raise UsageError(
                "--seed, --data, --x and --y describe a net of your own: add --sizes (or --weights)"
            )
        names = args.example if isinstance(args.example, list) else [args.example or "seed002"]
        if args.command == "verify" and args.example is None:
            names = list(examples.CASE_NAMES)
        return [examples.case(n, epochs=getattr(args, "epochs", None)) for n in names]
    if args.example:
        raise UsageError("give either --example or a net of your own (--sizes, --weights), not both")
    net = user_net(args)
    x, y = user_data(args, net)
    return [Case("your net", describe(net), net, x, y, None)]


def user_net(args):
    """The net of ``--weights`` (arrays or a checkpoint) or ``--seed``, as the options describe it."""
    if args.weights is not None:
        data = load_npz(args.weights)
        if META_KEY in data:
            return checkpoint_net(args)
    if args.sizes is None:
        raise UsageError(f"--weights {args.weights}: arrays W1, b1, ... need --sizes to say the architecture")
    sizes = parse_sizes(args.sizes)
    options = {k: getattr(args, k) or v for k, v in NET_DEFAULTS.items()}
    acts = options["activation"].split(",") if "," in options["activation"] else options["activation"]
    common = dict(
        activation=acts,
        output_activation=args.output_activation,
        loss=options["loss"],
        reduction=options["reduction"],
    )
    try:
        if args.weights is not None:
            net = manual.MLP.from_params(
                weight_arrays(data, args.weights, len(sizes) - 1), dtype=options["dtype"], **common
            )
            if net.sizes != sizes:
                raise UsageError(
                    f"{args.weights}: its weights make a {arch(net.sizes)} net, --sizes says {arch(sizes)}"
                )
            return net
        seed = 0 if args.seed is None else args.seed
        return manual.MLP(
            sizes, bias=not args.no_bias, init=args.init, seed=seed, dtype=options["dtype"], **common
        )
    except (ValueError, TypeError) as err:
        raise UsageError(str(err)) from None


def checkpoint_net(args):
    """A ``manual.save`` checkpoint's net, exactly as saved: a flag that says
    otherwise is refused, never silently applied or ignored."""
    try:
        net, _ = manual.load(args.weights)
    except (ValueError, OSError) as err:
        raise UsageError(str(err)) from None
    spec = net.spec()
    given = {}
    if args.sizes is not None:
        given["sizes"] = list(parse_sizes(args.sizes))
    if args.activation is not None or args.output_activation is not None:
        acts = (args.activation or spec["activations"][0]).split(",")
        names = acts * len(spec["activations"]) if len(acts) == 1 else acts
        if args.output_activation is not None:
            names[-1] = args.output_activation
        given["activations"] = names
    for key in ("loss", "reduction", "dtype"):
        if getattr(args, key) is not None:
            given[key] = getattr(args, key)
    if args.no_bias:
        given["bias"] = [False] * len(spec["bias"])
    clashes = [
        f"{k} {spec[k]} in the file, {v} on the command line" for k, v in given.items() if v != spec[k]
    ]
    if clashes:
        raise UsageError(
            f"--weights {args.weights} is a checkpoint of a {describe(net)}, {net.dtype.name} net: "
            + "; ".join(clashes)
            + " (leave the flags out to use the checkpoint's)"
        )
    return net


def parse_sizes(text):
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise UsageError(f"--sizes: expected comma-separated layer widths like 2,2,1, got {text!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise UsageError(f"--sizes: expected at least two positive widths like 2,2,1, got {text!r}")
    return sizes


def weight_arrays(data, path, n_layers):
    """[{"W", "b"}] from an .npz's arrays W1, b1, W2, ..."""
    params = []
    for l in range(1, n_layers + 1):
        if f"W{l}" not in data:
            raise UsageError(
                f"{path}: no array W{l}; expected W1, b1, ..., W{n_layers}, b{n_layers} "
                f"(found {', '.join(sorted(data)) or 'nothing'})"
            )
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
        return np.array([[float(v) for v in row.split(",")] for row in text.split(";")], dtype=float)
    except ValueError:
        raise UsageError(
            f'{name}: expected numbers, rows separated by ";" and values by ",", got {text!r}'
        ) from None


def load_data(path, net):
    """x, y from an .npz (arrays x and y) or a .csv (n_in columns of x, then y; one header line allowed)."""
    if str(path).endswith(".csv"):
        try:
            table = np.loadtxt(path, delimiter=",", ndmin=2)
        except OSError:
            raise UsageError(f"{path}: no such file") from None
        except ValueError as err:
            try:
                table = np.loadtxt(path, delimiter=",", ndmin=2, skiprows=1)
            except ValueError:
                raise UsageError(f"{path}: not a CSV of numbers ({err})") from None
        n_in, n_out = net.sizes[0], net.sizes[-1]
        if table.shape[1] != n_in + n_out:
            raise UsageError(f"{path}: expected {n_in} + {n_out} columns (x then y), got {table.shape[1]}")
        return table[:, :n_in], table[:, n_in:]
    data = load_npz(path)
    if "x" not in data or "y" not in data:
        raise UsageError(f"{path}: expected arrays x and y, found {', '.join(sorted(data)) or 'nothing'}")
    return data["x"], data["y"]


def load_npz(path):
    if not Path(path).is_file():
        raise UsageError(f"{path}: no such file")
    try:
        # our own handle: np.load given a path leaks it when the file is not a zip
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except Exception as err:  # zipfile, pickle refusal, truncated data: all mean "not an npz we can read"
        raise UsageError(f"{path}: not a readable .npz file ({type(err).__name__}: {err})") from None


def arch(sizes):
    return "-".join(map(str, sizes))


def describe(net):
    return f"{arch(net.sizes)} net, {', '.join(net.activations)}, {net.loss_name} ({net.reduction})"


def load_function(target):
    """The function ``FILE.py:NAME`` names, its file run as a module (its own
    directory first on sys.path, for its imports)."""
    path, sep, name = target.rpartition(":")
    if not sep or not path or not name:
        raise UsageError(f"{target}: expected FILE.py:FUNCTION, e.g. my_backprop.py:backprop")
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"{path}: no such file")
    spec = importlib.util.spec_from_file_location(f"_user_{file.stem}", file)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(file.resolve().parent))
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        raise UserCodeError(f"{path} raised {type(err).__name__} when run: {err}") from err
    finally:
        sys.path.remove(str(file.resolve().parent))
    fn = getattr(module, name, None)
    if not callable(fn):
        found = sorted(
            k
            for k, v in vars(module).items()
            if callable(v) and getattr(v, "__module__", "") == module.__name__
        )
        raise UsageError(f"{path}: no function {name!r} (found: {', '.join(found) or 'none'})")
    return fn
