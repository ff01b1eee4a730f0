"""Reverse mode through ``for`` and ``while`` loops: tapes and reverse loops.

The adjoint of a loop is a loop running its iterations backwards. Iteration
k's adjoint needs some of iteration k's primal values; the forward loop saves
exactly those on tapes (one slot per iteration), and the reverse loop reads
them back. Which values: the adjoint body is generated first, against the
primal body's values, and the primal values it reads are the ones taped
(activity analysis has already kept inactive computations out of it). Values
that are cheap to recompute from the iteration index and loop-invariant values
(constants, ``i + 1``, ``x[i]``) are recomputed instead of taped.

Tapes are flat arrays: a scalar tape has one slot per iteration, an array tape
stores each array flat in one buffer with an index of offsets and shapes. A
``for`` loop knows its trip count at entry and allocates its scalar tapes once;
a ``while`` loop counts its iterations and its tapes grow by doubling.

The adjoint of every loop-carried float value is carried through the reverse
loop, and so is the adjoint of every loop-invariant value the body reads
(``W`` in ``h = tanh(W @ h)``), accumulated across iterations.

A loop at the top level of the function is replaced by its taping version in
the forward part of the adjoint function. A loop nested in another region is
recomputed with taping right before its reverse loop, inside the enclosing
region's adjoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symdiff.ir.builder import Builder, const_value, record
from symdiff.ir.clone import clone_op
from symdiff.ir.core import Block, Op, Value, free_values, hint
from symdiff.ir.registry import lookup
from symdiff.ir.types import I64

LOOPS = ("for", "while")


@dataclass(eq=False)
class WriteStep:
    """An element write of an undo log's array, and the value saved before it."""

    write: Op                      # the setitem
    index_ops: list[Op]            # ops of enclosing branches recomputing its index
    save: Value | None = None      # the overwritten part, a value of the body's top level


@dataclass(eq=False)
class IfStep:
    """An ``if`` whose branches update an undo log's array only by element writes."""

    op: Op
    result: int                    # which of the if's results is the array
    start: Value                   # the array's version before the if
    arms: list[list[Step]]         # each branch's steps, in order
    cond_ops: list[Op]             # ops of enclosing branches recomputing the condition


Step = WriteStep | IfStep


@dataclass
class UndoLog:
    """A carried array updated only by element writes (at the body's top level or
    inside ifs), rebuilt in the reverse loop instead of taped whole."""

    carried: int                   # index of the carried array
    steps: list[Step]              # the body's top-level steps, in order
    saves: dict[int, list[Op]]     # body position -> ops saving what it overwrites
    saved: list[Value]             # the saved values, in order


@dataclass
class LoopPlan:
    """A loop's reverse body and what its forward run must save for it."""

    taped: list[Value]            # primal body values the reverse body reads from tapes
    recompute: list[Op]           # primal body ops the reverse body recomputes instead
    carried: list[int]            # indices of the carried values with adjoints
    outer: list[Value]            # loop-invariant active values whose adjoints accumulate
    reverse_body: Block           # params (slot, *carried bars, *outer bars)
    trip: Value | None = None     # the iteration count (set once the forward loop is built)
    tapes: tuple[Value, ...] = ()  # the forward loop's final tapes
    # original -> copied body values, when the forward loop is a recomputation
    mapping: dict[Value, Value] = field(default_factory=dict)
    # ops added to the forward body: the dimensions of values only taped by shape
    shape_ops: list[Op] = field(default_factory=list)
    # undo logs: carried arrays updated only by element writes, whose earlier versions
    # the reverse body reads
    undo: list[UndoLog] = field(default_factory=list)
    # yields read from their parameter's tape one slot later -> the carried index
    shifted: dict[Value, int] = field(default_factory=dict)
    # taped arrays of a for loop whose shape is the same in every iteration and known
    # before the loop: per dimension, a known length or the (value, axis) giving it.
    # Their tape is one (slots, *shape) array, written and read by row.
    fixed: dict[Value, tuple[int | tuple[Value, int], ...]] = field(default_factory=dict)


def loop_parts(op: Op) -> tuple[tuple[Value, ...], tuple[Value, ...], Block]:
    """(initial values, the body's carried parameters, the body) of a loop op."""
    body = op.regions[-1]
    if op.name == "for":
        return op.args[3:], body.params[1:], body
    return op.args, body.params, body


