"""Expression swell: the size of SymPy's derivative beside the size of symdiff's adjoint."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import sympy as sp

from symdiff.pipeline import Transform, build
from symdiff.signature import parameter_names
from symdiff.symbolic.core import _prepare, _unwrap, derivative, run_numeric, to_sympy
from symdiff.transforms.simplify import count_ops


@dataclass(frozen=True)
class SwellReport:
    """Sizes of one function's derivative, derived symbolically and by symdiff.

    Op counts of symdiff's IR (``primal_ops``, ``ad_ops``) count every op once,
    ops inside ``if``/``for``/``while`` regions included and constants excluded,
    in the simplified IR that ``show_ir(stage="ir")`` and ``stage="grad"`` print:
    the size of the code. ``primal_ops_run`` and ``ad_ops_run`` count the ops that
    code executes for the example arguments (a loop body once per iteration).
    SymPy counts are ``sympy.count_ops`` (operations in the expression tree, a
    shared subexpression counted each time it occurs): ``primal_sympy_ops`` of
    the function's expression, ``symbolic_ops`` of the raw derivatives (one per
    symbol of the argnums; summed), ``symbolic_cse_ops`` of the same after
    ``sympy.cse`` (the replacements plus the reduced expressions).
    """

    function: str
    args: str                    # the example arguments, as text
    wrt: str                     # the parameters differentiated
    primal_ops: int
    ad_ops: int
    primal_ops_run: int
    ad_ops_run: int
    primal_sympy_ops: int
    symbolic_ops: int
    symbolic_cse_ops: int
    ad_seconds: float            # lowering, reverse mode and simplification (symdiff)
    to_sympy_seconds: float      # lowering and interpreting the IR into SymPy
    symbolic_seconds: float      # sympy.diff
    cse_seconds: float           # sympy.cse of the derivative

    ROWS = (
        ("symdiff primal IR", "primal_ops", None),
        ("  ops executed", "primal_ops_run", None),
        ("symdiff adjoint IR", "ad_ops", "ad_seconds"),
        ("  ops executed", "ad_ops_run", None),
        ("SymPy expression", "primal_sympy_ops", "to_sympy_seconds"),
        ("SymPy derivative (diff)", "symbolic_ops", "symbolic_seconds"),
        ("  after sympy.cse", "symbolic_cse_ops", "cse_seconds"),
    )

    def table(self) -> str:
        """The report as a Markdown table: what, ops, seconds."""
        head = f"swell of {self.function}({self.args}), derivative with respect to {self.wrt}"
        rows = [(label, str(getattr(self, count)),
                 f"{getattr(self, secs):.3f}" if secs else "")
                for label, count, secs in self.ROWS]
        return head + "\n\n" + markdown_table(("", "ops", "seconds"), rows)

    def __str__(self) -> str:
        return self.table()

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


COLUMNS = ("primal_ops", "ad_ops", "ad_ops_run", "primal_sympy_ops", "symbolic_ops",
           "symbolic_cse_ops", "symbolic_seconds", "ad_seconds")


def swell_table(reports: Sequence[SwellReport], label: str = "",
                labels: Sequence[Any] | None = None,
                columns: Sequence[str] = COLUMNS) -> str:
    """Several reports as one Markdown table, one row each (``labels`` name the rows,
    e.g. the value of n; ``label`` heads that column)."""
    if labels is None:
        labels = [r.args for r in reports]
    rows = []
    for name, r in zip(labels, reports, strict=True):
        cells = [str(name)]
        for c in columns:
            v = getattr(r, c)
            cells.append(f"{v:.3f}" if isinstance(v, float) else str(v))
        rows.append(cells)
    return markdown_table((label or "args", *columns), rows)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        out = []
        for k, (c, w) in enumerate(zip(cells, widths, strict=True)):
            out.append(str(c).ljust(w) if k == 0 else str(c).rjust(w))
        return "| " + " | ".join(out) + " |"
    sep = "|" + "|".join(("-" * (w + 2)) if k == 0 else ("-" * (w + 1) + ":")
                         for k, w in enumerate(widths)) + "|"
    return "\n".join([line(header), sep, *(line(r) for r in rows)]) + "\n"


def describe_args(names: Sequence[str], values: Sequence[Any]) -> str:
    parts = []
    for n, v in zip(names, values, strict=True):
        shape = getattr(v, "shape", None)
        if shape:
            parts.append(f"{n}: {getattr(v, 'dtype', '')}[{','.join(map(str, shape))}]")
        else:
            parts.append(f"{n}={v!r}")
    return ", ".join(parts)


def swell(f: Any, *example_args: Any, argnums: int | Sequence[int] = 0) -> SwellReport:
    """Derive ``f``'s gradient both ways for these arguments and measure both.

    symdiff: the adjoint IR (``show_ir(f, "grad")``) and how many ops it executes.
    SymPy: ``to_sympy`` (integer arguments constant, loops unrolled), ``diff`` with
    respect to every symbol of the ``argnums`` parameters, then ``cse``. See
    `SwellReport` for exactly what is counted. Raises `SymbolicError` where the
    SymPy path refuses the function.
    """
    fn = _unwrap(f)
    full, kinds = _prepare(fn, example_args)
    names = parameter_names(fn)
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    t0 = time.perf_counter()
    symbolic = to_sympy(fn, *full)
    t1 = time.perf_counter()
    derivs_by_param = derivative(symbolic, nums)
    t2 = time.perf_counter()
    derivs = [d for group in derivs_by_param for d in group]
    replacements, reduced = sp.cse(derivs)
    t3 = time.perf_counter()

    transform = Transform("grad", tuple(k % len(names) for k in nums),
                          tuple_grads=not isinstance(argnums, int))
    t4 = time.perf_counter()
    adjoint = build(fn, kinds, transform).function
    t5 = time.perf_counter()

    primal = symbolic.ir
    _, primal_run = run_numeric(primal, kinds, names, full)
    _, ad_run = run_numeric(adjoint, kinds, names, full)
    return SwellReport(
        function=fn.__name__,
        args=describe_args(names, full),
        wrt=", ".join(names[k] for k in nums),
        primal_ops=count_ops(primal),
        ad_ops=count_ops(adjoint),
        primal_ops_run=primal_run,
        ad_ops_run=ad_run,
        primal_sympy_ops=int(sum(sp.count_ops(o) for o in symbolic.outputs)),
        symbolic_ops=int(sp.count_ops(derivs)),
        symbolic_cse_ops=int(sp.count_ops([v for _, v in replacements]) + sp.count_ops(reduced)),
        ad_seconds=t5 - t4,
        to_sympy_seconds=t1 - t0,
        symbolic_seconds=t2 - t1,
        cse_seconds=t3 - t2,
    )
