"""Mistakes planted in the engine, one at a time: the catalogue of classic
backprop mistakes (crosscheck.mistakes) made in the engine's own source, and
subtle numeric ones. Each is a textual edit of a module's source; ``plant``
compiles the edited module and puts its functions and methods in place of the
engine's (every module of ``manual`` that imported them included), for the
duration of a ``pytest.MonkeyPatch``. An edit that no longer finds its text
fails loudly, so the list cannot drift from the engine.

``caught(mutant, checks)`` runs the suite's checks against a planted mutant:
the float64 and float32 parity matrix (tests/test_parity.py, against
PyTorch's results), the float64 trajectories (tests/test_trajectories.py,
against torch.optim) and finite differences (manual.gradcheck). Run this file
as a script for the kill table (docs/agreement.md, README):

    python tests/mutants.py
"""

import functools
import importlib
import inspect
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import manual  # noqa: E402
from crosscheck.compare import compare, params_gap, rounding_scale, trajectory_gap  # noqa: E402
from crosscheck.tolerances import tolerance  # noqa: E402


@dataclass(frozen=True)
class Mutant:
    name: str
    kind: str  # "catalogue" (a mistake of crosscheck.mistakes) or "numeric" (subtle)
    edits: tuple  # ((module, old text, new text), ...)
    doc: str


def _m(name, kind, doc, *edits):
    return Mutant(name, kind, tuple(edits), doc)


BACKPROP, LOSSES, ACTIVATIONS, OPTIM, TRAIN = (
    "manual.backprop",
    "manual.losses",
    "manual.activations",
    "manual.optim",
    "manual.train",
)
DELTA_LINE = "f_prev.backward(below, saved, out=below, work=ws.work[l - 1])"
LINEAR = "manual.layers.linear"

