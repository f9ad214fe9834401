"""``manual.Sequential``: its loss and gradients against PyTorch's and JAX's (each
entry within 4 u of its running error bound, the arrays informative), the MLP's
twin equal to the MLP, training with every optimizer step by step beside
torch.optim and optax (dropout masks and running statistics included), a
checkpoint that resumes bit-exactly, gradcheck and the trace, bad input refused
before anything changes, and one description (``from_spec``) for every net."""

import numpy as np
import pytest

import manual
from crosscheck import backends, rounding
from crosscheck import layer_compare as lc
from crosscheck.compare import params_gap, trajectory_gap
from crosscheck.tolerances import tolerance

from conftest import require

RNG = np.random.default_rng


def makemore(dtype=np.float64, dropout=0.0, seed=0):
    layers = [
        manual.Embedding(11, 4),
        manual.Flatten(),
        manual.Linear(12, 16, bias=False),
        manual.BatchNorm1d(16),
        manual.Tanh(),
    ]
    layers += [manual.Dropout(dropout)] if dropout else []
    return manual.Sequential([*layers, manual.Linear(16, 11)], loss="cross_entropy", seed=seed, dtype=dtype)


def token_data(n=24, seed=1):
    rng = RNG(seed)
    return rng.integers(0, 11, (n, 3)), rng.integers(0, 11, n)


def float_data(n, features, outputs, loss, seed=2):
    rng = RNG(seed)
    x = rng.standard_normal((n, features)) * 2 + 0.5
    if loss == "bce":
        y = rng.integers(0, 2, (n, outputs)).astype(float)
    elif loss in ("cross_entropy_labels", "nll"):
        y = rng.integers(0, outputs, n)
    elif loss == "cross_entropy_probs":
        y = RNG(seed + 1).dirichlet(np.ones(outputs), n)
    else:
        y = rng.standard_normal((n, outputs))
    return x, y


def conv_net(dtype=np.float64, seed=7, padding=1):
    """Conv2d (stride 2; padding 1: 5 × 6 → 3 × 3), ReLU, Flatten, Linear: a small CNN."""
    conv = manual.Conv2d(2, 3, 3, stride=2, padding=padding)
    width = int(np.prod(conv.output_shape((2, 5, 6))))
    layers = [conv, manual.ReLU(), manual.Flatten(), manual.Linear(width, 4)]
    return manual.Sequential(layers, loss="cross_entropy", seed=seed, dtype=dtype)


def image_data(n=6, seed=8):
    rng = RNG(seed)
    return rng.standard_normal((n, 2, 5, 6)) * 2 + 0.5, rng.integers(0, 4, n)


NETS = {
    "makemore": lambda dtype: (makemore(dtype), *token_data()),
    "makemore-dropout": lambda dtype: (makemore(dtype, dropout=0.25), *token_data()),
    "mse-gelu-layernorm": lambda dtype: (
        manual.Sequential(
            [manual.Linear(5, 8), manual.LayerNorm(8), manual.GELU(), manual.Linear(8, 3)],
            loss="mse",
            seed=3,
            dtype=dtype,
        ),
        *float_data(7, 5, 3, "mse"),
    ),
    "bce-silu-sum": lambda dtype: (
        manual.Sequential(
            [manual.Linear(4, 6), manual.SiLU(), manual.Linear(6, 2)],
            loss="bce",
            reduction="sum",
            seed=4,
            dtype=dtype,
        ),
        *float_data(6, 4, 2, "bce"),
    ),
    "cross-entropy-probabilities": lambda dtype: (
        manual.Sequential([manual.Linear(4, 6), manual.ReLU(), manual.Linear(6, 5)], seed=5, dtype=dtype),
        *float_data(6, 4, 5, "cross_entropy_probs"),
    ),
    "nll-log-softmax": lambda dtype: (
        manual.Sequential(
            [manual.Linear(4, 6), manual.Tanh(), manual.Linear(6, 5), manual.LogSoftmax()],
            loss="nll",
            seed=6,
            dtype=dtype,
        ),
        *float_data(6, 4, 5, "nll"),
    ),
    "conv-relu-flatten-linear": lambda dtype: (conv_net(dtype), *image_data()),
    # overlapping max windows, then padded average ones: 5×5 → 4×4 → 3×3 per channel
    "pooling": lambda dtype: (
        manual.Sequential(
            [
                manual.MaxPool2d(2, stride=1),
                manual.AvgPool2d(2, padding=1),
                manual.Flatten(),
                manual.Linear(18, 4),
            ],
            seed=7,
            dtype=dtype,
        ),
        RNG(8).standard_normal((6, 2, 5, 5)),
        RNG(9).integers(0, 4, 6),
    ),
    # a sequence model: the LSTM's output (N, T, H) into a Linear over the last axis, per step
    "lstm-linear-mse": lambda dtype: (
        manual.Sequential([manual.LSTM(3, 5), manual.Linear(5, 4)], loss="mse", seed=7, dtype=dtype),
        RNG(8).standard_normal((4, 6, 3)),
        RNG(9).standard_normal((4, 6, 4)),
    ),
    "rnn-linear-cross-entropy-per-step": lambda dtype: (
        manual.Sequential([manual.RNN(3, 5), manual.Linear(5, 4)], seed=8, dtype=dtype),
        RNG(8).standard_normal((4, 6, 3)),
        RNG(9).integers(0, 4, (4, 6)),
    ),
}
DTYPES = {"f64": np.float64, "f32": np.float32}
DETECT = {np.float64: 1e-6, np.float32: 1e-3}
# float32 through a BatchNorm: the bound of its dx composes three sums over the batch and their
# cancellation (dx is a small part of its terms); the least detectable error measured is 3.5e-3
# (the embedding's gradient; float64 sees 6.5e-12). The float64 comparison is the sharp one.
DETECT_THROUGH_BATCHNORM = 1e-2


def _net(name, dtype_name):
    net, x, y = NETS[name](DTYPES[dtype_name])
    x = x.astype(net.dtype) if x.dtype.kind == "f" else x
    y = y.astype(net.dtype) if y.dtype.kind == "f" else y
    return net, x, y


