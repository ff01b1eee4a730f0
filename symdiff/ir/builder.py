"""The builder: creates typed ops through the registry's type rules.

Derivative rules and the frontend build IR only through a `Builder`. Its
arithmetic helpers fold the trivial identities (``x * 1``, ``x + 0``,
``-(-x)``) on the spot, so rules can be written plainly without littering the
adjoint with dead arithmetic.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from symdiff.errors import Loc
from symdiff.ir import ops as _ops  # noqa: F401  (registers the ops)
from symdiff.ir.core import Block, Op, Value, set_hint
from symdiff.ir.registry import lookup
from symdiff.ir.types import BOOL, F64, I64, Type


class Builder:
    """Appends ops to the current block; `region()` opens a nested block."""

    def __init__(self) -> None:
        self._stack: list[list[Op]] = [[]]
        self.loc: Loc | None = None

    # -- structure -------------------------------------------------------
    @property
    def ops(self) -> list[Op]:
        return self._stack[-1]

    def append(self, op: Op) -> None:
        self._stack[-1].append(op)

    @contextmanager
    def region(self, ops: list[Op] | None = None) -> Iterator[list[Op]]:
        """Collect ops into ``ops`` (default: a fresh list), the body of a region."""
        self._stack.append(ops if ops is not None else [])
        try:
            yield self._stack[-1]
        finally:
            self._stack.pop()

    @contextmanager
    def at(self, loc: Loc | None) -> Iterator[None]:
        saved, self.loc = self.loc, loc if loc is not None else self.loc
        try:
            yield
        finally:
            self.loc = saved

    # -- generic op creation ---------------------------------------------
    def emit(self, name: str, args: Sequence[Value], *, regions: Sequence[Block] = (),
             names: Sequence[str] | None = None, **attrs: Any) -> tuple[Value, ...]:
        opdef = lookup(name)
        if opdef.arity is not None and len(args) != opdef.arity:
            raise ValueError(f"{name} takes {opdef.arity} arguments, got {len(args)}")
        types = opdef.type_rule([a.type for a in args], attrs)
        hints = names or [""] * len(types)  # "": an unnamed temporary
        results = tuple(Value(t, h) for t, h in zip(types, hints, strict=True))
        op = Op(name, tuple(args), results, tuple(sorted(attrs.items())), tuple(regions),
                self.loc)
        self.append(op)
        record(op)
        return results

    def rename(self, v: Value, hint: str) -> Value:
        """Name ``v`` ``hint`` unless it already has a name (used on assignment).

        ``z = a * b`` names the product ``z``; a value already named (a
        parameter, an earlier assignment) keeps its name. Returns ``v``.
        """
        set_hint(v, hint)
        return v

    def op(self, name: str, *args: Value, name_hint: str | None = None, **attrs: Any) -> Value:
        (v,) = self.emit(name, args, names=[name_hint] if name_hint else None, **attrs)
        return v

    # -- constants -------------------------------------------------------
    def const(self, value: float | int | bool, type: Type | None = None) -> Value:
        if type is None:
            type = BOOL if isinstance(value, bool) else I64 if isinstance(value, int) else F64
        if type.dtype == "f64":
            value = float(value)
        return self.op("const", value=value, type=type, name_hint="c")

    # -- arithmetic with local folding ---------------------------------------
    def add(self, x: Value, y: Value) -> Value:
        same = identity_operand("add", x, y)
        return same if same is not None else self.op("add", x, y)

    def sub(self, x: Value, y: Value) -> Value:
        same = identity_operand("sub", x, y)
        if same is not None:
            return same
        if is_const(x, 0) and _keeps_type(y, x, "sub"):
            return self.neg(y)
        return self.op("sub", x, y)

    def mul(self, x: Value, y: Value) -> Value:
        same = identity_operand("mul", x, y)
        if same is not None:
            return same
        if is_const(x, -1) and _keeps_type(y, x, "mul"):
            return self.neg(y)
        if is_const(y, -1) and _keeps_type(x, y, "mul"):
            return self.neg(x)
        return self.op("mul", x, y)

    def div(self, x: Value, y: Value) -> Value:
        same = identity_operand("div", x, y)
        return same if same is not None else self.op("div", x, y)

    def neg(self, x: Value) -> Value:
        c = const_value(x)
        if isinstance(c, (int, float)) and not isinstance(c, bool):
            return self.const(-c, x.type)
        producer = _definitions.get(x)
        if producer is not None and producer.name == "neg" and x.type.dtype == "f64":
            return producer.args[0]
        return self.op("neg", x)

    def to_float(self, x: Value) -> Value:
        return x if x.type.dtype == "f64" else self.op("to_float", x)

    def scalar(self, value: float) -> Value:
        return self.const(float(value), F64)


# Which op defined each value (weakly held), so folding can see through
# constants and negations wherever the value was built.
_definitions: weakref.WeakKeyDictionary[Value, Op] = weakref.WeakKeyDictionary()


def record(op: Op) -> None:
    """Remember ``op`` as the definition of its results (for ops made outside a builder)."""
    for r in op.results:
        _definitions[r] = op


def defining_op(v: Value) -> Op | None:
    return _definitions.get(v)


def const_value(v: Value) -> Any:
    op = _definitions.get(v)
    return op.attr("value") if op is not None and op.name == "const" else None


def is_const(v: Value, value: float) -> bool:
    c = const_value(v)
    return c is not None and not isinstance(c, bool) and c == value


# (unit on the left, unit on the right) of the arithmetic ops with an identity element.
_UNITS: dict[str, tuple[float | None, float]] = {
    "add": (0, 0), "sub": (None, 0), "mul": (1, 1), "div": (None, 1)}


def identity_operand(name: str, x: Value, y: Value) -> Value | None:
    """The operand ``x <name> y`` equals when the other is its unit (``x + 0``, ``1 * x``,
    ``x - 0``, ``x / 1``...), provided the result would have that operand's type."""
    left, right = _UNITS.get(name, (None, None))
    if right is not None and is_const(y, right) and _keeps_type(x, y, name):
        return x
    if left is not None and is_const(x, left) and _keeps_type(y, x, name):
        return y
    return None


def _keeps_type(x: Value, c: Value, op: str) -> bool:
    """True when ``x <op> c`` (c a scalar constant) has exactly x's type."""
    if c.type.ndim != 0:
        return False
    return lookup(op).type_rule([x.type, c.type], {})[0] == x.type