MUTANTS = [
    _m(
        "output derivative dropped",
        "catalogue",
        "δᴸ = ∂L/∂a: f′(zᴸ) left out (seed 001)",
        (LOSSES, "return activation.backward(g, a, out=g, work=work)", "return g"),
    ),
    _m(
        "hidden derivative dropped",
        "catalogue",
        "δˡ = δˡ⁺¹ Wˡ⁺¹ᵀ without f′(zˡ)",
        (BACKPROP, DELTA_LINE, "pass"),
    ),
    _m(
        "hidden derivative fed z",
        "catalogue",
        "f′ written in a, fed z: σ′ = z(1 − z), tanh′ = 1 − z²",
        (BACKPROP, 'saved = ws.a[l] if f_prev.saves == "a" else ws.z[l - 1]', "saved = ws.z[l - 1]"),
    ),
    _m(
        "output derivative fed z",
        "catalogue",
        "the output's f′ fed z",
        (
            LOSSES,
            "chain_output_activation(activation, a, out, work)",
            "chain_output_activation(activation, z, out, work)",
        ),
    ),
    _m(
        "sigmoid derivative of its output",
        "catalogue",
        "σ′(a) = σ(a)(1 − σ(a)) where σ′(z) is wanted",
        (
            ACTIVATIONS,
            "np.subtract(1, a, out=out)\n        return np.multiply(a, out, out=out)",
            "s = 1 / (1 + np.exp(-a))\n        return np.multiply(s, 1 - s, out=out)",
        ),
    ),
    _m(
        "mse half forgotten",
        "catalogue",
        "∂L/∂a = 2(a − y) for L = ½(a − y)²",
        (
            LOSSES,
            "return 0.5 * _dot(out, out, per_net)",
            "value = 0.5 * _dot(out, out, per_net)\n        out *= 2\n        return value",
        ),
    ),
    _m(
        "mse half doubled",
        "catalogue",
        "∂L/∂a = ½(a − y)",
        (
            LOSSES,
            "return 0.5 * _dot(out, out, per_net)",
            "value = 0.5 * _dot(out, out, per_net)\n        out *= 0.5\n        return value",
        ),
    ),
    _m(
        "sum for mean",
        "catalogue",
        "the delta not divided by the mean's count",
        (LOSSES, "    if scale != 1:\n        out *= scale\n", ""),
    ),
    _m(
        "sign flipped",
        "catalogue",
        "y − a for a − y",
        (LOSSES, "np.subtract(a, y, out=out)", "np.subtract(y, a, out=out)"),
    ),
    _m(
        "weights not transposed",
        "catalogue",
        "δˡ⁻¹ from δˡ Wˡ (a shape error where Wˡ is not square)",
        (LINEAR, "np.dot(dz, W.T, out=dx)", "np.dot(dz, W, out=dx)"),
    ),
    _m(
        "weight grad from the layer's output",
        "catalogue",
        "∂L/∂Wˡ = aˡᵀ δˡ",
        (BACKPROP, "ws.delta[l], ws.a[l], params", "ws.delta[l], ws.a[l + 1], params"),
    ),
    _m(
        "weight grad from the input",
        "catalogue",
        "∂L/∂Wˡ = xᵀ δˡ in every layer",
        (BACKPROP, "ws.delta[l], ws.a[l], params", "ws.delta[l], ws.a[0], params"),
    ),
    _m(
        "bias grad from one sample",
        "catalogue",
        "∂L/∂b = δ of the first sample",
        (LINEAR, "column_sum(dz, out=db, work=work)", "np.copyto(db, dz[0])"),
    ),
    _m(
        "bias grad averaged",
        "catalogue",
        "∂L/∂b = mean of δ over the batch",
        (
            LINEAR,
            "column_sum(dz, out=db, work=work)",
            "column_sum(dz, out=db, work=work)\n        db /= len(dz)",
        ),
    ),
    _m(
        "fused derivative again",
        "catalogue",
        "f′ applied on top of the fused a − y",
        (
            LOSSES,
            "np.subtract(a, y, out=out)  # δᴸ = a − y",
            "np.subtract(a, y, out=out)\n"
            "        chain_output_activation(activation, a, out, work)  # δᴸ = a − y",
        ),
    ),
    _m(
        "softmax Jacobian elementwise",
        "catalogue",
        "δ = g ⊙ s(1 − s)",
        (
            ACTIVATIONS,
            "np.multiply(g, saved, out=work)\n        total = work.sum(axis=self.axis, keepdims=True)\n"
            "        np.subtract(g, total, out=out)\n        return np.multiply(out, saved, out=out)",
            "np.multiply(saved, 1 - saved, out=work)\n        return np.multiply(g, work, out=out)",
        ),
    ),
    _m(
        "sigmoid derivative x (1 + 1e-6)",
        "numeric",
        "σ′ scaled by 1 + 1e-6",
        (
            ACTIVATIONS,
            "return np.multiply(a, out, out=out)  # σ′(z) = a (1 − a)",
            "np.multiply(a, out, out=out)\n        out *= 1 + 1e-6\n        return out",
        ),
    ),
    _m(
        "leaky slope 0.0101 in backward",
        "numeric",
        "the leaky relu's slope 0.0101 in f′ only",
        (
            ACTIVATIONS,
            "out *= 1 - self.slope\n        out += self.slope",
            "out *= 1 - 0.0101\n        out += 0.0101",
        ),
    ),
    _m(
        "softmax Jacobian row sum x 0.999",
        "numeric",
        "Σ g a scaled by 0.999 in the softmax Jacobian",
        (
            ACTIVATIONS,
            "total = work.sum(axis=self.axis, keepdims=True)",
            "total = 0.999 * work.sum(axis=self.axis, keepdims=True)",
        ),
    ),
    _m(
        "tanh derivative off by 1e-9",
        "numeric",
        "tanh′ = 1 + 1e-9 − a²",
        (
            ACTIVATIONS,
            "return np.subtract(1, out, out=out)  # tanh′(z) = 1 − a²",
            "return np.subtract(1 + 1e-9, out, out=out)",
        ),
    ),
    _m(
        "Adam bias correction one step late",
        "numeric",
        "1 − β^(t−1) for 1 − β^t (from step 2)",
        (OPTIM, "self.lr / (1 - beta1**t)", "self.lr / (1 - beta1 ** max(t - 1, 1))"),
        (OPTIM, "s /= math.sqrt(1 - beta2**t)", "s /= math.sqrt(1 - beta2 ** max(t - 1, 1))"),
    ),
    _m(
        "momentum with dampening 0.1",
        "numeric",
        "buf = μ buf + 0.9 g",
        (
            OPTIM,
            "buf *= mu\n            buf += g",
            "buf *= mu\n            buf += 0.9 * g",
        ),
    ),
    _m(
        "biases left out of weight decay",
        "numeric",
        "torch.optim decays every parameter it is given, biases included, as the engine does; "
        "here the biases "
        "are not decayed",
        (
            TRAIN,
            "return self.net.apply_update(self.optimizer, self.state, self._grads_flat, loss, self.frozen)",
            "self.optimizer.step(self.net.param_views, self.grads, self.state)\n        return loss",
        ),
        (
            OPTIM,
            "        if _nonzero(self.weight_decay):\n"
            "            np.multiply(p, _as(self.weight_decay, p), out=s)\n"
            "            g += s\n"
            "        d = g",
            "        if _nonzero(self.weight_decay) and p.ndim > 1:\n"
            "            np.multiply(p, _as(self.weight_decay, p), out=s)\n"
            "            g += s\n        d = g",
        ),
        (
            OPTIM,
            "            else:\n                np.multiply(p, _as(self.weight_decay, p), out=s)",
            "            elif p.ndim > 1:\n                np.multiply(p, _as(self.weight_decay, p), out=s)",
        ),
    ),
]
BY_NAME = {m.name: m for m in MUTANTS}

