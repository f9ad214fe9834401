"""The JAX reference: pure functions of a params pytree, ``jax.nn``
activations, optax losses and optimizers, ``jax.value_and_grad`` under ``jax.jit``.

float64 runs inside a local ``jax.enable_x64(True)`` context, so importing
or calling this module leaves the caller's global JAX configuration alone.
"""

import functools
import json

import numpy as np

from ._common import (
    LEAKY_SLOPE,
    Run,
    check_batches,
    check_data,
    check_ensemble_data,
    check_learning_rates,
    check_optimizer,
    check_params,
    check_sequential_arrays,
    check_sequential_data,
    check_sequential_spec,
    check_spec,
    check_stacked_params,
    dropout_layers,
    installed_version,
    missing,
)
from .layers import module as layer_module

jax = jnp = optax = None  # JAX and optax, loaded by _require() on first use


def version():
    """The installed jax's version, or None without it."""
    return installed_version("jax", "jax", "jaxlib", "optax")


def _require():
    """Load JAX and optax (once), or raise ImportError naming the extra to install."""
    global jax, jnp, optax
    if jax is None:
        try:
            import jax
            import jax.numpy as jnp
            import optax
        except ImportError as err:
            jax = None
            raise missing("JAX", "jax", err) from None


def _activation(name):
    return {
        "sigmoid": jax.nn.sigmoid,
        "tanh": jnp.tanh,
        "relu": jax.nn.relu,
        "leaky_relu": functools.partial(jax.nn.leaky_relu, negative_slope=LEAKY_SLOPE),
        "identity": lambda h: h,
        "softmax": functools.partial(jax.nn.softmax, axis=-1),
    }[name]


def apply(params, x, activations, logits=False):
    """The net's output for x ``(batch, n_in)``; with ``logits=True`` the last
    activation is left off."""
    _require()
    h = x
    last = len(params) - 1
    for i, (layer, act) in enumerate(zip(params, activations)):
        h = h @ layer["W"]
        if "b" in layer:
            h = h + layer["b"]
        if not (logits and i == last):
            h = _activation(act)(h)
    return h


def loss(params, x, y, activations, loss_name, reduction, l2=0.0):
    """The reduced loss; optax's per-element losses on the logits for bce and cross_entropy;
    plus scikit-learn's L2 term ½·l2·Σ‖W‖² (/ batch for "mean") when l2 > 0."""
    _require()
    if loss_name == "bce":
        per = optax.sigmoid_binary_cross_entropy(apply(params, x, activations, logits=True), y)
    elif loss_name == "cross_entropy":
        per = optax.softmax_cross_entropy(apply(params, x, activations, logits=True), y)
    else:
        # optax.l2_loss is 1/2 (prediction - target)**2: the seeds' mse
        per = optax.l2_loss(apply(params, x, activations), y)
    value = jnp.sum(per) if reduction == "sum" else jnp.mean(per)
    if l2:
        squares = sum(jnp.sum(layer["W"] ** 2) for layer in params)
        value = value + 0.5 * l2 * squares / (x.shape[0] if reduction == "mean" else 1)
    return value


def _loss_args(spec):
    return tuple(spec["activations"]), spec["loss"], spec["reduction"], spec["l2"]


@functools.cache
def value_and_grad(activations, loss_name, reduction, l2):
    """The jitted ``(params, x, y) -> (loss, grads)`` for one architecture's losses."""
    _require()
    return jax.jit(
        jax.value_and_grad(
            functools.partial(loss, activations=activations, loss_name=loss_name, reduction=reduction, l2=l2)
        )
    )


@functools.cache
def jitted_apply(activations):
    _require()
    return jax.jit(functools.partial(apply, activations=activations))


def x64(dtype):
    """The context a computation in ``dtype`` runs in: float64 needs x64 on, locally."""
    _require()
    return jax.enable_x64(np.dtype(dtype) == np.float64)


def to_jax(params):
    """Plain-data params as a pytree of jax arrays (call inside ``x64``)."""
    _require()
    return jax.tree_util.tree_map(_device, params)


def _device(a):
    """A NumPy array on the device, as is: jnp.asarray stages a jit(stage) compile for
    every new shape (10 ms each, most of a small net's parity check), device_put none."""
    return jax.device_put(np.asarray(a))


