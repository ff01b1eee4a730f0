"""Vector-Jacobian product rules: one entry per differentiable op.

A rule receives the adjoint accumulator, the primal op and the adjoints of the
op's results (``gs``, None where a result has none), and hands each argument's
contribution to the accumulator. Rules build IR only through ``adj.b``.

Subgradient conventions at non-differentiable points: ``abs`` has derivative
0 at 0 (``sign(0) = 0``); ``maximum``/``minimum`` (and so ``clip`` and ReLU
written as ``np.maximum(x, 0)``) split the adjoint evenly between tied
arguments; ``max``/``min`` reductions split it evenly among tied elements.
"""

from __future__ import annotations

from collections.abc import Callable

from symdiff.ir.core import Op, Value
from symdiff.transforms.reverse import Adjoints, reverse_if
from symdiff.transforms.reverse_loops import reverse_loop

VJPRule = Callable[[Adjoints, Op, tuple[Value | None, ...]], None]
VJP_RULES: dict[str, VJPRule] = {}


def rule(name: str) -> Callable[[Callable[[Adjoints, Op, Value], None]], None]:
    """Register a rule for a single-result op; it receives that result's adjoint."""
    def register(fn: Callable[[Adjoints, Op, Value], None]) -> None:
        def wrapped(adj: Adjoints, op: Op, gs: tuple[Value | None, ...]) -> None:
            g = gs[0]
            if g is not None:
                fn(adj, op, g)
        VJP_RULES[name] = wrapped
    return register


# ------------------------------------------------------------ arithmetic


@rule("add")
def _add(adj, op, g):
    x, y = op.args
    adj.add_broadcast(x, g, op.result)
    adj.add_broadcast(y, g, op.result)


@rule("sub")
def _sub(adj, op, g):
    x, y = op.args
    adj.add_broadcast(x, g, op.result)
    if adj.needs(y):
        adj.add_broadcast(y, adj.b.neg(g), op.result)


@rule("mul")
def _mul(adj, op, g):
    b, (x, y) = adj.b, op.args
    if adj.needs(x):
        adj.add_broadcast(x, b.mul(g, y), op.result)
    if adj.needs(y):
        adj.add_broadcast(y, b.mul(g, x), op.result)


@rule("div")
def _div(adj, op, g):
    b, (x, y), r = adj.b, op.args, op.result
    if adj.needs(x):
        adj.add_broadcast(x, b.div(g, y), r)
    if adj.needs(y):
        adj.add_broadcast(y, b.neg(b.div(b.mul(g, r), y)), r)


@rule("pow")
def _pow(adj, op, g):
    from symdiff.ir.builder import const_value
    b, (x, y), r = adj.b, op.args, op.result
    if adj.needs(x):
        c = const_value(y)
        if c is not None and c == 1:
            d = g
        elif c is not None and c == 2:
            d = b.mul(g, b.mul(b.scalar(2.0), x))
        elif c is not None:
            d = b.mul(g, b.mul(b.scalar(float(c)), b.op("pow", x, b.const(c - 1, y.type))))
        else:
            d = b.mul(g, b.mul(y, b.op("pow", x, b.sub(y, b.const(1)))))
        adj.add_broadcast(x, d, r)
    if adj.needs(y):
        adj.add_broadcast(y, b.mul(g, b.mul(r, b.op("log", x))), r)


def _tie_weight(adj: Adjoints, op: Op, strict: str) -> Value:
    """1 where the first argument wins, 0.5 at ties, 0 where the second wins."""
    b, (x, y) = adj.b, op.args
    half = b.op("where", b.op("eq", x, y), b.scalar(0.5), b.scalar(0.0))
    return b.op("where", b.op(strict, x, y), b.scalar(1.0), half)


def _minmax(strict: str):
    def vjp(adj, op, g):
        b, (x, y), r = adj.b, op.args, op.result
        w = _tie_weight(adj, op, strict)
        gx = b.mul(g, w)
        if adj.needs(x):
            adj.add_broadcast(x, gx, r)
        if adj.needs(y):
            adj.add_broadcast(y, b.sub(g, gx), r)
    return vjp


rule("maximum")(_minmax("gt"))
rule("minimum")(_minmax("lt"))


@rule("neg")
def _neg(adj, op, g):
    adj.add(op.args[0], adj.b.neg(g))


