"""Each layer kind's forward + backward, and the names model's training step, the engine
beside PyTorch eager and ``jax.jit``; report.py prints the ratios.

    layer      one timed call: forward in train mode, then backward with a fixed upstream gradient
    manual     layer.forward(params, x, train=True, ...) and layer.backward(dout, cache)
    torch      the kind's own nn.Module (references.layers), out = m(x), out.backward(dout)
               (nn.Dropout draws its own mask); torch-1thread: the same on one intra-op thread
               (large size only: NumPy's elementwise calls use one core, torch's both)
    jax        jax.jit of jax.vjp of the kind's jnp form (a jax.random mask for Dropout)

    names step one SGD step of the makemore-style model (crosscheck.makemore) on a batch of 32
    manual     manual.Trainer(net, SGD(0.1)).step(x, y), inputs checked as a user's loop does
    floor      the same step as straight-line NumPy (floor.MakemoreStep): the fastest NumPy can do it
    torch      zero_grad, forward, F.cross_entropy, backward, torch.optim.SGD.step
    jax        jax.jit(value_and_grad) then optax's update, params fed back

Sizes: "makemore" (batch 32, width 200: the names model's) and "large" (batch 4,096,
width 1,024). Under --benchmark-disable (nox -s tests) the makemore size runs once.
"""

import contextlib
import functools

import numpy as np
import pytest

import manual
from crosscheck import makemore
from references import jax_ref, torch_ref
from references.layers import module as reference_module

from . import backends
from .floor import MakemoreStep
from .memory import peak_bytes

SIZES = {"makemore": (32, 200), "large": (4096, 1024)}
KINDS = ("Linear", "BatchNorm1d", "LayerNorm", "Tanh", "GELU", "SiLU", "Dropout", "Embedding")
LAYER_BACKENDS = ("manual", "torch", "torch-1thread", "jax")
STEP_BACKENDS = ("manual", "floor", "torch", "jax")


def layer_case(kind, size):
    """``(layer, params, x, dout)`` in float64 for a kind at a size."""
    batch, width = SIZES[size]
    rng = np.random.default_rng(0)
    layer = {
        "Linear": lambda: manual.Linear(30 if size == "makemore" else width, width),
        "BatchNorm1d": lambda: manual.BatchNorm1d(width),
        "LayerNorm": lambda: manual.LayerNorm(width),
        "Tanh": manual.Tanh,
        "GELU": manual.GELU,
        "SiLU": manual.SiLU,
        "Dropout": lambda: manual.Dropout(0.1),
        "Embedding": lambda: manual.Embedding(
            27 if size == "makemore" else width, 10 if size == "makemore" else width
        ),
    }[kind]()
    params = layer.init_params(rng, np.float64)
    if kind == "Embedding":
        x = rng.integers(0, layer.num_embeddings, (batch, 3) if size == "makemore" else (batch,))
    else:
        x = rng.standard_normal((batch, layer.in_features if kind == "Linear" else width))
    out, _ = layer.forward(
        params, x, train=True, rng=np.random.default_rng(1), buffers=layer.init_buffers(np.float64)
    )
    return layer, params, x, rng.standard_normal(out.shape)


def layer_fn(kind, size, backend):
    """A function of no arguments running the layer's forward + backward."""
    return timed_layer(*layer_case(kind, size), backend)


def timed_layer(layer, params, x, dout, backend):
    """A function of no arguments running ``layer``'s forward + backward in ``backend``."""
    kind = layer.kind
    spec = {"kind": layer.kind, **layer.config()}
    if backend == "manual":
        buffers = layer.init_buffers(np.float64)
        rng = np.random.default_rng(2)

        def run():
            out, cache = layer.forward(params, x, train=True, rng=rng, buffers=buffers)
            return layer.backward(dout, cache)

        return run
    if backend.startswith("torch"):
        import torch

        m = (
            torch.nn.Dropout(layer.p)
            if kind == "Dropout"
            else reference_module(spec).torch_module(
                spec, params, layer.init_buffers(np.float64), torch.float64
            )
        )
        m.train()
        xt = torch.from_numpy(x)
        floats = xt.is_floating_point()
        gt = torch.from_numpy(dout)

        def run():
            xin = xt.detach().requires_grad_(floats)
            for p in m.parameters():
                p.grad = None
            out = m(xin)
            out.backward(gt)
            return xin.grad

        return run
    import jax

    jax_ref._require()
    with jax_ref.x64(np.float64):
        jparams = jax_ref.to_jax(params)
        jbuffers = jax_ref.to_jax(layer.init_buffers(np.float64))
        jx, jd = jax.device_put(x), jax.device_put(dout)
        form = reference_module(spec)

        def f(p, xin, key):
            mask = jax.random.bernoulli(key, 1 - layer.p, xin.shape) if kind == "Dropout" else None
            return form.jax_apply(spec, p, jbuffers, xin, True, mask)[0]

        # x and dout are arguments, not closed-over constants XLA could fold the whole vjp into
        if np.asarray(x).dtype.kind in "iu":  # indices: no gradient
            step = jax.jit(lambda p, xin, d, key: jax.vjp(lambda q: f(q, xin, key), p)[1](d))
        else:
            step = jax.jit(lambda p, xin, d, key: jax.vjp(lambda q, xi: f(q, xi, key), p, xin)[1](d))
        key = jax.random.PRNGKey(0)
        fn = lambda: jax.block_until_ready(step(jparams, jx, jd, key))  # noqa: E731
        return fn


