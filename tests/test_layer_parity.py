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

from conftest import require

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
    "flatten": case(manual.Flatten(), floats(2, 3, 4)),
    "flatten-middle": case(manual.Flatten(2, 3), floats(2, 3, 4, 5)),
    # recurrences: with and without the initial states (their gradients dh0, dc0 compared too),
    # one step, fifty steps (the error compounds through W_hh), one input feature
    "rnn-tanh": case(manual.RNN(3, 4), floats(2, 5, 3)),
    "rnn-tanh-h0": case(manual.RNN(3, 4), (floats(2, 5, 3), floats(2, 4, seed=1))),
    "rnn-relu": case(manual.RNN(3, 4, nonlinearity="relu"), floats(2, 5, 3)),
    "rnn-relu-h0": case(manual.RNN(3, 4, nonlinearity="relu"), (floats(2, 5, 3), floats(2, 4, seed=1))),
    "rnn-t1": case(manual.RNN(3, 4), (floats(3, 1, 3), floats(3, 4, seed=1))),
    "rnn-t50": case(manual.RNN(2, 3), (floats(2, 50, 2), floats(2, 3, seed=1))),
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
    # a table of positions added to x: T below max_len (the rows past T get no gradient), and T = max_len
    "positional-embedding": case(manual.PositionalEmbedding(7, 3), floats(2, 5, 3)),
    "positional-embedding-full": case(manual.PositionalEmbedding(4, 3), floats(3, 4, 3)),
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
# every drawn shape costs an XLA compile (~0.8 s): half the default profile's examples
@settings(max_examples=max(1, settings.default.max_examples // 2))
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
