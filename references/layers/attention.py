"""Attention: ``F.scaled_dot_product_attention`` and ``nn.MultiheadAttention(batch_first=True)``
(query = key = value = x, ``need_weights=False``) holding the given projections; in JAX, an
einsum and ``jax.nn.softmax`` with -inf where masked, under jnp's projections for
MultiheadAttention (``jax.nn.dot_product_attention`` takes its softmax in float32 whatever the
dtype, so it cannot stand for float64).

Masks: ``key_padding_mask`` (N, Tk) bool, True = ignore that key (torch's convention); causal:
key j is hidden from query i when j > i (torch's top-left ``is_causal``)."""

import math

import numpy as np

KINDS = ("ScaledDotProductAttention", "MultiheadAttention")
PROJECTIONS = ("q", "k", "v")


def params(layer):
    if layer["kind"] == "ScaledDotProductAttention":
        return {}
    E = layer["embed_dim"]
    shapes = {f"W_{n}": (E, E) for n in (*PROJECTIONS, "o")}
    if layer["bias"]:
        shapes.update({f"b_{n}": (E,) for n in (*PROJECTIONS, "o")})
    return shapes


def buffers(layer):
    return {}


def _inputs(x, count):
    """x alone, or a tuple of up to ``count`` inputs, padded with None."""
    given = tuple(x) if isinstance(x, (tuple, list)) else (x,)
    return given + (None,) * (count - len(given))


def _given(inputs):
    """A module's forward arguments: the inputs one by one, or one tuple (inside a Sequential)."""
    return inputs if len(inputs) > 1 else inputs[0]


def torch_module(layer, params, buffers, dtype):
    import torch
    import torch.nn.functional as F
    from torch import nn

    causal = layer["causal"]

    if layer["kind"] == "ScaledDotProductAttention":

        class Attention(nn.Module):
            def forward(self, *inputs):
                q, k, v, pad = _inputs(_given(inputs), 4)
                if pad is None:
                    return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
                # a bool attn_mask is True where a query may look; is_causal cannot be given beside it
                keep = ~pad.reshape(pad.shape[0], *(1,) * (q.ndim - 2), pad.shape[1])
                if causal:
                    keep = keep & torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril()
                return F.scaled_dot_product_attention(q, k, v, attn_mask=keep)

        return Attention()

    E, H = layer["embed_dim"], layer["num_heads"]
    mha = nn.MultiheadAttention(E, H, bias=layer["bias"], batch_first=True, dtype=dtype)
    with torch.no_grad():
        w = np.concatenate([params[f"W_{n}"].T for n in PROJECTIONS])
        mha.in_proj_weight.copy_(torch.from_numpy(np.ascontiguousarray(w)))
        mha.out_proj.weight.copy_(torch.from_numpy(np.ascontiguousarray(params["W_o"].T)))
        if layer["bias"]:
            mha.in_proj_bias.copy_(torch.from_numpy(np.concatenate([params[f"b_{n}"] for n in PROJECTIONS])))
            mha.out_proj.bias.copy_(torch.from_numpy(params["b_o"]))

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = mha

        def forward(self, *inputs):
            x, pad = _inputs(_given(inputs), 2)
            T = x.shape[1]
            mask = torch.ones(T, T, dtype=torch.bool).triu(1) if causal else None  # True = not allowed
            out, _ = self.mha(
                x, x, x, key_padding_mask=pad, need_weights=False, attn_mask=mask, is_causal=causal
            )
            return out

    return SelfAttention()


def torch_state(layer, module):
    if layer["kind"] == "ScaledDotProductAttention":
        return {}, {}
    return _read(layer, module, lambda p: p.grad), {}


def torch_params(layer, module):
    if layer["kind"] == "ScaledDotProductAttention":
        return {}
    return _read(layer, module, lambda p: p.detach())


def _read(layer, module, of):
    E = layer["embed_dim"]
    mha = module.mha
    w = of(mha.in_proj_weight).numpy()
    out = {f"W_{n}": w[i * E : (i + 1) * E].T.copy() for i, n in enumerate(PROJECTIONS)}
    out["W_o"] = of(mha.out_proj.weight).numpy().T.copy()
    if layer["bias"]:
        b = of(mha.in_proj_bias).numpy()
        out.update({f"b_{n}": b[i * E : (i + 1) * E].copy() for i, n in enumerate(PROJECTIONS)})
        out["b_o"] = of(mha.out_proj.bias).numpy().copy()
    return out


def torch_buffers(layer, module):
    return {}


def _jax_attention(q, k, v, pad, causal):
    """softmax(q kᵀ / √d) v with -inf where hidden, over q (N, ..., Tq, d), k, v (N, ..., Tk, ·)."""
    import jax
    import jax.numpy as jnp

    scores = jnp.einsum("...id,...jd->...ij", q, k) / math.sqrt(q.shape[-1])
    hidden = jnp.zeros(scores.shape, bool)
    if pad is not None:
        hidden = hidden | pad.reshape(pad.shape[0], *(1,) * (q.ndim - 2), pad.shape[1])
    if causal:
        hidden = hidden | jnp.triu(jnp.ones((q.shape[-2], k.shape[-2]), bool), 1)
    weights = jax.nn.softmax(jnp.where(hidden, -jnp.inf, scores), axis=-1)
    return jnp.einsum("...ij,...jd->...id", weights, v)


def jax_apply(layer, params, buffers, x, train, mask):
    causal = layer["causal"]
    if layer["kind"] == "ScaledDotProductAttention":
        q, k, v, pad = _inputs(x, 4)
        return _jax_attention(q, k, v, pad, causal), {}
    xin, pad = _inputs(x, 2)
    N, T, E = xin.shape
    H = layer["num_heads"]

    def project(name):
        z = xin @ params[f"W_{name}"]
        return z + params[f"b_{name}"] if layer["bias"] else z

    # (N, T, E) → (N, H, T, E/H), head h the columns h·E/H … (h+1)·E/H
    q, k, v = (project(n).reshape(N, T, H, E // H).transpose(0, 2, 1, 3) for n in PROJECTIONS)
    a = _jax_attention(q, k, v, pad, causal).transpose(0, 2, 1, 3).reshape(N, T, E)
    out = a @ params["W_o"]
    return (out + params["b_o"] if layer["bias"] else out), {}
