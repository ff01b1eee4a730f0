"""Formatting and docs-section writing shared by the benchmark harnesses (run.py, compare.py)."""

from __future__ import annotations

from pathlib import Path


def fmt_time(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.3g} µs"
    if s < 1.0:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "-"
    return f"{r:.2f}x" if r < 100 else f"{r:.0f}x"


def error_text(e: BaseException, max_lines: int = 25) -> str:
    """An exception as a few lines of text (type, message), cut after ``max_lines``."""
    lines = f"{type(e).__name__}: {e}".strip().splitlines()
    return "\n".join(lines[:max_lines]) + ("\n..." if len(lines) > max_lines else "")


def replace_section(path: Path, begin: str, end: str, section: str, heading: str) -> None:
    """Write ``section`` between the ``begin`` and ``end`` markers of ``path``; where the
    markers are missing, append them under ``## heading``."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if begin not in text or end not in text:
        text = text.rstrip("\n") + f"\n\n## {heading}\n\n{begin}\n{end}\n"
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{head}{begin}\n{section}\n{end}{tail}")
