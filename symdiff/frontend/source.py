"""Reading a user function's source and mapping AST nodes back to file positions."""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass
from types import FunctionType

from symdiff.errors import Loc, UnsupportedSyntaxError


@dataclass(frozen=True)
class FunctionSource:
    """The parsed source of one function and what is needed to locate its nodes."""

    fn: FunctionType
    file: str
    text: str            # the function's source as written (indented as in the file)
    first_line: int      # 1-based line of the first source line in the file
    indent: int          # columns removed by dedenting
    tree: ast.FunctionDef

    def loc(self, node: ast.AST) -> Loc:
        lineno = getattr(node, "lineno", 1)
        col = getattr(node, "col_offset", 0) + self.indent
        lines = self.text.splitlines()
        line_text = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
        return Loc(self.file, self.first_line + lineno - 1, col, line_text)

    def line_text(self, file_line: int) -> str:
        lines = self.text.splitlines()
        k = file_line - self.first_line
        return lines[k].strip() if 0 <= k < len(lines) else ""


def read_source(fn: object) -> FunctionSource:
    """Parse ``fn``'s source; refuse what is not a plain Python function with visible source."""
    if not isinstance(fn, FunctionType):
        raise UnsupportedSyntaxError(
            f"symdiff differentiates plain Python functions, not {type(fn).__name__} objects",
            hint="pass a function defined with 'def'")
    if fn.__name__ == "<lambda>":
        code = fn.__code__
        raise UnsupportedSyntaxError(
            "lambda functions are not supported",
            Loc(code.co_filename, code.co_firstlineno, 0, _safe_line(fn)),
            hint="define the function with 'def'")
    try:
        lines, first_line = inspect.getsourcelines(fn)
    except (OSError, TypeError) as e:
        raise UnsupportedSyntaxError(
            f"cannot read the source of {fn.__qualname__}: {e}",
            hint="define the function in a file or a notebook cell, not with exec() or the REPL") \
            from None
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    indent = _indent_removed(text, dedented)
    module = ast.parse(dedented)
    defs = [n for n in module.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if defs and isinstance(defs[0], ast.AsyncFunctionDef):
        line = first_line + defs[0].lineno - 1
        raise UnsupportedSyntaxError(
            "async functions are not supported",
            Loc(fn.__code__.co_filename, line, defs[0].col_offset + indent,
                text.splitlines()[defs[0].lineno - 1]), hint="use a plain 'def'")
    if not defs:
        raise UnsupportedSyntaxError(f"cannot find the definition of {fn.__qualname__}")
    return FunctionSource(fn, fn.__code__.co_filename, text, first_line, indent, defs[0])


def _indent_removed(text: str, dedented: str) -> int:
    for a, b in zip(text.splitlines(), dedented.splitlines(), strict=False):
        if a.strip():
            return len(a) - len(b)
    return 0


def _safe_line(fn: FunctionType) -> str:
    try:
        return inspect.getsourcelines(fn)[0][0]
    except (OSError, TypeError):
        return ""
