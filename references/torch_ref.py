"""The PyTorch reference: an ``nn.Sequential`` of ``nn.Linear`` and activation
modules, losses from ``torch.nn.functional``, gradients from autograd
(``torch.func.functional_call`` + ``torch.func.grad_and_value``).

Nothing here is derived by hand: the backward pass is autograd's.
``nn.Linear`` stores ``weight`` as ``(n_out, n_in)``, the transpose of the
engine's ``W``; the conversion happens at the boundary only.
"""

import numpy as np

from ._missing import missing

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError as _err:  # pragma: no cover - exercised without the extra
    torch = None
    _IMPORT_ERROR = _err


def _require():
    if torch is None:
        raise missing("PyTorch", "torch", _IMPORT_ERROR)


def _activation_module(name):
    return {
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "relu": nn.ReLU,
        "leaky_relu": lambda: nn.LeakyReLU(0.01),
        "identity": nn.Identity,
        "softmax": lambda: nn.Softmax(dim=1),
    }[name]()


def build_model(net):
    """An ``nn.Sequential`` [Linear, activation] * depth holding a copy of ``net.params``."""
    _require()
    dtype = _torch_dtype(net.dtype)
    modules = []
    for (n_in, n_out), act, has_bias in zip(zip(net.sizes[:-1], net.sizes[1:]), net.activations, net.bias):
        modules.append(nn.Linear(n_in, n_out, bias=has_bias, dtype=dtype))
        modules.append(_activation_module(act))
    model = nn.Sequential(*modules)
    load_params(model, net.params)
    return model


def load_params(model, params):
    with torch.no_grad():
        for linear, layer in zip(model[0::2], params):
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer["W"].T)))
            if "b" in layer:
                linear.bias.copy_(torch.from_numpy(layer["b"]))


def params_of(model):
    """The model's parameters in the engine's layout: [{"W": (n_in, n_out), "b": (n_out,)}]."""
    return _to_engine_layout({k: v.detach() for k, v in model.named_parameters()}, len(model) // 2)


def loss_of(model, net, x, y, call=None):
    """The net's loss on tensors x ``(batch, n_in)``, y ``(batch, n_out)``.

    bce and cross_entropy take the logits, i.e. the model without its last
    (sigmoid / softmax) module, as PyTorch recommends for stability.
    ``call(module, x)`` runs a module (default: ``module(x)``).
    """
    call = call or (lambda module, inp: module(inp))
    reduction = net.reduction
    if net.loss_name == "bce":
        return F.binary_cross_entropy_with_logits(call(model[:-1], x), y, reduction=reduction)
    if net.loss_name == "cross_entropy":
        return F.cross_entropy(call(model[:-1], x), y, reduction=reduction)
    # the engine's mse carries the seeds' 1/2
    return 0.5 * F.mse_loss(call(model, x), y, reduction=reduction)


def forward(net, x):
    """The model's output for x ``(batch, n_in)``, as a NumPy array of the net's dtype."""
    _require()
    with torch.no_grad():
        return build_model(net)(_tensor(x, net)).numpy()


def loss_and_grads(net, x, y):
    """``(loss, grads)`` from autograd; grads shaped like ``net.params``."""
    _require()
    model = build_model(net)
    x, y = _tensor(x, net), _tensor(y, net)
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(p):
        # model[:-1] keeps the children's names, so p fits it as well
        return loss_of(model, net, x, y, call=lambda module, inp: torch.func.functional_call(module, p, (inp,)))

    grads, value = torch.func.grad_and_value(loss)(params)
    return float(value), _to_engine_layout(grads, net.n_layers)


def _to_engine_layout(named, n_layers):
    out = []
    for l in range(n_layers):
        layer = {"W": named[f"{2 * l}.weight"].T.numpy().copy()}
        if f"{2 * l}.bias" in named:
            layer["b"] = named[f"{2 * l}.bias"].numpy().copy()
        out.append(layer)
    return out


def _tensor(a, net):
    return torch.from_numpy(np.ascontiguousarray(a, dtype=net.dtype))


def _torch_dtype(dtype):
    return {"float32": torch.float32, "float64": torch.float64}[np.dtype(dtype).name]


# ------------------------------------------------------------------ training


def _torch_optimizer(optimizer, parameters):
    cfg = optimizer.config()
    name = cfg.pop("name")
    if name == "sgd":
        return torch.optim.SGD(parameters, **cfg)
    if name == "adam":
        return torch.optim.Adam(parameters, **cfg)
    return torch.optim.AdamW(parameters, **cfg)


# the engine's buffer names are torch.optim's state keys
def _load_state(opt, model, resume):
    if resume is None or resume.optimizer.step == 0:
        return
    params = list(model.parameters())
    for name, bufs in resume.optimizer.buffers.items():
        for p, buf in zip(params, bufs):
            value = torch.from_numpy(np.ascontiguousarray(buf.T if p.ndim == 2 else buf).copy())
            opt.state[p][name] = value
    if isinstance(opt, torch.optim.Adam):  # AdamW subclasses Adam
        for p in params:
            opt.state[p]["step"] = torch.tensor(float(resume.optimizer.step))


def _export_state(opt, model, optimizer):
    out = {}
    for name in optimizer.buffer_names:
        bufs = []
        for p in model.parameters():
            t = opt.state[p].get(name)
            t = torch.zeros_like(p) if t is None else t.detach()
            bufs.append((t.T if t.ndim == 2 else t).numpy().copy())
        out[name] = bufs
    return out


def make_step(net, optimizer):
    """``(step, model, opt)``: ``step(x, y)`` runs zero_grad, forward, backward
    and ``opt.step()`` on tensors x ``(batch, n_in)``, y ``(batch, n_out)`` and
    returns the loss tensor; model and opt hold a copy of ``net``'s params."""
    _require()
    model = build_model(net)
    opt = _torch_optimizer(optimizer, model.parameters())

    def step(xb, yb):
        opt.zero_grad()
        loss = loss_of(model, net, xb, yb)
        loss.backward()
        opt.step()
        return loss

    return step, model, opt


def train(net, x, y, optimizer, epochs, batch_size=None, shuffle_seed=None, record_every=None, resume=None):
    """``manual.train`` with torch.optim and autograd: the same batches, the same History."""
    _require()
    from manual.train import batch_order, check_train_args, make_rng

    from ._common import history

    x, y = check_train_args(net, x, y, optimizer, epochs, batch_size, shuffle_seed, record_every, resume)
    step_fn, model, opt = make_step(net, optimizer)
    _load_state(opt, model, resume)
    rng = make_rng(shuffle_seed, resume)
    X, Y = _tensor(x, net), _tensor(y, net)
    step = 0 if resume is None else resume.optimizer.step
    losses, snapshots = [], []
    for _ in range(epochs):
        for idx in batch_order(len(x), batch_size, rng):
            if record_every is not None and len(losses) % record_every == 0:
                snapshots.append((step, params_of(model)))
            if not isinstance(idx, slice):
                idx = torch.from_numpy(idx)
            losses.append(step_fn(X[idx], Y[idx]).item())
            step += 1
    if record_every is not None and len(losses) % record_every == 0:
        snapshots.append((step, params_of(model)))
    return history(net, losses, params_of(model), snapshots, step, _export_state(opt, model, optimizer),
                   resume, epochs, rng, batch_size, shuffle_seed, optimizer)
