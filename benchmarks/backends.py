"""What each backend runs for each operation, set up once and warmed up.

``prepare(op, backend, case, dtype)`` returns a ``Prepared``: ``fn()`` does
one ``op`` and returns only when its result exists (JAX is asynchronous:
its calls block on their outputs), and ``context()`` is entered around the
whole timing loop, not per call (JAX's local float64 mode, torch.no_grad),
as a real loop would enter it once.

Every backend starts from the same ``cases.make_net`` params and the same
``cases.make_data`` arrays. ``fn`` has run once before ``prepare`` returns,
so no timing includes a JIT compile, a first-call allocation or a cold cache.

    forward         manual  net.forward(x)
                    torch   model(X), under torch.no_grad
                    jax     jax.jit(jax_ref.apply)(params, X)
    loss_and_grads  manual  net.loss_and_grads(x, y)
                    torch   torch_ref.loss_of + torch.autograd.grad, the model built once
                    jax     jax_ref.value_and_grad (jitted)
    step            manual  manual.Trainer(net, manual.SGD(lr)).step(x, y): a user's loop, inputs checked
                    torch   torch_ref.make_step: zero_grad, loss, backward, torch.optim.SGD.step
                    jax     jax_ref.make_step: jitted value_and_grad + optax.sgd, params fed back
    epoch           manual  manual.train(net, X, Y, manual.SGD(lr), epochs=1, batch_size=batch):
                            EPOCH_BATCHES batches in data order, everything train does per call
                    torch   the step above over the same batches
                    jax     the step above over the same batches

``manual-unchecked`` (step only) is ``Trainer.step(x, y, validate=False)``:
the step without its input checks, so the report can say what they cost.
``numpy-matmuls`` (step only) is ``roofline.MatmulKernel``: the step's
matrix products alone. ``numpy-floor`` (tiny step only) is
``floor.StraightLineStep``: the tiny step's NumPy calls with no structure.
"""

import contextlib
import functools
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass

import pytest

import manual
from references import jax_ref, torch_ref

from . import cases
from .floor import StraightLineStep
from .roofline import MatmulKernel

BACKENDS = ("manual", "torch", "jax")
STEP_BACKENDS = (*BACKENDS, "manual-unchecked", "numpy-matmuls")
EPOCH_BATCHES = 8


@dataclass
class Prepared:
    fn: Callable[[], object]
    context: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext


def prepare(op, backend, case, dtype):
    """``op`` on ``backend`` for a ``cases.Case`` and dtype name, warmed up."""
    net = cases.make_net(case, dtype)
    x, y = cases.make_data(case, dtype, batches=EPOCH_BATCHES if op == "epoch" else 1)
    build = {
        "manual": _manual,
        "manual-unchecked": _unchecked,
        "torch": _torch,
        "jax": _jax,
        "numpy-matmuls": _matmuls,
        "numpy-floor": _floor,
    }[backend]
    prepared = build(op, net, x, y, case.lr)
    with prepared.context():
        prepared.fn()
    return prepared


def _manual(op, net, x, y, lr):
    if op == "forward":
        return Prepared(lambda: net.forward(x))
    if op == "loss_and_grads":
        return Prepared(lambda: net.loss_and_grads(x, y))
    if op == "epoch":
        batch = len(x) // EPOCH_BATCHES
        return Prepared(lambda: manual.train(net, x, y, manual.SGD(lr=lr), epochs=1, batch_size=batch))
    trainer = manual.Trainer(net, manual.SGD(lr=lr))
    return Prepared(lambda: trainer.step(x, y))


def _unchecked(op, net, x, y, lr):
    if op != "step":
        raise ValueError(f"manual-unchecked times the step only, not {op!r}")
    trainer = manual.Trainer(net, manual.SGD(lr=lr))
    return Prepared(lambda: trainer.step(x, y, validate=False))


def _torch(op, net, x, y, lr):
    import torch

    # the default may be lower than the core count (cgroups, OMP_NUM_THREADS);
    # NumPy's BLAS and XLA use every core, so torch gets them too
    torch.set_num_threads(os.cpu_count())
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    spec = net.spec()
    if op == "forward":
        model = torch_ref.build_model(spec, net.params)
        return Prepared(lambda: model(X), torch.no_grad)
    if op == "loss_and_grads":
        model = torch_ref.build_model(spec, net.params)
        params = list(model.parameters())

        def loss_and_grads():
            loss = torch_ref.loss_of(model, spec, X, Y)
            return loss, torch.autograd.grad(loss, params)

        return Prepared(loss_and_grads)
    step, _model, _opt = torch_ref.make_step(spec, net.params, manual.SGD(lr=lr).config())
    if op == "epoch":
        batches = [(xb, yb) for xb, yb in zip(X.chunk(EPOCH_BATCHES), Y.chunk(EPOCH_BATCHES))]

        def epoch():
            for xb, yb in batches:
                step(xb, yb)

        return Prepared(epoch)
    return Prepared(lambda: step(X, Y))


def _jax(op, net, x, y, lr):
    import jax
    import jax.numpy as jnp

    context = functools.partial(jax_ref.x64, net.dtype)
    with context():
        X, Y = jnp.asarray(x), jnp.asarray(y)
        params = jax_ref.to_jax(net.params)
    activations = tuple(net.activations)
    if op == "forward":
        forward = jax_ref.jitted_apply(activations)
        return Prepared(lambda: forward(params, X).block_until_ready(), context)
    if op == "loss_and_grads":
        value_and_grad = jax_ref.value_and_grad(activations, net.loss_name, net.reduction, net.l2)
        return Prepared(lambda: jax.block_until_ready(value_and_grad(params, X, Y)), context)
    step_fn, params, opt_state = jax_ref.make_step(net.spec(), net.params, manual.SGD(lr=lr).config())
    state = [params, opt_state]
    batches = [(X, Y)]
    if op == "epoch":
        with context():
            batches = list(zip(jnp.split(X, EPOCH_BATCHES), jnp.split(Y, EPOCH_BATCHES)))

    def steps():
        # each step returns new params and optimizer state: feed them to the next call
        for xb, yb in batches:
            state[0], state[1], loss = step_fn(state[0], state[1], xb, yb)
        return jax.block_until_ready((state[0], state[1], loss))

    return Prepared(steps, context)


def _matmuls(op, net, x, y, lr):
    if op != "step":
        raise ValueError(f"numpy-matmuls times the step's products only, not {op!r}")
    return Prepared(MatmulKernel.for_net(net, x, y))


def _floor(op, net, x, y, lr):
    if op != "step":
        raise ValueError(f"numpy-floor times the tiny step only, not {op!r}")
    return Prepared(StraightLineStep(net, x, y, lr))


REQUIRE_FRAMEWORKS = os.environ.get("BACKPROP_REQUIRE_FRAMEWORKS") == "1"
FRAMEWORKS = {"torch": "torch", "jax": "jax", "sklearn": "sklearn"}  # backend -> module, and the extra


def require(backend):
    """Skip a backend whose framework is missing; fail instead under
    BACKPROP_REQUIRE_FRAMEWORKS=1 (what nox and CI set), as tests/ does."""
    module = FRAMEWORKS.get(backend)
    if module is None or importlib.util.find_spec(module) is not None:
        return
    message = f"{backend} needs {module}: pip install -c constraints.txt 'backprop-by-hand[{module}]'"
    if REQUIRE_FRAMEWORKS:
        pytest.fail(message + " (BACKPROP_REQUIRE_FRAMEWORKS=1 turns this skip into a failure)")
    pytest.skip(message)
