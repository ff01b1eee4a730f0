"""Clean-up passes: common-subexpression elimination and dead-code elimination.

Both keep the IR's meaning exactly: CSE merges pure ops with equal names,
arguments and attributes (scoped, so a value defined in one region is never
reused outside it); DCE drops pure ops whose results nobody reads and unused
results of ``if`` ops.
"""

from __future__ import annotations

from typing import Any

from symdiff.ir.builder import const_value, identity_operand, record
from symdiff.ir.core import Block, Function, Op, Value
from symdiff.ir.registry import lookup
from symdiff.ir.types import Type

# Ops that allocate a buffer the backend may later write in place: merging two
# of them would make two logical arrays share storage.
_NO_CSE = {"zeros", "ones", "empty", "zeros_like", "ones_like", "copy", "full", "index_add",
           "broadcast_like"}


def simplify(fn: Function) -> Function:
    """CSE, broadcast and identity folding and DCE, repeated while they remove ops (folding
    an identity can make two ops equal for the next CSE)."""
    count = count_ops(fn)
    for _ in range(4):
        fn = dce(fold_scales(fold_identities(fold_broadcasts(cse(fn)))))
        before, count = count, count_ops(fn)
        if count >= before:
            break
    return fn


# ----------------------------------------------------------- identities

_ARITHMETIC = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y,
               "mul": lambda x, y: x * y, "div": lambda x, y: x / y}


def fold_identities(fn: Function) -> Function:
    """``x * 1``, ``x + 0``... become ``x`` (`symdiff.ir.builder.identity_operand`, the
    builder's own folding, applied again once broadcasts are folded), and arithmetic on
    two scalar float constants is evaluated."""
    rename: dict[Value, Value] = {}

    def rewrite(block: Block) -> Block:
        ops: list[Op] = []
        for op in block.ops:
            args = tuple(rename.get(a, a) for a in op.args)
            regions = tuple(rewrite(r) for r in op.regions)
            if op.name in _ARITHMETIC:
                same = identity_operand(op.name, *args)
                if same is not None:
                    rename[op.result] = same
                    continue
                value = _evaluate(op.name, args, op.result)
                if value is not None:
                    op = Op("const", (), op.results, (("type", op.result.type), ("value", value)),
                            (), op.loc)
                    record(op)
                    ops.append(op)
                    continue
            if args != op.args or regions != op.regions:
                op = Op(op.name, args, op.results, op.attrs, regions, op.loc)
            ops.append(op)
        return Block(block.params, tuple(ops), tuple(rename.get(y, y) for y in block.yields))

    return Function(fn.name, fn.params, rewrite(fn.body), fn.loc)


def fold_scales(fn: Function) -> Function:
    """Constant factors gathered: each float value that is a constant times another value
    (``a + a``, ``-(2 * a)``, ``3 * a - a``, ``-(-a)``...) is computed as one op from
    that value: ``c * a``, ``-a`` or ``a`` itself. Each rewrite replaces one op by at most
    one (constants are free), and the ops it bypasses may die. Factors that are not powers
    of two can change the last bit (``3 * (5 * a)`` is ``15 * a``); zero factors are left
    alone (``a - a`` is NaN for infinite ``a``)."""
    scale: dict[Value, tuple[float, Value]] = {}
    rename: dict[Value, Value] = {}
    factors = float_constants(fn.body)

    def of(v: Value) -> tuple[float, Value]:
        return scale.get(v, (1.0, v))

    def rewrite(block: Block) -> Block:
        ops: list[Op] = []
        for op in block.ops:
            args = tuple(rename.get(a, a) for a in op.args)
            regions = tuple(rewrite(r) for r in op.regions)
            if args != op.args or regions != op.regions:
                op = Op(op.name, args, op.results, op.attrs, regions, op.loc)
            found = _scaled(op, of, factors) \
                if len(op.results) == 1 and op.result.type.dtype == "f64" else None
            if found is None or found[0] == 0.0 or found[1].type != op.result.type:
                ops.append(op)
                continue
            c, base = scale[op.result] = found
            if c == 1.0:
                rename[op.result] = base
            elif c == -1.0:
                ops.append(op if (op.name, op.args) == ("neg", (base,))
                           else Op("neg", (base,), op.results, (), (), op.loc))
            elif op.name == "mul" and base in op.args and factors.get(
                    op.args[1 - op.args.index(base)]) == c:
                ops.append(op)
            else:
                factor = Value(Type("f64"), "c")
                const = Op("const", (), (factor,), (("type", factor.type), ("value", c)),
                           (), op.loc)
                record(const)
                factors[factor] = c
                ops += [const, Op("mul", (factor, base), op.results, (), (), op.loc)]
        return Block(block.params, tuple(ops), tuple(rename.get(y, y) for y in block.yields))

    return Function(fn.name, fn.params, rewrite(fn.body), fn.loc)


