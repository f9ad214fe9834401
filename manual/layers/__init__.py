"""The layer kinds, one module each, and ``KINDS``: kind name -> class, so that a
layer's plain description ``{"kind": ..., **config}`` rebuilds it (``from_config``)."""

import inspect

from .activation import GELU, Identity, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Tanh
from .attention import MultiheadAttention, ScaledDotProductAttention
from .base import Layer, describe
from .batchnorm import BatchNorm1d, BatchNorm2d
from .conv import Conv2d
from .dropout import Dropout
from .embedding import Embedding
from .flatten import Flatten
from .groupnorm import GroupNorm
from .layernorm import LayerNorm
from .linear import Linear
from .pool import AvgPool2d, MaxPool2d
from .positional import PositionalEmbedding
from .recurrent import LSTM, RNN
from .residual import Residual

KINDS = {
    cls.kind: cls
    for cls in (
        Linear, Sigmoid, Tanh, ReLU, LeakyReLU, Identity, Softmax, LogSoftmax, GELU, SiLU,
        BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm, Dropout, Embedding, PositionalEmbedding, Flatten,
        MaxPool2d, AvgPool2d, Conv2d, RNN, LSTM, ScaledDotProductAttention, MultiheadAttention, Residual,
    )
}  # fmt: skip


def from_config(data):
    """The layer ``describe`` described; ValueError for an unknown kind or bad arguments."""
    if not isinstance(data, dict) or "kind" not in data:
        raise ValueError(f"layer: expected a dict with a 'kind', got {data!r}")
    kind = data["kind"]
    if kind not in KINDS:
        raise ValueError(f"unknown layer kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    args = {k: v for k, v in data.items() if k != "kind"}
    known = [n for n in inspect.signature(KINDS[kind]).parameters]
    unknown = sorted(set(args) - set(known))
    if unknown:
        raise ValueError(f"layer {kind}: unknown argument {unknown[0]!r}; {kind} takes {known or 'none'}")
    if getattr(KINDS[kind], "takes_layers", False) and isinstance(args.get("layers"), (list, tuple)):
        args["layers"] = [
            from_config(inner) if isinstance(inner, dict) else inner for inner in args["layers"]
        ]
    try:
        return KINDS[kind](**args)
    except TypeError as err:
        raise ValueError(f"layer {kind}: {err}") from None


__all__ = ["KINDS", "Layer", "describe", "from_config", *KINDS]
