"""A pytest plugin that breaks the engine on purpose: the sigmoid's
derivative becomes 1, as if backprop forgot sigma'(z) in the hidden layers.

    PYTHONPATH=tests/plugins pytest -p broken_sigmoid tests/test_parity.py
"""

from manual.activations import Sigmoid


def _forgotten_derivative(self, a, out):
    out.fill(1.0)
    return out


Sigmoid.derivative = _forgotten_derivative
