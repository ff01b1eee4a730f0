"""What the optimizers share: their errors, and turning a loss into symdiff's compiled entry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import FunctionType
from typing import Any

import numpy as np

from symdiff.errors import SymdiffError


class OptimError(SymdiffError, ValueError):
    """Arguments an optimizer cannot work with (shapes, lengths, hyperparameters)."""


class NonFiniteLossError(SymdiffError, FloatingPointError):
    """The loss (or its gradient) became NaN or infinite during optimization."""


def unwrap(loss: Any, who: str) -> tuple[FunctionType, str]:
    """The plain Python function behind ``loss`` and the backend to compile it for.

    ``loss`` may be a plain function or anything symdiff returned for one
    (``sd.jit(f)``, ``sd.grad(f)``...): its backend is kept.
    """
    fn = getattr(loss, "__wrapped_symdiff__", loss)
    backend = getattr(loss, "backend", "numba") if fn is not loss else "numba"
    if not isinstance(fn, FunctionType):
        raise OptimError(f"{who}: the loss must be a Python function defined with 'def' "
                         f"(symdiff reads its source), not {type(loss).__name__}")
    return fn, backend


def value_and_grad_entry(fn: FunctionType, backend: str, nparams: int,
                         args: Sequence[Any], who: str) -> Callable[..., Any]:
    """symdiff's compiled ``value_and_grad`` entry of ``fn`` in its first ``nparams``
    arguments, for these argument kinds.

    The entry takes every argument of ``fn`` (defaults included) and returns
    ``(value, grad)`` for one parameter, ``(value, (grad_0, ...))`` for several.
    One parameter is compiled as ``argnums=0``: the same entry as the user's own
    ``sd.value_and_grad(fn)``, so the two share one compilation.
    """
    argnums = 0 if nparams == 1 else tuple(range(nparams))
    import symdiff as sd

    try:
        return sd.value_and_grad(fn, argnums=argnums, backend=backend).compile(*args)
    except SymdiffError as e:
        e.add_note(f"while {who} prepared the gradient of {fn.__name__}")
        raise e.with_traceback(None) from None


def as_float_array(x: Any, what: str, who: str) -> np.ndarray:
    """A private float64 C-ordered copy of a parameter array."""
    try:
        a = np.array(x, dtype=np.float64, order="C", copy=True)
    except (TypeError, ValueError) as e:
        raise OptimError(f"{who}: {what} must be a float array or number, got "
                         f"{type(x).__name__} ({e})") from None
    if a.dtype != np.float64 or a.dtype.hasobject:
        raise OptimError(f"{who}: {what} must hold float64 numbers")
    if not np.all(np.isfinite(a)):
        raise OptimError(f"{who}: {what} holds NaN or infinite values")
    return a


def data_array(x: Any, k: int, who: str) -> Any:
    """One data argument in a kind symdiff takes: arrays become float64, int64 or bool,
    C-ordered (a copy only when needed); numbers stay numbers (constants, not sliced)."""
    if isinstance(x, (bool, int, float, np.bool_, np.integer, np.floating)):
        return x
    a = np.asarray(x)
    if a.ndim == 0:
        return a.item()
    if a.dtype == np.bool_:
        target = np.bool_
    elif np.issubdtype(a.dtype, np.integer):
        target = np.int64
    elif np.issubdtype(a.dtype, np.floating):
        target = np.float64
    else:
        raise OptimError(f"{who}: data[{k}] has dtype {a.dtype}; give float, integer or bool arrays")
    return np.ascontiguousarray(a, dtype=target)


def check_scalar_loss(value: Any, who: str) -> float:
    """The loss value as a float; a clear error when the loss is not a scalar."""
    if isinstance(value, (float, int, np.floating, np.integer)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return float(value)
    shape = getattr(value, "shape", None)
    raise OptimError(f"{who}: the loss must return one float scalar, got "
                     f"{type(value).__name__}{'' if shape is None else f' of shape {shape}'}")