def plan_loop(adj, op: Op) -> LoopPlan | None:
    """Build the reverse body of ``op``; None when no adjoint flows through it."""
    from symdiff.transforms.reverse import Adjoints, sweep

    b: Builder = adj.b
    inits, params, body = loop_parts(op)
    results = op.results
    carried = [j for j, (p, r) in enumerate(zip(params, results, strict=True))
               if adj.needs(p) or adj.needs(r)]
    defined = _defined_in(op)
    outer = [v for v in free_values(body) if adj.needs(v) and v not in defined]
    if not carried and not outer:
        return None
    slot = Value(I64, "it")
    carry_params = [Value(params[j].type, f"{hint(params[j])}_bar") for j in carried]
    outer_params = [Value(u.type, f"{hint(u)}_bar") for u in outer]
    for p, j in zip(carry_params, carried, strict=True):
        if p.type.ndim:
            adj.shapes.dims[p] = adj.shapes.of(params[j])
    for p, u in zip(outer_params, outer, strict=True):
        if p.type.ndim:
            adj.shapes.dims[p] = adj.shapes.of(u)
    with b.region() as ops:
        inner = Adjoints(b, adj.active, adj.shapes, adj.plans)
        inner.dim_source = adj.dim_source
        for u, p in zip(outer, outer_params, strict=True):
            inner.bars[u] = p
        for j, p in zip(carried, carry_params, strict=True):
            inner.add(body.yields[j], p)
        sweep(b, body.ops, inner)
        next_carry = []
        for j, p in zip(carried, carry_params, strict=True):
            bar = inner.bars.get(params[j])
            if bar is None:
                same_shape = adj.shapes.of(params[j]) == adj.shapes.of(body.yields[j])
                bar = b.scalar(0.0) if p.type.ndim == 0 else b.op(
                    "zeros_like", p if same_shape else params[j], dtype="f64")
            next_carry.append(bar)
        next_outer = [inner.bars[u] for u in outer]
    # Which primal values of the body the adjoint reads: recompute the cheap ones, tape the rest.
    index = body.params[0] if op.name == "for" else None
    producers = {r: o for o in body.ops for r in o.results}
    reads = _reads(ops, next_carry + next_outer)
    body_values = set(body.params) | set(producers)
    needed = [v for v in reads if v in body_values and v is not index]
    undo = _undo_logs(b, params, body, producers, needed)
    for log in undo:
        chain = {v for step in log.steps for v in _versions(step)}
        needed = [v for v in needed if v not in chain]
        needed.extend(a for a in _step_inputs(log.steps) if a in body_values
                      and a is not index and a not in needed)
    recompute: list[Op] = []
    taped: list[Value] = []
    cheap: dict[Value, bool] = {}
    shape_ops: list[Op] = []
    ops = list(ops)
    for v in needed:
        if _cheap(v, producers, set(params), index, cheap):
            _collect(v, producers, index, recompute, set())
        elif v.type.ndim and _shape_only(v, ops):
            # Only v's shape is read (to undo a broadcast): tape its dimensions, not v.
            # A dimension that equals one of an argument's is read from the argument.
            dims = []
            for axis, dim in enumerate(adj.shapes.of(v)):
                source = adj.dim_source.get(dim)
                if source is not None:
                    (d,) = b.emit("shape", [source[0]], axis=source[1],
                                  names=[f"{hint(v)}_n{axis}"])
                    recompute.append(b.ops.pop())
                else:
                    (d,) = b.emit("shape", [v], axis=axis, names=[f"{hint(v)}_n{axis}"])
                    shape_ops.append(b.ops.pop())
                    taped.append(d)
                dims.append(d)
            ops = _use_dims(ops, v, dims)
        else:
            taped.append(v)
    taped.extend(v for log in undo for v in log.saved)
    _recompute_from_next_versions(taped, recompute, producers, params, body, index, cheap)
    # A carried value's next version is its parameter one iteration later: when both are
    # needed, tape the parameter once more after the loop and read the next version there.
    shifted: dict[Value, int] = {}
    for j, p in enumerate(params):
        y = body.yields[j]
        if p in taped and y in taped and y is not p and y in producers:
            taped.remove(y)
            shifted[y] = j
    reverse_body = Block((slot, *carry_params, *outer_params), tuple(ops),
                         (*next_carry, *next_outer))
    fixed = _fixed_shapes(adj, op, taped) if op.name == "for" else {}
    return LoopPlan(taped, recompute, carried, outer, reverse_body, shape_ops=shape_ops,
                    undo=undo, shifted=shifted, fixed=fixed)


def _tape_width(v: Value, fixed: dict[Value, object]) -> int:
    """Values a tape takes: one array, or a growable array tape's buffer and index."""
    return 1 if v.type.ndim == 0 or v in fixed else 2


def _fixed_shapes(adj, op: Op, taped: list[Value]) -> dict[Value, tuple[int | tuple[Value, int], ...]]:
    """The taped arrays whose every dimension is a known length or a dimension of a
    function parameter or of one of the loop's initial values (symbolic shapes: equal
    symbols are equal lengths), with where to read each dimension before the loop."""
    sources: dict[object, tuple[Value, int]] = dict(adj.dim_source)
    for init in loop_parts(op)[0]:
        for axis, d in enumerate(adj.shapes.of(init)):
            sources.setdefault(d, (init, axis))
    out: dict[Value, tuple[int | tuple[Value, int], ...]] = {}
    for v in taped:
        if v.type.ndim == 0:
            continue
        dims = adj.shapes.of(v)
        if all(isinstance(d, int) or d in sources for d in dims):
            out[v] = tuple(d if isinstance(d, int) else sources[d] for d in dims)
    return out