@rule("where")
def _where(adj, op, g):
    b, (c, x, y), r = adj.b, op.args, op.result
    zero = b.scalar(0.0)
    if adj.needs(x):
        adj.add_broadcast(x, b.op("where", c, g, zero), r)
    if adj.needs(y):
        adj.add_broadcast(y, b.op("where", c, zero, g), r)


# ------------------------------------------------------- elementwise maths


def _unary(derivative: Callable[[Adjoints, Value, Value, Value], Value]):
    """A rule ``x_bar += derivative(g, x, r)`` for a unary elementwise op."""
    def vjp(adj, op, g):
        x = op.args[0]
        adj.add_broadcast(x, derivative(adj, g, x, op.result), op.result)
    return vjp


rule("exp")(_unary(lambda a, g, x, r: a.b.mul(g, r)))
rule("log")(_unary(lambda a, g, x, r: a.b.div(g, x)))
rule("log1p")(_unary(lambda a, g, x, r: a.b.div(g, a.b.add(a.b.scalar(1.0), x))))
rule("expm1")(_unary(lambda a, g, x, r: a.b.mul(g, a.b.add(r, a.b.scalar(1.0)))))
rule("sqrt")(_unary(lambda a, g, x, r: a.b.div(g, a.b.mul(a.b.scalar(2.0), r))))
rule("sin")(_unary(lambda a, g, x, r: a.b.mul(g, a.b.op("cos", x))))
rule("cos")(_unary(lambda a, g, x, r: a.b.neg(a.b.mul(g, a.b.op("sin", x)))))
rule("tan")(_unary(lambda a, g, x, r: a.b.mul(g, a.b.add(a.b.scalar(1.0), a.b.mul(r, r)))))
rule("tanh")(_unary(lambda a, g, x, r: a.b.mul(g, a.b.sub(a.b.scalar(1.0), a.b.mul(r, r)))))
rule("arctan")(_unary(lambda a, g, x, r: a.b.div(g, a.b.add(a.b.scalar(1.0), a.b.mul(x, x)))))
rule("abs")(_unary(lambda a, g, x, r: a.b.mul(g, a.b.op("sign", x))))


@rule("copy")
def _copy(adj, op, g):
    adj.add(op.args[0], g)


# ------------------------------------------------------------ reductions


def _expanded(adj: Adjoints, op: Op, v: Value) -> Value:
    """``v`` (reduced like op's result) with the reduced axes restored as size 1."""
    axis, keepdims = op.attr("axis"), op.attr("keepdims")
    if axis is None or keepdims:
        return v
    return adj.b.op("expand_dims", v, axis=axis)


def _count(adj: Adjoints, op: Op) -> Value:
    b, x = adj.b, op.args[0]
    axes = op.attr("axis")
    axes = range(x.type.ndim) if axes is None else axes
    n: Value | None = None
    for k in axes:
        s = b.op("shape", x, axis=k, name_hint="n")
        n = s if n is None else b.mul(n, s)
    assert n is not None
    return b.to_float(n)


@rule("reduce")
def _reduce(adj, op, g):
    b, x, r = adj.b, op.args[0], op.result
    kind = op.attr("kind")
    if kind == "sum":
        adj.add(x, b.op("broadcast_like", _expanded(adj, op, g), x))
    elif kind == "mean":
        scaled = b.div(g, _count(adj, op))
        adj.add(x, b.op("broadcast_like", _expanded(adj, op, scaled), x))
    elif kind in ("max", "min"):
        mask = b.to_float(b.op("eq", x, _expanded(adj, op, r)))
        ties = b.op("reduce", mask, kind="sum", axis=op.attr("axis"), keepdims=op.attr("keepdims"))
        share = b.div(g, ties)
        adj.add(x, b.mul(mask, _expanded(adj, op, share)))
    elif kind == "prod":
        adj.add(x, b.div(b.mul(_expanded(adj, op, g), _expanded(adj, op, r)), x))
    else:
        raise AssertionError(kind)


# ----------------------------------------------------------- linear algebra


