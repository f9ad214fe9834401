"""What ``backprop-by-hand check`` runs: a function (a seed's code, or the user's
``FILE.py:FUNCTION``), its net, data and layout, checked as a backward pass
(``crosscheck.check``) or as a training step (``crosscheck.steps``)."""

from dataclasses import dataclass

import numpy as np

import manual

from . import usercode
from .check import check
from .errors import UsageError
from .layouts import Layout, LayoutError
from .steps import check_training

DEFAULT_LR = 0.1
DEFAULT_STEPS = 100


@dataclass
class CheckJob:
    fn: object  # a callable, or a usercode.UserFunction
    name: str
    net: manual.MLP
    x: np.ndarray | None  # None: the check draws data
    y: np.ndarray | None
    layout: Layout
    training: bool = False  # fn is a training step, not a backward pass
    lr: float = DEFAULT_LR
    steps: int = DEFAULT_STEPS
    fixed_data: bool = False  # the data is a given (a seed's): the report does not advise leaving it out

    def run(self, timeout=usercode.DEFAULT_TIMEOUT):
        """The ``CheckReport`` (or ``TrainingReport``); a layout the function does not fit is a UsageError."""
        user = usercode.as_user_function(self.fn)
        user.name = self.name
        try:
            if self.training:
                return check_training(
                    user, self.net, self.x, self.y, self.lr, self.steps, self.layout, timeout=timeout
                )
            return check(
                user, self.net, self.x, self.y, self.layout, timeout=timeout, fixed_data=self.fixed_data
            )
        except LayoutError as err:
            raise UsageError(f"{self.name}: {err} (layout: {self.layout.describe()})") from None


def of_seed(code, lr=None, steps=None):
    """A seed's code (``seed_code.SeedCode``) on its own net and data; ``lr``, ``steps``: its own
    unless given."""
    return CheckJob(
        code.fn, code.title, code.net, code.x, code.y, code.layout, code.training,
        code.lr if lr is None else lr, code.steps if steps is None else steps, fixed_data=True,
    )  # fmt: skip


def of_file(target, net, data, layout, training=False, lr=None, steps=None, timeout=usercode.DEFAULT_TIMEOUT):
    """The function ``FILE.py:FUNCTION`` names (its file run, guarded), on ``net`` and ``data``
    (``(x, y)``, or None to draw it)."""
    x, y = data if data is not None else (None, None)
    fn = usercode.load_function(target, timeout)
    lr = DEFAULT_LR if lr is None else lr
    steps = DEFAULT_STEPS if steps is None else steps
    return CheckJob(fn, target, net, x, y, layout, training, lr, steps)
