"""The PyTorch reference: an ``nn.Sequential`` of ``nn.Linear`` and activation
modules, losses from ``torch.nn.functional``, gradients from autograd
(``torch.func.functional_call`` + ``torch.func.grad_and_value``), training
with ``torch.optim``.

Nothing here is derived by hand: the backward pass is autograd's.
``nn.Linear`` stores ``weight`` as ``(n_out, n_in)``, the transpose of the
plain-data ``W``; the conversion happens at the boundary only.
"""

import numpy as np

from ._common import (
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

torch = F = nn = None  # PyTorch, loaded by _require() on first use


def version():
    """The installed torch's version, or None without it."""
    return installed_version("torch", "torch")


def _require():
    """Load PyTorch (once), or raise ImportError naming the extra to install."""
    global torch, F, nn
    if torch is None:
        try:
            import torch
            import torch.nn.functional as F
            from torch import nn
        except ImportError as err:
            torch = None
            raise missing("PyTorch", "torch", err) from None


def _activation_module(name):
    return {
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "relu": nn.ReLU,
        "leaky_relu": lambda: nn.LeakyReLU(0.01),
        "identity": nn.Identity,
        "softmax": lambda: nn.Softmax(dim=1),
    }[name]()


def build_model(spec, params):
    """An ``nn.Sequential`` [Linear, activation] * depth holding a copy of ``params``."""
    _require()
    spec = check_spec(spec)
    params = check_params(spec, params)
    dtype = _torch_dtype(spec["dtype"])
    modules = []
    sizes = spec["sizes"]
    for n_in, n_out, act, has_bias in zip(sizes[:-1], sizes[1:], spec["activations"], spec["bias"]):
        modules.append(nn.Linear(n_in, n_out, bias=has_bias, dtype=dtype))
        modules.append(_activation_module(act))
    model = nn.Sequential(*modules)
    with torch.no_grad():
        for linear, layer in zip(model[0::2], params):
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer["W"].T)))
            if "b" in layer:
                linear.bias.copy_(torch.from_numpy(layer["b"]))
    return model


