"""Index specifications for ``getitem`` / ``index_add`` / ``setitem``.

An index is a tuple of entries, each consuming zero or more index operands:
``"i"`` an integer scalar (removes an axis), ``"a"`` a 1-D integer array
(advanced indexing), ``"n"`` ``None``/newaxis (inserts an axis) and
``("s", has_start, has_stop, has_step)`` a slice whose present parts are operands.
Supported advanced indexing: every ``"i"``/``"a"`` entry comes before any
slice, with at least one ``"a"`` and no newaxis; the result has the common
length of the arrays as its first axis, then the remaining axes.
"""

from __future__ import annotations

from typing import Any

IndexEntry = Any  # "i" | "a" | "n" | tuple[str, bool, bool, bool]


def operand_count(entry: IndexEntry) -> int:
    if entry in ("i", "a"):
        return 1
    if entry == "n":
        return 0
    return sum(entry[1:])


def is_advanced(spec: tuple[IndexEntry, ...]) -> bool:
    return "a" in spec


def is_full_slice(entry: IndexEntry) -> bool:
    return isinstance(entry, tuple) and not any(entry[1:])


def result_ndim(spec: tuple[IndexEntry, ...], ndim: int) -> int:
    """ndim of ``x[spec]`` for ``x`` of ``ndim`` dims; raises ValueError when unsupported."""
    consumed = sum(1 for e in spec if e != "n")
    if consumed > ndim:
        raise ValueError(f"too many indices: {consumed} for an array of {ndim} dimension(s)")
    rest = ndim - consumed
    if is_advanced(spec):
        if "n" in spec:
            raise ValueError("newaxis cannot be combined with integer-array indexing")
        seen_slice = False
        for e in spec:
            if isinstance(e, tuple):
                seen_slice = True
                if any(e[1:]):
                    raise ValueError("integer-array indexing combines only with full slices ':'")
            elif seen_slice:
                raise ValueError("integer-array indices must come before any slice")
        slices = sum(1 for e in spec if isinstance(e, tuple))
        return 1 + slices + rest
    kept = sum(1 for e in spec if isinstance(e, tuple))
    new = sum(1 for e in spec if e == "n")
    return kept + new + rest


def format_index(spec: tuple[IndexEntry, ...], operands: list[str]) -> str:
    """Python index text, e.g. ``i, 1:n:2, None``, from operand expressions."""
    parts: list[str] = []
    it = iter(operands)
    for e in spec:
        if e in ("i", "a"):
            parts.append(next(it))
        elif e == "n":
            parts.append("None")
        else:
            _, has_start, has_stop, has_step = e
            start = next(it) if has_start else ""
            stop = next(it) if has_stop else ""
            text = f"{start}:{stop}"
            if has_step:
                text += f":{next(it)}"
            parts.append(text)
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts) if parts else "()"