def _undo_logs(b: Builder, params: tuple[Value, ...], body: Block, producers: dict[Value, Op],
               needed: list[Value]) -> list[UndoLog]:
    """The carried arrays to rebuild in the reverse loop from undo logs.

    A carried array whose body only writes elements (``out[i] = v``, also inside
    ``if`` branches: a chain of setitem and if ops from the parameter to the
    yield) and whose earlier versions the adjoint reads is not taped whole each
    iteration: the forward loop saves the part each write overwrites, and the
    reverse loop carries the final array back, undoing one iteration's writes per
    reverse iteration. Memory is O(number of writes). A top-level write saves
    right before itself; the writes inside an ``if`` save, right before the if,
    from the array as the if receives it, under the if's own condition (so an
    index valid only in its branch is never read). Returns the logs with their
    save ops, to be inserted before the body ops they precede.
    """
    out = []
    wanted = set(needed)
    position = {o: k for k, o in enumerate(body.ops)}
    for j, p in enumerate(params):
        if p.type.ndim == 0:
            continue
        found = _chain(body.yields[j], producers, set(producers))
        if found is None or found[1] is not p or not found[0]:
            continue
        steps = found[0]
        chain = {p} | {v for step in steps for v in _versions(step)}
        body_arrays = {v for v in (*params, *producers) if v.type.ndim}
        if not chain & wanted or not _recomputable(steps, body_arrays):
            continue
        saves: dict[int, list[Op]] = {}
        saved: list[Value] = []
        for step in steps:
            with b.region() as ops, b.at(step.op.loc if isinstance(step, IfStep)
                                         else step.write.loc):
                if isinstance(step, WriteStep):
                    w = step.write
                    step.save = b.op("getitem", w.args[0], *w.args[2:], spec=w.attr("spec"),
                                     name_hint=f"{hint(p)}_old")
                else:
                    _guarded_saves(b, step, step.start, {}, hint(p))
            pos = position[step.write if isinstance(step, WriteStep) else step.op]
            saves[pos] = list(ops)
            saved.extend(w.save for w in _writes([step]) if w.save not in saved)  # type: ignore[misc]
        out.append(UndoLog(j, steps, saves, saved))
    return out


def _chain(v: Value, producers: dict[Value, Op],
           local: set[Value]) -> tuple[list[Step], Value] | None:
    """The steps that made array version ``v`` from a version defined outside
    ``local`` (the values of the block and of the branches around it), and that
    version; None when something other than element writes and ifs made it."""
    steps: list[Step] = []
    while v in local:
        op = producers[v]
        if op.name == "setitem":
            steps.append(WriteStep(op, []))
            v = op.args[0]
        elif op.name == "if":
            r = op.results.index(v)
            arms, start = [], None
            for region in op.regions:
                inner = {x: o for o in region.ops for x in o.results}
                found = _chain(region.yields[r], {**producers, **inner}, set(inner))
                if found is None or (start is not None and found[1] is not start):
                    return None
                arms.append(found[0])
                start = found[1]
            assert start is not None
            steps.append(IfStep(op, r, start, arms, []))
            v = start
        else:
            return None
    steps.reverse()
    return steps, v


def _versions(step: Step) -> list[Value]:
    """The top-level array versions a step reads and makes."""
    if isinstance(step, WriteStep):
        return [step.write.args[0], step.write.result]
    return [step.start, step.op.results[step.result]]


def _writes(steps: list[Step]) -> list[WriteStep]:
    out: list[WriteStep] = []
    for step in steps:
        if isinstance(step, WriteStep):
            out.append(step)
        else:
            for arm in step.arms:
                out.extend(_writes(arm))
    return out


def _recomputable(steps: list[Step], chain: set[Value]) -> bool:
    """Fill in the ops each write inside a branch needs to recompute its index (and
    each nested if its condition) from values outside the top-level if: pure scalar
    ops without regions, reading no array of the loop body (``chain``: such an array
    may change between the if and the write, and it changes across iterations). False
    when impossible."""
    for step in steps:
        if isinstance(step, IfStep):
            defined: dict[Value, Op] = {}
            if not _fill(step, defined, chain):
                return False
    return True


def _fill(step: IfStep, defined: dict[Value, Op], chain: set[Value]) -> bool:
    for arm, region in zip(step.arms, step.op.regions, strict=True):
        inner = {**defined, **{x: o for o in region.ops for x in o.results}}
        for sub in arm:
            wanted = sub.write.args[2:] if isinstance(sub, WriteStep) else sub.op.args[:1]
            ops: list[Op] = []
            for v in wanted:
                if not _scalar_ops(v, inner, chain, ops):
                    return False
            if isinstance(sub, WriteStep):
                sub.index_ops = ops
            else:
                sub.cond_ops = ops
                if not _fill(sub, inner, chain):
                    return False
    return True


