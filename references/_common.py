"""What the references share: the plain-data contract (checked here, in their
own words, not by ``manual``), the ``Run`` they return, and the message for a
missing framework."""

import importlib.metadata
import importlib.util
import numbers
from dataclasses import dataclass, field

import numpy as np

from .layers import module

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "identity", "softmax")
LOSSES = {
    "mse": None,
    "bce": "sigmoid",
    "cross_entropy": "softmax",
}  # loss -> the output it takes from logits
OPTIMIZERS = {
    "sgd": {"lr", "momentum", "nesterov", "weight_decay"},
    "adam": {"lr", "betas", "eps", "weight_decay"},
    "adamw": {"lr", "betas", "eps", "weight_decay"},
}
LEAKY_SLOPE = 0.01


@dataclass
class Run:
    """A reference's training run.

    losses: ``(steps,)``, each step's loss before its update. params: the final
    params. snapshots: ``(step, params)`` every ``record_every`` steps, step 0 included.
    buffers: a Sequential's running statistics after the run, one dict per layer.
    """

    losses: np.ndarray
    params: list
    snapshots: list = field(default_factory=list)
    buffers: list = field(default_factory=list)  # a Sequential's running statistics at the end


def installed_version(distribution, *modules):
    """The version of ``distribution`` if every one of ``modules`` can be found, without
    importing them (a framework loads on first use: the command line starts in 0.3 s,
    not 3.5 s). A partial install (jax without optax) counts as not installed."""
    try:
        if any(importlib.util.find_spec(module) is None for module in modules):
            return None
        return importlib.metadata.version(distribution)
    except (ImportError, ValueError, importlib.metadata.PackageNotFoundError):
        return None


def missing(framework, extra, err):
    return ImportError(
        f"{framework} is not installed ({err}); install the {extra!r} extra: "
        f"pip install -c constraints.txt 'backprop-by-hand[{extra}]'"
    )


def check_spec(spec):
    """The spec as a dict with a NumPy dtype and an ``l2`` (0.0 when absent);
    ValueError naming what is wrong."""
    keys = {"sizes", "activations", "loss", "reduction", "bias", "dtype", "l2"}
    if isinstance(spec, dict) and spec.get("kind", "MLP") != "MLP":
        raise ValueError(f"spec: expected an MLP's spec, got kind {spec['kind']!r}")
    if isinstance(spec, dict):
        spec = {"l2": 0.0, **{k: v for k, v in spec.items() if k != "kind"}}
    if not isinstance(spec, dict) or set(spec) != keys:
        got = sorted(spec) if isinstance(spec, dict) else type(spec).__name__
        raise ValueError(f"spec: expected a dict with keys {sorted(keys)}, got {got}")
    n_layers = len(spec["sizes"]) - 1
    if n_layers < 1 or len(spec["activations"]) != n_layers or len(spec["bias"]) != n_layers:
        raise ValueError(
            f"spec: {len(spec['sizes'])} sizes need one activation and one bias flag per layer: {spec}"
        )
    unknown = [a for a in spec["activations"] if a not in ACTIVATIONS]
    if unknown or spec["loss"] not in LOSSES or spec["reduction"] not in ("sum", "mean"):
        raise ValueError(f"spec: unknown activation, loss or reduction in {spec}")
    wanted = LOSSES[spec["loss"]]
    if wanted is not None and spec["activations"][-1] != wanted:
        raise ValueError(
            f"spec: loss {spec['loss']!r} takes a {wanted} output, got {spec['activations'][-1]!r}"
        )
    dtype = np.dtype(spec["dtype"])
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"spec: dtype must be float32 or float64, got {spec['dtype']!r}")
    l2 = spec["l2"]
    if isinstance(l2, (bool, np.bool_)) or not isinstance(l2, numbers.Real) or not 0 <= l2 < float("inf"):
        raise ValueError(f"spec: l2 must be a finite number >= 0, got {l2!r}")
    return {**spec, "dtype": dtype, "l2": float(l2)}


