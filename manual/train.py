"""The training loop: full batch (the seeds) or shuffled mini-batches."""

import numbers
from dataclasses import dataclass, field

import numpy as np

from .model import Model
from .optim import Optimizer, OptimizerState, allocate_like, flat, from_config

# how many bytes of x and y rows train gathers at once (see _Gather)
GATHER_BYTES = 1 << 20


@dataclass
class TrainState:
    """Everything a run needs to go on where it stopped.

    optimizer: the optimizer's buffers and step count. epoch: epochs done.
    rng: the shuffling generator's state (None without shuffling), so the
    next epoch's batch order is the one an unbroken run would draw. model: what
    the model keeps of a run (``model.run_state()``: a Sequential's dropout
    generator), so the next masks are too.
    """

    optimizer: OptimizerState
    epoch: int
    rng: dict | None
    batch_size: int | None
    shuffle_seed: int | None
    optimizer_config: dict = field(default_factory=dict)
    frozen: np.ndarray | None = None  # an ensemble's History.frozen
    model: dict = field(default_factory=dict)  # what the model keeps of a run: a Sequential's dropout RNG

    @property
    def step(self):
        return self.optimizer.step

    def copy(self):
        return TrainState(
            self.optimizer.copy(),
            self.epoch,
            copy_rng_state(self.rng),
            self.batch_size,
            self.shuffle_seed,
            dict(self.optimizer_config),
            None if self.frozen is None else self.frozen.copy(),
            copy_run_state(self.model),
        )


@dataclass
class History:
    """What ``train`` returns.

    losses: ``(steps,)``, each step's loss from its forward pass, before its
    update (what PyTorch's ``loss.item()`` reports); for an ensemble
    ``(steps, N)``, one per net. params: the final params (an ensemble's nets
    first, as ``ens.params``). net: the trained MLP or Ensemble. snapshots:
    ``(step, params)`` pairs every ``record_every`` steps, step 0 (the start)
    included. state: a ``TrainState`` to resume from.
    frozen: for an ensemble, per net the step whose loss was not finite, from
    which on the net was left as it was (-1: never); None for an MLP.
    """

    losses: np.ndarray
    params: list
    net: object
    snapshots: list
    state: TrainState
    frozen: np.ndarray | None = None


