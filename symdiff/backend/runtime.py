"""Run-time support imported by Numba-compiled generated modules."""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload


def contiguous(x: np.ndarray) -> np.ndarray:
    """``x`` itself when C- or F-contiguous, else a C-contiguous copy (BLAS needs one)."""
    return x if (x.flags.c_contiguous or x.flags.f_contiguous) else np.ascontiguousarray(x)


@overload(contiguous)
def _contiguous_numba(x):  # type: ignore[no-untyped-def]
    if isinstance(x, types.Array) and x.layout in "CF":
        return lambda x: x
    if isinstance(x, types.Array):
        return lambda x: np.ascontiguousarray(x)
    return None
