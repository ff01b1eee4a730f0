"""Definitions of every primitive op: type rule, emission and SymPy form.

Emitters return Python expression text. ``ctx.numba`` tells whether the target
is Numba (some NumPy features go through generated helpers there, see
`symdiff.backend.helpers`) or plain NumPy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from symdiff.backend import helpers
from symdiff.ir import indexing
from symdiff.ir.registry import OpDef, register
from symdiff.ir.types import BOOL, I64, Type, promote


class TypeRuleError(ValueError):
    """Arguments an op cannot accept; the frontend turns it into a located error."""


# ----------------------------------------------------------------- type rules


def _bcast_ndim(types: Sequence[Type]) -> int:
    return max((t.ndim for t in types), default=0)


def _arith(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    dtype = promote(*(t.dtype for t in types))
    if dtype == "bool":
        dtype = "i64"
    return (Type(dtype, _bcast_ndim(types)),)


def _float_result(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    return (Type("f64", _bcast_ndim(types)),)


def _bool_result(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    return (Type("bool", _bcast_ndim(types)),)


def _same(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    t = types[0]
    return (t.with_dtype("i64") if t.dtype == "bool" else t,)


def _like_first(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    return (types[0],)


def _float_like_last(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    return (types[-1].with_dtype("f64"),)


def _const_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    return (attrs["type"],)


def _reduce_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    t = types[0]
    axis = attrs.get("axis")
    if t.ndim == 0:
        raise TypeRuleError("reduction of a scalar")
    n_red = t.ndim if axis is None else len(axis)
    ndim = t.ndim if attrs.get("keepdims") else t.ndim - n_red
    dtype = t.dtype
    if attrs["kind"] == "mean":
        dtype = "f64"
    elif dtype == "bool" and attrs["kind"] in ("sum", "prod"):
        dtype = "i64"
    return (Type(dtype, ndim),)


def _matmul_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    a, b = types
    if a.ndim == 0 or b.ndim == 0:
        raise TypeRuleError("matmul of a scalar; use '*'")
    if a.ndim > 2 or b.ndim > 2:
        raise TypeRuleError("matmul/dot of arrays with more than 2 dimensions is not supported")
    ndim = {(2, 2): 2, (2, 1): 1, (1, 2): 1, (1, 1): 0}[(a.ndim, b.ndim)]
    return (Type(promote(a.dtype, b.dtype, "i64"), ndim),)


def _outer_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    a, b = types
    if a.ndim != 1 or b.ndim != 1:
        raise TypeRuleError("outer takes two 1-D arrays")
    return (Type(promote(a.dtype, b.dtype, "i64"), 2),)


def _transpose_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    axes = attrs["axes"]
    if sorted(axes) != list(range(types[0].ndim)):
        raise TypeRuleError(f"axes {axes} do not match an array of {types[0].ndim} dimensions")
    return (types[0],)


def _shape_args(types: Sequence[Type], start: int) -> int:
    for t in types[start:]:
        if t != I64:
            raise TypeRuleError("shape entries must be integer scalars")
    return len(types) - start


def _reshape_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    return (types[0].with_ndim(_shape_args(types, 1)),)


def _alloc_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    return (Type(attrs["dtype"], _shape_args(types, 0)),)


def _full_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    if types[-1].ndim != 0:
        raise TypeRuleError("the fill value of full must be a scalar")
    dtype = types[-1].dtype if attrs.get("dtype") is None else attrs["dtype"]
    return (Type(dtype, _shape_args(types[:-1], 0)),)


def _alloc_like_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    dtype = attrs.get("dtype") or types[0].dtype
    return (Type(dtype, types[0].ndim),)


def _arange_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    if any(t.ndim for t in types):
        raise TypeRuleError("arange takes scalars")
    return (Type(promote("i64", *(t.dtype for t in types)), 1),)


def _shape_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    if not 0 <= attrs["axis"] < types[0].ndim:
        raise TypeRuleError(f"axis {attrs['axis']} out of range for {types[0].ndim} dimension(s)")
    return (I64,)


def _getitem_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    x = types[0]
    spec = attrs["spec"]
    for t, kind in zip(types[1:], _operand_kinds(spec), strict=True):
        if kind == "a" and (t.dtype != "i64" or t.ndim != 1):
            raise TypeRuleError("array indices must be 1-D integer arrays")
        if kind != "a" and t != I64:
            raise TypeRuleError("indices must be integers")
    try:
        ndim = indexing.result_ndim(spec, x.ndim)
    except ValueError as e:
        raise TypeRuleError(str(e)) from None
    return (x.with_ndim(ndim),)


def _operand_kinds(spec: tuple[Any, ...]) -> list[str]:
    kinds: list[str] = []
    for e in spec:
        kinds.extend([e if e in ("i", "a") else "s"] * indexing.operand_count(e))
    return kinds


def _index_add_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    _getitem_type([types[0], *types[2:]], attrs)
    return (types[0],)


def _setitem_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    base, value = types[0], types[1]
    part = _getitem_type([base, *types[2:]], attrs)[0]
    if value.ndim > part.ndim:
        raise TypeRuleError(f"cannot write a {value.ndim}-D value into a {part.ndim}-D part")
    if base.dtype != "f64" and value.dtype == "f64":
        raise TypeRuleError("cannot write a float into an integer array")
    return (base,)


def _if_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    if types[0] != BOOL:
        raise TypeRuleError("an if condition must be a boolean scalar")
    return tuple(attrs["result_types"])


def _for_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    if any(t != I64 for t in types[:3]) or len(types) < 3:
        raise TypeRuleError("a for loop's start, stop and step must be integer scalars")
    return tuple(types[3:])


def _while_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    return tuple(types)


def _tape_push_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    buf, k, v = types
    if buf.ndim != 1 or v.ndim != 0 or buf.dtype != v.dtype or k != I64:
        raise TypeRuleError("tape_push takes a 1-d tape, an integer slot and a scalar of its dtype")
    return (buf,)


def _tape_push_array_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    buf, meta, k, v = types
    if buf.ndim != 1 or meta != Type("i64", 2) or buf.dtype != v.dtype or v.ndim == 0 or k != I64:
        raise TypeRuleError("tape_push_array takes a 1-d buffer, an i64[:,:] index, a slot and "
                            "an array of the buffer's dtype")
    return (buf, meta)


def _tape_get_array_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    buf, meta, k = types
    return (Type(buf.dtype, attrs["ndim"]),)


def _if_regions(results: Sequence[Type]):
    return (((), tuple(results)), ((), tuple(results)))


def _for_regions(results: Sequence[Type]):
    return (((I64, *results), tuple(results)),)


def _while_regions(results: Sequence[Type]):
    return ((tuple(results), (BOOL,)), (tuple(results), tuple(results)))


def _where_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    c, a, b = types
    return (Type(promote(a.dtype, b.dtype), _bcast_ndim(types)),)


def _unbroadcast_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    g, like = types
    if g.ndim < like.ndim:
        raise TypeRuleError("unbroadcast to more dimensions")
    return (like.with_dtype("f64"),)


def _unbroadcast_to_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    ndim = _shape_args(types, 1)
    if types[0].ndim < ndim:
        raise TypeRuleError("unbroadcast to more dimensions")
    return (Type("f64", ndim),)


def _expand_dims_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    return (types[0].with_ndim(types[0].ndim + len(attrs["axis"])),)


def _broadcast_like_type(types: Sequence[Type], attrs: dict[str, Any]) -> tuple[Type, ...]:
    return (types[1].with_dtype("f64"),)


# ------------------------------------------------------------------ emitters


def _infix(symbol: str):
    def emit(ctx, op, a):
        return f"{a[0]} {symbol} {a[1]}"
    return emit


def _emit_div(ctx, op, a):
    if not ctx.numba and all(v.type.ndim == 0 for v in op.args):
        return f"np.divide({a[0]}, {a[1]})"  # NumPy semantics (inf, nan), as under Numba
    return f"{a[0]} / {a[1]}"


def _emit_pow(op, a):
    from symdiff.ir.builder import const_value
    if const_value(op.args[1]) == 2 and op.args[1].type.dtype != "bool":
        return f"{a[0]} * {a[0]}"
    return f"{a[0]} ** {a[1]}"


def _call(fn: str):
    def emit(ctx, op, a):
        return f"{fn}({', '.join(a)})"
    return emit


def _transcendental(func: str):
    def emit(ctx, op, a):
        x = op.args[0]
        if ctx.numba and x.type.ndim > 0 and func in helpers.OBJMODE_UFUNCS:
            name = ctx.helper(*helpers.ufunc_helper(func, x.type.ndim))
            return f"{name}({a[0]})"
        return f"np.{func}({a[0]})"
    return emit


def _emit_const(ctx, op, a):
    v = op.attr("value")
    if isinstance(v, bool):
        return repr(v)
    if isinstance(v, float):
        if math.isinf(v):
            return "np.inf" if v > 0 else "-np.inf"
        if math.isnan(v):
            return "np.nan"
    return repr(v)


def _emit_to_float(ctx, op, a):
    if op.args[0].type.ndim == 0:
        if op.args[0].type.dtype == "bool":
            return f"1.0 if {a[0]} else 0.0"  # Numba has no float(bool)
        return f"float({a[0]})"
    return f"{a[0]}.astype(np.float64)"


def _emit_neg(ctx, op, a):
    return f"-{a[0]}"


def _emit_not(ctx, op, a):
    return f"not {a[0]}" if op.args[0].type.ndim == 0 else f"~{a[0]}"


def _emit_logical(symbol: str, ufunc: str):
    def emit(ctx, op, a):
        if all(v.type.ndim == 0 for v in op.args):
            return f"{a[0]} {symbol} {a[1]}"
        return f"np.{ufunc}({a[0]}, {a[1]})"
    return emit


def _emit_minmax(fn: str):
    def emit(ctx, op, a):
        if all(v.type.ndim == 0 for v in op.args):
            return f"{fn}({a[0]}, {a[1]})"
        return f"np.{fn}imum({a[0]}, {a[1]})"
    return emit


def _emit_where(ctx, op, a):
    if all(v.type.ndim == 0 for v in op.args):
        return f"{a[1]} if {a[0]} else {a[2]}"
    return f"np.where({a[0]}, {a[1]}, {a[2]})"


def _axis_text(axis: tuple[int, ...]) -> str:
    return str(axis[0]) if len(axis) == 1 else str(tuple(axis))


def _emit_reduce(ctx, op, a):
    x = op.args[0]
    kind, axis, keepdims = op.attr("kind"), op.attr("axis"), op.attr("keepdims")
    if not ctx.numba:
        parts = [a[0]]
        if axis is not None:
            parts.append(f"axis={_axis_text(axis)}")
        if keepdims:
            parts.append("keepdims=True")
        return f"np.{kind}({', '.join(parts)})"
    axes = tuple(range(x.type.ndim)) if axis is None else tuple(sorted(axis))
    name = ctx.helper(*helpers.reduce_helper(kind, x.type.ndim, axes, bool(keepdims),
                                             x.type.dtype))
    return f"{name}({a[0]})"


def _emit_matmul(ctx, op, a):
    if ctx.numba:
        x, y = op.args
        if x.type.is_float and y.type.is_float and (x.type.ndim, y.type.ndim) in ((2, 1), (1, 2)):
            make = helpers.matvec_helper if x.type.ndim == 2 else helpers.vecmat_helper
            return f"{ctx.helper(*make())}({a[0]}, {a[1]})"
        return f"np.dot(_sd_contig({a[0]}), _sd_contig({a[1]}))"
    return f"{a[0]} @ {a[1]}"


def _emit_outer(ctx, op, a):
    return f"np.outer({a[0]}, {a[1]})"


def _emit_transpose(ctx, op, a):
    axes = op.attr("axes")
    if list(axes) == list(range(len(axes)))[::-1]:
        return f"{a[0]}.T"
    return f"np.transpose({a[0]}, {tuple(axes)})"


def _shape_tuple(parts: Sequence[str]) -> str:
    return "(" + "".join(p + ", " for p in parts) + ")"


def _emit_reshape(ctx, op, a):
    src = f"np.ascontiguousarray({a[0]})" if ctx.numba else a[0]
    return f"{src}.reshape({_shape_tuple(a[1:])})"


NP_DTYPE = {"f64": "np.float64", "i64": "np.int64", "bool": "np.bool_"}


def _emit_alloc(fn: str):
    def emit(ctx, op, a):
        return f"np.{fn}({_shape_tuple(a)}, dtype={NP_DTYPE[op.attr('dtype')]})"
    return emit


def _emit_full(ctx, op, a):
    return f"np.full({_shape_tuple(a[:-1])}, {a[-1]}, dtype={NP_DTYPE[op.result.type.dtype]})"


def _emit_alloc_like(fn: str):
    def emit(ctx, op, a):
        dtype = op.attr("dtype")
        if dtype is None:
            return f"np.{fn}({a[0]})"
        return f"np.{fn}({a[0]}, dtype={NP_DTYPE[dtype]})"
    return emit


def _emit_copy(ctx, op, a):
    return f"{a[0]}.copy()"


def _emit_arange(ctx, op, a):
    if ctx.numba and op.result.type.dtype == "i64":
        name = ctx.helper(*helpers.arange_helper())
        step = a[2] if len(a) == 3 else "1"
        return f"{name}({a[0]}, {a[1]}, {step})"
    return f"np.arange({', '.join(a)})"


def _emit_shape(ctx, op, a):
    return f"{a[0]}.shape[{op.attr('axis')}]"


def _emit_getitem(ctx, op, a):
    spec = op.attr("spec")
    if ctx.numba and indexing.is_advanced(spec):
        kinds = tuple(e for e in spec if e in ("i", "a"))
        tag = "".join(kinds) + f"_{op.args[0].type.ndim}d"
        name = ctx.helper(*helpers.gather_helper(tag, kinds, op.args[0].type.ndim))
        return f"{name}({a[0]}, {', '.join(a[1:1 + len(kinds)])})"
    return f"{a[0]}[{indexing.format_index(spec, a[1:])}]"


def _emitted_as_statement(ctx, op, a):
    """index_add, setitem and if are statements, written by the backend's writer itself."""
    raise NotImplementedError(f"{op.name} is emitted as a statement")


