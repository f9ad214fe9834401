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
