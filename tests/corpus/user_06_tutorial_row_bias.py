import numpy as np

# following the "neural network from scratch" tutorial:
#   W1 = np.random.randn(2, 4); b1 = np.zeros((1, 4)) ... all float32


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_derivative(s):
    # s is already sigmoid(x)
    return s * (1 - s)


def backprop(params, x, y):
    hidden = sigmoid(np.dot(x, params["W1"]) + params["b1"])
    output = sigmoid(np.dot(hidden, params["W2"]) + params["b2"])

    error = output - y
    loss = 0.5 * np.sum(error**2)

    d_output = error * sigmoid_derivative(output)
    d_hidden = d_output.dot(params["W2"].T) * sigmoid_derivative(hidden)

    grads = {
        "W1": x.T.dot(d_hidden),
        "b1": np.sum(d_hidden, axis=0, keepdims=True),
        "W2": hidden.T.dot(d_output),
        "b2": np.sum(d_output, axis=0, keepdims=True),
    }
    return loss, grads


CASE = dict(
    sizes=[2, 4, 1],
    activation="sigmoid",
    output_activation="sigmoid",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float32",
    layout="weights=in_out,samples=rows,bias=row,container=dict",
    kind="backprop",
    expect="correct",
    mistake=None,
    note="correct: tutorial style with (1, n) row biases and keepdims sums, float32 net",
)