class Trainer:
    """One optimizer step at a time, in place on ``net`` (a PyTorch-style loop):

        trainer = manual.Trainer(net, manual.SGD(lr=0.1))
        for xb, yb in batches:
            loss = trainer.step(xb, yb)

    ``net``: any model (``MLP``, ``Sequential``, ``Ensemble``), through the protocol
    of ``manual.model``. ``state``: an ``OptimizerState``, or a ``TrainState``
    (``trainer.train_state()``, loaded from a checkpoint), to continue from (default: a
    fresh one). The gradient buffers are allocated once, here; ``grads`` holds the
    last step's gradients (for an ensemble, in its internal layout, the nets last).
    ``frozen``: an ensemble's ``History.frozen`` to continue from.
    """

    def __init__(self, net, optimizer, state=None, frozen=None):
        if not isinstance(net, Model):
            raise TypeError(
                f"net: expected a manual model (MLP, Sequential or Ensemble), got {type(net).__name__}"
            )
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer: expected manual.SGD, manual.Adam or manual.AdamW, got {optimizer!r}")
        _check_per_net_settings(net, optimizer)
        self.net = net
        self.optimizer = optimizer
        self.frozen = None if net.n_nets is None else np.full(net.n_nets, -1)
        if frozen is not None:
            if net.n_nets is None or np.shape(frozen) != (net.n_nets,):
                raise ValueError(f"frozen: expected one step (or -1) per net of an ensemble, got {frozen!r}")
            self.frozen = np.array(frozen, dtype=int)
        if isinstance(state, TrainState):  # a checkpoint's (train_state()): its optimizer part
            if state.optimizer_config and state.optimizer_config != optimizer.config():
                raise ValueError(
                    f"state: made with the optimizer {state.optimizer_config}, got {optimizer.config()}"
                )
            state = state.optimizer
        if state is None:
            self.state = optimizer.init(net.param_views)
        else:  # a copy, laid out contiguously over this net's params
            check_state_buffers(state, net, optimizer)
            self.state = OptimizerState.contiguous(state.step, state.buffers, flat(net.param_views))
        self._grads_flat, self.grads = allocate_like(net.param_views)

    def train_state(self):
        """A ``TrainState`` of this loop (a copy): the optimizer's state and config and the net's
        own generator, for ``manual.save(path, trainer.net, trainer.train_state())``; no epoch count
        or shuffling of its own (epoch 0, no batch_size)."""
        return TrainState(
            optimizer=self.state.copy(),
            epoch=0,
            rng=None,
            batch_size=None,
            shuffle_seed=None,
            optimizer_config=self.optimizer.config(),
            model=copy_run_state(self.net.run_state()),
        )

    def step(self, x, y, validate=True):
        """Forward, backward and one update on a batch x, y (an ensemble's: shared, or per net
        ``(N, batch, ...)``); returns the loss before the update (an ensemble's: ``(N,)``).
        ``validate=False`` skips the input checks (``train`` checks the whole data set once, up front)."""
        x, y = self.net.check_data(x, y) if validate else self.net.arrange_data(x, y)
        return self._step(x, y)

    def _step(self, x, y):
        """``step`` on data already checked and arranged (``net.check_data``)."""
        loss = self.net.loss_and_grads_into(x, y, self.grads)
        return self.net.apply_update(self.optimizer, self.state, self._grads_flat, loss, self.frozen)


