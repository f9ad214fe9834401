"""Input validation: every public entry point checks its arguments here
before it touches any state, so a call that fails changes nothing.

Messages say what was expected and what was received.
"""

import difflib
import math
import numbers

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_choice(kind, value, valid):
    """Return ``value`` if it is one of ``valid`` names, else raise ValueError listing them."""
    if isinstance(value, str) and value in valid:
        return value
    names = ", ".join(repr(v) for v in sorted(valid))
    hint = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value, list(valid), n=1)
        if close:
            hint = f" (did you mean {close[0]!r}?)"
    raise ValueError(f"unknown {kind} {value!r}{hint}; valid: {names}")


def check_dtype(dtype):
    """float32 or float64 as a np.dtype; TypeError for anything else."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    # (np.dtype compares equal to None, which it reads as float64: test it first)
    if dt is None or dt not in FLOAT_DTYPES:
        raise TypeError(f"dtype: expected float32 or float64, got {dtype!r}")
    return dt


def check_sizes(sizes):
    """A list of >= 2 positive ints: [n_in, hidden..., n_out]."""
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"sizes: expected a list of layer widths like [2, 2, 1], got {sizes!r}")
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes: expected at least 2 widths (inputs and outputs), got {sizes!r}")
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1:
            raise ValueError(f"sizes: expected positive integers, got {sizes!r}")
    return tuple(int(s) for s in sizes)


def as_array(name, value, dtype):
    """``value`` as an ndarray of ``dtype`` without copying it when it already is one.

    Lists and integer arrays are converted (exactly, for the integers the
    examples use). A float array of the other precision is refused rather
    than silently up- or down-cast.
    """
    if type(value) is np.ndarray and value.dtype == dtype:
        return value
    if isinstance(value, np.ndarray) or hasattr(value, "__array__"):
        arr = np.asarray(value)
    else:
        try:
            arr = np.asarray(value, dtype=dtype)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name}: expected an array of numbers, got {value!r} ({err})") from None
    kind = arr.dtype.kind
    if kind == "f":
        if arr.dtype != dtype:
            raise TypeError(
                f"{name}: expected dtype {dtype.name} (the net's dtype), got {arr.dtype.name}; "
                f"convert it explicitly with .astype(np.{dtype.name})"
            )
        return arr
    if kind in "biu":
        return arr.astype(dtype)
    raise TypeError(f"{name}: expected a float or integer array, got dtype {arr.dtype}")


def check_finite(name, arr):
    # Σ arr² is finite exactly when every entry is, unless it overflows: np.vdot
    # neither warns nor allocates (np.isfinite would build a boolean copy of a
    # 100,000-sample batch, np.errstate costs more than the sum); only then is
    # the array searched entry by entry for the culprit
    if math.isfinite(np.vdot(arr, arr)):
        return
    bad = np.argwhere(~np.isfinite(arr))
    if len(bad):
        raise ValueError(
            f"{name}: expected finite values, got {arr[tuple(bad[0])]} "
            f"at index {tuple(int(i) for i in bad[0])}"
        )


def check_interval(lead, arr, low, high, closed=False):
    """ValueError naming the first entry of ``arr`` outside [low, high) ([low, high] if
    ``closed``): "<lead> in [low, high), got v at index i"."""
    # min and max first: they allocate nothing, where the comparisons would build boolean copies
    if arr.size == 0 or (arr.min() >= low and (arr.max() <= high if closed else arr.max() < high)):
        return
    bad = (arr < low) | ((arr > high) if closed else (arr >= high))
    at = tuple(int(i) for i in np.argwhere(bad)[0])
    raise ValueError(f"{lead} in [{low}, {high}{']' if closed else ')'}, got {arr[at]} at index {at}")


def check_seed(seed):
    """None or an int >= 0 (what np.random.default_rng takes as a plain seed)."""
    if seed is None:
        return None
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed: expected None or an int >= 0, got {seed!r} ({type(seed).__name__})")
    if seed < 0:
        raise ValueError(f"seed: expected None or an int >= 0, got {seed}")
    return int(seed)


def check_l2(l2):
    """A finite float >= 0 (the L2 penalty's coefficient, scikit-learn's alpha)."""
    if isinstance(l2, (bool, np.bool_)) or not isinstance(l2, numbers.Real):
        raise TypeError(f"l2: expected a number >= 0, got {l2!r} ({type(l2).__name__})")
    if not (math.isfinite(l2) and l2 >= 0):
        raise ValueError(f"l2: expected a finite number >= 0, got {l2}")
    return float(l2)


def check_x(x, n_in, dtype):
    """x as a (batch, n_in) array of dtype."""
    x = as_array("x", x, dtype)
    if x.ndim != 2 or x.shape[1] != n_in:
        hint = "; for a single sample use x[None, :]" if x.ndim == 1 and x.shape[0] == n_in else ""
        raise ValueError(
            f"x: expected shape (batch, {n_in}) ({n_in} features per row), got shape {x.shape}{hint}"
        )
    if x.shape[0] == 0:
        raise ValueError("x: expected at least one sample, got an empty batch")
    check_finite("x", x)
    return x


def check_y(y, batch, n_out, loss_name, dtype):
    """y as a (batch, n_out) array of dtype, with values the loss accepts."""
    y = as_array("y", y, dtype)
    if y.shape != (batch, n_out):
        hint = ""
        if y.ndim == 1 and y.shape[0] == batch and n_out == 1:
            hint = "; use y[:, None] for a column"
        elif y.ndim == 2 and y.shape[1] == n_out and y.shape[0] != batch:
            hint = f"; x has {batch} samples but y has {y.shape[0]}"
        elif loss_name == "cross_entropy" and y.ndim == 1:
            hint = f"; cross_entropy wants one-hot rows: np.eye({n_out})[labels]"
        raise ValueError(f"y: expected shape ({batch}, {n_out}), got shape {y.shape}{hint}")
    check_finite("y", y)
    if loss_name == "bce":
        check_interval("y: bce expects targets", y, 0, 1, closed=True)
    # one nonzero per row (count == rows, and every row sums to 1, so none is empty) equal to 1
    if loss_name == "cross_entropy" and not (np.count_nonzero(y) == len(y) and (y.sum(axis=1) == 1).all()):
        one_hot = ((y == 0) | (y == 1)).all(axis=1) & (y.sum(axis=1) == 1)
        row = int(np.argmin(one_hot))
        raise ValueError(
            f"y: cross_entropy expects one-hot rows (one 1, the rest 0), got {y[row]} in row {row}"
        )
    return y


def check_params(params, dtype=None):
    """Validate a list of {"W": (n_in, n_out), "b": (n_out,)} dicts and copy it.

    ``dtype=None`` takes the dtype of the arrays (float32 or float64, all the
    same); an explicit dtype converts them.
    Returns (params, sizes, dtype).
    """
    if isinstance(params, dict) or not isinstance(params, (list, tuple)) or not params:
        raise TypeError(
            f"params: expected a non-empty list of {{'W': ..., 'b': ...}} dicts, one per layer, "
            f"got {type(params).__name__}"
        )
    arrays = []
    for i, layer in enumerate(params, start=1):
        if not isinstance(layer, dict) or "W" not in layer:
            raise TypeError(
                f"params[{i - 1}] (layer {i}): expected a dict with key 'W' (and optionally 'b'), "
                f"got {layer!r}"
            )
        extra = set(layer) - {"W", "b"}
        if extra:
            raise ValueError(
                f"params[{i - 1}] (layer {i}): unexpected keys {sorted(extra)}; "
                "expected 'W' and optionally 'b'"
            )
        arrays.append({k: np.asarray(v) for k, v in layer.items()})

    if dtype is None:
        found = {a.dtype for layer in arrays for a in layer.values() if a.dtype.kind == "f"}
        if len(found) > 1:
            raise TypeError(
                f"params: expected one float dtype for every array, got {sorted(d.name for d in found)}; "
                "pass dtype= to convert"
            )
        dtype = found.pop() if found else np.dtype(np.float64)
    dtype = check_dtype(dtype)

    out = []
    sizes = []
    for i, layer in enumerate(arrays, start=1):
        W = layer["W"]
        if W.ndim != 2:
            raise ValueError(f"layer {i} W: expected a 2-D array (n_in, n_out), got shape {W.shape}")
        if sizes and W.shape[0] != sizes[-1]:
            raise ValueError(
                f"layer {i} W: shapes do not chain: layer {i - 1} outputs {sizes[-1]} units, "
                f"so W should have shape ({sizes[-1]}, n_out), got {W.shape}"
            )
        if not sizes:
            sizes.append(W.shape[0])
        sizes.append(W.shape[1])
        new = {"W": _own(f"layer {i} W", W, dtype)}
        if "b" in layer:
            b = layer["b"]
            if b.shape != (W.shape[1],):
                raise ValueError(
                    f"layer {i} b: expected shape ({W.shape[1]},) to match W {W.shape}, got {b.shape}"
                )
            new["b"] = _own(f"layer {i} b", b, dtype)
        out.append(new)
    check_sizes(sizes)
    return out, tuple(sizes), dtype


def _own(name, arr, dtype):
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected a float array, got dtype {arr.dtype}")
    copy = np.array(arr, dtype=dtype, order="C", copy=True)
    check_finite(name, copy)
    return copy
