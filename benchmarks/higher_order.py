"""P8 and the Hessian benchmark: derivatives of derivatives, timed side by side.

- P8: the 6th derivative of tanh on 200 points by nested ``sd.egrad``, beside a
  hand-written closed form (a polynomial in t = tanh(x), compiled with Numba),
  SymPy's ``diff`` + ``lambdify`` (NumPy), and autograd's nested ``egrad``.
- The Hessian of Rosenbrock, n = 100, by ``sd.hessian`` (n forward-over-reverse
  passes), beside n calls of ``sd.grad`` (the cost of one reverse pass per row).
- The generated op count of ``egrad`` nested 1..6 times on tanh, beside SymPy's
  ``count_ops`` of the derivative before and after ``cse``.

Run: ``python benchmarks/higher_order.py`` (median of interleaved rounds).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numba
import numpy as np
import sympy

import symdiff as sd
from symdiff.ir.types import Type
from symdiff.pipeline import Transform, build


def tanh(x):
    return np.tanh(x)


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


@numba.njit(cache=False)
def tanh6_closed_form(x):
    """d^6/dx^6 tanh x = 16 t (t^2 - 1)(45 t^4 - 60 t^2 + 17) with t = tanh x (SymPy's
    factored form), one pass over x."""
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        t = np.tanh(x[i])
        t2 = t * t
        out[i] = 16.0 * t * (t2 - 1.0) * ((45.0 * t2 - 60.0) * t2 + 17.0)
    return out


def _seconds(f: Callable[[], object], target: float = 0.2) -> float:
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            f()
        dt = time.perf_counter() - t
        if dt >= target:
            return dt / n
        n *= 2


def op_counts() -> list[tuple[int, int, int, int]]:
    s = sympy.Symbol("x")
    rows, t = [], None
    for order in range(1, 7):
        t = Transform("egrad", (0,), inner=t)
        fn = build(tanh, (Type("f64", 1),), t).function
        ours = sum(1 for op in fn.body.walk() if op.name != "const")
        d = sympy.diff(sympy.tanh(s), s, order)
        subs, (expr,) = sympy.cse(d)
        cse_ops = sum(sympy.count_ops(v) for _, v in subs) + sympy.count_ops(expr)
        rows.append((order, ours, int(sympy.count_ops(d)), int(cse_ops)))
    return rows


def main() -> None:
    x = np.linspace(-3.0, 3.0, 200)
    d6 = tanh
    for _ in range(6):
        d6 = sd.egrad(d6)
    s = sympy.Symbol("x")
    sym = sympy.lambdify(s, sympy.diff(sympy.tanh(s), s, 6), "numpy")
    import autograd
    import autograd.numpy as anp
    ag = lambda v: anp.tanh(v)  # noqa: E731
    for _ in range(6):
        ag = autograd.elementwise_grad(ag)
    ref = sym(x)
    for name, f in (("symdiff", d6), ("closed form", tanh6_closed_form), ("autograd", ag)):
        err = np.max(np.abs(f(x) - ref)) / np.max(np.abs(ref))
        assert err < 1e-9, (name, err)
    cands = {"symdiff egrad^6": lambda: d6(x), "hand-written closed form (Numba)":
             lambda: tanh6_closed_form(x), "SymPy diff + lambdify": lambda: sym(x),
             "autograd egrad^6": lambda: ag(x)}
    times: dict[str, list[float]] = {k: [] for k in cands}
    for _ in range(7):
        for k, f in cands.items():
            times[k].append(_seconds(f))
    base = statistics.median(times["hand-written closed form (Numba)"])
    print("P8: 6th derivative of tanh on 200 points (median of 7 interleaved rounds)")
    print("| method | time | / closed form |\n|---|---:|---:|")
    for k in cands:
        m = statistics.median(times[k])
        print(f"| {k} | {m * 1e6:.2f} µs | {m / base:.2f}x |")

    n = 100
    xr = np.random.default_rng(1).uniform(-1.5, 1.5, n)
    hess = sd.hessian(rosenbrock)
    grad = sd.grad(rosenbrock)
    hess(xr), grad(xr)
    th, tg = [], []
    for _ in range(7):
        th.append(_seconds(lambda: hess(xr)))
        tg.append(_seconds(lambda: [grad(xr) for _ in range(n)]))
    print(f"\nHessian of Rosenbrock, n={n}: sd.hessian {statistics.median(th) * 1e6:.0f} µs, "
          f"{n} x sd.grad {statistics.median(tg) * 1e6:.0f} µs "
          f"(ratio {statistics.median(th) / statistics.median(tg):.2f}x)")

    print("\nOp count of egrad nested k times on tanh (symdiff: ops of the final IR, constants "
          "excluded; SymPy: count_ops of the derivative, and after cse)")
    print("| order | symdiff ops | SymPy ops | SymPy ops after cse |\n|---:|---:|---:|---:|")
    for row in op_counts():
        print("| " + " | ".join(map(str, row)) + " |")


if __name__ == "__main__":
    main()
