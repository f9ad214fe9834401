"""backprop-by-hand: a hand-written, vectorized NumPy backpropagation engine.

net = manual.MLP([2, 2, 1], activation="sigmoid", loss="mse", seed=0)
loss, grads = net.loss_and_grads(x, y)
history = manual.train(net, x, y, manual.SGD(lr=0.1), epochs=10_000)
"""

from .checkpoint import load, save
from .ensemble import Ensemble
from .gradcheck import gradcheck
from .mlp import MLP
from .optim import SGD, Adam, AdamW
from .train import History, Trainer, TrainState, train

__all__ = [
    "MLP",
    "Ensemble",
    "gradcheck",
    "SGD",
    "Adam",
    "AdamW",
    "train",
    "Trainer",
    "History",
    "TrainState",
    "save",
    "load",
]
