import torch


def backprop(params, x, y):
    # let autograd do it -- I use this to check my numpy version
    tp = [{k: torch.tensor(v, requires_grad=True) for k, v in layer.items()} for layer in params]
    X = torch.tensor(x)
    Y = torch.tensor(y)

    h = torch.sigmoid(X @ tp[0]["W"].T + tp[0]["b"])
    logits = h @ tp[1]["W"].T + tp[1]["b"]
    logp = torch.log_softmax(logits, dim=1)
    loss = -(Y * logp).sum() / X.shape[0]

    loss.backward()
    grads = [{k: t.grad for k, t in layer.items()} for layer in tp]
    return loss.item(), grads


CASE = dict(
    sizes=[3, 4, 3],
    activation="sigmoid",
    output_activation="softmax",
    loss="cross_entropy",
    reduction="mean",
    bias=True,
    dtype="float64",
    layout="weights=out_in,samples=rows,bias=flat,container=layers",
    kind="backprop",
    expect="correct",
    mistake=None,
    note="correct: forward in torch, returns autograd's .grad tensors (which do not require grad)",
)
