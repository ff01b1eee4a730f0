"""symdiff: a differentiation compiler for numeric Python.

symdiff reads a function's source, lowers it to a typed SSA IR, differentiates
the IR by source transformation and emits Python that Numba compiles::

    import numpy as np
    import symdiff as sd

    @sd.grad
    def loss(w, X, y):
        return np.mean((X @ w - y) ** 2)
"""

__version__ = "0.1.0"

import symdiff.rules.jvp as _jvp_rules  # noqa: E402,F401  (registers the JVP rules)
import symdiff.rules.vjp as _vjp_rules  # noqa: E402,F401  (registers the VJP rules)
from symdiff import numeric
from symdiff.api import egrad, elementwise_grad, grad, jit, show_ir, value_and_grad
from symdiff.check import check_grad
from symdiff.derivatives import hessian, hvp, jacobian, jvp, vjp
from symdiff.errors import CompileError, SignatureError, SymdiffError, UnsupportedSyntaxError
from symdiff.transforms.reverse import NotDifferentiableError

__all__ = [
    "CompileError", "NotDifferentiableError", "SignatureError", "SymdiffError",
    "UnsupportedSyntaxError", "check_grad", "egrad", "elementwise_grad", "grad", "hessian", "hvp",
    "jacobian", "jit", "jvp", "numeric", "show_ir", "value_and_grad", "vjp",
]
