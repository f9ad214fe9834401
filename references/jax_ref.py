"""The JAX reference: pure functions of a params pytree, ``jax.nn``
activations, optax losses, ``jax.value_and_grad`` under ``jax.jit``.

float64 runs inside a local ``jax.enable_x64(True)`` context, so importing
or calling this module leaves the user's global JAX configuration alone.
"""

import functools

import numpy as np

from ._missing import missing

try:
    import jax
    import jax.numpy as jnp
    import optax
except ImportError as _err:  # pragma: no cover - exercised without the extra
    jax = None
    _IMPORT_ERROR = _err


def _require():
    if jax is None:
        raise missing("JAX", "jax", _IMPORT_ERROR)


def _activation(name):
    return {
        "sigmoid": jax.nn.sigmoid,
        "tanh": jnp.tanh,
        "relu": jax.nn.relu,
        "leaky_relu": functools.partial(jax.nn.leaky_relu, negative_slope=0.01),
        "identity": lambda h: h,
        "softmax": functools.partial(jax.nn.softmax, axis=-1),
    }[name]


def apply(params, x, activations, logits=False):
    """The net's output for x ``(batch, n_in)``; with ``logits=True`` the last
    activation is left off."""
    h = x
    last = len(params) - 1
    for i, (layer, act) in enumerate(zip(params, activations)):
        h = h @ layer["W"]
        if "b" in layer:
            h = h + layer["b"]
        if not (logits and i == last):
            h = _activation(act)(h)
    return h


def loss(params, x, y, activations, loss_name, reduction):
    """The reduced loss; optax's per-element losses on the logits for bce and cross_entropy."""
    if loss_name == "bce":
        per = optax.sigmoid_binary_cross_entropy(apply(params, x, activations, logits=True), y)
    elif loss_name == "cross_entropy":
        per = optax.softmax_cross_entropy(apply(params, x, activations, logits=True), y)
    else:
        # optax.l2_loss is 1/2 (prediction - target)**2: the seeds' mse
        per = optax.l2_loss(apply(params, x, activations), y)
    return jnp.sum(per) if reduction == "sum" else jnp.mean(per)


@functools.lru_cache(maxsize=None)
def _value_and_grad(activations, loss_name, reduction):
    return jax.jit(
        jax.value_and_grad(
            functools.partial(loss, activations=activations, loss_name=loss_name, reduction=reduction)
        )
    )


def x64(dtype):
    """The context a computation in ``dtype`` runs in: float64 needs x64 on, locally."""
    return jax.enable_x64(np.dtype(dtype) == np.float64)


def forward(net, x):
    """The net's output for x ``(batch, n_in)``, as a NumPy array of the net's dtype."""
    _require()
    with x64(net.dtype):
        params = jax.tree_util.tree_map(jnp.asarray, net.params)
        out = _jitted_apply(tuple(net.activations))(params, jnp.asarray(x, dtype=net.dtype))
        return np.array(out, dtype=net.dtype)


@functools.lru_cache(maxsize=None)
def _jitted_apply(activations):
    return jax.jit(functools.partial(apply, activations=activations))


def loss_and_grads(net, x, y):
    """``(loss, grads)`` from ``jax.value_and_grad``; grads shaped like ``net.params``."""
    _require()
    f = _value_and_grad(tuple(net.activations), net.loss_name, net.reduction)
    with x64(net.dtype):
        params = jax.tree_util.tree_map(jnp.asarray, net.params)
        value, grads = f(params, jnp.asarray(x, dtype=net.dtype), jnp.asarray(y, dtype=net.dtype))
        grads = jax.tree_util.tree_map(lambda g: np.array(g, dtype=net.dtype), grads)
        return float(value), grads


# ------------------------------------------------------------------ training