def _plain(params, dtype):
    return [{k: np.array(v, dtype=dtype) for k, v in layer.items()} for layer in params]


def forward(spec, params, x):
    """The net's output for x ``(batch, n_in)``, as a NumPy array of the spec's dtype."""
    _require()
    spec = check_spec(spec)
    params = check_params(spec, params)
    with x64(spec["dtype"]):
        out = jitted_apply(tuple(spec["activations"]))(
            to_jax(params), _device(np.asarray(x, dtype=spec["dtype"]))
        )
        return np.array(out, dtype=spec["dtype"])


def loss_and_grads(spec, params, x, y):
    """``(loss, grads)`` from ``jax.value_and_grad``; grads shaped like ``params``."""
    _require()
    spec = check_spec(spec)
    params = check_params(spec, params)
    x, y = check_data(spec, x, y)
    f = value_and_grad(*_loss_args(spec))
    with x64(spec["dtype"]):
        value, grads = f(to_jax(params), _device(x), _device(y))
        return float(value), _plain(grads, spec["dtype"])


# ------------------------------------------------------------------ training


def _optax(optimizer):
    """The optax transformation that performs torch.optim's update.

    - SGD: optax.sgd's trace (buf = g + momentum * buf; nesterov adds
      momentum * buf again) is torch's with dampening 0; torch's weight decay
      is added to the gradient first: add_decayed_weights before sgd.
    - Adam: optax.adam (eps outside the sqrt, as torch); torch's Adam weight
      decay is L2 in the gradient, again add_decayed_weights first.
    - AdamW: optax.adamw's decoupled decay, lr * wd * p, is torch's
      p *= 1 - lr * wd (the defaults differ, 1e-4 vs 1e-2: the value is always passed).
    """
    s = check_optimizer(optimizer)
    lr, wd = s["lr"], s["weight_decay"]
    if s["name"] == "sgd":
        tx = optax.sgd(lr, momentum=s["momentum"] or None, nesterov=s["nesterov"])
    elif s["name"] == "adam":
        tx = optax.adam(lr, b1=s["betas"][0], b2=s["betas"][1], eps=s["eps"])
    else:
        return optax.adamw(lr, b1=s["betas"][0], b2=s["betas"][1], eps=s["eps"], weight_decay=wd)
    return optax.chain(optax.add_decayed_weights(wd), tx) if wd else tx


@functools.lru_cache(maxsize=64)
def _step_fn(activations, loss_name, reduction, l2, optimizer_items):
    _require()
    tx = _optax(dict(optimizer_items))
    grad_fn = jax.value_and_grad(
        functools.partial(loss, activations=activations, loss_name=loss_name, reduction=reduction, l2=l2)
    )

    @jax.jit
    def step(params, opt_state, xb, yb):
        value, grads = grad_fn(params, xb, yb)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    return tx, step


@functools.lru_cache(maxsize=64)
def _update_fn(optimizer_items):
    """``(tx, update)``: the jitted ``update(params, opt_state, grads) -> (params, opt_state)``."""
    _require()
    tx = _optax(dict(optimizer_items))

    @jax.jit
    def update(params, opt_state, grads):
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    return tx, update


def _items(optimizer):
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in optimizer.items()))


def make_step(spec, params, optimizer):
    """``(step, params, opt_state)``: the jitted
    ``step(params, opt_state, x, y) -> (params, opt_state, loss)`` and its
    initial arguments. Call (and first trace) it inside ``x64(spec["dtype"])``."""
    _require()
    spec = check_spec(spec)
    params = check_params(spec, params)
    tx, step_fn = _step_fn(*_loss_args(spec), _items(optimizer))
    with x64(spec["dtype"]):
        jparams = to_jax(params)
        return step_fn, jparams, tx.init(jparams)


