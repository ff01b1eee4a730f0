"""`to_sympy` and `gradient`: a function's IR as SymPy expressions, and the gradient
SymPy's ``diff`` computes from them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import FunctionType
from typing import Any

import numpy as np
import sympy as sp

from symdiff.errors import SignatureError, SymdiffError
from symdiff.frontend.lower import lower
from symdiff.ir.core import Function
from symdiff.ir.types import Type
from symdiff.signature import bind_arguments, kinds_of, parameter_names
from symdiff.symbolic import interpret
from symdiff.symbolic.interpret import Interpreter, SymbolicError
from symdiff.transforms.reverse import NotDifferentiableError
from symdiff.transforms.simplify import simplify


@dataclass
class SymbolicFunction:
    """A function written out as SymPy expressions for concrete integer arguments and shapes.

    ``inputs`` maps each parameter to what stands for it: a real ``Symbol`` for a
    float scalar, a ``sympy.Array`` of symbols named ``x[i]`` / ``W[i,j]`` for a
    float array, the argument's own value for an integer or boolean (a constant).
    ``outputs`` holds one entry per returned value: a SymPy expression for a
    scalar, a ``sympy.Array`` for an array. ``output`` is the only one.
    """

    name: str
    params: tuple[str, ...]
    kinds: tuple[Type, ...]
    inputs: dict[str, Any]
    outputs: tuple[Any, ...]
    returns_tuple: bool
    ir: Function = field(repr=False)
    ops_run: int = 0           # ops interpreted (loops unrolled; both arms of symbolic ifs)
    _raw_inputs: tuple[Any, ...] = field(default=(), repr=False)
    _raw_outputs: tuple[Any, ...] = field(default=(), repr=False)

    @property
    def output(self) -> Any:
        if len(self.outputs) != 1:
            raise SymdiffError(f"{self.name} returns {len(self.outputs)} values; use .outputs")
        return self.outputs[0]

    def symbols(self, param: int | str) -> list[sp.Symbol]:
        """The symbols of a float parameter (by position or name), flattened in C order."""
        k = self._index(param)
        if self.kinds[k].dtype != "f64":
            return []
        raw = self._raw_inputs[k]
        return list(raw.flat) if isinstance(raw, np.ndarray) else [raw]

    def all_symbols(self) -> list[sp.Symbol]:
        """Every float parameter's symbols, in parameter order."""
        return [s for k in range(len(self.params)) for s in self.symbols(k)]

    def _index(self, param: int | str) -> int:
        if isinstance(param, str):
            if param not in self.params:
                raise SymdiffError(f"{self.name} has no parameter '{param}'")
            return self.params.index(param)
        if not -len(self.params) <= param < len(self.params):
            raise SymdiffError(f"argnums {param} is out of range: {self.name} has "
                               f"{len(self.params)} parameter(s)")
        return param % len(self.params)

    def __str__(self) -> str:
        lines = [f"# {self.name} as SymPy expressions: float arguments are symbols, integer "
                 "arguments constants, loops unrolled"]
        for name, kind in zip(self.params, self.kinds, strict=True):
            value = self.inputs[name]
            if kind.dtype == "f64" and kind.ndim == 0:
                lines.append(f"{name}: symbol")
            elif kind.dtype == "f64":
                lines.append(f"{name}: {'x'.join(map(str, value.shape))} symbols "
                             f"{_first_last(value)}")
            else:
                shown = np.asarray(value).tolist() if kind.ndim else value
                lines.append(f"{name} = {shown}")
        if len(self.outputs) == 1 and not self.returns_tuple:
            lines.append(f"return {self.outputs[0]}")
        else:
            for k, out in enumerate(self.outputs):
                lines.append(f"return[{k}] {out}")
        return "\n".join(lines) + "\n"


def _first_last(arr: Any) -> str:
    flat = list(np.asarray(arr.tolist(), dtype=object).flat)
    return f"{flat[0]}" if len(flat) == 1 else f"{flat[0]} .. {flat[-1]}"


# --------------------------------------------------------------------------- to_sympy


