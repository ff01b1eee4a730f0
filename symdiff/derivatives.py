"""Forward mode and the derivatives built from both modes: `jvp`, `vjp`,
`jacobian`, `hessian` and `hvp`.

Each compiles, per function, transform and argument kinds, one generated entry
(`symdiff.pipeline.compile_transform`, with the same caches as `grad`):

- ``jvp``: the forward-mode function, ``(*args, *tangents) -> (outputs, tangents)``;
- ``vjp``: the reverse-mode function seeded with cotangent parameters,
  ``(*args, *cotangents) -> (outputs, adjoints)``;
- ``hvp``: forward over reverse, ``(*args, direction) -> H @ direction``.

`jacobian` and `hessian` call those once per basis direction: forward mode
(one column per call) when the differentiated argument has fewer elements than
the output, reverse mode (one row per call) otherwise. The Hessian in a 1-d
argument is one compiled function (the gradient once, then one tangent sweep
per row); in an argument of other shapes, one Hessian-vector product call per
element.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import FunctionType
from typing import Any

import numpy as np

from symdiff.api import Compiled, _argnums, _scalarize
from symdiff.errors import SignatureError, SymdiffError
from symdiff.pipeline import Transform, compile_transform
from symdiff.signature import bind_arguments, kinds_of


def _plain(fn: Any, what: str) -> FunctionType:
    if isinstance(fn, Compiled):
        raise SymdiffError(f"symdiff.{what} takes a plain Python function, not "
                           f"symdiff.{fn.transform.kind}(...); grad and elementwise_grad nest "
                           "(grad(grad(f)), egrad(egrad(f))), and hessian and hvp give second "
                           "derivatives of a plain function")
    if not isinstance(fn, FunctionType):
        raise SymdiffError(f"symdiff.{what} transforms plain Python functions, not "
                           f"{type(fn).__name__}")
    return fn


def _entry(fn: FunctionType, args: Sequence[Any], transform: Transform,
           backend: str) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    full = _scalarize(bind_arguments(fn, args))
    return compile_transform(fn, kinds_of(fn, full), transform, backend), full


def _float_args(fn: FunctionType, full: tuple[Any, ...]) -> tuple[int, ...]:
    return tuple(k for k, a in enumerate(full)
                 if np.asarray(a).dtype.kind == "f")


def _as_float(v: Any, like: Any, name: str) -> Any:
    if np.ndim(like) == 0:
        if np.ndim(v) != 0:
            raise SignatureError(f"the {name} of a scalar argument must be a scalar, got shape "
                                 f"{np.shape(v)}")
        return float(v)
    arr = np.asarray(v, dtype=np.float64)
    if arr.shape != np.shape(like):
        raise SignatureError(f"the {name} has shape {arr.shape}, its argument {np.shape(like)}")
    return arr


def jvp(fn: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], *,
        backend: str = "numba") -> tuple[Any, Any]:
    """``(f(*primals), J @ tangents)`` by forward mode, in one pass.

    ``tangents`` has one entry per primal, of its shape; integer and boolean
    arguments take ``None`` (they carry no derivative). For a function returning
    a tuple, both results are tuples.
    """
    f = _plain(fn, "jvp")
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise SignatureError(f"jvp got {len(primals)} primals and {len(tangents)} tangents")
    full = _scalarize(bind_arguments(f, primals))
    wrt = []
    for k, (p, t) in enumerate(zip(full, tangents, strict=False)):
        if t is None:
            continue
        if np.asarray(p).dtype.kind != "f":
            raise SignatureError(f"argument {k} is not a float: give None as its tangent")
        wrt.append(k)
    if not wrt:
        raise SignatureError("jvp needs at least one tangent that is not None")
    entry, full = _entry(f, primals, Transform("jvp", tuple(wrt)), backend)
    dots = [_as_float(tangents[k], full[k], f"tangent of argument {k}") for k in wrt]
    return entry(*full, *dots)


def vjp(fn: Callable[..., Any], *primals: Any,
        backend: str = "numba") -> tuple[Any, Callable[..., tuple[Any, ...]]]:
    """``(f(*primals), vjp_fn)``; ``vjp_fn(cotangent)`` returns ``cotangent @ J``
    for each float argument (a tuple, one entry per float argument in order).

    For a function returning a tuple, ``vjp_fn`` takes one cotangent per output.
    """
    f = _plain(fn, "vjp")
    full = _scalarize(bind_arguments(f, primals))
    wrt = _float_args(f, full)
    if not wrt:
        raise SignatureError("vjp needs at least one float argument")
    entry, full = _entry(f, primals, Transform("vjp", wrt, tuple_grads=True), backend)
    value = _value(f, full, backend)
    outputs = value if isinstance(value, tuple) else (value,)

    def vjp_fn(*cotangents: Any) -> tuple[Any, ...]:
        if len(cotangents) != len(outputs):
            raise SignatureError(f"vjp_fn takes {len(outputs)} cotangent(s), one per output; "
                                 f"got {len(cotangents)}")
        cts = [_as_float(c, o, "cotangent") for c, o in zip(cotangents, outputs, strict=True)]
        _, adjoints = entry(*full, *cts)
        return adjoints

    return value, vjp_fn


def _value(f: FunctionType, full: tuple[Any, ...], backend: str) -> Any:
    return compile_transform(f, kinds_of(f, full), Transform("primal"), backend)(*full)


class _Derivative:
    """A callable derivative of ``fn`` (jacobian, hessian, hvp) with the same arguments."""

    kind = ""

    def __init__(self, fn: Callable[..., Any], argnums: int = 0, backend: str = "numba"):
        self.fn = _plain(fn, self.kind)
        nums, as_tuple = _argnums(argnums)
        if as_tuple:
            raise SignatureError(f"{self.kind} takes one argnum (an int), got {argnums!r}")
        self.argnum = nums[0]
        self.backend = backend

    def _arg(self, full: tuple[Any, ...]) -> int:
        k = self.argnum
        if not -len(full) <= k < len(full):
            raise SymdiffError(f"argnums {k} is out of range: {self.fn.__name__} has "
                               f"{len(full)} parameter(s)")
        k %= len(full)
        if np.asarray(full[k]).dtype.kind != "f":
            raise SignatureError(f"cannot differentiate with respect to argument {k}: it is "
                                 "not a float")
        return k

    def __repr__(self) -> str:
        return f"<symdiff.{self.kind}({self.fn.__qualname__}, argnums={self.argnum})>"


class jacobian(_Derivative):
    """``jacobian(f, argnums=0)(*args)``: the Jacobian of f's output with respect to one
    argument, of shape ``output.shape + argument.shape``.

    Forward mode (one column per element of the argument) when the argument has
    fewer elements than the output, reverse mode (one row per element of the
    output) otherwise; `mode` tells which the last call used.
    """

    kind = "jacobian"

    def __init__(self, fn: Callable[..., Any], argnums: int = 0, backend: str = "numba"):
        super().__init__(fn, argnums, backend)
        self.mode: str | None = None

    def __call__(self, *args: Any) -> Any:
        full = _scalarize(bind_arguments(self.fn, args))
        k = self._arg(full)
        x = full[k]
        value = _value(self.fn, full, self.backend)
        if isinstance(value, tuple):
            raise SymdiffError("jacobian needs a function returning one array or scalar")
        n, m = int(np.size(x)), int(np.size(value))
        self.mode = "forward" if n < m else "reverse"
        out = np.empty((m, n))
        if self.mode == "forward":
            entry, full = _entry(self.fn, args, Transform("jvp", (k,)), self.backend)
            for j in range(n):
                e = _basis(x, j)
                _, col = entry(*full, e)
                out[:, j] = np.ravel(col)
        else:
            entry, full = _entry(self.fn, args, Transform("vjp", (k,)), self.backend)
            for i in range(m):
                _, row = entry(*full, _basis(value, i))
                out[i, :] = np.ravel(row)
        shape = np.shape(value) + np.shape(x)
        return out.reshape(shape) if shape else float(out[0, 0])


class hvp(_Derivative):
    """``hvp(f, argnums=0)(*args, v)``: the Hessian of scalar f in one argument times
    ``v`` (of that argument's shape), by forward over reverse, without forming the
    Hessian."""

    kind = "hvp"

    def __call__(self, *args_and_v: Any) -> Any:
        if not args_and_v:
            raise SignatureError("hvp takes the function's arguments followed by the direction")
        *args, v = args_and_v
        full = _scalarize(bind_arguments(self.fn, args))
        k = self._arg(full)
        entry, full = _entry(self.fn, args, Transform("hvp", (k,)), self.backend)
        return entry(*full, _as_float(v, full[k], "direction"))


class hessian(_Derivative):
    """``hessian(f, argnums=0)(*args)``: the Hessian of scalar f in one argument, shape
    ``argument.shape * 2``, by forward over reverse: for a 1-d argument, one compiled
    function computing the gradient once and one tangent sweep per row (row j is
    ``H @ e_j``); otherwise one Hessian-vector product call per element."""

    kind = "hessian"

    def __call__(self, *args: Any) -> Any:
        full = _scalarize(bind_arguments(self.fn, args))
        k = self._arg(full)
        x = full[k]
        if np.ndim(x) == 1:
            # one compiled function: the gradient once, then one tangent sweep per row
            entry, full = _entry(self.fn, args, Transform("hessian", (k,)), self.backend)
            return entry(*full)
        entry, full = _entry(self.fn, args, Transform("hvp", (k,)), self.backend)
        n = int(np.size(x))
        out = np.empty((n, n))
        for j in range(n):
            out[:, j] = np.ravel(entry(*full, _basis(x, j)))
        shape = np.shape(x) * 2
        return out.reshape(shape) if shape else float(out[0, 0])


def _basis(like: Any, j: int) -> Any:
    if np.ndim(like) == 0:
        return 1.0
    e = np.zeros(np.shape(like))
    e.flat[j] = 1.0
    return e
