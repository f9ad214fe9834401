"""The seeds' own code as user functions: their arithmetic as they wrote it
(``../shared/seeds/``), with only the glue a function needs (arguments in,
results out). ``crosscheck.check`` and ``check_training`` take them as they
would take anyone's, each with the layout it is written in; ``CASES`` holds
each with its net and data.

- seed 001: ``seed001_backprop``: 1-2-1 sigmoid net, no biases, mse; weights
  (n_in, n_out), samples as rows, params and grads a flat list [w1, w2].
- seed 002: ``seed002_backprop``: 2-2-1 sigmoid net, no biases, bce; weights
  (n_out, n_in) ("rows = hidden units"), one sample as a column, [W1, W2].
- seed 000: ``seed000_step``: the body of its training loop, 2-2-1 sigmoid with
  biases (1, n), mse, learning rate eta; [W1, b1, W2, b2].
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

import manual

from . import examples
from .layouts import Layout

# ------------------------------------------------------------------ seed 001


def seed001_backprop(params, x, y_true):
    """Seed 001's forward and backward pass, cell for cell."""
    w1, w2 = params

    # Activation functions
    def sigmoid(x):
        return expit(x)

    def sigmoid_derivative(x):
        s = sigmoid(x)
        return s * (1 - s)

    # Forward pass
    z1 = x @ w1  # Pre-activation: shape (1, 2)
    a1 = sigmoid(z1)  # Hidden layer activations: shape (1, 2)
    z2 = a1 @ w2  # Output layer pre-activation: shape (1, 1)
    y_pred = sigmoid(z2)  # Output prediction

    # Loss
    loss = 0.5 * (y_pred - y_true) ** 2

    # Backward pass
    dL_dy = y_pred - y_true  # ∂L/∂y
    dy_dz2 = sigmoid_derivative(z2)  # ∂y/∂z2

    # Gradients for w2
    dz2_dw2 = a1.T  # ∂z2/∂w2
    dL_dw2 = dz2_dw2 @ (dL_dy * dy_dz2)  # Shape (2, 1)

    # Gradients for w1
    dz2_da1 = w2.T  # ∂z2/∂a1
    da1_dz1 = sigmoid_derivative(z1)  # ∂a1/∂z1
    dz1_dw1 = x.T  # ∂z1/∂w1
    dL_dw1 = dz1_dw1.T @ ((dL_dy @ dz2_da1) * da1_dz1)  # Shape (1, 2)

    return loss, [dL_dw1, dL_dw2]


SEED001_LAYOUT = Layout(weights="in_out", samples="rows", container="flat")


# ------------------------------------------------------------------ seed 002


def seed002_backprop(params, x, y):
    """Seed 002's forward and backward pass, with its one sample taken as the
    vector x and the number y it uses."""
    W1, W2 = params
    W2 = W2.reshape(-1)  # hidden -> output, the seed's vector
    x, y = x[:, 0], float(y[0, 0])

    def sig(z):
        return 1 / (1 + np.exp(-z))

    z1 = W1 @ x  # pre-activation, hidden
    a1 = sig(z1)  # activation, hidden
    z2 = W2 @ a1  # pre-activation, output
    yhat = sig(z2)  # prediction

    bce = -(y * np.log(yhat) + (1 - y) * np.log(1 - yhat))

    d2 = yhat - y  # scalar error at the output pre-activation
    dW2 = d2 * a1  # gradient for W2 (outer product, here a vector)

    d1 = (W2 * d2) * a1 * (1 - a1)  # error at hidden pre-activations
    dW1 = np.outer(d1, x)  # gradient for W1

    return bce, [dW1, dW2]


SEED002_LAYOUT = Layout(weights="out_in", samples="columns", container="flat")


# ------------------------------------------------------------------ seed 000


def seed000_step(params, x, y, eta):
    """One pass of seed 000's training loop (steps 2 to 4) on copies of its arrays."""
    W1, b1, W2, b2 = (p.copy() for p in params)

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    def sigmoid_derivative(x):
        return x * (1 - x)

    # Step 2. Forward pass
    z1 = np.dot(x, W1) + b1
    a1 = sigmoid(z1)
    z2 = np.dot(a1, W2) + b2
    a2 = sigmoid(z2)
    # Step 4. Backpropagation
    delta2 = (a2 - y) * sigmoid_derivative(a2)
    delta1 = np.dot(delta2, W2.T) * sigmoid_derivative(a1)
    # Update weights and biases
    W2 -= eta * np.dot(a1.T, delta2)
    b2 -= eta * np.sum(delta2, axis=0, keepdims=True)
    W1 -= eta * np.dot(x.T, delta1)
    b1 -= eta * np.sum(delta1, axis=0, keepdims=True)
    return [W1, b1, W2, b2]


SEED000_LAYOUT = Layout(weights="in_out", samples="rows", bias="row", container="flat")


# ------------------------------------------------------------------ as cases


@dataclass
class SeedCode:
    """A seed's code, the layout it is written in, its net and data."""

    name: str
    title: str
    fn: object
    layout: Layout
    net: manual.MLP
    x: np.ndarray
    y: np.ndarray
    training: bool = False  # fn is a training step (check_training), not a backward pass
    lr: float = 0.0
    steps: int = 0


def seed001():
    case = examples.seed001()
    return SeedCode(
        "seed001",
        "seed 001's backward pass, as written",
        seed001_backprop,
        SEED001_LAYOUT,
        case.net,
        case.x,
        case.y,
    )


def seed002():
    # the seed's net has no bias terms in its code (its text says "biases zero")
    net = manual.MLP.from_params(
        [{"W": examples.SEED002_W1.T}, {"W": examples.SEED002_W2[:, None]}], activation="sigmoid", loss="bce"
    )
    return SeedCode(
        "seed002",
        "seed 002's backward pass, as written",
        seed002_backprop,
        SEED002_LAYOUT,
        net,
        np.array([[1.0, 0.0]]),
        np.array([[1.0]]),
    )


def seed000(steps=examples.SEED000_EPOCHS, data="xor"):
    case = examples.seed000(data)
    return SeedCode(
        "seed000",
        "seed 000's training loop, as written, seeded",
        seed000_step,
        SEED000_LAYOUT,
        case.net,
        case.x,
        case.y,
        training=True,
        lr=examples.SEED000_ETA,
        steps=steps,
    )


CASES = {"seed000": seed000, "seed001": seed001, "seed002": seed002}