def _scaled(op: Op, of: Any, factors: dict[Value, float]) -> tuple[float, Value] | None:
    """``op``'s result as (constant factor, value) when it is one, from its arguments'."""
    if op.name == "neg":
        c, base = of(op.args[0])
        return -c, base
    if op.name == "mul":
        for k in (0, 1):
            factor = factors.get(op.args[k])
            if factor is not None:
                c, base = of(op.args[1 - k])
                return factor * c, base
        return None
    if op.name in ("add", "sub"):
        (cx, x), (cy, y) = of(op.args[0]), of(op.args[1])
        if x is y:
            return (cx + cy if op.name == "add" else cx - cy), x
    return None


def float_constants(block: Block) -> dict[Value, float]:
    """The scalar float constants defined in ``block`` and its regions, by value."""
    out: dict[Value, float] = {}
    for op in block.ops:
        if op.name == "const" and isinstance(op.attr("value"), float) \
                and op.result.type == Type("f64"):
            out[op.result] = op.attr("value")
        for region in op.regions:
            out.update(float_constants(region))
    return out


def _evaluate(name: str, args: tuple[Value, ...], result: Value) -> float | None:
    values = [const_value(a) for a in args]
    if result.type.dtype != "f64" or result.type.ndim != 0 or not all(
            isinstance(v, float) for v in values):
        return None
    try:
        return float(_ARITHMETIC[name](*values))
    except ZeroDivisionError:
        return None


# ------------------------------------------------------- broadcast folding


def fold_broadcasts(fn: Function) -> Function:
    """Drop materialized broadcasts that NumPy broadcasting makes redundant.

    ``unbroadcast(g, like)`` is ``g`` when the shapes are provably equal, and
    an elementwise op reading ``broadcast_like(s, like)`` can read ``s``
    itself when its other arguments already give the result ``like``'s shape.
    """
    from symdiff.transforms.shapes import ShapeInfo, broadcast_dims

    shapes = ShapeInfo().analyze_function(fn)
    producers: dict[Value, Op] = {}
    rename: dict[Value, Value] = {}
    by_dims = {shapes.of(p): p for p in reversed(fn.params) if p.type.ndim > 0}
    dim_source = {d: (p, k) for p in reversed(fn.params) if p.type.ndim > 0
                  for k, d in enumerate(shapes.of(p)) if d != 1}

    def shape_donor(op: Op, args: tuple[Value, ...]) -> tuple[Value, ...]:
        """Read a shape from a parameter rather than from a value computed only for it."""
        if op.name in ("broadcast_like", "unbroadcast"):
            like = args[1]
            donor = by_dims.get(shapes.of(like))
            if donor is not None and donor.type.ndim == like.type.ndim:
                return (args[0], donor)
        return args

    def rewrite(block: Block) -> Block:
        ops: list[Op] = []
        for op in block.ops:
            args = tuple(rename.get(a, a) for a in op.args)
            regions = tuple(rewrite(r) for r in op.regions)
            if op.name == "unbroadcast" and shapes.of(args[0]) == shapes.of(args[1]) \
                    and args[0].type == op.result.type:
                rename[op.result] = args[0]
                continue
            if op.name == "unbroadcast_to" and shapes.of(args[0]) == tuple(
                    shapes.dim_of_scalar(a) for a in args[1:]) and args[0].type == op.result.type:
                rename[op.result] = args[0]
                continue
            if lookup(op.name).elementwise and op.result.type.ndim > 0:
                args = _unmaterialize(args, op.result, producers, shapes, broadcast_dims)
            args = shape_donor(op, args)
            if op.name == "shape" and args[0] not in fn.params:
                d = shapes.of(args[0])[op.attr("axis")]
                if d in dim_source:
                    p, k = dim_source[d]
                    op = Op("shape", (p,), op.results, (("axis", k),), (), op.loc)
                    args = op.args
            if args != op.args or regions != op.regions:
                op = Op(op.name, args, op.results, op.attrs, regions, op.loc)
            for r in op.results:
                producers[r] = op
            ops.append(op)
        return Block(block.params, tuple(ops), tuple(rename.get(y, y) for y in block.yields))

    return Function(fn.name, fn.params, rewrite(fn.body), fn.loc)


def _unmaterialize(args, result, producers, shapes, broadcast_dims):
    target = shapes.of(result)
    out = list(args)
    for k, a in enumerate(args):
        p = producers.get(a)
        if p is None or p.name != "broadcast_like":
            continue
        source = p.args[0]
        trial = [shapes.of(v) for v in out]
        trial[k] = shapes.of(source)
        if broadcast_dims(trial) == target and source.type.dtype == a.type.dtype:
            out[k] = source
    return tuple(out)


# ------------------------------------------------------------------- CSE


def cse(fn: Function) -> Function:
    rename: dict[Value, Value] = {}
    body = _cse_block(fn.body, [{}], rename)
    return Function(fn.name, fn.params, body, fn.loc)


