"""Reverse-mode AD by source transformation of the IR.

`reverse` turns a function into one that runs the primal ops, then an adjoint
sweep over them in reverse order, and returns the primal outputs followed by
the adjoints of the chosen parameters. Per-op derivative rules come from
`symdiff.rules.vjp`; this module owns the sweep, the accumulation of adjoints
(summing contributions, undoing broadcasting) and the structured ops.
"""

from __future__ import annotations

from collections.abc import Sequence

from symdiff.errors import SymdiffError
from symdiff.ir.builder import Builder
from symdiff.ir.clone import replay
from symdiff.ir.core import Block, Function, Op, Value, free_values, hint
from symdiff.ir.types import F64
from symdiff.transforms.activity import active_values
from symdiff.transforms.reverse_loops import LOOPS, emit_taping_loop, plan_loop
from symdiff.transforms.shapes import ShapeInfo, reduction_plan


class NotDifferentiableError(SymdiffError):
    """The requested derivative does not exist (integer input, non-scalar output...)."""


class Adjoints:
    """The adjoint of each active value, accumulated as contributions arrive.

    The adjoint of a value has the value's shape. Rules hand contributions to
    `add` (exact shape), `add_broadcast` (shape of a broadcast result, summed
    back when needed) or `add_at` (a contribution to an indexed part).
    """

    def __init__(self, b: Builder, active: set[Value], shapes: ShapeInfo,
                 plans: dict | None = None) -> None:
        self.b = b
        self.active = active
        self.shapes = shapes
        self.bars: dict[Value, Value] = {}
        # Loops whose taping forward run is already emitted -> their reverse plans.
        self.plans: dict = plans if plans is not None else {}
        # A symbolic dimension -> (an argument, axis) that has it (set by `reverse`).
        self.dim_source: dict = {}

    def needs(self, v: Value) -> bool:
        return v in self.active

    def add(self, x: Value, contribution: Value) -> None:
        if x not in self.active:
            return
        contribution = self.b.rename(contribution, f"{hint(x)}_bar")
        current = self.bars.get(x)
        if current is None:
            self.bars[x] = contribution
        else:
            self.bars[x] = self.b.rename(self.b.add(current, contribution), f"{hint(x)}_bar")

    def add_broadcast(self, x: Value, contribution: Value, result: Value) -> None:
        """Add a contribution shaped like ``result``, an elementwise result ``x`` broadcast into.

        The axes along which x was broadcast are summed away: statically where
        the symbolic shapes tell, through a run-time ``unbroadcast`` elsewhere.
        """
        if x not in self.active:
            return
        if contribution.type.ndim == 0 or self.shapes.of(x) == self.shapes.of(result):
            self.add(x, contribution)
            return
        lead, ones, unknown = reduction_plan(self.shapes.of(x), self.shapes.of(result))
        c = contribution
        if lead:
            axis = None if len(lead) == c.type.ndim else lead
            c = self.b.op("reduce", c, kind="sum", axis=axis, keepdims=False)
        if ones:
            c = self.b.op("reduce", c, kind="sum", axis=ones, keepdims=True)
        if unknown:
            c = self.b.op("unbroadcast", c, x)
        self.add(x, c)

    def add_at(self, x: Value, g: Value, spec: tuple, index: Sequence[Value]) -> None:
        """Add ``g`` into the part ``x[spec(index)]`` of x's adjoint."""
        if x not in self.active:
            return
        base = self.bars.get(x)
        if base is None:
            base = self.b.op("zeros_like", x, dtype="f64", name_hint=f"{hint(x)}_bar")
        self.bars[x] = self.b.rename(self.b.op("index_add", base, g, *index, spec=spec),
                                     f"{hint(x)}_bar")

    def zero(self, x: Value) -> Value:
        if x.type.ndim == 0:
            return self.b.scalar(0.0)
        return self.b.op("zeros_like", x, dtype="f64")

    def get_or_zero(self, x: Value) -> Value:
        return self.bars[x] if x in self.bars else self.zero(x)


