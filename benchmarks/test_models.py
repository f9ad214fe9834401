"""The spatial and sequence layers at the sizes of issue 19, and the training steps of the
models they build, the engine beside PyTorch eager and ``jax.jit``; report.py prints the ratios.

    layer        one forward (train mode) + backward with a fixed upstream gradient, as
                 test_layers.py times it (op "layer": the same table)
                 Conv2d digits: the digits CNN's second conv, batch 32, 8 → 16 channels, 4×4, 3×3 pad 1
                 Conv2d large: batch 64, 64 → 64 channels, 32×32, 3×3 pad 1
                 MaxPool2d large: batch 64, 64 channels, 32×32, 2×2
                 LSTM names: batch 32, T 16, 16 → 64 (the names LSTM's)
                 MultiheadAttention small: batch 32, T 16, d 64, 4 heads, causal
                 MultiheadAttention long: batch 8, T 256, d 256, 8 heads, causal

    model step   op "model-step"
                 digits-cnn epoch: one epoch of the digits CNN (1,347 images in batches of 32, SGD
                     with momentum): manual.Trainer.step per batch; torch eager; jax.jit + optax
                 names-lstm step: one Adam step of the names LSTM (batch 32, T 16)
                     manual: Trainer.step; torch: nn.LSTM (cuDNN-style fused kernel on CPU);
                     torch-explicit: the same cell written as per-step torch ops, autograd through them;
                     jax: jax.jit(value_and_grad) of a lax.scan, optax's update

Under --benchmark-disable (nox -s tests) each runs once, the large sizes skipped.
"""

import contextlib
import functools

import numpy as np
import pytest

import manual
from crosscheck import cnn, sequences
from crosscheck.backends import batch_indices
from references import jax_ref, torch_ref

from . import backends
from .memory import peak_bytes
from .test_layers import LAYER_BACKENDS, _threads, timed_layer

LARGE = ("Conv2d large", "MaxPool2d large", "MultiheadAttention long")


def _layer(kind, size):
    """``(layer, x shape)`` of a benchmarked size."""
    return {
        "Conv2d digits": (manual.Conv2d(8, 16, 3, padding=1), (32, 8, 4, 4)),
        "Conv2d large": (manual.Conv2d(64, 64, 3, padding=1), (64, 64, 32, 32)),
        "MaxPool2d large": (manual.MaxPool2d(2), (64, 64, 32, 32)),
        "LSTM names": (manual.LSTM(16, 64), (32, 16, 16)),
        "MultiheadAttention small": (manual.MultiheadAttention(64, 4, causal=True), (32, 16, 64)),
        "MultiheadAttention long": (manual.MultiheadAttention(256, 8, causal=True), (8, 256, 256)),
    }[f"{kind} {size}"]


SIZES = ["Conv2d digits", "Conv2d large", "MaxPool2d large", "LSTM names", "MultiheadAttention small",
         "MultiheadAttention long"]  # fmt: skip


def layer_case(name):
    layer, shape = _layer(*name.split())
    rng = np.random.default_rng(0)
    params = layer.init_params(rng, np.float64)
    x = rng.standard_normal(shape)
    out, _ = layer.forward(params, x, train=True, buffers={})
    return layer, params, x, rng.standard_normal(out.shape)


@pytest.mark.parametrize("backend", LAYER_BACKENDS)
@pytest.mark.parametrize("name", SIZES)
def test_layer(benchmark, name, backend):
    backends.require(backend.split("-")[0])
    if benchmark.disabled and name in LARGE:
        pytest.skip("a large size: timed in nox -s benchmarks only")
    if backend == "torch-1thread" and name not in LARGE:
        pytest.skip("one thread: what the large sizes cost without torch's second")
    fn = timed_layer(*layer_case(name), backend)
    with (
        jax_ref.x64(np.float64)
        if backend == "jax"
        else _threads(1)
        if backend == "torch-1thread"
        else contextlib.nullcontext()
    ):
        fn()
        benchmark.group = f"layer {name}"
        benchmark.extra_info.update(op="layer", size=name, dtype="float64", backend=backend)
        benchmark(fn)


# ------------------------------------------------------------------ the models' steps


@functools.cache
def cnn_problem():
    return cnn.load()


@functools.cache
def lstm_batch():
    problem = sequences.load(sequences.Recipe(model="lstm"))
    idx = np.random.default_rng(0).permutation(len(problem.x_train))[:32]
    return problem.net, problem.x_train[idx], problem.y_train[idx]


