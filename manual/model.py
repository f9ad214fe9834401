"""The one protocol ``train``, ``Trainer``, the optimizers and the checkpoints use to
talk to a model, whatever it is (``MLP``, ``Sequential``, ``Ensemble``):

    model.check_data(x, y)                  x, y validated and in the layout the step takes
    model.arrange_data(x, y)                the same layout, unchecked (Trainer.step(validate=False))
    model.check_batches(x, sizes)           whether train-mode batches of these sizes can be taken
    model.loss_and_grads_into(x, y, grads)  the hot path: the loss, every gradient written into grads
    model.param_views                       the params, one dict of named arrays per layer, views of
    model.flat_params                       one contiguous buffer, which an optimizer updates at once
    model.apply_update(opt, state, g, loss, frozen)
                                            one optimizer step from the gradients' flat buffer g
    model.run_state() / restore_run_state   what a TrainState keeps of the model itself (an RNG)
    model.n_nets, model.loss_shape          None and () for one net; an ensemble's N and (N,)
    model.copy(), model.dtype

A model is a subclass of ``Model`` holding its params as views (``_params``) of one
buffer (``_flat``); the defaults here are those of one net.
"""


class Model:
    n_nets = None
    loss_shape = ()
    update_shape = None  # how the optimizer views the flat buffers: an ensemble's (-1, N)

    @property
    def param_views(self):
        """The params, one dict of named arrays per layer, views of ``flat_params`` (an
        ensemble's in its internal layout, the nets last): what the optimizers update."""
        return self._params

    @property
    def flat_params(self):
        return self._flat

    def arrange_data(self, x, y):
        return x, y

    def apply_update(self, optimizer, state, grads_flat, loss, frozen=None):
        """One update of every parameter from the flat gradient buffer; returns the loss."""
        # params and grads are views of one buffer each: one update for the whole net
        optimizer.step_flat(self.flat_params, grads_flat, state)
        return loss

    def check_batches(self, x, sizes):
        """Whether train-mode batches of these ``sizes`` of checked ``x`` can be taken (default: any)."""

    def run_state(self):
        """Plain data a resumed run needs of the model besides its params (default: none)."""
        return {}

    def restore_run_state(self, state):
        if state:
            raise ValueError(f"{type(self).__name__} keeps no run state, got {sorted(state)}")
