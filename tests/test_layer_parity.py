"""Layer parity: every layer kind's forward output, dx, every param's gradient and
its updated buffers, the engine's against PyTorch's and JAX's, in float64 and
float32, with a random upstream gradient (under out.sum() a batchnorm's true dx
is 0, and a dropped path would pass), each entry within 4 u of its running error
bound (crosscheck.rounding), every compared array informative; and against
central differences of ⟨dout, f⟩ in float64. Fixed cases hold the edge cases
(repeated indices, eval vs train, one feature, a normalization far from 0 and 1);
Hypothesis draws the shapes."""

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import manual
from crosscheck import layer_compare as lc
from crosscheck import rounding

from conftest import compiled_examples, require

DETECT = {np.float64: 1e-6, np.float32: 1e-3}
RNG = np.random.default_rng


def case(layer, x, params=None, buffers=None, train=True):
    """A layer, its input (an array, or a tuple of its inputs: RNN's ``(x, h0)``), params (default:
    drawn by the layer, then perturbed away from 1 and 0) and buffers (default: fresh, for eval
    mode perturbed too)."""
    x = tuple(np.asarray(v) for v in x) if isinstance(x, tuple) else np.asarray(x)
    rng = RNG(len(repr(layer)) + sum(int(v.size) for v in (x if isinstance(x, tuple) else (x,))))
    if params is None:
        params = layer.init_params(rng, np.float64)
        params = {
            k: v + rng.uniform(0.2, 0.8, v.shape) * rng.choice([-1, 1], v.shape) for k, v in params.items()
        }
    if buffers is None:
        buffers = layer.init_buffers(np.float64)
        if not train:
            buffers = {k: v + rng.uniform(0.1, 0.9, v.shape) for k, v in buffers.items()}
    return layer, x, params, buffers, train


def floats(*shape, mean=0.0, scale=1.0, seed=0):
    return mean + scale * RNG(seed).standard_normal(shape)


def SDPA(causal=False):
    return manual.ScaledDotProductAttention(causal)


def qkv(n, heads, steps, d):
    return tuple(floats(n, heads, steps, d, scale=1.5, seed=seed) for seed in range(3))


def padding(n, steps, front=False):
    """A key_padding_mask (True = ignore): sample 0 its last two keys, sample 1 its first (front)
    or none; never every key of a query."""
    mask = np.zeros((n, steps), bool)
    mask[0, -2:] = True
    if front:
        mask[1, 0] = True
    return mask


