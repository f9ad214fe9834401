"""Losses: their value, and the output layer's delta δᴸ = ∂L/∂zᴸ.

Shapes: ``z``, ``a`` (the output layer's pre-activation and activation),
``y`` and the buffers ``out``, ``work`` are all ``(batch, n_out)``; for an
ensemble (``per_net=True``) they carry the nets last, ``(batch, n_out, N)``,
``y`` possibly ``(batch, n_out, 1)`` (shared by every net), and the value is one
per net, ``(N,)``.

The one table of output deltas, ``(loss, output activation) → δᴸ``:

    mse, any elementwise f     (a − y) ⊙ f′(z)
    mse, softmax               a ⊙ (g − Σₖ gₖ aₖ),  g = a − y   (the softmax Jacobian, Jᵀ g)
    bce, sigmoid               a − y                            (σ′ cancels against ∂L/∂a)
    cross_entropy, softmax     a − y                            (the Jacobian cancels)

bce and cross_entropy are computed from the logits ``z``, never from
``log(a)``: where ``a`` rounds to exactly 0 or 1 the value stays finite and
equals PyTorch's ``binary_cross_entropy_with_logits`` / ``cross_entropy``.
"""

import numpy as np

from .activations import SIGMOID

REDUCTIONS = ("sum", "mean")


class Loss:
    name = "?"
    # the output activation whose derivative this loss cancels, and requires; None: any
    output_activation = None

    def mean_count(self, batch, n_out):
        """How many terms ``reduction="mean"`` averages over (PyTorch's choice)."""
        return batch * n_out

    def scale(self, reduction, batch, n_out):
        """What the summed loss is multiplied by: 1 for "sum", 1 / count for "mean"."""
        return 1.0 if reduction == "sum" else 1.0 / self.mean_count(batch, n_out)

    def __repr__(self):
        return self.name


class MSE(Loss):
    """L = ½ (a − y)² per element, the seeds' convention (the ½ cancels the derivative's 2)."""

    name = "mse"

    def value_and_grad(self, a, y, out, per_net=False):
        """Σ ½ (a − y)²; leaves ∂L/∂a = a − y in ``out``."""
        np.subtract(a, y, out=out)
        return 0.5 * _dot(out, out, per_net)


class BCE(Loss):
    """Binary cross-entropy on a sigmoid output: −(y log a + (1 − y) log(1 − a))."""

    name = "bce"
    output_activation = "sigmoid"

    def value(self, z, y, out, work, per_net=False):
        """Σ over the batch, as max(z, 0) − z y + log(1 + exp(−|z|)) with a = σ(z):
        exp only sees −|z| ≤ 0 and log1p a number in (0, 1], so it is finite for
        any finite z, even where a rounds to 0 or 1."""
        np.multiply(z, y, out=out)
        np.maximum(z, 0, out=work)
        np.subtract(work, out, out=out)
        np.abs(z, out=work)
        np.negative(work, out=work)
        np.exp(work, out=work)
        np.log1p(work, out=work)
        out += work
        return out.sum(axis=(0, 1)) if per_net else float(out.sum())


class CrossEntropy(Loss):
    """Cross-entropy on a softmax output with one-hot targets: −Σₖ yₖ log aₖ per sample."""

    name = "cross_entropy"
    output_activation = "softmax"

    def mean_count(self, batch, n_out):
        return batch

    def value(self, z, y, out, work, per_net=False):
        """Σ over the batch, as log Σⱼ exp(zⱼ − m) − Σₖ yₖ (zₖ − m) per row (m: the row
        max; the rows of y sum to 1). Every exp is ≤ 1 and both terms are ≥ 0,
        so summing each over the batch first loses nothing to cancellation.
        ``work`` holds z − m on entry, as the forward pass's softmax left it."""
        picked = _dot(work, y, per_net)
        np.exp(work, out=out)
        logs = np.log(out.sum(axis=1))
        return (logs.sum(axis=0) if per_net else float(logs.sum())) - picked


MSE_LOSS = MSE()
BCE_LOSS = BCE()
CROSS_ENTROPY = CrossEntropy()

LOSSES = {loss.name: loss for loss in (MSE_LOSS, BCE_LOSS, CROSS_ENTROPY)}


def _dot(u, v, per_net):
    """Σ u v over everything (a float), or per net: u is (batch, units, N), v the
    same or (batch, units, 1)."""
    if not per_net:
        return float(np.vdot(u, v))
    if v.shape[-1] == u.shape[-1]:
        return np.einsum("bkn,bkn->n", u, v)
    return np.einsum("bkn,bk->n", u, v[..., 0])


def loss_and_output_delta(loss, activation, z, a, y, scale, out, work, per_net=False):
    """``scale · L``, and δᴸ = ``scale · ∂L/∂zᴸ`` written into ``out`` (the table above).
    ``work``: the output activation's scratch, as the forward pass left it; for
    cross-entropy it must hold z − max z (what ``Softmax.apply`` leaves there), which
    the value reads instead of computing it again."""
    if loss.output_activation is not None:
        value = loss.value(z, y, out, work, per_net)
        np.subtract(a, y, out=out)  # δᴸ = a − y: f′ has cancelled against ∂L/∂a
    else:
        value = loss.value_and_grad(a, y, out, per_net)
        chain_output_activation(activation, a, out, work)
    if scale != 1:
        out *= scale
    return scale * value


