"""Hessians and Hessian-vector products for the Newton methods, behind two functions.

`hessian_fn` and `hvp_fn` use symdiff's own second-order transforms
(``symdiff.hessian``, ``symdiff.hvp``, forward over reverse) when this symdiff
has them, and otherwise build the same objects from symdiff's exact gradient by
central differences. Newton's methods only call these two functions, so they
pick up the exact transforms without changes when those land.

Accuracy of the gradient-difference fallback, for f with smooth third
derivatives: column j of the Hessian is ``(g(x + h e_j) - g(x - h e_j)) / (2h)``
with ``h = eps**(1/3) * max(1, |x_j|)`` (about 6e-6 for |x_j| <= 1), the step
that balances the truncation error ``h**2 / 6 * |f'''|`` against the rounding
error ``eps * |g| / h``. Each entry is then accurate to about
``eps**(2/3) ~ 4e-11`` times the scale of the gradient and third derivatives,
and the result is symmetrized. A Hessian-vector product is one such
difference along v, ``h = eps**(1/3) * max(1, ||x||) / ||v||``, with the same
relative accuracy. Cost: 2n gradient evaluations per Hessian, 2 per product.
Newton's method with this Hessian still converges to full float64 precision:
an error of relative size 1e-10 in H only multiplies each step's error by
about 1e-10 * cond(H).
"""

from __future__ import annotations

from collections.abc import Callable
from types import FunctionType
from typing import Any

import numpy as np

_EPS3 = float(np.finfo(np.float64).eps) ** (1.0 / 3.0)

# False makes both functions use the gradient differences even where symdiff has
# ``hessian``/``hvp`` (the tests check Newton both ways).
USE_SYMDIFF_SECOND_ORDER = True


def _replace(args: tuple[Any, ...], k: int, value: Any) -> tuple[Any, ...]:
    return (*args[:k], value, *args[k + 1:])


def _as_arg(flat: np.ndarray, like: Any) -> Any:
    """A flat vector back in the form of the argument ``like`` (an array or a float)."""
    if isinstance(like, np.ndarray) and like.ndim > 0:
        return flat.reshape(like.shape)
    return float(flat[0])


def _flat(g: Any) -> np.ndarray:
    return np.asarray(g, dtype=np.float64).reshape(-1)


def gradient_fn(f: FunctionType, argnum: int = 0, backend: str = "numba") -> Callable[..., Any]:
    """symdiff's compiled gradient of ``f`` with respect to argument ``argnum``."""
    import symdiff as sd

    return sd.grad(f, argnums=argnum, backend=backend)


def hessian_fn(f: FunctionType, argnum: int = 0,
               backend: str = "numba") -> tuple[Callable[..., np.ndarray], str]:
    """``(hess, how)``: ``hess(*args)`` is the (n, n) Hessian of ``f`` with respect to
    argument ``argnum`` (flattened, n its size); ``how`` names the method used."""
    import symdiff as sd

    if USE_SYMDIFF_SECOND_ORDER and hasattr(sd, "hessian"):
        try:
            exact = sd.hessian(f, argnums=argnum, backend=backend)
        except TypeError:
            exact = sd.hessian(f, argnums=argnum)

        def hess_exact(*args: Any) -> np.ndarray:
            n = np.size(args[argnum])
            H = np.asarray(exact(*args), dtype=np.float64)
            if H.size != n * n:
                raise ValueError(f"symdiff.hessian returned shape {H.shape} for n = {n}")
            return H.reshape(n, n)
        return hess_exact, "symdiff.hessian (forward over reverse)"

    grad = gradient_fn(f, argnum, backend)

    def hess_fd(*args: Any) -> np.ndarray:
        x0 = args[argnum]
        x = _flat(x0)
        n = x.size
        H = np.empty((n, n))
        for j in range(n):
            h = _EPS3 * max(1.0, abs(x[j]))
            xp = x.copy()
            xm = x.copy()
            xp[j] += h
            xm[j] -= h
            step = xp[j] - xm[j]  # the step actually taken, after rounding
            gp = _flat(grad(*_replace(args, argnum, _as_arg(xp, x0))))
            gm = _flat(grad(*_replace(args, argnum, _as_arg(xm, x0))))
            H[:, j] = (gp - gm) / step
        return 0.5 * (H + H.T)
    return hess_fd, "central differences of symdiff's gradient"


def hvp_fn(f: FunctionType, argnum: int = 0,
           backend: str = "numba") -> tuple[Callable[..., np.ndarray], str]:
    """``(hvp, how)``: ``hvp(v, *args)`` is the Hessian of ``f`` (with respect to argument
    ``argnum``) times the flat vector ``v``, as a flat vector."""
    import symdiff as sd

    grad = gradient_fn(f, argnum, backend)

    def hvp_fd(v: np.ndarray, *args: Any) -> np.ndarray:
        x0 = args[argnum]
        x = _flat(x0)
        nv = float(np.linalg.norm(v))
        if nv == 0.0:
            return np.zeros_like(x)
        h = _EPS3 * max(1.0, float(np.linalg.norm(x))) / nv
        gp = _flat(grad(*_replace(args, argnum, _as_arg(x + h * v, x0))))
        gm = _flat(grad(*_replace(args, argnum, _as_arg(x - h * v, x0))))
        return (gp - gm) / (2.0 * h)

    if USE_SYMDIFF_SECOND_ORDER and hasattr(sd, "hvp"):
        exact = _exact_hvp(sd, f, argnum, backend, hvp_fd)
        if exact is not None:
            return exact, "symdiff.hvp (forward over reverse)"
    return hvp_fd, "central differences of symdiff's gradient"


def _exact_hvp(sd: Any, f: FunctionType, argnum: int, backend: str,
               reference: Callable[..., np.ndarray]) -> Callable[..., np.ndarray] | None:
    """``symdiff.hvp(f, argnums)(*args, v)`` adapted to ``hvp(v, *args)`` (flat vectors).

    Should a call fail in a way that says the convention does not fit (a TypeError,
    or a result of the wrong size), the gradient difference is used from then on.
    """
    try:
        try:
            transform = sd.hvp(f, argnums=argnum, backend=backend)
        except TypeError:
            transform = sd.hvp(f, argnums=argnum)
    except Exception:
        return None
    fallback = []

    def hvp(v: np.ndarray, *args: Any) -> np.ndarray:
        if fallback:
            return reference(v, *args)
        tangent = _as_arg(np.asarray(v, dtype=np.float64), args[argnum])
        try:
            out = _flat(transform(*args, tangent))
        except TypeError:
            out = None
        if out is None or out.size != np.size(args[argnum]):
            fallback.append(True)
            return reference(v, *args)
        return out
    return hvp