def _unwrap(f: Any) -> FunctionType:
    fn = getattr(f, "__wrapped_symdiff__", f)
    if not isinstance(fn, FunctionType):
        raise SymdiffError(f"the SymPy path takes a Python function, not {type(f).__name__}")
    return fn


def _prepare(fn: FunctionType, args: Sequence[Any]) -> tuple[tuple[Any, ...], tuple[Type, ...]]:
    full = tuple(a.item() if isinstance(a, np.ndarray) and a.ndim == 0 else a
                 for a in bind_arguments(fn, args))
    return full, kinds_of(fn, full)


def primal_ir(f: Any, *example_args: Any) -> Function:
    """The simplified IR of ``f`` for the kinds of these arguments (``show_ir(stage="ir")``)."""
    fn = _unwrap(f)
    _, kinds = _prepare(fn, example_args)
    return simplify(lower(fn, kinds).function)


def _parameter_value(name: str, kind: Type, value: Any, numeric: bool) -> Any:
    """What a parameter stands for: symbols for floats (numbers when ``numeric``),
    the value itself for integers and booleans."""
    if kind.ndim == 0:
        if kind.dtype == "f64":
            return sp.Float(float(value)) if numeric else sp.Symbol(name, real=True)
        return bool(value) if kind.dtype == "bool" else int(value)
    arr = np.asarray(value)
    if arr.size > interpret.MAX_ELEMENTS:
        raise SymbolicError(f"argument '{name}' has shape {arr.shape} ({arr.size} elements); "
                            f"the SymPy path takes arrays of at most {interpret.MAX_ELEMENTS} elements",
                            hint="pass a smaller example array: only its shape matters")
    out = np.empty(arr.shape, dtype=object)
    for idx in np.ndindex(*arr.shape):
        if kind.dtype == "f64":
            out[idx] = (sp.Float(float(arr[idx])) if numeric
                        else sp.Symbol(f"{name}[{','.join(map(str, idx))}]", real=True))
        else:
            out[idx] = arr[idx].item()
    return out


def _public(value: Any) -> Any:
    return sp.Array(value.tolist()) if isinstance(value, np.ndarray) else value


def to_sympy(f: Callable[..., Any], *example_args: Any) -> SymbolicFunction:
    """``f``'s IR interpreted op by op into SymPy expressions.

    The example arguments fix what the expressions are specialized on: each float
    scalar becomes a real symbol named after its parameter, each float array a
    grid of symbols of the example's shape (``x[0]``, ``W[1,2]``; at most
    ``MAX_ELEMENTS`` = 256 elements), and integer and boolean arguments are
    constants (their values are used). ``for`` loops are unrolled; an ``if``
    whose condition depends on a float becomes a ``Piecewise``. Refused with a
    `SymbolicError` naming the line: ``while`` loops whose condition depends on a
    float, arrays above the size limit, and more than ``MAX_OPS`` ops once
    unrolled.
    """
    fn = _unwrap(f)
    full, kinds = _prepare(fn, example_args)
    lowered = lower(fn, kinds)
    ir = simplify(lowered.function)
    names = tuple(parameter_names(fn))
    raw_inputs = tuple(_parameter_value(n, k, v, numeric=False)
                       for n, k, v in zip(names, kinds, full, strict=True))
    interp = Interpreter(sp)
    raw_outputs = tuple(interp.run(ir, raw_inputs))
    return SymbolicFunction(
        name=fn.__name__, params=names, kinds=kinds,
        inputs={n: _public(v) for n, v in zip(names, raw_inputs, strict=True)},
        outputs=tuple(_public(v) for v in raw_outputs),
        returns_tuple=lowered.returns_tuple, ir=ir, ops_run=interp.ops_run,
        _raw_inputs=raw_inputs, _raw_outputs=raw_outputs)


def run_numeric(ir: Function, kinds: Sequence[Type], names: Sequence[str],
                args: Sequence[Any]) -> tuple[list[Any], int]:
    """Interpret ``ir`` on these argument values (floats as SymPy ``Float`` numbers):
    its results, and how many ops it executed (constants excluded; a loop body once
    per iteration, only the arm an ``if`` takes). Works on adjoint IR too."""
    values = [_parameter_value(n, k, v, numeric=True)
              for n, k, v in zip(names, kinds, args, strict=True)]
    interp = Interpreter(sp)
    results = interp.run(ir, values)
    return results, interp.ops_run