@pytest.mark.parametrize("reference", ["torch", "jax"])
@pytest.mark.parametrize("dtype_name", list(DTYPES))
@pytest.mark.parametrize("name", list(NETS))
def test_loss_gradients_and_buffers_agree_with_the_frameworks(name, dtype_name, reference):
    require(reference)
    net, x, y = _net(name, dtype_name)
    masks = backends.next_masks(net, len(x), x.shape[1:])
    mine = backends.loss_and_grads("manual", net, x, y)
    theirs = backends.loss_and_grads(reference, net, x, y)
    bound = lc.sequential_bounds(net, x, y, None if masks is None else masks[0])
    found = lc.sequential_detectable(mine, bound, net.dtype)
    # the bias before a BatchNorm has a gradient of exactly 0: the makemore nets have none
    batchnorm = any(layer.kind.startswith("BatchNorm") for layer in net.layers)
    detect = DETECT_THROUGH_BATCHNORM if batchnorm and net.dtype == np.float32 else DETECT[net.dtype.type]
    assert all(v <= detect for v in found.values()), found
    rows = lc.compare_sequential(theirs, mine, bound, net.dtype)
    assert all(r.ok for r in rows), [r for r in rows if not r.ok]


@pytest.mark.parametrize(
    "sizes, activation, output, loss, reduction, bias",
    [
        ([3, 4, 2], "sigmoid", None, "mse", "sum", True),
        ([3, 5, 4, 2], "tanh", "sigmoid", "bce", "mean", True),
        ([2, 6, 3], "relu", "softmax", "cross_entropy", "mean", False),
        ([2, 6, 3], "leaky_relu", "softmax", "mse", "sum", True),
        ([4, 3, 1], "identity", None, "mse", "mean", True),
    ],
)
def test_the_mlps_sequential_twin_gives_its_loss_and_gradients(
    sizes, activation, output, loss, reduction, bias
):
    net = manual.MLP(
        sizes,
        activation=activation,
        output_activation=output,
        loss=loss,
        reduction=reduction,
        bias=bias,
        init="xavier",
        seed=1,
    )
    rng = RNG(0)
    x = rng.standard_normal((5, sizes[0]))
    y = (
        np.eye(sizes[-1])[rng.integers(0, sizes[-1], 5)]
        if loss == "cross_entropy"
        else rng.random((5, sizes[-1]))
    )
    twin = net.to_sequential()
    mine, theirs = net.loss_and_grads(x, y), twin.loss_and_grads(x, y)
    linear = [i for i, layer in enumerate(twin.layers) if layer.kind == "Linear"]
    assert theirs[0] == pytest.approx(mine[0], rel=1e-15, abs=1e-300)
    for l, i in enumerate(linear):
        for k in mine[1][l]:
            np.testing.assert_allclose(theirs[1][i][k], mine[1][l][k], rtol=1e-14, atol=1e-300)


# ------------------------------------------------------------------ training


OPTIMIZERS = {
    "sgd": lambda: manual.SGD(lr=0.1),
    "momentum": lambda: manual.SGD(lr=0.05, momentum=0.9),
    "nesterov": lambda: manual.SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam": lambda: manual.Adam(lr=1e-2),
    "adamw": lambda: manual.AdamW(lr=1e-2),
}


@pytest.mark.parametrize("reference", ["torch", "jax"])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_training_follows_the_frameworks_step_by_step(optimizer, reference):
    """50 shuffled mini-batch steps of the makemore net with dropout: the masks the engine
    draws, replayed by the harness, given to the references; params every step and the
    running statistics at the end within the trajectory tolerance."""
    require(reference)
    net = makemore(dropout=0.2)
    x, y = token_data(40)
    opt = OPTIMIZERS[optimizer]()
    mine = backends.train("manual", net, x, y, opt, epochs=10, batch_size=8, shuffle_seed=3, record_every=1)
    theirs = backends.train(
        reference, net, x, y, opt, epochs=10, batch_size=8, shuffle_seed=3, record_every=1
    )
    gap = trajectory_gap(mine, theirs)
    tol = tolerance("trajectory", np.float64).rtol
    assert len(gap.steps) == 51 and gap.params.max() <= tol and gap.loss.max() <= tol, (
        gap.params.max(),
        gap.loss.max(),
    )
    final = mine.net.buffers
    assert (
        max(np.abs(final[3][k] - theirs.buffers[3][k]).max() / np.abs(final[3][k]).max() for k in final[3])
        <= tol
    )


def test_a_checkpoint_resumes_bit_exactly(tmp_path):
    """Dropout's generator, the running statistics and Adam's moments: 3 epochs, saved, loaded
    and 3 more equal 6 unbroken, to the last bit."""
    net = makemore(dropout=0.3)
    x, y = token_data(40)
    opt = manual.Adam(lr=1e-2)
    whole = manual.train(net, x, y, opt, epochs=6, batch_size=8, shuffle_seed=2)
    half = manual.train(net, x, y, opt, epochs=3, batch_size=8, shuffle_seed=2)
    manual.save(tmp_path / "run.npz", half.net, half.state)
    loaded, state = manual.load(tmp_path / "run.npz", expect=half.net)
    rest = manual.train(loaded, x, y, opt, epochs=3, batch_size=8, shuffle_seed=2, resume=state)
    np.testing.assert_array_equal(np.concatenate([half.losses, rest.losses]), whole.losses)
    for a, b in zip(rest.net.params + rest.net.buffers, whole.net.params + whole.net.buffers):
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])


