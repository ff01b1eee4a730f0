"""The NumPy, ``math`` and builtin functions and array methods symdiff understands.

Each supported callable maps to a handler that lowers a call to IR ops; the
tables below are the single place to look up what is supported.
"""

from __future__ import annotations

import ast
import builtins
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from symdiff.frontend.values import FuncRef, FVal, NoneVal, TupleVal
from symdiff.ir.core import Value
from symdiff.ir.types import I64

if TYPE_CHECKING:
    from symdiff.frontend.lower import _FunctionLowerer as Lowerer

Handler = Callable[["Lowerer", list[FVal], dict[str, FVal], ast.Call], FVal]

UNARY_FLOAT = {"exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tan", "tanh", "arctan"}
_MATH_ALIASES = {"atan": "arctan", "fabs": "abs"}


def identify(obj: Any) -> tuple[str, str] | None:
    """(kind, name) for a supported library callable or dtype, else None."""
    return _IDENTITY.get(id(obj))


def _build_identity() -> dict[int, tuple[str, str]]:
    table: dict[int, tuple[str, str]] = {}
    for name in NUMPY_HANDLERS:
        if hasattr(np, name):
            table[id(getattr(np, name))] = ("numpy", name)
    for name in MATH_HANDLERS:
        table[id(getattr(math, name))] = ("math", name)
    for name in BUILTIN_HANDLERS:
        table[id(getattr(builtins, name))] = ("builtin", name)
    for obj, name in ((float, "float"), (np.float64, "float64"), (int, "int"),
                      (np.int64, "int64")):
        table[id(obj)] = ("builtin" if obj in (float, int) else "numpy", name)
    return table


# ------------------------------------------------------------------ helpers


def _args(lw: Lowerer, node: ast.Call, args: list[FVal], kwargs: dict[str, FVal],
          names: list[str], required: int, fname: str) -> list[FVal | None]:
    """Bind positional and keyword arguments to ``names``; missing optional ones are None."""
    if len(args) > len(names):
        lw.error(node, f"{fname}() takes at most {len(names)} arguments, got {len(args)}")
    bound: list[FVal | None] = list(args) + [None] * (len(names) - len(args))
    for key, v in kwargs.items():
        if key not in names:
            lw.error(node, f"{fname}() got an unsupported keyword argument '{key}'",
                     f"supported: {', '.join(names)}")
        k = names.index(key)
        if bound[k] is not None:
            lw.error(node, f"{fname}() got two values for '{key}'")
        bound[k] = v
    for k in range(required):
        if bound[k] is None:
            lw.error(node, f"{fname}() is missing the argument '{names[k]}'")
    return bound


def _val(lw: Lowerer, v: FVal | None, node: ast.AST) -> Value:
    assert v is not None
    return lw.as_value(v, node)


def _float_val(lw: Lowerer, v: FVal | None, node: ast.AST) -> Value:
    return _val(lw, v, node)


def _unary(op: str) -> Handler:
    def handler(lw: Lowerer, args, kwargs, node):
        (x,) = _args(lw, node, args, kwargs, ["x"], 1, op)
        return lw.typed(node, op, _val(lw, x, node))
    return handler


def _binary(op: str) -> Handler:
    def handler(lw: Lowerer, args, kwargs, node):
        x, y = _args(lw, node, args, kwargs, ["x1", "x2"], 2, op)
        return lw.typed(node, op, _val(lw, x, node), _val(lw, y, node))
    return handler


def _reduction(kind: str) -> Handler:
    def handler(lw: Lowerer, args, kwargs, node):
        x, axis, dtype, out, keepdims = _args(
            lw, node, args, kwargs, ["a", "axis", "dtype", "out", "keepdims"], 1, kind)
        _refuse_given(lw, node, kind, dtype=dtype, out=out)
        return reduce(lw, kind, _val(lw, x, node), axis, keepdims, node)
    return handler


def _refuse_given(lw: Lowerer, node: ast.AST, fname: str, **given: FVal | None) -> None:
    for key, v in given.items():
        if v is not None and not isinstance(v, NoneVal):
            lw.error(node, f"{fname}(): the argument '{key}' is not supported")


def reduce(lw: Lowerer, kind: str, x: Value, axis: FVal | None, keepdims: FVal | None,
           node: ast.AST) -> Value:
    if x.type.ndim == 0:
        if kind == "mean":
            return lw.b.to_float(x)
        return x
    axes = None if axis is None else lw.static_axes(axis, x.type.ndim, node)
    keep = False if keepdims is None else lw.static_bool(keepdims, node)
    if axes is not None and len(axes) == x.type.ndim and not keep:
        axes = None
    return lw.typed(node, "reduce", x, kind=kind, axis=axes, keepdims=keep)


