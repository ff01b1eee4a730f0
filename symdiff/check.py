"""Gradient checking: symdiff's gradient beside a numerical one.

``check_grad(f, *args, argnums=0, method="central")`` differentiates ``f`` with
``symdiff.value_and_grad`` and with `symdiff.numeric`, and returns a
`GradCheck` report: the largest absolute and relative differences, the worst
coordinate (argument name and index tuple) and whether the two agree within a
tolerance suited to the method. ``print(report)`` shows a small table.

Agreement is judged argument by argument, relative to the size of that
argument's gradient: with ``g`` symdiff's gradient, ``n`` the numerical one and
``scale = max(max|g|, max|n|)``, the check passes when every coordinate has
``|g_i - n_i| <= atol + rtol * scale``. The relative error reported is
``|g_i - n_i| / scale``. Default tolerances (``rtol = atol``) are about a
thousand times the error the method makes at its default step on a
well-scaled function (see `symdiff.numeric`):

===============  ==========  =====================================
method           tolerance   typical error of the method
===============  ==========  =====================================
``forward``      1e-5        ``sqrt(eps)`` ~ 1e-8
``central``      1e-7        ``eps**(2/3)`` ~ 4e-11
``richardson``   1e-9        ``eps**(4/5)`` ~ 3e-13 (2 levels)
``complex``      1e-11       a few ``eps`` ~ 1e-15
===============  ==========  =====================================

The finite-difference error also grows with ``|f| / |gradient|`` (round-off)
and with the higher derivatives of ``f`` (truncation); pass ``rtol``/``atol``
for functions where that matters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symdiff import numeric
from symdiff.api import value_and_grad
from symdiff.errors import SymdiffError

TOLERANCES = {"forward": 1e-5, "central": 1e-7, "richardson": 1e-9, "complex": 1e-11}

METHOD_NAMES = {"forward": "forward differences", "central": "central differences",
                "complex": "complex step", "richardson": "Richardson extrapolation"}


@dataclass(frozen=True)
class GradCheck:
    """The result of `check_grad`. ``print(report)`` shows the worst coordinates as a table."""

    function: str
    method: str
    names: tuple[str, ...]           # the differentiated arguments, in argnums order
    symdiff: tuple[Any, ...]         # symdiff's gradient of each (float or array)
    numeric: tuple[Any, ...]         # the numerical gradient of each
    value: float                     # f at the arguments
    rtol: float
    atol: float
    h: float | None = None           # the step given (None: numeric.default_step)
    _errors: tuple[np.ndarray, ...] = field(init=False, repr=False, compare=False)
    _scales: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        errors, scales = [], []
        for g, n in zip(self.symdiff, self.numeric, strict=True):
            g, n = np.asarray(g, dtype=np.float64), np.asarray(n, dtype=np.float64)
            errors.append(np.abs(g - n))
            scales.append(float(max(np.max(np.abs(g), initial=0.0), np.max(np.abs(n), initial=0.0))))
        object.__setattr__(self, "_errors", tuple(errors))
        object.__setattr__(self, "_scales", tuple(scales))

    # ----------------------------------------------------------------- figures

    @property
    def max_abs_error(self) -> float:
        """The largest ``|symdiff - numeric|`` over all coordinates (NaN if any is NaN)."""
        return max(_nanmax(e) for e in self._errors)

    @property
    def max_rel_error(self) -> float:
        """The largest ``|symdiff - numeric| / scale``, ``scale`` the largest entry of that
        argument's gradient (0 where both gradients are 0)."""
        return max(_nanmax(e) / s if s > 0 else _nanmax(e) for e, s in zip(self._errors,
                                                                           self._scales,
                                                                           strict=True))

    def _ratios(self, k: int) -> np.ndarray:
        """Error over tolerance, coordinate by coordinate (NaN counts as infinitely bad)."""
        r = self._errors[k] / (self.atol + self.rtol * self._scales[k])
        return np.where(np.isnan(r), np.inf, r)

    @property
    def worst(self) -> tuple[str, tuple[int, ...]]:
        """``(argument name, index tuple)`` of the coordinate furthest outside (or least
        inside) the tolerance; the index is ``()`` for a scalar argument."""
        name, idx, *_ = self.rows()[0]
        return name, idx

    @property
    def worst_argument(self) -> str:
        return self.worst[0]

    @property
    def worst_index(self) -> tuple[int, ...]:
        return self.worst[1]

    @property
    def ok(self) -> bool:
        """Every coordinate within ``atol + rtol * scale`` (NaN or inf never is)."""
        return all(bool(np.all(self._ratios(k) <= 1.0)) for k in range(len(self.names)))

    # ----------------------------------------------------------------- printing

    def rows(self) -> list[tuple[str, tuple[int, ...], float, float, float, float]]:
        """Every coordinate as ``(argument, index, symdiff, numeric, abs error, rel error)``,
        worst first."""
        out = []
        for k, name in enumerate(self.names):
            g = np.asarray(self.symdiff[k], dtype=np.float64)
            n = np.asarray(self.numeric[k], dtype=np.float64)
            ratios, scale = self._ratios(k), self._scales[k]
            for idx in np.ndindex(g.shape):
                err = float(self._errors[k][idx])
                out.append((float(ratios[idx]), name, tuple(idx), float(g[idx]), float(n[idx]),
                            err, err / scale if scale > 0 else err))
        out.sort(key=lambda row: -row[0])
        return [row[1:] for row in out]

    def table(self, max_rows: int = 8) -> str:
        """The report as text: a header, the worst ``max_rows`` coordinates, a verdict."""
        rows = self.rows()
        shown = rows[:max_rows]
        step = "default step" if self.h is None else f"h = {self.h:.3g}"
        lines = [f"{self.function} = {self.value:.10g}; gradient in {', '.join(self.names)}: "
                 f"symdiff against {METHOD_NAMES[self.method]} ({step})"]
        label = self.method
        cells = [("argument", "index", "symdiff", label, "abs error", "rel error")]
        for name, idx, g, n, err, rel in shown:
            cells.append((name, _index(idx), f"{g: .12e}", f"{n: .12e}", f"{err:.2e}",
                          f"{rel:.2e}"))
        widths = [max(len(row[c]) for row in cells) for c in range(6)]
        for row in cells:
            lines.append("  " + "  ".join(cell.ljust(w) if c < 2 else cell.rjust(w)
                                          for c, (cell, w) in enumerate(zip(row, widths,
                                                                            strict=True))).rstrip())
        if len(shown) < len(rows):
            lines.append(f"  ... and {len(rows) - len(shown)} more coordinate(s)")
        name, idx = self.worst
        verdict = "ok" if self.ok else "GRADIENTS DISAGREE"
        lines.append(f"max abs error {self.max_abs_error:.2e}, max rel error "
                     f"{self.max_rel_error:.2e} (tolerance: rtol {self.rtol:.0e}, "
                     f"atol {self.atol:.0e}); worst coordinate {name}{_index(idx, brackets=True)}: "
                     f"{verdict}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        name, idx = self.worst
        return (f"<GradCheck {self.function} vs {self.method}: max abs error "
                f"{self.max_abs_error:.2e}, max rel error {self.max_rel_error:.2e} at "
                f"{name}{_index(idx, brackets=True)}, {'ok' if self.ok else 'DISAGREE'}>")


def _nanmax(a: np.ndarray) -> float:
    if a.size == 0:
        return 0.0
    return float("nan") if np.isnan(a).any() else float(np.max(a))


def _index(idx: tuple[int, ...], brackets: bool = False) -> str:
    if brackets:
        return f"[{', '.join(map(str, idx))}]" if idx else ""
    return str(idx) if idx else "()"


def check_grad(f: Callable[..., Any], *args: Any, argnums: int | Sequence[int] = 0,
               method: str = "central", h: float | None = None, rtol: float | None = None,
               atol: float | None = None, levels: int = numeric.DEFAULT_LEVELS,
               backend: str = "numba") -> GradCheck:
    """Compare ``symdiff.grad(f, argnums)`` with a numerical gradient at ``args``.

    ``method``: ``forward``, ``central`` (default), ``complex`` or
    ``richardson`` (see `symdiff.numeric`); ``h`` and ``levels`` are passed to
    it. ``rtol`` and ``atol`` default to the method's tolerance
    (`TOLERANCES`). ``backend`` is symdiff's (``numba`` or ``python``). The
    report's ``ok`` says whether the gradients agree; ``print(report)`` shows
    the worst coordinates.
    """
    fn = getattr(f, "__wrapped_symdiff__", f)
    if method not in TOLERANCES:
        raise SymdiffError(f"unknown method {method!r}; choose one of "
                                   f"{', '.join(numeric.METHODS)}")
    value, exact = value_and_grad(fn, argnums, backend=backend)(*args)
    approx = numeric.grad(fn, argnums, method=method, h=h, levels=levels)(*args)
    nums, as_tuple = numeric.normalize_argnums(argnums, len(args))
    if not as_tuple:
        exact, approx = (exact,), (approx,)
    rtol = TOLERANCES[method] if rtol is None else float(rtol)
    return GradCheck(
        function=getattr(fn, "__name__", "f"), method=method,
        names=tuple(numeric.param_name(fn, k) for k in nums),
        symdiff=tuple(exact), numeric=tuple(approx), value=float(value),
        rtol=rtol, atol=rtol if atol is None else float(atol), h=h)