def test_a_loop_of_ones_own_checkpoints_and_resumes_bit_exactly(tmp_path):
    """A Trainer loop saved with trainer.train_state() and resumed through Trainer(state=...)
    equals the unbroken loop to the last bit, Dropout's masks, Adam's moments and BatchNorm's
    statistics included; a net saved alone draws the masks the saved one would next."""
    net = makemore(dropout=0.3)
    x, y = token_data(16)
    unbroken = manual.Trainer(net.copy(), manual.Adam(lr=1e-2))
    for _ in range(3):
        unbroken.step(x, y)
    manual.save(tmp_path / "loop.npz", unbroken.net, unbroken.train_state())
    alone = unbroken.net.copy()
    manual.save(tmp_path / "net.npz", alone)
    loaded, state = manual.load(tmp_path / "loop.npz")
    resumed = manual.Trainer(loaded, manual.Adam(lr=1e-2), state=state)
    for _ in range(3):
        assert unbroken.step(x, y) == resumed.step(x, y)
    for a, b in zip(unbroken.net.params + unbroken.net.buffers, resumed.net.params + resumed.net.buffers):
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    again, none = manual.load(tmp_path / "net.npz")
    assert none is None
    np.testing.assert_array_equal(again.forward(x, train=True), alone.forward(x, train=True))
    with pytest.raises(ValueError, match="state: made with the optimizer"):
        manual.Trainer(loaded, manual.SGD(lr=1e-2), state=state)


def test_train_refuses_a_last_batch_a_layer_cannot_take_before_any_step():
    net = makemore()
    x, y = token_data(17)  # batches of 8, 8 and 1: BatchNorm cannot take the last
    with pytest.raises(ValueError) as info:
        manual.train(net, x, y, manual.SGD(lr=0.1), epochs=1, batch_size=8)
    assert str(info.value).startswith(
        "batch_size=8 on 17 samples: a train-mode batch of 1: layer 3 (BatchNorm1d(16))"
    )


def test_gradcheck_and_the_trace_work_on_a_sequential():
    net = makemore(dropout=0.25)
    x, y = token_data(12)
    result = manual.gradcheck(net, x, y)
    assert result.ok, result.report()
    assert {(c.layer, c.name) for c in result.checks} == {
        (1, "W"),
        (3, "W"),
        (4, "gamma"),
        (4, "beta"),
        (7, "W"),
        (7, "b"),
    }
    text = str(net.trace(x, y))
    assert "layer 3  BatchNorm1d(16)" in text and "dgamma" in text and "train mode" in text


def test_train_and_eval_modes_differ_where_they_should():
    net = makemore(dropout=0.5)
    x, y = token_data(16)
    before = [dict((k, v.copy()) for k, v in b.items()) for b in net.buffers]
    eval_out = net.forward(x)
    assert all(np.array_equal(a[k], b[k]) for a, b in zip(before, net.buffers) for k in a)  # eval: untouched
    np.testing.assert_array_equal(net.forward(x), eval_out)  # and no dropout
    net.loss_and_grads(x, y)
    assert not np.array_equal(net.buffers[3]["running_mean"], before[3]["running_mean"])  # train: updated


# ------------------------------------------------------------------ bad input


def _state(net):
    return [v.copy() for p in net.params + net.buffers for v in p.values()], net.rng.bit_generator.state


BAD = [
    (
        "floats for an Embedding",
        lambda: (np.ones((4, 3)), np.zeros(4, int)),
        TypeError,
        "x, for layer 0 (Embedding(11, 4)): expected integer indices, got dtype float64",
    ),
    (
        "booleans for an Embedding",
        lambda: (np.ones((4, 3), bool), np.zeros(4, int)),
        TypeError,
        "booleans are not indices",
    ),
    (
        "an index out of range",
        lambda: (np.full((4, 3), 11), np.zeros(4, int)),
        ValueError,
        "x, for layer 0 (Embedding(11, 4)): expected indices in [0, 11), got 11 at index (0, 0)",
    ),
    (
        "labels of the wrong shape",
        lambda: (np.zeros((4, 3), int), np.zeros((4, 2), int)),
        ValueError,
        "expected integer labels of shape (4,)",
    ),
    (
        "a label out of range",
        lambda: (np.zeros((4, 3), int), np.full(4, 11)),
        ValueError,
        "expected labels in [0, 11)",
    ),
    (
        "a context of the wrong length",
        lambda: (np.zeros((4, 2), int), np.zeros(4, int)),
        ValueError,
        "layer 2 (Linear(12, 16, bias=False)): expected inputs of shape (..., 12), got per-sample shape (8,)",
    ),
    (
        "a batch of one in train mode",
        lambda: (np.zeros((1, 3), int), np.zeros(1, int)),
        ValueError,
        "layer 3 (BatchNorm1d(16)): expected more than one value per channel in train mode",
    ),
    (
        "a sample of the wrong rank",
        lambda: (np.zeros((4, 3, 2), int), np.zeros(4, int)),
        ValueError,
        "layer 2 (Linear(12, 16, bias=False)): expected inputs of shape (..., 12), "
        "got per-sample shape (24,)",
    ),
]


