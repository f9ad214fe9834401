"""The scikit-learn reference: ``MLPRegressor`` and ``MLPClassifier``, a
hand-written NumPy backprop like the engine's, written by other people.

Same plain-data contract as ``torch_ref`` and ``jax_ref``, in scikit-learn's idiom:

- ``train`` is public behaviour: an estimator holding the given start weights,
  ``partial_fit`` once per mini-batch (so the batch order is the caller's), with
  ``shuffle=False``, ``learning_rate="constant"`` and no early stopping.
- Two things have no public API, so their documented internals are used:
  the start weights are set by ``_initialize`` (what ``partial_fit``'s first call
  runs) followed by assigning ``coefs_`` and ``intercepts_``; and
  ``loss_and_grads`` calls ``_backprop``, the method ``fit`` computes every
  gradient with.

Conventions, mapped to the spec (docs/sklearn.md derives each):

    spec                              scikit-learn
    reduction "mean", bias on every   always: losses average over the samples,
      layer                             every layer has an intercept
    one hidden activation:            activation=
      identity, sigmoid, tanh, relu     "identity", "logistic", "tanh", "relu"
    identity output, mse (½·mean)     MLPRegressor, squared_error = ½·mean over
                                        samples and outputs
    sigmoid output, bce, 1 output     MLPClassifier, 2 classes (binary log-loss)
    softmax output, cross_entropy,    MLPClassifier, n_out ≥ 3 classes (log-loss);
      one-hot targets                   targets passed as labels
    l2                                alpha: ½·alpha·Σ‖W‖² / n_samples, weights only
    sgd {lr, momentum, nesterov}      solver="sgd", velocity form v ← μv − ηg
    adam {lr, betas, eps}             solver="adam", ε added to the bias-uncorrected √v

Not expressible (``supports`` says why): a "sum" reduction, a layer without
bias, mixed hidden activations, leaky_relu, mse on a non-identity output,
sigmoid/bce with several outputs (multilabel: scikit-learn's log-loss sums
over the outputs where "mean" averages), softmax with fewer than 3 outputs,
weight decay, AdamW.

Where scikit-learn's gradient is not its loss's gradient, it is returned as
scikit-learn computes it: an ``MLPRegressor`` with k outputs reports
½·mean over samples *and* outputs, but its output delta is (a − y) / n_samples,
so its gradient is k times the gradient of the loss it reports (README, findings).
"""

import warnings

import numpy as np

from ._common import (
    Run,
    check_batches,
    check_data,
    check_optimizer,
    check_params,
    check_spec,
    installed_version,
    missing,
)

MLPClassifier = MLPRegressor = LabelBinarizer = None  # scikit-learn's, loaded by require() on first use

HIDDEN = {"identity": "identity", "sigmoid": "logistic", "tanh": "tanh", "relu": "relu"}
OUTPUTS = {("identity", "mse"), ("sigmoid", "bce"), ("softmax", "cross_entropy")}


def version():
    """The installed scikit-learn's version, or None without it."""
    return installed_version("scikit-learn", "sklearn")


def require():
    """Load scikit-learn's MLP (once), or raise ImportError naming the extra to install."""
    global MLPClassifier, MLPRegressor, LabelBinarizer
    if MLPClassifier is None:
        try:
            from sklearn.neural_network import MLPClassifier, MLPRegressor
            from sklearn.preprocessing import LabelBinarizer
        except ImportError as err:
            MLPClassifier = None
            raise missing("scikit-learn", "sklearn", err) from None


def supports(spec, optimizer=None):
    """None if scikit-learn computes this net's loss and gradient (and optimizer), else
    the reason it does not. An ``MLPRegressor`` with several outputs can be built,
    but its gradient is not its loss's (the README's finding): not supported."""
    reason = _unbuildable(spec, optimizer)
    n_out = check_spec(spec)["sizes"][-1]
    if reason is None and spec["loss"] == "mse" and n_out > 1:
        return f"mse with {n_out} outputs (its gradient is {n_out}x that of the loss it reports)"
    return reason


def _unbuildable(spec, optimizer=None):
    """None if an estimator of this net (and optimizer) can be built, else why not."""
    spec = check_spec(spec)
    hidden, (output, loss) = spec["activations"][:-1], (spec["activations"][-1], spec["loss"])
    n_out = spec["sizes"][-1]
    reasons = []
    if spec["reduction"] != "mean":
        reasons.append(f"reduction {spec['reduction']!r} (its losses average over the samples)")
    if not all(spec["bias"]):
        reasons.append("a layer without bias (every layer has an intercept)")
    if len(set(hidden)) > 1 or not set(hidden) <= set(HIDDEN):
        reasons.append(f"hidden activations {hidden} (one of {sorted(HIDDEN)} for every hidden layer)")
    if (output, loss) not in OUTPUTS:
        reasons.append(f"{loss} on a {output} output (identity/mse, sigmoid/bce or softmax/cross_entropy)")
    elif loss == "bce" and n_out != 1:
        reasons.append(f"bce with {n_out} outputs (multilabel log-loss sums over the outputs)")
    elif loss == "cross_entropy" and n_out < 3:
        reasons.append(f"softmax with {n_out} outputs (2 classes get one logistic output)")
    if optimizer is not None:
        name = check_optimizer(optimizer)["name"]
        if name not in ("sgd", "adam"):
            reasons.append(f"optimizer {name!r} (solver 'sgd' or 'adam')")
        elif optimizer.get("weight_decay"):
            reasons.append("weight_decay (use the net's l2, scikit-learn's alpha)")
    return "; ".join(reasons) or None


def _check_buildable(spec, optimizer=None):
    reason = _unbuildable(spec, optimizer)
    if reason is not None:
        raise ValueError(f"scikit-learn cannot express this net: {reason}")


