"""Benchmark problems: the losses, their data, and the problem table.

Each loss is a plain module-level NumPy function inside symdiff's subset
(straight-line code, plus ``for ... in range(...)`` loops in P2, P6 and P7; no
statements symdiff cannot lower). ``make_data`` builds fixed-seed synthetic
float64 data (nothing is downloaded). This module imports only NumPy, so a
subprocess can time ``import symdiff`` without Numba having been imported
already; the hand-written Numba gradients live in ``handwritten.py`` and are
named here by ``Problem.hand``.

The problems are DESIGN.md's P1 to P7 (and P1s, P1 at n=10, to show per-call
overhead).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

# ---------------------------------------------------------------------------
# Losses, written in symdiff's subset
# ---------------------------------------------------------------------------


def rosenbrock(x):
    """Vectorized Rosenbrock: sum_i 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2."""
    a = x[:-1]
    b = x[1:]
    return np.sum(100.0 * (b - a * a) ** 2 + (1.0 - a) ** 2)


def rosenbrock_loop(x):
    """Rosenbrock as an explicit scalar loop (P2)."""
    s = 0.0
    for i in range(x.shape[0] - 1):
        s += 100.0 * (x[i + 1] - x[i] * x[i]) ** 2 + (1.0 - x[i]) ** 2
    return s


def logistic_loss(w, X, y):
    """Mean binary cross-entropy with logits z = X @ w, in the numerically stable form."""
    z = X @ w
    return np.mean(np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0.0) - y * z)


def cross_entropy(Z, y):
    """Mean softmax cross-entropy of logits Z (n x k) against integer labels y (max-shifted LSE)."""
    n = Z.shape[0]
    m = np.max(Z, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(Z - m), axis=1)) + m[:, 0]
    return np.mean(lse - Z[np.arange(n), y])


def softmax_loss(W, b, X, y):
    """Softmax regression: cross-entropy of X @ W + b."""
    return cross_entropy(X @ W + b, y)


def mlp_loss(W1, b1, W2, b2, X, y):
    """MLP with one tanh hidden layer and a softmax cross-entropy output."""
    H = np.tanh(X @ W1 + b1)
    return cross_entropy(H @ W2 + b2, y)


def oscillator(k, c, x0, v0, dt, target):
    """Damped oscillator x'' = -k x - c v, explicit Euler, squared distance to a target path (P6)."""
    x = x0
    v = v0
    loss = 0.0
    for t in range(target.shape[0]):
        a = -k * x - c * v
        x = x + dt * v
        v = v + dt * a
        loss += (x - target[t]) ** 2
    return loss


def rnn_loss(Wx, Wh, b, xs, y):
    """Elman RNN h_t = tanh(Wx x_t + Wh h_{t-1} + b), squared error of the last state (P7)."""
    h = np.zeros(Wh.shape[0])
    for t in range(xs.shape[0]):
        h = np.tanh(Wx @ xs[t] + Wh @ h + b)
    return np.sum((h - y) ** 2)


# ---------------------------------------------------------------------------
# Data (fixed seeds, float64; integer labels are int64)
# ---------------------------------------------------------------------------


def data_rosenbrock(n: int) -> tuple[Any, ...]:
    r = np.random.default_rng(1)
    return (r.uniform(-1.5, 1.5, n),)


def data_logistic(n: int = 10000, d: int = 50) -> tuple[Any, ...]:
    r = np.random.default_rng(3)
    X = r.standard_normal((n, d))
    w_true = r.standard_normal(d) / np.sqrt(d)
    p = 1.0 / (1.0 + np.exp(-3.0 * (X @ w_true)))
    y = (r.uniform(size=n) < p).astype(np.float64)
    w = 0.1 * r.standard_normal(d)
    return (w, X, y)


def data_softmax(n: int = 1797, d: int = 64, k: int = 10) -> tuple[Any, ...]:
    # the shape of scikit-learn's digits set, synthetic pixel values 0..16 scaled to [0, 1]
    r = np.random.default_rng(4)
    X = np.floor(r.uniform(0.0, 17.0, (n, d))) / 16.0
    y = r.integers(0, k, n).astype(np.int64)
    W = 0.1 * r.standard_normal((d, k))
    b = 0.1 * r.standard_normal(k)
    return (W, b, X, y)


def data_mlp(n: int = 256, d: int = 64, h: int = 128, k: int = 10) -> tuple[Any, ...]:
    r = np.random.default_rng(5)
    X = r.standard_normal((n, d))
    y = r.integers(0, k, n).astype(np.int64)
    W1 = r.standard_normal((d, h)) / np.sqrt(d)
    b1 = 0.1 * r.standard_normal(h)
    W2 = r.standard_normal((h, k)) / np.sqrt(h)
    b2 = 0.1 * r.standard_normal(k)
    return (W1, b1, W2, b2, X, y)


def data_oscillator(T: int = 1000) -> tuple[Any, ...]:
    # target: a damped cosine of slightly different frequency and damping than the
    # model's (k=4 -> omega=2, c=0.3), plus small noise; the scalars are Python floats
    r = np.random.default_rng(6)
    dt = 0.01
    t = dt * np.arange(1, T + 1)
    target = np.exp(-0.1 * t) * np.cos(2.1 * t) + 0.01 * r.standard_normal(T)
    return (4.0, 0.3, 1.0, 0.0, dt, target)


def data_rnn(h: int = 32, d: int = 8, T: int = 50) -> tuple[Any, ...]:
    # recurrent weights scaled 0.3 / sqrt(h) so that the state does not saturate
    r = np.random.default_rng(7)
    Wx = 0.5 * r.standard_normal((h, d)) / np.sqrt(d)
    Wh = 0.3 * r.standard_normal((h, h)) / np.sqrt(h)
    b = 0.1 * r.standard_normal(h)
    xs = r.standard_normal((T, d))
    y = r.uniform(-0.5, 0.5, h)
    return (Wx, Wh, b, xs, y)


# ---------------------------------------------------------------------------
# Problem table
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    key: str
    title: str
    loss: Callable[..., Any]
    argnums: Any                     # int or tuple of ints, as passed to sd.grad
    hand: str                        # name of the hand-written gradient in handwritten.py
    make_data: Callable[[], tuple[Any, ...]]

    @property
    def argnum_tuple(self) -> tuple[int, ...]:
        return self.argnums if isinstance(self.argnums, tuple) else (self.argnums,)


PROBLEMS: list[Problem] = [
    Problem("P1s", "Rosenbrock, vectorized, n=10", rosenbrock, 0,
            "rosenbrock_grad", lambda: data_rosenbrock(10)),
    Problem("P1", "Rosenbrock, vectorized, n=1000", rosenbrock, 0,
            "rosenbrock_grad", lambda: data_rosenbrock(1000)),
    Problem("P2", "Rosenbrock, scalar loop, n=1000", rosenbrock_loop, 0,
            "rosenbrock_loop_grad", lambda: data_rosenbrock(1000)),
    Problem("P3", "Logistic regression, BCE with logits, X 10000x50, grad w", logistic_loss, 0,
            "logistic_grad", data_logistic),
    Problem("P4", "Softmax regression, X 1797x64, 10 classes, grad (W, b)", softmax_loss, (0, 1),
            "softmax_grad", data_softmax),
    Problem("P5", "MLP 64-128-10 tanh, softmax CE, batch 256, grad (W1, b1, W2, b2)", mlp_loss,
            (0, 1, 2, 3), "mlp_grad", data_mlp),
    Problem("P6", "Damped oscillator, explicit Euler, 1000 steps, grad (k, c)", oscillator, (0, 1),
            "oscillator_grad", data_oscillator),
    Problem("P7", "RNN tanh, hidden 32, input 8, T=50, grad (Wx, Wh, b)", rnn_loss, (0, 1, 2),
            "rnn_grad", data_rnn),
]

BY_KEY = {p.key: p for p in PROBLEMS}