def batch_order(n, batch_size, rng):
    """One epoch's mini-batches, as index arrays (or slices without shuffling).

    A permutation of ``range(n)`` drawn from ``rng`` (None: in order), cut
    into pieces of ``batch_size``; the last, shorter piece is kept.
    ``batch_size=None`` is one full batch.
    """
    if batch_size is None or batch_size >= n:
        if rng is None:
            return [slice(0, n)]
        batch_size = n
    if rng is None:
        return [slice(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]
    perm = rng.permutation(n)
    return [perm[start : start + batch_size] for start in range(0, n, batch_size)]


def make_rng(shuffle_seed, resume=None):
    """The shuffling generator: ``default_rng(shuffle_seed)``, or restored from ``resume``."""
    if shuffle_seed is None:
        return None
    rng = np.random.default_rng(shuffle_seed)
    if resume is not None and resume.rng is not None:
        rng.bit_generator.state = copy_rng_state(resume.rng)
    return rng


def check_train_args(net, x, y, optimizer, epochs, batch_size, shuffle_seed, record_every, resume, progress):
    """Validate ``train``'s arguments; returns checked (x, y)."""
    if not isinstance(net, Model):
        raise TypeError(
            f"net: expected a manual model (MLP, Sequential or Ensemble), got {type(net).__name__}"
        )
    x, y = net.check_data(x, y)
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer: expected manual.SGD, manual.Adam or manual.AdamW, got {optimizer!r}")
    _check_per_net_settings(net, optimizer)
    _check_count("epochs", epochs, minimum=0)
    if batch_size is not None:
        _check_count("batch_size", batch_size, minimum=1)
    # before any step: a short last batch a layer cannot take (BatchNorm, one sample) is refused now
    n = len(x)
    full = n if batch_size is None else min(batch_size, n)
    try:
        net.check_batches(x, {full, n % full} - {0})
    except ValueError as err:
        raise ValueError(f"batch_size={batch_size} on {n} samples: {err}") from None
    if record_every is not None:
        _check_count("record_every", record_every, minimum=1)
    if shuffle_seed is not None and (
        isinstance(shuffle_seed, bool) or not isinstance(shuffle_seed, numbers.Integral) or shuffle_seed < 0
    ):
        raise TypeError(f"shuffle_seed: expected None or an int >= 0, got {shuffle_seed!r}")
    if progress is not None and not callable(progress):
        raise TypeError(f"progress: expected None or a function of no arguments, got {progress!r}")
    if resume is not None:
        check_resume(resume, net, optimizer, batch_size, shuffle_seed)
    return x, y


def check_resume(resume, net, optimizer, batch_size, shuffle_seed):
    if not isinstance(resume, TrainState):
        raise TypeError(
            f"resume: expected the TrainState of a History (history.state), got {type(resume).__name__}"
        )
    if not resume.optimizer_config:
        raise ValueError(
            "resume: the state has no optimizer_config to check the optimizer against "
            "(a History's state carries one: optimizer.config())"
        )
    # (compared through from_config: a config that went through JSON has lists for tuples)
    if from_config(resume.optimizer_config).config() != optimizer.config():
        raise ValueError(
            f"resume: the state was made by {resume.optimizer_config}, got optimizer {optimizer.config()}"
        )
    if resume.batch_size != batch_size or resume.shuffle_seed != shuffle_seed:
        raise ValueError(
            f"resume: the state was made with batch_size={resume.batch_size}, "
            f"shuffle_seed={resume.shuffle_seed}; "
            f"got batch_size={batch_size}, shuffle_seed={shuffle_seed}"
        )
    check_state_buffers(resume.optimizer, net, optimizer, "resume")
    if resume.frozen is not None and (net.n_nets is None or resume.frozen.shape != (net.n_nets,)):
        raise ValueError(f"resume: the state's frozen nets {resume.frozen!r} do not fit {net!r}")


def check_state_buffers(state, net, optimizer, what="state"):
    """The optimizer state's buffers are the ones ``optimizer`` keeps, shaped and typed like
    ``net``'s params (an ensemble's in its internal layout, the nets last)."""
    if not isinstance(state, OptimizerState):
        raise TypeError(f"{what}: expected an OptimizerState, got {type(state).__name__}")
    if set(state.buffers) != set(optimizer.buffer_names):
        raise ValueError(
            f"{what}: the state holds optimizer buffers {sorted(state.buffers)}, "
            f"{optimizer!r} needs {sorted(optimizer.buffer_names)}"
        )
    shapes = [p.shape for p in flat(net.param_views)]
    for name, bufs in state.buffers.items():
        got = [b.shape for b in bufs]
        if got != shapes:
            raise ValueError(
                f"{what}: optimizer buffer {name!r} has shapes {got}, the net's params have {shapes}"
            )
        for b in bufs:
            if b.dtype != net.dtype:
                raise TypeError(
                    f"{what}: optimizer buffer {name!r} is {b.dtype.name}, the net is {net.dtype.name}"
                )


def train(
    net,
    x,
    y,
    optimizer,
    epochs,
    batch_size=None,
    shuffle_seed=None,
    record_every=None,
    resume=None,
    progress=None,
):
    """Train a copy of ``net`` on x ``(n, n_in)``, y ``(n, n_out)``; ``net`` is left as it was.
    An ``Ensemble`` trains every net at once, on shared data or per net ``(N, n, ...)``.

    batch_size None: one full-batch step per epoch (the seeds). Otherwise
    mini-batches of ``batch_size``, the last shorter one kept, in an order
    drawn each epoch from ``np.random.default_rng(shuffle_seed)`` (None: the
    data's order). ``resume``: a ``history.state`` to go on from, with the
    same optimizer, batch_size and shuffle_seed; ``epochs`` more are run.
    ``progress()`` is called after every step (a progress bar's update).
    """
    x, y = check_train_args(
        net, x, y, optimizer, epochs, batch_size, shuffle_seed, record_every, resume, progress
    )
    net = net.copy()
    if resume is not None:
        net.restore_run_state(resume.model)
    trainer = Trainer(net, optimizer, *(() if resume is None else (resume.optimizer, resume.frozen)))
    state = trainer.state
    first_epoch = 0 if resume is None else resume.epoch
    rng = make_rng(shuffle_seed, resume)

    n = len(x)
    steps_per_epoch = len(batch_order(n, batch_size, None))
    losses = np.empty((epochs * steps_per_epoch, *net.loss_shape), dtype=net.dtype)
    snapshots = []
    gather = _Gather(x, y)
    step = 0
    for _ in range(epochs):
        for xb, yb in gather(batch_order(n, batch_size, rng)):
            if record_every is not None and step % record_every == 0:
                snapshots.append((state.step, _copy_params(net.params)))
            losses[step] = trainer._step(xb, yb)
            step += 1
            if progress is not None:
                progress()
    if record_every is not None and step % record_every == 0:
        snapshots.append((state.step, _copy_params(net.params)))

    train_state = TrainState(
        optimizer=state,
        epoch=first_epoch + epochs,
        rng=None if rng is None else copy_rng_state(rng.bit_generator.state),
        batch_size=batch_size,
        shuffle_seed=shuffle_seed,
        optimizer_config=optimizer.config(),
        frozen=None if trainer.frozen is None else trainer.frozen.copy(),
        model=net.run_state(),
    )
    return History(
        losses=losses,
        params=_copy_params(net.params),
        net=net,
        snapshots=snapshots,
        state=train_state,
        frozen=trainer.frozen,
    )


def _copy_params(params):
    return [{k: v.copy() for k, v in layer.items()} for layer in params]


class _Gather:
    """An epoch's batches ``(x[idx], y[idx])``, gathered into reused buffers up to
    ``GATHER_BYTES`` of batches at a time, each batch a view of consecutive rows
    (a slice is a view of x itself: no copy at all). One gather for many
    batches rather than one per batch: 4 µs of a 64-64-10 step at batch 32."""

    def __init__(self, x, y):
        self.x, self.y = x, y
        self.buffers = {}

    def __call__(self, batches):
        if isinstance(batches[0], slice):
            for idx in batches:
                yield self.x[idx], self.y[idx]
            return
        row_bytes = self.x[:1].nbytes + self.y[:1].nbytes
        per_gather = max(1, GATHER_BYTES // (row_bytes * len(batches[0])))
        for first in range(0, len(batches), per_gather):
            chunk = batches[first : first + per_gather]
            idx = np.concatenate(chunk) if len(chunk) > 1 else chunk[0]
            xs, ys = self._take(idx)
            start = 0
            for piece in chunk:
                stop = start + len(piece)
                yield xs[start:stop], ys[start:stop]
                start = stop

    def _take(self, idx):
        n = len(idx)
        if n not in self.buffers:
            self.buffers[n] = (
                np.empty((n, *self.x.shape[1:]), self.x.dtype),
                np.empty((n, *self.y.shape[1:]), self.y.dtype),
            )
        xs, ys = self.buffers[n]
        # mode="clip" (the indices are a permutation's: never clipped): "raise" buffers out, 2.5x slower
        np.take(self.x, idx, axis=0, out=xs, mode="clip")
        np.take(self.y, idx, axis=0, out=ys, mode="clip")
        return xs, ys


def _check_per_net_settings(net, optimizer):
    n = optimizer.n_nets
    if n is not None and net.n_nets != n:
        raise ValueError(
            f"optimizer: per-net settings for {n} nets need a manual.Ensemble of {n} nets, got {net!r}"
        )


def copy_rng_state(state):
    if state is None:
        return None
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in state.items()}


def copy_run_state(state):
    """A copy of what a model keeps of a run (``model.run_state()``: generator states by name)."""
    return {k: copy_rng_state(v) if isinstance(v, dict) else v for k, v in state.items()}


def _check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
