"""Embedding: ``nn.Embedding`` (weight (num, dim) = W) and ``jnp.take`` in JAX."""

KINDS = ("Embedding",)


def params(layer):
    return {"W": (layer["num_embeddings"], layer["embedding_dim"])}


def buffers(layer):
    return {}


def torch_module(layer, params, buffers, dtype):
    import torch
    from torch import nn

    m = nn.Embedding(layer["num_embeddings"], layer["embedding_dim"], dtype=dtype)
    with torch.no_grad():
        m.weight.copy_(torch.from_numpy(params["W"]))
    return m


def torch_state(layer, module):
    return {"W": module.weight.grad.numpy().copy()}, {}


def torch_params(layer, module):
    return {"W": module.weight.detach().numpy().copy()}


def jax_apply(layer, params, buffers, x, train, mask):
    import jax.numpy as jnp

    return jnp.take(params["W"], x, axis=0), {}


def torch_buffers(layer, module):
    return {}
