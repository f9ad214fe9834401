"""A net's description as plain data (``net.spec()``), and the one function that
builds a net from it: ``from_spec(spec, params, buffers=None)``.

    MLP          {"kind": "MLP", "sizes", "activations", "loss", "reduction", "bias", "dtype", "l2"}
    Sequential   {"kind": "Sequential", "layers": [{"kind": "Linear", ...}, ...], "loss", "reduction",
                  "dtype"}

A spec without "kind" is an MLP's (as every spec was before Sequential), and one
without "l2" has none. Checkpoints, ``MLP.with_params``, ``Ensemble.net`` and
the harness all rebuild nets here (each kind's ``from_spec`` reads every field
of its spec), so none of them can drop one.
"""

from .mlp import MLP, MLP_KEYS
from .sequential import SEQUENTIAL_KEYS, Sequential


def normalize(spec):
    """The spec with its kind and defaults filled in, its keys checked; ValueError if it is no spec."""
    if not isinstance(spec, dict):
        raise TypeError(f"spec: expected a dict (net.spec()), got {type(spec).__name__}")
    kind = spec.get("kind", "MLP")
    keys = {"MLP": MLP_KEYS, "Sequential": SEQUENTIAL_KEYS}.get(kind)
    if keys is None:
        raise ValueError(f"spec: unknown kind {kind!r}; expected 'MLP' or 'Sequential'")
    full = {"kind": kind, **({"l2": 0.0} if kind == "MLP" else {}), **spec}
    if set(full) != {"kind", *keys}:
        raise ValueError(f"spec: a {kind} spec has keys {sorted(keys)} (and 'kind'), got {sorted(spec)}")
    return full


def from_spec(spec, params, buffers=None):
    """The net ``spec`` describes, holding a copy of ``params`` (and, for a Sequential, of
    ``buffers``, default the layers' fresh ones), in the spec's dtype; ValueError when the
    arrays do not fit the spec (a bias the spec does not have, another width)."""
    spec = normalize(spec)
    if spec["kind"] == "MLP":
        if buffers:
            raise ValueError("buffers: an MLP has none")
        return MLP.from_spec(spec, params)
    return Sequential.from_spec(spec, params, buffers)
