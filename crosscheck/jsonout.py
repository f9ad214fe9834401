"""The one way the commands write JSON: strict (``allow_nan=False``: NaN and ±inf are
written as the strings "NaN", "Infinity", "-Infinity", which every JSON parser reads),
NumPy arrays as lists and NumPy numbers as numbers."""

import json
import math

import numpy as np


def plain(obj):
    """``obj`` with every NumPy value made plain and every non-finite float a string."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return plain(obj.tolist())
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return plain(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return "NaN" if math.isnan(obj) else ("Infinity" if obj > 0 else "-Infinity")
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return repr(obj)


def dumps(obj):
    return json.dumps(plain(obj), indent=1, allow_nan=False, ensure_ascii=False)


def dump(obj, out):
    out.write(dumps(obj) + "\n")