def _emit_tape_push(ctx, op, a):
    name = ctx.helper(*helpers.tape_push_helper())
    return f"{name}({a[0]}, {a[1]}, {a[2]})"


def _emit_tape_push_array(ctx, op, a):
    name = ctx.helper(*helpers.tape_push_array_helper())
    return f"{name}({a[0]}, {a[1]}, {a[2]}, {a[3]})"


def _emit_tape_get_array(ctx, op, a):
    name = ctx.helper(*helpers.tape_get_array_helper(op.attr("ndim")))
    return f"{name}({a[0]}, {a[1]}, {a[2]})"


def _emit_unbroadcast(ctx, op, a):
    g, like = op.args
    if not ctx.numba:
        return f"_unbroadcast({a[0]}, {a[1]})"
    name = ctx.helper(*helpers.unbroadcast_helper(g.type.ndim, like.type.ndim))
    return f"{name}({a[0]}, {a[1]})"


def _emit_unbroadcast_to(ctx, op, a):
    if not ctx.numba:
        return f"_unbroadcast_to({a[0]}, {_shape_tuple(a[1:])})"
    name = ctx.helper(*helpers.unbroadcast_to_helper(op.args[0].type.ndim, len(a) - 1))
    return f"{name}({', '.join(a)})"


def _emit_expand_dims(ctx, op, a):
    expr = a[0]
    for ax in sorted(op.attr("axis")):
        expr = f"np.expand_dims({expr}, {ax})"
    return expr


