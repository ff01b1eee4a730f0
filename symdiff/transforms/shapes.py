"""A small shape-equality analysis used to skip needless ``unbroadcast`` ops.

Two values in the same class are proven to have equal shapes at run time.
Elementwise ops whose array arguments all share a class (scalars broadcast
harmlessly) produce a value of that class; anything else starts a new class.
"""

from __future__ import annotations

from symdiff.ir.core import Block, Value
from symdiff.ir.registry import lookup

_SAME_AS_FIRST = {"copy", "zeros_like", "ones_like", "index_add"}


class ShapeClasses:
    def __init__(self) -> None:
        self._cls: dict[Value, int] = {}
        self._next = 0

    def of(self, v: Value) -> int:
        if v not in self._cls:
            self._cls[v] = self._next
            self._next += 1
        return self._cls[v]

    def same(self, a: Value, b: Value) -> bool:
        if a.type.ndim != b.type.ndim:
            return False
        return a.type.ndim == 0 or a is b or self.of(a) == self.of(b)

    def join(self, v: Value, like: Value) -> None:
        self._cls[v] = self.of(like)

    def analyze(self, block: Block) -> ShapeClasses:
        for op in block.ops:
            for region in op.regions:
                self.analyze(region)
            if len(op.results) != 1:
                continue
            r = op.result
            if op.name in _SAME_AS_FIRST:
                self.join(r, op.args[0])
            elif op.name == "broadcast_like":
                self.join(r, op.args[1])
            elif lookup(op.name).elementwise and r.type.ndim > 0:
                arrays = [a for a in op.args if a.type.ndim > 0]
                if all(a.type.ndim == r.type.ndim for a in arrays) and \
                        len({self.of(a) for a in arrays}) == 1:
                    self.join(r, arrays[0])
        return self
