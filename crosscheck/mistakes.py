"""The classic backprop mistakes, each a named transformation of the correct
backward pass applied at one layer, and the loss and gradients each one produces.

``gradients(net, x, y, mistake, layer)`` is the textbook backward pass in
float64, written plainly so that one step of it can be replaced: the engine's
activations and derivatives (``manual.activations``) and its output-delta
table (``manual.losses``), the recursion spelled out here. With no mistake it
is the true loss and gradient (the tests hold it to PyTorch and JAX). A
mistake that changes how the loss is reduced changes the loss's value too:
the loss a user reports is evidence (``crosscheck.diagnosis``).

Layers are 1-based here, as in the seeds' W1, z2: layer l computes
zˡ = aˡ⁻¹ Wˡ + bˡ and aˡ = f(zˡ), and a⁰ = x; gˡ = ∂L/∂aˡ and δˡ = ∂L/∂zˡ.
"""

from dataclasses import dataclass

import numpy as np

from manual.activations import ACTIVATIONS
from manual.losses import LOSSES, chain_output_activation, l2_penalty, loss_and_output_delta

SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
PRIME = {
    "sigmoid": "σ′",
    "tanh": "tanh′",
    "relu": "relu′",
    "leaky_relu": "leaky_relu′",
    "identity": "identity′",
}
A_FORMULA = {"sigmoid": "a(1 − a)", "tanh": "1 − a²"}  # derivatives written in terms of a = f(z)


@dataclass(frozen=True)
class Mistake:
    """One entry of the catalogue. ``title`` is a template, a phrase that stands on
    its own: {l} the layer, {sl}, {slm1} it and the one before as subscripts (z₂),
    {f} the derivative's name there, {a} its formula in terms of a, {where} "the
    output layer" or "layer l", {net_rule} and {n}, {nk} what the net's loss divides
    by and the batch and batch × outputs (for the reduction mistakes)."""

    key: str
    title: str
    doc: str
    applies: object  # (net, l) -> bool, l 1-based

    def describe(self, net, l, batch=None):
        name = net.activations[l - 1] if 1 <= l <= net.n_layers else ""
        n_out = net.sizes[-1]
        where = "the output layer" if l == net.n_layers else f"layer {l}"
        return self.title.format(
            l=l,
            sl=_sub(l),
            slm1=_sub(l - 1),
            lm1=l - 1,
            f=PRIME.get(name, name),
            a=A_FORMULA.get(name, "f′"),
            where=where,
            net_rule=_net_rule(net, batch),
            n="N" if batch is None else batch,
            nk="N·k" if batch is None else batch * n_out,
        )


def _sub(n):
    return str(n).translate(SUBSCRIPTS)


def _net_rule(net, batch):
    """What the net's loss does with its terms, in words."""
    if net.reduction == "sum":
        return "sums (reduction='sum')"
    count = LOSSES[net.loss_name].mean_count(batch or 1, net.sizes[-1]) if batch else None
    if net.loss_name == "cross_entropy":
        return f"divides by the batch ({count})" if count else "divides by the batch"
    shown = f" ({count})" if count else ""
    return f"divides by batch × outputs{shown}, PyTorch's mean over every element"


def _elementwise(net, l):
    return ACTIVATIONS[net.activations[l - 1]].elementwise


def _fused(net):
    return LOSSES[net.loss_name].output_activation is not None


def _mse(net):
    return net.loss_name == "mse"


def _divides_by_batch(net):
    """Whether the net's loss divides by the batch alone (cross-entropy's mean)."""
    return net.reduction == "mean" and (net.loss_name == "cross_entropy" or net.sizes[-1] == 1)