def _emit_broadcast_like(ctx, op, a):
    if not ctx.numba:
        return f"np.broadcast_to({a[0]}, np.shape({a[1]})).astype(np.float64)"
    name = ctx.helper(*helpers.broadcast_like_helper(op.args[1].type.ndim))
    return f"{name}({a[0]}, {a[1]})"


# ------------------------------------------------------------- registrations


def _sym_binary(fn):
    return lambda sp, a, attrs: fn(sp, a[0], a[1])


def _sym_unary(name):
    return lambda sp, a, attrs: getattr(sp, name)(a[0])


def _array_form(name: str):
    """The SymPy form of an array op: ``symdiff.symbolic.forms.<name>``, imported when used
    (so that importing the registry never imports the symbolic path).

    Non-elementwise forms receive arrays as NumPy object arrays of concrete shape
    (elements: SymPy expressions, or Python ints/bools for integer/boolean arrays)
    and integer operands as Python ints; see `symdiff.symbolic.forms`.
    """
    def form(sp, a, attrs):
        from symdiff.symbolic import forms
        return getattr(forms, name)(sp, a, attrs)
    form.__name__ = f"sympy_{name}"
    return form


def _sym_const(sp, a, attrs):
    """A float that holds an integer becomes a SymPy Integer (``1 - x``, not ``1.0 - x``);
    a binary fraction with a small denominator a Rational (``x**(1/2)``); others a Float."""
    v = attrs["value"]
    if isinstance(v, float) and math.isfinite(v):
        if v.is_integer() and abs(v) < 2.0**53:
            return sp.Integer(int(v))
        r = sp.Rational(v)
        return r if r.q <= 1024 else sp.Float(v)
    return sp.sympify(v)


