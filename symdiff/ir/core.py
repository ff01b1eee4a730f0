"""The IR's data structures: values, operations, blocks (regions) and functions.

The IR is structured SSA. Every `Value` is defined exactly once, either as a
function or block parameter or as a result of an `Op`. An `Op` may own regions
(`Block`s) — the two arms of an ``if`` — whose ops can read any value defined
before the op in an enclosing block. A block ends by yielding values to its op.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from symdiff.errors import Loc
from symdiff.ir.types import Type

_ids = itertools.count()


@dataclass(frozen=True, eq=False)
class Value:
    """An SSA value. Identity is the value: two distinct objects are two values.

    ``name`` is a hint from user source (``w``) or from a transform (``w_bar``),
    empty for an unnamed temporary; printers make hints unique.
    """

    type: Type
    name: str = ""
    id: int = field(default_factory=lambda: next(_ids))

    def __repr__(self) -> str:
        return f"<{self.name}#{self.id}: {self.type}>"


_hints: weakref.WeakKeyDictionary[Value, str] = weakref.WeakKeyDictionary()


def hint(v: Value) -> str:
    """The value's display name: a later-given name (see `set_hint`), its creation hint,
    or ``tmp`` for an unnamed temporary."""
    return _hints.get(v, v.name) or "tmp"


def set_hint(v: Value, name: str) -> None:
    """Name an unnamed value (empty creation hint) once; named values keep their name."""
    if not v.name and v not in _hints:
        _hints[v] = name


@dataclass(frozen=True)
class Block:
    """A region: parameters, a sequence of ops, and the values it yields."""

    params: tuple[Value, ...]
    ops: tuple[Op, ...]
    yields: tuple[Value, ...]

    def walk(self) -> Iterator[Op]:
        """All ops in this block and nested regions, in program order."""
        for op in self.ops:
            yield op
            for region in op.regions:
                yield from region.walk()


@dataclass(frozen=True)
class Op:
    """One operation: ``results = name(args) {regions}`` with static attributes."""

    name: str
    args: tuple[Value, ...]
    results: tuple[Value, ...]
    attrs: tuple[tuple[str, Any], ...] = ()
    regions: tuple[Block, ...] = ()
    loc: Loc | None = None

    def attr(self, key: str, default: Any = None) -> Any:
        for k, v in self.attrs:
            if k == key:
                return v
        return default

    @property
    def result(self) -> Value:
        if len(self.results) != 1:
            raise ValueError(f"{self.name} has {len(self.results)} results")
        return self.results[0]


@dataclass(frozen=True)
class Function:
    """A function: named parameters, a body block whose yields are the returned values."""

    name: str
    params: tuple[Value, ...]
    body: Block
    loc: Loc | None = None

    @property
    def returns(self) -> tuple[Value, ...]:
        return self.body.yields


def free_values(block: Block) -> list[Value]:
    """Values a block reads but does not define (defined in an enclosing scope), in first-use order."""
    defined: set[Value] = set(block.params)
    seen: dict[Value, None] = {}

    def visit(b: Block) -> None:
        defined.update(b.params)
        for op in b.ops:
            for a in op.args:
                if a not in defined:
                    seen.setdefault(a, None)
            for region in op.regions:
                visit(region)
            defined.update(op.results)
        for y in b.yields:
            if y not in defined:
                seen.setdefault(y, None)

    visit(block)
    return list(seen)