def _scalar_ops(v: Value, inner: dict[Value, Op], chain: set[Value], out: list[Op]) -> bool:
    if v in chain:
        return False
    op = inner.get(v)
    if op is None:
        return True  # defined outside the if, and not an array of the loop body
    if op in out:
        return True
    if op.regions or not lookup(op.name).pure or v.type.ndim != 0:
        return False
    for a in op.args:
        if not _scalar_ops(a, inner, chain, out):
            return False
    out.append(op)
    return True


def _step_inputs(steps: list[Step]) -> list[Value]:
    """Values of the body the reverse rebuild reads: top-level write indices, if
    conditions, and what the branch writes' recomputed indices read."""
    out: list[Value] = []
    for step in steps:
        if isinstance(step, WriteStep):
            out.extend(step.write.args[2:])
        else:
            out.append(step.op.args[0])
            out.extend(_free_inputs(step))
    return out


def _free_inputs(step: IfStep) -> list[Value]:
    made: set[Value] = set()
    reads: list[Value] = []
    stack: list[Step] = [step]
    while stack:
        s = stack.pop()
        if isinstance(s, WriteStep):
            ops, wanted = s.index_ops, list(s.write.args[2:])
        else:
            ops, wanted = s.cond_ops, list(s.op.args[:1])
            for arm in s.arms:
                stack.extend(arm)
        for o in ops:
            made.update(o.results)
            reads.extend(o.args)
        reads.extend(wanted)
    return [v for v in dict.fromkeys(reads) if v not in made]


def _guarded_saves(b: Builder, step: IfStep, version: Value, subst: dict[Value, Value],
                   name: str) -> None:
    """Emit an if on ``step``'s condition whose branches read, from ``version``, the
    parts their writes will overwrite (a placeholder for the other branch's writes);
    sets each write's ``save``."""
    writes = _writes([step])
    arms_ops: list[list[Op]] = []
    arms_got: list[dict[WriteStep, Value]] = []
    for arm in step.arms:
        got: dict[WriteStep, Value] = {}
        with b.region() as ops:
            _arm_saves(b, arm, version, dict(subst), got, name)
        arms_ops.append(ops)
        arms_got.append(got)
    # The branches exclude each other: their saves share slots, one per type and rank.
    slot_of: dict[WriteStep, tuple] = {}
    slots: list[tuple] = []
    for got in arms_got:
        rank: dict = {}
        for w in writes:
            if w in got:
                t = got[w].type
                slot_of[w] = (t, rank.get(t, 0))
                rank[t] = rank.get(t, 0) + 1
                if slot_of[w] not in slots:
                    slots.append(slot_of[w])
    regions = []
    for ops, got in zip(arms_ops, arms_got, strict=True):
        filled = {slot_of[w]: v for w, v in got.items()}
        with b.region(ops):
            ys = [filled[slot] if slot in filled else _placeholder(b, slot[0]) for slot in slots]
        regions.append(Block((), tuple(ops), tuple(ys)))
    cond = subst.get(step.op.args[0], step.op.args[0])
    results = b.emit("if", [cond], regions=tuple(regions),
                     result_types=tuple(slot[0] for slot in slots),
                     names=[f"{name}_old"] * len(slots))
    for w in writes:
        w.save = results[slots.index(slot_of[w])]


def _arm_saves(b: Builder, steps: list[Step], version: Value, local: dict[Value, Value],
               got: dict[WriteStep, Value], name: str) -> None:
    for step in steps:
        if isinstance(step, WriteStep):
            for o in step.index_ops:
                b.append(clone_op(o, local))
            w = step.write
            got[step] = b.op("getitem", version, *[local.get(a, a) for a in w.args[2:]],
                             spec=w.attr("spec"), name_hint=f"{name}_old")
        else:
            for o in step.cond_ops:
                b.append(clone_op(o, local))
            _guarded_saves(b, step, version, local, name)
            for w in _writes([step]):
                assert w.save is not None
                got[w] = w.save


def _placeholder(b: Builder, t) -> Value:
    if t.ndim == 0:
        return b.const(0, t)
    return b.op("zeros", *[b.const(0)] * t.ndim, dtype=t.dtype)


def _shape_only(v: Value, ops: list[Op]) -> bool:
    """True when ``ops`` read ``v`` only for its shape."""
    for op in ops:
        for region in op.regions:
            if v in free_values(region):
                return False
        for k, a in enumerate(op.args):
            if a is v and not ((op.name == "unbroadcast" and k == 1) or op.name == "zeros_like"
                               or (op.name == "broadcast_like" and k == 1
                                   and op.args[0].type.ndim == 0)):
                return False
    return True


def _use_dims(ops: list[Op], v: Value, dims: list[Value]) -> list[Op]:
    """Rewrite the shape reads of ``v`` in ``ops`` to read the integers ``dims``."""
    out = []
    for op in ops:
        if v in op.args:
            if op.name == "unbroadcast":
                op = Op("unbroadcast_to", (op.args[0], *dims), op.results, (), (), op.loc)
            elif op.name == "broadcast_like":
                op = Op("full", (*dims, op.args[0]), op.results, (("dtype", "f64"),), (), op.loc)
            elif op.name == "zeros_like":
                op = Op("zeros", tuple(dims), op.results,
                        (("dtype", op.attr("dtype") or v.type.dtype),), (), op.loc)
            record(op)
        out.append(op)
    return out