def _sym_to_float(sp, a, attrs):
    x = a[0]
    if isinstance(x, sp.logic.boolalg.Boolean):  # True/False or a condition
        return sp.Piecewise((sp.Integer(1), x), (sp.Integer(0), True))
    return x


def _sym_select(sp, a, attrs):
    """``where(c, a, b)``, and the results of an ``if`` whose condition is symbolic."""
    return sp.Piecewise((a[1], a[0]), (a[2], True))


ELEMENTWISE_BINARY = {
    "add": (_arith, _infix("+"), _sym_binary(lambda sp, x, y: x + y)),
    "sub": (_arith, _infix("-"), _sym_binary(lambda sp, x, y: x - y)),
    "mul": (_arith, _infix("*"), _sym_binary(lambda sp, x, y: x * y)),
    "div": (_float_result, lambda ctx, op, a: _emit_div(ctx, op, a), _sym_binary(lambda sp, x, y: x / y)),
    "pow": (_arith, lambda ctx, op, a: _emit_pow(op, a), _sym_binary(lambda sp, x, y: x**y)),
    "maximum": (_arith, _emit_minmax("max"), _sym_binary(lambda sp, x, y: sp.Max(x, y))),
    "minimum": (_arith, _emit_minmax("min"), _sym_binary(lambda sp, x, y: sp.Min(x, y))),
}
NONDIFF_BINARY = {
    "floordiv": (_arith, _infix("//"), _sym_binary(lambda sp, x, y: sp.floor(x / y))),
    "mod": (_arith, _infix("%"), _sym_binary(lambda sp, x, y: sp.Mod(x, y))),
    "lt": (_bool_result, _infix("<"), _sym_binary(lambda sp, x, y: sp.Lt(x, y))),
    "le": (_bool_result, _infix("<="), _sym_binary(lambda sp, x, y: sp.Le(x, y))),
    "gt": (_bool_result, _infix(">"), _sym_binary(lambda sp, x, y: sp.Gt(x, y))),
    "ge": (_bool_result, _infix(">="), _sym_binary(lambda sp, x, y: sp.Ge(x, y))),
    "eq": (_bool_result, _infix("=="), _sym_binary(lambda sp, x, y: sp.Eq(x, y))),
    "ne": (_bool_result, _infix("!="), _sym_binary(lambda sp, x, y: sp.Ne(x, y))),
    "and": (_bool_result, _emit_logical("and", "logical_and"),
            _sym_binary(lambda sp, x, y: sp.And(x, y))),
    "or": (_bool_result, _emit_logical("or", "logical_or"),
           _sym_binary(lambda sp, x, y: sp.Or(x, y))),
}
TRANSCENDENTAL = ("exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tan", "tanh", "arctan")
_SYMPY_NAMES = {"log1p": None, "expm1": None, "arctan": "atan"}

