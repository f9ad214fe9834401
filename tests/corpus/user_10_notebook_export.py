#!/usr/bin/env python

# # Lab 4: backprop by hand
# Exported from lab4.ipynb

# In[1]:


import numpy as np

np.random.seed(0)


# In[2]:


X_demo = np.random.randn(6, 2)
Y_demo = X_demo[:, :1] * 2.0 - X_demo[:, 1:]
params_demo = [
    {"W": np.random.randn(2, 3) * 0.5, "b": np.zeros(3)},
    {"W": np.random.randn(3, 1) * 0.5, "b": np.zeros(1)},
]
print(X_demo.shape, Y_demo.shape)


# In[3]:


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]
    W2, b2 = params[1]["W"], params[1]["b"]
    z1 = x @ W1 + b1
    h = np.maximum(z1, 0)
    yhat = h @ W2 + b2
    loss = 0.5 * ((yhat - y) ** 2).sum()

    dyhat = yhat - y
    dW2 = h.T @ dyhat
    db2 = dyhat.sum(0)
    dh = dyhat @ W2.T
    dz1 = dh * (z1 > 0)
    dW1 = x.T @ dz1
    db1 = dz1.sum(0)
    return loss, [{"W": dW1, "b": db1}, {"W": dW2, "b": db2}]


# In[4]:


loss, grads = backprop(params_demo, X_demo, Y_demo)
print("loss", loss)
for g in grads:
    print({k: v.shape for k, v in g.items()})


# In[5]:


CASE = dict(
    sizes=[2, 3, 1],
    activation="relu",
    output_activation="identity",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=layers",
    kind="backprop",
    expect="correct",
    mistake=None,
    note="correct: notebook export that builds demo arrays and prints at import time",
)
