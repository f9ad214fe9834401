"""Embedding: ``nn.Embedding`` (weight (num, dim) = W) and ``jnp.take`` in JAX; PositionalEmbedding:
x plus ``nn.Embedding(max_len, dim)`` of ``torch.arange(T)`` (GPT's ``wpe``), and x + W[arange(T)]."""

KINDS = ("Embedding", "PositionalEmbedding")


def params(layer):
    if layer["kind"] == "PositionalEmbedding":
        return {"W": (layer["max_len"], layer["dim"])}
    return {"W": (layer["num_embeddings"], layer["embedding_dim"])}


def buffers(layer):
    return {}


def torch_module(layer, params, buffers, dtype):
    import torch
    from torch import nn

    m = nn.Embedding(*params["W"].shape, dtype=dtype)
    with torch.no_grad():
        m.weight.copy_(torch.from_numpy(params["W"]))
    if layer["kind"] == "Embedding":
        return m

    class Positions(nn.Module):
        def __init__(self):
            super().__init__()
            self.table = m

        def forward(self, x):
            return x + self.table(torch.arange(x.shape[1]))

        @property
        def weight(self):
            return self.table.weight

    return Positions()


def torch_state(layer, module):
    return {"W": module.weight.grad.numpy().copy()}, {}


def torch_params(layer, module):
    return {"W": module.weight.detach().numpy().copy()}


def jax_apply(layer, params, buffers, x, train, mask):
    import jax.numpy as jnp

    if layer["kind"] == "PositionalEmbedding":
        return x + jnp.take(params["W"], jnp.arange(x.shape[1]), axis=0), {}
    return jnp.take(params["W"], x, axis=0), {}


def torch_buffers(layer, module):
    return {}
