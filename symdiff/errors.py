"""Exception hierarchy. Every error symdiff raises derives from `SymdiffError`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Loc:
    """A position in user source: file, 1-based line, 0-based column, the line's text."""

    file: str
    line: int
    col: int
    text: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col + 1}"


class SymdiffError(Exception):
    """Base class of every error raised by symdiff."""


class UnsupportedSyntaxError(SymdiffError):
    """User code outside the supported subset, reported with its location.

    The message reads ``file:line:col: message``, then the source line, a caret
    under the offending column and, when given, a hint.
    """

    def __init__(self, message: str, loc: Loc | None = None, hint: str | None = None):
        self.loc = loc
        self.reason = message
        self.hint = hint
        super().__init__(self._format())

    def _format(self) -> str:
        if self.loc is None:
            text = self.reason
        else:
            text = f"{self.loc}: {self.reason}"
            if self.loc.text:
                stripped = self.loc.text.rstrip()
                text += f"\n    {stripped}\n    {' ' * self.loc.col}^"
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


class SignatureError(SymdiffError, TypeError):
    """Arguments that do not match what the function or transform expects."""


class CompileError(SymdiffError):
    """Generated code failed to compile; this is a bug in symdiff, reported as such."""