def _defined_in(op: Op) -> set[Value]:
    out: set[Value] = set()
    for region in op.regions:
        out.update(region.params)
        for inner in region.walk():
            out.update(inner.results)
            for r in inner.regions:
                out.update(r.params)
    return out


def _reads(ops: list[Op], extra: list[Value]) -> list[Value]:
    seen: dict[Value, None] = {}
    for op in ops:
        for v in op.args:
            seen.setdefault(v, None)
        for region in op.regions:
            for v in free_values(region):
                seen.setdefault(v, None)
    for v in extra:
        seen.setdefault(v, None)
    return list(seen)


def _cheap(v: Value, producers: dict[Value, Op], params: set[Value], index: Value | None,
           memo: dict[Value, bool]) -> bool:
    """True when ``v`` can be recomputed in the reverse body from the iteration index
    and loop-invariant values by scalar arithmetic and views (no carried value)."""
    if v in memo:
        return memo[v]
    if v is index:
        return True
    if v in params:
        return False
    op = producers.get(v)
    if op is None:
        return True  # defined outside the loop
    ok = not op.regions and lookup(op.name).pure and op.name not in ("tape_push",) and (
        v.type.ndim == 0 or lookup(op.name).view) and all(
            _cheap(a, producers, params, index, memo) for a in op.args)
    memo[v] = ok
    return ok


def _recompute_from_next_versions(taped: list[Value], recompute: list[Op],
                                  producers: dict[Value, Op], params: tuple[Value, ...],
                                  body: Block, index: Value | None,
                                  memo: dict[Value, bool]) -> None:
    """Recompute, rather than tape, a scalar made by one pure op from the next version
    of taped carried scalars and from cheap values (``x_next - target[t]``).

    A carried value whose parameter is taped can be read one slot later on that same
    tape (`LoopPlan.shifted`), so such a scalar costs no tape of its own: its op is
    replayed in the reverse body on the shifted read. Updates ``taped`` (the scalar
    leaves it, the next versions join it, to be shifted) and ``recompute``.
    """
    next_of = {y: p for p, y in zip(params, body.yields, strict=True)
               if y in producers and y.type.ndim == 0 and p in taped}
    for v in list(taped):
        op = producers.get(v)
        if v.type.ndim or op is None or op.regions or not lookup(op.name).pure \
                or len(op.results) != 1 or not any(a in next_of for a in op.args):
            continue
        if not all(a in next_of or _cheap(a, producers, set(params), index, memo)
                   for a in op.args):
            continue
        taped.remove(v)
        for a in op.args:
            if a in next_of:
                if a not in taped:
                    taped.append(a)
            else:
                _collect(a, producers, index, recompute, set())
        recompute.append(op)


def _collect(v: Value, producers: dict[Value, Op], index: Value | None, out: list[Op],
             seen: set[Value]) -> None:
    op = producers.get(v)
    if op is None or v is index or op in out:
        return
    for a in op.args:
        _collect(a, producers, index, out, seen)
    if op not in out:
        out.append(op)


def trip_count(b: Builder, start: Value, stop: Value, step: Value) -> Value:
    """``len(range(start, stop, step))`` as IR."""
    c = const_value(step)
    if not isinstance(c, int):
        # A step known only at run time may be zero: range() raises then, and so does this.
        return b.op("range_length", start, stop, step, name_hint="trip")
    distance = b.sub(stop, start)
    if c == 1:
        span = distance
    else:
        span = b.op("floordiv", b.add(distance, b.const(c - (1 if c > 0 else -1))), step)
    return b.op("maximum", span, b.const(0), name_hint="trip")


def slot_of(b: Builder, index: Value, start: Value, step: Value) -> Value:
    """The iteration number of index ``i`` of ``range(start, ..., step)``."""
    offset = b.sub(index, start)
    return offset if const_value(step) == 1 else b.op("floordiv", offset, step)


