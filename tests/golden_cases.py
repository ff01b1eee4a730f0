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