def _optax(optimizer):
    """The optax transformation that performs torch.optim's update.

    - SGD: optax.sgd's trace (buf = g + momentum * buf; nesterov adds
      momentum * buf again) is torch's with dampening 0; torch's weight decay
      is added to the gradient first: add_decayed_weights before sgd.
    - Adam: optax.adam (eps outside the sqrt, as torch); torch's Adam
      weight decay is L2 in the gradient, again add_decayed_weights first.
    - AdamW: optax.adamw's decoupled decay, lr * wd * p, is torch's
      p *= 1 - lr * wd (the default weight_decay differs: 1e-4 vs 1e-2; the
      engine's value is always passed).
    """
    cfg = optimizer.config()
    name = cfg["name"]
    lr, wd = cfg["lr"], cfg["weight_decay"]
    if name == "sgd":
        tx = optax.sgd(lr, momentum=cfg["momentum"] or None, nesterov=cfg["nesterov"])
    elif name == "adam":
        tx = optax.adam(lr, b1=cfg["betas"][0], b2=cfg["betas"][1], eps=cfg["eps"])
    else:
        return optax.adamw(lr, b1=cfg["betas"][0], b2=cfg["betas"][1], eps=cfg["eps"], weight_decay=wd)
    return optax.chain(optax.add_decayed_weights(wd), tx) if wd else tx


# the engine's optimizer buffers and optax's state fields
_OPTAX_FIELDS = {"momentum_buffer": "trace", "exp_avg": "mu", "exp_avg_sq": "nu"}


def _to_tree(params_like, flat_arrays):
    it = iter(flat_arrays)
    return [{k: jnp.asarray(next(it)) for k in ("W", "b") if k in layer} for layer in params_like]


def _flat(tree):
    from manual.optim import flat

    return [np.array(a) for a in flat(tree)]


@functools.lru_cache(maxsize=64)
def _step_fn(activations, loss_name, reduction, config):
    from manual.optim import from_config

    tx = _optax(from_config(dict(config)))
    value_and_grad = jax.value_and_grad(
        functools.partial(loss, activations=activations, loss_name=loss_name, reduction=reduction)
    )

    @jax.jit
    def step(params, opt_state, xb, yb):
        value, grads = value_and_grad(params, xb, yb)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    return tx, step


def make_step(net, optimizer):
    """``(step, params, opt_state)``: the jitted
    ``step(params, opt_state, x, y) -> (params, opt_state, loss)`` and its
    initial arguments. Call (and first trace) it inside ``x64(net.dtype)``."""
    _require()
    config = tuple(sorted(optimizer.config().items()))
    tx, step_fn = _step_fn(tuple(net.activations), net.loss_name, net.reduction, config)
    with x64(net.dtype):
        params = jax.tree_util.tree_map(jnp.asarray, net.params)
        return step_fn, params, tx.init(params)


def train(net, x, y, optimizer, epochs, batch_size=None, shuffle_seed=None, record_every=None, resume=None):
    """``manual.train`` with optax and a jitted step: the same batches, the same History."""
    _require()
    from manual.train import batch_order, check_train_args, make_rng

    from ._common import history

    x, y = check_train_args(net, x, y, optimizer, epochs, batch_size, shuffle_seed, record_every, resume)
    step_fn, params, opt_state = make_step(net, optimizer)
    with x64(net.dtype):
        step = 0
        if resume is not None:
            step = resume.optimizer.step
            fields = {_OPTAX_FIELDS[k]: _to_tree(net.params, v) for k, v in resume.optimizer.buffers.items()}
            if "mu" in fields:
                fields["count"] = jnp.asarray(step, dtype=jnp.int32)
            opt_state = optax.tree_utils.tree_set(opt_state, **fields)
        rng = make_rng(shuffle_seed, resume)
        X, Y = jnp.asarray(x), jnp.asarray(y)
        losses, snapshots = [], []
        for _ in range(epochs):
            for idx in batch_order(len(x), batch_size, rng):
                if record_every is not None and len(losses) % record_every == 0:
                    snapshots.append((step, _numpy_params(params, net.dtype)))
                params, opt_state, value = step_fn(params, opt_state, X[idx], Y[idx])
                losses.append(value)
                step += 1
        if record_every is not None and len(losses) % record_every == 0:
            snapshots.append((step, _numpy_params(params, net.dtype)))
        losses = [float(v) for v in losses]
        buffers = {
            k: _flat(optax.tree_utils.tree_get(opt_state, field))
            for k, field in _OPTAX_FIELDS.items() if k in optimizer.buffer_names
        }
        final = _numpy_params(params, net.dtype)
    return history(net, losses, final, snapshots, step, buffers, resume, epochs, rng, batch_size,
                   shuffle_seed, optimizer)


def _numpy_params(params, dtype):
    return [{k: np.array(v, dtype=dtype) for k, v in layer.items()} for layer in params]