CATALOGUE = [
    Mistake(
        "output-derivative-dropped",
        "{f}(z{sl}) left out of the output layer's delta (δ{sl} = ∂L/∂a{sl})",
        "δᴸ = ∂L/∂a instead of ∂L/∂a ⊙ f′(zᴸ): the output activation's derivative left out, for dWᴸ "
        "and for every layer below.",
        lambda net, l: (
            l == net.n_layers
            and not _fused(net)
            and _elementwise(net, l)
            and net.activations[l - 1] != "identity"
        ),
    ),
    Mistake(
        "derivative-dropped-going-down",
        "{f}(z{sl}) left out of the delta sent back from {where} to layer {lm1} (dW{sl} keeps it)",
        "dWˡ uses δˡ = gˡ ⊙ f′(zˡ), but δˡ⁻¹ is computed from gˡ: the derivative is dropped on the way "
        "down only (seed 001, which writes one chain-rule expression per weight).",
        lambda net, l: (
            l > 1
            and _elementwise(net, l)
            and net.activations[l - 1] != "identity"
            and not (l == net.n_layers and _fused(net))
        ),
    ),
    Mistake(
        "hidden-derivative-dropped",
        "{f}(z{sl}) left out of layer {l}'s delta",
        "δˡ = δˡ⁺¹ Wˡ⁺¹ᵀ instead of (δˡ⁺¹ Wˡ⁺¹ᵀ) ⊙ f′(zˡ): a hidden layer's derivative left out.",
        lambda net, l: l < net.n_layers and net.activations[l - 1] != "identity",
    ),
    Mistake(
        "derivative-formula-fed-z",
        "{f} of layer {l} computed as {a} with z{sl} in place of a{sl}",
        "f′ written in terms of the output, a(1 − a) for σ or 1 − a² for tanh, fed z instead: the trap in "
        "seed 000's sigmoid_derivative(x) = x (1 − x), and tanh′ as 1 − z².",
        lambda net, l: net.activations[l - 1] in A_FORMULA and (l < net.n_layers or not _fused(net)),
    ),
    Mistake(
        "derivative-of-output",
        "{f} of layer {l} evaluated at a{sl} = f(z{sl}) instead of at z{sl}",
        "f′(a) where f′(z) is wanted: σ′(σ(z)), the derivative applied to the activation's output.",
        lambda net, l: net.activations[l - 1] in A_FORMULA and (l < net.n_layers or not _fused(net)),
    ),
    Mistake(
        "mse-half-forgotten",
        "the gradient taken of (a − y)² where the loss is ½(a − y)² (∂L/∂a = 2(a − y); the loss keeps its ½)",
        "The loss is ½(a − y)², but the gradient is taken of (a − y)²: every gradient doubled.",
        lambda net, l: l == net.n_layers and _mse(net),
    ),
    Mistake(
        "mse-half-doubled",
        "the ½ of mse applied twice in the gradient (∂L/∂a = ½(a − y))",
        "The ½ that cancels the derivative's 2 kept as well: every gradient halved.",
        lambda net, l: l == net.n_layers and _mse(net),
    ),
    Mistake(
        "mse-without-half",
        "the loss and its gradient taken without mse's ½: Σ(a − y)² where the net's mse is ½Σ(a − y)²",
        "A loss of (a − y)² with its own, correct gradient 2(a − y): the loss and every gradient doubled.",
        lambda net, l: l == net.n_layers and _mse(net),
    ),
    Mistake(
        "sum-for-mean",
        "the gradient summed over the batch where the loss averages (the loss itself is averaged)",
        "reduction='mean' (the loss averages), but the gradient is the sum: every gradient times the count.",
        lambda net, l: l == net.n_layers and net.reduction == "mean",
    ),
    Mistake(
        "mean-for-sum",
        "the gradient divided by the batch size where the loss sums (the loss itself is summed)",
        "reduction='sum' (the seeds'), but the gradient is divided by the batch size.",
        lambda net, l: l == net.n_layers and net.reduction == "sum",
    ),
    Mistake(
        "loss-summed",
        "the loss and its gradient summed where the net's loss {net_rule}",
        "The loss summed over the batch, with its own correct gradient, where reduction='mean'.",
        lambda net, l: l == net.n_layers and net.reduction == "mean",
    ),
    Mistake(
        "loss-mean-over-samples",
        "the loss and its gradient divided by the batch ({n}) where the net's loss {net_rule}",
        "The loss divided by the number of samples only, with its own correct gradient: for mse and bce "
        "with several outputs PyTorch's mean divides by batch × outputs; a 'sum' net does not divide.",
        lambda net, l: l == net.n_layers and not _divides_by_batch(net),
    ),
    Mistake(
        "loss-mean-over-all",
        "the loss and its gradient divided by batch × outputs ({nk}, np.mean over every element) where the "
        "net's loss {net_rule}",
        "np.mean over every element, with its own correct gradient, where the net sums or (cross-entropy) "
        "divides by the batch only.",
        lambda net, l: (
            l == net.n_layers
            and net.sizes[-1] > 1
            and (net.reduction == "sum" or net.loss_name == "cross_entropy")
        ),
    ),
    Mistake(
        "sign-flipped",
        "the sign of ŷ − y flipped (y − ŷ) in the output delta",
        "∂L/∂a taken as y − a: every gradient negated; descent climbs.",
        lambda net, l: l == net.n_layers,
    ),
    Mistake(
        "weights-not-transposed",
        "δ{slm1} computed with W{sl} instead of W{sl}ᵀ",
        "δˡ⁻¹ = (δˡ Wˡ) ⊙ f′ instead of (δˡ Wˡᵀ) ⊙ f′; only possible where Wˡ is square.",
        lambda net, l: l > 1 and net.sizes[l - 1] == net.sizes[l],
    ),
    Mistake(
        "weight-grad-from-output",
        "dW{sl} computed from a{sl} (the layer's output) instead of a{slm1}",
        "∂L/∂Wˡ = aˡᵀ δˡ instead of aˡ⁻¹ᵀ δˡ; only possible where the layer is square.",
        lambda net, l: net.sizes[l - 1] == net.sizes[l],
    ),
    Mistake(
        "weight-grad-from-input",
        "dW{sl} computed from x instead of a{slm1}",
        "∂L/∂Wˡ = xᵀ δˡ: every layer's gradient from the input; only possible where the widths match.",
        lambda net, l: l > 1 and net.sizes[l - 1] == net.sizes[0],
    ),
    Mistake(
        "bias-grad-one-sample",
        "db{sl} from the first sample only",
        "∂L/∂bˡ = δˡ of sample 1 instead of the sum over the batch.",
        lambda net, l: net.bias[l - 1],
    ),
    Mistake(
        "bias-grad-averaged",
        "db{sl} averaged over the batch instead of summed",
        "∂L/∂bˡ = mean of δˡ over the batch, while ∂L/∂Wˡ sums.",
        lambda net, l: net.bias[l - 1],
    ),
    Mistake(
        "fused-derivative-again",
        "{f}(z{sl}) applied again on top of the fused ŷ − y",
        "With bce on σ or cross-entropy on softmax the output delta is a − y; multiplying it by f′ once more "
        "counts the activation twice.",
        lambda net, l: l == net.n_layers and _fused(net),
    ),
    Mistake(
        "softmax-elementwise",
        "softmax's Jacobian taken as the elementwise s(1 − s)",
        "δ = g ⊙ a(1 − a) instead of a ⊙ (g − Σ g a): the off-diagonal terms of the Jacobian dropped.",
        lambda net, l: l == net.n_layers and net.activations[-1] == "softmax" and not _fused(net),
    ),
]
BY_KEY = {m.key: m for m in CATALOGUE}
# a training step's own mistake, for check_training
STEP_MISTAKE = Mistake(
    "update-before-backprop",
    "W{sl} updated before δ{slm1} is computed with it",
    "In a training loop, Wˡ -= η dWˡ runs before δˡ⁻¹ = (δˡ Wˡᵀ) ⊙ f′ uses Wˡ: the delta goes back through "
    "the new weights.",
    lambda net, l: l > 1,
)