class ExplicitLSTM:
    """The LSTM cell as per-step torch ops (gates i, f, g, o), autograd through them: what
    the engine's loop does, in torch; built as an nn.Module by ``module``."""

    @staticmethod
    def module(lstm_params, dtype):
        import torch
        from torch import nn

        class Cell(nn.Module):
            def __init__(self):
                super().__init__()
                for k, v in lstm_params.items():
                    setattr(self, k, nn.Parameter(torch.from_numpy(v.copy()).to(dtype)))

            def forward(self, x):
                n, t, _ = x.shape
                hidden = self.W_hh.shape[0]
                h = x.new_zeros(n, hidden)
                c = x.new_zeros(n, hidden)
                proj = x @ self.W_ih + self.b_ih + self.b_hh
                out = []
                for step in range(t):
                    z = proj[:, step] + h @ self.W_hh
                    i, f, g, o = z.chunk(4, dim=1)
                    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                    h = torch.sigmoid(o) * torch.tanh(c)
                    out.append(h)
                return torch.stack(out, dim=1)

        return Cell()


def step_fn(backend, net, x, y, optimizer, batches):
    """A function of no arguments running ``optimizer``'s step over ``batches`` (index arrays)."""
    if backend == "manual":
        trainer = manual.Trainer(net.copy(), optimizer)
        return lambda: [trainer.step(x[i], y[i]) for i in batches], trainer
    if backend.startswith("torch"):
        import torch

        model, _, spec = torch_ref.sequential_model(net.spec(), net.params, net.buffers)
        if backend == "torch-explicit":
            index = next(i for i, layer in enumerate(net.layers) if layer.kind == "LSTM")
            model[index] = ExplicitLSTM.module(net.params[index], torch.float64)
        model.train()
        opt = torch_ref._torch_optimizer(optimizer.config(), model.parameters())
        xs = [torch.from_numpy(x[i]) for i in batches]
        ys = [torch.from_numpy(y[i]) for i in batches]

        def torch_steps():
            for xt, yt in zip(xs, ys):
                opt.zero_grad()
                loss = torch_ref.sequential_loss(spec, model(xt), yt)
                loss.backward()
                opt.step()
            return loss

        return torch_steps, None
    import jax

    jax_ref._require()
    spec = jax_ref.check_sequential_spec(net.spec())
    tx, update = jax_ref._update_fn(jax_ref._items(optimizer.config()))
    with jax_ref.x64(np.float64):
        grad_fn = jax_ref._sequential_grad(jax_ref._freeze(spec), True)
        state = [jax_ref.to_jax(net.params), jax_ref.to_jax(net.buffers)]
        opt = [tx.init(state[0])]
        data = [(jax.device_put(x[i]), jax.device_put(y[i])) for i in batches]

        def jax_steps():
            for jx, jy in data:
                (value, state[1]), grads = grad_fn(state[0], state[1], jx, jy, [])
                state[0], opt[0] = update(state[0], opt[0], grads)
            return jax.block_until_ready(value)

        return jax_steps, None


MODELS = {
    "digits-cnn epoch": ("manual", "torch", "jax"),
    "names-lstm step": ("manual", "torch", "torch-explicit", "jax"),
}


def model_case(name):
    """``(net, x, y, optimizer, batches)``."""
    if name == "digits-cnn epoch":
        p = cnn_problem()
        batches = batch_indices(len(p.x_train), 1, p.recipe.batch_size, p.recipe.shuffle_seed)
        return p.net, p.x_train, p.y_train, p.optimizer, batches
    net, x, y = lstm_batch()
    return net, x, y, manual.Adam(lr=3e-3), [np.arange(len(x))]


@pytest.mark.parametrize("name,backend", [(m, b) for m, bs in MODELS.items() for b in bs])
def test_model_step(benchmark, name, backend):
    backends.require(backend.split("-")[0])
    net, x, y, optimizer, batches = model_case(name)
    fn, trainer = step_fn(backend, net, x, y, optimizer, batches)
    with jax_ref.x64(np.float64) if backend == "jax" else contextlib.nullcontext():
        fn()
        benchmark.group = f"model {name}"
        benchmark.extra_info.update(op="model-step", size=name, dtype="float64", backend=backend)
        if backend == "manual" and name == "names-lstm step":
            outputs = trainer.net.trace(x, y).outputs
            benchmark.extra_info["step_peak_bytes"] = peak_bytes(fn)
            benchmark.extra_info["activations_bytes"] = int(sum(o.nbytes for o in outputs))
            benchmark.extra_info["grads_bytes"] = int(
                sum(g.nbytes for layer in trainer.grads for g in layer.values())
            )
        benchmark(fn)
