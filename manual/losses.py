"""Losses: their value and the output delta dL/dz of the last layer.

Shapes: ``z``, ``a`` (the output layer's pre-activation and activation) and
``y`` are all ``(batch, n_out)``. Both methods write into caller-owned buffers
(``out``, ``work``, each ``(batch, n_out)``) so a training step allocates
nothing the size of the batch.

``value`` returns the loss *summed* over every element; ``value_and_delta``
multiplies it by ``scale`` (1 for ``reduction="sum"``, 1/count for
``"mean"``) and writes dL/dz of the output layer times ``delta_scale`` (the
same, or times plain SGD's lr, see ``Trainer.step``).

bce and cross_entropy are computed from the logits ``z``, never from
``log(a)``: when ``a`` rounds to exactly 0 or 1 the value stays finite and
equals PyTorch's ``binary_cross_entropy_with_logits`` / ``cross_entropy``.
"""

import numpy as np

from .activations import IDENTITY


class Loss:
    name = "?"
    # the output activation this loss requires, or None for any
    output_activation = None

    def mean_count(self, batch, n_out):
        """How many terms ``reduction="mean"`` averages over (PyTorch's choice)."""
        return batch * n_out

    def __repr__(self):
        return self.name


class MSE(Loss):
    """L = 1/2 (a - y)**2 per element, the seeds' convention (the 1/2 cancels the 2 of the derivative)."""

    name = "mse"

    def value(self, z, a, y, out, work):
        # leaves a - y = dL/da in out, for value_and_delta
        np.subtract(a, y, out=out)
        return 0.5 * float(np.vdot(out, out))

    def value_and_delta(self, z, a, y, activation, scale, delta_scale, out, work):
        """``scale * value``, with ``out = delta_scale * dL/dz`` written after it."""
        value = scale * self.value(z, a, y, out=out, work=work)
        self._chain(a, activation, delta_scale, out, work)
        return value

    def _chain(self, a, activation, scale, out, work):
        """out = dL/da on entry; dL/dz = dL/da * sigma'(z) on return."""
        if scale != 1:
            out *= scale
        if activation is IDENTITY:  # identity' = 1
            return out
        if activation.elementwise:
            # delta_L = dL/da * sigma'(z_L)
            out *= activation.derivative(a, out=work)
        else:
            # softmax couples a row: delta = J^T g with J = diag(a) - a a^T,
            # i.e. delta = a * (g - sum(g * a))
            np.multiply(out, a, out=work)
            out -= work.sum(axis=1, keepdims=True)
            out *= a
        return out


class FusedLoss(Loss):
    """A loss whose output activation's derivative cancels against its own:
    dL/dz = a - y exactly (sigmoid + bce, softmax + cross-entropy)."""

    def value_and_delta(self, z, a, y, activation, scale, delta_scale, out, work):
        """``scale * value``, with ``out = delta_scale * (a - y)`` written after it."""
        value = scale * self.value(z, a, y, out=out, work=work)
        np.subtract(a, y, out=out)
        if delta_scale != 1:
            out *= delta_scale
        return value


class BCE(FusedLoss):
    """Binary cross-entropy on sigmoid outputs: -(y log a + (1 - y) log(1 - a)).

    With a = sigmoid(z): dL/da * sigma'(z) = (a - y) / (a (1 - a)) * a (1 - a)
    = a - y. Fusing the two never divides by a (1 - a), which is 0 when a saturates.
    """

    name = "bce"
    output_activation = "sigmoid"

    def value(self, z, a, y, out, work):
        # with a = sigmoid(z) the loss is max(z, 0) - z y + log(1 + exp(-|z|)):
        # exp only sees -|z| <= 0 and log1p a number in (0, 1], so it is finite
        # for any finite z, even where a rounds to 0 or 1
        np.multiply(z, y, out=out)
        np.maximum(z, 0, out=work)
        np.subtract(work, out, out=out)
        np.abs(z, out=work)
        np.negative(work, out=work)
        np.exp(work, out=work)
        np.log1p(work, out=work)
        out += work
        return float(out.sum())


class CrossEntropy(FusedLoss):
    """Cross-entropy on softmax outputs with one-hot targets: -sum_k y_k log a_k per sample.

    With a = softmax(z), J^T dL/da collapses to a - y.
    """

    name = "cross_entropy"
    output_activation = "softmax"

    def mean_count(self, batch, n_out):
        return batch

    def value(self, z, a, y, out, work):
        # -sum_k y_k log softmax(z)_k = log sum_j exp(z_j - m) - sum_k y_k (z_k - m)
        # for the row max m (the rows of y sum to 1): every exp is <= 1, and
        # both terms are >= 0, so summing each over the batch first loses
        # nothing to cancellation, even for logits spread by 1e3
        np.subtract(z, z.max(axis=1, keepdims=True), out=work)
        picked = float(np.vdot(work, y))
        np.exp(work, out=work)
        return float(np.log(work.sum(axis=1)).sum()) - picked


MSE_LOSS = MSE()
BCE_LOSS = BCE()
CROSS_ENTROPY = CrossEntropy()

LOSSES = {loss.name: loss for loss in (MSE_LOSS, BCE_LOSS, CROSS_ENTROPY)}
REDUCTIONS = ("sum", "mean")
