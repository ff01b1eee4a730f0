"""The SymPy path: symbolic differentiation beside symdiff's AD, and expression swell.

symdiff's IR is interpreted op by op into SymPy expressions (each op's SymPy form
comes from the op registry), for concrete integer arguments and array shapes::

    import symdiff.symbolic as sym

    def logistic_map(x, n):
        l = x
        for _ in range(n):
            l = 4.0 * l * (1.0 - l)
        return l

    sym.to_sympy(logistic_map, 0.3, 3).output    # 64*x*(1 - x)*(1 - 4*x*(1 - x))*...
    sym.gradient(logistic_map)(0.3, 3)           # SymPy's diff, compiled by lambdify
    print(sym.swell(logistic_map, 0.3, 6))       # its size beside symdiff's adjoint

Importing this package imports SymPy; ``import symdiff`` does not.
"""

from symdiff.symbolic.core import (
    MAX_TREE_NODES,
    SymbolicFunction,
    SymbolicGradient,
    derivative,
    gradient,
    primal_ir,
    to_sympy,
)
from symdiff.symbolic.interpret import MAX_ELEMENTS, MAX_OPS, SymbolicError
from symdiff.symbolic.swell import SwellReport, swell, swell_table

__all__ = [
    "MAX_ELEMENTS", "MAX_OPS", "MAX_TREE_NODES", "SwellReport", "SymbolicError", "SymbolicFunction",
    "SymbolicGradient", "derivative", "gradient", "primal_ir", "swell", "swell_table",
    "to_sympy",
]