def check_params(spec, params):
    """Each layer's W ``(n_in, n_out)`` and b ``(n_out,)`` as the spec says, as float arrays of its dtype."""
    sizes = spec["sizes"]
    if len(params) != len(sizes) - 1:
        raise ValueError(f"params: expected {len(sizes) - 1} layers for sizes {sizes}, got {len(params)}")
    out = []
    for l, (layer, has_bias) in enumerate(zip(params, spec["bias"])):
        want = {"W": (sizes[l], sizes[l + 1])}
        if has_bias:
            want["b"] = (sizes[l + 1],)
        if set(layer) != set(want):
            raise ValueError(f"params[{l}]: expected keys {sorted(want)}, got {sorted(layer)}")
        for k, shape in want.items():
            if np.shape(layer[k]) != shape:
                raise ValueError(f"params[{l}][{k!r}]: expected shape {shape}, got {np.shape(layer[k])}")
        out.append({k: np.asarray(layer[k], dtype=spec["dtype"]) for k in want})
    return out


def check_data(spec, x, y):
    x, y = np.asarray(x, dtype=spec["dtype"]), np.asarray(y, dtype=spec["dtype"])
    n_in, n_out = spec["sizes"][0], spec["sizes"][-1]
    if x.ndim != 2 or x.shape[1] != n_in or y.shape != (len(x), n_out):
        raise ValueError(
            f"x, y: expected shapes (batch, {n_in}) and (batch, {n_out}), got {x.shape} and {y.shape}"
        )
    return x, y


def check_batches(batches, n):
    """Each batch a non-empty 1-D integer array of indices into the n samples."""
    out = []
    for i, idx in enumerate(batches):
        idx = np.asarray(idx)
        if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu" or idx.min() < 0 or idx.max() >= n:
            raise ValueError(
                f"batches[{i}]: expected a non-empty 1-D array of indices in [0, {n}), got {idx!r}"
            )
        out.append(idx)
    return out


def check_optimizer(optimizer):
    name = optimizer.get("name") if isinstance(optimizer, dict) else None
    if name not in OPTIMIZERS or set(optimizer) - {"name"} != OPTIMIZERS[name]:
        raise ValueError(
            f"optimizer: expected {{'name': 'sgd'|'adam'|'adamw', ...settings}}, got {optimizer!r}"
        )
    return dict(optimizer)


# ------------------------------------------------------------------ ensembles


def check_stacked_params(spec, params):
    """Stacked params, the nets first: W ``(N, n_in, n_out)``, b ``(N, n_out)``; returns (params, N)."""
    if not isinstance(params, (list, tuple)) or not params:
        raise ValueError(
            "params: expected a list of {'W': (N, n_in, n_out), 'b': (N, n_out)} dicts, one per layer"
        )
    counts = {np.shape(v)[0] if np.ndim(v) else None for layer in params for v in layer.values()}
    if len(counts) != 1 or None in counts:
        raise ValueError(f"params: every array's first axis is the net: expected one count, got {counts}")
    (n,) = counts
    single = [{k: np.asarray(v)[0] for k, v in layer.items()} for layer in params]
    check_params(spec, single)  # shapes and keys, on net 0 (all nets share them)
    return [{k: np.asarray(v, dtype=spec["dtype"]) for k, v in layer.items()} for layer in params], n


def check_ensemble_data(spec, x, y, n):
    """x, y shared ``(batch, n_in)``, ``(batch, n_out)`` or per net ``(N, batch, ...)``;
    returns (x, y, x_axis, y_axis): the axis of the nets in each (None: shared)."""
    x, y = np.asarray(x, dtype=spec["dtype"]), np.asarray(y, dtype=spec["dtype"])
    n_in, n_out = spec["sizes"][0], spec["sizes"][-1]
    x_axis, y_axis = (0 if x.ndim == 3 else None), (0 if y.ndim == 3 else None)
    x_ok = x.shape[-1:] == (n_in,) and (x_axis is None and x.ndim == 2 or x.ndim == 3 and len(x) == n)
    y_ok = y.shape[-1:] == (n_out,) and (y_axis is None and y.ndim == 2 or y.ndim == 3 and len(y) == n)
    batch_x = x.shape[-2] if x.ndim >= 2 else None
    batch_y = y.shape[-2] if y.ndim >= 2 else None
    if not (x_ok and y_ok and batch_x == batch_y):
        raise ValueError(
            f"x, y: expected (batch, {n_in}) or ({n}, batch, {n_in}), and (batch, {n_out}) or "
            f"({n}, batch, {n_out}), with one batch, got {x.shape} and {y.shape}"
        )
    return x, y, x_axis, y_axis


