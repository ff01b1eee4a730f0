"""Compile-time values the frontend manipulates besides IR values.

Python tuples (``x.shape``, ``return a, b``), modules, functions and ``None``
exist only while lowering: they never reach the IR.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import FunctionType, ModuleType
from typing import Any

from symdiff.ir.core import Value


@dataclass(frozen=True)
class TupleVal:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class ModuleRef:
    module: ModuleType
    kind: str  # "numpy" | "math" | "user" (a module of the user's: functions and constants)


@dataclass(frozen=True)
class FuncRef:
    """A callable known to the frontend: a user function, or a library function by name."""

    kind: str        # "user" | "numpy" | "math" | "builtin" | "method" | "dtype"
    name: str
    fn: FunctionType | None = None
    receiver: Value | None = None   # for bound array methods


@dataclass(frozen=True)
class NoneVal:
    pass


@dataclass(frozen=True)
class SliceVal:
    start: Value | None
    stop: Value | None
    step: Value | None


FVal = Value | TupleVal | ModuleRef | FuncRef | NoneVal | SliceVal