def _square(lw, args, kwargs, node):
    (x,) = _args(lw, node, args, kwargs, ["x"], 1, "square")
    v = _val(lw, x, node)
    return lw.b.mul(v, v)


def _log_base(base: float) -> Handler:
    def handler(lw: Lowerer, args, kwargs, node):
        (x,) = _args(lw, node, args, kwargs, ["x"], 1, "log")
        return lw.b.div(lw.typed(node, "log", _val(lw, x, node)), lw.b.scalar(math.log(base)))
    return handler


def _math_log(lw, args, kwargs, node):
    x, base = _args(lw, node, args, kwargs, ["x", "base"], 1, "log")
    r = lw.typed(node, "log", _val(lw, x, node))
    if base is not None:
        r = lw.b.div(r, lw.typed(node, "log", _val(lw, base, node)))
    return r


def _where(lw, args, kwargs, node):
    c, x, y = _args(lw, node, args, kwargs, ["condition", "x", "y"], 3, "where")
    cond = _val(lw, c, node)
    if cond.type.dtype != "bool":
        cond = lw.b.op("ne", cond, lw.b.const(0, cond.type.with_ndim(0)))
    return lw.typed(node, "where", cond, _val(lw, x, node), _val(lw, y, node))


def _clip(lw, args, kwargs, node):
    x, lo, hi = _args(lw, node, args, kwargs, ["a", "a_min", "a_max"], 3, "clip")
    v = _val(lw, x, node)
    if not isinstance(lo, NoneVal):
        v = lw.typed(node, "maximum", v, _val(lw, lo, node))
    if not isinstance(hi, NoneVal):
        v = lw.typed(node, "minimum", v, _val(lw, hi, node))
    return v


def _dot(lw, args, kwargs, node):
    a, b = _args(lw, node, args, kwargs, ["a", "b"], 2, "dot")
    x, y = _val(lw, a, node), _val(lw, b, node)
    if x.type.ndim == 0 or y.type.ndim == 0:
        return lw.b.mul(x, y)
    return lw.typed(node, "matmul", x, y)


def _matmul(lw, args, kwargs, node):
    a, b = _args(lw, node, args, kwargs, ["x1", "x2"], 2, "matmul")
    return lw.typed(node, "matmul", _val(lw, a, node), _val(lw, b, node))


def _outer(lw, args, kwargs, node):
    a, b = _args(lw, node, args, kwargs, ["a", "b"], 2, "outer")
    return lw.typed(node, "outer", _val(lw, a, node), _val(lw, b, node))


def transpose(lw: Lowerer, x: Value, axes: FVal | None, node: ast.AST) -> Value:
    if x.type.ndim < 2 and axes is None:
        return x
    if axes is None:
        perm = tuple(range(x.type.ndim))[::-1]
    else:
        items = axes.items if isinstance(axes, TupleVal) else (axes,)
        perm = tuple(lw.static_int(i, node) % max(x.type.ndim, 1) for i in items)
    return lw.typed(node, "transpose", x, axes=perm)


def _transpose(lw, args, kwargs, node):
    a, axes = _args(lw, node, args, kwargs, ["a", "axes"], 1, "transpose")
    return transpose(lw, _val(lw, a, node), axes, node)


def reshape(lw: Lowerer, x: Value, shape: list[FVal], node: ast.AST) -> Value:
    if len(shape) == 1 and isinstance(shape[0], TupleVal):
        dims = lw.shape_values(shape[0], node)
    else:
        dims = lw.shape_values(TupleVal(tuple(shape)), node)
    return lw.typed(node, "reshape", x, *dims)


def _reshape(lw, args, kwargs, node):
    if "newshape" in kwargs:  # NumPy's older keyword
        kwargs = dict(kwargs)
        kwargs["shape"] = kwargs.pop("newshape")
    a, shape = _args(lw, node, args, kwargs, ["a", "shape"], 2, "reshape")
    return reshape(lw, _val(lw, a, node), [shape], node)


def _dtype_of(lw: Lowerer, v: FVal | None, node: ast.AST, default: str | None) -> str | None:
    if v is None:
        return default
    if isinstance(v, FuncRef) and v.name in ("float", "float64"):
        return "f64"
    if isinstance(v, FuncRef) and v.name in ("int", "int64"):
        return "i64"
    lw.error(node, "dtype must be float, np.float64, int or np.int64")