@pytest.mark.parametrize("backend", LAYER_BACKENDS)
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("kind", KINDS)
def test_layer(benchmark, kind, size, backend):
    backends.require(backend.split("-")[0])
    if benchmark.disabled and size != "makemore":
        pytest.skip("the large size: timed in nox -s benchmarks only")
    if backend == "torch-1thread" and size != "large":
        pytest.skip("one thread: what the large size's elementwise kernels cost without torch's second")
    fn = layer_fn(kind, size, backend)
    with (
        jax_ref.x64(np.float64)
        if backend == "jax"
        else _threads(1)
        if backend == "torch-1thread"
        else contextlib.nullcontext()
    ):
        fn()
        benchmark.group = f"layer {kind} {size}"
        benchmark.extra_info.update(op="layer", size=f"{kind} {size}", dtype="float64", backend=backend)
        benchmark(fn)


class _threads:
    """torch's intra-op threads set for the block (NumPy's elementwise calls run on one)."""

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        import torch

        self.before = torch.get_num_threads()
        torch.set_num_threads(self.n)

    def __exit__(self, *exc):
        import torch

        torch.set_num_threads(self.before)
        return False


# ------------------------------------------------------------------ the names model's step


@functools.cache
def names_batch():
    """``(net, x, y)``: the names model at its start and one batch of 32 (every caller copies the net)."""
    problem = makemore.load(makemore.Recipe())
    idx = np.random.default_rng(0).permutation(len(problem.x_train))[:32]
    return problem.net, problem.x_train[idx], problem.y_train[idx]


def step_fn(backend):
    net, x, y = names_batch()
    if backend == "manual":
        trainer = manual.Trainer(net.copy(), manual.SGD(lr=0.1))
        return lambda: trainer.step(x, y), trainer
    if backend == "floor":
        step = MakemoreStep(net.copy(), x, y, 0.1)
        return step, step
    if backend == "torch":
        import torch

        model, _, spec = torch_ref.sequential_model(net.spec(), net.params, net.buffers)
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)

        def torch_step():
            opt.zero_grad()
            loss = torch_ref.sequential_loss(spec, model(xt), yt)
            loss.backward()
            opt.step()
            return loss

        return torch_step, None
    import jax

    jax_ref._require()
    spec = jax_ref.check_sequential_spec(net.spec())
    tx, update = jax_ref._update_fn(jax_ref._items(manual.SGD(lr=0.1).config()))
    with jax_ref.x64(np.float64):
        grad_fn = jax_ref._sequential_grad(jax_ref._freeze(spec), True)
        state = [jax_ref.to_jax(net.params), jax_ref.to_jax(net.buffers)]
        opt = [tx.init(state[0])]
        jx, jy = jax.device_put(x), jax.device_put(y)

        def jax_step():
            (value, state[1]), grads = grad_fn(state[0], state[1], jx, jy, [])
            state[0], opt[0] = update(state[0], opt[0], grads)
            return jax.block_until_ready(value)

        return jax_step, None


@pytest.mark.parametrize("backend", STEP_BACKENDS)
def test_names_step(benchmark, backend):
    backends.require(backend if backend in ("torch", "jax") else "manual")
    fn, owner = step_fn(backend)
    with jax_ref.x64(np.float64) if backend == "jax" else contextlib.nullcontext():
        fn()
        benchmark.group = "names step"
        benchmark.extra_info.update(op="names-step", size="makemore", dtype="float64", backend=backend)
        if backend == "manual":
            net = owner.net
            outputs = net.trace(*names_batch()[1:]).outputs
            benchmark.extra_info["step_peak_bytes"] = peak_bytes(fn)
            benchmark.extra_info["activations_bytes"] = int(sum(o.nbytes for o in outputs))
            benchmark.extra_info["grads_bytes"] = int(
                sum(g.nbytes for layer in owner.grads for g in layer.values())
            )
        benchmark(fn)
