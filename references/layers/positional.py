"""PositionalEmbedding: a learned (num_positions, dim) table whose first T rows are added
to x (N, T, dim), as GPT-2 adds ``wpe``; in torch an ``nn.Parameter`` in a small module."""

KINDS = ("PositionalEmbedding",)


def params(layer):
    return {"W": (layer["num_positions"], layer["embedding_dim"])}


def buffers(layer):
    return {}


def torch_module(layer, params, buffers, dtype):
    import torch
    from torch import nn

    class Positions(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.from_numpy(params["W"].copy()).to(dtype))

        def forward(self, x):
            return x + self.weight[: x.shape[1]]

    return Positions()


def torch_state(layer, module):
    return {"W": module.weight.grad.numpy().copy()}, {}


def torch_params(layer, module):
    return {"W": module.weight.detach().numpy().copy()}


def torch_buffers(layer, module):
    return {}


def jax_apply(layer, params, buffers, x, train, mask):
    return x + params["W"][: x.shape[1]], {}
