"""Dropout with a given mask: x · mask / (1 − p) in train mode (neither framework's dropout
takes a mask), the identity in eval mode."""

KINDS = ("Dropout",)


def params(layer):
    return {}


def buffers(layer):
    return {}


def torch_module(layer, params, buffers, dtype):
    from torch import nn

    class MaskedDropout(nn.Module):
        """nn.Dropout's rule with the mask set from outside (``module.mask``) before each forward."""

        def __init__(self, p):
            super().__init__()
            self.p, self.mask = p, None

        def forward(self, x):
            if not self.training:
                return x
            return x * self.mask.to(x.dtype) / (1 - self.p)

    return MaskedDropout(layer["p"])


def torch_state(layer, module):
    return {}, {}


def torch_params(layer, module):
    return {}


def jax_apply(layer, params, buffers, x, train, mask):
    if not train:
        return x, {}
    return x * mask.astype(x.dtype) / (1 - layer["p"]), {}


def torch_buffers(layer, module):
    return {}