for _name, (_rule, _emit, _sym) in ELEMENTWISE_BINARY.items():
    register(OpDef(_name, 2, _rule, _emit, _sym, elementwise=True))
for _name, (_rule, _emit, _sym) in NONDIFF_BINARY.items():
    register(OpDef(_name, 2, _rule, _emit, _sym, differentiable=False, elementwise=True))


def _sym_transcendental(name: str):
    if name == "log1p":
        return lambda sp, a, attrs: sp.log(1 + a[0])
    if name == "expm1":
        return lambda sp, a, attrs: sp.exp(a[0]) - 1
    return _sym_unary(_SYMPY_NAMES.get(name) or name)


for _name in TRANSCENDENTAL:
    register(OpDef(_name, 1, _float_result, _transcendental(_name), _sym_transcendental(_name),
                   elementwise=True))

register(OpDef("neg", 1, _same, _emit_neg, lambda sp, a, attrs: -a[0], elementwise=True))
register(OpDef("abs", 1, _same, _call("np.abs"), _sym_unary("Abs"), elementwise=True))
register(OpDef("sign", 1, _same, _call("np.sign"), _sym_unary("sign"), differentiable=False,
               elementwise=True))
register(OpDef("not", 1, _bool_result, _emit_not, lambda sp, a, attrs: sp.Not(a[0]),
               differentiable=False, elementwise=True))
