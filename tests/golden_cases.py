"""Functions whose printed IR, adjoint IR and generated code are pinned by golden files."""
# fmt: off

import numpy as np


def logistic_loss(w, X, y):
    """Mean binary cross-entropy of a logistic model, from logits."""
    z = X @ w
    return np.mean(np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z))))


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def _softmax_ce(Z, y):
    m = np.max(Z, axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.sum(np.exp(Z - m), axis=1))
    n = Z.shape[0]
    return np.mean(lse - Z[np.arange(n), y])


def softmax_regression(W, b, X, y):
    return _softmax_ce(X @ W + b, y)


def branchy(x, t):
    s = x * x if t > 0.5 else -x
    return s * t


def branch_and_write(x, t):
    out = np.zeros(3)
    out[0] = x[0] * t
    if t > 0.0:
        out[1:] = np.tanh(x[1:3])
    else:
        return np.sum(x) * t
    return np.sum(out * out)


def oscillator(k, c, x0, v0, dt, target):
    """Damped oscillator by explicit Euler: scalar tapes and a reverse loop."""
    x = x0
    v = v0
    loss = 0.0
    for t in range(target.shape[0]):
        a = -k * x - c * v
        x = x + dt * v
        v = v + dt * a
        loss += (x - target[t]) ** 2
    return loss


def newton_sqrt(a):
    """A while loop with a data-dependent trip count: a growable tape."""
    x = a
    step = 1.0
    while abs(step) > 1e-12:
        step = (x * x - a) / (2.0 * x)
        x = x - step
    return x


def recurrence(x):
    """Element writes read back whole: an undo log instead of a copy per iteration."""
    out = np.zeros(x.shape[0])
    s = 0.0
    for i in range(x.shape[0]):
        s = s + np.sum(out * x)
        out[i] = np.sin(s) + x[i]
    return s
