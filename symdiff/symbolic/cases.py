"""The classic expression-swell cases, written in symdiff's subset.

Each takes its size as an integer argument (or an array shape), which the SymPy
path treats as a constant and unrolls, while symdiff differentiates the loop as
written. `symdiff.symbolic.swell` measures them; docs/symbolic.md shows the
tables. This module needs only NumPy.
"""

from __future__ import annotations

import numpy as np

__all__ = ["logistic_map", "mlp_stack", "nested_sin_tanh", "product"]


def logistic_map(x, n):
    """The logistic map ``l = 4 l (1 - l)`` iterated n times from ``l = x``.

    The standard illustration of expression swell in the AD literature: the
    expression of l_n doubles in size with each step, its derivative more.
    """
    l = x  # noqa: E741
    for _ in range(n):
        l = 4.0 * l * (1.0 - l)  # noqa: E741
    return l


def nested_sin_tanh(x, n):
    """``tanh(sin(tanh(sin(...x...))))``: n rounds of sin then tanh (2n nested calls).

    The chain rule gives a product of 2n factors, each holding the whole inner
    composition: the raw derivative grows quadratically in n.
    """
    y = x
    for _ in range(n):
        y = np.tanh(np.sin(y))
    return y


def product(x):
    """The product of the n entries of x, one multiplication at a time.

    Each partial derivative is the product of the n - 1 others: n^2 operations
    symbolically, against one forward and one backward pass of n steps.
    """
    p = 1.0
    for i in range(x.shape[0]):
        p = p * x[i]
    return p


def mlp_stack(x, W, b):
    """``sum(h**2)`` after ``h = tanh(W[k] @ h + b[k])`` for each of the W.shape[0] layers.

    ``x`` is (d,), ``W`` is (L, d, d), ``b`` is (L, d). Every unit of a layer
    reads every unit below it, so the expression of the output grows like d**L.
    """
    h = x
    for k in range(W.shape[0]):
        h = np.tanh(W[k] @ h + b[k])
    return np.sum(h * h)