# mistakes planted in the layer kinds (manual/layers), each with the kinds whose parity cases it breaks
NORM, BATCHNORM, LAYERNORM = "manual.layers.norm", "manual.layers.batchnorm", "manual.layers.layernorm"
GROUPNORM = "manual.layers.groupnorm"
EMBEDDING, DROPOUT, ACTIVATION_MATH = "manual.layers.embedding", "manual.layers.dropout", "manual.activations"
CONV = "manual.layers.conv"
POOL = "manual.layers.pool"
RECURRENT = "manual.layers.recurrent"
ATTENTION, RESIDUAL = "manual.layers.attention", "manual.layers.residual"
ATTENTION_KINDS = ("ScaledDotProductAttention", "MultiheadAttention")
LAYER_MUTANTS = [
    (
        _m("batchnorm mean path dropped", "layer", "∂L/∂x without −Σg (the path through μ)",
           (NORM, "    dx += sum_g / n\n", "")),
        ("BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm"),
    ),
    (
        _m("batchnorm variance path dropped", "layer", "∂L/∂x without −x̂ Σ g x̂ (the path through σ²)",
           (NORM, "dx = np.multiply(xhat, sum_gx / n)", "dx = np.zeros_like(xhat)")),
        ("BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm"),
    ),
    (
        _m("N − 1 variance in the normalization", "layer", "Bessel's correction where the forward uses N",
           (NORM, "var = sum_of_products(centered, centered, axes) / math.prod(x.shape[a] for a in axes)",
            "var = sum_of_products(centered, centered, axes) / (math.prod(x.shape[a] for a in axes) - 1)")),
        ("BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm"),
    ),
    (
        _m("gamma left out of dx", "layer", "∂L/∂x from ∂L/∂out, not ∂L/∂out · γ",
           (BATCHNORM, "scale = self._view(gamma, dout.ndim) * r", "scale = r")),
        ("BatchNorm1d", "BatchNorm2d"),
    ),
    (
        _m("running variance biased", "layer", "the running variance updated with the biased σ²",
           (BATCHNORM, "running_var += m * var.reshape(-1) * (n / (n - 1))",
            "running_var += m * var.reshape(-1)")),
        ("BatchNorm1d", "BatchNorm2d"),
    ),
    (
        _m("layernorm dgamma without x-hat", "layer", "∂L/∂γ = Σ ∂L/∂out",
           (LAYERNORM, '"gamma": sum_of_products(dout, xhat, leading)',
            '"gamma": np.sum(dout, axis=leading)')),
        ("LayerNorm",),
    ),
    (
        _m("groupnorm statistics per channel", "layer",
           "μ and σ² over each channel's positions (an InstanceNorm), not over the group's C/G channels",
           (GROUPNORM, "return a.reshape(a.shape[0], self.num_groups, -1, *a.shape[2:])",
            "return a.reshape(a.shape[0], a.shape[1], 1, *a.shape[2:])")),
        ("GroupNorm",),
    ),
    (
        _m("embedding repeats overwritten", "layer", "dW[idx] += dout keeps one of each repeated index",
           (EMBEDDING, "np.add.at(dW, rows, flat)", "dW[rows] += flat")),
        ("Embedding",),
    ),
    (
        _m("wide embedding repeats overwritten", "layer", "the row loop assigns each row, not adds",
           (EMBEDDING, "dW[k] += flat[i]", "dW[k] = flat[i]")),
        ("Embedding",),
    ),
    (
        _m("dropout scale missing in backward", "layer", "∂L/∂x = ∂L/∂out ⊙ keep, without 1 / (1 − p)",
           (DROPOUT, "return mask_apply(dout, cache, self.p), {}", "return dout * cache, {}")),
        ("Dropout",),
    ),
    (
        _m("gelu derivative without z phi(z)", "layer", "GELU′ taken as Φ(z)",
           (ACTIVATION_MATH, "out *= zc\n        out += normal_cdf(z)  # f′ = Φ(z) + z φ(z)",
            "out *= 0\n        out += normal_cdf(z)")),
        ("GELU",),
    ),
    (
        _m("conv flipped kernel in dW", "layer",
           "∂L/∂W with the kernel axes reversed (the textbook's 180° turn where none belongs)",
           (CONV, 'grads = {"W": (g @ cols.T).reshape(W.shape)}',
            'grads = {"W": (g @ cols.T).reshape(W.shape)[:, :, ::-1, ::-1]}')),
        ("Conv2d",),
    ),
    (
        _m("conv padding not stripped", "layer",
           "∂L/∂x read from the padded gradient's corner, not its middle",
           (CONV, "dx = dxp[:, :, ph : ph + shape[2], pw : pw + shape[3]]",
            "dx = dxp[:, :, : shape[2], : shape[3]]")),
        ("Conv2d",),
    ),
    (
        _m("conv dx through the flipped kernel", "layer", "∂L/∂x from the kernel rotated 180° (the full "
           "convolution's flip, applied to the windows' transpose that needs none)",
           (CONV, "kernel = W.reshape(o, -1)", "kernel = W[:, :, ::-1, ::-1].reshape(o, -1)")),
        ("Conv2d",),
    ),
    (
        _m("maxpool = for += with overlapping windows", "layer",
           "each window's gradient assigned to its maximum, so where windows overlap the last one wins",
           (POOL, "np.add.at(dxp.reshape(-1), index.ravel(), dout.ravel())",
            "dxp.reshape(-1)[index.ravel()] = dout.ravel()")),
        ("MaxPool2d",),
    ),
    (
        _m("maxpool gradient sent to every element of the window", "layer",
           "∂L/∂out added to every entry of the window, not to its maximum alone",
           (POOL, "np.add.at(dxp.reshape(-1), index.ravel(), dout.ravel())",
            "np.add.at(dxp.reshape(-1), (starts[..., None] + offsets).ravel(),"
            " np.repeat(dout.ravel(), kh * kw))")),
        ("MaxPool2d",),
    ),
    (
        _m("avgpool not divided by the window size", "layer",
           "∂L/∂x = Σ ∂L/∂out over the windows, without 1 / (kh kw)",
           (POOL, "share = dout / (kh * kw)", "share = dout")),
        ("AvgPool2d",),
    ),
    (
        _m("lstm dc from the next step forgotten", "layer", "∂cₜ = ∂hₜ o (1 − tanh² cₜ), without ∂cₜ₊₁ fₜ₊₁",
           (RECURRENT, "            dc += dc_next\n", "")),
        ("LSTM",),
    ),
    (
        _m("rnn dh from the next step not added", "layer", "∂hₜ = ∂L/∂outₜ, without ∂aₜ₊₁ W_hhᵀ",
           (RECURRENT, "dh = dout[t] + dh_next", "dh = dout[t]")),
        ("RNN", "LSTM"),
    ),
    (
        _m("rnn tanh' taken at h", "layer", "f′ = 1 − tanh²(hₜ), the derivative at the output, not 1 − hₜ²",
           (RECURRENT, "np.multiply(dh, 1 - h * h, out=da[t])",
            "np.multiply(dh, 1 - np.tanh(h) ** 2, out=da[t])")),
        ("RNN",),
    ),
    (
        _m("lstm gates in CS231n's order", "layer", "the blocks read as i, f, o, g, not PyTorch's i, f, g, o",
           (RECURRENT, "i, f, g, o = np.split(z, 4, axis=-1)", "i, f, o, g = np.split(z, 4, axis=-1)")),
        ("LSTM",),
    ),
    (
        _m("attention 1/sqrt(d) left out of the backward", "layer", "∂q = ∂S k, ∂k = ∂Sᵀ q without the 1/√d",
           (ATTENTION, "    dS *= scale  # S = q kᵀ / √d\n", "")),
        ATTENTION_KINDS,
    ),
    (
        _m("attention key padding mask ignored", "layer", "the padded keys attended to",
           (ATTENTION, "mask |= key_padding_mask[:, None, :]", "pass")),
        ATTENTION_KINDS,
    ),
    (
        _m("causal mask shows the next key", "layer", "triu(·, 2) for triu(·, 1): query i sees key i + 1",
           (ATTENTION, "np.triu(np.ones((tq, tk), bool), 1)", "np.triu(np.ones((tq, tk), bool), 2)")),
        ATTENTION_KINDS,
    ),
    (
        _m("residual path dropped in backward", "layer", "∂x = ∂x through f, without the skip's ∂out",
           (RESIDUAL, "dx = g + dout  # the skip path", "dx = g")),
        ("Residual",),
    ),
]  # fmt: skip
LAYER_BY_NAME = {m.name: (m, kinds) for m, kinds in LAYER_MUTANTS}


