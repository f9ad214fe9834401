"""makemore's "backprop ninja" exercise, written here: the MLP of names with a batchnorm,
its forward as a chain of named intermediates (once against an array namespace ``xp``, once in
PyTorch as makemore writes it), a correct hand backward in NumPy, and the classic mistakes
planted in it (``MISTAKES``). Used by tests/test_check_chain.py and docs/check.ipynb.

    emb → embcat → hprebn → bnmeani → bndiff → bndiff2 → bnvar → bnvar_inv → bnraw → hpreact
    → h → logits → logit_maxes → norm_logits → counts → counts_sum → counts_sum_inv → probs
    → logprobs → loss

The variance is Bessel-corrected, 1/(n − 1), as makemore's training forward has it.
"""

import numpy as np

EPS = 1e-5
MISTAKES = {
    "bndiff-path": "dbndiff without the path through bndiff2 (the variance)",
    "counts-path": "dcounts without the path through counts_sum",
    "bessel": "dbndiff2 with 1/n where the forward's variance divides by n − 1",
    "broadcast": "dcounts_sum_inv not summed back over the vocabulary",
    "sign": "dlogprobs with the wrong sign",
}


def problem(n=8, block=3, emb=4, hidden=16, seed=0, dtype=np.float64):
    """The inputs by name: the parameters (makemore's shapes, bngain and bnbias (1, H)) and a
    batch of contexts Xb (n, block) and next characters Yb (n,) of real first names (the
    ``names`` package, crosscheck.makemore), or of random ones if it is not installed."""
    rng = np.random.default_rng(seed)
    try:
        from crosscheck import makemore

        words = sorted(set(makemore.raw_names()))
        chars = makemore.vocabulary(words)
        X, Y = makemore.examples(
            words[:: max(1, len(words) // 40)], {c: i for i, c in enumerate(chars)}, block
        )
        pick = rng.choice(len(X), n, replace=False)
        Xb, Yb = X[pick], Y[pick]
        vocab = len(chars)
    except ImportError:
        vocab = 27
        Xb, Yb = rng.integers(0, vocab, (n, block)), rng.integers(0, vocab, n)
    p = {
        "C": rng.standard_normal((vocab, emb)),
        "W1": rng.standard_normal((block * emb, hidden)) * (5 / 3) / (block * emb) ** 0.5,
        "b1": rng.standard_normal(hidden) * 0.1,
        "bngain": 1 + rng.standard_normal((1, hidden)) * 0.1,
        "bnbias": rng.standard_normal((1, hidden)) * 0.1,
        "W2": rng.standard_normal((hidden, vocab)) * 0.1,
        "b2": rng.standard_normal(vocab) * 0.1,
    }
    p = {k: v.astype(dtype) for k, v in p.items()}
    return {**p, "Xb": Xb, "Yb": Yb}


def forward(xp, C, W1, b1, bngain, bnbias, W2, b2, Xb, Yb):
    """The chain, once for NumPy, PyTorch and jax.numpy (the names the three share)."""
    n = Xb.shape[0]
    emb = C[Xb]
    embcat = emb.reshape(n, -1)
    hprebn = embcat @ W1 + b1
    bnmeani = xp.sum(hprebn, axis=0, keepdims=True) / n
    bndiff = hprebn - bnmeani
    bndiff2 = bndiff**2
    bnvar = xp.sum(bndiff2, axis=0, keepdims=True) / (n - 1)  # Bessel's correction, as makemore
    bnvar_inv = (bnvar + EPS) ** -0.5
    bnraw = bndiff * bnvar_inv
    hpreact = bngain * bnraw + bnbias
    h = xp.tanh(hpreact)
    logits = h @ W2 + b2
    logit_maxes = xp.amax(logits, axis=1, keepdims=True)
    norm_logits = logits - logit_maxes
    counts = xp.exp(norm_logits)
    counts_sum = xp.sum(counts, axis=1, keepdims=True)
    counts_sum_inv = counts_sum**-1
    probs = counts * counts_sum_inv
    logprobs = xp.log(probs)
    loss = -logprobs[xp.arange(n), Yb].mean()
    return dict(
        emb=emb, embcat=embcat, hprebn=hprebn, bnmeani=bnmeani, bndiff=bndiff, bndiff2=bndiff2, bnvar=bnvar,
        bnvar_inv=bnvar_inv, bnraw=bnraw, hpreact=hpreact, h=h, logits=logits, logit_maxes=logit_maxes,
        norm_logits=norm_logits, counts=counts, counts_sum=counts_sum, counts_sum_inv=counts_sum_inv,
        probs=probs, logprobs=logprobs, loss=loss,
    )  # fmt: skip


def forward_torch(C, W1, b1, bngain, bnbias, W2, b2, Xb, Yb):
    """The same chain in PyTorch as makemore writes it (keepdim, .max().values, .view)."""
    n = Xb.shape[0]
    emb = C[Xb]
    embcat = emb.view(emb.shape[0], -1)
    hprebn = embcat @ W1 + b1
    bnmeani = 1 / n * hprebn.sum(0, keepdim=True)
    bndiff = hprebn - bnmeani
    bndiff2 = bndiff**2
    bnvar = 1 / (n - 1) * bndiff2.sum(0, keepdim=True)
    bnvar_inv = (bnvar + EPS) ** -0.5
    bnraw = bndiff * bnvar_inv
    hpreact = bngain * bnraw + bnbias
    h = hpreact.tanh()
    logits = h @ W2 + b2
    logit_maxes = logits.max(1, keepdim=True).values
    norm_logits = logits - logit_maxes
    counts = norm_logits.exp()
    counts_sum = counts.sum(1, keepdim=True)
    counts_sum_inv = counts_sum**-1
    probs = counts * counts_sum_inv
    logprobs = probs.log()
    loss = -logprobs[range(n), Yb].mean()
    names = (
        "emb embcat hprebn bnmeani bndiff bndiff2 bnvar bnvar_inv bnraw hpreact h logits logit_maxes "
        "norm_logits counts counts_sum counts_sum_inv probs logprobs loss"
    ).split()
    scope = locals()
    return {k: scope[k] for k in names}


def backward(v, Xb, Yb, mistake=None):
    """Every gradient by hand from the forward's values ``v`` (NumPy arrays by name, the
    parameters among them), each step from the ones after it; ``mistake``: a key of MISTAKES
    planted, everything before it computed from it as a user's code would."""
    n = Xb.shape[0]
    g = {}
    dlogprobs = np.zeros_like(v["logprobs"])
    dlogprobs[np.arange(n), Yb] = (1.0 if mistake == "sign" else -1.0) / n
    g["logprobs"] = dlogprobs
    g["probs"] = dprobs = dlogprobs / v["probs"]
    dcounts_sum_inv = v["counts"] * dprobs
    if mistake != "broadcast":
        dcounts_sum_inv = dcounts_sum_inv.sum(1, keepdims=True)
    g["counts_sum_inv"] = dcounts_sum_inv
    dcounts = v["counts_sum_inv"] * dprobs
    g["counts_sum"] = dcounts_sum = -(v["counts_sum"] ** -2) * dcounts_sum_inv
    if mistake != "counts-path":
        dcounts = dcounts + np.ones_like(v["counts"]) * dcounts_sum
    g["counts"] = dcounts
    g["norm_logits"] = dnorm_logits = v["counts"] * dcounts
    g["logit_maxes"] = dlogit_maxes = -dnorm_logits.sum(1, keepdims=True)
    top = np.zeros_like(v["logits"])
    top[np.arange(n), v["logits"].argmax(1)] = 1.0
    g["logits"] = dlogits = dnorm_logits + top * dlogit_maxes
    g["h"] = dh = dlogits @ v["W2"].T
    g["W2"] = v["h"].T @ dlogits
    g["b2"] = dlogits.sum(0)
    g["hpreact"] = dhpreact = (1 - v["h"] ** 2) * dh
    g["bngain"] = (v["bnraw"] * dhpreact).sum(0, keepdims=True)
    g["bnbias"] = dhpreact.sum(0, keepdims=True)
    g["bnraw"] = dbnraw = v["bngain"] * dhpreact
    g["bnvar_inv"] = dbnvar_inv = (v["bndiff"] * dbnraw).sum(0, keepdims=True)
    g["bnvar"] = dbnvar = -0.5 * (v["bnvar"] + EPS) ** -1.5 * dbnvar_inv
    g["bndiff2"] = dbndiff2 = np.ones_like(v["bndiff2"]) * dbnvar / (n if mistake == "bessel" else n - 1)
    dbndiff = v["bnvar_inv"] * dbnraw
    if mistake != "bndiff-path":
        dbndiff = dbndiff + 2 * v["bndiff"] * dbndiff2
    g["bndiff"] = dbndiff
    g["bnmeani"] = dbnmeani = -dbndiff.sum(0, keepdims=True)
    g["hprebn"] = dhprebn = dbndiff + np.ones_like(v["hprebn"]) * dbnmeani / n
    g["embcat"] = dembcat = dhprebn @ v["W1"].T
    g["W1"] = v["embcat"].T @ dhprebn
    g["b1"] = dhprebn.sum(0)
    g["emb"] = demb = dembcat.reshape(v["emb"].shape)
    dC = np.zeros_like(v["C"])
    np.add.at(dC, Xb, demb)
    g["C"] = dC
    return {f"d{k}": x for k, x in g.items()}


def grads(inputs, mistake=None):
    """The hand gradients of ``inputs``' chain (computed on the NumPy forward), by "d" name."""
    values = {**{k: v for k, v in inputs.items() if k not in ("Xb", "Yb")}, **forward(np, **inputs)}
    return backward(values, inputs["Xb"], inputs["Yb"], mistake)
