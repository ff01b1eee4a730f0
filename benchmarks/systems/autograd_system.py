"""HIPS autograd: ``autograd.grad(loss, argnum)`` on the losses of ``problems.py`` unchanged.

The very functions of ``problems.py`` are used, with their global ``np`` bound
to ``autograd.numpy`` (their code objects are re-created with a namespace in
which ``np`` is ``autograd.numpy`` and the helper ``cross_entropy`` is the
rebound one). autograd cannot differentiate element writes (``x[i] = v``);
none of the problems writes elements, so every problem is expressible, but P2's
scalar loop reads single elements: every read and every scalar operation is a
node of autograd's graph (boxing, a closure for its adjoint), and the adjoint of
each read is an ``np.add.at`` into the gradient array. It is slow; the harness
times calls slower than ``--slow`` one at a time in a capped number of rounds.
The primal is the same rebound function on plain arrays (NumPy through
autograd's wrappers).
"""

from __future__ import annotations

import types
from typing import Any

from systems import Built, as_tuple

LABEL = "HIPS autograd"
PACKAGES = ("autograd",)

_ns: dict[str, Any] = {}


def init() -> dict[str, str]:
    from importlib.metadata import version

    import autograd
    import autograd.numpy as anp
    import numpy as np
    import problems

    _ns.update(vars(problems))
    _ns["np"] = anp
    for name, obj in vars(problems).items():
        if isinstance(obj, types.FunctionType) and obj.__module__ == problems.__name__:
            _ns[name] = types.FunctionType(obj.__code__, _ns, obj.__name__, obj.__defaults__,
                                           obj.__closure__)
    autograd.grad(lambda x: anp.sum(x * x))(np.ones(3))
    return {"autograd": version("autograd"), "numpy": np.__version__}


def build(problem: Any) -> Built:
    import autograd

    args = problem.make_data()
    loss = _ns[problem.loss.__name__]
    g = autograd.grad(loss, argnum=problem.argnums)
    notes = []
    if problem.key == "P2":
        notes.append("every scalar read x[i] and scalar operation is a node of autograd's graph; "
                     "the adjoint of each read is an np.add.at into the gradient")
    return Built(grad=lambda: g(*args), primal=lambda: loss(*args), to_numpy=as_tuple, notes=notes)
