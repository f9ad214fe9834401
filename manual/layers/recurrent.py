"""RNN and LSTM over batch-first sequences, one layer, unrolled, with backpropagation
through time. x (N, T, in) → the hidden state of every step, (N, T, H); params
W_ih (in, G·H), W_hh (H, G·H), b_ih and b_hh (G·H,), G = 1 (RNN) or 4 (LSTM: the gates
i, f, g, o side by side, PyTorch's order), so that ``weight_ih_l0 = W_ih.T``.

RNN, f = tanh or relu:

    forward    aₜ = xₜ W_ih + b_ih + b_hh + hₜ₋₁ W_hh               (N, H)
               hₜ = f(aₜ)                                          h₀ given, or 0
    backward   ∂hₜ = ∂L/∂outₜ + ∂aₜ₊₁ W_hhᵀ                         ∂aₜ₊₁ = 0 after the last step
               ∂aₜ = ∂hₜ ⊙ f′,  f′ = 1 − hₜ² (tanh), [hₜ > 0] (relu)
               ∂h₀ = ∂a₁ W_hhᵀ

LSTM, σ the logistic function:

    forward    zₜ = xₜ W_ih + b_ih + b_hh + hₜ₋₁ W_hh               (N, 4H), the blocks zⁱ, zᶠ, zᵍ, zᵒ
               i = σ(zⁱ), f = σ(zᶠ), g = tanh(zᵍ), o = σ(zᵒ)        (N, H) each
               cₜ = f ⊙ cₜ₋₁ + i ⊙ g,  hₜ = o ⊙ tanh(cₜ)            h₀, c₀ given, or 0
    backward   ∂hₜ = ∂L/∂outₜ + ∂zₜ₊₁ W_hhᵀ
               ∂cₜ = ∂cₜ₊₁ ⊙ fₜ₊₁ + ∂hₜ ⊙ o ⊙ (1 − tanh²(cₜ))        the cell's own path forward
               ∂zⁱ = ∂cₜ ⊙ g ⊙ i (1 − i),  ∂zᶠ = ∂cₜ ⊙ cₜ₋₁ ⊙ f (1 − f)
               ∂zᵍ = ∂cₜ ⊙ i ⊙ (1 − g²),   ∂zᵒ = ∂hₜ ⊙ tanh(cₜ) ⊙ o (1 − o)
               ∂h₀ = ∂z₁ W_hhᵀ,  ∂c₀ = ∂c₁ ⊙ f₁

Both, over all steps at once (X the (T·N, in) rows of x, A the (T·N, G·H) rows of ∂a or ∂z,
Hprev the (T·N, H) rows of h₀ … h_T−1):

    ∂L/∂x = A W_ihᵀ,  ∂L/∂W_ih = Xᵀ A,  ∂L/∂W_hh = Hprevᵀ A,  ∂L/∂b_ih = ∂L/∂b_hh = Σ A

The input projection of every step is one product before the loop; only the recurrence
runs step by step. Inside, the arrays are time-major (T, N, ·), so each step's rows are
contiguous. Several inputs: forward takes x, or a tuple ``(x, h0)`` (RNN), ``(x, h0, c0)``
(LSTM) with h0, c0 (N, H), and its backward then returns ``(dx, dh0[, dc0])``.
"""

import numpy as np

from .base import Layer, check_count, fan_in_uniform

NONLINEARITIES = ("tanh", "relu")


