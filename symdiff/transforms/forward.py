"""Forward mode: the tangent (JVP) transform of a function's IR.

``forward(fn, wrt)`` returns a function taking ``fn``'s parameters followed by
one tangent per differentiation parameter (``x_dot``), and returning ``fn``'s
outputs followed by their tangents. Each primal op is kept as it is, and right
after it the JVP rule of the op (``symdiff.rules.jvp``) emits the tangents of
its results from the tangents of its arguments. A tangent that is identically
zero is not materialized (``None``) until something needs it as a value.

Structured ops carry their tangents with them: an ``if`` yields the tangents of
its results beside the results, a loop carries the tangent of each active
carried value beside it. The output is IR of the same kind as the input, so it
can be transformed again (``hessian`` and ``hvp`` are forward over reverse, and
so is ``egrad`` or ``grad`` of a gradient in the same argument: see
``pipeline.derive``).
"""

from __future__ import annotations

from collections.abc import Sequence

from symdiff.ir.builder import Builder, record
from symdiff.ir.core import Block, Function, Op, Value, hint
from symdiff.ir.registry import lookup
from symdiff.transforms.activity import active_values
from symdiff.transforms.shapes import ShapeInfo, assume_dims, assumed_dims


class Tangents:
    """The tangent of each active value (None: identically zero)."""

    def __init__(self, b: Builder, active: set[Value], shapes: ShapeInfo) -> None:
        self.b = b
        self.active = active
        self.shapes = shapes
        self.dots: dict[Value, Value] = {}

    def of(self, v: Value) -> Value | None:
        return self.dots.get(v)

    def set(self, r: Value, t: Value | None) -> None:
        if t is None or r not in self.active:
            return
        self.dots[r] = self.b.rename(t, f"{hint(r)}_dot")

    def value(self, v: Value) -> Value:
        """The tangent of ``v`` as a value (a zero of v's shape when there is none)."""
        t = self.dots.get(v)
        if t is not None:
            return t
        if v.type.ndim == 0:
            return self.b.scalar(0.0)
        return self.b.op("zeros_like", v, dtype="f64")

    def spread(self, t: Value, x: Value, result: Value) -> Value:
        """The tangent ``t`` of operand ``x`` broadcast to the shape of ``result``."""
        if t.type.ndim == result.type.ndim and (
                result.type.ndim == 0 or self.shapes.of(x) == self.shapes.of(result)):
            return t
        if t.type.ndim == 0 and result.type.ndim == 0:
            return t
        return self.b.op("broadcast_like", t, result)


def forward(fn: Function, wrt: Sequence[int], *, seed_ones: bool = False) -> Function:
    """The JVP function of ``fn`` with respect to the parameters at ``wrt``: parameters
    ``(*params, *tangents)``, results ``(*outputs, *output tangents)``. With
    ``seed_ones`` the tangents are not parameters but ones of each parameter's shape
    (``J @ 1``: the derivative along the all-ones direction)."""
    from symdiff.transforms.reverse import NotDifferentiableError

    where = f"{fn.loc}: " if fn.loc is not None else ""
    for k in wrt:
        p = fn.params[k]
        if p.type.dtype != "f64":
            raise NotDifferentiableError(
                f"{where}cannot differentiate {fn.name} with respect to '{p.name}': it is "
                f"{p.type}, and integer and boolean arguments are not differentiable")
    b = Builder()
    b.loc = fn.loc
    wrt_params = [fn.params[k] for k in wrt]
    active = active_values(fn, wrt_params, fn.returns)
    tan = Tangents(b, active, ShapeInfo().analyze_function(fn))
    dot_params = [Value(p.type.with_dtype("f64"), f"{hint(p)}_dot") for p in wrt_params]
    for p, d in zip(wrt_params, dot_params, strict=True):
        dims = assumed_dims(p)
        if dims is not None:
            assume_dims(d, dims)  # a tangent has its primal's shape (jvp checks it)
    for p, d in zip(wrt_params, dot_params, strict=True):
        if seed_ones:
            with b.at(fn.loc):
                d = b.scalar(1.0) if p.type.ndim == 0 else b.op("broadcast_like", b.scalar(1.0), p)
        tan.dots[p] = d
    transform_ops(tan, fn.body.ops)
    with b.at(fn.loc):
        outs = [tan.value(r) if r.type.dtype == "f64" else tan.b.scalar(0.0) for r in fn.returns]
    body = Block((), tuple(b.ops), (*fn.returns, *outs))
    params = fn.params if seed_ones else fn.params + tuple(dot_params)
    return Function(f"{fn.name}_jvp", params, body, fn.loc)