def _alloc(kind: str) -> Handler:
    def handler(lw: Lowerer, args, kwargs, node):
        shape, dtype = _args(lw, node, args, kwargs, ["shape", "dtype"], 1, kind)
        dims = lw.shape_values(shape, node)
        return lw.typed(node, kind, *dims, dtype=_dtype_of(lw, dtype, node, "f64"))
    return handler


def _alloc_like(kind: str) -> Handler:
    def handler(lw: Lowerer, args, kwargs, node):
        a, dtype = _args(lw, node, args, kwargs, ["a", "dtype"], 1, kind)
        x = _val(lw, a, node)
        if x.type.ndim == 0:
            return lw.b.const(0.0 if kind == "zeros_like" else 1.0, x.type)
        return lw.typed(node, kind, x, dtype=_dtype_of(lw, dtype, node, None))
    return handler


def _full(lw, args, kwargs, node):
    shape, fill, dtype = _args(lw, node, args, kwargs, ["shape", "fill_value", "dtype"], 2, "full")
    dims = lw.shape_values(shape, node)
    value = _val(lw, fill, node)
    dt = _dtype_of(lw, dtype, node, None)
    if dt == "i64" and value.type.dtype == "f64":
        lw.error(node, "np.full with an integer dtype and a float fill value truncates, which is "
                 "not differentiable", "use an integer fill value or dtype=float")
    if dt == "f64":
        value = lw.b.to_float(value)
    return lw.typed(node, "full", *dims, value, dtype=None)


def _arange(lw, args, kwargs, node):
    start, stop, step = _args(lw, node, args, kwargs, ["start", "stop", "step"], 1, "arange")
    if stop is None:
        start, stop = lw.b.const(0), start
    values = [_val(lw, start, node), _val(lw, stop, node)]
    if step is not None:
        values.append(_val(lw, step, node))
    return lw.typed(node, "arange", *values)


def _copy(lw, args, kwargs, node):
    (a,) = _args(lw, node, args, kwargs, ["a"], 1, "copy")
    x = _val(lw, a, node)
    return x if x.type.ndim == 0 else lw.typed(node, "copy", x)


def _to_float(lw, args, kwargs, node):
    (a,) = _args(lw, node, args, kwargs, ["x"], 1, "float")
    x = _val(lw, a, node)
    if x.type.ndim:
        lw.error(node, "float() takes a scalar, not an array",
                 "arrays passed to symdiff are float64 already; x.astype is not supported")
    return lw.b.to_float(x)


def _to_int(lw, args, kwargs, node):
    (a,) = _args(lw, node, args, kwargs, ["x"], 1, "int")
    x = _val(lw, a, node)
    if x.type != I64:
        lw.error(node, f"int() is supported on integers only, not {x.type}",
                 "converting a float to an integer is not differentiable; pass integers as "
                 "integer arguments")
    return x


def _power(lw, args, kwargs, node):
    x, y = _args(lw, node, args, kwargs, ["x1", "x2"], 2, "power")
    return lw.power(_val(lw, x, node), _val(lw, y, node), node)


def _builtin_minmax(name: str) -> Handler:
    def handler(lw: Lowerer, args, kwargs, node):
        if kwargs or len(args) != 2:
            lw.error(node, f"{name}() is supported on exactly two scalars",
                     f"use np.{name}(x) to reduce an array")
        x, y = (_val(lw, a, node) for a in args)
        if x.type.ndim or y.type.ndim:
            lw.error(node, f"{name}() is supported on scalars",
                     f"use np.{name}imum(x, y) elementwise or np.{name}(x) to reduce")
        return lw.typed(node, f"{name}imum", x, y)
    return handler


def _len(lw, args, kwargs, node):
    (a,) = _args(lw, node, args, kwargs, ["obj"], 1, "len")
    if isinstance(a, TupleVal):
        return lw.b.const(len(a.items))
    x = _val(lw, a, node)
    if x.type.ndim == 0:
        lw.error(node, "len() of a scalar")
    return lw.typed(node, "shape", x, axis=0)


def _abs(lw, args, kwargs, node):
    (a,) = _args(lw, node, args, kwargs, ["x"], 1, "abs")
    return lw.typed(node, "abs", _val(lw, a, node))