def params_of(model):
    """The model's parameters as plain data: [{"W": (n_in, n_out), "b": (n_out,)}]."""
    named = {k: v.detach() for k, v in model.named_parameters()}
    return _plain_layout(named, len(model) // 2)


def loss_of(model, spec, x, y, call=None, weights=None):
    """The net's loss on tensors x ``(batch, n_in)``, y ``(batch, n_out)``.

    bce and cross_entropy take the logits, i.e. the model without its last
    (sigmoid / softmax) module, as PyTorch recommends for stability.
    ``call(module, x)`` runs a module (default: ``module(x)``); ``weights``, the
    weight tensors it uses (default: the model's own), for the L2 term.
    """
    call = call or (lambda module, inp: module(inp))
    reduction = spec["reduction"]
    if spec["loss"] == "bce":
        value = F.binary_cross_entropy_with_logits(call(model[:-1], x), y, reduction=reduction)
    elif spec["loss"] == "cross_entropy":
        value = F.cross_entropy(call(model[:-1], x), y, reduction=reduction)
    else:
        # mse carries the seeds' 1/2
        value = 0.5 * F.mse_loss(call(model, x), y, reduction=reduction)
    if spec["l2"]:
        value = value + l2_term(spec, weights or [m.weight for m in model[0::2]], len(x))
    return value


def l2_term(spec, weights, batch):
    """scikit-learn's alpha: ½·l2·Σ‖W‖² over the weights (not the biases), / batch for "mean"."""
    squares = sum(w.square().sum() for w in weights)
    return 0.5 * spec["l2"] * squares / (batch if spec["reduction"] == "mean" else 1)


def forward(spec, params, x):
    """The model's output for x ``(batch, n_in)``, as a NumPy array of the spec's dtype."""
    _require()
    spec = check_spec(spec)
    with torch.no_grad():
        return build_model(spec, params)(_tensor(x, spec)).numpy()


def loss_and_grads(spec, params, x, y):
    """``(loss, grads)`` from autograd; grads shaped like ``params``."""
    _require()
    spec = check_spec(spec)
    x, y = check_data(spec, x, y)
    model = build_model(spec, params)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    named = {k: v.detach() for k, v in model.named_parameters()}

    def loss(p):
        # model[:-1] keeps the children's names, so p fits it as well
        return loss_of(
            model,
            spec,
            x,
            y,
            call=lambda module, inp: torch.func.functional_call(module, p, (inp,)),
            weights=[p[f"{2 * l}.weight"] for l in range(len(params))],
        )

    grads, value = torch.func.grad_and_value(loss)(named)
    return float(value), _plain_layout(grads, len(spec["sizes"]) - 1)


def _plain_layout(named, n_layers):
    """``nn.Linear``'s named tensors as plain params, a net's or, stacked nets first, an ensemble's."""
    out = []
    for l in range(n_layers):
        layer = {"W": named[f"{2 * l}.weight"].transpose(-1, -2).numpy().copy()}
        if f"{2 * l}.bias" in named:
            layer["b"] = named[f"{2 * l}.bias"].numpy().copy()
        out.append(layer)
    return out


def _tensor(a, spec):
    return torch.from_numpy(np.ascontiguousarray(a, dtype=spec["dtype"]))


def _torch_dtype(dtype):
    return {"float32": torch.float32, "float64": torch.float64}[np.dtype(dtype).name]


# ------------------------------------------------------------------ training


def _torch_optimizer(optimizer, parameters):
    settings = check_optimizer(optimizer)
    name = settings.pop("name")
    return {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name](
        parameters, **settings
    )


def make_step(spec, params, optimizer):
    """``(step, model, opt)``: ``step(x, y)`` runs zero_grad, forward, backward
    and ``opt.step()`` on tensors x ``(batch, n_in)``, y ``(batch, n_out)`` and
    returns the loss tensor; model and opt hold a copy of ``params``."""
    _require()
    spec = check_spec(spec)
    model = build_model(spec, params)
    opt = _torch_optimizer(optimizer, model.parameters())

    def step(xb, yb):
        opt.zero_grad()
        loss = loss_of(model, spec, xb, yb)
        loss.backward()
        opt.step()
        return loss

    return step, model, opt


def train(spec, params, x, y, optimizer, batches, record_every=None, progress=None):
    """A ``torch.optim`` loop over ``batches`` (index arrays, one per step); returns a ``Run``."""
    _require()
    spec = check_spec(spec)
    x, y = check_data(spec, x, y)
    batches = check_batches(batches, len(x))
    step_fn, model, _ = make_step(spec, params, optimizer)
    losses, snapshots = [], []
    for step, idx in enumerate(batches):
        if record_every is not None and step % record_every == 0:
            snapshots.append((step, params_of(model)))
        losses.append(step_fn(torch.from_numpy(x[idx]), torch.from_numpy(y[idx])).item())
        if progress is not None:
            progress()
    if record_every is not None and len(batches) % record_every == 0:
        snapshots.append((len(batches), params_of(model)))
    return Run(np.asarray(losses, dtype=spec["dtype"]), params_of(model), snapshots)


# ------------------------------------------------------------------ ensembles
#
# N nets of one architecture, the torch.func way: the parameters stacked along
# a leading axis (what torch.func.stack_module_state makes of N modules) and
# one vmap over grad(functional_call) of a base module.


def stacked_state(spec, params):
    """Plain stacked params (nets first) as ``{name: tensor (N, ...)}`` in
    ``nn.Linear``'s layout: what ``stack_module_state`` returns for N modules
    of ``build_model``, made without building them (100,000 modules take minutes)."""
    _require()
    spec = check_spec(spec)
    params, _ = check_stacked_params(spec, params)
    named = {}
    for l, layer in enumerate(params):
        named[f"{2 * l}.weight"] = torch.from_numpy(np.ascontiguousarray(np.swapaxes(layer["W"], 1, 2)))
        if "b" in layer:
            named[f"{2 * l}.bias"] = torch.from_numpy(layer["b"].copy())
    return named


def _vmapped_grad(spec, params, x_axis, y_axis):
    """``(f, named)``: f(named, x, y) -> (grads, losses), vmapped over the nets."""
    named = stacked_state(spec, params)
    base = build_model(spec, [{k: v[0] for k, v in layer.items()} for layer in params])

    def loss(p, xb, yb):
        return loss_of(
            base,
            spec,
            xb,
            yb,
            call=lambda module, inp: torch.func.functional_call(module, p, (inp,)),
            weights=[p[f"{2 * l}.weight"] for l in range(len(params))],
        )

    return torch.func.vmap(torch.func.grad_and_value(loss), in_dims=(0, x_axis, y_axis)), named


def ensemble_loss_and_grads(spec, params, x, y):
    """``(losses (N,), grads)`` of N nets, grads stacked like ``params`` (nets first).
    x ``(batch, n_in)`` shared by all nets or ``(N, batch, n_in)``; y likewise."""
    _require()
    spec = check_spec(spec)
    params, n = check_stacked_params(spec, params)
    x, y, x_axis, y_axis = check_ensemble_data(spec, x, y, n)
    f, named = _vmapped_grad(spec, params, x_axis, y_axis)
    grads, values = f(named, torch.from_numpy(x), torch.from_numpy(y))
    return values.numpy().copy(), _plain_layout(grads, len(params))


def make_ensemble_step(spec, params, x, y, lr):
    """``(step, named)``: ``step(idx)`` is one SGD step of every net in place on
    ``named`` (vmapped grads, then ``p -= lr * g`` per net, lr ``(N,)`` or one
    number) on the samples ``idx`` of x, y; it returns the losses ``(N,)``."""
    _require()
    spec = check_spec(spec)
    params, n = check_stacked_params(spec, params)
    x, y, x_axis, y_axis = check_ensemble_data(spec, x, y, n)
    lr = torch.from_numpy(check_learning_rates(lr, n).astype(spec["dtype"]))
    f, named = _vmapped_grad(spec, params, x_axis, y_axis)
    rates = {k: lr.reshape((n,) + (1,) * (v.ndim - 1)) for k, v in named.items()}
    x, y = torch.from_numpy(x), torch.from_numpy(y)

    def step(idx=None):
        xb = x if idx is None else (x[:, idx] if x_axis == 0 else x[idx])
        yb = y if idx is None else (y[:, idx] if y_axis == 0 else y[idx])
        grads, values = f(named, xb, yb)
        for k, p in named.items():
            p.sub_(grads[k].mul_(rates[k]))
        return values

    return step, named


def ensemble_train(spec, params, x, y, lr, batches, record_every=None, progress=None):
    """SGD on N nets at once over ``batches`` (index arrays, one per step); lr one
    number or ``(N,)``. Returns a ``Run`` whose losses are ``(steps, N)``."""
    _require()
    spec = check_spec(spec)
    n_samples = np.shape(x)[-2]
    batches = check_batches(batches, n_samples)
    step, named = make_ensemble_step(spec, params, x, y, lr)
    n_layers = len(spec["sizes"]) - 1
    losses, snapshots = [], []
    for t, idx in enumerate(batches):
        if record_every is not None and t % record_every == 0:
            snapshots.append((t, _plain_layout(named, n_layers)))
        losses.append(step(torch.from_numpy(idx)).numpy().copy())
        if progress is not None:
            progress()
    if record_every is not None and len(batches) % record_every == 0:
        snapshots.append((len(batches), _plain_layout(named, n_layers)))
    return Run(
        np.array(losses, dtype=spec["dtype"]).reshape(len(batches), -1),
        _plain_layout(named, n_layers),
        snapshots,
    )


# ------------------------------------------------------------------ sequentials
#
# A Sequential's spec as an nn.Sequential of PyTorch's own modules (nn.Linear, nn.BatchNorm1d,
# nn.Embedding, ...: references/layers), its loss from torch.nn.functional on the logits,
# its gradients from autograd, its running statistics updated by the modules themselves.


def sequential_model(spec, params, buffers=None):
    """``(model, layers)``: an ``nn.Sequential`` holding a copy of params and buffers, and the
    per-layer modules of ``references.layers`` that read them back."""
    _require()
    spec = check_sequential_spec(spec)
    params, buffers = check_sequential_arrays(spec, params, buffers)
    dtype = _torch_dtype(spec["dtype"])
    kinds = [layer_module(layer) for layer in spec["layers"]]
    modules = [
        k.torch_module(layer, p, b, dtype) for k, layer, p, b in zip(kinds, spec["layers"], params, buffers)
    ]
    return nn.Sequential(*modules), kinds, spec


def sequential_loss(spec, out, y):
    """The head on the last module's output: 0.5 F.mse_loss, F.binary_cross_entropy_with_logits,
    F.cross_entropy (labels or probabilities, the classes last), F.nll_loss."""
    reduction = spec["reduction"]
    loss = spec["loss"]
    if loss == "mse":
        return 0.5 * F.mse_loss(out, y, reduction=reduction)
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(out, y, reduction=reduction)
    classes = out.shape[-1]
    flat_out = out.reshape(-1, classes)
    target = y.reshape(-1) if not y.is_floating_point() else y.reshape(-1, classes)
    fn = F.cross_entropy if loss == "cross_entropy" else F.nll_loss
    return fn(flat_out, target, reduction=reduction)


def _set_masks(model, spec, masks):
    positions = dropout_layers(spec)
    masks = masks or []
    if len(masks) != len(positions):
        raise ValueError(f"masks: expected one per Dropout layer ({len(positions)}), got {len(masks)}")
    for i, mask in zip(positions, masks):
        model[i].mask = torch.from_numpy(np.asarray(mask, dtype=bool))


def sequential_loss_and_grads(spec, params, buffers, x, y, masks=None, train=True):
    """``(loss, grads, buffers)``: the loss in train (or eval) mode with the given Dropout masks,
    autograd's gradients and the running statistics after the forward, as plain data."""
    model, kinds, spec = sequential_model(spec, params, buffers)
    x, y = check_sequential_data(spec, x, y)
    model.train(train)
    if train:
        _set_masks(model, spec, masks)
    loss = sequential_loss(spec, model(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    states = [k.torch_state(layer, m) for k, layer, m in zip(kinds, spec["layers"], model)]
    return float(loss.detach()), [g for g, _ in states], [b for _, b in states]


def sequential_forward(spec, params, buffers, x, train=False, masks=None):
    """The last module's output, as NumPy, in eval (or train) mode."""
    model, _, spec = sequential_model(spec, params, buffers)
    x = check_sequential_data(spec, x)
    model.train(train)
    if train:
        _set_masks(model, spec, masks)
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def layer_forward_backward(layer, params, buffers, x, dout, dtype, train=True, mask=None):
    """One layer alone: ``(out, dx, grads, buffers)`` with the upstream gradient ``dout``
    (autograd of ⟨dout, out⟩); dx is None for integer inputs. A tuple x (RNN's ``(x, h0)``):
    the module called with its entries, each float one requiring grad, dx a tuple of their
    gradients (None for a mask)."""
    _require()
    spec = {"kind": "Sequential", "layers": [layer], "loss": "mse", "reduction": "sum", "dtype": dtype}
    model, kinds, spec = sequential_model(spec, [params], [buffers or {}])
    model.train(train)
    if train and layer["kind"] == "Dropout":
        model[0].mask = torch.from_numpy(np.asarray(mask, dtype=bool))
    x = check_sequential_data(spec, x)
    several = isinstance(x, tuple)
    xins = [torch.from_numpy(v) for v in (x if several else (x,))]
    for xin in xins:
        if xin.is_floating_point():
            xin.requires_grad_(True)
    out = model[0](*xins) if several else model(xins[0])
    out.backward(torch.from_numpy(np.asarray(dout, dtype=spec["dtype"])))
    grads, state = kinds[0].torch_state(layer, model[0])
    dxs = tuple(xin.grad.numpy().copy() if xin.is_floating_point() else None for xin in xins)
    return out.detach().numpy().copy(), (dxs if several else dxs[0]), grads, state


def sequential_train(
    spec, params, buffers, x, y, optimizer, batches, masks=None, record_every=None, progress=None
):
    """A ``torch.optim`` loop over ``batches`` (index arrays), step t's Dropout masks
    ``masks[t]``; a ``Run`` whose ``buffers`` are the final running statistics."""
    model, kinds, spec = sequential_model(spec, params, buffers)
    x, y = check_sequential_data(spec, x, y)
    batches = check_batches(batches, len(x))
    opt = _torch_optimizer(optimizer, model.parameters())
    model.train(True)

    def plain():
        return [k.torch_params(layer, m) for k, layer, m in zip(kinds, spec["layers"], model)]

    losses, snapshots = [], []
    for step, idx in enumerate(batches):
        if record_every is not None and step % record_every == 0:
            snapshots.append((step, plain()))
        _set_masks(model, spec, None if masks is None else masks[step])
        opt.zero_grad()
        loss = sequential_loss(spec, model(torch.from_numpy(x[idx])), torch.from_numpy(y[idx]))
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if progress is not None:
            progress()
    if record_every is not None and len(batches) % record_every == 0:
        snapshots.append((len(batches), plain()))
    run = Run(np.asarray(losses, dtype=spec["dtype"]), plain(), snapshots)
    run.buffers = [k.torch_buffers(layer, m) for k, layer, m in zip(kinds, spec["layers"], model)]
    return run
