"""RNN and LSTM: ``nn.RNN`` / ``nn.LSTM(batch_first=True)`` holding the transposed weights
(weight_ih_l0 = W_ih.T, weight_hh_l0 = W_hh.T), and in JAX a cell of jnp scanned over time
with ``jax.lax.scan``. Both return the full sequence of hidden states (N, T, H), torch's
``output``; x may be a tuple ``(x, h0)`` / ``(x, h0, c0)`` with the states (N, H)."""

import numpy as np

KINDS = ("RNN", "LSTM")


def _gates(layer):
    return 4 if layer["kind"] == "LSTM" else 1


def params(layer):
    width = _gates(layer) * layer["hidden_size"]
    return {
        "W_ih": (layer["input_size"], width),
        "W_hh": (layer["hidden_size"], width),
        "b_ih": (width,),
        "b_hh": (width,),
    }


def buffers(layer):
    return {}


TORCH_NAMES = {"W_ih": "weight_ih_l0", "W_hh": "weight_hh_l0", "b_ih": "bias_ih_l0", "b_hh": "bias_hh_l0"}


def torch_module(layer, params, buffers, dtype):
    import torch
    from torch import nn

    class Recurrent(nn.Module):
        """torch's module, called with x or (x, h0[, c0]) of this package's shapes, returning only
        ``output``: its states are (num_layers = 1, N, H), and an LSTM takes h0 and c0 together."""

        def __init__(self):
            super().__init__()
            if layer["kind"] == "LSTM":
                self.rnn = nn.LSTM(layer["input_size"], layer["hidden_size"], batch_first=True, dtype=dtype)
            else:
                self.rnn = nn.RNN(
                    layer["input_size"],
                    layer["hidden_size"],
                    nonlinearity=layer["nonlinearity"],
                    batch_first=True,
                    dtype=dtype,
                )

        def forward(self, x, *states):
            if not states:
                return self.rnn(x)[0]
            states = [s.unsqueeze(0) for s in states]
            if layer["kind"] == "LSTM":
                if len(states) == 1:
                    states.append(torch.zeros_like(states[0]))
                return self.rnn(x, tuple(states))[0]
            return self.rnn(x, states[0])[0]

    m = Recurrent()
    with torch.no_grad():
        for k, name in TORCH_NAMES.items():
            value = params[k].T if k.startswith("W") else params[k]
            getattr(m.rnn, name).copy_(torch.from_numpy(np.ascontiguousarray(value)))
    return m


def _plain(tensors):
    return {k: (t.T if k.startswith("W") else t).numpy().copy() for k, t in tensors.items()}


def torch_state(layer, module):
    return _plain({k: getattr(module.rnn, name).grad for k, name in TORCH_NAMES.items()}), {}


def torch_params(layer, module):
    return _plain({k: getattr(module.rnn, name).detach() for k, name in TORCH_NAMES.items()})


def torch_buffers(layer, module):
    return {}


def jax_apply(layer, params, buffers, x, train, mask):
    import jax
    import jax.numpy as jnp

    x, *states = x if isinstance(x, tuple) else (x,)
    n, H = x.shape[0], layer["hidden_size"]
    zero = jnp.zeros((n, H), x.dtype)
    h0 = states[0] if len(states) > 0 else zero
    c0 = states[1] if len(states) > 1 else zero
    W_ih, W_hh, b_ih, b_hh = params["W_ih"], params["W_hh"], params["b_ih"], params["b_hh"]
    act = jnp.tanh if layer.get("nonlinearity", "tanh") == "tanh" else jax.nn.relu

    def rnn_cell(h, x_t):
        h = act(x_t @ W_ih + b_ih + h @ W_hh + b_hh)
        return h, h

    def lstm_cell(carry, x_t):
        h, c = carry
        z = x_t @ W_ih + b_ih + h @ W_hh + b_hh
        i = jax.nn.sigmoid(z[:, :H])
        f = jax.nn.sigmoid(z[:, H : 2 * H])
        g = jnp.tanh(z[:, 2 * H : 3 * H])
        o = jax.nn.sigmoid(z[:, 3 * H :])
        c = f * c + i * g
        h = o * jnp.tanh(c)
        return (h, c), h

    steps = jnp.swapaxes(x, 0, 1)  # scan runs over the leading axis: time
    if layer["kind"] == "LSTM":
        _, hs = jax.lax.scan(lstm_cell, (h0, c0), steps)
    else:
        _, hs = jax.lax.scan(rnn_cell, h0, steps)
    return jnp.swapaxes(hs, 0, 1), {}