@rule("matmul")
def _matmul(adj, op, g):
    b, (x, y) = adj.b, op.args
    nx, ny = x.type.ndim, y.type.ndim
    if adj.needs(x):
        if (nx, ny) == (2, 2):
            gx = b.op("matmul", g, b.op("transpose", y, axes=(1, 0)))
        elif (nx, ny) == (2, 1):
            gx = b.op("outer", g, y)
        elif (nx, ny) == (1, 2):
            gx = b.op("matmul", y, g)
        else:
            gx = b.mul(g, y)
        adj.add(x, gx)
    if adj.needs(y):
        if (nx, ny) == (2, 2):
            gy = b.op("matmul", b.op("transpose", x, axes=(1, 0)), g)
        elif (nx, ny) == (2, 1):
            gy = b.op("matmul", g, x)
        elif (nx, ny) == (1, 2):
            gy = b.op("outer", x, g)
        else:
            gy = b.mul(g, x)
        adj.add(y, gy)


@rule("outer")
def _outer(adj, op, g):
    b, (x, y) = adj.b, op.args
    if adj.needs(x):
        adj.add(x, b.op("matmul", g, y))
    if adj.needs(y):
        adj.add(y, b.op("matmul", x, g))


@rule("transpose")
def _transpose(adj, op, g):
    axes = op.attr("axes")
    inverse = tuple(sorted(range(len(axes)), key=lambda k: axes[k]))
    adj.add(op.args[0], adj.b.op("transpose", g, axes=inverse))


def _shape_of(adj: Adjoints, x: Value) -> list[Value]:
    return [adj.b.op("shape", x, axis=k, name_hint="n") for k in range(x.type.ndim)]


@rule("reshape")
def _reshape(adj, op, g):
    x = op.args[0]
    adj.add(x, adj.b.op("reshape", g, *_shape_of(adj, x)))


@rule("expand_dims")
def _expand_dims(adj, op, g):
    x = op.args[0]
    if x.type.ndim == 0:
        adj.add(x, adj.b.op("reduce", g, kind="sum", axis=None, keepdims=False))
    else:
        adj.add(x, adj.b.op("reshape", g, *_shape_of(adj, x)))


@rule("full")
def _full(adj, op, g):
    v = op.args[-1]
    adj.add(v, adj.b.op("reduce", g, kind="sum", axis=None, keepdims=False))


@rule("broadcast_like")
def _broadcast_like(adj, op, g):
    x = op.args[0]
    if adj.needs(x):
        adj.add(x, adj.b.op("unbroadcast", g, x))


@rule("unbroadcast")
def _unbroadcast(adj, op, g):
    x = op.args[0]
    if adj.needs(x):
        adj.add(x, adj.b.op("broadcast_like", g, x))


VJP_RULES["unbroadcast_to"] = VJP_RULES["unbroadcast"]


# ---------------------------------------------------------------- indexing


@rule("getitem")
def _getitem(adj, op, g):
    adj.add_at(op.args[0], g, op.attr("spec"), op.args[1:])


@rule("index_add")
def _index_add(adj, op, g):
    acc, part, *index = op.args
    adj.add(acc, g)
    if adj.needs(part):
        adj.add(part, adj.b.op("getitem", g, *index, spec=op.attr("spec")))


@rule("setitem")
def _setitem(adj, op, g):
    """r = base with value written at index: value gets g's part there, base the rest of g."""
    b = adj.b
    base, value, *index = op.args
    spec = op.attr("spec")
    if adj.needs(value):
        part = b.op("getitem", g, *index, spec=spec)
        if part.type.ndim > value.type.ndim:
            part = b.op("unbroadcast", part, value)
        elif part.type.ndim == value.type.ndim and value.type.ndim > 0:
            part = b.op("unbroadcast", part, value)
        adj.add(value, part)
    if adj.needs(base):
        adj.add(base, b.op("setitem", g, b.scalar(0.0), *index, spec=spec))


# ------------------------------------------------------------ loop tapes


def _tape(adj, op, gs):
    from symdiff.transforms.reverse import NotDifferentiableError
    raise NotDifferentiableError(
        f"{op.loc}: reverse mode over the reverse mode of a loop is not supported; "
        "differentiate the gradient in forward mode instead (hessian and hvp do)")


for _name in ("tape_push", "tape_push_array", "tape_get_array"):
    VJP_RULES[_name] = _tape


# --------------------------------------------------------- structured ops

VJP_RULES["if"] = reverse_if
VJP_RULES["for"] = reverse_loop
VJP_RULES["while"] = reverse_loop