def plant(mutant, monkeypatch):
    """Put ``mutant``'s edited functions and methods in place of the engine's."""
    for module_name, old, new in mutant.edits:
        module = importlib.import_module(module_name)
        source = inspect.getsource(module)
        if old not in source:
            raise AssertionError(f"mutant {mutant.name!r}: {module_name} no longer contains {old!r}")
        edited = types.ModuleType(module_name)
        edited.__dict__.update(__package__=module.__package__, __file__=module.__file__)
        exec(compile(source.replace(old, new), module.__file__, "exec"), edited.__dict__)  # noqa: S102
        for name, value in vars(module).items():
            replacement = edited.__dict__.get(name)
            if inspect.isfunction(value) and getattr(value, "__module__", None) == module_name:
                _replace_everywhere(monkeypatch, value, replacement)
            elif inspect.isclass(value) and value.__module__ == module_name:
                for attr, member in vars(value).items():
                    if inspect.isfunction(member):
                        monkeypatch.setattr(value, attr, vars(replacement)[attr])


def _replace_everywhere(monkeypatch, old, new):
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("manual"):
            for name, value in list(vars(module).items()):
                if value is old:
                    monkeypatch.setattr(module, name, new)


# ------------------------------------------------------------------ the checks


@functools.cache
def _parity_cases(dtype_name):
    # test_parity's own cached PyTorch results: a worker that has run its checks reuses them
    from test_parity import COMBOS, chosen, result

    cases = []
    for cid, combo in COMBOS.items():
        if np.dtype(combo["dtype"]).name == dtype_name:
            _, net, x, y = chosen(cid)
            cases.append((cid, net, x, y, result(cid, "torch")))
    return cases