CASES = {
    "linear": case(manual.Linear(3, 4), floats(5, 3)),
    "linear-no-bias": case(manual.Linear(3, 4, bias=False), floats(5, 3)),
    "linear-3d": case(manual.Linear(4, 2), floats(2, 3, 4)),
    "linear-1-1": case(manual.Linear(1, 1), floats(6, 1)),
    "sigmoid": case(manual.Sigmoid(), floats(4, 7, scale=3)),
    "tanh": case(manual.Tanh(), floats(4, 7, scale=2)),
    "relu": case(manual.ReLU(), floats(4, 7)),
    "leaky-relu": case(manual.LeakyReLU(0.2), floats(4, 7)),
    "identity": case(manual.Identity(), floats(4, 7)),
    "softmax": case(manual.Softmax(), floats(4, 7, scale=3)),
    "softmax-dim1": case(manual.Softmax(dim=1), floats(3, 4, 5, scale=2)),
    "log-softmax": case(manual.LogSoftmax(dim=1), floats(3, 4, 5, scale=2)),
    "gelu": case(manual.GELU(), floats(4, 7, scale=3)),
    "gelu-tanh": case(manual.GELU("tanh"), floats(4, 7, scale=3)),
    "silu": case(manual.SiLU(), floats(4, 7, scale=3)),
    # a normalization far from 0 and 1, gamma and beta away from 1 and 0 (case() perturbs them)
    "batchnorm1d": case(manual.BatchNorm1d(4), floats(6, 4, mean=3, scale=5)),
    "batchnorm1d-ncl": case(manual.BatchNorm1d(3), floats(4, 3, 5, mean=-2, scale=4)),
    "batchnorm1d-eval": case(manual.BatchNorm1d(4), floats(6, 4, mean=3, scale=5), train=False),
    "batchnorm1d-one-feature": case(manual.BatchNorm1d(1, momentum=0.3), floats(5, 1, mean=1, scale=3)),
    "batchnorm1d-no-affine": case(manual.BatchNorm1d(4, affine=False), floats(6, 4, mean=3, scale=5)),
    "batchnorm1d-untracked-eval": case(
        manual.BatchNorm1d(4, track_running_stats=False), floats(6, 4, mean=3, scale=5), train=False
    ),
    "batchnorm2d": case(manual.BatchNorm2d(3), floats(2, 3, 4, 5, mean=2, scale=3)),
    "batchnorm2d-eval": case(manual.BatchNorm2d(3), floats(2, 3, 4, 5, mean=2, scale=3), train=False),
    "layernorm": case(manual.LayerNorm(6), floats(4, 6, mean=-3, scale=4)),
    "layernorm-2-axes": case(manual.LayerNorm((3, 4)), floats(2, 5, 3, 4, mean=2, scale=3)),
    "layernorm-no-affine": case(
        manual.LayerNorm(6, elementwise_affine=False), floats(4, 6, mean=-3, scale=4)
    ),
    # groups of one channel (an InstanceNorm), of all channels (G = 1), and between; far from 0 and 1
    "groupnorm-2-of-6": case(manual.GroupNorm(2, 6), floats(2, 6, 3, 4, mean=3, scale=5)),
    "groupnorm-1-group": case(manual.GroupNorm(1, 4), floats(3, 4, 2, 3, mean=-2, scale=4)),
    "groupnorm-per-channel": case(manual.GroupNorm(3, 3), floats(2, 3, 4, 5, mean=4, scale=0.2)),
    "groupnorm-ncl": case(manual.GroupNorm(2, 4), floats(3, 4, 5, mean=-3, scale=3)),
    "groupnorm-no-affine": case(manual.GroupNorm(2, 4, affine=False), floats(2, 4, 3, 3, mean=2, scale=3)),
    "dropout": case(manual.Dropout(0.3), floats(5, 6)),
    "dropout-eval": case(manual.Dropout(0.3), floats(5, 6), train=False),
    "dropout-p0": case(manual.Dropout(0.0), floats(5, 6)),
    # repeated indices: a fancy-index dW[idx] += dout keeps one of each
    "embedding": case(manual.Embedding(5, 3), np.array([[0, 1, 1], [4, 1, 0]])),
    "embedding-every-index-repeated": case(
        manual.Embedding(3, 4), np.array([[2, 2], [2, 0], [0, 1], [1, 1]])
    ),
    # from embedding_dim 128 on the engine accumulates row by row instead of np.add.at
    "embedding-wide": case(manual.Embedding(4, 130), np.array([[3, 3, 1], [0, 3, 1]])),
    # T below num_positions: the rows past T have a gradient of exactly 0
    "positional": case(manual.PositionalEmbedding(6, 3), floats(4, 5, 3)),
    "positional-full": case(manual.PositionalEmbedding(2, 4), floats(3, 2, 4)),
    "flatten": case(manual.Flatten(), floats(2, 3, 4)),
    "flatten-middle": case(manual.Flatten(2, 3), floats(2, 3, 4, 5)),
    "conv2d-3x3": case(manual.Conv2d(2, 3, 3), floats(2, 2, 5, 6)),
    # padding 1: a dx_padded[:, :, p:-p] slice and a border that must be cut off, not shifted
    "conv2d-padding-1": case(manual.Conv2d(2, 3, 3, padding=1), floats(2, 2, 5, 5)),
    # 7 × 5 with a 2 × 2 kernel at stride 2: the last row and column no window reaches (dx = 0 there)
    "conv2d-stride-2-remainder": case(manual.Conv2d(2, 3, 2, stride=2), floats(2, 2, 7, 5)),
    "conv2d-stride-2-padding-1": case(manual.Conv2d(2, 2, 3, stride=2, padding=1), floats(2, 2, 7, 6)),
    # one output row at stride 3 with a row left over: XLA's own gradient of this aborted the process
    "conv2d-stride-3-one-row": case(
        manual.Conv2d(2, 2, 2, stride=(3, 2), padding=(0, 1)), floats(1, 2, 3, 8)
    ),
    "conv2d-rectangular": case(
        manual.Conv2d(2, 3, (2, 3), stride=(2, 1), padding=(1, 0)), floats(2, 2, 6, 5)
    ),
    "conv2d-no-bias": case(manual.Conv2d(2, 3, 3, padding=1, bias=False), floats(2, 2, 4, 5)),
    "conv2d-1x1": case(manual.Conv2d(3, 2, 1), floats(2, 3, 4, 4)),
    "conv2d-one-channel": case(manual.Conv2d(1, 4, 3, padding=1), floats(3, 1, 5, 5)),
    # W' = 17: the backward's col2im keeps the batch first from rows of 16 on (shorter ones put it last)
    "conv2d-long-rows": case(manual.Conv2d(2, 3, 3, stride=(1, 2), padding=1), floats(2, 2, 3, 34)),
    # C·k_h·k_w = 144 and N·H'·W' = 144 terms per sum: longer than a block of 128
    "conv2d-many-terms": case(manual.Conv2d(16, 3, 3, padding=1), floats(4, 16, 6, 6)),
    # pooling: windows side by side, overlapping (an entry collects from several windows: +=),
    # a remainder no window reaches (dx 0 there), pads (−∞ for max: the data sit below 0, so a
    # zero pad would win; zeros counted for avg), rectangular kernels and strides
    "maxpool-2": case(manual.MaxPool2d(2), floats(2, 3, 4, 4)),
    "avgpool-2": case(manual.AvgPool2d(2), floats(2, 3, 4, 4)),
    "maxpool-3-stride-1": case(manual.MaxPool2d(3, stride=1), floats(2, 2, 5, 6)),
    "avgpool-3-stride-1": case(manual.AvgPool2d(3, stride=1), floats(2, 2, 5, 6)),
    "maxpool-3-stride-2": case(manual.MaxPool2d(3, stride=2), floats(2, 2, 7, 7)),
    "avgpool-3-stride-2": case(manual.AvgPool2d(3, stride=2), floats(2, 2, 7, 7)),
    "maxpool-remainder": case(manual.MaxPool2d(2, stride=3), floats(2, 2, 7, 5)),
    "avgpool-remainder": case(manual.AvgPool2d(3, stride=2), floats(2, 2, 6, 5)),
    "maxpool-padding-1": case(manual.MaxPool2d(3, stride=2, padding=1), floats(2, 2, 6, 5, mean=-2)),
    "avgpool-padding-1": case(manual.AvgPool2d(3, stride=2, padding=1), floats(2, 2, 6, 5, mean=1)),
    "maxpool-rectangular": case(
        manual.MaxPool2d((2, 3), stride=(1, 2), padding=(1, 0)), floats(2, 2, 5, 7, mean=-1)
    ),
    "avgpool-rectangular": case(manual.AvgPool2d((3, 2), stride=(2, 1), padding=(1, 1)), floats(2, 2, 6, 5)),
    # recurrences: with and without the initial states (their gradients dh0, dc0 compared too),
    # one step, fifty steps (the error compounds through W_hh), one input feature
    "rnn-tanh": case(manual.RNN(3, 4), floats(2, 5, 3)),
    "rnn-tanh-h0": case(manual.RNN(3, 4), (floats(2, 5, 3), floats(2, 4, seed=1))),
    "rnn-relu": case(manual.RNN(3, 4, nonlinearity="relu"), floats(2, 5, 3)),
    "rnn-relu-h0": case(manual.RNN(3, 4, nonlinearity="relu"), (floats(2, 5, 3), floats(2, 4, seed=1))),
    "rnn-t1": case(manual.RNN(3, 4), (floats(3, 1, 3), floats(3, 4, seed=1))),
    "rnn-t50": case(manual.RNN(2, 3), (floats(2, 50, 2), floats(2, 3, seed=1))),
    # relu does not saturate: with case()'s enlarged weights the states (and the bound, which
    # grows as |W_hh|^T) explode over 50 steps; PyTorch's own init keeps them in range
    "rnn-relu-t50": case(
        manual.RNN(2, 3, nonlinearity="relu"),
        (floats(2, 50, 2), floats(2, 3, seed=1)),
        params=manual.RNN(2, 3).init_params(RNG(3), np.float64),
    ),
    "rnn-input-size-1": case(manual.RNN(1, 3), floats(3, 4, 1)),
    "lstm": case(manual.LSTM(3, 4), floats(2, 5, 3)),
    "lstm-h0": case(manual.LSTM(3, 4), (floats(2, 5, 3), floats(2, 4, seed=1))),
    "lstm-h0-c0": case(manual.LSTM(3, 4), (floats(2, 5, 3), floats(2, 4, seed=1), floats(2, 4, seed=2))),
    "lstm-t1": case(manual.LSTM(3, 4), (floats(3, 1, 3), floats(3, 4, seed=1), floats(3, 4, seed=2))),
    "lstm-t50": case(manual.LSTM(2, 3), (floats(2, 50, 2), floats(2, 3, seed=1), floats(2, 3, seed=2))),
    "lstm-input-size-1": case(manual.LSTM(1, 3), floats(3, 4, 1)),
    # attention: (q, k, v) with heads (N, H, T, d), Tq != Tk and dv != d; causal; key padding
    # (sample 0's last keys, sample 1's first); both (padding at the end, so key 0 stays); one token
    "attention": case(
        SDPA(), (floats(2, 3, 4, 5, scale=2), floats(2, 3, 6, 5, seed=1), floats(2, 3, 6, 3, seed=2))
    ),
    "attention-no-heads-axis": case(
        SDPA(), (floats(3, 4, 2), floats(3, 4, 2, seed=1), floats(3, 4, 5, seed=2))
    ),
    "attention-causal": case(SDPA(causal=True), qkv(2, 2, 5, 4)),
    "attention-one-head": case(SDPA(), qkv(3, 1, 4, 3)),
    "attention-padding-mask": case(SDPA(), (*qkv(2, 2, 6, 4), padding(2, 6, front=True))),
    "attention-causal-padding-mask": case(SDPA(causal=True), (*qkv(2, 2, 6, 4), padding(2, 6))),
    "attention-causal-one-token": case(SDPA(causal=True), qkv(3, 2, 1, 4)),
    "multihead-attention-one-head": case(manual.MultiheadAttention(6, 1), floats(2, 5, 6)),
    "multihead-attention-4-heads": case(manual.MultiheadAttention(8, 4), floats(2, 5, 8)),
    "multihead-attention-causal": case(manual.MultiheadAttention(8, 2, causal=True), floats(3, 6, 8)),
    "multihead-attention-padding-mask": case(
        manual.MultiheadAttention(8, 2), (floats(2, 5, 8), padding(2, 5, front=True))
    ),
    "multihead-attention-causal-padding-no-bias": case(
        manual.MultiheadAttention(8, 2, causal=True, bias=False), (floats(2, 5, 8), padding(2, 5))
    ),
    "multihead-attention-causal-one-token": case(
        manual.MultiheadAttention(4, 2, causal=True), floats(3, 1, 4)
    ),
    # a residual around a LayerNorm and a Linear, and a transformer block's attention half
    "residual-layernorm-linear": case(
        manual.Residual([manual.LayerNorm(6), manual.Linear(6, 6)]), floats(4, 6, mean=1, scale=2)
    ),
    "residual-layernorm-mha": case(
        manual.Residual([manual.LayerNorm(8), manual.MultiheadAttention(8, 2, causal=True)]), floats(2, 5, 8)
    ),
}
# Gradients that are 0 in exact arithmetic, asserted within their rounding bound instead of
# informative: ∂b_k (b_k adds q_i · b_k to every score of query i, which its softmax ignores),
# and with one token ∂q, ∂k (the softmax over one key is 1 whatever the score)
EXACTLY_ZERO = ("db_k", ".b_k")
ZERO_WITH_ONE_TOKEN = {
    "attention-causal-one-token": ("dq", "dk"),
    "multihead-attention-causal-one-token": ("dW_q", "dW_k", "db_q"),
}
# float32 under a MultiheadAttention: Σ_j ∂S_ij = 0 makes the key path's sum over positions (in
# ∂b_q, and in a LayerNorm's ∂β, ∂γ before it) a cancellation of terms far larger than the
# result, in every implementation; the least detectable error measured is 1.5e-3 for the layer
# alone (∂b_q), 2.3e-2 under a LayerNorm (∂γ). float64 sees 4e-11 there: the sharp comparison.
DETECT_THROUGH_ATTENTION = 3e-2
DTYPES = {"f64": np.float64, "f32": np.float32}