def train(spec, params, x, y, optimizer, batches, record_every=None, progress=None):
    """An optax loop over ``batches`` (index arrays, one per step); returns a ``Run``.

    Each step is two jitted calls, ``value_and_grad`` (compiled once per net and
    batch size, whatever the optimizer) and optax's update (once per optimizer):
    make_step's fused step compiles anew for every (optimizer, batch size) pair,
    about 0.6 s each, which a loop of a thousand steps never wins back."""
    _require()
    spec = check_spec(spec)
    x, y = check_data(spec, x, y)
    batches = check_batches(batches, len(x))
    params = check_params(spec, params)
    grad_fn = value_and_grad(*_loss_args(spec))
    tx, update = _update_fn(_items(optimizer))
    dtype = spec["dtype"]
    with x64(dtype):
        jparams = to_jax(params)
        opt_state = tx.init(jparams)
        losses, snapshots = [], []
        for step, idx in enumerate(batches):
            if record_every is not None and step % record_every == 0:
                snapshots.append((step, _plain(jparams, dtype)))
            # gathered by NumPy on the host: a jnp gather is one more dispatch per step (10x the time)
            value, grads = grad_fn(jparams, x[idx], y[idx])
            jparams, opt_state = update(jparams, opt_state, grads)
            losses.append(value)
            if progress is not None:
                progress()
        if record_every is not None and len(batches) % record_every == 0:
            snapshots.append((len(batches), _plain(jparams, dtype)))
        return Run(np.array([float(v) for v in losses], dtype=dtype), _plain(jparams, dtype), snapshots)


# ------------------------------------------------------------------ ensembles
#
# N nets of one architecture, the JAX way: the params pytree with a leading
# axis of nets, and jax.vmap over jax.value_and_grad of the single net's loss.


@functools.cache
def ensemble_value_and_grad(activations, loss_name, reduction, l2, x_axis, y_axis):
    """The jitted ``(params, x, y) -> (losses (N,), grads)``, vmapped over the nets
    (axis 0 of every param; ``x_axis``/``y_axis``: 0 for per-net data, None for shared)."""
    _require()
    f = functools.partial(loss, activations=activations, loss_name=loss_name, reduction=reduction, l2=l2)
    return jax.jit(jax.vmap(jax.value_and_grad(f), in_axes=(0, x_axis, y_axis)))


@functools.cache
def ensemble_sgd_step(activations, loss_name, reduction, l2, x_axis, y_axis):
    """The leanest jitted SGD step of N nets: ``(params, lr (N,), x, y) -> (params, losses)``,
    params − lr · grad per net, no optax."""
    value_and_grad_fn = ensemble_value_and_grad(activations, loss_name, reduction, l2, x_axis, y_axis)

    @jax.jit
    def step(params, lr, xb, yb):
        values, grads = value_and_grad_fn(params, xb, yb)
        new = jax.tree_util.tree_map(
            lambda p, g: p - lr.reshape(lr.shape + (1,) * (p.ndim - 1)) * g, params, grads
        )
        return new, values

    return step


def ensemble_loss_and_grads(spec, params, x, y):
    """``(losses (N,), grads)`` of N nets, grads stacked like ``params`` (nets first).
    x ``(batch, n_in)`` shared by all nets or ``(N, batch, n_in)``; y likewise."""
    _require()
    spec = check_spec(spec)
    params, n = check_stacked_params(spec, params)
    x, y, x_axis, y_axis = check_ensemble_data(spec, x, y, n)
    f = ensemble_value_and_grad(*_loss_args(spec), x_axis, y_axis)
    with x64(spec["dtype"]):
        values, grads = f(to_jax(params), _device(x), _device(y))
        return np.array(values, dtype=spec["dtype"]), _plain(grads, spec["dtype"])


def ensemble_train(spec, params, x, y, lr, batches, record_every=None, progress=None):
    """SGD on N nets at once over ``batches`` (index arrays, one per step), with the
    jitted ``ensemble_sgd_step``; lr one number or ``(N,)``. Returns a ``Run``
    whose losses are ``(steps, N)``."""
    _require()
    spec = check_spec(spec)
    params, n = check_stacked_params(spec, params)
    x, y, x_axis, y_axis = check_ensemble_data(spec, x, y, n)
    batches = check_batches(batches, x.shape[-2])
    lr = check_learning_rates(lr, n).astype(spec["dtype"])
    step = ensemble_sgd_step(*_loss_args(spec), x_axis, y_axis)
    dtype = spec["dtype"]
    with x64(dtype):
        jparams, jlr = to_jax(params), _device(lr)
        losses, snapshots = [], []
        for t, idx in enumerate(batches):
            if record_every is not None and t % record_every == 0:
                snapshots.append((t, _plain(jparams, dtype)))
            xb = x[:, idx] if x_axis == 0 else x[idx]
            yb = y[:, idx] if y_axis == 0 else y[idx]
            jparams, values = step(jparams, jlr, xb, yb)
            losses.append(values)
            if progress is not None:
                progress()
        if record_every is not None and len(batches) % record_every == 0:
            snapshots.append((len(batches), _plain(jparams, dtype)))
        losses = np.array([np.asarray(v) for v in losses], dtype=dtype).reshape(len(batches), n)
        return Run(losses, _plain(jparams, dtype), snapshots)