def emit_taping_loop(b: Builder, op: Op, plan: LoopPlan, *, reuse: bool) -> tuple[Value, ...]:
    """Emit ``op`` extended with tapes for ``plan.taped``; returns the loop's results.

    With ``reuse`` the new op defines the original op's results and body values
    (it replaces the op); otherwise it is a fresh copy (a recomputation).
    """
    inits, params, body = loop_parts(op)
    mapping: dict[Value, Value] = {}
    if not reuse:
        cloned = clone_op(op, mapping)
        inits, params, body = loop_parts(cloned)
        results = cloned.results
    else:
        results = op.results
    extra_ops = [clone_op(o, mapping) if not reuse else o for o in plan.shape_ops]
    # The overwritten parts are saved right before their writes.
    save_before: dict[int, list[Op]] = {}
    for log in plan.undo:
        for k, save_ops in log.saves.items():
            save_before.setdefault(k, []).extend(
                [clone_op(o, mapping) for o in save_ops] if not reuse else save_ops)
    taped = [mapping.get(v, v) for v in plan.taped]
    if op.name == "for":
        start, stop, step = op.args[:3]
        trip = trip_count(b, start, stop, step)
        capacity = trip
    else:
        trip = None
        capacity = b.const(16)
    tape_inits: list[Value] = []
    shifted_params = {params[j] for j in plan.shifted.values()}
    fixed = {mapping.get(v, v): dims for v, dims in plan.fixed.items()}
    for v in taped:
        # A shifted parameter's tape takes one more slot after the loop: its final value.
        slots = b.add(capacity, b.const(1)) if v in shifted_params and trip is not None \
            else capacity
        if v.type.ndim == 0:
            tape_inits.append(b.op("empty", slots, dtype=v.type.dtype, name_hint=f"{hint(v)}_tape"))
        elif v in fixed:
            lengths = [b.const(d) if isinstance(d, int) else
                       b.op("shape", d[0], axis=d[1], name_hint="n") for d in fixed[v]]
            tape_inits.append(b.op("empty", slots, *lengths, dtype=v.type.dtype,
                                   name_hint=f"{hint(v)}_tape"))
        else:
            tape_inits.append(b.op("empty", b.const(0), dtype=v.type.dtype,
                                   name_hint=f"{hint(v)}_tape"))
            tape_inits.append(b.op("empty", slots, b.const(v.type.ndim + 1), dtype="i64",
                                   name_hint=f"{hint(v)}_index"))
    tape_params = [Value(t.type, hint(t)) for t in tape_inits]
    tape_of: dict[Value, list[Value]] = {}
    k = 0
    for v in taped:
        width = _tape_width(v, fixed)
        tape_of[v] = tape_params[k:k + width]
        k += width
    pushed: dict[Value, tuple[Value, ...]] = {}

    def push(v: Value) -> None:
        tape = tape_of[v]
        if v in fixed or (v.type.ndim == 0 and op.name == "for"):
            # A for loop's scalar and fixed-shape tapes have one slot (row) per
            # iteration: a plain store.
            pushed[v] = (b.op("setitem", tape[0], v, slot, spec=("i",)),)
        elif v.type.ndim == 0:
            pushed[v] = (b.op("tape_push", tape[0], slot, v),)
        else:
            pushed[v] = b.emit("tape_push_array", [tape[0], tape[1], slot, v])

    with b.region() as ops:
        if op.name == "for":
            slot = slot_of(b, body.params[0], op.args[0], op.args[2])
            counter = None
        else:
            counter = Value(I64, "count")
            slot = counter
        # An array is copied onto its tape as soon as it exists: later writes of the
        # body may update it in place.
        for v in body.params:
            if v in tape_of and v.type.ndim:
                push(v)
        for k, body_op in enumerate(body.ops):
            for save_op in save_before.get(k, ()):
                b.append(save_op)
                for v in save_op.results:
                    if v in tape_of:
                        push(v)
            b.append(body_op)
            for v in body_op.results:
                if v in tape_of and v.type.ndim:
                    push(v)
        ops.extend(extra_ops)
        for v in taped:
            if v not in pushed:
                push(v)
        pushed_tapes = [t for v in taped for t in pushed[v]]
        next_count = b.add(counter, b.const(1)) if counter is not None else None
    new_params = (*body.params, *tape_params, *([counter] if counter is not None else []))
    new_yields = (*body.yields, *pushed_tapes, *([next_count] if next_count is not None else []))
    new_body = Block(new_params, tuple(ops), new_yields)
    extra_init = [*tape_inits, *([b.const(0)] if counter is not None else [])]
    if op.name == "for":
        args = (*op.args[:3], *inits, *extra_init)
        regions: tuple[Block, ...] = (new_body,)
    else:
        cond = (cloned if not reuse else op).regions[0]
        cond_params = (*cond.params, *[Value(p.type, hint(p)) for p in tape_params],
                       *([Value(I64, "count")] if counter is not None else []))
        args = (*inits, *extra_init)
        regions = (Block(cond_params, cond.ops, cond.yields), new_body)
    extra_results = tuple(Value(v.type, hint(v)) for v in (*tape_params,
                          *([counter] if counter is not None else [])))
    new_op = Op(op.name, tuple(args), (*results, *extra_results), op.attrs, regions, op.loc)
    b.append(new_op)
    record(new_op)
    if counter is not None:
        trip = extra_results[-1]
        tapes = extra_results[:-1]
    else:
        tapes = extra_results
    # The parameters of shifted yields get one more slot: the loop's final value.
    tapes_list = list(tapes)
    k = 0
    for v in plan.taped:
        width = _tape_width(v, plan.fixed)
        j = next((j for j in plan.shifted.values() if params[j] is mapping.get(v, v)), None)
        if j is not None:
            assert trip is not None
            if v in plan.fixed:
                tapes_list[k] = b.op("setitem", tapes_list[k], results[j], trip, spec=("i",))
            elif width == 1:
                tapes_list[k] = (b.op("setitem", tapes_list[k], results[j], trip, spec=("i",))
                                 if op.name == "for" else
                                 b.op("tape_push", tapes_list[k], trip, results[j]))
            else:
                tapes_list[k:k + 2] = b.emit("tape_push_array",
                                             [tapes_list[k], tapes_list[k + 1], trip, results[j]])
        k += width
    plan.trip = trip
    plan.tapes = tuple(tapes_list)
    plan.mapping = mapping
    return results


