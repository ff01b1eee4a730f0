"""Jacobian-vector product (tangent) rules: one entry per differentiable op.

A rule receives the tangent map and the primal op (already emitted), reads
the tangents of the op's arguments (``tan.of``: None for an identically zero
tangent) and sets the tangents of its results (``tan.set``). Rules build IR
only through ``tan.b``, so the tangent code is IR that can be differentiated
again. The conventions at kinks and ties are those of the VJP rules
(`symdiff.rules.vjp`): ``abs`` has derivative 0 at 0, ``maximum``/``minimum``
split ties evenly, ``max``/``min`` reductions share among tied elements.

The tape ops of reverse-mode loops are linear in the values they store: their
tangent is the same op on the tangents (a tape of tangents), which is what
forward-over-reverse (``hessian``) needs.
"""

from __future__ import annotations

from collections.abc import Callable

from symdiff.ir.builder import const_value
from symdiff.ir.core import Op, Value
from symdiff.transforms.forward import Tangents

JVPRule = Callable[[Tangents, Op], None]
JVP_RULES: dict[str, JVPRule] = {}


def rule(name: str) -> Callable[[JVPRule], JVPRule]:
    def register(fn: JVPRule) -> JVPRule:
        JVP_RULES[name] = fn
        return fn
    return register


def _plus(tan: Tangents, a: Value | None, b: Value | None) -> Value | None:
    if a is None:
        return b
    if b is None:
        return a
    return tan.b.add(a, b)


# ------------------------------------------------------------ arithmetic


@rule("add")
def _add(tan, op):
    (x, y), r = op.args, op.result
    dx, dy = tan.of(x), tan.of(y)
    tan.set(r, _plus(tan, dx and tan.spread(dx, x, r), dy and tan.spread(dy, y, r)))


@rule("sub")
def _sub(tan, op):
    (x, y), r = op.args, op.result
    dx, dy = tan.of(x), tan.of(y)
    if dy is None:
        tan.set(r, dx and tan.spread(dx, x, r))
    elif dx is None:
        tan.set(r, tan.spread(tan.b.neg(dy), y, r))
    else:
        tan.set(r, tan.b.sub(dx, dy))


@rule("mul")
def _mul(tan, op):
    b, (x, y), r = tan.b, op.args, op.result
    dx, dy = tan.of(x), tan.of(y)
    tan.set(r, _plus(tan, dx and b.mul(dx, y), dy and b.mul(x, dy)))


@rule("div")
def _div(tan, op):
    b, (x, y), r = tan.b, op.args, op.result
    dx, dy = tan.of(x), tan.of(y)
    if dy is None:
        tan.set(r, b.div(dx, y))
    elif dx is None:
        tan.set(r, b.neg(b.div(b.mul(r, dy), y)))
    else:
        tan.set(r, b.div(b.sub(dx, b.mul(r, dy)), y))


@rule("pow")
def _pow(tan, op):
    b, (x, y), r = tan.b, op.args, op.result
    dx, dy = tan.of(x), tan.of(y)
    out = None
    if dx is not None:
        c = const_value(y)
        if c is not None and c == 1:
            d = dx
        elif c is not None and c == 2:
            d = b.mul(dx, b.mul(b.scalar(2.0), x))
        elif c is not None:
            d = b.mul(dx, b.mul(b.scalar(float(c)), b.op("pow", x, b.const(c - 1, y.type))))
        else:
            d = b.mul(dx, b.mul(y, b.op("pow", x, b.sub(y, b.const(1)))))
        out = tan.spread(d, x, r) if d is dx else d
    if dy is not None:
        out = _plus(tan, out, b.mul(dy, b.mul(r, b.op("log", x))))
    tan.set(r, out)


def _minmax(strict: str):
    def jvp(tan, op):
        b, (x, y), r = tan.b, op.args, op.result
        half = b.op("where", b.op("eq", x, y), b.scalar(0.5), b.scalar(0.0))
        w = b.op("where", b.op(strict, x, y), b.scalar(1.0), half)
        dx, dy = tan.of(x), tan.of(y)
        tan.set(r, _plus(tan, dx and b.mul(w, dx),
                         dy and b.mul(b.sub(b.scalar(1.0), w), dy)))
    return jvp


rule("maximum")(_minmax("gt"))
rule("minimum")(_minmax("lt"))


@rule("neg")
def _neg(tan, op):
    tan.set(op.result, tan.b.neg(tan.of(op.args[0])))


@rule("where")
def _where(tan, op):
    b, (c, x, y), r = tan.b, op.args, op.result
    dx, dy = tan.of(x), tan.of(y)
    zero = b.scalar(0.0)
    tan.set(r, b.op("where", c, dx if dx is not None else zero, dy if dy is not None else zero))


@rule("copy")
def _copy(tan, op):
    tan.set(op.result, tan.b.op("copy", tan.of(op.args[0])))


# ------------------------------------------------------- elementwise maths


def _unary(derivative: Callable[[Tangents, Value, Value], Value]):
    """A rule ``r_dot = derivative(x, r) * x_dot`` for a unary elementwise op."""
    def jvp(tan, op):
        x, r = op.args[0], op.result
        tan.set(r, tan.b.mul(tan.of(x), derivative(tan, x, r)))
    return jvp