@pytest.mark.parametrize("what, data, error, fragment", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_refused_before_anything_changes(what, data, error, fragment):
    net = makemore(dropout=0.2)
    before, rng = _state(net)
    x, y = data()
    with pytest.raises(error) as info:
        net.loss_and_grads(x, y)
    assert fragment in str(info.value)
    after, rng_after = _state(net)
    assert all(np.array_equal(a, b) for a, b in zip(before, after)) and rng_after == rng


CONV_BAD = [
    (
        "channels that do not match the kernel",
        1,
        np.ones((4, 3, 5, 6)),
        "layer 0 (Conv2d(2, 3, 3, stride=2, padding=1)): expected C = 2 channels on axis 1 (in_channels), "
        "got per-sample shape (3, 5, 6)",
    ),
    (
        "a kernel larger than the padded input",
        0,
        np.ones((4, 2, 5, 2)),
        "layer 0 (Conv2d(2, 3, 3, stride=2)): expected W + 2 · padding >= kernel (3), got W = 2 with "
        "padding 0 (per-sample shape (2, 5, 2))",
    ),
    (
        "a sample of the wrong rank",
        1,
        np.ones((4, 2, 30)),
        "layer 0 (Conv2d(2, 3, 3, stride=2, padding=1)): expected inputs of shape (N, C, H, W) with C = 2, "
        "got per-sample shape (2, 30) (rank 2, not 3)",
    ),
]


@pytest.mark.parametrize("what, padding, x, message", CONV_BAD, ids=[b[0] for b in CONV_BAD])
def test_bad_input_to_a_convolution_is_refused_before_anything_changes(what, padding, x, message):
    net = conv_net(padding=padding)
    before, _ = _state(net)
    with pytest.raises(ValueError) as info:
        net.loss_and_grads(x, np.zeros(4, int))
    assert str(info.value) == message
    after, _ = _state(net)
    assert all(np.array_equal(a, b) for a, b in zip(before, after))


def _recurrent(layer, x):
    """A recurrent layer's forward on x; its params left as they were (checked before any step)."""
    params = layer.init_params(RNG(0), np.float64)
    before = {k: v.copy() for k, v in params.items()}
    try:
        return layer.forward(params, x)
    finally:
        assert all(np.array_equal(before[k], params[k]) for k in params)


@pytest.mark.parametrize(
    "build, error, fragment",
    [
        (lambda: manual.Conv2d(1, 2, 3, stride=0), ValueError, "stride: expected an integer >= 1, got 0"),
        (
            lambda: manual.Conv2d(1, 2, 3, padding=(1, -1)),
            ValueError,
            "padding: expected an integer >= 0, got -1",
        ),
        (lambda: manual.Conv2d(1, 2, 0), ValueError, "kernel_size: expected an integer >= 1, got 0"),
        (
            lambda: manual.Conv2d(1, 2, (3, 3, 3)),
            ValueError,
            "kernel_size: expected an int or a pair (height, width), got (3, 3, 3)",
        ),
        (lambda: manual.Conv2d(1, 2, 2.5), TypeError, "kernel_size: expected an int or a pair of ints"),
        (lambda: manual.Conv2d(0, 2, 3), ValueError, "in_channels: expected an integer >= 1, got 0"),
        (lambda: manual.Conv2d(1, 2, 3, bias=1), TypeError, "bias: expected True or False, got 1"),
        (
            lambda: manual.Sequential([manual.Conv2d(1, 4, 3), manual.ReLU(), manual.Conv2d(3, 2, 3)]),
            ValueError,
            "layer 2 (Conv2d(3, 2, 3)): expected C = 3 channels on axis 1 (in_channels), "
            "got per-sample shape (4, None, None)",
        ),
        (
            lambda: manual.Sequential([manual.Linear(3, 4), manual.Linear(5, 2)]),
            ValueError,
            "layer 1 (Linear(5, 2)): expected inputs of shape (..., 5), got per-sample shape (..., 4)",
        ),
        (lambda: manual.Dropout(1.0), ValueError, "p: expected a number in [0, 1), got 1.0"),
        (
            lambda: manual.Sequential([manual.Linear(3, 4), manual.Softmax()]),
            ValueError,
            "loss 'cross_entropy' takes logits (it applies the softmax itself), but the last layer is "
            "Softmax",
        ),
        (lambda: manual.Sequential([{"kind": "Conv9d"}]), ValueError, "unknown layer kind 'Conv9d'"),
        (
            lambda: manual.Sequential([{"kind": "BatchNorm1d", "num_features": 3, "foo": 1}], loss="mse"),
            ValueError,
            "layer BatchNorm1d: unknown argument 'foo'; BatchNorm1d takes ['num_features', 'eps',",
        ),
        (lambda: manual.Softmax(dim=0), ValueError, "dim=0 is the batch axis"),
        (
            lambda: manual.Sequential([manual.Linear(3, 2)]).forward(np.ones((2, 3), bool)),
            TypeError,
            "got bool booleans",
        ),
        (
            lambda: manual.Sequential.from_params(
                [manual.BatchNorm1d(3)],
                [{"gamma": np.ones(3), "beta": np.zeros(3)}],
                [{"running_mean": np.zeros(3), "running_var": -np.ones(3)}],
                loss="mse",
            ),
            ValueError,
            "buffers[0]['running_var']: expected variances >= 0, got -1.0 at 0",
        ),
        (
            lambda: manual.Sequential.from_params(
                [manual.BatchNorm1d(3)],
                [{"gamma": np.ones(3), "beta": np.zeros(3)}],
                [{"running_mean": np.full(3, np.nan), "running_var": np.ones(3)}],
                loss="mse",
            ),
            ValueError,
            "buffers[0]['running_mean']: expected finite values, got nan",
        ),
        (
            lambda: manual.Sequential.from_params(
                [manual.BatchNorm1d(3)],
                [{"gamma": np.ones(3), "beta": np.zeros(3)}],
                [{"running_mean": np.array(["a", "b", "c"]), "running_var": np.ones(3)}],
                loss="mse",
            ),
            TypeError,
            "buffers[0]['running_mean']: expected a float array, got dtype <U1",
        ),
        (
            lambda: manual.Sequential([manual.Linear(3, 4), manual.Embedding(4, 2)]),
            ValueError,
            "takes integer indices, so it can only come first",
        ),
        (lambda: manual.BatchNorm1d(0), ValueError, "num_features: expected an integer >= 1, got 0"),
        (
            lambda: manual.Sequential([manual.Linear(3, 2)]).loss_and_grads(
                np.zeros((2, 3), int), np.zeros(2, int)
            ),
            TypeError,
            "x: expected floats (float64, the net's dtype) for Linear(3, 2), got int64 integers; "
            "indices want an Embedding",
        ),
        (
            lambda: manual.Sequential([manual.BatchNorm1d(3)], loss="mse").loss_and_grads(
                np.ones((4, 3, 2, 2)), np.ones((4, 3, 2, 2))
            ),
            ValueError,
            "layer 0 (BatchNorm1d(3)): expected (N, C) or (N, C, L), got per-sample shape (3, 2, 2)",
        ),
        (
            lambda: manual.Sequential([manual.Linear(3, 2)]).loss_and_grads(
                np.full((2, 3), np.nan), np.zeros(2, int)
            ),
            ValueError,
            "x: expected finite values, got nan",
        ),
        (
            lambda: manual.Sequential([manual.Linear(3, 2)]).loss_and_grads(
                np.ones((2, 3), np.float32), np.zeros(2, int)
            ),
            TypeError,
            "x: expected dtype float64 (the net's dtype), got float32",
        ),
        (
            lambda: manual.Sequential(
                [manual.Embedding(5, 3), manual.PositionalEmbedding(4, 3), manual.Linear(3, 5)]
            ).loss_and_grads(np.zeros((2, 6), int), np.zeros((2, 6), int)),
            ValueError,
            "layer 1 (PositionalEmbedding(4, 3)): expected per-sample shape (T, 3) with T <= 4 "
            "(num_positions), got (6, 3)",
        ),
        (lambda: manual.MaxPool2d(2, stride=0), ValueError, "stride: expected integers >= 1, got 0"),
        (
            lambda: manual.AvgPool2d(2, stride=(1, 0)),
            ValueError,
            "stride: expected integers >= 1, got (1, 0)",
        ),
        (lambda: manual.AvgPool2d(3, padding=-1), ValueError, "padding: expected integers >= 0, got -1"),
        (
            lambda: manual.MaxPool2d(3, padding=2),
            ValueError,
            "padding: expected at most half the kernel (1 on H for kernel 3, as PyTorch), got 2",
        ),
        (
            lambda: manual.AvgPool2d((4, 1), padding=(0, 1)),
            ValueError,
            "padding: expected at most half the kernel (0 on W for kernel 1, as PyTorch), got 1",
        ),
        (
            lambda: manual.MaxPool2d(2.0),
            TypeError,
            "kernel_size: expected an int or a pair of ints (H, W), got 2.0",
        ),
        (lambda: manual.MaxPool2d((2, 2, 2)), TypeError, "got (2, 2, 2)"),
        (
            lambda: manual.Sequential(
                [{"kind": "MaxPool2d", "kernel_size": 2, "ceil_mode": True}], loss="mse"
            ),
            ValueError,
            "layer MaxPool2d: unknown argument 'ceil_mode'; MaxPool2d takes ['kernel_size', 'stride', "
            "'padding']",
        ),
        (
            lambda: manual.Sequential([manual.MaxPool2d(5, padding=1)], loss="mse").loss_and_grads(
                np.ones((2, 1, 5, 2)), np.ones((2, 1, 1, 1))
            ),
            ValueError,
            "layer 0 (MaxPool2d(5, padding=1)): expected W + 2 · padding >= kernel (5), got W = 2 with "
            "padding 1 (per-sample shape (1, 5, 2))",
        ),
        (
            lambda: manual.Sequential([manual.AvgPool2d(2), manual.Flatten()], loss="mse").loss_and_grads(
                np.ones((2, 4, 4)), np.ones((2, 4))
            ),
            ValueError,
            "layer 0 (AvgPool2d(2)): expected (N, C, H, W), got per-sample shape (4, 4)",
        ),
        # recurrences: x (N, T, input_size), h0 and c0 (N, hidden_size)
        (
            lambda: manual.Sequential([manual.LSTM(3, 4), manual.Linear(4, 2)], loss="mse").loss_and_grads(
                np.ones((2, 3)), np.ones((2, 2))
            ),
            ValueError,
            "layer 0 (LSTM(3, 4)): expected sequences of per-sample shape (T, 3) (T >= 1 steps of "
            "input_size 3), got per-sample shape (3,)",
        ),
        (
            lambda: manual.Sequential([manual.RNN(3, 4), manual.Linear(4, 2)], loss="mse").loss_and_grads(
                np.ones((2, 5, 2)), np.ones((2, 5, 2))
            ),
            ValueError,
            "layer 0 (RNN(3, 4)): expected sequences of per-sample shape (T, 3) (T >= 1 steps of "
            "input_size 3), got per-sample shape (5, 2)",
        ),
        (
            lambda: manual.Sequential([manual.RNN(3, 4), manual.Linear(5, 2)]),
            ValueError,
            "layer 1 (Linear(5, 2)): expected inputs of shape (..., 5), got per-sample shape (None, 4)",
        ),
        (
            lambda: _recurrent(manual.RNN(3, 4), np.ones((2, 3))),
            ValueError,
            "x: expected shape (N, T, 3), got (2, 3)",
        ),
        (
            lambda: _recurrent(manual.RNN(3, 4), np.ones((2, 0, 3))),
            ValueError,
            "expected sequences of per-sample shape (T, 3) (T >= 1 steps of input_size 3), "
            "got per-sample shape (0, 3)",
        ),
        (
            lambda: _recurrent(manual.RNN(3, 4), (np.ones((2, 5, 3)), np.ones((2, 5)))),
            ValueError,
            "h0: expected shape (2, 4) (N, hidden_size), got (2, 5)",
        ),
        (
            lambda: _recurrent(manual.LSTM(3, 4), (np.ones((2, 5, 3)), np.ones((2, 4)), np.ones((4,)))),
            ValueError,
            "c0: expected shape (2, 4) (N, hidden_size), got (4,)",
        ),
        (
            lambda: _recurrent(manual.RNN(3, 4), (np.ones((2, 5, 3)), np.ones((2, 4)), np.ones((2, 4)))),
            ValueError,
            "RNN: expected x or a tuple of the first of ('x', 'h0'), got a tuple of 3",
        ),
        (
            lambda: _recurrent(manual.LSTM(3, 4), (np.ones((2, 5, 3), np.float32), np.ones((2, 4)))),
            TypeError,
            "h0: expected float32 like x, got float64",
        ),
        (
            lambda: _recurrent(manual.LSTM(3, 4), [np.ones((2, 5, 3))]),
            TypeError,
            "x: expected a float array, got list",
        ),
        (
            lambda: manual.RNN(3, 4, nonlinearity="sigmoid"),
            ValueError,
            "nonlinearity: expected one of ('tanh', 'relu'), got 'sigmoid'",
        ),
        (lambda: manual.LSTM(3, 0), ValueError, "hidden_size: expected an integer >= 1, got 0"),
    ],
)
def test_bad_layers_and_inputs_say_what_was_expected(build, error, fragment):
    with pytest.raises(error) as info:
        build()
    assert fragment in str(info.value)


def test_layers_whose_config_holds_a_pair_are_equal_and_hash_by_their_config():
    a, b = manual.Conv2d(1, 2, (2, 3), padding=(1, 0)), manual.Conv2d(1, 2, [2, 3], padding=[1, 0])
    assert a == b and hash(a) == hash(b) and len({a, b, manual.LayerNorm((3, 4))}) == 2
    assert manual.layers.from_config(manual.layers.describe(a)) == a != manual.Conv2d(1, 2, (3, 2))


def test_a_pooling_net_refuses_a_kernel_larger_than_its_input_before_anything_changes():
    net = manual.Sequential([manual.AvgPool2d(3), manual.Flatten(), manual.Linear(4, 2)], loss="mse", seed=0)
    before, rng = _state(net)
    x, y = np.ones((3, 1, 6, 6)), np.ones((3, 2))
    assert net.loss_and_grads(x, y)[0] > 0  # 6×6 pools to 2×2: 4 features
    with pytest.raises(ValueError) as info:
        net.loss_and_grads(np.ones((3, 1, 6, 2)), y)
    assert "layer 0 (AvgPool2d(3)): expected W + 2 · padding >= kernel (3), got W = 2 with padding 0" in str(
        info.value
    )
    after, rng_after = _state(net)
    assert all(np.array_equal(a, b) for a, b in zip(before, after)) and rng_after == rng


def _pad(mask_rows, steps=5):
    mask = np.zeros((len(mask_rows), steps), bool)
    for i, row in enumerate(mask_rows):
        mask[i, list(row)] = True
    return mask


QKV = tuple(RNG(seed).standard_normal((2, 3, 5, 4)) for seed in range(3))
X_ATTENTION = RNG(0).standard_normal((2, 5, 8))


@pytest.mark.parametrize(
    "call, error, fragment",
    [
        (
            lambda: manual.ScaledDotProductAttention().forward({}, (*QKV, _pad([[], range(5)]))),
            ValueError,
            "every key is masked for query 0 of sample 1 (key_padding_mask): its softmax has no entries",
        ),
        (
            lambda: manual.MultiheadAttention(8, 2, causal=True).forward({}, (X_ATTENTION, _pad([[1], [0]]))),
            ValueError,
            "every key is masked for query 0 of sample 1 (key_padding_mask and the causal mask)",
        ),
        (
            lambda: manual.MultiheadAttention(6, 4),
            ValueError,
            "embed_dim: expected a multiple of num_heads (4), got 6",
        ),
        (lambda: manual.MultiheadAttention(8, 0), ValueError, "num_heads: expected an integer >= 1, got 0"),
        (
            lambda: manual.MultiheadAttention(8, 2).forward({}, X_ATTENTION[:, 0]),
            ValueError,
            "x: expected (N, T, 8), got shape (2, 8)",
        ),
        (
            lambda: manual.MultiheadAttention(8, 2).forward({}, X_ATTENTION[..., :6]),
            ValueError,
            "expected inputs of shape (N, T, 8) (batch first, embed_dim last), got per-sample shape (5, 6)",
        ),
        (
            lambda: manual.MultiheadAttention(8, 2).forward({}, (X_ATTENTION, np.zeros((2, 6), bool))),
            ValueError,
            "key_padding_mask: expected shape (N, Tk) = (2, 5), got (2, 6)",
        ),
        (
            lambda: manual.ScaledDotProductAttention().forward({}, (*QKV, np.zeros((2, 5)))),
            TypeError,
            "key_padding_mask: expected a bool array (True = ignore that key), got float64",
        ),
        (
            lambda: manual.ScaledDotProductAttention().forward({}, QKV[:2]),
            ValueError,
            "expected a tuple (q, k, v) or (q, k, v, key_padding_mask), got a tuple of 2",
        ),
        (
            lambda: manual.ScaledDotProductAttention().forward({}, (QKV[0], QKV[1][..., :3], QKV[2])),
            ValueError,
            "expected q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv) with the same leading axes, got "
            "per-sample shapes q (3, 5, 4), k (3, 5, 3), v (3, 5, 4)",
        ),
        (
            lambda: manual.ScaledDotProductAttention().forward(
                {}, (QKV[0], QKV[1], QKV[2].astype(np.float32))
            ),
            TypeError,
            "q, k, v: expected floats of one dtype, got ['float64', 'float64', 'float32']",
        ),
        (
            lambda: manual.Sequential(
                [manual.Linear(2, 4), manual.Residual([manual.Linear(4, 3)])], loss="mse"
            ),
            ValueError,
            "layer 1 (Residual([Linear(4, 3)])): x + f(x) needs f to keep the shape: the layers "
            "[Linear(4, 3)] turn per-sample shape (..., 4) into (..., 3)",
        ),
        (
            lambda: manual.Sequential(
                [manual.Residual([manual.LayerNorm(4), manual.Linear(4, 3)])], loss="mse"
            ).loss_and_grads(np.ones((2, 4)), np.ones((2, 4))),
            ValueError,
            "layer 0 (Residual([LayerNorm((4,)), Linear(4, 3)])): x + f(x) needs f to keep the shape: "
            "the layers [LayerNorm((4,)), Linear(4, 3)] turn per-sample shape (4,) into (3,)",
        ),
        (
            lambda: manual.Sequential(
                [manual.Residual([manual.MultiheadAttention(8, 2)])], loss="mse"
            ).loss_and_grads(np.ones((2, 5, 6)), np.ones((2, 5, 6))),
            ValueError,
            "layer 0 (Residual([MultiheadAttention(8, 2)])): inner layer 0 (MultiheadAttention(8, 2)): "
            "expected inputs of shape (N, T, 8)",
        ),
        (
            lambda: manual.Residual([manual.Embedding(4, 4)]),
            ValueError,
            "layers[0]: Embedding(4, 4) takes integer indices: x + f(x) needs float x",
        ),
        (lambda: manual.Residual([]), TypeError, "layers: expected a non-empty list of layers, got list"),
        (
            lambda: manual.Residual([manual.Dropout(0.1)]),
            ValueError,
            "inside a Residual is not supported yet",
        ),
    ],
)
def test_bad_attention_and_residual_input_is_refused_before_anything_is_computed(call, error, fragment):
    with pytest.raises(error) as info:
        call()
    assert fragment in str(info.value)


def test_a_residual_inner_running_variance_is_checked_too():
    layers = [manual.Residual([manual.BatchNorm1d(3)])]
    buffers = [{"0.running_mean": np.zeros(3), "0.running_var": np.array([1.0, -1.0, 1.0])}]
    with pytest.raises(
        ValueError, match=r"buffers\[0\]\['0.running_var'\]: expected variances >= 0, got -1.0 at 1"
    ):
        manual.Sequential.from_params(
            layers, [{"0.gamma": np.ones(3), "0.beta": np.zeros(3)}], buffers, loss="mse"
        )


def test_a_refused_residual_leaves_the_net_untouched():
    net = manual.Sequential([manual.Residual([manual.LayerNorm(4), manual.Linear(4, 3)])], loss="mse", seed=0)
    before = net.copy()
    with pytest.raises(ValueError, match="needs f to keep the shape"):
        net.loss_and_grads(np.ones((2, 4)), np.ones((2, 4)))
    assert all(np.array_equal(a[k], b[k]) for a, b in zip(net.params, before.params) for k in a)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_attention_treats_a_padded_key_as_absent(dtype):
    """Hand algebra: with keys 3 and 4 of sample 0 padded, its output is attention over keys 0-2
    alone (q kᵀ/√d, exp, normalize, times v, written out here), every dq, dk, dv of a padded key
    exactly 0, and P exactly 0 there; float32 stays float32, and no warning (the suite's
    filterwarnings=error) from an exp(−inf)."""
    q, k, v = (a.astype(dtype) for a in QKV)
    mask = _pad([[3, 4], []])
    layer = manual.ScaledDotProductAttention()
    out, cache = layer.forward({}, (q, k, v, mask))
    s = q[0] @ k[0, :, :3].transpose(0, 2, 1) / np.sqrt(4)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    np.testing.assert_allclose(out[0], p @ v[0, :, :3], rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert out.dtype == dtype
    P = cache[0][0]
    assert (P[0, :, :, 3:] == 0).all() and (P[1] > 0).all()
    (dq, dk, dv, dmask), grads = layer.backward(RNG(5).standard_normal(out.shape).astype(dtype), cache)
    assert grads == {} and dmask is None and (dk[0, :, 3:] == 0).all() and (dv[0, :, 3:] == 0).all()
    assert dq.dtype == dk.dtype == dv.dtype == dtype


# ------------------------------------------------------------------ one description


def test_every_path_from_a_spec_keeps_every_field(tmp_path):
    """MLP.with_params, Ensemble.net, the checkpoint, and from_spec: each rebuilds the net with
    its l2 and its biases; a Sequential's layers, loss and dtype likewise."""
    mlp = manual.MLP([3, 4, 2], bias=False, l2=0.5, reduction="mean", seed=0)
    seq = makemore(dtype=np.float32, dropout=0.1)
    for net in (mlp, seq):
        assert manual.from_spec(net.spec(), net.params, getattr(net, "buffers", None)).spec() == net.spec()
        manual.save(tmp_path / "n.npz", net)
        assert manual.load(tmp_path / "n.npz")[0].spec() == net.spec()
        assert net.with_params(net.params).spec() == net.spec()
    ens = manual.Ensemble([3, 4, 2], n_nets=2, bias=False, reduction="mean")
    assert ens.net(1).spec() == {**ens.spec(), "l2": 0.0}
    with pytest.raises(
        ValueError, match=r"params: they make a net of bias \[True, True\], the spec says \[False"
    ):
        manual.from_spec(mlp.spec(), manual.MLP([3, 4, 2], seed=0).params)


def test_a_parameter_is_addressed_by_layer_and_name():
    net = makemore()
    _, grads = net.loss_and_grads(*token_data(8))
    assert [sorted(g) for g in grads] == [["W"], [], ["W"], ["beta", "gamma"], [], ["W", "b"]]
    assert params_gap(net.params, net.params) == 0.0


# ------------------------------------------------------------------ a one-block causal transformer

VOCAB, EMBED, HEADS = 7, 8, 2


def transformer(dtype=np.float64, seed=0, positions=False):
    """Pre-norm: x + MHA(LN(x)), then x + MLP(LN(x)), a final LayerNorm, logits over the vocabulary;
    with ``positions``, a learned table of 8 positions added to the token embeddings."""
    E = EMBED
    return manual.Sequential(
        [
            manual.Embedding(VOCAB, E),
            *([manual.PositionalEmbedding(8, E)] if positions else []),
            manual.Residual([manual.LayerNorm(E), manual.MultiheadAttention(E, HEADS, causal=True)]),
            manual.Residual(
                [manual.LayerNorm(E), manual.Linear(E, 4 * E), manual.GELU(), manual.Linear(4 * E, E)]
            ),
            manual.LayerNorm(E),
            manual.Linear(E, VOCAB),
        ],
        loss="cross_entropy",
        seed=seed,
        dtype=dtype,
    )


def sequences(n=3, steps=5, seed=1):
    """Tokens (n, T) and the next tokens (n, T), cross-entropy over (n, T, VOCAB) logits."""
    rng = RNG(seed)
    return rng.integers(0, VOCAB, (n, steps)), rng.integers(0, VOCAB, (n, steps))


# ∂L/∂b_k is exactly 0: b_k adds q_i · b_k to every score of query i, which its softmax ignores
EXACTLY_ZERO = "1.1.b_k"  # layer 1 (the first Residual), its inner layer 1 (the attention)


@pytest.mark.parametrize("positions", [False, True], ids=["", "positions"])
@pytest.mark.parametrize("reference", ["torch", "jax"])
@pytest.mark.parametrize("dtype_name", list(DTYPES))
def test_a_causal_transformer_block_agrees_with_the_frameworks(dtype_name, reference, positions):
    """Loss and every gradient of the block against nn.MultiheadAttention / jnp, within 4 u of the
    chained bound. The arrays are asserted informative in float64 (every one reveals a relative
    error of 1e-6; the worst measured 6e-7, LayerNorm's γ under the attention). In float32 the
    chained first-order bound of five layers' backward grows to ~1e9 u relative for the first
    block's gradients, so float32 detects nothing there: the float64 comparison is the sharp one."""
    require(reference)
    net = transformer(DTYPES[dtype_name], positions=positions)
    x, y = sequences()
    mine = backends.loss_and_grads("manual", net, x, y)
    theirs = backends.loss_and_grads(reference, net, x, y)
    bound = lc.sequential_bounds(net, x, y)
    rows = lc.compare_sequential(theirs, mine, bound, net.dtype)
    assert all(r.ok for r in rows), [r for r in rows if not r.ok]
    if net.dtype == np.float64:
        found = lc.sequential_detectable(mine, bound, net.dtype)
        zero = f"{1 + positions}.1.b_k"
        assert all(v <= DETECT[np.float64] for k, v in found.items() if k != zero), found
    # the exact 0 within its rounding (hand algebra: Σ_j ∂S_ij = 0 for every query i)
    layer, name = 1 + positions, "1.b_k"
    assert (
        np.abs(mine[1][int(layer)][name]) <= rounding.allowed(bound[1][int(layer)][name], net.dtype)
    ).all()


@pytest.mark.parametrize("reference", ["torch", "jax"])
def test_a_causal_transformer_trains_beside_the_frameworks(reference):
    """30 Adam steps on shuffled mini-batches: params every step within the trajectory tolerance
    of torch.optim's / optax's, and the loss down. b_k apart: its gradient, 0 in exact
    arithmetic, is rounding noise of ~1e-17 in each implementation, and Adam's m / √v turns that
    noise into steps of ±lr of unrelated signs; the loss is blind to b_k (it agrees to 1e-16),
    so b_k is only asserted to leave the rest untouched."""
    require(reference)
    net = transformer()
    x, y = sequences(12, 6)
    opt = manual.Adam(lr=1e-2)
    runs = [
        backends.train(name, net, x, y, opt, epochs=10, batch_size=4, shuffle_seed=3, record_every=1)
        for name in ("manual", reference)
    ]
    layer, name = EXACTLY_ZERO.split(".", 1)
    for run in runs:
        for _, params in run.snapshots:
            params[int(layer)] = {k: v for k, v in params[int(layer)].items() if k != name}
    gap = trajectory_gap(*runs)
    tol = tolerance("trajectory", np.float64).rtol
    assert len(gap.steps) == 31 and gap.params.max() <= tol and gap.loss.max() <= tol, (
        gap.params.max(),
        gap.loss.max(),
    )
    assert runs[0].net.loss(x, y) < 0.8 * net.loss(x, y)


def test_a_causal_transformer_does_not_look_ahead():
    """Causality, without any framework: the logits at positions before t are the same to the
    last bit whatever the tokens from t on (the attention's mask is the only path between
    positions, and every other layer acts position by position)."""
    net = transformer()
    x, _ = sequences(4, 6)
    changed = x.copy()
    changed[:, 3:] = (changed[:, 3:] + 1) % VOCAB
    before, after = net.forward(x), net.forward(changed)
    np.testing.assert_array_equal(before[:, :3], after[:, :3])
    assert np.abs(before[:, 3:] - after[:, 3:]).min() > 0


def test_a_residual_is_described_and_rebuilt_with_its_layers(tmp_path):
    """Residual's params and buffers flat, named "i.name" as torch's state_dict; its config the
    inner layers' descriptions; a checkpoint and from_spec rebuild it."""
    inner = [manual.LayerNorm(4), manual.BatchNorm1d(4), manual.Linear(4, 4)]
    net = manual.Sequential([manual.Residual(inner), manual.Linear(4, 2)], loss="mse", seed=0)
    assert list(net.params[0]) == ["0.gamma", "0.beta", "1.gamma", "1.beta", "2.W", "2.b"]
    assert list(net.buffers[0]) == ["1.running_mean", "1.running_var"]
    assert net.spec()["layers"][0] == {
        "kind": "Residual",
        "layers": [manual.layers.describe(i) for i in inner],
    }
    assert manual.layers.from_config(net.spec()["layers"][0]) == net.layers[0]
    x, y = RNG(0).standard_normal((5, 4)), RNG(1).standard_normal((5, 2))
    net.loss_and_grads(x, y)  # train mode: the inner BatchNorm's running statistics move
    assert not np.array_equal(net.buffers[0]["1.running_mean"], np.zeros(4))
    manual.save(tmp_path / "r.npz", net)
    loaded = manual.load(tmp_path / "r.npz")[0]
    assert loaded.spec() == net.spec() and loaded.loss(x, y) == net.loss(x, y)
    assert (
        net.layers[0].has_modes
        and repr(net.layers[0]) == "Residual([LayerNorm((4,)), BatchNorm1d(4), Linear(4, 4)])"
    )


def test_multihead_attention_is_initialized_as_torch_initializes_it():
    """torch's _reset_parameters: xavier_uniform on the stacked (3E, E) in_proj, U(±√(6 / 4E));
    out_proj's weight Linear's U(±1/√E); every bias 0. The engine's draws and torch's own fill
    the same intervals with the same spread (std = bound / √3)."""
    require("torch")
    import torch

    E = 64
    mine = manual.MultiheadAttention(E, 4).init_params(RNG(0), np.float64)
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(E, 4, batch_first=True, dtype=torch.float64)
    w = theirs.in_proj_weight.detach().numpy()
    torch_arrays = {
        **{f"W_{n}": w[i * E : (i + 1) * E].T for i, n in enumerate("qkv")},
        "W_o": theirs.out_proj.weight.detach().numpy().T,
    }
    bounds = {
        "W_q": np.sqrt(6 / (4 * E)),
        "W_k": np.sqrt(6 / (4 * E)),
        "W_v": np.sqrt(6 / (4 * E)),
        "W_o": 1 / np.sqrt(E),
    }
    for name, bound in bounds.items():
        for drawn in (mine[name], torch_arrays[name]):
            assert drawn.shape == (E, E) and np.abs(drawn).max() <= bound
            assert np.abs(drawn).max() > 0.99 * bound and abs(drawn.std() / (bound / np.sqrt(3)) - 1) < 0.05
    assert all((mine[f"b_{n}"] == 0).all() for n in "qkvo")
    assert (theirs.in_proj_bias.detach().numpy() == 0).all() and (
        theirs.out_proj.bias.detach().numpy() == 0
    ).all()
