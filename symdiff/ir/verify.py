"""The IR verifier: SSA discipline, scoping, arity and types.

Checks that every value is defined once, is defined before it is used (ops in
regions may read values of enclosing blocks defined earlier), every op's
arity and result types agree with its registry entry, and regions have the
parameter and yield types their op's registry entry states.
"""

from __future__ import annotations

from symdiff.errors import SymdiffError
from symdiff.ir.core import Block, Function, Op, Value
from symdiff.ir.registry import REGISTRY


class VerificationError(SymdiffError):
    """The IR broke an invariant; always a bug in a pass, never in user code."""


def verify(fn: Function) -> None:
    defined: set[Value] = set()
    for p in fn.params:
        _define(p, defined, fn.name)
    _verify_block(fn.body, [set(fn.params)], defined, fn.name)


def _define(v: Value, defined: set[Value], where: str) -> None:
    if v in defined:
        raise VerificationError(f"{where}: value {v!r} assigned twice")
    defined.add(v)


def _visible(v: Value, scopes: list[set[Value]]) -> bool:
    return any(v in s for s in scopes)


def _verify_block(block: Block, scopes: list[set[Value]], defined: set[Value], where: str) -> None:
    scope: set[Value] = set()
    scopes = [*scopes, scope]
    for p in block.params:
        if p not in defined:
            _define(p, defined, where)
        scope.add(p)
    for op in block.ops:
        _verify_op(op, scopes, defined, where)
        for r in op.results:
            _define(r, defined, where)
            scope.add(r)
    for y in block.yields:
        if not _visible(y, scopes):
            raise VerificationError(f"{where}: yield of {y!r} not defined in scope")


def _verify_op(op: Op, scopes: list[set[Value]], defined: set[Value], where: str) -> None:
    opdef = REGISTRY.get(op.name)
    if opdef is None:
        raise VerificationError(f"{where}: unknown op {op.name!r}")
    if opdef.arity is not None and len(op.args) != opdef.arity:
        raise VerificationError(f"{where}: {op.name} has {len(op.args)} args, expects {opdef.arity}")
    for a in op.args:
        if not _visible(a, scopes):
            raise VerificationError(f"{where}: {op.name} uses {a!r} before its definition")
    types = opdef.type_rule([a.type for a in op.args], dict(op.attrs))
    if tuple(types) != tuple(r.type for r in op.results):
        raise VerificationError(
            f"{where}: {op.name} results typed {[str(r.type) for r in op.results]}, "
            f"rule gives {[str(t) for t in types]}")
    if not op.regions:
        return
    if opdef.region_types is None:
        raise VerificationError(f"{where}: {op.name} may not have regions")
    expected = opdef.region_types(tuple(r.type for r in op.results))
    if len(expected) != len(op.regions):
        raise VerificationError(f"{where}: {op.name} has {len(op.regions)} regions, "
                                f"expects {len(expected)}")
    for region, (param_types, yield_types) in zip(op.regions, expected, strict=True):
        if tuple(p.type for p in region.params) != param_types:
            raise VerificationError(f"{where}: {op.name} region parameters are typed "
                                    f"{[str(p.type) for p in region.params]}")
        _verify_block(region, scopes, defined, where)
        if tuple(y.type for y in region.yields) != yield_types:
            raise VerificationError(f"{where}: {op.name} region yields do not match its results")