register(OpDef("to_float", 1, _float_result, _emit_to_float, _sym_to_float,
               elementwise=True, differentiable=False,
               doc="Convert an integer or boolean value to float64 (integer inputs carry no adjoint)."))
register(OpDef("const", 0, _const_type, _emit_const, _sym_const, differentiable=False))
register(OpDef("stop_gradient", 1, _same, lambda ctx, op, a: a[0], lambda sp, a, attrs: a[0],
               differentiable=False, view=True,
               doc="Its argument, through which no derivative flows: placed only where the "
                   "result provably does not depend on it (symdiff.transforms.shifts); "
                   "removed before code generation."))
register(OpDef("where", 3, _where_type, _emit_where, _sym_select, elementwise=True))
register(OpDef("reduce", 1, _reduce_type, _emit_reduce, _array_form("reduce"),
               doc="sum/mean/max/min/prod over attr axis (None: all) with attr keepdims."))
register(OpDef("matmul", 2, _matmul_type, _emit_matmul, _array_form("matmul")))
register(OpDef("outer", 2, _outer_type, _emit_outer, _array_form("outer")))
register(OpDef("transpose", 1, _transpose_type, _emit_transpose,
               _array_form("transpose"), view=True))
register(OpDef("reshape", None, _reshape_type, _emit_reshape, _array_form("reshape"), view=True))
register(OpDef("zeros", None, _alloc_type, _emit_alloc("zeros"),
               _array_form("zeros"), differentiable=False))
register(OpDef("ones", None, _alloc_type, _emit_alloc("ones"),
               _array_form("ones"), differentiable=False))
register(OpDef("empty", None, _alloc_type, _emit_alloc("empty"),
               _array_form("empty"), differentiable=False))
register(OpDef("full", None, _full_type, _emit_full, _array_form("full")))
register(OpDef("zeros_like", 1, _alloc_like_type, _emit_alloc_like("zeros_like"),
               _array_form("zeros_like"), differentiable=False))
