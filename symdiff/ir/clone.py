"""Copying ops with fresh result values (SSA forbids defining a value twice)."""

from __future__ import annotations

from collections.abc import Iterable

from symdiff.ir.builder import Builder, record
from symdiff.ir.core import Block, Op, Value, hint, set_hint


def clone_block(block: Block, mapping: dict[Value, Value]) -> Block:
    """A copy of ``block`` with fresh values; ``mapping`` is extended old -> new."""
    params = tuple(_fresh(p, mapping) for p in block.params)
    ops = tuple(clone_op(op, mapping) for op in block.ops)
    return Block(params, ops, tuple(mapping.get(y, y) for y in block.yields))


def clone_op(op: Op, mapping: dict[Value, Value]) -> Op:
    regions = tuple(clone_block(r, mapping) for r in op.regions)
    args = tuple(mapping.get(a, a) for a in op.args)
    results = tuple(_fresh(r, mapping) for r in op.results)
    return Op(op.name, args, results, op.attrs, regions, op.loc)


def replay(b: Builder, ops: Iterable[Op], mapping: dict[Value, Value]) -> None:
    """Append copies of ``ops`` to the builder's current block, extending ``mapping``."""
    for op in ops:
        b.append(clone_op(op, mapping))
        record(b.ops[-1])


def _fresh(v: Value, mapping: dict[Value, Value]) -> Value:
    new = Value(v.type, v.name)
    if v.name == "" and hint(v) != "tmp":
        set_hint(new, hint(v))
    mapping[v] = new
    return new

