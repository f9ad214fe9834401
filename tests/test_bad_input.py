"""Bad input: a clear ValueError or TypeError that says what was expected and
what was received, and the net's params exactly as they were."""

import numpy as np
import pytest

import manual


@pytest.fixture
def net():
    return manual.MLP([2, 3, 1], seed=0)


def params_unchanged(net, before):
    after = net.params
    return all(np.array_equal(a[k], b[k]) for a, b in zip(after, before) for k in b)


X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
Y = np.array([[1.0], [1.0], [0.0], [0.0]])

CALLS = {
    "forward": lambda net, x, y: net.forward(x),
    "loss": lambda net, x, y: net.loss(x, y),
    "loss_and_grads": lambda net, x, y: net.loss_and_grads(x, y),
    "trace": lambda net, x, y: net.trace(x, y),
    "gradcheck": lambda net, x, y: manual.gradcheck(net, x, y),
    "train": lambda net, x, y: manual.train(net, x, y, manual.SGD(lr=0.1), epochs=2),
}

BAD_X = [
    # (x, expected exception, fragments the message must contain)
    (np.ones((4, 3)), ValueError, ["expected shape (batch, 2)", "got shape (4, 3)"]),
    (np.ones(2), ValueError, ["expected shape (batch, 2)", "got shape (2,)", "x[None, :]"]),
    (np.ones((4, 2, 1)), ValueError, ["got shape (4, 2, 1)"]),
    (np.ones((0, 2)), ValueError, ["empty batch"]),
    (np.array([[0.0, np.nan]] * 4), ValueError, ["finite", "nan"]),
    (np.array([[np.inf, 0.0]] * 4), ValueError, ["finite", "inf"]),
    (np.ones((4, 2), np.float32), TypeError, ["expected dtype float64", "got float32"]),
    (np.array([["a", "b"]] * 4), TypeError, ["float or integer", "<U1"]),
    ([["a", 1]], TypeError, ["expected an array of numbers"]),
]


@pytest.mark.parametrize("call", list(CALLS))
@pytest.mark.parametrize("x,exc,fragments", BAD_X, ids=[f"x{i}" for i in range(len(BAD_X))])
def test_bad_x(net, call, x, exc, fragments):
    assert_refused(net, lambda: CALLS[call](net, x, Y), exc, fragments)


def assert_refused(net, call, exc, fragments):
    """``call()`` raises ``exc`` with every fragment in its message, and ``net`` is untouched."""
    before = [{k: v.copy() for k, v in layer.items()} for layer in net.params]
    with pytest.raises(exc) as info:
        call()
    for f in fragments:
        assert f in str(info.value), (f, str(info.value))
    assert params_unchanged(net, before)


BAD_Y = [
    (np.ones((4, 2)), ValueError, ["expected shape (4, 1)", "got shape (4, 2)"]),
    (np.ones(4), ValueError, ["got shape (4,)", "y[:, None]"]),
    (np.ones((3, 1)), ValueError, ["x has 4 samples but y has 3"]),
    (np.array([[np.nan]] * 4), ValueError, ["finite"]),
    (np.ones((4, 1), np.float32), TypeError, ["float64", "float32"]),
]


@pytest.mark.parametrize("call", [c for c in CALLS if c != "forward"])
@pytest.mark.parametrize("y,exc,fragments", BAD_Y, ids=[f"y{i}" for i in range(len(BAD_Y))])
def test_bad_y(net, call, y, exc, fragments):
    assert_refused(net, lambda: CALLS[call](net, X, y), exc, fragments)


@pytest.mark.parametrize("y", [[[1.5]] * 4, [[-0.1]] * 4])
def test_bce_targets_outside_0_1(y):
    net = manual.MLP([2, 1], loss="bce", seed=0)
    with pytest.raises(ValueError, match=r"bce expects targets in \[0, 1\], got"):
        net.loss_and_grads(X, y)


@pytest.mark.parametrize(
    "y",
    [
        [[0.5, 0.5, 0.0]] * 4,  # soft label
        [[1.0, 1.0, 0.0]] * 4,  # two ones
        [[0.0, 0.0, 0.0]] * 4,  # none
        [[2.0, -1.0, 0.0]] * 4,  # sums to 1, not one-hot
    ],
)
def test_cross_entropy_targets_not_one_hot(y):
    net = manual.MLP([2, 3], activation="softmax", loss="cross_entropy", seed=0)
    with pytest.raises(ValueError, match="cross_entropy expects one-hot rows"):
        net.loss(X, y)


def test_cross_entropy_class_labels_get_a_hint():
    net = manual.MLP([2, 3], activation="softmax", loss="cross_entropy", seed=0)
    with pytest.raises(ValueError, match=r"np.eye\(3\)\[labels\]"):
        net.loss(X, np.array([0, 1, 2, 0]))


@pytest.mark.parametrize(
    "kwargs,kind,valid",
    [
        (
            {"activation": "sigmod"},
            "activation",
            "'identity', 'leaky_relu', 'relu', 'sigmoid', 'softmax', 'tanh'",
        ),
        ({"output_activation": "softplus"}, "activation", "'sigmoid'"),
        ({"loss": "hinge"}, "loss", "'bce', 'cross_entropy', 'mse'"),
        ({"reduction": "avg"}, "reduction", "'mean', 'sum'"),
        ({"init": "glorot"}, "init", "'he', 'uniform', 'xavier'"),
    ],
)
def test_unknown_names_list_the_valid_ones(kwargs, kind, valid):
    with pytest.raises(ValueError) as info:
        manual.MLP([2, 2, 1], **kwargs)
    message = str(info.value)
    assert f"unknown {kind} {list(kwargs.values())[0]!r}" in message
    assert valid in message