def l2_divisor(reduction, batch):
    """What the L2 penalty is divided by: the batch's samples for "mean" (scikit-learn's
    n_samples, whatever the outputs), nothing for "sum"."""
    return batch if reduction == "mean" else 1


def l2_penalty(params, l2, reduction, batch, grads=None):
    """scikit-learn's ``alpha``: ½·l2·Σₗ‖Wˡ‖² / ``l2_divisor`` over the weights (never
    the biases); adds its gradient l2·Wˡ / ``l2_divisor`` to each ``grads[l]["W"]``."""
    scale = l2 / l2_divisor(reduction, batch)
    total = 0.0
    for l, layer in enumerate(params):
        W = layer["W"]
        total += float(np.vdot(W, W))
        if grads is not None:
            grads[l]["W"] += scale * W  # ∂/∂W of ½·l2·‖W‖² / divisor
    return 0.5 * scale * total


def chain_output_activation(activation, a, g, work):
    """Turn ``g = ∂L/∂a`` into δᴸ = ∂L/∂zᴸ, in place: the activation's own backward
    (∂L/∂a ⊙ f′(zᴸ); softmax's Jacobian product, ``activations.Softmax.backward``)."""
    return activation.backward(g, a, out=g, work=work)


# ------------------------------------------------------------------ a Sequential's loss heads


class Head:
    """A Sequential's loss, on its last layer's output as it is (logits for bce and
    cross-entropy, as PyTorch's ``F.binary_cross_entropy_with_logits`` and ``F.cross_entropy``):

        mse             ½ (out − y)², y shaped like out                     ∂L/∂out = out − y
        bce             max(z, 0) − z y + log(1 + exp(−|z|)), y in [0, 1]   ∂L/∂z = σ(z) − y
        cross_entropy   log Σₖ exp(zₖ) − z_y at each position, z (..., C); y integer labels (...)
                        or probabilities (..., C)                            ∂L/∂z = softmax(z) − onehot(y)
        nll             −lp_y, lp (..., C) log-probabilities (LogSoftmax's); y labels (...)
                                                                             ∂L/∂lp = −onehot(y)

    reduction "sum" adds every term; "mean" divides by their count: every element for
    mse and bce, every position (a label, or a row of probabilities) for cross_entropy
    and nll, as PyTorch."""

    name = "?"
    labels = "never"  # "never", "may" (cross_entropy) or "always" (nll): integer class targets

    def count(self, out, y):
        """What reduction="mean" divides by."""
        return out.size

    def value_and_grad(self, out, y, reduction):
        """``(loss, ∂loss/∂out)``."""
        scale = 1.0 if reduction == "sum" else 1.0 / self.count(out, y)
        value, grad = self._sum_and_grad(out, y)
        if scale != 1.0:
            grad *= scale
        return scale * value, grad

    def __repr__(self):
        return self.name


class MSEHead(Head):
    name = "mse"

    def _sum_and_grad(self, out, y):
        diff = out - y
        return 0.5 * float(np.vdot(diff, diff)), diff


class BCEHead(Head):
    name = "bce"

    def _sum_and_grad(self, z, y):
        terms = np.empty_like(z)
        value = BCE_LOSS.value(z, y, terms, np.empty_like(z))
        grad = np.empty_like(z)
        SIGMOID.apply(z, out=grad, work=terms)
        grad -= y
        return value, grad


class CrossEntropyHead(Head):
    name = "cross_entropy"
    labels = "may"

    def count(self, out, y):
        return out.size // out.shape[-1]

    def _sum_and_grad(self, z, y):
        shifted = z - z.max(axis=-1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=-1, keepdims=True)
        logs = np.log(total)
        grad = np.divide(exp, total, out=np.empty(z.shape, z.dtype))  # C order: its rows are a view
        if y.dtype.kind in "iu":
            # as (positions, classes) rows: one fancy index, not take_along_axis's index grids
            rows, labels = np.arange(y.size), y.reshape(-1)
            value = float(logs.sum() - shifted.reshape(-1, z.shape[-1])[rows, labels].sum())
            grad.reshape(-1, z.shape[-1])[rows, labels] -= 1
        else:
            weight = y.sum(axis=-1, keepdims=True)
            value = float(np.vdot(logs, weight) - np.vdot(shifted, y))
            grad = grad * weight - y
        return value, grad


class NLLHead(Head):
    name = "nll"
    labels = "always"

    def count(self, out, y):
        return out.size // out.shape[-1]

    def _sum_and_grad(self, lp, y):
        rows, labels = np.arange(y.size), y.reshape(-1)
        grad = np.zeros(lp.shape, lp.dtype)  # C order: its rows are a view
        grad.reshape(-1, lp.shape[-1])[rows, labels] = -1
        return -float(lp.reshape(-1, lp.shape[-1])[rows, labels].sum()), grad


HEADS = {head.name: head for head in (MSEHead(), BCEHead(), CrossEntropyHead(), NLLHead())}
