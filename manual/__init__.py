"""backprop-by-hand: a hand-written, vectorized NumPy backpropagation engine.

net = manual.MLP([2, 2, 1], activation="sigmoid", loss="mse", seed=0)
loss, grads = net.loss_and_grads(x, y)
history = manual.train(net, x, y, manual.SGD(lr=0.1), epochs=10_000)

net = manual.Sequential([manual.Linear(4, 16), manual.Tanh(), manual.Linear(16, 3)],
                        loss="cross_entropy", seed=0)
"""

from .checkpoint import load, save
from .ensemble import Ensemble
from .gradcheck import gradcheck
from .layers import (
    GELU,
    LSTM,
    RNN,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Embedding,
    Flatten,
    GroupNorm,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MaxPool2d,
    MultiheadAttention,
    PositionalEmbedding,
    ReLU,
    Residual,
    ScaledDotProductAttention,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
)
from .mlp import MLP
from .model import Model
from .optim import SGD, Adam, AdamW
from .sequential import Sequential
from .spec import from_spec
from .train import History, Trainer, TrainState, train

__all__ = [
    "MLP",
    "Sequential",
    "Ensemble",
    "Model",
    "from_spec",
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
    "Linear",
    "PositionalEmbedding",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "Identity",
    "Softmax",
    "LogSoftmax",
    "GELU",
    "SiLU",
    "BatchNorm1d",
    "BatchNorm2d",
    "LayerNorm",
    "GroupNorm",
    "Dropout",
    "Embedding",
    "Flatten",
    "MaxPool2d",
    "AvgPool2d",
    "Conv2d",
    "RNN",
    "LSTM",
    "ScaledDotProductAttention",
    "MultiheadAttention",
    "Residual",
]
