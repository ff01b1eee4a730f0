"""Numerical differentiation, to set beside symdiff's exact derivatives.

The functions here differentiate the same plain Python/NumPy functions that
symdiff differentiates, by evaluating them at perturbed arguments:

==============  =====================================  ==============  ================
method          derivative of t -> f(x + t e) at 0     error           evaluations
==============  =====================================  ==============  ================
``forward``     (f(x + h e) - f(x)) / h                O(h)            n + 1
``central``     (f(x + h e) - f(x - h e)) / (2 h)      O(h^2)          2 n
``complex``     Im f(x + i h e) / h                    O(h^2)          n
``richardson``  central differences at h, h/2, ...,    O(h^(2 L))      2 L n
                h/2^(L-1), extrapolated to h -> 0
==============  =====================================  ==============  ================

(``n`` is the number of coordinates differentiated, ``L`` the number of
Richardson ``levels``, default 2.) Forward and central differences and
Richardson extrapolation subtract nearly equal values, so their error has two
parts: truncation, which shrinks with ``h``, and round-off, about
``eps * |f| / h``, which grows as ``h`` shrinks. The default steps balance the
two (:func:`default_step`). The complex step subtracts nothing: its step can
be as small as ``1e-20`` and its result is exact to machine precision, but it
needs ``f`` to be *complex-analytic* (see below).

The API mirrors symdiff's::

    from symdiff import numeric

    numeric.grad(f, argnums=0, method="central")(*args)      # like sd.grad
    numeric.jacobian(f, argnums=0, method="central")(*args)  # out.shape + x.shape
    numeric.jvp(f, primals, tangents, method="central")      # (value, directional derivative)
    numeric.egrad(f, argnums=0, method="central")(*args)     # elementwise f: one sweep for all x

``grad`` and ``jacobian`` perturb one coordinate at a time (n or 2n calls of
``f``). ``jvp`` perturbs all coordinates at once along a direction, and
``egrad`` is ``jvp`` along a vector of ones: for an *elementwise* function
(output ``i`` depends on input ``i`` only) it gives every derivative from one
or two calls of ``f`` whatever the number of points.

Steps. ``h=None`` (the default) takes :func:`default_step` and scales it by
``max(1, |x_i|)`` coordinate by coordinate; a number given as ``h`` is used
as it is, the same absolute step for every coordinate. Real steps are made
exactly representable (``h = (x + h) - x``) so that the only errors are the
ones the theory predicts.

The complex step calls the original Python function with complex arguments
(``complex128`` arrays, ``np.complex128`` scalars). That is valid only when
every operation on the path from ``x`` to the result is the restriction of a
complex-analytic function: arithmetic, ``**``, ``exp``, ``log``, ``sin``,
``tanh``, ``sqrt`` and so on are; ``abs``/``np.abs`` and ``np.sign`` are not
(``np.abs`` of a complex number is its modulus, so the derivative is lost).
Comparisons, ``np.maximum``, ``np.minimum``, ``np.clip``, ``np.max`` and
``np.where`` compare complex numbers by their real part first, so they choose
the same branch as for real input and the method stays valid. symdiff refuses
the method (``ComplexStepError``, naming the line) when it can tell: ``abs``
or ``sign`` applied to a value that depends on ``x`` and reaches the result
(found from symdiff's own IR), a conversion of a complex value to a real one
(``float(z)``, ``math.exp(z)``, writing into an array made by ``np.zeros``,
which is float64: use ``np.zeros_like(x)`` or ``dtype=x.dtype`` there), a real
result, or a call that fails on complex input.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FunctionType
from typing import Any

import numpy as np

from symdiff.errors import Loc, SignatureError, SymdiffError

__all__ = [
    "METHODS", "ComplexStepError", "default_step", "egrad", "evaluations", "grad", "jacobian",
    "jvp", "non_analytic_uses",
]

METHODS = ("forward", "central", "complex", "richardson")
EPS = float(np.finfo(np.float64).eps)
COMPLEX_STEP = 1e-20
DEFAULT_LEVELS = 2

# Operations whose complex extension is not the analytic continuation of the real one.
NON_ANALYTIC_OPS = {"abs": "abs() / np.abs", "sign": "np.sign"}


class ComplexStepError(SymdiffError, ValueError):
    """The complex-step method does not apply to this function (it is not complex-analytic)."""


def default_step(method: str, levels: int = DEFAULT_LEVELS) -> float:
    """The step that balances truncation and round-off error for ``method`` at ``|x| <= 1``.

    forward ``sqrt(eps)`` (1.5e-8), central ``eps**(1/3)`` (6.1e-6), complex
    1e-20, richardson with L levels ``eps**(1/(2L+1))`` (7.4e-4 for L = 2).
    """
    _check_method(method, levels)
    if method == "forward":
        return math.sqrt(EPS)
    if method == "central":
        return EPS ** (1.0 / 3.0)
    if method == "complex":
        return COMPLEX_STEP
    return EPS ** (1.0 / (2 * levels + 1))


def evaluations(method: str, n: int, levels: int = DEFAULT_LEVELS) -> int:
    """Calls of ``f`` that :func:`grad` makes for ``n`` coordinates."""
    _check_method(method, levels)
    return {"forward": n + 1, "central": 2 * n, "complex": n,
            "richardson": 2 * levels * n}[method]


def _check_method(method: str, levels: int) -> None:
    if method not in METHODS:
        raise SymdiffError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if not isinstance(levels, (int, np.integer)) or levels < 1:
        raise SymdiffError(f"levels must be a positive integer, got {levels!r}")


# --------------------------------------------------------------------------- the schemes

@dataclass(frozen=True)
class _Scheme:
    method: str
    h: float | None
    levels: int

    def __post_init__(self) -> None:
        _check_method(self.method, self.levels)
        if self.h is not None and not (np.isfinite(self.h) and self.h > 0):
            raise SymdiffError(f"the step h must be a positive number, got {self.h!r}")

    @functools.cached_property
    def _default(self) -> float:
        return default_step(self.method, self.levels)

    def step(self, scale: float) -> float:
        """The step for a coordinate (or direction) of magnitude ``scale``."""
        if self.h is not None:
            return float(self.h)
        return self._default if self.method == "complex" else self._default * max(1.0, scale)

    def quotient(self, phi: Callable[[Any], Any], h: float, f0: Any, x0: float = 0.0) -> Any:
        """The derivative at 0 of ``t -> phi(t)``, where ``phi(t)`` is f at ``x0 + t`` along
        a coordinate (``x0`` its value) or a direction (``x0 = 0``). ``f0 = phi(0)``."""
        if self.method == "complex":
            return np.imag(phi(1j * h)) / h
        if self.method == "forward":
            h = _exact(x0, h)
            return (phi(h) - f0) / h
        if self.method == "central":
            return _central(phi, x0, h)
        # Richardson: D(h/2^k) = f' + c1 h^2/4^k + c2 h^4/16^k + ...; each column removes a term.
        row: list[Any] = []
        for k in range(self.levels):
            d = _central(phi, x0, h / 2.0 ** k)
            new = [d]
            for j in range(1, k + 1):
                new.append(new[j - 1] + (new[j - 1] - row[j - 1]) / (4.0 ** j - 1.0))
            row = new
        return row[-1]


def _exact(x0: float, h: float) -> float:
    """The step actually taken from x0: ``(x0 + h) - x0``, exact in floating point."""
    step = (x0 + h) - x0
    if step == 0.0:
        raise SymdiffError(f"the step h={h:.3g} is below the spacing of floating-point numbers "
                           f"at x={x0:.17g} (x + h == x); use a larger h")
    return step


def _central(phi: Callable[[Any], Any], x0: float, h: float) -> Any:
    hp, hm = _exact(x0, h), -_exact(x0, -h)
    return (phi(hp) - phi(-hm)) / (hp + hm)


# --------------------------------------------------------------------------- arguments

def _function(f: Callable[..., Any]) -> Callable[..., Any]:
    """The plain Python function behind a symdiff transform (``@sd.grad`` etc.)."""
    return getattr(f, "__wrapped_symdiff__", f)


def _name(f: Callable[..., Any]) -> str:
    return getattr(f, "__name__", type(f).__name__)


def param_name(f: Callable[..., Any], k: int) -> str:
    code = getattr(f, "__code__", None)
    if code is not None and k < code.co_argcount:
        return code.co_varnames[k]
    return f"#{k}"


def normalize_argnums(argnums: int | Sequence[int], nargs: int) -> tuple[tuple[int, ...], bool]:
    """``argnums`` checked as symdiff checks it, negative positions counted from the end."""
    from symdiff.api import _argnums as check
    nums, as_tuple = check(argnums)
    for a in nums:
        if not -nargs <= a < nargs:
            raise SymdiffError(f"argnums {a} is out of range for {nargs} argument(s)")
    return tuple(a % nargs for a in nums), as_tuple


def _float_argument(f: Callable[..., Any], args: Sequence[Any], k: int) -> Any:
    """``args[k]`` as a float or a float64 array; other kinds cannot be differentiated."""
    x = args[k]
    name = param_name(f, k)
    if isinstance(x, (bool, np.bool_)) or (isinstance(x, np.ndarray) and x.dtype == np.bool_):
        raise SignatureError(f"{_name(f)}: argument '{name}' is boolean; only float "
                             "arguments can be differentiated")
    if isinstance(x, np.ndarray):
        if x.dtype.kind != "f":
            raise SignatureError(
                f"{_name(f)}: argument '{name}' is an array of dtype {x.dtype}; only float "
                "arguments can be differentiated (convert with x.astype(np.float64))")
        return float(x) if x.ndim == 0 else x.astype(np.float64, copy=False)
    if isinstance(x, (int, np.integer)):
        raise SignatureError(f"{_name(f)}: argument '{name}' is an integer; only float "
                             f"arguments can be differentiated (pass {x}.0)")
    if isinstance(x, (float, np.floating)):
        return float(x)
    raise SignatureError(f"{_name(f)}: argument '{name}' is a {type(x).__name__}; numeric "
                         "differentiation takes floats and float64 arrays")


class _Caller:
    """Calls ``f`` with one argument replaced, checking what comes back.

    For the complex step, complex-to-real casts become errors and the result
    must be complex (see the module docstring).
    """

    def __init__(self, f: Callable[..., Any], args: Sequence[Any], method: str):
        self.f = f
        self.args = list(args)
        self.complex = method == "complex"

    def __call__(self, replace: dict[int, Any]) -> Any:
        args = list(self.args)
        for k, v in replace.items():
            args[k] = v
        if not self.complex:
            return np.asarray(self.f(*args), dtype=np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            try:
                out = self.f(*args)
            except np.exceptions.ComplexWarning:
                raise ComplexStepError(
                    f"complex step: {_name(self.f)} converts a complex value to a real one "
                    "(float(), a math.* function, or writing into an array made by np.zeros/"
                    "np.ones/np.empty, which is float64: use np.zeros_like(x) or dtype=x.dtype "
                    "there), so the derivative would be lost; use method='central'") from None
            except (TypeError, ValueError) as e:
                raise ComplexStepError(
                    f"complex step: {_name(self.f)} fails on complex input ({type(e).__name__}: "
                    f"{e}); the method needs a complex-analytic function: use method='central'"
                ) from e
        out = np.asarray(out)
        if not np.iscomplexobj(out):
            raise ComplexStepError(
                f"complex step: {_name(self.f)} returned a real value for complex input: it "
                "passes x through an operation that is not complex-analytic (abs, sign, "
                ".real, a cast); use method='central'")
        return out


def _check_output(f: Callable[..., Any], value: Any, scalar: bool) -> np.ndarray:
    out = np.asarray(value)
    if out.dtype.kind not in "fiu":
        raise SymdiffError(f"{_name(f)} returned {type(value).__name__} of dtype {out.dtype}; "
                           "numeric differentiation needs a float result")
    if scalar and out.ndim != 0:
        raise SymdiffError(f"grad needs {_name(f)} to return a float scalar, it returned an "
                           f"array of shape {out.shape}; use numeric.jacobian")
    return out.astype(np.float64)


def _complex_ready(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.astype(np.complex128)
    return np.complex128(value)


def _check_complex_result(f: Callable[..., Any], d: Any, name: str) -> None:
    if not np.all(np.isfinite(d)):
        raise ComplexStepError(
            f"complex step: the derivative of {_name(f)} with respect to '{name}' is not "
            "finite; the function may not be complex-analytic there (or its derivative is "
            "infinite); use method='central'")


# --------------------------------------------------------------------------- non-analytic ops

def non_analytic_uses(f: Callable[..., Any], args: Sequence[Any], argnums: Sequence[int]) -> list[Loc]:
    """Where ``f`` applies ``abs`` or ``sign`` to a value that depends on the arguments
    ``argnums`` and reaches the result: the places that make the complex step wrong.

    Found from symdiff's IR of ``f``; empty when ``f`` is outside symdiff's subset
    (nothing can be told then) or uses neither op.
    """
    fn = _function(f)
    if not isinstance(fn, FunctionType):
        return []
    from symdiff.signature import bind_arguments, kinds_of
    try:
        kinds = kinds_of(fn, bind_arguments(fn, args))
    except SymdiffError:
        return []
    return list(_non_analytic(fn, kinds, tuple(argnums)))


@functools.lru_cache(maxsize=256)
def _non_analytic(fn: FunctionType, kinds: tuple[Any, ...], argnums: tuple[int, ...]) -> tuple[Loc, ...]:
    from symdiff.frontend.lower import lower
    from symdiff.transforms.activity import useful_values, varied_values
    from symdiff.transforms.simplify import simplify
    try:
        ir = simplify(lower(fn, kinds).function)
    except SymdiffError:  # outside the subset: nothing to tell
        return ()
    varied = varied_values(ir.body, [ir.params[k] for k in argnums if k < len(ir.params)])
    useful = useful_values(ir.body, ir.returns)
    return tuple(op.loc for op in ir.body.walk()
                 if op.name in NON_ANALYTIC_OPS and op.loc is not None
                 and any(a in varied for a in op.args) and op.results[0] in useful)


def _refuse_non_analytic(f: Callable[..., Any], args: Sequence[Any], argnums: Sequence[int]) -> None:
    locs = non_analytic_uses(f, args, argnums)
    if not locs:
        return
    where = "\n".join(f"  {loc}: {loc.text.strip()}" for loc in locs)
    raise ComplexStepError(
        f"complex step: {_name(f)} is not complex-analytic: abs() / np.abs / np.sign of a value "
        f"that depends on the differentiated argument(s) would lose the derivative:\n{where}\n"
        "hint: use method='central' or 'richardson'")


# --------------------------------------------------------------------------- derivatives

def _partials(f: Callable[..., Any], args: Sequence[Any], k: int, scheme: _Scheme,
              f0: np.ndarray | None, scalar: bool) -> Any:
    """The derivatives of f's output with respect to each coordinate of ``args[k]``:
    an array of shape ``out.shape + x.shape`` (a float for scalar ``x`` and output).
    ``f0`` is f at ``args``, needed by forward differences only."""
    x = _float_argument(f, args, k)
    call = _Caller(f, args, scheme.method)
    if np.ndim(x) == 0:
        base = _complex_ready(x) if call.complex else x
        out = _check_output(f, scheme.quotient(lambda t: call({k: base + t}),
                                               scheme.step(abs(x)), f0, x), scalar)
    elif x.size == 0:
        out = np.empty(_check_output(f, f(*args), scalar).shape + x.shape)
    else:
        xw = _complex_ready(x) if call.complex else x.copy()
        out = None
        for idx in np.ndindex(x.shape):
            xi = float(x[idx])

            def phi(t: Any, idx: tuple[int, ...] = idx, xi: float = xi) -> Any:
                xw[idx] = xi + t
                try:
                    return call({k: xw})
                finally:
                    xw[idx] = xi
            d = scheme.quotient(phi, scheme.step(abs(xi)), f0, xi)
            if out is None:  # the first coordinate tells the shape of f's output
                out = np.empty(_check_output(f, d, scalar).shape + x.shape)
            out[(Ellipsis, *idx)] = d
    if call.complex:
        _check_complex_result(f, out, param_name(f, k))
    return float(out) if np.ndim(out) == 0 else out


def _derivatives(f: Callable[..., Any], argnums: int | Sequence[int], scheme: _Scheme,
                 scalar: bool) -> Callable[..., Any]:
    fn = _function(f)

    def run(*args: Any) -> Any:
        nums, as_tuple = normalize_argnums(argnums, len(args))
        for k in nums:
            _float_argument(fn, args, k)
        if scheme.method == "complex":
            _refuse_non_analytic(fn, args, nums)
        # Only forward differences use f(x); the other methods make exactly 2n, n or 2Ln calls.
        f0 = _check_output(fn, fn(*args), scalar) if scheme.method == "forward" else None
        results = tuple(_partials(fn, args, k, scheme, f0, scalar) for k in nums)
        return results if as_tuple else results[0]
    return run


def grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0, *, method: str = "central",
         h: float | None = None, levels: int = DEFAULT_LEVELS) -> Callable[..., Any]:
    """Numerical gradient of a function returning a float scalar, like ``symdiff.grad``.

    Returns a callable with f's parameters that returns the gradient with
    respect to argument ``argnums`` (an int; a tuple of ints gives a tuple of
    gradients), of the argument's shape. ``method`` is one of ``forward``,
    ``central``, ``complex``, ``richardson``; ``h`` the step (default: see
    :func:`default_step`); ``levels`` the number of Richardson steps. Costs
    :func:`evaluations` calls of ``f``.
    """
    return functools.wraps(_function(f))(_derivatives(f, argnums, _Scheme(method, h, levels), True))


def jacobian(f: Callable[..., Any], argnums: int | Sequence[int] = 0, *, method: str = "central",
             h: float | None = None, levels: int = DEFAULT_LEVELS) -> Callable[..., Any]:
    """Numerical Jacobian: for an output of shape S and an argument of shape T, an array of
    shape ``S + T`` (JAX's convention), one coordinate of the argument at a time."""
    return functools.wraps(_function(f))(_derivatives(f, argnums, _Scheme(method, h, levels), False))


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], *,
        method: str = "central", h: float | None = None,
        levels: int = DEFAULT_LEVELS) -> tuple[Any, Any]:
    """``(f(*primals), J @ tangents)``: the derivative of ``f`` along a direction.

    ``tangents`` has one entry per primal, of the primal's shape; ``None`` (or a
    zero) for arguments that do not move (integers, data). All coordinates move
    at once, so this costs one call of ``f`` (complex), two (forward, central),
    or ``2 L`` (richardson), whatever the number of coordinates. With ``h=None``
    the step is the default step times ``max(1, max|x|) / max|v|``.
    """
    scheme = _Scheme(method, h, levels)
    fn = _function(f)
    primals = list(primals)
    if len(tangents) != len(primals):
        raise SignatureError(f"jvp: {len(primals)} primal(s) but {len(tangents)} tangent(s)")
    moving: dict[int, tuple[Any, Any]] = {}
    for k, v in enumerate(tangents):
        if v is None or (np.ndim(v) == 0 and v == 0 and not isinstance(primals[k], np.ndarray)):
            continue
        x = _float_argument(fn, primals, k)
        v = np.asarray(v, dtype=np.float64)
        if v.shape != np.shape(x):
            raise SignatureError(f"jvp: the tangent of '{param_name(fn, k)}' has shape {v.shape}, "
                                 f"its primal {np.shape(x)}")
        moving[k] = (x, v if np.ndim(x) else float(v))
    value = fn(*primals)
    f0 = _check_output(fn, value, False)
    if not moving:
        return value, np.zeros_like(f0) if f0.ndim else 0.0
    if scheme.method == "complex":
        _refuse_non_analytic(fn, primals, tuple(moving))
    call = _Caller(fn, primals, scheme.method)
    size = max(float(np.max(np.abs(x), initial=0.0)) for x, _ in moving.values())
    vmax = max(float(np.max(np.abs(v), initial=0.0)) for _, v in moving.values())
    if vmax == 0.0:
        return value, np.zeros_like(f0) if f0.ndim else 0.0
    t = scheme.step(size) / vmax

    bases = {k: (_complex_ready(x) if call.complex else x, v) for k, (x, v) in moving.items()}

    def phi(s: Any) -> Any:
        return call({k: x + s * v for k, (x, v) in bases.items()})
    d = scheme.quotient(phi, t, f0.astype(np.complex128) if call.complex else f0)
    if call.complex:
        _check_complex_result(fn, d, ", ".join(param_name(fn, k) for k in moving))
    return value, float(d) if np.ndim(d) == 0 else d


def egrad(f: Callable[..., Any], argnums: int = 0, *, method: str = "central",
          h: float | None = None, levels: int = DEFAULT_LEVELS) -> Callable[..., Any]:
    """Derivative of an *elementwise* function at every point at once, like ``sd.egrad``.

    ``egrad(f)(x)[i]`` is ``d f(x)[i] / d x[i]`` when output ``i`` depends only
    on input ``i`` (``np.tanh``, ``x**3 - x``...): it is the directional
    derivative along a vector of ones (:func:`jvp`), so it costs the same few
    calls of ``f`` for a million points as for one. For other functions it is
    ``J @ ones``, not the gradient.
    """
    fn = _function(f)
    if not isinstance(argnums, (int, np.integer)) or isinstance(argnums, bool):
        raise SignatureError(f"egrad takes one argnum (an int), got {argnums!r}")

    def run(*args: Any) -> Any:
        (k,), _ = normalize_argnums(argnums, len(args))
        tangents: list[Any] = [None] * len(args)
        tangents[k] = np.ones_like(np.asarray(args[k], dtype=np.float64))
        return jvp(fn, args, tangents, method=method, h=h, levels=levels)[1]
    return functools.wraps(fn)(run)