def _cast(arrays, dtype):
    return {k: np.asarray(v, dtype) for k, v in arrays.items()}


def _cast_input(x, dtype):
    """x in the dtype (each float entry of a tuple of inputs); indices and masks as they are."""
    if isinstance(x, tuple):
        return tuple(_cast_input(v, dtype) for v in x)
    return x.astype(dtype) if x.dtype.kind == "f" else x


@functools.cache
def computed(name, dtype_name):
    """The engine's result, its mask, the upstream gradient and the bounds, in the dtype."""
    layer, x, params, buffers, train = CASES[name]
    dtype = DTYPES[dtype_name]
    params, buffers = _cast(params, dtype), _cast(buffers, dtype)
    x = _cast_input(x, dtype)
    rng = RNG(7) if layer.draws else None
    state = None if rng is None else rng.bit_generator.state
    out, _ = layer.forward(params, x, train=train, rng=RNG(7) if rng else None, buffers=_cast(buffers, dtype))
    dout = RNG(11).standard_normal(out.shape).astype(dtype)
    mine, mask = lc.engine(layer, params, buffers, x, dout, train, rng)
    bound = lc.bounds(layer, params, buffers, x, dout, train, mask)
    return layer, x, params, buffers, train, dout, mine, mask, bound, state


@pytest.mark.parametrize("dtype_name", list(DTYPES))
@pytest.mark.parametrize("name", list(CASES))
def test_every_compared_array_is_informative(name, dtype_name):
    *_, mine, _, bound, _ = computed(name, dtype_name)
    dtype = DTYPES[dtype_name]
    found = lc.detectable(mine, bound, dtype)
    zero = [k for k in found if k.endswith(EXACTLY_ZERO) or k in ZERO_WITH_ONE_TOKEN.get(name, ())]
    attention = "MultiheadAttention" in repr(computed(name, dtype_name)[0])
    detect = DETECT_THROUGH_ATTENTION if attention and dtype == np.float32 else DETECT[dtype]
    assert all(v <= detect for k, v in found.items() if k not in zero), found
    for k in zero:  # 0 in exact arithmetic: within its rounding of it
        value, b = mine.arrays()[k], bound.arrays()[k]
        assert (np.abs(np.asarray(value, np.float64)) <= rounding.allowed(rounding.lift(b), dtype)).all(), k