def check_learning_rates(lr, n):
    """SGD's learning rate: one positive number for every net, or ``(N,)``, one each."""
    lr = np.asarray(lr, dtype=np.float64)
    if lr.ndim == 0:
        lr = np.full(n, float(lr))
    if lr.shape != (n,) or not (np.isfinite(lr) & (lr > 0)).all():
        raise ValueError(f"lr: expected a positive number or {n} of them, got {lr!r}")
    return lr


# ------------------------------------------------------------------ sequentials

SEQUENTIAL_LOSSES = ("mse", "bce", "cross_entropy", "nll")


def check_sequential_spec(spec):
    """A Sequential's spec: ``{"kind": "Sequential", "layers": [...], "loss", "reduction", "dtype"}``,
    with a NumPy dtype; ValueError naming what is wrong."""
    keys = {"kind", "layers", "loss", "reduction", "dtype"}
    if not isinstance(spec, dict) or set(spec) != keys or spec["kind"] != "Sequential":
        got = sorted(spec) if isinstance(spec, dict) else type(spec).__name__
        raise ValueError(f"spec: expected a Sequential's spec with keys {sorted(keys)}, got {got}")
    if (
        not spec["layers"]
        or spec["loss"] not in SEQUENTIAL_LOSSES
        or spec["reduction"] not in ("sum", "mean")
    ):
        raise ValueError(f"spec: no layers, or an unknown loss or reduction: {spec}")
    for layer in spec["layers"]:
        module(layer)
    dtype = np.dtype(spec["dtype"])
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"spec: dtype must be float32 or float64, got {spec['dtype']!r}")
    return {**spec, "dtype": dtype}


def check_sequential_arrays(spec, params, buffers):
    """params and buffers: one dict per layer with the names and shapes each kind has (this
    package's own reading of them), as arrays of the spec's dtype."""
    layers = spec["layers"]
    buffers = [{} for _ in layers] if buffers is None else buffers
    if len(params) != len(layers) or len(buffers) != len(layers):
        raise ValueError(
            f"params, buffers: expected one dict per layer ({len(layers)}), got {len(params)}, {len(buffers)}"
        )
    checked_params, checked_buffers = [], []
    for i, (layer, p, b) in enumerate(zip(layers, params, buffers)):
        for what, given, want, into in (
            ("params", p, module(layer).params(layer), checked_params),
            ("buffers", b, module(layer).buffers(layer), checked_buffers),
        ):
            if set(given) != set(want):
                raise ValueError(
                    f"{what}[{i}] ({layer['kind']}): expected keys {sorted(want)}, got {sorted(given)}"
                )
            for k, shape in want.items():
                if np.shape(given[k]) != tuple(shape):
                    raise ValueError(
                        f"{what}[{i}][{k!r}]: expected shape {tuple(shape)}, got {np.shape(given[k])}"
                    )
            into.append({k: np.asarray(given[k], dtype=spec["dtype"]) for k in want})
    return checked_params, checked_buffers


def check_sequential_data(spec, x, y=None):
    """x as the first layer takes it (integer indices for an Embedding, floats of the spec's
    dtype), y as the loss does (integer labels for cross-entropy and nll, or floats). A tuple
    x, the several inputs of one layer (RNN's ``(x, h0)``): x as above, each further input
    floats of the dtype, or booleans (a mask) left as they are."""
    if isinstance(x, tuple):
        if not x:
            raise ValueError("x: expected an array or a non-empty tuple of arrays, got ()")
        x = (check_sequential_data(spec, x[0]), *(_further_input(spec, v) for v in x[1:]))
    else:
        x = np.asarray(x)
        first = spec["layers"][0]["kind"]
        x = x.astype(np.int64) if first == "Embedding" else np.asarray(x, dtype=spec["dtype"])
    if y is None:
        return x
    y = np.asarray(y)
    y = y.astype(np.int64) if y.dtype.kind in "iu" else np.asarray(y, dtype=spec["dtype"])
    return x, y


def _further_input(spec, v):
    v = np.asarray(v)
    return v if v.dtype == bool else np.asarray(v, dtype=spec["dtype"])


def dropout_layers(spec):
    """The indices of the Dropout layers, the order their masks come in."""
    return [i for i, layer in enumerate(spec["layers"]) if layer["kind"] == "Dropout"]
