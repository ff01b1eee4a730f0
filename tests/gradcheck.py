"""Finite-difference helpers for the tests (independent of symdiff)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def central_difference(f: Callable[..., float], args: Sequence[Any], argnum: int,
                       h: float = 1e-6) -> Any:
    """Central-difference gradient of scalar ``f`` w.r.t. ``args[argnum]``."""
    args = list(args)
    x = args[argnum]
    if np.ndim(x) == 0:
        up, down = list(args), list(args)
        up[argnum] = float(x) + h
        down[argnum] = float(x) - h
        return (f(*up) - f(*down)) / (2 * h)
    x = np.asarray(x, dtype=np.float64)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        args[argnum] = xp
        fp = f(*args)
        args[argnum] = xm
        fm = f(*args)
        g[idx] = (fp - fm) / (2 * h)
    args[argnum] = x
    return g


def assert_close(actual: Any, expected: Any, rtol: float = 1e-6, atol: float = 1e-7) -> None:
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)