@pytest.mark.parametrize("reference", ["torch", "jax"])
@pytest.mark.parametrize("dtype_name", list(DTYPES))
@pytest.mark.parametrize("name", list(CASES))
def test_the_engine_agrees_with_the_frameworks(name, dtype_name, reference):
    require(reference)
    layer, x, params, buffers, train, dout, mine, mask, bound, _ = computed(name, dtype_name)
    theirs = lc.reference(reference, layer, params, buffers, x, dout, DTYPES[dtype_name], train, mask)
    rows = lc.compare(theirs, mine, bound, DTYPES[dtype_name])
    assert all(r.ok for r in rows), [r for r in rows if not r.ok]


@pytest.mark.parametrize("name", list(CASES))
def test_the_engine_agrees_with_central_differences(name):
    layer, x, params, buffers, train, dout, mine, _, _, state = computed(name, "f64")
    rows = lc.compare_numeric(mine, lc.numeric(layer, params, buffers, x, dout, train, state))
    assert all(r.ok for r in rows), [r for r in rows if not r.ok]


def test_central_differences_reach_a_non_contiguous_array():
    """A column selection (check_layer's LSTM gate blocks permuted) is not C-contiguous: its flat
    reshape is a copy, and moving that would leave the array, and the function, untouched."""
    from manual.gradcheck import central_differences

    a = RNG(0).standard_normal((3, 8))[:, [0, 1, 3, 2, 4, 5, 7, 6]]
    assert not a.flags.c_contiguous
    w = RNG(1).standard_normal(a.shape)
    grad = central_differences(lambda: float(np.sum(w * a**2)), a)
    np.testing.assert_allclose(grad, 2 * w * a, rtol=1e-7, atol=1e-9)  # ∂/∂a Σ w a² = 2 w a