def estimator(spec, optimizer=None):
    """An unfitted ``MLPRegressor``/``MLPClassifier`` of the spec's net (and optimizer)."""
    require()
    spec = check_spec(spec)
    _check_buildable(spec, optimizer)
    settings = dict(
        hidden_layer_sizes=tuple(spec["sizes"][1:-1]),
        activation=HIDDEN[spec["activations"][0]] if len(spec["sizes"]) > 2 else "identity",
        alpha=spec["l2"],
        shuffle=False,
        early_stopping=False,
        learning_rate="constant",
    )
    optimizer = optimizer or {"name": "sgd", "lr": 0.1, "momentum": 0.0, "nesterov": False}
    settings["learning_rate_init"] = optimizer["lr"]
    if optimizer["name"] == "sgd":
        settings.update(
            solver="sgd", momentum=optimizer["momentum"], nesterovs_momentum=optimizer["nesterov"]
        )
    else:
        beta_1, beta_2 = optimizer["betas"]
        settings.update(solver="adam", beta_1=beta_1, beta_2=beta_2, epsilon=optimizer["eps"])
    kind = MLPRegressor if spec["loss"] == "mse" else MLPClassifier
    return kind(**settings)


def estimator_at(spec, params, optimizer=None):
    """An estimator holding a copy of ``params``, as if ``partial_fit`` had begun
    from them: ``_initialize`` sets what its first call would, then the weights
    are replaced by the given ones."""
    est = estimator(spec, optimizer)
    spec = check_spec(spec)
    params = check_params(spec, params)
    n_out = spec["sizes"][-1]
    if isinstance(est, MLPClassifier):
        est._label_binarizer = LabelBinarizer().fit(np.arange(max(n_out, 2)))
        est.classes_ = est._label_binarizer.classes_
    est._random_state = np.random.RandomState(0)  # _initialize draws weights we then replace
    est._initialize(np.zeros((1, n_out)), list(spec["sizes"]), spec["dtype"])
    est.coefs_ = [layer["W"].copy() for layer in params]
    est.intercepts_ = [layer["b"].copy() for layer in params]
    est.n_features_in_ = spec["sizes"][0]
    return est


def params_of(est):
    """The estimator's weights as plain data: [{"W": (n_in, n_out), "b": (n_out,)}]."""
    return [{"W": W.copy(), "b": b.copy()} for W, b in zip(est.coefs_, est.intercepts_)]


def labels(spec, y):
    """Targets as scikit-learn takes them: the regressor's y (1-D for one output);
    the classifier's class labels (0/1 targets, or the one-hot rows' index)."""
    n_out = spec["sizes"][-1]
    if spec["loss"] == "mse":
        return y[:, 0] if n_out == 1 else y
    if spec["loss"] == "bce":
        if not np.isin(y, (0, 1)).all():
            raise ValueError("y: scikit-learn's classifier takes class labels; expected 0/1 targets")
        return y[:, 0].astype(np.intp)
    if not (np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all()):
        raise ValueError("y: scikit-learn's classifier takes class labels; expected one-hot rows")
    return y.argmax(axis=1)


def forward(spec, params, x):
    """The output ``(batch, n_out)`` from the public ``predict`` / ``predict_proba``."""
    est = estimator_at(spec, params)
    spec = check_spec(spec)
    x = np.asarray(x, dtype=spec["dtype"])
    if isinstance(est, MLPRegressor):
        return est.predict(x).reshape(len(x), -1)
    proba = est.predict_proba(x)
    return proba[:, 1:] if spec["sizes"][-1] == 1 else proba


def loss_and_grads(spec, params, x, y):
    """``(loss, grads)`` as scikit-learn's ``_backprop`` computes them (alpha included)."""
    est = estimator_at(spec, params)
    spec = check_spec(spec)
    x, y = check_data(spec, x, y)
    layers = len(spec["sizes"]) - 1
    activations = [x] + [None] * layers
    coef_grads = [np.empty_like(W) for W in est.coefs_]
    intercept_grads = [np.empty_like(b) for b in est.intercepts_]
    loss, coef_grads, intercept_grads = est._backprop(
        x, y, None, activations, [None] * layers, coef_grads, intercept_grads
    )
    return float(loss), [{"W": dW, "b": db} for dW, db in zip(coef_grads, intercept_grads)]


def train(spec, params, x, y, optimizer, batches, record_every=None, progress=None):
    """``partial_fit`` once per batch (index arrays, one per step); returns a ``Run``.
    A step's loss is the estimator's ``loss_`` after it: the batch's loss before the update."""
    est = estimator_at(spec, params, optimizer)
    spec = check_spec(spec)
    x, y = check_data(spec, x, y)
    batches = check_batches(batches, len(x))
    targets = labels(spec, y)
    losses, snapshots = [], []
    for step, idx in enumerate(batches):
        if record_every is not None and step % record_every == 0:
            snapshots.append((step, params_of(est)))
        est.batch_size = len(idx)  # one partial_fit = one step on exactly this batch
        _partial_fit(est, x[idx], targets[idx])
        losses.append(est.loss_)
        if progress is not None:
            progress()
    if record_every is not None and len(batches) % record_every == 0:
        snapshots.append((len(batches), params_of(est)))
    return Run(np.asarray(losses, dtype=spec["dtype"]), params_of(est), snapshots)


INTERRUPTED = "Training interrupted by user."


def _partial_fit(est, x, y):
    """``est.partial_fit(x, y)``, with Ctrl-C raised: scikit-learn catches KeyboardInterrupt
    inside its epoch and only warns, which would let a run go on half-updated."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.partial_fit(x, y)
    for w in caught:
        if str(w.message) == INTERRUPTED:
            raise KeyboardInterrupt
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
