"""The op registry: one `OpDef` per primitive.

An entry states the op's arity, its type rule, how the backend emits it and its
SymPy form. Derivative rules live in `symdiff.rules`, keyed by the same name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from symdiff.ir.types import Type

if TYPE_CHECKING:
    from symdiff.backend.emit import EmitContext
    from symdiff.ir.core import Op

# (argument types, attrs) -> result types
TypeRule = Callable[[Sequence[Type], dict[str, Any]], tuple[Type, ...]]
# (context, op, argument expressions) -> a Python expression (source text)
Emitter = Callable[["EmitContext", "Op", list[str]], str]
# (sympy module, argument expressions, attrs) -> a SymPy expression
SympyForm = Callable[[Any, list[Any], dict[str, Any]], Any]
# (result types) -> for each region, the types of its parameters and of its yields
RegionTypes = Callable[[Sequence[Type]], tuple[tuple[tuple[Type, ...], tuple[Type, ...]], ...]]


@dataclass(frozen=True)
class OpDef:
    """A primitive's definition.

    ``arity`` is the exact number of arguments, or None when variadic (the type
    rule then checks). ``differentiable`` False declares that the op has no
    derivative (its results are integer/boolean or piecewise constant).
    ``elementwise`` ops broadcast their arguments like NumPy ufuncs.
    ``pure`` False marks ops that must not be removed or merged.
    ``view`` ops may return a view of (memory shared with) their first argument.
    ``region_types`` gives, for ops with regions (``if``, ``for``, ``while``), the
    parameter and yield types each region must have, from the op's result types.
    """

    name: str
    arity: int | None
    type_rule: TypeRule
    emit: Emitter
    sympy: SympyForm | None = None
    differentiable: bool = True
    elementwise: bool = False
    pure: bool = True
    view: bool = False
    region_types: RegionTypes | None = None
    doc: str = ""


REGISTRY: dict[str, OpDef] = {}


def register(opdef: OpDef) -> OpDef:
    if opdef.name in REGISTRY:
        raise ValueError(f"op {opdef.name!r} registered twice")
    REGISTRY[opdef.name] = opdef
    return opdef


def lookup(name: str) -> OpDef:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown op {name!r}") from None