NUMPY_HANDLERS: dict[str, Handler] = {
    **{name: _unary(name) for name in UNARY_FLOAT},
    "abs": _abs, "absolute": _abs,
    "sign": _unary("sign"),
    "negative": lambda lw, a, k, n: lw.b.neg(_val(lw, _args(lw, n, a, k, ["x"], 1, "negative")[0], n)),
    "maximum": _binary("maximum"), "minimum": _binary("minimum"),
    "add": _binary("add"), "subtract": _binary("sub"), "multiply": _binary("mul"),
    "divide": _binary("div"), "true_divide": _binary("div"), "power": _power,
    "square": _square, "log2": _log_base(2.0), "log10": _log_base(10.0),
    "where": _where, "clip": _clip,
    "sum": _reduction("sum"), "mean": _reduction("mean"), "max": _reduction("max"),
    "amax": _reduction("max"), "min": _reduction("min"), "amin": _reduction("min"),
    "prod": _reduction("prod"),
    "dot": _dot, "matmul": _matmul, "outer": _outer, "transpose": _transpose,
    "reshape": _reshape,
    "zeros": _alloc("zeros"), "ones": _alloc("ones"), "empty": _alloc("empty"),
    "zeros_like": _alloc_like("zeros_like"), "ones_like": _alloc_like("ones_like"),
    "full": _full, "arange": _arange, "copy": _copy,
    "float64": _to_float, "int64": _to_int,
}
MATH_HANDLERS: dict[str, Handler] = {
    **{name: _unary(name) for name in ("exp", "log1p", "expm1", "sqrt", "sin", "cos", "tan",
                                       "tanh")},
    "log": _math_log, "atan": _unary("arctan"), "fabs": _abs, "pow": _power,
}
BUILTIN_HANDLERS: dict[str, Handler] = {
    "abs": _abs, "min": _builtin_minmax("min"), "max": _builtin_minmax("max"), "len": _len,
    "float": _to_float, "int": _to_int,
}

_IDENTITY = _build_identity()


def call(lw: Lowerer, callee: FuncRef, args: list[FVal], kwargs: dict[str, FVal],
         node: ast.Call) -> FVal:
    if callee.kind == "method":
        assert callee.receiver is not None
        return call_method(lw, callee.receiver, callee.name, args, kwargs, node)
    table = {"numpy": NUMPY_HANDLERS, "math": MATH_HANDLERS, "builtin": BUILTIN_HANDLERS}[callee.kind]
    handler = table.get(callee.name)
    if handler is None:
        lw.error(node, f"'{callee.name}' is not supported", "see docs/subset.md")
    return handler(lw, args, kwargs, node)


# ------------------------------------------------------------- array methods


def array_attribute(lw: Lowerer, x: Value, attr: str, node: ast.AST) -> FVal:
    if attr == "T":
        return transpose(lw, x, None, node)
    if attr == "shape":
        return TupleVal(tuple(lw.b.op("shape", x, axis=k, name_hint="n")
                              for k in range(x.type.ndim)))
    if attr == "ndim":
        return lw.b.const(x.type.ndim)
    if attr == "size":
        size: Value = lw.b.const(1)
        for k in range(x.type.ndim):
            size = lw.b.mul(size, lw.b.op("shape", x, axis=k, name_hint="n"))
        return size
    if attr in _METHODS:
        if x.type.ndim == 0:
            lw.error(node, f"'.{attr}' is an array method; this value is a scalar")
        return FuncRef("method", attr, receiver=x)
    lw.error(node, f"unknown array attribute '.{attr}'",
             "supported: .T .shape .ndim .size and methods " + ", ".join(sorted(_METHODS)))


def call_method(lw: Lowerer, x: Value, name: str, args: list[FVal], kwargs: dict[str, FVal],
                node: ast.Call) -> FVal:
    if name in ("sum", "mean", "max", "min", "prod"):
        axis, dtype, out, keepdims = _args(lw, node, args, kwargs,
                                           ["axis", "dtype", "out", "keepdims"], 0, name)
        _refuse_given(lw, node, name, dtype=dtype, out=out)
        return reduce(lw, name, x, axis, keepdims, node)
    if name == "dot":
        return _dot(lw, [x, *args], kwargs, node)
    if name == "reshape":
        if kwargs:
            lw.error(node, "reshape() takes the shape only")
        return reshape(lw, x, args, node)
    if name in ("flatten", "ravel"):
        return lw.typed(node, "reshape", x, lw.b.const(-1))
    if name == "copy":
        return lw.typed(node, "copy", x)
    if name == "transpose":
        axes = TupleVal(tuple(args)) if len(args) > 1 else (args[0] if args else None)
        return transpose(lw, x, axes, node)
    if name == "clip":
        return _clip(lw, [x, *args], kwargs, node)
    raise AssertionError(name)


_METHODS = {"sum", "mean", "max", "min", "prod", "dot", "reshape", "flatten", "ravel", "copy",
            "transpose", "clip"}
