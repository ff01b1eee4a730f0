"""Stable text form of the IR (used by `show_ir` and the golden tests)."""

from __future__ import annotations

import os

from symdiff.ir.core import Block, Function, Op, Value
from symdiff.ir.indexing import format_index
from symdiff.ir.names import assign_names


def format_attr(value: object) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(format_attr(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return str(value)


def print_function(fn: Function) -> str:
    """Render ``fn``; value names come from `assign_names`, so output is deterministic."""
    names = assign_names(fn)
    main_file = fn.loc.file if fn.loc is not None else None
    params = ", ".join(f"{names[p]}: {p.type}" for p in fn.params)
    rets = ", ".join(str(v.type) for v in fn.returns)
    lines = [f"func {fn.name}({params}) -> ({rets}) {{"]
    _print_block(fn.body, names, lines, "  ", "return", main_file)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _refs(values: tuple[Value, ...], names: dict[Value, str]) -> str:
    return ", ".join(names[v] for v in values)


def _print_block(block: Block, names: dict[Value, str], lines: list[str], pad: str,
                 terminator: str, main_file: str | None) -> None:
    for op in block.ops:
        _print_op(op, names, lines, pad, main_file)
    lines.append(f"{pad}{terminator} {_refs(block.yields, names)}".rstrip())


def _print_op(op: Op, names: dict[Value, str], lines: list[str], pad: str,
              main_file: str | None) -> None:
    lhs = ", ".join(f"{names[r]}: {r.type}" for r in op.results)
    if op.name == "const":
        rhs = f"const {op.attr('value')!r}"
    elif op.name in ("getitem", "index_add", "setitem"):
        fixed = 1 if op.name == "getitem" else 2
        index = format_index(op.attr("spec"), [names[v] for v in op.args[fixed:]])
        rhs = f"{op.name}({_refs(op.args[:fixed], names)})[{index}]"
    else:
        attrs = [(k, v) for k, v in op.attrs if k not in ("result_types",)]
        attr_text = " {" + ", ".join(f"{k}={format_attr(v)}" for k, v in attrs) + "}" if attrs else ""
        rhs = f"{op.name}({_refs(op.args, names)}){attr_text}"
    loc = ""
    if op.loc is not None:
        where = f"line {op.loc.line}"
        if main_file is not None and op.loc.file != main_file:  # a helper from another file
            where = f"{os.path.basename(op.loc.file)} line {op.loc.line}"
        loc = f"  # {where}"
    if not op.regions:
        lines.append(f"{pad}{lhs} = {rhs}{loc}")
        return
    lines.append(f"{pad}{lhs} = {rhs} {{{loc}")
    for k, region in enumerate(op.regions):
        if k:
            lines.append(f"{pad}}} else {{" if op.name == "if" else f"{pad}}} {{")
        if region.params:
            lines.append(f"{pad}  ^({', '.join(f'{names[p]}: {p.type}' for p in region.params)}):")
        _print_block(region, names, lines, pad + "  ", "yield", main_file)
    lines.append(f"{pad}}}")
