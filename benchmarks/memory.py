#!/usr/bin/env python
"""Peak memory of loop gradients against the values their reverse sweep strictly needs.

    python benchmarks/memory.py

Memory is measured with ``tracemalloc`` on symdiff's NumPy backend
(``backend="python"``), which runs the same tapes and reverse loops as the
Numba backend but allocates through NumPy, and NumPy reports its allocations
to tracemalloc. For each problem and trip count T the script prints the peak
bytes allocated during one gradient call, the bytes per step, and the bytes
the reverse sweep strictly needs (the states it cannot recompute: for the
damped oscillator x_t and v_t, two floats per step).
"""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import problems  # noqa: E402

import symdiff as sd  # noqa: E402


def peak_bytes(fn, args) -> int:
    fn(*args)  # compile and warm up outside the measurement
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def recurrence(x):
    """Element writes whose earlier versions the adjoint reads (an undo log)."""
    out = np.zeros(x.shape[0])
    s = 0.0
    for i in range(x.shape[0]):
        s = s + out[i - 1] * x[i] + np.sin(s)
        out[i] = s * x[i]
    return np.sum(out * out)


def main() -> int:
    grad_osc = sd.grad(problems.oscillator, argnums=(0, 1), backend="python")
    grad_rec = sd.grad(recurrence, backend="python")
    print("| problem | T | peak bytes | bytes per step | strictly needed per step | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for T in (1000, 2000, 4000):
        k, c, x0, v0, dt, target = problems.data_oscillator()
        target = np.resize(target, T)
        peak = peak_bytes(grad_osc, (k, c, x0, v0, dt, target))
        needed = 2 * 8
        print(f"| P6 oscillator | {T} | {peak} | {peak / T:.1f} | {needed} | {peak / T / needed:.2f}x |")
    for T in (1000, 2000, 4000):
        x = np.random.default_rng(0).normal(size=T) * 0.1
        peak = peak_bytes(grad_rec, (x,))
        # s_t, the overwritten out[i], plus the output array and its adjoint (O(T) each)
        print(f"| element-write recurrence | {T} | {peak} | {peak / T:.1f} | - | - |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