class Recurrent(Layer):
    """What RNN and LSTM share: the params, their checks, the input projection and ∂ of it."""

    gates = 1

    def __init__(self, input_size, hidden_size):
        self.input_size = check_count("input_size", input_size)
        self.hidden_size = check_count("hidden_size", hidden_size)

    def config(self):
        return {"input_size": self.input_size, "hidden_size": self.hidden_size}

    def param_shapes(self):
        width = self.gates * self.hidden_size
        return {
            "W_ih": (self.input_size, width),
            "W_hh": (self.hidden_size, width),
            "b_ih": (width,),
            "b_hh": (width,),
        }

    def init_params(self, rng, dtype):
        """U(−1/√H, 1/√H) for all four, PyTorch's default."""
        return {k: fan_in_uniform(rng, s, self.hidden_size, dtype) for k, s in self.param_shapes().items()}

    def output_shape(self, shape):
        if shape is None or ... in shape:
            if shape is not None and shape[-1] not in (None, ..., self.input_size):
                raise ValueError(self._expected(shape))
            return (None, self.hidden_size)
        if len(shape) != 2 or shape[-1] not in (None, self.input_size) or shape[0] == 0:
            raise ValueError(self._expected(shape))
        return (shape[0], self.hidden_size)

    def _expected(self, shape):
        return (
            f"expected sequences of per-sample shape (T, {self.input_size}) (T >= 1 steps of "
            f"input_size {self.input_size}), got per-sample shape {shape}"
        )

    def _unpack(self, x):
        """``(x, states, several)``: x (N, T, in), each state (N, H) or None, checked."""
        several = isinstance(x, tuple)
        given = x if several else (x,)
        if not 1 <= len(given) <= len(self.inputs):
            raise ValueError(
                f"{self.kind}: expected x or a tuple of the first of {self.inputs}, "
                f"got a tuple of {len(given)}"
            )
        for name, v in zip(self.inputs, given):
            if not isinstance(v, np.ndarray) or v.dtype.kind != "f":
                got = v.dtype if isinstance(v, np.ndarray) else type(v).__name__
                raise TypeError(f"{name}: expected a float array, got {got}")
        x = given[0]
        if x.ndim != 3:
            raise ValueError(f"x: expected shape (N, T, {self.input_size}), got {x.shape}")
        self.output_shape(x.shape[1:])
        want = (len(x), self.hidden_size)
        for name, v in zip(self.inputs[1:], given[1:]):
            if v.shape != want:
                raise ValueError(f"{name}: expected shape {want} (N, hidden_size), got {v.shape}")
            if v.dtype != x.dtype:
                raise TypeError(f"{name}: expected {x.dtype} like x, got {v.dtype}")
        states = list(given[1:]) + [None] * (len(self.inputs) - len(given))
        return x, states, several and len(given)

    def _project(self, x, params):
        """Every step's input projection in one product: (T, N, G·H) = x W_ih + b_ih + b_hh,
        time-major; and the (T·N, in) rows of x it came from."""
        n, t, _ = x.shape
        rows = x.transpose(1, 0, 2).reshape(t * n, self.input_size)
        z = rows @ params["W_ih"]
        z += params["b_ih"]
        z += params["b_hh"]
        return z.reshape(t, n, -1), rows

    def _initial(self, state, t, n, dtype):
        """(T + 1, N, H), the state before the first step in [0]."""
        s = np.empty((t + 1, n, self.hidden_size), dtype)
        s[0] = 0 if state is None else state
        return s

    def _param_grads(self, dz, rows, hs, W_ih):
        """dx and the params' gradients from ∂a (or ∂z) of every step (T, N, G·H)."""
        t, n, width = dz.shape
        dz_rows = dz.reshape(t * n, width)
        # one product over the stacked states, not one per step
        dW_hh = hs[:-1].reshape(t * n, self.hidden_size).T @ dz_rows
        db = dz_rows.sum(axis=0)
        grads = {"W_ih": rows.T @ dz_rows, "W_hh": dW_hh, "b_ih": db, "b_hh": db.copy()}
        dx = (dz_rows @ W_ih.T).reshape(t, n, self.input_size).transpose(1, 0, 2)
        return np.ascontiguousarray(dx), grads

    def _dx(self, dx, dstates, several):
        return (dx, *dstates)[:several] if several else dx