def test_close_names_get_a_suggestion():
    with pytest.raises(ValueError, match="did you mean 'sigmoid'"):
        manual.MLP([2, 1], activation="sigmod")


def test_softmax_only_on_the_output_layer():
    with pytest.raises(
        ValueError, match="softmax is only allowed on the output layer .layer 3.*got it on layer 1"
    ):
        manual.MLP([2, 3, 3, 2], activation=["softmax", "relu", "softmax"], loss="cross_entropy")


@pytest.mark.parametrize(
    "loss,out,wanted", [("bce", "relu", "sigmoid"), ("cross_entropy", "sigmoid", "softmax")]
)
def test_loss_needs_its_output_activation(loss, out, wanted):
    with pytest.raises(ValueError, match=f"expects a {wanted} output layer, got '{out}'"):
        manual.MLP([2, 2], activation=out, loss=loss)


def test_activation_list_of_the_wrong_length():
    with pytest.raises(ValueError, match="a list of 2 names .one per layer., got 3"):
        manual.MLP([2, 2, 1], activation=["relu", "relu", "relu"])


@pytest.mark.parametrize("sizes", [[2], [], [2, 0, 1], [2, -1], [2, 1.5], "221"])
def test_bad_sizes(sizes):
    with pytest.raises((ValueError, TypeError), match="sizes"):
        manual.MLP(sizes)


@pytest.mark.parametrize("dtype", [np.float16, np.int64, "complex128", "banana"])
def test_bad_dtype(dtype):
    with pytest.raises(TypeError, match="dtype: expected float32 or float64"):
        manual.MLP([2, 1], dtype=dtype)


@pytest.mark.parametrize(
    "seed,exc", [("x", TypeError), (1.5, TypeError), (True, TypeError), (-1, ValueError)]
)
def test_bad_seed(seed, exc):
    with pytest.raises(exc, match=r"seed: expected None or an int >= 0, got"):
        manual.MLP([2, 1], seed=seed)


def test_an_init_failure_is_not_reported_as_a_seed_problem(monkeypatch):
    from manual import initializers

    def broken(rng, n_in, n_out):
        raise ValueError("the initializer broke")

    monkeypatch.setitem(initializers.INITS, "xavier", broken)
    with pytest.raises(ValueError, match="^the initializer broke$"):
        manual.MLP([2, 1], init="xavier", seed=0)


def test_params_that_do_not_chain():
    with pytest.raises(
        ValueError,
        match=r"shapes do not chain: layer 1 outputs 3 units, so W should have shape \(3, n_out\), "
        r"got \(2, 1\)",
    ):
        manual.MLP.from_params([{"W": np.ones((2, 3))}, {"W": np.ones((2, 1))}])


@pytest.mark.parametrize(
    "params,fragment",
    [
        ([{"W": np.ones((2, 3)), "b": np.ones(2)}], r"layer 1 b: expected shape \(3,\)"),
        ([{"W": np.ones(3)}], "expected a 2-D array"),
        ([{"b": np.ones(3)}], "expected a dict with key 'W'"),
        ([{"W": np.ones((2, 1)), "bias": np.ones(1)}], "unexpected keys"),
        ({"W": np.ones((2, 1))}, "expected a non-empty list"),
        ([], "expected a non-empty list"),
        ([{"W": np.ones((2, 1), np.float32)}, {"W": np.ones((1, 1))}], "one float dtype"),
        ([{"W": [[np.nan], [1.0]]}], "finite"),
    ],
)
def test_malformed_params(params, fragment):
    with pytest.raises((ValueError, TypeError), match=fragment):
        manual.MLP.from_params(params)


def test_train_arguments_are_checked_before_anything_runs(net):
    before = [{k: v.copy() for k, v in layer.items()} for layer in net.params]
    for kwargs, fragment in [
        ({"optimizer": "sgd"}, "optimizer: expected manual.SGD"),
        ({"epochs": -1}, "epochs: expected an integer >= 0"),
        ({"epochs": 1.5}, "epochs"),
        ({"batch_size": 0}, "batch_size: expected an integer >= 1"),
        ({"record_every": 0}, "record_every"),
        ({"shuffle_seed": -3}, "shuffle_seed"),
    ]:
        args = {"optimizer": manual.SGD(lr=0.1), "epochs": 1, **kwargs}
        with pytest.raises((ValueError, TypeError), match=fragment):
            manual.train(net, X, Y, **args)
    assert params_unchanged(net, before)


@pytest.mark.parametrize(
    "make,fragment",
    [
        (lambda: manual.SGD(lr=0), "lr: expected a positive"),
        (lambda: manual.SGD(lr=0.1, momentum=-1), "momentum"),
        (lambda: manual.SGD(lr=0.1, nesterov=True), "nesterov=True needs a momentum"),
        (lambda: manual.Adam(betas=(0.9, 1.0)), "betas"),
        (lambda: manual.Adam(eps=0), "eps"),
        (lambda: manual.AdamW(weight_decay=float("nan")), "weight_decay"),
    ],
)
def test_bad_optimizer_settings(make, fragment):
    with pytest.raises(ValueError, match=fragment):
        make()


def test_gradcheck_bad_eps(net):
    with pytest.raises(ValueError, match="eps: expected a positive step"):
        manual.gradcheck(net, X, Y, eps=0)
