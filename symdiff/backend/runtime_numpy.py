"""Run-time support imported by generated modules of the NumPy (``backend="python"``) target."""

from __future__ import annotations

import numpy as np


def unbroadcast(g: np.ndarray | float, like: np.ndarray | float) -> np.ndarray | float:
    """Sum ``g`` over the axes along which ``like`` was broadcast to ``g``'s shape."""
    g = np.asarray(g)
    shape = np.shape(like)
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    axes = tuple(k for k, n in enumerate(shape) if n == 1 and g.shape[k] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if not shape:
        return float(g)
    return g


def unbroadcast_to(g: np.ndarray | float, shape: tuple[int, ...]) -> np.ndarray | float:
    """Sum ``g`` over the axes along which an array of ``shape`` was broadcast to it."""
    return unbroadcast(g, np.empty(shape) if shape else 0.0)