class RNN(Recurrent):
    """``torch.nn.RNN(input_size, hidden_size, nonlinearity="tanh", batch_first=True)``, one
    layer with both biases, returning ``output`` (N, T, H). Loading torch's weights:
    W_ih = weight_ih_l0.T, W_hh = weight_hh_l0.T, b_ih = bias_ih_l0, b_hh = bias_hh_l0."""

    kind = "RNN"
    inputs = ("x", "h0")

    def __init__(self, input_size, hidden_size, nonlinearity="tanh"):
        super().__init__(input_size, hidden_size)
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity: expected one of {NONLINEARITIES}, got {nonlinearity!r}")
        self.nonlinearity = nonlinearity

    def config(self):
        return {**super().config(), "nonlinearity": self.nonlinearity}

    def forward(self, params, x, *, train=False, rng=None, buffers=None):
        x, (h0,), several = self._unpack(x)
        a, rows = self._project(x, params)
        W_hh = params["W_hh"]
        hs = self._initial(h0, a.shape[0], len(x), x.dtype)
        f = np.tanh if self.nonlinearity == "tanh" else relu
        for t in range(len(a)):
            a[t] += hs[t] @ W_hh
            f(a[t], out=hs[t + 1])
        return hs[1:].transpose(1, 0, 2), (rows, hs, params["W_ih"], W_hh, several)

    def backward(self, dout, cache):
        rows, hs, W_ih, W_hh, several = cache
        dout = dout.transpose(1, 0, 2)  # time-major
        da = np.empty_like(hs[1:])
        dh_next = np.zeros_like(hs[0])
        for t in reversed(range(len(da))):
            dh = dout[t] + dh_next
            h = hs[t + 1]
            if self.nonlinearity == "tanh":
                np.multiply(dh, 1 - h * h, out=da[t])
            else:
                np.multiply(dh, h > 0, out=da[t])
            dh_next = da[t] @ W_hh.T
        dx, grads = self._param_grads(da, rows, hs, W_ih)
        return self._dx(dx, [dh_next], several), grads


def relu(a, out):
    return np.maximum(a, 0, out=out)


class LSTM(Recurrent):
    """``torch.nn.LSTM(input_size, hidden_size, batch_first=True)``, one layer with both biases,
    returning ``output`` (N, T, H); the gates i, f, g, o side by side in W_ih, W_hh, b_ih and
    b_hh, as in torch's weight_ih_l0 (4H, in) = W_ih.T."""

    kind = "LSTM"
    inputs = ("x", "h0", "c0")
    gates = 4

    def forward(self, params, x, *, train=False, rng=None, buffers=None):
        x, (h0, c0), several = self._unpack(x)
        z, rows = self._project(x, params)
        W_hh = params["W_hh"]
        steps, n = z.shape[:2]
        hs = self._initial(h0, steps, n, x.dtype)
        cs = self._initial(c0, steps, n, x.dtype)
        tanh_c = np.empty_like(hs[1:])
        # σ(z) = ½ (1 + tanh(z / 2)): one tanh over all four gates, scaled by ½ where they are σ
        H = self.hidden_size
        scale = np.full(4 * H, 0.5, x.dtype)
        scale[2 * H : 3 * H] = 1
        shift = 1 - scale
        for t in range(steps):
            z[t] += hs[t] @ W_hh
            gates = z[t]  # activated in place
            gates *= scale
            np.tanh(gates, out=gates)
            gates *= scale
            gates += shift
            i, f, g, o = split_gates(gates)
            np.multiply(f, cs[t], out=cs[t + 1])
            cs[t + 1] += i * g
            np.tanh(cs[t + 1], out=tanh_c[t])
            np.multiply(o, tanh_c[t], out=hs[t + 1])
        return hs[1:].transpose(1, 0, 2), (rows, hs, cs, tanh_c, z, params["W_ih"], W_hh, several)

    def backward(self, dout, cache):
        rows, hs, cs, tanh_c, gates, W_ih, W_hh, several = cache
        dout = dout.transpose(1, 0, 2)  # time-major
        dz = np.empty_like(gates)
        dh_next = np.zeros_like(hs[0])
        dc_next = np.zeros_like(cs[0])
        for t in reversed(range(len(dz))):
            dh = dout[t] + dh_next
            i, f, g, o = split_gates(gates[t])
            tc = tanh_c[t]
            dc = dh * o * (1 - tc * tc)
            dc += dc_next
            di, df, dg, do = split_gates(dz[t])
            np.multiply(dc, g * i * (1 - i), out=di)
            np.multiply(dc, cs[t] * f * (1 - f), out=df)
            np.multiply(dc, i * (1 - g * g), out=dg)
            np.multiply(dh, tc * o * (1 - o), out=do)
            dc_next = dc * f
            dh_next = dz[t] @ W_hh.T
        dx, grads = self._param_grads(dz, rows, hs, W_ih)
        return self._dx(dx, [dh_next, dc_next], several), grads


def split_gates(z):
    """The blocks i, f, g, o of (N, 4H) gates, views."""
    i, f, g, o = np.split(z, 4, axis=-1)
    return i, f, g, o