# ------------------------------------------------------------------ sequentials
#
# A Sequential's spec as a pure function of (params, buffers, x, y, masks): each layer
# kind's jnp / jax.nn / jax.lax form (references/layers), then optax's loss on the logits,
# under jax.value_and_grad (the new running statistics as its auxiliary output) and jax.jit.


def sequential_apply(spec, params, buffers, x, masks, train):
    """``(out, new buffers)`` of the layers in train (or eval) mode, masks one per Dropout layer."""
    h, new = x, []
    masks = list(masks or [])
    for layer, p, b in zip(spec["layers"], params, buffers):
        mask = masks.pop(0) if layer["kind"] == "Dropout" and train else None
        h, nb = layer_module(layer).jax_apply(layer, p, b, h, train, mask)
        new.append(nb)
    return h, new


def sequential_loss(spec, out, y):
    """optax's loss on the last layer's output, reduced as the spec says: l2_loss (½(a − y)²),
    sigmoid_binary_cross_entropy, softmax_cross_entropy (with integer labels, or probabilities),
    and the negative log-likelihood of log-probabilities."""
    loss = spec["loss"]
    if loss == "mse":
        per = optax.l2_loss(out, y)
    elif loss == "bce":
        per = optax.sigmoid_binary_cross_entropy(out, y)
    elif loss == "cross_entropy" and jnp.issubdtype(y.dtype, jnp.integer):
        per = optax.softmax_cross_entropy_with_integer_labels(out, y)
    elif loss == "cross_entropy":
        per = optax.softmax_cross_entropy(out, y)
    else:
        per = -jnp.take_along_axis(out, y[..., None], axis=-1)[..., 0]
    return jnp.sum(per) if spec["reduction"] == "sum" else jnp.mean(per)


@functools.cache
def _sequential_grad(frozen_spec, train):
    spec = _thaw(frozen_spec)

    def loss(params, buffers, x, y, masks):
        out, new = sequential_apply(spec, params, buffers, x, masks, train)
        return sequential_loss(spec, out, y), new

    return jax.jit(jax.value_and_grad(loss, has_aux=True))


def _freeze(spec):
    return json.dumps({**spec, "dtype": np.dtype(spec["dtype"]).name}, sort_keys=True)


def _thaw(text):
    spec = json.loads(text)
    return {**spec, "dtype": np.dtype(spec["dtype"])}


def _masks(spec, masks):
    positions = dropout_layers(spec)
    masks = list(masks or [])
    if len(masks) != len(positions):
        raise ValueError(f"masks: expected one per Dropout layer ({len(positions)}), got {len(masks)}")
    return [_device(np.asarray(m, dtype=bool)) for m in masks]


def sequential_loss_and_grads(spec, params, buffers, x, y, masks=None, train=True):
    """``(loss, grads, buffers)`` from ``jax.value_and_grad``, in train (or eval) mode."""
    _require()
    spec = check_sequential_spec(spec)
    params, buffers = check_sequential_arrays(spec, params, buffers)
    x, y = check_sequential_data(spec, x, y)
    with x64(spec["dtype"]):
        f = _sequential_grad(_freeze(spec), train)
        (value, new), grads = f(
            to_jax(params), to_jax(buffers), _device(x), _device(y), _masks(spec, masks) if train else []
        )
        return float(value), _plain(grads, spec["dtype"]), _plain(new, spec["dtype"])


def sequential_forward(spec, params, buffers, x, train=False, masks=None):
    _require()
    spec = check_sequential_spec(spec)
    params, buffers = check_sequential_arrays(spec, params, buffers)
    x = check_sequential_data(spec, x)
    with x64(spec["dtype"]):
        out, _ = sequential_apply(
            spec, to_jax(params), to_jax(buffers), _device(x), _masks(spec, masks) if train else [], train
        )
        return np.array(out, dtype=spec["dtype"])


