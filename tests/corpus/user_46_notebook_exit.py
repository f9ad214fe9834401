#!/usr/bin/env python

# In[1]:


import numpy as np

# In[2]:


def backprop(params, x, y):
    W1, b1 = params[0]["W"], params[0]["b"]
    W2, b2 = params[1]["W"], params[1]["b"]
    h = np.tanh(x @ W1 + b1)
    out = h @ W2 + b2
    loss = 0.5 * np.sum((out - y) ** 2)
    d_out = out - y
    d_h = (d_out @ W2.T) * (1 - h**2)
    return loss, [{"W": x.T @ d_h, "b": d_h.sum(0)}, {"W": h.T @ d_out, "b": d_out.sum(0)}]


# In[3]:


CASE = dict(
    sizes=[2, 3, 1],
    activation="tanh",
    output_activation="identity",
    loss="mse",
    reduction="sum",
    bias=True,
    dtype="float64",
    layout="weights=in_out,samples=rows,bias=flat,container=layers",
    kind="backprop",
    expect="hostile",
    mistake=None,
    note="notebook export whose last cell calls exit(), so importing the module raises SystemExit (the backprop itself is correct)",
)


# In[4]:


exit()
