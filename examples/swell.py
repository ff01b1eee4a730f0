"""Expression swell: SymPy's derivative beside symdiff's adjoint on the classic cases.

Prints one Markdown table per case (docs/symbolic.md shows them) and, with
``--plot FILE.png``, draws the logistic-map sizes for n = 1..10 (needs
matplotlib; nothing else here does)::

    python examples/swell.py
    python examples/swell.py --plot docs/swell.png
"""

from __future__ import annotations

import argparse

import numpy as np

import symdiff.symbolic as sym
from symdiff.symbolic.cases import logistic_map, mlp_stack, nested_sin_tanh, product

COLUMNS = ("ad_ops", "ad_ops_run", "primal_sympy_ops", "symbolic_ops", "symbolic_cse_ops",
           "symbolic_seconds")


def sweeps(quick: bool = False) -> dict[str, tuple[str, list, list]]:
    """Each case: (label of the size, sizes, reports)."""
    rng = np.random.default_rng(0)
    top = 4 if quick else 10
    out = {}
    ns = list(range(1, top + 1))
    out["logistic map l = 4 l (1 - l), d l_n / dx"] = (
        "n", ns, [sym.swell(logistic_map, 0.3, n) for n in ns])
    out["nested sin/tanh, n rounds"] = (
        "n", ns, [sym.swell(nested_sin_tanh, 0.3, n) for n in ns])
    sizes = [2, 4, 8] if quick else [2, 4, 8, 16, 32, 64]
    out["product of n terms, gradient (n entries)"] = (
        "n", sizes, [sym.swell(product, np.linspace(0.5, 1.5, n)) for n in sizes])
    d, layers = 3, list(range(1, 3 if quick else 6))
    out[f"stack of tanh layers (width {d}), gradient in x"] = (
        "layers", layers,
        [sym.swell(mlp_stack, rng.standard_normal(d), rng.standard_normal((L, d, d)),
                   rng.standard_normal((L, d))) for L in layers])
    return out


def plot(reports: list, ns: list, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    series = [("symbolic_ops", "SymPy: diff, count_ops", "o-"),
              ("symbolic_cse_ops", "SymPy: diff then cse", "s-"),
              ("primal_sympy_ops", "SymPy: the function itself", "^:"),
              ("ad_ops_run", "symdiff: adjoint ops executed", "d-"),
              ("ad_ops", "symdiff: adjoint IR (code size)", "x--")]
    for field, label, style in series:
        ax.semilogy(ns, [getattr(r, field) for r in reports], style, label=label)
    ax.set_xlabel("n (iterations of l = 4 l (1 - l))")
    ax.set_ylabel("operations")
    ax.set_title("Derivative of the logistic map l_n with respect to x")
    ax.set_xticks(ns)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", metavar="FILE.png", help="draw the logistic-map sizes")
    parser.add_argument("--quick", action="store_true", help="small sizes only (for the tests)")
    args = parser.parse_args(argv)
    results = sweeps(args.quick)
    for title, (label, sizes, reports) in results.items():
        print(f"### {title}\n")
        print(sym.swell_table(reports, label, sizes, COLUMNS))
    if args.plot:
        label, ns, reports = next(iter(results.values()))
        plot(reports, ns, args.plot)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