def emit_reverse_loop(adj, op: Op, plan: LoopPlan, gs: tuple[Value | None, ...],
                      results: tuple[Value, ...]) -> None:
    """The reverse loop of ``op`` after its taping forward run; accumulates the adjoints
    of the loop's initial values and of the loop-invariant values its body reads."""
    b: Builder = adj.b
    inits, params, body = loop_parts(op)
    assert plan.trip is not None
    rb = plan.reverse_body
    slot = rb.params[0]
    # Reverse body: recompute cheap values, load taped ones, then the adjoint ops.
    subst: dict[Value, Value] = {}
    with b.region() as ops:
        if op.name == "for":
            start, _, step = op.args[:3]
            subst[body.params[0]] = b.add(start, b.mul(slot, step)) if const_value(step) != 1 \
                else b.add(start, slot)
        k = 0
        following = b.add(slot, b.const(1)) if plan.shifted else None
        for v in plan.taped:
            later = [y for y, j in plan.shifted.items() if params[j] is v]
            if v.type.ndim == 0 or v in plan.fixed:
                subst[v] = b.op("getitem", plan.tapes[k], slot, spec=("i",),
                                name_hint=hint(v))
                for y in later:
                    subst[y] = b.op("getitem", plan.tapes[k], following, spec=("i",),
                                    name_hint=hint(y))
                k += 1
            else:
                subst[v] = b.op("tape_get_array", plan.tapes[k], plan.tapes[k + 1], slot,
                                ndim=v.type.ndim, name_hint=hint(v))
                for y in later:
                    subst[y] = b.op("tape_get_array", plan.tapes[k], plan.tapes[k + 1],
                                    following, ndim=v.type.ndim, name_hint=hint(y))
                k += 2
        for rop in plan.recompute:
            b.append(clone_op(rop, subst))
        # Undo logs: step each rebuilt array back to its version at the iteration's start.
        rebuilt_params, rebuilt_next = [], []
        for log in plan.undo:
            p = params[log.carried]
            current = Value(p.type, f"{hint(p)}_rebuilt")
            rebuilt_params.append(current)
            rebuilt_next.append(_undo(b, log.steps, current, subst, True, f"{hint(p)}_rebuilt"))
        for rop in rb.ops:
            b.append(clone_op(rop, subst))
    yields = tuple(subst.get(y, y) for y in rb.yields)
    block = Block((*rb.params, *rebuilt_params), tuple(ops), (*yields, *rebuilt_next))
    carry_inits = []
    for j in plan.carried:
        g = gs[j]
        if g is None:
            g = b.scalar(0.0) if params[j].type.ndim == 0 else b.op(
                "zeros_like", results[j], dtype="f64")
        carry_inits.append(g)
    outer_inits = [adj.bars.get(u) or adj.zero(u) for u in plan.outer]
    last = b.sub(plan.trip, b.const(1))
    minus_one = b.const(-1)
    names = [f"{hint(params[j])}_bar" for j in plan.carried] + [f"{hint(u)}_bar"
                                                                for u in plan.outer]
    rebuilt_inits = [results[log.carried] for log in plan.undo]
    names += [f"{hint(params[log.carried])}_rebuilt" for log in plan.undo]
    batched: list[int] = []
    row_inits: list[Value] = []
    if op.name == "for":
        block, batched = _batch_outer_sums(block, len(plan.carried), len(plan.outer))
        for i in batched:
            bar = outer_inits[i]
            for axis, side in ((0, "rows"), (1, "cols")):
                n = b.op("shape", bar, axis=axis)
                row_inits.append(b.op("empty", plan.trip, n, dtype="f64",
                                      name_hint=f"{hint(plan.outer[i])}_bar_{side}"))
                names.append(f"{hint(plan.outer[i])}_bar_{side}")
    out = b.emit("for", [last, minus_one, minus_one, *carry_inits, *outer_inits, *rebuilt_inits,
                         *row_inits],
                 regions=(block,), names=names)
    carry_out = out[:len(plan.carried)]
    outer_out = list(out[len(plan.carried):len(plan.carried) + len(plan.outer)])
    rows_out = out[len(out) - len(row_inits):]
    for k, i in enumerate(batched):
        left, right = rows_out[2 * k], rows_out[2 * k + 1]
        with b.at(op.loc):
            total = b.op("matmul", b.op("transpose", left, axes=(1, 0)), right)
            # (the accumulator went through the loop unchanged: zeros, when it started so)
            outer_out[i] = total if adj.bars.get(plan.outer[i]) is None else \
                b.op("add", outer_out[i], total, name_hint=f"{hint(plan.outer[i])}_bar")
    for u, v in zip(plan.outer, outer_out, strict=True):
        adj.bars[u] = v
    for j, v in zip(plan.carried, carry_out, strict=True):
        adj.add(inits[j], v)


