"""An interpreter of symdiff's IR whose values are SymPy expressions.

Each op is evaluated with its SymPy form from the op registry (``OpDef.sympy``);
the structured ops are interpreted here: an ``if`` with a concrete condition
runs one region, an ``if`` whose condition depends on a float runs both and
joins their results with the registry's form of ``if`` (a ``Piecewise``); ``for``
loops are unrolled (their bounds must be concrete integers); ``while`` loops
run while their condition is a concrete boolean and are refused once it
depends on a float (a data-dependent trip count has no closed form).

Values follow the convention of `symdiff.symbolic.forms`: float scalars are
SymPy expressions, integers and booleans are Python ``int``/``bool`` as long as
they do not depend on a float, arrays are NumPy object arrays of concrete
shape, at most `MAX_ELEMENTS` elements each.

The same interpreter also runs IR on numbers (SymPy ``Float`` values instead of
symbols) to count the ops a function executes for given arguments; see
`symdiff.symbolic.swell`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from symdiff.errors import Loc, UnsupportedSyntaxError
from symdiff.ir.core import Block, Function, Op, Value
from symdiff.ir.registry import lookup
from symdiff.ir.types import Type
from symdiff.symbolic.forms import _objects

MAX_ELEMENTS = 256
"""The largest array (number of elements) the SymPy path takes, argument or intermediate."""

MAX_OPS = 200_000
"""The most ops one interpretation runs (loops unrolled): beyond it the function is refused."""


class SymbolicError(UnsupportedSyntaxError):
    """Code or arguments the SymPy path cannot express: a while loop with a
    data-dependent trip count, an array above `MAX_ELEMENTS` elements, an op
    without a SymPy form. The message names the line when there is one."""


class Interpreter:
    """Runs IR functions on SymPy values; ``ops_run`` counts the ops executed
    (constants excluded; a loop's body once per iteration, both arms of an ``if``
    whose condition is symbolic)."""

    def __init__(self, sp: Any, *, max_ops: int | None = None, max_elements: int | None = None):
        self.sp = sp
        self.max_ops = MAX_OPS if max_ops is None else max_ops
        self.max_elements = MAX_ELEMENTS if max_elements is None else max_elements
        self.ops_run = 0
        self._boolean = sp.logic.boolalg.Boolean
        self._select = lookup("if").sympy

    # -- entry -------------------------------------------------------------
    def run(self, fn: Function, args: Sequence[Any]) -> list[Any]:
        env: dict[Value, Any] = {}
        for p, a in zip(fn.params, args, strict=True):
            env[p] = self.normalize(a, p.type, None)
        return self.block(fn.body, env)

    def block(self, block: Block, env: dict[Value, Any]) -> list[Any]:
        for op in block.ops:
            self.op(op, env)
        return [env[y] for y in block.yields]

    # -- ops -----------------------------------------------------------------
    def op(self, op: Op, env: dict[Value, Any]) -> None:
        if op.name != "const":
            self.ops_run += 1
            if self.ops_run > self.max_ops:
                raise refusal(op, f"the function runs more than {self.max_ops} ops once its "
                                  "loops are unrolled: too large for the SymPy path",
                              "use smaller integer arguments (trip counts) or arrays")
        if op.name == "if":
            return self.if_op(op, env)
        if op.name == "for":
            return self.for_op(op, env)
        if op.name == "while":
            return self.while_op(op, env)
        d = lookup(op.name)
        if d.sympy is None:
            raise refusal(op, f"the op '{op.name}' has no SymPy form")
        args = [env[a] for a in op.args]
        attrs = dict(op.attrs)
        try:
            if d.elementwise:
                result = self.elementwise(d.sympy, args, attrs)
            else:
                result = d.sympy(self.sp, args, attrs)
        except SymbolicError:
            raise
        except (ValueError, TypeError, IndexError, ArithmeticError) as e:
            raise refusal(op, f"cannot evaluate '{op.name}' symbolically: {e}") from None
        results = result if len(op.results) > 1 else (result,)
        for v, r in zip(op.results, results, strict=True):
            env[v] = self.normalize(r, v.type, op)

    def elementwise(self, form: Any, args: list[Any], attrs: dict[str, Any]) -> Any:
        sp, to_sym = self.sp, self.to_sympy_scalar
        if not any(isinstance(a, np.ndarray) for a in args):
            return form(sp, [to_sym(a) for a in args], attrs)
        ufunc = np.frompyfunc(lambda *xs: form(sp, [to_sym(x) for x in xs], attrs), len(args), 1)
        return ufunc(*[_objects(a) for a in args])

    def if_op(self, op: Op, env: dict[Value, Any]) -> None:
        cond = env[op.args[0]]
        if isinstance(cond, bool):
            values = self.block(op.regions[0 if cond else 1], env)
        else:
            then = self.block(op.regions[0], env)
            other = self.block(op.regions[1], env)
            values = [self.join(op, cond, a, b, v.type.dtype)
                      for a, b, v in zip(then, other, op.results, strict=True)]
        for v, r in zip(op.results, values, strict=True):
            env[v] = self.normalize(r, v.type, op)

    def join(self, op: Op, cond: Any, a: Any, b: Any, dtype: str) -> Any:
        """The value of ``a if cond else b`` for a symbolic condition: the registry's form
        of ``if`` (a ``Piecewise``), or ``ITE`` for booleans (a ``Piecewise`` is no condition)."""
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.shape != b.shape:
                raise refusal(op, "the branches of this if give arrays of different shapes, "
                                  "and the condition depends on float arguments")
            out = np.empty(a.shape, dtype=object)
            for idx in np.ndindex(*a.shape):
                out[idx] = self.join(op, cond, a[idx], b[idx], dtype)
            return out
        if a is b or (type(a) is type(b) and a == b):
            return a
        a, b = self.to_sympy_scalar(a), self.to_sympy_scalar(b)
        if dtype == "bool":
            return self.sp.ITE(cond, a, b)
        return self._select(self.sp, [cond, a, b], {})

    def for_op(self, op: Op, env: dict[Value, Any]) -> None:
        bounds = [env[a] for a in op.args[:3]]
        if not all(isinstance(b, int) for b in bounds):
            raise refusal(op, "the bounds of this for loop depend on float arguments",
                          "loop over range(n) with n an integer argument or a shape")
        start, stop, step = bounds
        if step == 0:
            raise refusal(op, "range() arg 3 must not be zero")
        body = op.regions[0]
        carried = [env[a] for a in op.args[3:]]
        for i in range(start, stop, step):
            env[body.params[0]] = i
            for p, v in zip(body.params[1:], carried, strict=True):
                env[p] = v
            carried = self.block(body, env)
        for v, r in zip(op.results, carried, strict=True):
            env[v] = r

    def while_op(self, op: Op, env: dict[Value, Any]) -> None:
        cond_region, body = op.regions
        carried = [env[a] for a in op.args]
        while True:
            for p, v in zip(cond_region.params, carried, strict=True):
                env[p] = v
            (cond,) = self.block(cond_region, env)
            if not isinstance(cond, bool):
                raise refusal(op, "the trip count of this loop depends on float arguments (a "
                                  "while condition, or a break or return inside the loop, that "
                                  "depends on them): SymPy cannot express a data-dependent "
                                  "trip count",
                              "the SymPy path unrolls for loops over range(n) with n an integer "
                              "argument or a shape, without data-dependent break or return")
            if not cond:
                break
            for p, v in zip(body.params, carried, strict=True):
                env[p] = v
            carried = self.block(body, env)
        for v, r in zip(op.results, carried, strict=True):
            env[v] = r

    # -- values --------------------------------------------------------------
    def to_sympy_scalar(self, v: Any) -> Any:
        """A scalar as a SymPy object (what elementwise forms receive)."""
        sp = self.sp
        if isinstance(v, (bool, np.bool_)):
            return sp.true if v else sp.false
        if isinstance(v, (int, np.integer)):
            return sp.Integer(int(v))
        if isinstance(v, (float, np.floating)):
            return sp.Float(float(v))
        return v

    def normalize(self, value: Any, t: Type, op: Op | None) -> Any:
        """``value`` in the representation of type ``t``; refuses arrays that are too large."""
        if t.ndim == 0:
            if isinstance(value, np.ndarray):
                value = value[()] if value.ndim == 0 else value
            return self.scalar(value, t.dtype)
        arr = _objects(value)
        if arr.size > self.max_elements:
            what = "an array" if op is None else "this line makes an array"
            raise refusal(op, f"{what} of shape {arr.shape} ({arr.size} elements); the SymPy "
                              f"path takes arrays of at most {self.max_elements} elements")
        out = np.empty(arr.shape, dtype=object)
        for idx in np.ndindex(*arr.shape):
            out[idx] = self.scalar(arr[idx], t.dtype)
        return out

    def scalar(self, v: Any, dtype: str) -> Any:
        sp = self.sp
        if isinstance(v, np.ndarray) and v.ndim == 0:
            v = v[()]
        if isinstance(v, np.generic):
            v = v.item()
        if dtype == "f64":
            if isinstance(v, bool):
                return sp.Integer(int(v))
            if isinstance(v, int):
                return sp.Integer(v)
            if isinstance(v, float):
                return sp.Float(v)
            if v is sp.true or v is sp.false:
                return sp.Integer(1 if v is sp.true else 0)
            return v
        if dtype == "i64":
            if isinstance(v, (bool, int)):
                return int(v)
            if v is sp.true or v is sp.false:
                return int(v is sp.true)
            if isinstance(v, sp.Basic) and v.is_Integer:
                return int(v)
            return v
        # bool
        if isinstance(v, bool):
            return v
        if v is sp.true or v is sp.false:
            return v is sp.true
        if isinstance(v, int) or (isinstance(v, sp.Basic) and v.is_Number):
            return bool(v != 0)
        return v


def refusal(op: Op | None, message: str, hint: str | None = None) -> SymbolicError:
    loc: Loc | None = op.loc if op is not None else None
    return SymbolicError(message, loc, hint)

