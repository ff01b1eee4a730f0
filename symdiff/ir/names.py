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
    _avoid_version_clashes(fn, names, taken)
    return names


def _avoid_version_clashes(fn: Function, names: dict[Value, str], taken: set[str]) -> None:
    """Rename loop parameters whose name is the stem of another name (``h`` beside ``h_2``).

    A loop parameter is assigned more than once in generated code, and Numba
    names its versions ``h.1``, ``h.2``... and spells them ``h_1``, ``h_2`` inside
    array expressions, where they would collide with our own ``h_2``. A parameter
    named ``h_3`` (the next free number) cannot collide: no name here is ``h_3_1``.
    """
    looped = [p for op in fn.body.walk() if op.name in ("for", "while")
              for region in op.regions for p in region.params]
    for p in looped:
        stem = names[p]
        pattern = re.compile(re.escape(stem) + r"_\d+$")
        if not any(pattern.match(n) for n in taken):
            continue
        k = 1
        while f"{stem}_{k}" in taken:
            k += 1
        names[p] = f"{stem}_{k}"
        taken.add(names[p])