def reverse(fn: Function, wrt: Sequence[int], *, seed_params: bool = False,
            seed_ones: bool = False) -> Function:
    """The adjoint function of ``fn`` with respect to the parameters at ``wrt``.

    Without ``seed_params`` the function must return one float scalar, seeded
    with 1. With it, one cotangent parameter per output is appended (for
    vector-Jacobian products). With ``seed_ones`` every float output is seeded
    with ones of its shape (the elementwise gradient of an elementwise
    function). The result returns ``(*outputs, *adjoints)``.
    """
    where = f"{fn.loc}: " if fn.loc is not None else ""
    for k in wrt:
        p = fn.params[k]
        if p.type.dtype != "f64":
            raise NotDifferentiableError(
                f"{where}cannot differentiate {fn.name} with respect to '{p.name}': it is "
                f"{p.type}, and integer and boolean arguments are not differentiable")
    if seed_ones:
        if not any(r.type.dtype == "f64" for r in fn.returns):
            got = ", ".join(str(r.type) for r in fn.returns)
            raise NotDifferentiableError(
                f"{where}elementwise_grad needs a function returning float values; "
                f"{fn.name} returns ({got})")
    elif not seed_params:
        if len(fn.returns) != 1 or fn.returns[0].type != F64:
            got = ", ".join(str(r.type) for r in fn.returns)
            returned = next((op.loc for op in fn.body.ops if fn.returns[0] in op.results
                             and op.loc is not None), fn.loc) if fn.returns else fn.loc
            at = f"{returned}: " if returned is not None else ""
            raise NotDifferentiableError(
                f"{at}grad needs a function returning one float scalar; {fn.name} returns "
                f"({got})")
    b = Builder()
    b.loc = fn.loc
    wrt_params = [fn.params[k] for k in wrt]
    active = active_values(fn, wrt_params, fn.returns)
    adj = Adjoints(b, active, ShapeInfo().analyze_function(fn))
    adj.dim_source = {d: (p, k) for p in reversed(fn.params) if p.type.ndim > 0
                      for k, d in enumerate(adj.shapes.of(p)) if d != 1}
    for op in fn.body.ops:
        plan = plan_loop(adj, op) if op.name in LOOPS else None
        if plan is None:
            b.append(op)
            continue
        with b.at(op.loc):
            emit_taping_loop(b, op, plan, reuse=True)
        adj.plans[op] = plan
    seeds: list[Value] = []
    for out in fn.returns:
        if seed_params:
            seed = Value(out.type.with_dtype("f64"), f"{hint(out)}_bar")
            seeds.append(seed)
        elif seed_ones and out.type.ndim > 0:
            with b.at(fn.loc):
                seed = b.op("broadcast_like", b.scalar(1.0), out)
        else:
            with b.at(fn.loc):
                seed = b.scalar(1.0)
        if out.type.dtype == "f64":
            _seed(adj, out, seed)
    sweep(b, fn.body.ops, adj)
    grads = [adj.get_or_zero(p) for p in wrt_params]
    grads = [b.rename(g, f"{hint(p)}_bar") for g, p in zip(grads, wrt_params, strict=True)]
    body = Block((), tuple(b.ops), (*fn.returns, *grads))
    return Function(f"{fn.name}_grad", fn.params + tuple(seeds), body, fn.loc)


def _seed(adj: Adjoints, out: Value, seed: Value) -> None:
    if out in adj.active:
        adj.add(out, seed)



def sweep(b: Builder, ops: Sequence[Op], adj: Adjoints) -> None:
    """Emit the adjoints of ``ops`` (already executed) in reverse order."""
    from symdiff.rules.vjp import VJP_RULES
    for op in reversed(ops):
        gs = tuple(adj.bars.get(r) for r in op.results)
        if all(g is None for g in gs):
            continue
        if not any(adj.needs(a) for a in op.args) and not op.regions:
            continue
        rule = VJP_RULES.get(op.name)
        if rule is None:
            raise NotDifferentiableError(f"no derivative rule for op '{op.name}'")
        with b.at(op.loc):
            rule(adj, op, gs)


def reverse_if(adj: Adjoints, op: Op, gs: tuple[Value | None, ...]) -> None:
    """Adjoint of a structured ``if``: an ``if`` on the same condition.

    Each branch recomputes its primal ops (values inside a region are not
    visible outside it), runs the adjoint sweep of that region seeded with the
    incoming adjoints of the op's results, and yields the adjoints of the
    active values it reads from outside. A value whose adjoint has
    contributions already enters each branch with them, so a branch adds into
    it (in place, for an element's contribution) and the other passes it on;
    the others' adjoints are accumulated after the if.
    """
    b = adj.b
    outer = [v for region in op.regions for v in free_values(region)]
    needed = list(dict.fromkeys(v for v in outer if adj.needs(v)))
    if not needed:
        return
    regions = []
    for region in op.regions:
        with b.region() as ops:
            mapping: dict[Value, Value] = {}
            replay(b, region.ops, mapping)
            inner = Adjoints(b, adj.active | {mapping[v] for v in adj.active if v in mapping},
                             adj.shapes, adj.plans)
            inner.dim_source = adj.dim_source
            for v in needed:
                if v in adj.bars:
                    inner.bars[v] = adj.bars[v]
            for k, g in enumerate(gs):
                if g is not None:
                    y = mapping.get(region.yields[k], region.yields[k])
                    inner.add(y, g)
            sweep(b, [o for o in ops], inner)
            yields = tuple(inner.get_or_zero(v) for v in needed)
        regions.append(Block((), tuple(ops), yields))
    results = b.emit("if", [op.args[0]], regions=tuple(regions),
                     names=[f"{hint(v)}_bar" for v in needed],
                     result_types=tuple(v.type.with_dtype("f64") for v in needed))
    for v, total in zip(needed, results, strict=True):
        if v in adj.bars:
            adj.bars[v] = total
        else:
            adj.add(v, total)