# --------------------------------------------------------------------------- derivatives


def _almost_everywhere(expr: Any) -> Any:
    """Derivatives of the piecewise-constant ops (sign, floor, mod, comparisons) are 0,
    as in symdiff: Dirac deltas and unevaluated derivatives become 0."""
    if not isinstance(expr, sp.Basic):
        return expr
    return expr.replace(lambda e: isinstance(e, (sp.DiracDelta, sp.Derivative, sp.Subs)),
                        lambda e: sp.Integer(0))


MAX_TREE_NODES = 1_000_000
"""The largest expression (nodes of its tree, shared subexpressions counted each time) that
`derivative` hands to ``sympy.diff``, which walks that tree: about 15 s at the limit."""


def tree_size(expr: Any) -> int:
    """Nodes of ``expr`` written out as a tree (what ``diff`` and ``count_ops`` walk),
    computed over the shared graph in time linear in its distinct subexpressions."""
    if not isinstance(expr, sp.Basic):
        return 1
    sizes: dict[Any, int] = {}
    stack: list[tuple[Any, bool]] = [(expr, False)]
    while stack:
        e, done = stack.pop()
        if e in sizes:
            continue
        if done:
            sizes[e] = 1 + sum(sizes[a] for a in e.args)
            continue
        stack.append((e, True))
        stack.extend((a, False) for a in e.args if a not in sizes)
    return sizes[expr]


def derivative(symbolic: SymbolicFunction, argnums: int | Sequence[int | str] | str = 0,
               *, almost_everywhere: bool = False) -> list[list[Any]]:
    """SymPy's ``diff`` of the scalar output with respect to each symbol of each
    parameter in ``argnums``: one list of expressions per parameter (flattened)."""
    out = _scalar_output(symbolic)
    nodes = tree_size(out)
    if nodes > MAX_TREE_NODES:
        raise SymbolicError(
            f"{symbolic.name}'s expression has {nodes:,} nodes written out as a tree (shared "
            f"subexpressions repeated: expression swell); sympy.diff walks that tree, and the "
            f"SymPy path stops above {MAX_TREE_NODES:,}", symbolic.ir.loc,
            "use smaller integer arguments (trip counts) or arrays")
    nums = [argnums] if isinstance(argnums, (int, str)) else list(argnums)
    result = []
    for k in nums:
        i = symbolic._index(k)
        if symbolic.kinds[i].dtype != "f64":
            raise NotDifferentiableError(
                f"cannot differentiate {symbolic.name} with respect to "
                f"'{symbolic.params[i]}': it is {symbolic.kinds[i]}, and integer and boolean "
                "arguments are not differentiable (the SymPy path treats them as constants)")
        ds = [sp.diff(out, s) for s in symbolic.symbols(i)]
        result.append([_almost_everywhere(d) for d in ds] if almost_everywhere else ds)
    return result


_HEAVISIDE = sp.Function("heaviside_half")


def _heaviside_half(x: Any) -> Any:
    return np.heaviside(x, 0.5)


def _heaviside_as_call(expr: Any) -> Any:
    """Heaviside as a call of ``numpy.heaviside(x, 0.5)`` (the split at ties that symdiff's
    maximum and max-reductions use): lambdify would otherwise rewrite it, and the ``Max``
    inside it, into nested conditions that take minutes to print for a max over a row."""
    if not isinstance(expr, sp.Basic):
        return expr
    return expr.replace(sp.Heaviside, lambda x, *h0: _HEAVISIDE(x))


def _scalar_output(symbolic: SymbolicFunction) -> Any:
    outs, kinds = symbolic._raw_outputs, symbolic.ir.returns
    if len(outs) != 1 or kinds[0].type != Type("f64"):
        got = ", ".join(str(v.type) for v in kinds)
        raise NotDifferentiableError(f"gradient needs a function returning one float scalar; "
                                     f"{symbolic.name} returns ({got})")
    return outs[0]


