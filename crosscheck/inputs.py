"""A net and its data from the command line's options: built-in examples, or
the user's own net (``--sizes``, ``--weights`` or ``--seed``) and data
(``--x``/``--y`` or ``--data``); ``verify``'s training (``--optimizer``, ``--lr``,
``--epochs``, ...). Every problem is a ``UsageError``, one line."""

import zipfile
from pathlib import Path

import numpy as np

import manual
from manual.checkpoint import META_KEY

from . import examples
from .errors import UsageError
from .verify import Case, TrainConfig

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


def user_net(args):
    """The net of ``--weights`` (arrays or a checkpoint) or ``--seed``, as the options describe it."""
    if args.weights is not None:
        data = load_npz(args.weights)
        if META_KEY in data:
            return checkpoint_net(args)
        if args.init is not None:
            raise UsageError(
                f"--init draws weights; --weights {args.weights} brings them: give one of the two"
            )
    if args.sizes is None:
        raise UsageError(f"--weights {args.weights}: arrays W1, b1, ... need --sizes to say the architecture")
    sizes = parse_sizes(args.sizes)
    options = {k: v if getattr(args, k) is None else getattr(args, k) for k, v in NET_DEFAULTS.items()}
    acts = options["activation"].split(",") if "," in options["activation"] else options["activation"]
    common = dict(
        activation=acts,
        output_activation=args.output_activation,
        loss=options["loss"],
        reduction=options["reduction"],
    )
    try:
        if args.weights is not None:
            arrays = weight_arrays(data, args.weights, len(sizes) - 1)
            biases = [f"b{l}" for l, layer in enumerate(arrays, start=1) if "b" in layer]
            if args.no_bias and biases:
                raise UsageError(
                    f"--no-bias: {args.weights} has biases ({', '.join(biases)}); drop --no-bias, or the "
                    "biases from the file"
                )
            net = manual.MLP.from_params(arrays, dtype=options["dtype"], **common)
            if net.sizes != sizes:
                raise UsageError(
                    f"{args.weights}: its weights make a {arch(net.sizes)} net, --sizes says {arch(sizes)}"
                )
            return net
        seed = 0 if args.seed is None else args.seed
        init = "uniform" if args.init is None else args.init
        return manual.MLP(
            sizes, bias=not args.no_bias, init=init, seed=seed, dtype=options["dtype"], **common
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
    if args.init is not None:
        given["init"] = args.init
    clashes = [
        f"{k} {spec[k]} in the file, {v} on the command line"
        for k, v in given.items()
        if k != "init" and v != spec[k]
    ]
    if "init" in given:
        clashes.append(f"--init {given['init']} draws weights, the checkpoint brings them")
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


def user_data(args, net, optional=False):
    """x, y from ``--x``/``--y`` or ``--data``; with ``optional``, None when neither is given."""
    if args.data is not None:
        if args.y is not None:
            raise UsageError("--y goes with --x; with --data the targets are in the file")
        x, y = load_data(args.data, net)
    elif args.x is not None and args.y is not None:
        x, y = parse_matrix("--x", args.x), parse_matrix("--y", args.y)
    elif (args.x is None) != (args.y is None):
        raise UsageError("--x and --y go together: give both")
    elif optional:
        return None
    else:
        raise UsageError("a net of your own needs data: --x and --y, or --data FILE")
    for name, values in (("x", x), ("y", y)):
        _check_fits(name, np.asarray(values), net.dtype)
    try:
        return net.check_data(np.asarray(x, dtype=net.dtype), np.asarray(y, dtype=net.dtype))
    except (ValueError, TypeError) as err:
        raise UsageError(str(err)) from None


def _check_fits(name, values, dtype):
    """Finite numbers that stay finite in the net's dtype (1e39 is no float32)."""
    values = np.asarray(values, np.float64)
    big = np.abs(values) > np.finfo(dtype).max
    if big.any():
        where = tuple(int(i) for i in np.argwhere(big)[0])
        raise UsageError(
            f"{name}: {values[where]:g} at index {where} does not fit {np.dtype(dtype).name} "
            f"(the largest is {np.finfo(dtype).max:.3g})"
        )


def parse_matrix(name, text):
    try:
        return np.array([[float(v) for v in row.split(",")] for row in text.split(";")], dtype=float)
    except ValueError:
        raise UsageError(
            f'{name}: expected numbers, rows separated by ";" and values by ",", got {text!r}'
        ) from None


def load_data(path, net):
    """x, y from an .npz (arrays x and y) or a .csv (n_in columns of x, then y; one header line allowed)."""
    if Path(path).is_dir():
        raise UsageError(f"--data {path}: is a directory; expected a .npz or .csv file")
    if not Path(path).is_file():
        raise UsageError(f"--data {path}: no such file")
    if str(path).endswith(".csv"):
        table, _ = read_csv(path)
        n_in, n_out = net.sizes[0], net.sizes[-1]
        if table.shape[1] != n_in + n_out:
            raise UsageError(f"{path}: expected {n_in} + {n_out} columns (x then y), got {table.shape[1]}")
        return table[:, :n_in], table[:, n_in:]
    data = load_npz(path)
    if "x" not in data or "y" not in data:
        raise UsageError(f"{path}: expected arrays x and y, found {', '.join(sorted(data)) or 'nothing'}")
    return data["x"], data["y"]


def read_csv(path, name=None):
    """The numbers of a .csv: ``(table (rows, columns) float64, the file's line number of each
    row)``. Blank lines and ``#`` comment lines are skipped, and one header line (a first line
    that is not all numbers) is allowed. ``name`` (default the path) begins every message: a
    UsageError naming the line at fault, never NumPy's warning or advice."""
    name = str(path) if name is None else name
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"{name}: cannot be read as text ({err})") from None
    rows = [
        (n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()[:1] not in ("", "#")
    ]
    if not rows:
        raise UsageError(f"{name}: the file is empty; expected rows of numbers (x's columns, then y's)")
    if _not_a_number(rows[0][1]) is not None:
        rows = rows[1:]
        if not rows:
            raise UsageError(f"{name}: has a header line and no rows of numbers")
    first, width = rows[0][0], rows[0][1].count(",") + 1
    for n, line in rows:
        if line.count(",") + 1 != width:
            raise UsageError(
                f"{name}: line {n} has {line.count(',') + 1} columns, expected {width} as on line {first}"
            )
    try:
        table = np.loadtxt([line for _, line in rows], delimiter=",", ndmin=2)
    except ValueError as err:
        for n, line in rows:
            column = _not_a_number(line)
            if column is not None:
                field = line.split(",")[column].strip()
                hint = " (expected values separated by commas)" if ";" in field or "\t" in field else ""
                raise UsageError(
                    f"{name}: could not read numbers from it: line {n}, column {column + 1}: "
                    f"{field!r} is not a number{hint}"
                ) from None
        raise UsageError(f"{name}: not a CSV of numbers ({err})") from None
    return table, [n for n, _ in rows]


def _not_a_number(line):
    """The index of the first comma-separated field of ``line`` NumPy does not read as a number, or None."""
    for i, field in enumerate(line.split(",")):
        try:
            if not field.strip():
                return i
            np.loadtxt([field], delimiter=",")
        except ValueError:
            return i
    return None


def load_npz(path, name=None):
    """The arrays of an .npz, by name; ``name`` (default the path) begins every message."""
    name = str(path) if name is None else name
    if Path(path).is_dir():
        raise UsageError(f"{name}: is a directory; expected a .npz file")
    if not Path(path).is_file():
        raise UsageError(f"{name}: no such file")
    if not zipfile.is_zipfile(path):
        raise UsageError(f"{name}: not an .npz archive (a zip of .npy arrays, what np.savez writes)")
    try:
        # our own handle: np.load given a path leaks it when the file is not a zip
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except ValueError:  # an object array inside: refused, never unpickled
        raise UsageError(f"{name}: holds an array of Python objects, which is never read") from None
    except Exception as err:  # a truncated or corrupt member
        raise UsageError(f"{name}: not a readable .npz archive ({type(err).__name__}: {err})") from None


def arch(sizes):
    return "-".join(map(str, sizes))


def describe(net):
    return f"{arch(net.sizes)} net, {', '.join(net.activations)}, {net.loss_name} ({net.reduction})"