@pytest.mark.parametrize("name", list(CASES))
def test_float32_stays_float32(name):
    """No silent upcast: the output, dx, every gradient and buffer of a float32 layer are float32."""
    *_, mine, _, _, _ = computed(name, "f32")
    for k, v in mine.arrays().items():
        assert np.asarray(v).dtype == np.float32, (k, np.asarray(v).dtype)


def test_the_cases_cover_every_layer_kind():
    kinds = {layer.kind for layer, *_ in CASES.values()}
    assert kinds == set(manual.layers.KINDS)


# ------------------------------------------------------------------ shapes from Hypothesis

SHAPES = st.tuples(st.integers(2, 9), st.integers(1, 6))


@given(
    shape=SHAPES,
    seed=st.integers(0, 2**16),
    kind=st.sampled_from(["Linear", "BatchNorm1d", "LayerNorm", "Softmax", "GELU", "Embedding"]),
)
@settings(max_examples=compiled_examples(15))
def test_drawn_shapes_agree_with_both_frameworks(shape, seed, kind):
    require("torch", "jax")
    batch, width = shape
    rng = RNG(seed)
    layer = {
        "Linear": lambda: manual.Linear(width, int(rng.integers(1, 5))),
        "BatchNorm1d": lambda: manual.BatchNorm1d(width),
        "LayerNorm": lambda: manual.LayerNorm(width),
        "Softmax": lambda: manual.Softmax(),
        "GELU": lambda: manual.GELU(),
        "Embedding": lambda: manual.Embedding(width + 1, 3),
    }[kind]()
    x = (
        rng.integers(0, width + 1, (batch, 2))
        if kind == "Embedding"
        else rng.standard_normal((batch, width)) * 3 + 1
    )
    layer, x, params, buffers, train = case(layer, x)
    dout_shape = layer.forward(params, x, train=True, buffers=_cast(buffers, np.float64))[0].shape
    dout = rng.standard_normal(dout_shape)
    mine, mask = lc.engine(layer, params, buffers, x, dout, True)
    bound = lc.bounds(layer, params, buffers, x, dout, True, mask)
    for reference in ("torch", "jax"):
        theirs = lc.reference(reference, layer, params, buffers, x, dout, np.float64, True, mask)
        rows = lc.compare(theirs, mine, bound, np.float64)
        assert all(r.ok for r in rows), (reference, [r for r in rows if not r.ok])


# ------------------------------------------------------------------ convolution


