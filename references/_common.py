"""What both references share with the engine: its spec (architecture,
training arguments, batch order, History), never its formulas."""

import numpy as np

from manual.optim import OptimizerState
from manual.train import History, TrainState, copy_rng_state


def history(net, losses, params, snapshots, step, buffers, resume, epochs, rng, batch_size,
            shuffle_seed, optimizer):
    """The engine's History for a reference's run."""
    state = TrainState(
        optimizer=OptimizerState(step=step, buffers=buffers),
        epoch=(0 if resume is None else resume.epoch) + epochs,
        rng=None if rng is None else copy_rng_state(rng.bit_generator.state),
        batch_size=batch_size,
        shuffle_seed=shuffle_seed,
        optimizer_config=optimizer.config(),
    )
    return History(
        losses=np.asarray(losses, dtype=net.dtype),
        params=params,
        net=net.with_params(params),
        snapshots=snapshots,
        state=state,
    )