def describe(key, net, layer, batch=None):
    """The phrase for mistake ``key`` made at ``layer``."""
    return (STEP_MISTAKE if key == STEP_MISTAKE.key else BY_KEY[key]).describe(net, layer, batch)


def applicable(net):
    """``[(mistake, layer)]``: every catalogue entry at every layer it applies to."""
    return [(m, l) for m in CATALOGUE for l in range(1, net.n_layers + 1) if m.applies(net, l)]


def _loss_factor(key, net, y):
    """What a reduction mistake multiplies the data term of the loss (and its gradient) by."""
    batch, n_out = y.shape
    rule = LOSSES[net.loss_name].mean_count(batch, n_out) if net.reduction == "mean" else 1
    theirs = {"loss-summed": 1, "loss-mean-over-samples": batch, "loss-mean-over-all": batch * n_out}
    return rule / theirs[key] if key in theirs else 2.0 if key == "mse-without-half" else 1.0


def gradients(net, x, y, mistake=None, layer=None):
    """``(loss, grads)`` of ``net`` on x ``(batch, n_in)``, y ``(batch, n_out)`` in
    float64, with ``mistake`` (a key of the catalogue) made at ``layer`` (1-based):
    the loss the mistake reports and the gradients it computes."""
    key = None if mistake is None else getattr(mistake, "key", mistake)
    params, a, z = _forward(net, x)
    y = np.asarray(y, np.float64)
    L = net.n_layers
    names = net.activations
    loss_fn = LOSSES[net.loss_name]
    factor = _loss_factor(key, net, y) if layer == L else 1.0
    scale = loss_fn.scale(net.reduction, *y.shape) * factor

    def at(k, l):
        return key == k and layer == l

    delta = np.empty_like(a[L])
    value = loss_and_output_delta(
        loss_fn, ACTIVATIONS[names[-1]], z[L], a[L], y, scale, out=delta, work=_shifted(z[L])
    )
    g = (a[L] - y) * scale  # ∂L/∂aᴸ, for a derivative dropped on the way down from the output
    delta = _output_mistake(key, net, a[L], z[L], y, scale, delta) if layer == L else delta

    grads = [None] * L
    for l in range(L, 0, -1):
        source = (
            a[l]
            if at("weight-grad-from-output", l)
            else a[0]
            if at("weight-grad-from-input", l)
            else a[l - 1]
        )
        grads[l - 1] = {"W": source.T @ delta}
        if "b" in params[l - 1]:
            if at("bias-grad-one-sample", l):
                grads[l - 1]["b"] = delta[0].copy()
            elif at("bias-grad-averaged", l):
                grads[l - 1]["b"] = delta.mean(axis=0)
            else:
                grads[l - 1]["b"] = delta.sum(axis=0)
        if l > 1:
            W = params[l - 1]["W"]
            sent = g if at("derivative-dropped-going-down", l) else delta
            g = sent @ (W if at("weights-not-transposed", l) else W.T)  # ∂L/∂aˡ⁻¹
            delta = g * _derivative(key if layer == l - 1 else None, names[l - 2], a[l - 1], z[l - 1])
    if net.l2:
        value += l2_penalty(params, net.l2, net.reduction, len(y), grads)
    return value, grads