@st.composite
def convolutions(draw):
    """A Conv2d and its input's shape: kernels 1 to 4 per axis, strides 1 to 3, paddings 0 to 2
    (0 included), sizes from the smallest the padded kernel fits up to 9 high and 40 wide
    (remainders included; rows of 16 and more take the backward's other layout)."""
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    size = [draw(st.integers(max(1, k - 2 * p), top)) for k, p, top in zip(kernel, padding, (9, 40))]
    c, o, n = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    bias = draw(st.booleans())
    return manual.Conv2d(c, o, kernel, stride, padding, bias), (n, c, *size)


@given(conv=convolutions(), seed=st.integers(0, 2**16), dtype_name=st.sampled_from(list(DTYPES)))
@settings(max_examples=compiled_examples(12))
def test_drawn_convolutions_agree_with_both_frameworks(conv, seed, dtype_name):
    require("torch", "jax")
    layer, shape = conv
    dtype = DTYPES[dtype_name]
    rng = RNG(seed)
    layer, x, params, _, _ = case(layer, rng.standard_normal(shape))
    params, x = _cast(params, dtype), x.astype(dtype)
    dout = rng.standard_normal((shape[0], *layer.output_shape(shape[1:]))).astype(dtype)
    mine, _ = lc.engine(layer, params, {}, x, dout, True)
    bound = lc.bounds(layer, params, {}, x, dout, True)
    for reference in ("torch", "jax"):
        theirs = lc.reference(reference, layer, params, {}, x, dout, dtype, True)
        rows = lc.compare(theirs, mine, bound, dtype)
        assert all(r.ok for r in rows), (reference, [r for r in rows if not r.ok])


# ------------------------------------------------------------------ pooling


@given(
    data=st.data(),
    kind=st.sampled_from(["MaxPool2d", "AvgPool2d"]),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=compiled_examples(12))
