"""Dropout, inverted: in train mode each entry is kept with probability 1 − p and the
kept ones scaled by 1 / (1 − p), so that eval mode is the identity.

    train      keep = u >= p,  u = rng.random(x.shape)   (one draw per entry, float64, whatever p)
               out = x ⊙ keep / (1 − p)
    backward   ∂L/∂x = ∂L/∂out ⊙ keep / (1 − p)
    eval       out = x, ∂L/∂x = ∂L/∂out

The mask is drawn from the ``numpy.random.Generator`` the caller passes, in the
order the layers run: a harness that replays that generator, or is handed the
mask (``cache``), applies the same one.
"""

from .base import Layer, check_number


class Dropout(Layer):
    """``nn.Dropout(p=0.5)``: p is the probability of *dropping* an entry, in [0, 1)."""

    kind = "Dropout"
    has_modes = True
    draws = True

    def __init__(self, p=0.5):
        self.p = check_number("p", p, 0, 1)

    def config(self):
        return {"p": self.p}

    def forward(self, params, x, *, train=False, rng=None, buffers=None):
        if not train:
            return x, None
        if rng is None:
            raise ValueError(f"{self!r} in train mode draws its mask: pass rng (a numpy.random.Generator)")
        keep = rng.random(x.shape) >= self.p
        return mask_apply(x, keep, self.p), keep

    def backward(self, dout, cache):
        if cache is None:
            return dout, {}
        return mask_apply(dout, cache, self.p), {}


def mask_apply(x, keep, p):
    """x ⊙ keep / (1 − p), in x's dtype."""
    return x * keep * x.dtype.type(1 / (1 - p))