register(OpDef("ones_like", 1, _alloc_like_type, _emit_alloc_like("ones_like"),
               _array_form("ones_like"), differentiable=False))
register(OpDef("copy", 1, _like_first, _emit_copy, _array_form("copy")))
register(OpDef("arange", None, _arange_type, _emit_arange,
               _array_form("arange"), differentiable=False))
register(OpDef("shape", 1, _shape_type, _emit_shape, _array_form("shape"), differentiable=False))
register(OpDef("getitem", None, _getitem_type, _emit_getitem, _array_form("getitem"), view=True))
register(OpDef("setitem", None, _setitem_type, _emitted_as_statement, _array_form("setitem"),
               doc="base with value written at index (a functional update; emitted in place "
                   "when base is fresh and dead afterwards)."))
register(OpDef("index_add", None, _index_add_type, _emitted_as_statement, _array_form("index_add"),
               doc="acc with g added at index (duplicates accumulate); adjoint of getitem."))
register(OpDef("unbroadcast", 2, _unbroadcast_type, _emit_unbroadcast,
               _array_form("unbroadcast"), view=True,
               doc="Sum g over the axes along which the second argument was broadcast."))
register(OpDef("unbroadcast_to", None, _unbroadcast_to_type, _emit_unbroadcast_to,
               _array_form("unbroadcast_to"), view=True,
               doc="unbroadcast to the shape given by the integer arguments (the form a loop's "
                   "reverse body uses, where only the shape of the broadcast operand is taped)."))
register(OpDef("expand_dims", 1, _expand_dims_type, _emit_expand_dims,
               _array_form("expand_dims"), view=True))
register(OpDef("broadcast_like", 2, _broadcast_like_type, _emit_broadcast_like,
               _array_form("broadcast_like"),
               doc="A new float array of the second argument's shape, broadcast from the first."))
register(OpDef("if", 1, _if_type, _emitted_as_statement, _sym_select, region_types=_if_regions,
               doc="Structured conditional: two regions yielding the results (the SymPy form "
                   "joins them under a symbolic condition; symdiff.symbolic interprets the "
                   "regions and unrolls for and while)."))
register(OpDef("for", None, _for_type, _emitted_as_statement, region_types=_for_regions,
               doc="for i in range(start, stop, step) with loop-carried values: args (start, "
                   "stop, step, *init); the body region takes (i, *carried) and yields the "
                   "carried values of the next iteration; the results are the final ones."))
register(OpDef("while", None, _while_type, _emitted_as_statement, region_types=_while_regions,
               doc="while loop with loop-carried values: args are their initial values; the "
                   "first region takes them and yields the condition, the second takes them and "
                   "yields the next ones; the results are the final ones."))
def _range_length_type(types: list[Type], attrs: dict) -> tuple[Type, ...]:
    if any(t != I64 for t in types):
        raise TypeError("range_length takes three integers")
    return (I64,)


register(OpDef("range_length", 3, _range_length_type,
               lambda ctx, op, a: f"len(range({', '.join(a)}))", _array_form("range_length"),
               differentiable=False,
               doc="len(range(start, stop, step)); raises ValueError when step is zero, as "
                   "range() does."))
register(OpDef("tape_push", 3, _tape_push_type, _emit_tape_push, _array_form("tape_push"),
               doc="tape with scalar v stored at slot k (grown by doubling when full); the "
                   "tape is private to its loop and updated in place."))
register(OpDef("tape_push_array", 4, _tape_push_array_type, _emit_tape_push_array,
               _array_form("tape_push_array"),
               doc="(buffer, index) with array v stored flat at slot k; the index row k holds "
                   "its offset and shape."))
register(OpDef("tape_get_array", 3, _tape_get_array_type, _emit_tape_get_array,
               _array_form("tape_get_array"), view=True,
               doc="The array stored at slot k of a (buffer, index) tape, as a view."))