def test_drawn_pooling_geometries_agree_with_both_frameworks(data, kind, seed):
    """Kernel, stride and padding per axis (padding 0 included, where a ``p:-p`` slice would be
    empty; stride 1 with a 3×3 window; sizes that leave a remainder), both dtypes."""
    require("torch", "jax")
    kernel = data.draw(st.tuples(st.integers(1, 4), st.integers(1, 4)), "kernel")
    stride = data.draw(st.tuples(st.integers(1, 4), st.integers(1, 4)), "stride")
    padding = tuple(data.draw(st.integers(0, k // 2), f"padding {axis}") for axis, k in zip("HW", kernel))
    size = tuple(
        data.draw(st.integers(max(1, k - 2 * p), 9), f"size {axis}")
        for axis, k, p in zip("HW", kernel, padding)
    )
    batch, channels = data.draw(st.integers(1, 3), "batch"), data.draw(st.integers(1, 3), "channels")
    layer = getattr(manual, kind)(kernel, stride=stride, padding=padding)
    rng = RNG(seed)
    x64 = rng.standard_normal((batch, channels, *size)) * 2 - 0.5  # continuous: no ties
    for dtype in (np.float64, np.float32):
        x = x64.astype(dtype)
        out, _ = layer.forward({}, x)
        assert out.shape == (batch, channels, *layer.output_shape((channels, *size))[1:])
        dout = rng.standard_normal(out.shape).astype(dtype)
        mine, _ = lc.engine(layer, {}, {}, x, dout)
        bound = lc.bounds(layer, {}, {}, x, dout)
        for reference in ("torch", "jax"):
            theirs = lc.reference(reference, layer, {}, {}, x, dout, dtype)
            rows = lc.compare(theirs, mine, bound, dtype)
            assert all(r.ok for r in rows), (reference, dtype, [r for r in rows if not r.ok])


TIED = np.array(
    [
        [1.0, 3.0, 3.0, 0.0],
        [3.0, 2.0, 1.0, 1.0],
        [0.0, 0.0, 5.0, 5.0],
        [0.0, 0.0, 5.0, 5.0],
    ]
)[None, None]


@pytest.mark.parametrize("dtype_name", list(DTYPES))
def test_a_tied_maximum_sends_its_gradient_to_the_first_in_row_major_order(dtype_name):
    """2×2 windows of TIED: [[1, 3], [3, 2]] ties 3 at (0, 1) and (1, 0); [[3, 0], [1, 1]] has one
    3 at (0, 2); [[0, 0], [0, 0]] and [[5, 5], [5, 5]] tie everywhere. By hand, each window's
    gradient goes to its first maximum, top row first, left to right: ∂out[0, 0] to (0, 1),
    ∂out[0, 1] to (0, 2), ∂out[1, 0] to (2, 0), ∂out[1, 1] to (2, 2); every other entry gets 0.
    PyTorch routes so (its kernels replace the kept maximum only on a strictly greater value),
    and so does JAX (select_and_scatter_add, choosing with ≥)."""
    dtype = DTYPES[dtype_name]
    x = TIED.astype(dtype)
    layer = manual.MaxPool2d(2)
    a, b, c, d = 0.7, -1.3, 2.1, 0.4
    dout = np.array([[a, b], [c, d]], dtype)[None, None]
    out, cache = layer.forward({}, x)
    dx, grads = layer.backward(dout, cache)
    hand = np.zeros((4, 4), dtype)
    hand[0, 1], hand[0, 2], hand[2, 0], hand[2, 2] = a, b, c, d
    np.testing.assert_array_equal(out[0, 0], np.array([[3, 3], [0, 5]], dtype))
    np.testing.assert_array_equal(dx[0, 0], hand)
    assert dx.dtype == dtype and grads == {}
    for reference in ("torch", "jax"):
        require(reference)
        theirs = lc.reference(reference, layer, {}, {}, x, dout, dtype)
        np.testing.assert_array_equal(theirs.dx, dx, err_msg=reference)


@pytest.mark.parametrize("dtype_name", list(DTYPES))
def test_tied_maxima_in_overlapping_windows_add_up_where_they_are_routed(dtype_name):
    """3×3 windows, stride 1, padding 1: 16 windows over TIED, window (r, c) centred on entry
    (r, c), ∂out = 1 everywhere. By hand, each window's first maximum in row-major order:

        centres (0, 0) (0, 1) (0, 2) (1, 0)   max 3, first at (0, 1) (before (1, 0)'s 3)   → 4
        centre  (0, 3)                        max 3 at (0, 2) alone (columns 2–3)          → 1
        centre  (2, 0)                        max 3 at (1, 0) (rows 1–3, columns 0–1)      → 1
        centre  (3, 0)                        all 0, first at (2, 0)                       → 1
        the 9 others                          max 5, first at (2, 2)                       → 9

    so ∂x is 4, 1, 1, 1, 9 at (0, 1), (0, 2), (1, 0), (2, 0), (2, 2), 0 elsewhere, the
    overlapping windows' gradients added (16 in all); PyTorch and JAX give the same."""
    dtype = DTYPES[dtype_name]
    x = TIED.astype(dtype)
    layer = manual.MaxPool2d(3, stride=1, padding=1)
    out, cache = layer.forward({}, x)
    dout = np.ones_like(out)
    dx, _ = layer.backward(dout, cache)
    hand = np.zeros((4, 4), dtype)
    hand[0, 1], hand[0, 2], hand[1, 0], hand[2, 0], hand[2, 2] = 4, 1, 1, 1, 9
    np.testing.assert_array_equal(dx[0, 0], hand)
    for reference in ("torch", "jax"):
        require(reference)
        theirs = lc.reference(reference, layer, {}, {}, x, dout, dtype)
        np.testing.assert_array_equal(theirs.dx, dx, err_msg=reference)


@given(
    shape=st.tuples(st.integers(1, 4), st.integers(1, 8), st.integers(1, 4), st.integers(1, 5)),
    seed=st.integers(0, 2**16),
    kind=st.sampled_from(["RNN", "RNN-relu", "LSTM"]),
    states=st.integers(0, 2),
)
@settings(max_examples=compiled_examples(12))
def test_drawn_sequence_shapes_agree_with_both_frameworks(shape, seed, kind, states):
    """(N, T, in, H) drawn, T = 1 and one sample included; x alone, (x, h0) or (x, h0, c0)."""
    require("torch", "jax")
    n, steps, size, hidden = shape
    rng = RNG(seed)
    layer = manual.LSTM(size, hidden) if kind == "LSTM" else manual.RNN(size, hidden, kind[4:] or "tanh")
    states = min(states, len(layer.inputs) - 1)
    x = rng.standard_normal((n, steps, size)) * 2
    x = (x, *(rng.standard_normal((n, hidden)) for _ in range(states))) if states else x
    layer, x, params, buffers, train = case(layer, x)
    dout = rng.standard_normal((n, steps, hidden))
    mine, _ = lc.engine(layer, params, buffers, x, dout, True)
    bound = lc.bounds(layer, params, buffers, x, dout, True)
    for reference in ("torch", "jax"):
        theirs = lc.reference(reference, layer, params, buffers, x, dout, np.float64, True)
        rows = lc.compare(theirs, mine, bound, np.float64)
        assert all(r.ok for r in rows), (reference, [r for r in rows if not r.ok])


@given(
    n=st.integers(1, 3),
    steps=st.integers(1, 6),
    heads=st.sampled_from([1, 2, 4]),
    head_dim=st.integers(1, 3),
    causal=st.booleans(),
    padded=st.booleans(),
    kind=st.sampled_from(["ScaledDotProductAttention", "MultiheadAttention", "Residual"]),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=compiled_examples(8))  # ~0.8 s of XLA compile each
def test_drawn_attention_shapes_agree_with_both_frameworks(
    n, steps, heads, head_dim, causal, padded, kind, seed
):
    """N, T, heads and E = heads · head_dim drawn (T = 1 and one head included), causal or not,
    a random key padding mask or none (key 0 always kept, so no query loses every key), in
    float64 against both frameworks; the bare layer on (N, heads, T, head_dim)."""
    require("torch", "jax")
    rng = RNG(seed)
    E = heads * head_dim
    mask = rng.random((n, steps)) < 0.4
    mask[:, 0] = False
    if kind == "ScaledDotProductAttention":
        layer = manual.ScaledDotProductAttention(causal)
        x = tuple(rng.standard_normal((n, heads, steps, head_dim)) * 1.5 for _ in range(3))
    else:
        layer = manual.MultiheadAttention(E, heads, causal=causal)
        x = rng.standard_normal((n, steps, E))
        if kind == "Residual":
            layer, padded = manual.Residual([manual.LayerNorm(E), layer]), False  # plain x in a Residual
    x = (*(x if isinstance(x, tuple) else (x,)), mask) if padded else x
    layer, x, params, buffers, train = case(layer, x)
    out, _ = layer.forward(params, x, train=True)
    dout = rng.standard_normal(out.shape)
    mine, _ = lc.engine(layer, params, buffers, x, dout, True)
    bound = lc.bounds(layer, params, buffers, x, dout, True)
    for reference in ("torch", "jax"):
        theirs = lc.reference(reference, layer, params, buffers, x, dout, np.float64, True)
        rows = lc.compare(theirs, mine, bound, np.float64)
        assert all(r.ok for r in rows), (reference, [r for r in rows if not r.ok])


@pytest.mark.parametrize("kind", ["RNN", "RNN-relu", "LSTM"])
def test_the_norm_bound_of_a_recurrence_holds_where_it_is_the_tighter(kind, monkeypatch):
    """At H = 24 over 20 steps (PyTorch's init) the bound of the carried error by its norm,
    ‖Jₜ‖₂ r + own (crosscheck/layers/recurrent.py), is below the entry-by-entry one for many
    entries: the engine still agrees with both frameworks within it, in both dtypes, and every
    array is informative in float64 (float32's ∂h0 and ∂W at this size: 1e-3 to 1e-2)."""
    require("torch", "jax")
    from crosscheck.layers import recurrent

    layer = manual.LSTM(3, 24) if kind == "LSTM" else manual.RNN(3, 24, kind[4:] or "tanh")
    params = layer.init_params(RNG(3), np.float64)
    x = (floats(2, 20, 3), floats(2, 24, seed=1), floats(2, 24, seed=2))[: len(layer.inputs)]
    dout = RNG(11).standard_normal((2, 20, 24))
    for dtype in (np.float64, np.float32):
        p, xs, d = _cast(params, dtype), _cast_input(x, dtype), dout.astype(dtype)
        mine, _ = lc.engine(layer, p, {}, xs, d)
        bound = lc.bounds(layer, p, {}, xs, d)
        for reference in ("torch", "jax"):
            rows = lc.compare(lc.reference(reference, layer, p, {}, xs, d, dtype), mine, bound, dtype)
            assert all(r.ok for r in rows), (dtype, reference, [r for r in rows if not r.ok])
        if dtype == np.float64:
            assert all(v <= DETECT[np.float64] for v in lc.detectable(mine, bound, dtype).values())
    with monkeypatch.context() as m:
        m.setattr(recurrent, "tightened", lambda t, r: t)  # the entry-by-entry bound alone
        entrywise = lc.bounds(layer, params, {}, x, dout)
    bound = lc.bounds(layer, params, {}, x, dout)
    for name, b in bound.arrays().items():
        assert np.all(b.e <= entrywise.arrays()[name].e), name
    assert np.mean(bound.out.e < entrywise.out.e) > 0.1


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype_name", list(DTYPES))
def test_gelu_far_out_gives_its_limits_without_overflowing(approximate, dtype_name):
    """Far from 0, GELU(z) = z and GELU′ = 1 above, 0 and 0 below (Φ and tanh saturate): hand
    algebra. z², z³ overflow long before that (z³ · (1 − t²) = inf · 0 was NaN); the suite turns
    any NumPy warning into a failure."""
    dtype = DTYPES[dtype_name]
    big = np.array([1e3, 2e13, np.finfo(dtype).max / 4], dtype)
    z = np.concatenate([-big, big])[None]
    layer = manual.GELU(approximate)
    out, cache = layer.forward({}, z, train=True)
    dz, _ = layer.backward(np.ones_like(z), cache)
    np.testing.assert_array_equal(out, np.where(z > 0, z, 0))
    np.testing.assert_array_equal(dz, (z > 0).astype(dtype))
    assert out.dtype == dz.dtype == dtype