rule("exp")(_unary(lambda t, x, r: r))
rule("log")(_unary(lambda t, x, r: t.b.div(t.b.scalar(1.0), x)))
rule("log1p")(_unary(lambda t, x, r: t.b.div(t.b.scalar(1.0), t.b.add(t.b.scalar(1.0), x))))
rule("expm1")(_unary(lambda t, x, r: t.b.add(r, t.b.scalar(1.0))))
rule("sqrt")(_unary(lambda t, x, r: t.b.div(t.b.scalar(0.5), r)))
rule("sin")(_unary(lambda t, x, r: t.b.op("cos", x)))
rule("cos")(_unary(lambda t, x, r: t.b.neg(t.b.op("sin", x))))
rule("tan")(_unary(lambda t, x, r: t.b.add(t.b.scalar(1.0), t.b.mul(r, r))))
rule("tanh")(_unary(lambda t, x, r: t.b.sub(t.b.scalar(1.0), t.b.mul(r, r))))
rule("arctan")(_unary(lambda t, x, r: t.b.div(t.b.scalar(1.0), t.b.add(t.b.scalar(1.0),
                                                                          t.b.mul(x, x)))))
rule("abs")(_unary(lambda t, x, r: t.b.op("sign", x)))


# ------------------------------------------------------------ reductions


def _expanded(tan: Tangents, op: Op, v: Value) -> Value:
    axis, keepdims = op.attr("axis"), op.attr("keepdims")
    if axis is None or keepdims:
        return v
    return tan.b.op("expand_dims", v, axis=axis)


@rule("reduce")
def _reduce(tan, op):
    b, x, r = tan.b, op.args[0], op.result
    dx = tan.of(x)
    kind = op.attr("kind")
    attrs = {"axis": op.attr("axis"), "keepdims": op.attr("keepdims")}
    if kind in ("sum", "mean"):
        tan.set(r, b.op("reduce", dx, kind=kind, **attrs))
    elif kind in ("max", "min"):
        mask = b.to_float(b.op("eq", x, _expanded(tan, op, r)))
        ties = b.op("reduce", mask, kind="sum", **attrs)
        tan.set(r, b.div(b.op("reduce", b.mul(mask, dx), kind="sum", **attrs), ties))
    elif kind == "prod":
        tan.set(r, b.mul(r, b.op("reduce", b.div(dx, x), kind="sum", **attrs)))
    else:
        raise AssertionError(kind)


# ----------------------------------------------------------- linear algebra


@rule("matmul")
def _matmul(tan, op):
    b, (x, y), r = tan.b, op.args, op.result
    dx, dy = tan.of(x), tan.of(y)
    tan.set(r, _plus(tan, dx and b.op("matmul", dx, y), dy and b.op("matmul", x, dy)))


@rule("outer")
def _outer(tan, op):
    b, (x, y), r = tan.b, op.args, op.result
    dx, dy = tan.of(x), tan.of(y)
    tan.set(r, _plus(tan, dx and b.op("outer", dx, y), dy and b.op("outer", x, dy)))


def _same_op_on_first(tan, op):
    """Ops linear in their first argument, the rest being integers or shapes."""
    d = tan.of(op.args[0])
    if d is None:
        return
    (t,) = tan.b.emit(op.name, [d, *op.args[1:]], **dict(op.attrs))
    tan.set(op.result, t)


for _name in ("transpose", "reshape", "expand_dims", "getitem", "unbroadcast", "unbroadcast_to",
              "broadcast_like", "tape_get_array"):
    JVP_RULES[_name] = _same_op_on_first


@rule("full")
def _full(tan, op):
    d = tan.of(op.args[-1])
    (t,) = tan.b.emit("full", [*op.args[:-1], d], **{**dict(op.attrs), "dtype": "f64"})
    tan.set(op.result, t)


# ---------------------------------------------------------------- indexing


@rule("setitem")
def _setitem(tan, op):
    base, value, *index = op.args
    dbase, dvalue = tan.of(base), tan.of(value)
    start = dbase if dbase is not None else tan.value(base)
    part = dvalue if dvalue is not None else tan.b.scalar(0.0)
    tan.set(op.result, tan.b.op("setitem", start, part, *index, spec=op.attr("spec")))


@rule("index_add")
def _index_add(tan, op):
    acc, part, *index = op.args
    dacc, dpart = tan.of(acc), tan.of(part)
    if dpart is None:
        tan.set(op.result, dacc)
        return
    start = dacc if dacc is not None else tan.value(acc)
    tan.set(op.result, tan.b.op("index_add", start, dpart, *index, spec=op.attr("spec")))


# -------------------------------------------------------- loop tapes


@rule("tape_push")
def _tape_push(tan, op):
    tape, slot, v = op.args
    dv = tan.of(v)
    start = tan.of(tape) if tan.of(tape) is not None else tan.value(tape)
    part = dv if dv is not None else tan.b.scalar(0.0)
    tan.set(op.result, tan.b.op("tape_push", start, slot, part))


@rule("tape_push_array")
def _tape_push_array(tan, op):
    buf, meta, slot, v = op.args
    start = tan.of(buf) if tan.of(buf) is not None else tan.value(buf)
    part = tan.value(v)
    dbuf, _ = tan.b.emit("tape_push_array", [start, meta, slot, part])
    tan.set(op.results[0], dbuf)