# Ops whose two arguments commute: ``x * y`` and ``y * x`` are one value.
_COMMUTATIVE = frozenset({"add", "mul", "maximum", "minimum", "eq", "ne", "and", "or"})


def _key(op: Op, rename: dict[Value, Value]) -> Any:
    attrs = tuple((k, repr(v) if k == "value" else v) for k, v in op.attrs)
    args = tuple(id(rename.get(a, a)) for a in op.args)
    if op.name in _COMMUTATIVE:
        args = tuple(sorted(args))
    return (op.name, args, attrs)


def _cse_block(block: Block, scopes: list[dict[Any, Op]], rename: dict[Value, Value]) -> Block:
    table: dict[Any, Op] = {}
    scopes = [*scopes, table]
    ops: list[Op] = []
    for op in block.ops:
        args = tuple(rename.get(a, a) for a in op.args)
        regions = tuple(_cse_block(r, scopes, rename) for r in op.regions)
        if args != op.args or regions != op.regions:
            op = Op(op.name, args, op.results, op.attrs, regions, op.loc)
        if not op.regions and lookup(op.name).pure and op.name not in _NO_CSE:
            key = _key(op, rename)
            found = next((s[key] for s in reversed(scopes) if key in s), None)
            if found is not None:
                for old, new in zip(op.results, found.results, strict=True):
                    rename[old] = new
                continue
            table[key] = op
        ops.append(op)
    return Block(block.params, tuple(ops), tuple(rename.get(y, y) for y in block.yields))


# ------------------------------------------------------------------- DCE


def dce(fn: Function) -> Function:
    body = _dce_block(fn.body, set())
    return Function(fn.name, fn.params, body, fn.loc)


def _dce_block(block: Block, live_after: set[Value]) -> Block:
    live = set(live_after) | set(block.yields)
    kept: list[Op] = []
    for op in reversed(block.ops):
        used = [k for k, r in enumerate(op.results) if r in live]
        if not used and lookup(op.name).pure:
            continue
        if op.name in ("for", "while"):
            op = _dce_loop(op, used)
            for r in op.regions:
                live.update(block_reads(r))
            live.update(op.args)
            kept.append(op)
            continue
        if op.regions and len(used) < len(op.results):
            op = _prune_results(op, used)
        if op.regions:
            regions = tuple(_dce_block(r, live) for r in op.regions)
            op = Op(op.name, op.args, op.results, op.attrs, regions, op.loc)
            for r in regions:
                live.update(block_reads(r))
        live.update(op.args)
        kept.append(op)
    kept.reverse()
    return Block(block.params, tuple(kept), block.yields)


def _dce_loop(op: Op, used: list[int]) -> Op:
    """Drop the carried values of a loop that neither a later op nor the loop itself
    needs (a carried value is needed when any needed computation reads it)."""
    fixed = 3 if op.name == "for" else 0
    lead = 1 if op.name == "for" else 0   # the body's index parameter
    needed = set(used)
    while True:
        body = op.regions[-1]
        regions = [_dce_block(Block(body.params, body.ops,
                                    tuple(body.yields[k] for k in sorted(needed))), set())]
        if op.name == "while":
            regions.insert(0, _dce_block(op.regions[0], set()))
        reads = set().union(*(block_reads(r) for r in regions))
        more = {k for r, extra in zip(op.regions, regions, strict=True)
                for k, p in enumerate(r.params[lead if r is body else 0:])
                if p in reads} - needed
        if not more:
            break
        needed |= more
    keep = sorted(needed)
    new_regions = []
    for r, pruned in zip(op.regions, regions, strict=True):
        own = lead if r is op.regions[-1] else 0
        params = r.params[:own] + tuple(r.params[own + k] for k in keep)
        yields = pruned.yields if r is op.regions[-1] else pruned.yields
        new_regions.append(Block(params, pruned.ops, yields))
    args = op.args[:fixed] + tuple(op.args[fixed + k] for k in keep)
    results = tuple(op.results[k] for k in keep)
    return Op(op.name, args, results, op.attrs, tuple(new_regions), op.loc)


def _prune_results(op: Op, used: list[int]) -> Op:
    regions = tuple(Block(r.params, r.ops, tuple(r.yields[k] for k in used)) for r in op.regions)
    results = tuple(op.results[k] for k in used)
    attrs = tuple((k, tuple(v[i] for i in used) if k == "result_types" else v)
                  for k, v in op.attrs)
    return Op(op.name, op.args, results, attrs, regions, op.loc)


def block_reads(block: Block) -> set[Value]:
    """Every value ``block`` reads: op arguments and yields, nested regions included."""
    reads: set[Value] = set(block.yields)
    for op in block.walk():
        reads.update(op.args)
    for op in block.walk():
        for r in op.regions:
            reads.update(r.yields)
    return reads


def count_ops(fn: Function) -> int:
    """Number of ops (nested regions included), constants excluded."""
    return sum(1 for op in fn.body.walk() if op.name != "const")