def transform_ops(tan: Tangents, ops: Sequence[Op]) -> None:
    """Emit ``ops`` with the tangents of their results after each."""
    from symdiff.rules.jvp import JVP_RULES
    from symdiff.transforms.reverse import NotDifferentiableError

    b = tan.b
    for op in ops:
        has_tangent = any(a in tan.dots for a in op.args) or (
            op.regions and any(r in tan.active for r in op.results))
        if op.name in STRUCTURED and has_tangent:
            with b.at(op.loc):
                STRUCTURED[op.name](tan, op)
            continue
        b.append(op)
        if not has_tangent or not any(r in tan.active for r in op.results):
            continue
        rule = JVP_RULES.get(op.name)
        if rule is None:
            if not lookup(op.name).differentiable:
                continue
            raise NotDifferentiableError(f"no forward-mode rule for op '{op.name}'")
        with b.at(op.loc):
            rule(tan, op)


# ----------------------------------------------------------- structured ops


def _region(tan: Tangents, region: Block, active_yields: list[int]) -> Block:
    """``region`` with its ops' tangents, yielding the tangents of ``active_yields`` too."""
    b = tan.b
    with b.region() as ops:
        transform_ops(tan, region.ops)
        dots = [tan.value(region.yields[k]) for k in active_yields]
    return Block(region.params, tuple(ops), (*region.yields, *dots))


def forward_if(tan: Tangents, op: Op) -> None:
    wanted = [k for k, r in enumerate(op.results) if r in tan.active]
    regions = tuple(_region(tan, region, wanted) for region in op.regions)
    dots = tuple(Value(op.results[k].type.with_dtype("f64"), f"{hint(op.results[k])}_dot")
                 for k in wanted)
    attrs = dict(op.attrs)
    attrs["result_types"] = tuple(v.type for v in (*op.results, *dots))
    new = Op("if", op.args, (*op.results, *dots), tuple(sorted(attrs.items())), regions, op.loc)
    tan.b.append(new)
    record(new)
    for k, d in zip(wanted, dots, strict=True):
        tan.dots[op.results[k]] = d


def forward_loop(tan: Tangents, op: Op) -> None:
    """A loop carrying, beside each active carried value, its tangent."""
    body = op.regions[-1]
    lead = 1 if op.name == "for" else 0
    inits = op.args[3:] if op.name == "for" else op.args
    params = body.params[lead:]
    wanted = [j for j, (p, r, y) in enumerate(zip(params, op.results, body.yields, strict=True))
              if p in tan.active or r in tan.active or y in tan.active]
    init_dots = [tan.value(inits[j]) for j in wanted]
    body_dots = [Value(params[j].type.with_dtype("f64"), f"{hint(params[j])}_dot") for j in wanted]
    for j, d in zip(wanted, body_dots, strict=True):
        tan.dots[params[j]] = d
    b = tan.b
    with b.region() as ops:
        transform_ops(tan, body.ops)
        yield_dots = [tan.value(body.yields[j]) for j in wanted]
    new_body = Block((*body.params, *body_dots), tuple(ops), (*body.yields, *yield_dots))
    regions: tuple[Block, ...] = (new_body,)
    if op.name == "while":
        cond = op.regions[0]
        cond_dots = [Value(d.type, hint(d)) for d in body_dots]
        regions = (Block((*cond.params, *cond_dots), cond.ops, cond.yields), new_body)
    results_dots = tuple(Value(d.type, hint(d)) for d in body_dots)
    new = Op(op.name, (*op.args, *init_dots), (*op.results, *results_dots), op.attrs, regions,
             op.loc)
    b.append(new)
    record(new)
    for j, d in zip(wanted, results_dots, strict=True):
        tan.dots[op.results[j]] = d


STRUCTURED = {"if": forward_if, "for": forward_loop, "while": forward_loop}