def _forward(net, x):
    """float64 params, and a⁰..aᴸ, z¹..zᴸ (z[0] unused), as lists indexed by layer."""
    params = [{k: np.asarray(v, np.float64) for k, v in layer.items()} for layer in net.params]
    a, z = [np.asarray(x, np.float64)], [None]
    with np.errstate(over="ignore", under="ignore"):
        for layer, name in zip(params, net.activations):
            z.append(a[-1] @ layer["W"] + layer.get("b", 0.0))
            a.append(ACTIVATIONS[name](z[-1]))
    return params, a, z


def _derivative(key, name, a, z):
    """f′ of a layer, read off its output a (or its z), as the mistake at this layer would have it."""
    act = ACTIVATIONS[name]
    if key == "hidden-derivative-dropped":
        return np.ones_like(a)
    if key == "derivative-formula-fed-z":
        return act.prime(z)  # the formula in a, fed z
    if key == "derivative-of-output":
        return act.prime(act(a))  # f′ at a = f(z)
    return act.prime(a)


def _output_mistake(key, net, a, z, y, scale, delta):
    """The output delta with an output-layer mistake made (``delta`` is the correct one,
    already scaled by a reduction mistake's factor)."""
    name = net.activations[-1]
    act = ACTIVATIONS[name]
    count = LOSSES[net.loss_name].mean_count(*y.shape)
    if key == "output-derivative-dropped":
        return (a - y) * scale
    if key in ("derivative-formula-fed-z", "derivative-of-output"):
        return (a - y) * scale * _derivative(key, name, a, z)
    if key == "mse-half-forgotten":
        return 2 * delta
    if key == "mse-half-doubled":
        return 0.5 * delta
    if key == "sum-for-mean":
        return delta * count
    if key == "mean-for-sum":
        return delta / len(y)
    if key == "sign-flipped":
        return -delta
    if key == "fused-derivative-again":
        return chain_output_activation(act, a, delta.copy(), np.empty_like(delta))
    if key == "softmax-elementwise":
        return (a - y) * scale * a * (1 - a)
    return delta


def _shifted(z):
    """Scratch for ``loss_and_output_delta``, holding z − max z as a forward pass's softmax
    leaves it (the cross-entropy's value reads it there; other losses overwrite it)."""
    return z - z.max(axis=1, keepdims=True)


def step_with_update_first(net, x, y, lr, layer):
    """Plain SGD's new params when layer ``layer``'s W is updated before the delta
    is sent back through it (``STEP_MISTAKE``); float64."""
    params, a, z = _forward(net, x)
    y = np.asarray(y, np.float64)
    L = net.n_layers
    loss_fn = LOSSES[net.loss_name]
    delta = np.empty_like(a[L])
    loss_and_output_delta(
        loss_fn,
        ACTIVATIONS[net.activations[-1]],
        z[L],
        a[L],
        y,
        loss_fn.scale(net.reduction, *y.shape),
        out=delta,
        work=_shifted(z[L]),
    )
    new = [{k: v.copy() for k, v in p.items()} for p in params]
    for l in range(L, 0, -1):
        new[l - 1]["W"] -= lr * (a[l - 1].T @ delta)
        if "b" in new[l - 1]:
            new[l - 1]["b"] -= lr * delta.sum(axis=0)
        if l > 1:
            W = new[l - 1]["W"] if l == layer else params[l - 1]["W"]
            delta = (delta @ W.T) * ACTIVATIONS[net.activations[l - 2]].prime(a[l - 1])
    return new
