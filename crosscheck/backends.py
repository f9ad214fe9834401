"""The backends the harness compares, behind one interface, by name:
``"manual"`` (the engine), ``"torch"`` and ``"jax"`` (``references``), which
express every net the engine does, and the peer ``"sklearn"``, which
expresses some (``unsupported`` says why not).

The references are functions of plain data (spec, params, x, y, optimizer
settings, batches); this module turns a ``manual.MLP`` into that data. The
engine trains with its own batch order; the references are handed the exact
list of index arrays from ``batch_indices``, the harness's own reading of the
order ``manual.train`` documents, so an engine that shuffles otherwise than
it says parts from both references.
"""

import time

import numpy as np

import manual
from manual.sequential import output_shape
from references import jax_ref, sklearn_ref, torch_ref

from .layer_compare import dropout_masks

REFERENCES = {"torch": torch_ref, "jax": jax_ref}
PEERS = {"sklearn": sklearn_ref}
NAMES = ("manual", *REFERENCES)
EXTRAS = {"torch": "torch", "jax": "jax", "sklearn": "sklearn"}  # the pip extra that installs each


def _reference(backend):
    return REFERENCES[backend] if backend in REFERENCES else PEERS[backend]


def version(backend):
    """The installed version of a reference's library, or None without it."""
    return _reference(backend).version()


def unsupported(backend, net, optimizer=None):
    """None if ``backend`` expresses ``net`` (and ``optimizer``), else why not."""
    if backend in PEERS:
        return PEERS[backend].supports(net.spec(), None if optimizer is None else optimizer.config())
    return None


def installed():
    """``{"torch": version or None, "jax": version or None}``."""
    return {name: ref.version() for name, ref in REFERENCES.items()}


def missing_note(found):
    """One line per framework of ``found`` (name -> version or None) that is not installed."""
    return "".join(
        f"({k} is not installed: pip install 'backprop-by-hand[{EXTRAS[k]}]' to compare with it)\n"
        for k, version in found.items()
        if version is None
    )


def available():
    """The frameworks that are installed, in order."""
    return [name for name, version in installed().items() if version is not None]


def loss_and_grads(backend, net, x, y):
    """``(loss, grads)`` of ``net`` (a ``manual.MLP``) on x ``(batch, n_in)``, y ``(batch, n_out)``;
    a ``manual.Sequential``'s in train mode with the masks its generator draws next (it is
    not advanced), ``(loss, grads, buffers)``."""
    if isinstance(net, manual.Sequential):
        masks = next_masks(net, len(x), np.shape(x)[1:])
        if backend == "manual":
            copy = net.copy()
            loss, grads = copy.loss_and_grads(x, y)
            return loss, grads, copy.buffers
        return _reference(backend).sequential_loss_and_grads(
            net.spec(), net.params, net.buffers, x, y, None if masks is None else masks[0]
        )
    if backend == "manual":
        return net.loss_and_grads(x, y)
    return _reference(backend).loss_and_grads(net.spec(), net.params, x, y)


def input_shape(net, batch, sample_shape, index):
    """The shape of layer ``index``'s input in ``net`` for a batch of ``batch`` samples."""
    shape = output_shape(net.layers[:index], tuple(sample_shape), None, False)
    return (batch, *shape)


def next_masks(net, batch, sample_shape, steps=1):
    """The Dropout masks of a Sequential's next ``steps`` train-mode passes (None without
    Dropout), replayed from its generator (``layer_compare.dropout_masks``)."""
    return dropout_masks(net, [np.arange(batch)] * steps, lambda b, i: input_shape(net, b, sample_shape, i))


def forward(backend, net, x):
    """The output ``(batch, n_out)``."""
    if backend == "manual":
        return net.forward(x)
    return _reference(backend).forward(net.spec(), net.params, x)


def batch_indices(n, epochs, batch_size=None, shuffle_seed=None):
    """Every step's index array, as ``manual.train`` documents its order: per
    epoch, a permutation of range(n) from ``np.random.default_rng(shuffle_seed)``
    (in order without a seed), cut into pieces of ``batch_size`` (None: all n),
    the short last piece kept."""
    rng = None if shuffle_seed is None else np.random.default_rng(shuffle_seed)
    size = n if batch_size is None else batch_size
    steps = []
    for _ in range(epochs):
        order = np.arange(n) if rng is None else rng.permutation(n)
        steps += [order[start : start + size] for start in range(0, n, size)]
    return steps


def train(
    backend,
    net,
    x,
    y,
    optimizer,
    epochs,
    batch_size=None,
    shuffle_seed=None,
    record_every=None,
    progress=None,
):
    """A training run from ``net``'s params: an object with ``losses`` (per step),
    ``params`` (final) and ``snapshots`` (``(step, params)`` every ``record_every``)."""
    if backend == "manual":
        return manual.train(
            net,
            x,
            y,
            optimizer,
            epochs,
            batch_size=batch_size,
            shuffle_seed=shuffle_seed,
            record_every=record_every,
            progress=progress,
        )
    batches = batch_indices(len(x), epochs, batch_size, shuffle_seed)
    if isinstance(net, manual.Sequential):
        masks = dropout_masks(net, batches, lambda b, i: input_shape(net, b, np.shape(x)[1:], i))
        return _reference(backend).sequential_train(
            net.spec(),
            net.params,
            net.buffers,
            x,
            y,
            optimizer.config(),
            batches,
            masks,
            record_every=record_every,
            progress=progress,
        )
    return _reference(backend).train(
        net.spec(),
        net.params,
        x,
        y,
        optimizer.config(),
        batches,
        record_every=record_every,
        progress=progress,
    )


def timed_train(backend, *args, progress=None, **kwargs):
    """``(run, step_seconds)``: ``train``, with the time between one step's end and the
    next's (an array, one per step) measured on the way; ``progress`` still called per step."""
    stamps = [time.perf_counter()]

    def tick():
        stamps.append(time.perf_counter())
        if progress is not None:
            progress()

    run = train(backend, *args, progress=tick, **kwargs)
    return run, np.diff(stamps)


# ------------------------------------------------------------------ ensembles


def ensemble_loss_and_grads(backend, ens, x, y):
    """``(losses (N,), grads)`` of ``ens`` (a ``manual.Ensemble``), grads nets first;
    x, y shared ``(batch, ...)`` or per net ``(N, batch, ...)``."""
    if backend == "manual":
        return ens.loss_and_grads(x, y)
    return REFERENCES[backend].ensemble_loss_and_grads(ens.spec(), ens.params, x, y)


def ensemble_train(backend, ens, x, y, lr, epochs, batch_size=None, shuffle_seed=None, progress=None):
    """Plain SGD (lr one number or one per net) on every net of ``ens`` from its
    params; an object with ``losses`` ``(steps, N)`` and the final ``params``."""
    if backend == "manual":
        optimizer = manual.SGD(lr=lr)
        return manual.train(ens, x, y, optimizer, epochs, batch_size, shuffle_seed, progress=progress)
    batches = batch_indices(np.shape(x)[-2], epochs, batch_size, shuffle_seed)
    return REFERENCES[backend].ensemble_train(ens.spec(), ens.params, x, y, lr, batches, progress=progress)