def parity(dtype_name, stop=False):
    """``(failing, total)`` configurations of the parity matrix in a dtype, the engine against PyTorch."""
    failing = 0
    cases = _parity_cases(dtype_name)
    for _, net, x, y, theirs in cases:
        if not _agrees(
            lambda net=net, x=x, y=y, theirs=theirs: compare(
                net.loss_and_grads(x, y), theirs, rounding_scale(net, x, y), net.dtype
            )
        ):
            failing += 1
            if stop:
                break
    return failing, len(cases)


@functools.cache
def _trajectory_cases():
    # test_trajectories' own cached torch.optim runs, as above
    from test_trajectories import BATCHING, OPTIMIZERS, RUNS, problem, run

    cases = []
    for opt, loss, batching in RUNS:
        net, x, y = problem(loss, np.float64)
        args = dict(optimizer=OPTIMIZERS[opt](), **BATCHING[batching])
        cases.append((net, x, y, args, run("torch", loss, opt, batching, "float64")))
    return cases


def trajectories(stop=False):
    """``(failing, total)`` float64 1,000-step runs whose loss or params part from
    torch.optim's by over 1e-9."""
    rtol = tolerance("trajectory", np.float64).rtol
    failing = 0
    cases = _trajectory_cases()
    for net, x, y, args, theirs in cases:

        def gaps(net=net, x=x, y=y, args=args, theirs=theirs):
            mine = manual.train(net, x, y, **args)
            loss = trajectory_gap(mine, theirs).loss
            return [loss.max() <= rtol and params_gap(mine.params, theirs.params) <= rtol]

        if not _agrees(gaps):
            failing += 1
            if stop:
                break
    return failing, len(cases)