class SymbolicGradient:
    """The callable `gradient` returns: specializes per integer values and shapes."""

    def __init__(self, fn: FunctionType, argnums: tuple[int, ...], as_tuple: bool):
        self.fn = fn
        self.argnums = argnums
        self.as_tuple = as_tuple
        self._table: dict[Any, Callable[[tuple[Any, ...]], Any]] = {}

    def __call__(self, *args: Any) -> Any:
        full, kinds = _prepare(self.fn, args)
        key = (kinds, tuple(_key(a, k) for a, k in zip(full, kinds, strict=True)))
        entry = self._table.get(key)
        if entry is None:
            entry = self._table[key] = self._build(full, kinds)
        grads = entry(full)
        return tuple(grads) if self.as_tuple else grads[0]

    def expressions(self, *args: Any) -> list[list[Any]]:
        """The derivative expressions for these arguments (one flat list per argnum)."""
        return derivative(to_sympy(self.fn, *args), self.argnums, almost_everywhere=True)

    def _build(self, full: tuple[Any, ...], kinds: tuple[Type, ...]):
        symbolic = to_sympy(self.fn, *full)
        exprs = derivative(symbolic, self.argnums, almost_everywhere=True)
        symbols = symbolic.all_symbols()
        flat = [_heaviside_as_call(e) for group in exprs for e in group]
        # Plain names for lambdify (it would swap ``x[0]`` for a Dummy itself, rebuilding every
        # Max with its costly simplification); renamed without evaluating anything again.
        plain = [sp.Symbol(f"_a{k}", real=True) for k in range(len(symbols))]
        with sp.evaluate(False):
            flat = [e.xreplace(dict(zip(symbols, plain, strict=True)))
                    if isinstance(e, sp.Basic) else e for e in flat]
        compiled = sp.lambdify(plain, flat, modules=[{"heaviside_half": _heaviside_half}, "numpy"],
                               cse=True, dummify=False)
        floats = [k for k, t in enumerate(kinds) if t.dtype == "f64"]
        layout = [np.shape(full[symbolic._index(k)]) for k in self.argnums]

        def entry(values: tuple[Any, ...]) -> list[Any]:
            inputs = [x for k in floats for x in np.ravel(np.asarray(values[k], dtype=float))]
            out = compiled(*inputs)
            grads, at = [], 0
            for shape in layout:
                n = int(np.prod(shape, dtype=np.int64))
                part = [float(np.asarray(v)) for v in out[at:at + n]]
                at += n
                grads.append(np.array(part, dtype=np.float64).reshape(shape) if shape
                             else part[0])
            return grads
        return entry

    def __repr__(self) -> str:
        return f"<symdiff.symbolic.gradient({self.fn.__qualname__}, argnums={self.argnums})>"


def _key(value: Any, kind: Type) -> Any:
    if kind.dtype == "f64":
        return np.shape(value)
    if kind.ndim == 0:
        return value
    arr = np.asarray(value)
    return (arr.shape, arr.tobytes())


def gradient(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> SymbolicGradient:
    """The gradient of ``f`` computed by SymPy: ``diff`` of `to_sympy`'s expression,
    compiled with ``lambdify``.

    Returns a callable taking ``f``'s arguments and returning what ``symdiff.grad(f,
    argnums)`` returns (a float or an array of the argument's shape; a tuple for a
    tuple ``argnums``). It specializes on the values of integer arguments and on
    the shapes of arrays: each new combination derives and compiles afresh.
    Derivatives of piecewise-constant ops (sign, floor, comparisons) are 0, as in
    symdiff.
    """
    if isinstance(argnums, (int, np.integer)) and not isinstance(argnums, bool):
        return SymbolicGradient(_unwrap(f), (int(argnums),), False)
    if isinstance(argnums, (tuple, list)) and argnums and all(isinstance(a, int) for a in argnums):
        return SymbolicGradient(_unwrap(f), tuple(argnums), True)
    raise SignatureError(f"argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
