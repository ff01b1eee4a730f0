"""Losses and activations, written in symdiff's own subset.

Every function here is plain NumPy code inside the subset symdiff compiles, so
it does two jobs: called directly on arrays it computes the value with NumPy,
and called from a user's function that symdiff transforms it is inlined and
differentiated like the user's own code::

    import numpy as np
    import symdiff as sd
    from symdiff import nn

    def loss(w, X, y):
        return nn.bce_with_logits(X @ w, y)

    g = sd.grad(loss)(w, X, y)

Conventions:

- Arrays are float64; ``pred``/``target`` style arguments have the same shape
  (or broadcast against each other like NumPy).
- Losses return a float scalar. Unless the docstring says otherwise they are
  the *mean* over all elements (over the batch for `cross_entropy`).
- Activations are elementwise and return an array of the input's shape (a
  scalar for a scalar).
- ``axis`` arguments must be integer constants where the function is called
  (symdiff specializes on static axes); the defaults are fine.
- At kinks the gradient follows symdiff's subgradient conventions:
  ``abs'(0) = 0`` and ``maximum``/``minimum`` split the adjoint evenly at ties.
  So ``relu'(0) = 0.5``, ``hinge`` has half the slope exactly at the margin,
  and ``softplus'(0) = sigmoid(0) = 0.5`` exactly.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "bce", "bce_with_logits", "cross_entropy", "hinge", "huber", "kl_div", "l1",
    "log_softmax", "logsumexp", "mse", "relu", "sigmoid", "softmax", "softplus", "tanh",
]


# ------------------------------------------------------------------ activations


def relu(x):
    """Rectified linear unit ``max(x, 0)``, elementwise (derivative 0.5 at 0)."""
    return np.maximum(x, 0.0)


def tanh(x):
    """Hyperbolic tangent, elementwise."""
    return np.tanh(x)


def softplus(x):
    """``log(1 + exp(x))`` elementwise, computed stably.

    Written as ``max(x, 0) + log1p(exp(-|x|))``: no overflow for large ``|x|``,
    finite value and gradient everywhere, and the gradient at 0 is exactly 0.5.
    """
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def sigmoid(x):
    """Logistic function ``1 / (1 + exp(-x))`` elementwise, stable in float64.

    Computed as ``exp(-softplus(-x))``: never overflows, keeps its relative
    accuracy in both tails (``sigmoid(-700)`` is about ``1e-304``, not 0), and
    the gradient ``sigmoid(x) * sigmoid(-x)`` is accurate for large ``|x|`` too.
    """
    return np.exp(-softplus(-x))


# ------------------------------------------------------- softmax and friends


def logsumexp(z, axis=-1):
    """``log(sum(exp(z), axis))`` computed with the max shift; the axis is removed.

    ``z`` is an array of any ndim >= 1; the result has ``z``'s shape without
    ``axis`` (a scalar for 1-D ``z``). Finite for large inputs (``z ~ 1e300``).
    ``axis`` must be a constant at the call site.
    """
    m = np.max(z, axis=axis, keepdims=True)
    s = np.sum(np.exp(z - m), axis=axis, keepdims=True)
    # summing over the (size-1) kept axis removes it
    return np.sum(np.log(s) + m, axis=axis)


def log_softmax(z, axis=-1):
    """``z - logsumexp(z, axis)`` with the axis kept: log-probabilities along ``axis``.

    Same shape as ``z``; stable for large inputs. ``axis`` must be a constant.
    """
    m = np.max(z, axis=axis, keepdims=True)
    shifted = z - m
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(z, axis=-1):
    """``exp(z) / sum(exp(z), axis)``, max-shifted; sums to 1 along ``axis``.

    Same shape as ``z``; stable for large inputs. ``axis`` must be a constant.
    """
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


# ------------------------------------------------------------------- losses


def mse(pred, target):
    """Mean squared error ``mean((pred - target)**2)`` over all elements."""
    r = pred - target
    return np.mean(r * r)


def l1(pred, target):
    """Mean absolute error ``mean(|pred - target|)`` over all elements."""
    return np.mean(np.abs(pred - target))


def huber(pred, target, delta=1.0):
    """Mean Huber loss over all elements, with threshold ``delta > 0``.

    Per element, with ``r = pred - target``: ``r**2 / 2`` where ``|r| <= delta``,
    else ``delta * (|r| - delta / 2)``. Written without branches as
    ``q**2/2 + delta*(|r| - q)`` with ``q = min(|r|, delta)``.
    """
    a = np.abs(pred - target)
    q = np.minimum(a, delta)
    return np.mean(0.5 * q * q + delta * (a - q))


def bce(p, y, eps=1e-12):
    """Mean binary cross-entropy of probabilities ``p`` against targets ``y`` in [0, 1].

    ``-mean(y*log(p) + (1-y)*log(1-p))`` over all elements, with ``p`` clipped to
    ``[eps, 1 - eps]`` so that the logs stay finite (the gradient is 0 where the
    clip is active). Prefer `bce_with_logits` when you have logits.
    """
    pc = np.clip(p, eps, 1.0 - eps)
    return -np.mean(y * np.log(pc) + (1.0 - y) * np.log(1.0 - pc))


def bce_with_logits(z, y):
    """Mean binary cross-entropy of ``sigmoid(z)`` against targets ``y`` in [0, 1].

    Computed from the logits ``z`` as ``mean(max(z, 0) - z*y + log1p(exp(-|z|)))``:
    finite value and gradient (``sigmoid(z) - y``, divided by the count) for any
    finite ``z``, e.g. ``|z| = 1000``.
    """
    return np.mean(np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z))))


def cross_entropy(logits, labels):
    """Mean softmax cross-entropy over a batch with integer class labels.

    ``logits`` is ``(n, k)`` float, ``labels`` is ``(n,)`` int64 with values in
    ``[0, k)``. Returns ``mean_i(logsumexp(logits[i]) - logits[i, labels[i]])``.
    """
    n = logits.shape[0]
    return np.mean(logsumexp(logits, axis=1) - logits[np.arange(n), labels])


def hinge(scores, y):
    """Mean hinge loss ``mean(max(0, 1 - y*scores))`` with labels ``y`` in {-1, +1}."""
    return np.mean(np.maximum(0.0, 1.0 - y * scores))


def kl_div(p, q, eps=1e-12):
    """Kullback-Leibler divergence ``sum(p * log(p / q))`` over all elements.

    ``p`` and ``q`` are probability arrays of the same shape; a *sum*, not a mean
    (for a batch of distributions, divide by the batch size yourself). Both are
    clipped from below at ``eps`` inside the log, so ``p = 0`` entries contribute 0
    and ``q = 0`` entries stay finite.
    """
    return np.sum(p * (np.log(np.maximum(p, eps)) - np.log(np.maximum(q, eps))))