def finite_differences(stop=False):
    """``(failing, total)`` of the float64 matrix's nets of under 300 params where
    manual.gradcheck disagrees (it compares the engine's backward with its own forward)."""
    failing, total = 0, 0
    for _, net, x, y, _ in _parity_cases("float64"):
        if sum(p.size for layer in net.params for p in layer.values()) > 300:
            continue
        total += 1
        if not _agrees(lambda net=net, x=x, y=y: [manual.gradcheck(net, x, y)]):
            failing += 1
            if stop:
                break
    return failing, total


def _agrees(rows):
    """True when every row of ``rows()`` is ok; a mutant that raises (a shape error) disagrees."""
    try:
        with np.errstate(all="ignore"):
            return all(getattr(r, "ok", r) for r in rows())
    except (ValueError, TypeError, FloatingPointError, IndexError):
        return False


CHECKS = {
    "parity float64": lambda stop: parity("float64", stop),
    "finite differences": finite_differences,
    "trajectories float64": trajectories,
    "parity float32": lambda stop: parity("float32", stop),
}


def caught(mutant, checks=CHECKS, stop=False):
    """``{check: (failing, total)}`` for ``mutant`` planted; with ``stop``, each
    check stops at its first failure and the checks stop at the first that fails."""
    out = {}
    # the matrix picks its nets with the engine's own gradients: pick them, and run the
    # references, before anything is planted
    _parity_cases("float64"), _parity_cases("float32"), _trajectory_cases()
    with pytest.MonkeyPatch.context() as monkeypatch:
        plant(mutant, monkeypatch)
        for name, run in checks.items():
            out[name] = run(stop)
            if stop and out[name][0]:
                break
    return out


def layer_caught(mutant, kinds):
    """``(failing, total)`` float64 layer-parity cases (tests/test_layer_parity.py) of ``kinds``
    that disagree with PyTorch with ``mutant`` planted; the references' results are taken first."""
    from test_layer_parity import CASES, computed

    from crosscheck import layer_compare as lc

    names = [n for n, (layer, *_) in CASES.items() if layer.kind in kinds]
    inputs = {n: computed(n, "f64") for n in names}
    theirs = {}
    for n, (layer, x, params, buffers, train, dout, _, mask, _bound, _) in inputs.items():
        theirs[n] = lc.reference("torch", layer, params, buffers, x, dout, np.float64, train, mask)
    failing = 0
    with pytest.MonkeyPatch.context() as monkeypatch:
        plant(mutant, monkeypatch)
        for n, (layer, x, params, buffers, train, dout, _, _mask, bound, state) in inputs.items():
            rng = None if state is None else np.random.default_rng()
            if rng is not None:
                rng.bit_generator.state = state

            def rows(layer=layer, x=x, params=params, buffers=buffers, train=train, dout=dout, rng=rng, n=n,
                     bound=bound):  # fmt: skip
                mine, _ = lc.engine(layer, params, buffers, x, dout, train, rng)
                return lc.compare(theirs[n], mine, bound, np.float64)

            failing += not _agrees(rows)
    return failing, len(names)


def max_error_of_detection():
    """The smallest relative error of a gradient the float32 parity checks detect,
    per configuration (crosscheck.compare.smallest_detectable): (best, median, worst)."""
    from crosscheck.compare import smallest_detectable

    found = []
    for _, net, x, y, theirs in _parity_cases("float32"):
        found.append(
            max(
                v
                for k, v in smallest_detectable(theirs, rounding_scale(net, x, y), net.dtype).items()
                if k != "loss"
            )
        )
    return float(np.min(found)), float(np.median(found)), float(np.max(found))


def kill_table():
    """The markdown tables: every mutant, which checks catch it, in how many cases."""
    lines = ["| mutant | kind | " + " | ".join(CHECKS) + " |", "|---|---|" + "---:|" * len(CHECKS)]
    for mutant in MUTANTS:
        result = caught(mutant)
        cells = [f"{f} / {t}" if f else "—" for f, t in result.values()]
        lines.append(f"| {mutant.name} | {mutant.kind} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| mutant in a layer kind | what it is | layer parity (float64, against PyTorch) |",
        "|---|---|---:|",
    ]
    for mutant, kinds in LAYER_MUTANTS:
        failing, total = layer_caught(mutant, kinds)
        lines.append(f"| {mutant.name} | {mutant.doc} | {failing} / {total} |")
    best, median, worst = max_error_of_detection()
    lines.append("")
    lines.append(
        f"float32 parity detects a relative error in a gradient down to {best:.1e} (its most sensitive "
        f"configuration), {median:.1e} (the median), {worst:.1e} (its least sensitive)."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    print(kill_table())
