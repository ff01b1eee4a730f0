"""Unique, readable names for the values of a function, shared by printer and backend."""

from __future__ import annotations

import keyword
import re

from symdiff.ir.core import Function, Value, hint

_RESERVED = {"np", "numba", "math", "range", "len", "float", "int", "min", "max", "abs", "not"}


def assign_names(fn: Function, reserved: set[str] | None = None) -> dict[Value, str]:
    """Map every value of ``fn`` to a distinct identifier derived from its hint.

    The first value with hint ``w`` is ``w``; later ones are ``w_1``, ``w_2``...
    Parameters are named first so they keep their user names.
    """
    taken = set(_RESERVED) | (reserved or set())
    names: dict[Value, str] = {}
    counters: dict[str, int] = {}

    def name(v: Value) -> None:
        if v in names:
            return
        base = re.sub(r"\W", "_", hint(v)) or "tmp"
        if base[0].isdigit() or keyword.iskeyword(base):
            base = "_" + base
        candidate = base
        while candidate in taken:
            counters[base] = counters.get(base, 0) + 1
            candidate = f"{base}_{counters[base]}"
        taken.add(candidate)
        names[v] = candidate

    for p in fn.params:
        name(p)

    def visit(block) -> None:
        for p in block.params:
            name(p)
        for op in block.ops:
            for region in op.regions:
                visit(region)
            for r in op.results:
                name(r)

    visit(fn.body)
    return names