def _batch_outer_sums(block: Block, n_carried: int, n_outer: int) -> tuple[Block, list[int]]:
    """Turn per-iteration outer-product accumulations of a reverse ``for`` body into rows.

    A loop-invariant matrix read by a product in the loop (``W`` in ``W @ h``) gets the
    adjoint ``W_bar + outer(g, v)`` per iteration: n*m multiply-adds each time. Where the
    body's only use of the accumulator is that sum, the body instead writes ``g`` and
    ``v`` into row ``slot`` of two (trip, n) and (trip, m) arrays, carried after every
    other value, and leaves the accumulator as it is; the caller adds
    ``rows.T @ cols`` (one matrix product, the same sum) after the loop. The slots of a
    ``for`` loop's reverse run are 0..trip-1, each once, so every row is written.
    Returns the new block and the indices (among the outer values) so batched.

    The shapes agree because the outer product comes from a matrix product's rule: the
    primal ``W @ h`` ran, so ``g`` has W's rows and ``v`` its columns.
    """
    slot = block.params[0]
    producers = {r: o for o in block.ops for r in o.results}
    uses: dict[Value, int] = {}
    reads = [a for o in block.walk() for a in o.args]
    reads += [y for o in block.walk() for r in o.regions for y in r.yields]
    for v in (*reads, *block.yields):
        uses[v] = uses.get(v, 0) + 1
    drop: set[Op] = set()
    yields = list(block.yields)
    new_params: list[Value] = []
    new_yields: list[Value] = []
    new_ops: list[Op] = []
    batched: list[int] = []
    for i in range(n_outer):
        acc = block.params[1 + n_carried + i]
        total = yields[n_carried + i]
        add = producers.get(total)
        if add is None or add.name != "add" or acc.type.ndim != 2 or total.type != acc.type \
                or uses.get(acc) != 1 or uses.get(total) != 1 or acc not in add.args:
            continue
        term = add.args[1] if add.args[0] is acc else add.args[0]
        outer = producers.get(term)
        if outer is None or outer.name != "outer" or uses.get(term) != 1 \
                or any(a.type.ndim != 1 for a in outer.args):
            continue
        drop.update((add, outer))
        yields[n_carried + i] = acc
        for v, side in zip(outer.args, ("rows", "cols"), strict=True):
            rows = Value(acc.type, f"{hint(acc)}_{side}")
            write = Op("setitem", (rows, v, slot), (Value(acc.type, hint(rows)),),
                       (("spec", ("i",)),), (), add.loc)
            record(write)
            new_params.append(rows)
            new_ops.append(write)
            new_yields.append(write.result)
        batched.append(i)
    if not batched:
        return block, []
    ops = tuple(o for o in block.ops if o not in drop) + tuple(new_ops)
    return Block((*block.params, *new_params), ops, (*yields, *new_yields)), batched


def _undo(b: Builder, steps: list[Step], current: Value, subst: dict[Value, Value], top: bool,
          name: str) -> Value:
    """Undo ``steps`` (in reverse) on ``current``, the array as they left it; returns the
    array as they found it. At the top level, ``subst`` learns each version rebuilt."""
    for step in reversed(steps):
        if isinstance(step, WriteStep):
            w = step.write
            if top:
                subst[w.result] = current
            for o in step.index_ops:
                b.append(clone_op(o, subst))
            assert step.save is not None
            index = [subst.get(a, a) for a in w.args[2:]]
            with b.at(w.loc):
                current = b.op("setitem", current, subst[step.save], *index,
                               spec=w.attr("spec"), name_hint=name)
            if top:
                subst[w.args[0]] = current
            continue
        if top:
            subst[step.op.results[step.result]] = current
        for o in step.cond_ops:
            b.append(clone_op(o, subst))
        regions = []
        for arm in step.arms:
            with b.region() as ops:
                y = _undo(b, arm, current, dict(subst), False, name)
            regions.append(Block((), tuple(ops), (y,)))
        cond = step.op.args[0]
        with b.at(step.op.loc):
            (current,) = b.emit("if", [subst.get(cond, cond)], regions=tuple(regions),
                                result_types=(current.type,), names=[name])
        if top:
            subst[step.start] = current
    return current


def reverse_loop(adj, op: Op, gs: tuple[Value | None, ...]) -> None:
    """VJP rule of ``for`` and ``while``."""
    plan = adj.plans.get(op)
    if plan is None:
        plan = plan_loop(adj, op)
        if plan is None:
            return
        results = emit_taping_loop(adj.b, op, plan, reuse=False)
    else:
        results = op.results
    emit_reverse_loop(adj, op, plan, gs, results)
