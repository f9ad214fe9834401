"""Residual: ``x + nn.Sequential(*inner)(x)`` of the inner layers' own torch modules, and in JAX
x plus the inner layers' ``jax_apply`` chained. Params and buffers: one flat dict, named
"i.name" as torch's state_dict names a submodule's ("0.gamma", "1.W_q")."""

KINDS = ("Residual",)

# kind -> the module of references.layers, set by the package (which imports this module: no cycle)
module_of = None


def _inner(layer):
    return [(i, inner, module_of(inner)) for i, inner in enumerate(layer["layers"])]


def _split(named, i):
    prefix = f"{i}."
    return {k[len(prefix) :]: v for k, v in named.items() if k.startswith(prefix)}


def _named(i, d):
    return {f"{i}.{k}": v for k, v in d.items()}


def params(layer):
    return {k: v for i, inner, m in _inner(layer) for k, v in _named(i, m.params(inner)).items()}


def buffers(layer):
    return {k: v for i, inner, m in _inner(layer) for k, v in _named(i, m.buffers(inner)).items()}


def torch_module(layer, params, buffers, dtype):
    from torch import nn

    inner = nn.Sequential(
        *(m.torch_module(sub, _split(params, i), _split(buffers, i), dtype) for i, sub, m in _inner(layer))
    )

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return x + self.inner(x)

    return Residual()


def _gather(layer, module, read):
    out = [{}, {}]
    for i, sub, m in _inner(layer):
        for j, part in enumerate(read(m, sub, module.inner[i])):
            out[j].update(_named(i, part))
    return out


def torch_state(layer, module):
    grads, bufs = _gather(layer, module, lambda m, sub, mod: m.torch_state(sub, mod))
    return grads, bufs


def torch_params(layer, module):
    return _gather(layer, module, lambda m, sub, mod: (m.torch_params(sub, mod),))[0]


def torch_buffers(layer, module):
    return _gather(layer, module, lambda m, sub, mod: (m.torch_buffers(sub, mod),))[0]


def jax_apply(layer, params, buffers, x, train, mask):
    h, new = x, {}
    for i, sub, m in _inner(layer):
        h, nb = m.jax_apply(sub, _split(params, i), _split(buffers, i), h, train, None)
        new.update(_named(i, nb))
    return x + h, new