def layer_forward_backward(layer, params, buffers, x, dout, dtype, train=True, mask=None):
    """One layer alone: ``(out, dx, grads, buffers)`` from ``jax.vjp`` with the upstream
    gradient ``dout``; dx is None for integer inputs. A tuple x (RNN's ``(x, h0)``): the vjp
    over its float entries, dx a tuple (None for an integer or boolean entry)."""
    _require()
    spec = check_sequential_spec(
        {"kind": "Sequential", "layers": [layer], "loss": "mse", "reduction": "sum", "dtype": dtype}
    )
    (params,), (buffers,) = check_sequential_arrays(spec, [params], [buffers or {}])
    x = check_sequential_data(spec, x)
    module = layer_module(layer)
    with x64(spec["dtype"]):
        jmask = None if mask is None else _device(np.asarray(mask, dtype=bool))
        jbuf = to_jax(buffers)
        several = isinstance(x, tuple)
        xs = x if several else (x,)
        floats = tuple(np.issubdtype(v.dtype, np.floating) for v in xs)

        def f(p, fx, others):
            """The layer of its params and float inputs, the others (indices, masks) held fixed."""
            fx, others = list(fx), list(others)
            xin = tuple(fx.pop(0) if is_float else others.pop(0) for is_float in floats)
            return module.jax_apply(layer, p, jbuf, xin if several else xin[0], train, jmask)

        jfloats = tuple(_device(v) for v, is_float in zip(xs, floats) if is_float)
        jothers = tuple(_device(v) for v, is_float in zip(xs, floats) if not is_float)
        cotangent = _device(np.asarray(dout, dtype=spec["dtype"]))

        # jitted whole: one XLA compile, where eager jax compiles every primitive on its own
        @jax.jit
        def forward_backward(p, fx, others, d):
            # indices and masks have no gradient: differentiate with respect to the rest alone
            out, vjp, new = jax.vjp(lambda q, g: f(q, g, others), p, fx, has_aux=True)
            gp, gx = vjp(d)
            return out, gp, gx, new

        out, gp, gx, new = forward_backward(to_jax(params), jfloats, jothers, cotangent)
        gx = iter(gx)
        dxs = tuple(np.array(next(gx), dtype=spec["dtype"]) if is_float else None for is_float in floats)
        dx = dxs if several else dxs[0]
        return (
            np.array(out, dtype=spec["dtype"]),
            dx,
            _plain([gp], spec["dtype"])[0],
            _plain([new], spec["dtype"])[0],
        )


def sequential_train(
    spec, params, buffers, x, y, optimizer, batches, masks=None, record_every=None, progress=None
):
    """An optax loop over ``batches`` (index arrays), step t's Dropout masks ``masks[t]``; a
    ``Run`` whose ``buffers`` are the final running statistics."""
    _require()
    spec = check_sequential_spec(spec)
    params, buffers = check_sequential_arrays(spec, params, buffers)
    x, y = check_sequential_data(spec, x, y)
    batches = check_batches(batches, len(x))
    tx, update = _update_fn(_items(optimizer))
    dtype = spec["dtype"]
    with x64(dtype):
        grad_fn = _sequential_grad(_freeze(spec), True)
        jparams, jbuffers = to_jax(params), to_jax(buffers)
        opt_state = tx.init(jparams)
        losses, snapshots = [], []
        for step, idx in enumerate(batches):
            if record_every is not None and step % record_every == 0:
                snapshots.append((step, _plain(jparams, dtype)))
            (value, jbuffers), grads = grad_fn(
                jparams,
                jbuffers,
                _device(x[idx]),
                _device(y[idx]),
                _masks(spec, None if masks is None else masks[step]),
            )
            jparams, opt_state = update(jparams, opt_state, grads)
            losses.append(value)
            if progress is not None:
                progress()
        if record_every is not None and len(batches) % record_every == 0:
            snapshots.append((len(batches), _plain(jparams, dtype)))
        run = Run(np.array([float(v) for v in losses], dtype=dtype), _plain(jparams, dtype), snapshots)
        run.buffers = _plain(jbuffers, dtype)
        return run
