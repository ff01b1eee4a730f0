"""Newton's method: damped Newton with Cholesky solves, and Hessian-free Newton-CG.

Both minimize ``f(x, *args)`` over one float array ``x`` (any shape; the
Hessian is taken over its flattened entries) with symdiff's gradient, and the
Hessian or Hessian-vector products from `symdiff.optim._curvature`. Each step
is followed by a backtracking (Armijo) line search from the full Newton step,
so far from the optimum the steps are damped and near it the full step is
taken and convergence is quadratic.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symdiff.errors import SymdiffError
from symdiff.optim._common import (
    NonFiniteLossError,
    OptimError,
    as_float_array,
    check_scalar_loss,
    data_array,
    unwrap,
    value_and_grad_entry,
)
from symdiff.optim._curvature import hessian_fn, hvp_fn
from symdiff.signature import bind_arguments

_C1 = 1e-4            # Armijo's sufficient-decrease constant
_MAX_HALVINGS = 60    # step sizes down to 2**-60


@dataclass
class NewtonResult:
    """What `newton` and `newton_cg` return.

    Attributes:
        x: the last iterate, in the shape (and form) of ``x0``.
        fun: f at ``x``.
        grad_norm: Euclidean norm of the gradient at ``x``.
        nit: Newton iterations (steps) taken.
        success: True when ``grad_norm <= tol``.
        message: why it stopped.
        history: f at each iterate, ``x0`` first (``nit + 1`` values).
        grad_norms: gradient norm at each iterate.
        step_sizes: the line-search step of each iteration (1 is the full Newton step).
        shifts: the multiple of the identity added to the Hessian before its Cholesky
            factorization (0 when it was positive definite; `newton` only).
        cg_iters: conjugate-gradient iterations per Newton step (`newton_cg` only).
        times: wall time since the start at each iterate.
        nfev: evaluations of f and its gradient (one call computes both);
        nhev: Hessians (`newton`) or Hessian-vector products (`newton_cg`) computed.
        curvature: how the Hessian or its products were computed.
        compile_seconds: time spent compiling the gradient and the second-order code
            before the first iteration (``times`` starts after it).
    """

    x: Any
    fun: float
    grad_norm: float
    nit: int
    success: bool
    message: str
    history: np.ndarray
    grad_norms: np.ndarray
    step_sizes: np.ndarray
    times: np.ndarray
    nfev: int
    nhev: int
    curvature: str
    compile_seconds: float = 0.0
    shifts: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cg_iters: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __repr__(self) -> str:
        return (f"NewtonResult(success={self.success}, fun={self.fun:.12g}, "
                f"grad_norm={self.grad_norm:.3g}, nit={self.nit}, message={self.message!r})")


class _Problem:
    """f and its gradient at flat vectors, with counters and clear errors."""

    def __init__(self, f: Any, x0: Any, args: tuple[Any, ...], who: str):
        self.who = who
        self.fn, self.backend = unwrap(f, who)
        x = as_float_array(x0, "x0", who)
        if x.size == 0:
            raise OptimError(f"{who}: x0 is empty")
        self.form = "array" if x.ndim > 0 else ("0d" if isinstance(x0, np.ndarray) else "scalar")
        self.shape = x.shape
        self.x0 = x.reshape(-1).copy()
        given = [data_array(a, k, who) for k, a in enumerate(args)]
        try:
            full = bind_arguments(self.fn, [self.arg(self.x0), *given])
        except SymdiffError as e:
            e.add_note(f"{who} calls f(x, *args) with {len(given)} extra argument(s)")
            raise
        self.args = tuple(full[1:])  # the defaults of f included: the entry takes them all
        self.entry = value_and_grad_entry(self.fn, self.backend, 1, full, who)
        self.nfev = 0

    def arg(self, x: np.ndarray) -> Any:
        return x.reshape(self.shape) if self.form == "array" else float(x[0])

    def out(self, x: np.ndarray) -> Any:
        if self.form == "array":
            return x.reshape(self.shape).copy()
        return np.array(float(x[0])) if self.form == "0d" else float(x[0])

    def value_and_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        self.nfev += 1
        value, g = self.entry(self.arg(x), *self.args)
        return check_scalar_loss(value, self.who), np.asarray(g, dtype=np.float64).reshape(-1)


def _start(p: _Problem) -> tuple[float, np.ndarray]:
    f, g = p.value_and_grad(p.x0)
    if not (math.isfinite(f) and np.all(np.isfinite(g))):
        raise NonFiniteLossError(f"{p.who}: f or its gradient is NaN or infinite at x0 "
                                 f"(f = {f})")
    return f, g


def _line_search(p: _Problem, x: np.ndarray, f: float, g: np.ndarray,
                 d: np.ndarray) -> tuple[float, np.ndarray, float, np.ndarray] | None:
    """Backtracking from the full step: the first ``t = 2**-k`` with
    ``f(x + t d) <= f + c1 t g.d``; None when none is found (d not a descent direction
    that float64 can resolve)."""
    slope = float(g @ d)
    if not slope < 0.0:
        return None
    t = 1.0
    for _ in range(_MAX_HALVINGS):
        xn = x + t * d
        fn, gn = p.value_and_grad(xn)
        if math.isfinite(fn) and fn <= f + _C1 * t * slope and np.all(np.isfinite(gn)):
            return t, xn, fn, gn
        t *= 0.5
    return None


def _check(tol: Any, max_iter: Any, who: str) -> tuple[float, int]:
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.integer, np.floating)) \
            or not tol >= 0:
        raise OptimError(f"{who}: tol must be a number >= 0, got {tol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 0:
        raise OptimError(f"{who}: max_iter must be an int >= 0, got {max_iter!r}")
    return float(tol), int(max_iter)


def _cholesky_direction(H: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, float]:
    """Solve ``(H + tau I) d = -g`` with the smallest tried ``tau >= 0`` for which the
    Cholesky factorization exists (Nocedal and Wright, Algorithm 3.3): tau = 0 when H is
    positive definite, the pure Newton step."""
    import scipy.linalg

    n = H.shape[0]
    diag = np.diag(H)
    beta = 1e-3 * max(float(np.max(np.abs(H))), 1e-12)
    tau = 0.0 if np.min(diag) > 0 else -float(np.min(diag)) + beta
    for _ in range(200):
        try:
            c = scipy.linalg.cho_factor(H + tau * np.eye(n) if tau else H, check_finite=False)
            d = -scipy.linalg.cho_solve(c, g, check_finite=False)
            if np.all(np.isfinite(d)):
                return d, tau
        except np.linalg.LinAlgError:
            pass
        tau = max(2.0 * tau, beta)
    raise NonFiniteLossError("the Hessian could not be made positive definite (is it finite?)")


def newton(f: Callable[..., Any], x0: Any, *args: Any, tol: float = 1e-10,
           max_iter: int = 50) -> NewtonResult:
    """Minimize ``f(x, *args)`` by damped Newton's method.

    Each iteration computes the gradient g and the Hessian H at x, solves
    ``H d = -g`` by a Cholesky factorization (when H is not positive definite,
    ``H + tau I`` with the smallest ``tau`` tried that makes it so, which turns
    the step toward steepest descent), and takes the step ``t d`` with ``t`` the
    first of 1, 1/2, 1/4, ... that decreases f enough (Armijo). Near a minimum
    with a positive definite Hessian the full step is taken and convergence is
    quadratic: the gradient norm roughly squares each iteration. Each iteration
    costs O(n^3) for the factorization plus the Hessian (see `_curvature`).

    Stops with ``success=True`` when the gradient norm is at most ``tol``;
    otherwise after ``max_iter`` iterations, or when no step decreases f (at
    the limit of float64 precision) with ``success=False``.
    """
    who = "symdiff.optim.newton"
    tol, max_iter = _check(tol, max_iter, who)
    t0 = time.perf_counter()
    p = _Problem(f, x0, args, who)
    hess, how = hessian_fn(p.fn, 0, p.backend)
    x = p.x0
    fx, g = _start(p)
    # The first Hessian compiles the second-order code: outside the clock, reused below.
    H = hess(p.arg(x), *p.args) if g.size and float(np.linalg.norm(g)) > tol else None
    t_start = time.perf_counter()
    compile_seconds = t_start - t0
    fs, gns, steps, shifts, times = [fx], [float(np.linalg.norm(g))], [], [], [0.0]
    nhev = 0 if H is None else 1
    message = f"reached max_iter = {max_iter}"
    success = gns[-1] <= tol
    if success:
        message = "the gradient norm is at most tol"
    it = 0
    while not success and it < max_iter:
        if it > 0 or H is None:
            H = hess(p.arg(x), *p.args)
            nhev += 1
        if not np.all(np.isfinite(H)):
            raise NonFiniteLossError(f"{who}: the Hessian is NaN or infinite at iteration {it}")
        d, tau = _cholesky_direction(H, g)
        found = _line_search(p, x, fx, g, d)
        if found is None and tau == 0.0:
            # Try the steepest-descent direction once before giving up.
            found = _line_search(p, x, fx, g, -g)
        if found is None:
            message = ("no step decreases f: the gradient norm is at the limit of float64 "
                       "precision for this problem, or tol is too small")
            break
        t, x, fx, g = found
        it += 1
        fs.append(fx)
        gns.append(float(np.linalg.norm(g)))
        steps.append(t)
        shifts.append(tau)
        times.append(time.perf_counter() - t_start)
        if gns[-1] <= tol:
            success, message = True, "the gradient norm is at most tol"
    return NewtonResult(x=p.out(x), fun=fx, grad_norm=gns[-1], nit=it, success=success,
                        message=message, history=np.array(fs), grad_norms=np.array(gns),
                        step_sizes=np.array(steps), times=np.array(times), nfev=p.nfev,
                        nhev=nhev, curvature=how, compile_seconds=compile_seconds,
                        shifts=np.array(shifts))


def newton_cg(f: Callable[..., Any], x0: Any, *args: Any, tol: float = 1e-10,
              max_iter: int = 100, cg_max_iter: int | None = None) -> NewtonResult:
    """Minimize ``f(x, *args)`` by the Hessian-free (truncated) Newton-CG method.

    Each iteration solves ``H d = -g`` approximately by conjugate gradients
    using only Hessian-vector products (never forming H: O(n) memory, a few
    gradient-sized products per iteration), stopping when the residual is
    below ``min(0.5, sqrt(|g|)) |g|`` (superlinear convergence) or when CG
    meets a direction of non-positive curvature (it then returns the step
    built so far, or -g on the first CG iteration); then the same backtracking
    line search as `newton` (Nocedal and Wright, Algorithm 7.1).
    ``cg_max_iter`` bounds the CG iterations per step (default: the size of x).
    """
    who = "symdiff.optim.newton_cg"
    tol, max_iter = _check(tol, max_iter, who)
    if cg_max_iter is not None and (isinstance(cg_max_iter, bool) or not isinstance(
            cg_max_iter, (int, np.integer)) or cg_max_iter < 1):
        raise OptimError(f"{who}: cg_max_iter must be an int >= 1, got {cg_max_iter!r}")
    t0 = time.perf_counter()
    p = _Problem(f, x0, args, who)
    hvp, how = hvp_fn(p.fn, 0, p.backend)
    n = p.x0.size
    cg_cap = n if cg_max_iter is None else int(cg_max_iter)
    x = p.x0
    fx, g = _start(p)
    hvp(g, p.arg(x), *p.args)  # compiles the second-order code outside the clock
    t_start = time.perf_counter()
    compile_seconds = t_start - t0
    fs, gns, steps, cgs, times = [fx], [float(np.linalg.norm(g))], [], [], [0.0]
    nhev = 0
    success = gns[-1] <= tol
    message = "the gradient norm is at most tol" if success else f"reached max_iter = {max_iter}"
    it = 0
    while not success and it < max_iter:
        gnorm = gns[-1]
        forcing = min(0.5, math.sqrt(gnorm)) * gnorm
        z = np.zeros(n)
        r = g.copy()
        d = -r
        rr = float(r @ r)
        step = None
        k = 0
        for k in range(cg_cap):
            Hd = hvp(d, p.arg(x), *p.args)
            nhev += 1
            curv = float(d @ Hd)
            if not math.isfinite(curv):
                raise NonFiniteLossError(f"{who}: a Hessian-vector product is NaN or infinite")
            if curv <= 0.0:
                step = -g if k == 0 else z
                break
            alpha = rr / curv
            z = z + alpha * d
            r = r + alpha * Hd
            rr_new = float(r @ r)
            if math.sqrt(rr_new) <= forcing:
                step = z
                break
            d = -r + (rr_new / rr) * d
            rr = rr_new
        if step is None:
            step = z
        found = _line_search(p, x, fx, g, step)
        if found is None:
            found = _line_search(p, x, fx, g, -g)
        if found is None:
            message = ("no step decreases f: the gradient norm is at the limit of float64 "
                       "precision for this problem, or tol is too small")
            break
        t, x, fx, g = found
        it += 1
        fs.append(fx)
        gns.append(float(np.linalg.norm(g)))
        steps.append(t)
        cgs.append(k + 1)
        times.append(time.perf_counter() - t_start)
        if gns[-1] <= tol:
            success, message = True, "the gradient norm is at most tol"
    return NewtonResult(x=p.out(x), fun=fx, grad_norm=gns[-1], nit=it, success=success,
                        message=message, history=np.array(fs), grad_norms=np.array(gns),
                        step_sizes=np.array(steps), times=np.array(times), nfev=p.nfev,
                        nhev=nhev, curvature=how, compile_seconds=compile_seconds,
                        cg_iters=np.array(cgs, dtype=np.int64))
