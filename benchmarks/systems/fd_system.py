"""Central finite differences: 2n evaluations of symdiff's compiled primal ``sd.jit(loss)``.

``(f(x + h e_i) - f(x - h e_i)) / (2 h)`` for every coordinate i of every
differentiated argument, with h = eps^(1/3) max(1, |x_i|) (about 6e-6), written
as a plain Python loop over the coordinates of a work copy that is perturbed in
place. The loss is the compiled primal, the fastest primal available, so these
are the best times central differences can have here; the primal column of this
system is that same ``sd.jit`` call. The harness shares symdiff's cache
directory with this worker, so the primal's compile is usually a cache hit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from systems import Built, as_tuple

LABEL = "central differences (sd.jit primal)"
PACKAGES = ("symdiff", "numba")

STEP = float(np.finfo(np.float64).eps) ** (1.0 / 3.0)


def _warm(x):
    return np.sum(x * x)


def init() -> dict[str, str]:
    import symdiff as sd

    sd.jit(_warm)(np.ones(3))
    return {"numpy": np.__version__, "symdiff": sd.__version__}


def central_differences(f: Callable[..., Any], argnums: tuple[int, ...]) -> Callable[..., Any]:
    """The gradient of ``f`` in ``argnums`` by central differences (a tuple if several)."""

    def grad(*args: Any) -> Any:
        work = list(args)
        out = []
        for a in argnums:
            x = args[a]
            if np.ndim(x) == 0:
                v = float(x)
                h = STEP * max(1.0, abs(v))
                work[a] = v + h
                fp = f(*work)
                work[a] = v - h
                fm = f(*work)
                work[a] = x
                out.append((fp - fm) / ((v + h) - (v - h)))
                continue
            xc = np.array(x, dtype=np.float64, copy=True)
            flat = xc.reshape(-1)
            g = np.empty(flat.size)
            work[a] = xc
            for i in range(flat.size):
                v = flat[i]
                h = STEP * max(1.0, abs(v))
                flat[i] = v + h
                fp = f(*work)
                flat[i] = v - h
                fm = f(*work)
                flat[i] = v
                g[i] = (fp - fm) / ((v + h) - (v - h))
            work[a] = x
            out.append(g.reshape(xc.shape))
        return out[0] if len(out) == 1 else tuple(out)

    return grad


def build(problem: Any) -> Built:
    import symdiff as sd

    args = problem.make_data()
    f = sd.jit(problem.loss)
    g = central_differences(f, problem.argnum_tuple)
    return Built(grad=lambda: g(*args), primal=lambda: f(*args), to_numpy=as_tuple)
