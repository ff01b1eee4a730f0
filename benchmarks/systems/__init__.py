"""The systems that benchmarks/compare.py runs the benchmark problems on.

One module per system; each is imported only inside that system's worker
process (``compare.py --worker NAME``), so the frameworks never share a process.
A system module defines:

* ``LABEL`` -- the name used in tables;
* ``PACKAGES`` -- the importable packages it needs (the harness leaves the
  system out, with a note, when one is missing);
* ``init() -> dict`` -- import the framework, configure it (float64, one
  thread), warm it up on a trivial function so that one-time initialisation
  is not charged to the first problem, and return the versions to report;
* ``build(problem) -> Built`` -- the gradient and the primal of one problem as
  zero-argument callables on data already converted to the system's arrays;
  raise ``NotExpressible`` when the system cannot express the problem.

Modules: ``symdiff_system`` (``sd.grad`` / ``sd.jit``), ``hand_system`` (the
hand-written Numba gradients of ``handwritten.py`` and hand-written Numba
primals), ``jax_system`` (``jax.jit(jax.grad(f))``), ``torch_system`` (eager
autograd), ``autograd_system`` (HIPS ``autograd.grad``), ``fd_system``
(central differences of symdiff's compiled primal).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# name -> module, in table order
SYSTEMS: dict[str, str] = {
    "hand": "systems.hand_system",
    "symdiff": "systems.symdiff_system",
    "jax": "systems.jax_system",
    "torch": "systems.torch_system",
    "autograd": "systems.autograd_system",
    "fd": "systems.fd_system",
}


class NotExpressible(Exception):
    """The system cannot express this problem (the reason is the message)."""


@dataclass
class Built:
    """One problem on one system.

    ``grad()`` and ``primal()`` run one gradient / one loss evaluation and wait
    for the result (JAX's asynchronous dispatch is blocked on). ``to_numpy``
    turns what ``grad()`` returns into a tuple of float64 arrays, one per
    differentiated argument; ``to_float`` turns the primal's result into a float.
    ``memory()`` (optional) returns a dict describing the peak memory of one
    gradient call when the system has a way to measure it other than
    tracemalloc; ``traced`` says whether tracemalloc sees the system's
    allocations (NumPy and Numba's runtime allocate through Python's hooks;
    XLA and PyTorch do not).
    """

    grad: Callable[[], Any]
    primal: Callable[[], Any]
    to_numpy: Callable[[Any], tuple[Any, ...]]
    to_float: Callable[[Any], float] = float
    traced: bool = True
    memory: Callable[[], dict[str, Any]] | None = None
    notes: list[str] = field(default_factory=list)


def as_tuple(g: Any) -> tuple[Any, ...]:
    import numpy as np

    return tuple(np.asarray(a, dtype=np.float64) for a in (g if isinstance(g, (tuple, list)) else (g,)))
