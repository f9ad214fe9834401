"""Residual: out = x + f(x), the inner layers' bounds chained; ∂x = ∂x through f + ∂out."""

from ..rounding import lift

KINDS = ("Residual",)

# kind -> the module of crosscheck.layers, set by the package (which imports this module: no cycle)
module_of = None


def _split(named, i):
    prefix = f"{i}."
    return {k[len(prefix) :]: v for k, v in (named or {}).items() if k.startswith(prefix)}


def forward(layer, params, buffers, x, train, mask):
    x = lift(x)
    h, new, caches = x, {}, []
    for i, inner in enumerate(layer["layers"]):
        h, nb, cache = module_of(inner).forward(inner, _split(params, i), _split(buffers, i), h, train, None)
        new.update({f"{i}.{k}": v for k, v in nb.items()})
        caches.append(cache)
    return x + h, new, caches


def backward(layer, dout, cache):
    g, grads = dout, {}
    for i in reversed(range(len(layer["layers"]))):
        inner = layer["layers"][i]
        g, gi = module_of(inner).backward(inner, g, cache[i])
        grads.update({f"{i}.{k}": v for k, v in gi.items()})
    return g + dout, grads
