"""Lowering: a user function's AST to typed SSA IR, specialized on argument types.

Names resolve against the function's locals, then its closure cells, then its
globals, then Python's builtins. Modules (NumPy under any alias, ``math``),
library functions, user helper functions (inlined at each call) and numeric
constants are compile-time values; everything else is IR. Anything outside
the supported subset raises `UnsupportedSyntaxError` at the offending node.
"""

from __future__ import annotations

import ast
import builtins
import math
from collections.abc import Sequence
from dataclasses import dataclass
from types import FunctionType, ModuleType
from typing import Any, NoReturn

import numpy as np

from symdiff.errors import UnsupportedSyntaxError
from symdiff.frontend import library, loops
from symdiff.frontend.source import FunctionSource, read_source
from symdiff.frontend.values import FuncRef, FVal, ModuleRef, NoneVal, SliceVal, TupleVal
from symdiff.ir.builder import Builder, const_value, defining_op
from symdiff.ir.core import Block, Function, Value
from symdiff.ir.ops import TypeRuleError
from symdiff.ir.registry import lookup
from symdiff.ir.types import BOOL, I64, Type, promote

_BINOPS: dict[type, str] = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow",
    ast.FloorDiv: "floordiv", ast.Mod: "mod", ast.MatMult: "matmul",
}
_CMPOPS: dict[type, str] = {
    ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge", ast.Eq: "eq", ast.NotEq: "ne",
}

_REFUSED_STMTS: dict[type, tuple[str, str]] = {
    ast.Try: ("try/except is not supported", "differentiable code cannot catch exceptions; "
              "remove the try block"),
    ast.With: ("'with' statements are not supported", "remove the with block"),
    ast.Global: ("'global' is not supported", "pass the value as an argument instead"),
    ast.Nonlocal: ("'nonlocal' is not supported", "pass the value as an argument instead"),
    ast.FunctionDef: ("nested function definitions are not supported",
                      "define the helper at module level; symdiff inlines calls to it"),
    ast.AsyncFunctionDef: ("async functions are not supported", "use a plain 'def'"),
    ast.ClassDef: ("class definitions are not supported", "define classes outside the function"),
    ast.Import: ("imports inside the function are not supported", "import at module level"),
    ast.ImportFrom: ("imports inside the function are not supported", "import at module level"),
    ast.Delete: ("'del' is not supported", "remove the del statement"),
    ast.Raise: ("'raise' is not supported", "validate inputs before calling the function"),
    ast.Assert: ("'assert' is not supported", "check inputs before calling the function"),
    ast.AsyncFor: ("'async for' is not supported", "use a plain 'for' over range(...)"),
    ast.Match: ("'match' is not supported", "use a conditional expression"),
}


@dataclass(frozen=True)
class Lowered:
    """The result of lowering: the IR and how to present its results."""

    function: Function
    returns_tuple: bool
    sources: tuple[FunctionSource, ...]


def lower(fn: FunctionType, arg_types: Sequence[Type]) -> Lowered:
    """Lower ``fn`` specialized on ``arg_types`` (one per positional parameter)."""
    src = read_source(fn)
    builder = Builder()
    lowerer = _FunctionLowerer(src, builder, call_stack=(fn,))
    params = lowerer.bind_parameters(arg_types)
    result = lowerer.lower_body(src.tree.body)
    returns = lowerer.flatten_return(result, lowerer.return_node)
    body = Block((), tuple(builder.ops), tuple(returns))
    ir = Function(fn.__name__, tuple(params), body, src.loc(src.tree))
    return Lowered(ir, isinstance(result, TupleVal), tuple(lowerer.sources))


class _FunctionLowerer:
    """Lowers one function body (the user's function or an inlined helper)."""

    def __init__(self, src: FunctionSource, builder: Builder,
                 call_stack: tuple[FunctionType, ...],
                 sources: list[FunctionSource] | None = None) -> None:
        self.src = src
        self.b = builder
        self.env: dict[str, FVal] = {}
        # Which memory each array name refers to, as Python would see it: names with equal
        # tokens share memory (`y = x`, `v = y[1:]`); a fresh token is a new array (`x * 2.0`).
        self.memory: dict[str, object] = {}
        self.return_node: ast.AST = src.tree
        self.params: set[str] = set()
        # Types stored in the result variables of returns inside loops (see `loops`).
        self.result_types: dict[str, Type] = {}
        self.end_memory: dict[str, frozenset] = {}  # memory at the end of a loop body
        self.call_stack = call_stack
        self.sources = sources if sources is not None else [src]
        fn = src.fn
        self.closure: dict[str, Any] = {}
        if fn.__closure__:
            for name, cell in zip(fn.__code__.co_freevars, fn.__closure__, strict=True):
                try:
                    self.closure[name] = cell.cell_contents
                except ValueError:
                    pass

    # ------------------------------------------------------------ errors
    def error(self, node: ast.AST, message: str, hint: str | None = None) -> NoReturn:
        raise UnsupportedSyntaxError(message, self.src.loc(node), hint)

    # -------------------------------------------------------- parameters
    def check_signature(self, node: ast.FunctionDef) -> list[ast.arg]:
        a = node.args
        if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs:
            self.error(node, "only plain positional parameters are supported",
                       "remove *args, **kwargs, keyword-only and positional-only markers")
        return a.args

    def bind_parameters(self, arg_types: Sequence[Type]) -> list[Value]:
        args = self.check_signature(self.src.tree)
        if len(args) != len(arg_types):
            self.error(self.src.tree, f"{self.src.fn.__name__} takes {len(args)} parameters, "
                       f"specialized with {len(arg_types)} argument types")
        values = []
        for arg, t in zip(args, arg_types, strict=True):
            v = Value(t, arg.arg)
            self.env[arg.arg] = v
            self.memory[arg.arg] = frozenset({("value", v)})
            self.params.add(arg.arg)
            values.append(v)
        return values

    # ------------------------------------------------------------ statements
    def lower_body(self, stmts: list[ast.stmt]) -> FVal:
        """Lower statements ending in a return; returns the returned value."""
        stmts = list(stmts)
        k = -1
        while k + 1 < len(stmts):
            k += 1
            stmt = stmts[k]
            if loops.is_loop(stmt) and loops.contains_return(stmt):
                # The loop's returns become flags; `if returned: return result` follows it.
                replaced, result = self.desugar(stmt)
                assert result is not None
                stmts[k:k + 1] = [*replaced, loops.returned_guard(result, stmt)]
                stmt = stmts[k]
            with self.b.at(self.src.loc(stmt)):
                if isinstance(stmt, ast.Return):
                    if k != len(stmts) - 1:
                        self.error(stmts[k + 1], "code after 'return' is unreachable")
                    if stmt.value is None:
                        self.error(stmt, "the function must return a value")
                    self.return_node = stmt
                    return self.expr(stmt.value)
                if isinstance(stmt, ast.If) and _returns_inside(stmt):
                    return self.if_returning(stmt, stmts[k + 1:])
                self.statement(stmt, first=(k == 0))
        self.error(stmts[-1] if stmts else self.src.tree,
                   "the function must end with a 'return' statement")

    def lower_statements(self, stmts: list[ast.stmt]) -> None:
        """Lower statements that do not return (the arms of an if without returns)."""
        for stmt in stmts:
            with self.b.at(self.src.loc(stmt)):
                self.statement(stmt, first=False)

    def if_returning(self, stmt: ast.If, rest: list[ast.stmt]) -> FVal:
        """An if with a return inside: each arm continues with the statements after the if,
        so both arms end in a return and the if yields the function's result."""
        cond = self.condition(self.value(stmt.test), stmt.test)
        env0, params0, memory0 = dict(self.env), set(self.params), dict(self.memory)
        arms = []
        for body in (stmt.body, stmt.orelse):
            self.env, self.params, self.memory = dict(env0), set(params0), dict(memory0)
            with self.b.region() as ops:
                arm = list(body) if _always_returns(body) else list(body) + list(rest)
                result = self.lower_body(arm)
            arms.append((ops, result, self.return_node))
        (then_ops, then_r, then_node), (else_ops, else_r, else_node) = arms
        then_vals = self.flatten_return(then_r, then_node)
        else_vals = self.flatten_return(else_r, else_node)
        if isinstance(then_r, TupleVal) != isinstance(else_r, TupleVal) or \
                len(then_vals) != len(else_vals):
            self.error(stmt, "the branches of this if return different numbers of values")
        merged = self.merge_arms(stmt, cond, then_ops, else_ops, then_vals, else_vals,
                                 ["result"] * len(then_vals))
        self.return_node = then_node
        return TupleVal(tuple(merged)) if isinstance(then_r, TupleVal) else merged[0]

    def if_statement(self, stmt: ast.If) -> None:
        """An if without returns: variables assigned in an arm flow out through the if's results."""
        cond = self.condition(self.value(stmt.test), stmt.test)
        env0, params0, memory0 = dict(self.env), set(self.params), dict(self.memory)
        envs, op_lists, memories = [], [], []
        for body in (stmt.body, stmt.orelse):
            self.env, self.params, self.memory = dict(env0), set(params0), dict(memory0)
            with self.b.region() as ops:
                self.lower_statements(body)
            envs.append(self.env)
            memories.append(self.memory)
            op_lists.append(ops)
        self.memory = {}
        for n in dict.fromkeys([*memories[0], *memories[1]]):
            a, b = memories[0].get(n), memories[1].get(n)
            self.memory[n] = (a or frozenset()) | (b or frozenset())
        changed = [n for n in dict.fromkeys([*envs[0], *envs[1]])
                   if envs[0].get(n) is not env0.get(n) or envs[1].get(n) is not env0.get(n)]
        self.env = dict(env0)
        self.params = params0 - set(changed)
        names, then_vals, else_vals = [], [], []
        tuples: dict[str, int] = {}
        for n in changed:
            a, b = envs[0].get(n, env0.get(n)), envs[1].get(n, env0.get(n))
            if a is None or b is None or isinstance(a, _Unassigned) or isinstance(b, _Unassigned):
                self.env[n] = _Unassigned(n, stmt.lineno + self.src.first_line - 1)
                continue
            if a is b:
                self.env[n] = a
                continue
            if isinstance(a, TupleVal) and isinstance(b, TupleVal) and \
                    len(a.items) == len(b.items) and all(
                        isinstance(u, Value) and isinstance(w, Value)
                        for u, w in zip(a.items, b.items, strict=True)):
                tuples[n] = len(a.items)
                for k, (u, w) in enumerate(zip(a.items, b.items, strict=True)):
                    names.append(f"{n}[{k}]")
                    then_vals.append(u)
                    else_vals.append(w)
                continue
            if not (isinstance(a, Value) and isinstance(b, Value)):
                self.error(stmt, f"'{n}' is bound to {_describe(a)} in one branch and "
                           f"{_describe(b)} in the other", "give both branches the same kind of value")
            names.append(n)
            then_vals.append(a)
            else_vals.append(b)
        if not names:
            # Nothing flows out: the arms compute values nobody reads after the if.
            return
        merged = self.merge_arms(stmt, cond, op_lists[0], op_lists[1], then_vals, else_vals,
                                 [n.partition("[")[0] for n in names])
        by_name = dict(zip(names, merged, strict=True))
        for n in dict.fromkeys(k.partition("[")[0] for k in names):
            if n in tuples:
                self.env[n] = TupleVal(tuple(by_name[f"{n}[{k}]"] for k in range(tuples[n])))
            else:
                self.env[n] = by_name[n]

    def merge_arms(self, node: ast.AST, cond: Value, then_ops: list, else_ops: list,
                   then_vals: list[Value], else_vals: list[Value], names: list[str]) -> list[Value]:
        """Emit the ``if`` op yielding each pair of values, unified to one type."""
        targets = []
        for a, b, n in zip(then_vals, else_vals, names, strict=True):
            if a.type.ndim != b.type.ndim:
                what = "the returned value" if n == "result" else f"'{n}'"
                self.error(node, f"{what} has {a.type.ndim} dimension(s) in one branch and "
                           f"{b.type.ndim} in the other", "give both branches the same shape kind")
            targets.append(Type(promote(a.type.dtype, b.type.dtype), a.type.ndim))
        with self.b.region(then_ops):
            then_vals = [self.cast(v, t) for v, t in zip(then_vals, targets, strict=True)]
        with self.b.region(else_ops):
            else_vals = [self.cast(v, t) for v, t in zip(else_vals, targets, strict=True)]
        return list(self.b.emit(
            "if", [cond], regions=(Block((), tuple(then_ops), tuple(then_vals)),
                                   Block((), tuple(else_ops), tuple(else_vals))),
            names=[n if n != "result" else "" for n in names], result_types=tuple(targets)))

    # ------------------------------------------------------------ loops
    def desugar(self, stmt: ast.For | ast.While) -> tuple[list[ast.stmt], ast.expr | None]:
        try:
            return loops.desugar_loop(stmt)
        except loops.DesugarError as e:
            self.error(e.node, e.message, e.hint)

    def range_bounds(self, node: ast.For) -> tuple[Value, Value, Value]:
        """start, stop, step of ``for ... in range(...)`` as integer values."""
        it = node.iter
        is_range = isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and \
            it.func.id not in self.env and it.func.id not in self.closure and \
            self.src.fn.__globals__.get(it.func.id, builtins.range) is builtins.range and \
            it.func.id == "range"
        if not is_range:
            self.error(it, "only 'for ... in range(...)' loops are supported",
                       "iterate over indices: for i in range(len(x)) or range(x.shape[0])")
        assert isinstance(it, ast.Call)
        if it.keywords or not 1 <= len(it.args) <= 3:
            self.error(it, "range() takes one to three positional arguments")
        values = []
        for a in it.args:
            v = self.expr(a)
            if not isinstance(v, Value) or v.type != I64:
                what = _describe(v) if not isinstance(v, Value) else str(v.type)
                self.error(a, f"range() takes integers, got {what}",
                           "use an integer argument or an integer expression such as "
                           "x.shape[0] or len(x)")
            values.append(v)
        if len(values) == 1:
            values.insert(0, self.b.const(0))
        if len(values) == 2:
            values.append(self.b.const(1))
        if const_value(values[2]) == 0:
            self.error(it.args[2], "range() step must not be zero")
        return values[0], values[1], values[2]

    def carried_names(self, node: ast.stmt, body: list[ast.stmt], exclude: set[str]) -> list[str]:
        """Names the loop body rebinds that hold a value before the loop (plus the result
        variables of returns inside loops): the loop-carried variables."""
        carried = []
        for n in loops.assigned_names(body):
            if n in exclude:
                continue
            v = self.env.get(n)
            if isinstance(v, TupleVal):
                self.error(node, f"'{n}' holds a tuple and is reassigned in the loop",
                           "unpack it into separate names before the loop")
            if isinstance(v, Value) or (loops.is_result_name(n) and v is None):
                carried.append(n)
            elif v is not None and not isinstance(v, _Unassigned):
                self.error(node, f"'{n}' holds {_describe(v)} and is reassigned in the loop",
                           "use a different name inside the loop")
        return carried

    def loop_types(self, node: ast.stmt, carried: list[str], lower_once) -> dict[str, Type]:
        """The type of each carried variable: its type before the loop, widened (bool <
        i64 < f64) until one pass over the body assigns nothing wider."""
        types = {n: self.env[n].type for n in carried if isinstance(self.env.get(n), Value)}
        for _ in range(4):
            ends = self.speculate(lower_once, carried, types)
            changed = False
            for n in carried:
                end = ends.get(n)
                if end is None:
                    continue
                old = types.get(n)
                if old is None:
                    types[n] = end
                    changed = True
                    continue
                if end.ndim != old.ndim:
                    what = {0: "a scalar"}
                    self.error(node, f"'{n}' is {what.get(old.ndim, f'{old.ndim}-d array')} "
                               f"before the loop and {what.get(end.ndim, f'{end.ndim}-d array')} "
                               "after its body", "keep each loop variable's kind fixed")
                wide = Type(promote(old.dtype, end.dtype), old.ndim)
                if wide != old:
                    types[n] = wide
                    changed = True
            if not changed:
                break
        missing = [n for n in carried if n not in types]
        if missing:
            self.error(node, f"'{missing[0]}' is never assigned in the loop")
        return types

    def speculate(self, lower_once, carried: list[str], types: dict[str, Type]) -> dict[str, Type]:
        """Lower the body once into a discarded region, carried variables typed ``types``;
        the types the carried variables end with."""
        saved = dict(self.env), set(self.params), dict(self.memory), dict(self.result_types)
        try:
            with self.b.region():
                for n in carried:
                    if n in types:
                        self.env[n] = Value(types[n], n)
                lower_once()
                ends: dict[str, Type] = {}
                for n in carried:
                    v = self.env.get(n)
                    if isinstance(v, Value):
                        ends[n] = v.type
                    elif n in self.result_types:
                        ends[n] = self.result_types[n]
                self.end_memory = dict(self.memory)
            return ends
        finally:
            self.env, self.params, self.memory, result_types = saved
            self.result_types = {**result_types, **self.result_types}

    def loop_entry(self, node: ast.stmt, carried: list[str],
                   types: dict[str, Type]) -> list[Value]:
        """The carried variables' values at loop entry, cast to their loop types (a result
        variable starts as a placeholder of its type)."""
        inits = []
        for n in carried:
            v = self.env.get(n)
            t = types[n]
            if not isinstance(v, Value):
                v = self.b.const(0, t.with_ndim(0)) if t.ndim == 0 else self.b.op(
                    "zeros", *[self.b.const(0)] * t.ndim, dtype=t.dtype)
            inits.append(self.cast(v, t))
        return inits

    def enter_region(self, carried: list[str], types: dict[str, Type]) -> list[Value]:
        params = []
        for n in carried:
            p = Value(types[n], n.removeprefix("_sd_") if n.startswith("_sd_") else n)
            self.env[n] = p
            params.append(p)
            if p.type.ndim > 0:
                # From the second iteration on, n holds what the body left in it: it may
                # share memory with whatever that shared with at the end of the body.
                self.memory[n] = self.memory.get(n, frozenset()) | self.end_memory.get(
                    n, frozenset({object()}))
        return params

    def leave_region(self, carried: list[str], types: dict[str, Type]) -> list[Value]:
        return [self.cast(self.as_value(self.env[n], self.return_node), types[n])
                for n in carried]

    def finish_loop(self, node: ast.stmt, body: list[ast.stmt], carried: list[str],
                    results: Sequence[Value], exclude: set[str]) -> None:
        line = node.lineno + self.src.first_line - 1
        for n in loops.assigned_names(body):
            if n not in carried and n not in exclude:
                self.env[n] = _Unassigned(n, line, loop=True)
        for n in exclude - set(carried):
            self.env[n] = _Unassigned(n, line, loop=True)
        for n, r in zip(carried, results, strict=True):
            self.env[n] = r
            self.params.discard(n)

    def for_loop(self, node: ast.For) -> None:
        if not isinstance(node.target, ast.Name):
            self.error(node.target, "the loop variable must be a single name")
        start, stop, step = self.range_bounds(node)
        target = node.target.id
        carried = self.carried_names(node, node.body, {target})
        if isinstance(self.env.get(target), Value):
            # Bound before the loop: afterwards it holds the last index taken, or its old
            # value when the loop runs no iterations, as in Python.
            carried.append(target)

        def once() -> None:
            self.env[target] = Value(I64, target)
            self.lower_statements(node.body)

        types = self.loop_types(node, carried, once)
        inits = self.loop_entry(node, carried, types)
        index = Value(I64, target)
        with self.b.region() as ops:
            params = self.enter_region(carried, types)
            self.env[target] = index
            self.lower_statements(node.body)
            yields = self.leave_region(carried, types)
        results = self.b.emit("for", [start, stop, step, *inits],
                              regions=(Block((index, *params), tuple(ops), tuple(yields)),),
                              names=[p.name for p in params])
        self.finish_loop(node, node.body, carried, results, {target})

    def while_loop(self, node: ast.While) -> None:
        carried = self.carried_names(node, node.body, set())
        types = self.loop_types(node, carried, lambda: self.lower_statements(node.body))
        inits = self.loop_entry(node, carried, types)
        with self.b.region() as cond_ops:
            cond_params = self.enter_region(carried, types)
            cond = self.condition(self.value(node.test), node.test)
        with self.b.region() as body_ops:
            body_params = self.enter_region(carried, types)
            self.lower_statements(node.body)
            yields = self.leave_region(carried, types)
        results = self.b.emit(
            "while", inits,
            regions=(Block(tuple(cond_params), tuple(cond_ops), (cond,)),
                     Block(tuple(body_params), tuple(body_ops), tuple(yields))),
            names=[p.name for p in body_params])
        self.finish_loop(node, node.body, carried, results, set())

    def statement(self, stmt: ast.stmt, first: bool) -> None:
        if isinstance(stmt, ast.Assign):
            value = self.expr(stmt.value)
            for target in stmt.targets:
                self.assign(target, value, source=stmt.value)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is None:
                self.error(stmt, "an annotation without a value assigns nothing",
                           "write 'name: type = value'")
            self.assign(stmt.target, self.expr(stmt.value), source=stmt.value)
        elif isinstance(stmt, ast.AugAssign):
            if not isinstance(stmt.target, ast.Name):
                self.assign(stmt.target, None, aug=stmt)
                return
            current = self.load_name(stmt.target)
            if isinstance(current, Value) and current.type.ndim > 0:
                self.check_in_place(current, stmt.target.id, stmt, "'" + _AUG_SYMBOL.get(
                    type(stmt.op), "op=") + "'")
            value = self.binop(stmt.op, current, self.expr(stmt.value), stmt)
            token = self.memory.get(stmt.target.id)
            self.assign(stmt.target, value)
            if token is not None:
                self.memory[stmt.target.id] = token  # '+=' on an array works in place
        elif isinstance(stmt, ast.Expr):
            if isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
                return  # docstring or a bare string: no effect
            if isinstance(stmt.value, (ast.Yield, ast.YieldFrom)):
                self.error(stmt, "'yield' is not supported", "return a value instead")
            if isinstance(stmt.value, ast.Await):
                self.error(stmt, "'await' is not supported")
            if isinstance(stmt.value, ast.Call):
                self.error(stmt, "a call whose result is discarded has no effect here",
                           "symdiff functions are pure: assign the result or remove the call")
            self.error(stmt, "an expression statement has no effect", "remove it")
        elif isinstance(stmt, ast.Pass):
            return
        elif isinstance(stmt, ast.If):
            self.if_statement(stmt)
        elif isinstance(stmt, (ast.For, ast.While)):
            replaced, _ = self.desugar(stmt)
            for s in replaced:
                with self.b.at(self.src.loc(s)):
                    if isinstance(s, ast.For):
                        self.for_loop(s)
                    elif isinstance(s, ast.While):
                        self.while_loop(s)
                    else:
                        self.statement(s, first=False)
        elif type(stmt) in _REFUSED_STMTS:
            message, hint = _REFUSED_STMTS[type(stmt)]
            self.error(stmt, message, hint)
        else:
            self.error(stmt, f"'{type(stmt).__name__}' statements are not supported")

    def assign(self, target: ast.expr, value: FVal | None, aug: ast.AugAssign | None = None,
               source: ast.expr | None = None) -> None:
        if isinstance(target, ast.Name):
            if isinstance(value, Value):
                if loops.is_result_name(target.id) and value.type.ndim > 0:
                    # A return inside a loop: the loop stops here, so later writes never
                    # reach the returned array, but the memory tracking cannot know that.
                    value = self.b.op("copy", value)
                    source = None
                value = self.b.rename(value, target.id)
                if loops.is_result_name(target.id):
                    old = self.result_types.get(target.id)
                    self.result_types[target.id] = value.type if old is None else Type(
                        promote(old.dtype, value.type.dtype), value.type.ndim)
            self.env[target.id] = value
            self.params.discard(target.id)
            if isinstance(value, Value) and value.type.ndim > 0:
                self.memory[target.id] = self.memory_token(source, value)
            else:
                self.memory.pop(target.id, None)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if not isinstance(value, TupleVal):
                self.error(target, "only tuples can be unpacked",
                           "unpack the result of a tuple expression, x.shape or a helper that "
                           "returns a tuple")
            if any(isinstance(t, ast.Starred) for t in target.elts):
                self.error(target, "starred unpacking is not supported")
            if len(target.elts) != len(value.items):
                self.error(target, f"cannot unpack {len(value.items)} values into "
                           f"{len(target.elts)} names")
            sources = source.elts if isinstance(source, (ast.Tuple, ast.List)) and \
                len(source.elts) == len(target.elts) else [source] * len(target.elts)
            for t, v, src in zip(target.elts, value.items, sources, strict=True):
                self.assign(t, v, source=src)
        elif isinstance(target, ast.Subscript):
            self.write_subscript(target, value, aug)
        elif isinstance(target, ast.Attribute):
            self.error(target, "assigning to attributes is not supported")
        else:
            self.error(target, f"cannot assign to {type(target).__name__}")

    def write_subscript(self, target: ast.Subscript, value: FVal | None,
                        aug: ast.AugAssign | None) -> None:
        """``x[idx] = v`` / ``x[idx] op= v``: a functional ``setitem`` rebinding ``x``."""
        base = target.value
        if not isinstance(base, ast.Name):
            self.error(target, "only writes into a named array are supported",
                       "assign the array to a name first")
        name = base.id
        if name in self.params:
            self.error(target, f"writing into the argument array '{name}' is not allowed: "
                       "symdiff functions are pure", f"copy it first: {name} = {name}.copy()")
        x = self.load_name(base)
        if not isinstance(x, Value) or x.type.ndim == 0:
            self.error(target, f"'{name}' is not an array")
        self.check_in_place(x, name, target, "writing into an element")
        spec, operands = self.index(target)
        if "a" in spec:
            self.error(target, "writes with integer-array indices are not supported",
                       "write the elements one at a time")
        if "n" in spec:
            self.error(target, "writes with None/newaxis in the index are not supported")
        if aug is not None:
            current = self.typed(target, "getitem", x, *operands, spec=spec)
            value = self.binop(aug.op, current, self.expr(aug.value), aug)
        v = self.as_value(value, target)
        if x.type.dtype == "f64" and v.type.dtype != "f64":
            v = self.b.to_float(v)
        new = self.typed(target, "setitem", x, v, *operands, spec=spec)
        self.env[name] = self.b.rename(new, name)

    def memory_token(self, source: ast.expr | None, value: Value | None) -> frozenset:
        """The memory an array expression may refer to, as a set of atoms (see ``self.memory``).

        Arithmetic and copying calls make a new atom; names, slices, ``.T`` and
        NumPy's view functions share their base's atoms; a conditional
        expression may be either arm; anything else (a helper call, say) may be
        any array it was given, or what its IR value derives from.
        """
        fallback = frozenset({("value", _root(value))}) if value is not None else frozenset()
        if source is None:
            return fallback
        if isinstance(source, ast.Name):
            return self.memory.get(source.id, fallback)
        if isinstance(source, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp)):
            return frozenset({object()})  # arithmetic makes a new array
        if isinstance(source, ast.Subscript) or (
                isinstance(source, ast.Attribute) and source.attr == "T"):
            return self.memory_token(source.value, None) or fallback  # a view of its base
        if isinstance(source, ast.IfExp):
            return self.memory_token(source.body, None) | self.memory_token(source.orelse, None)
        if isinstance(source, ast.Call):
            func = source.func
            if isinstance(func, ast.Attribute):
                base = func.value
                is_numpy = isinstance(base, ast.Name) and isinstance(
                    self.env.get(base.id) or self._global_module(base.id), ModuleRef)
                if func.attr in ("copy", "flatten"):
                    return frozenset({object()})
                if is_numpy and func.attr not in _NUMPY_VIEWS:
                    return frozenset({object()})
                if is_numpy and source.args:
                    return self.memory_token(source.args[0], None) or fallback
                if not is_numpy and func.attr in _METHOD_VIEWS:
                    return self.memory_token(base, None) or fallback
            shared = frozenset().union(*(self.memory_token(a, None) for a in source.args),
                                       *(self.memory_token(k.value, None) for k in source.keywords))
            return shared | fallback
        return fallback

    def _global_module(self, name: str) -> FVal | None:
        g = self.closure.get(name, self.src.fn.__globals__.get(name))
        return ModuleRef(g, "numpy") if g is np else None

    def check_in_place(self, array: Value, name: str, node: ast.AST, what: str) -> None:
        """Refuse an in-place update whose effect NumPy would make visible elsewhere.

        symdiff lowers ``y += v`` and element writes to fresh values; that is
        exact only when no other name, and no argument, may share y's memory.
        """
        token = self.memory.get(name, frozenset({("value", _root(array))}))
        param_atoms = {atom for atom in token if isinstance(atom, tuple)
                       and (atom[1] is None or _is_param_value(atom[1]))}
        if name in self.params or param_atoms:
            owner = name if name in self.params else next(
                (k for k in self.params if self.memory.get(k, frozenset()) & param_atoms), None)
            target = f"the argument array '{owner}'" if owner else "an argument array"
            self.error(node, f"{what} on '{name}' would modify {target} in place: symdiff "
                       "functions are pure",
                       f"work on a copy ({name} = {name}.copy()) or write {name} = {name} + ...")
        for other, tok in self.memory.items():
            if other != name and tok & token and isinstance(self.env.get(other), Value):
                self.error(node, f"{what} on '{name}' would also change '{other}', which may share "
                           "its memory", f"copy first: {name} = {name}.copy()")

    def flatten_return(self, result: FVal, node: ast.AST) -> list[Value]:
        if isinstance(result, Value):
            return [result]
        if isinstance(result, TupleVal):
            out = []
            for item in result.items:
                if not isinstance(item, Value):
                    self.error(node, "a returned tuple must hold numbers and arrays only",
                               f"this one holds {_describe(item)}")
                out.append(item)
            return out
        self.error(node, f"cannot return {_describe(result)}",
                   "return numbers, arrays or a tuple of them")

    # ----------------------------------------------------------- expressions
    def expr(self, node: ast.expr) -> FVal:
        method = getattr(self, "expr_" + type(node).__name__, None)
        if method is None:
            self.refuse_expr(node)
        with self.b.at(self.src.loc(node) if self.b.loc is None else self.b.loc):
            return method(node)

    def value(self, node: ast.expr) -> Value:
        """Lower ``node`` and require an IR value (number or array)."""
        v = self.expr(node)
        return self.as_value(v, node)

    def as_value(self, v: FVal, node: ast.AST) -> Value:
        if isinstance(v, Value):
            return v
        self.error(node, f"expected a number or an array, found {_describe(v)}")

    def refuse_expr(self, node: ast.expr) -> NoReturn:
        refusals = {
            ast.Lambda: ("lambda expressions are not supported", "define a helper with 'def'"),
            ast.ListComp: ("list comprehensions are not supported", "use array operations"),
            ast.SetComp: ("set comprehensions are not supported", None),
            ast.DictComp: ("dict comprehensions are not supported", None),
            ast.GeneratorExp: ("generator expressions are not supported", "use array operations"),
            ast.Yield: ("'yield' is not supported", "return a value instead"),
            ast.YieldFrom: ("'yield from' is not supported", "return a value instead"),
            ast.Await: ("'await' is not supported", None),
            ast.Dict: ("dictionaries are not supported", "pass arrays as separate arguments"),
            ast.Set: ("sets are not supported", None),
            ast.List: ("lists are not supported", "use np.zeros and array operations"),
            ast.JoinedStr: ("strings are not supported in the computation", None),
            ast.NamedExpr: ("':=' is not supported", "use a separate assignment"),
            ast.Starred: ("starred expressions are not supported", None),
        }
        message, hint = refusals.get(type(node), (f"{type(node).__name__} expressions are not "
                                                 "supported", None))
        self.error(node, message, hint)

    def expr_Constant(self, node: ast.Constant) -> FVal:
        v = node.value
        if v is None:
            return NoneVal()
        if isinstance(v, bool):
            return self.b.const(v)
        if isinstance(v, int):
            return self.b.const(v)
        if isinstance(v, float):
            return self.b.const(v)
        if isinstance(v, str):
            self.error(node, "strings are not supported in the computation",
                       "symdiff computes with numbers and float arrays only")
        if v is Ellipsis:
            self.error(node, "'...' (Ellipsis) is not supported", "write the slices out")
        self.error(node, f"constants of type {type(v).__name__} are not supported")

    def expr_Name(self, node: ast.Name) -> FVal:
        return self.load_name(node)

    def load_name(self, node: ast.Name) -> FVal:
        name = node.id
        if name in self.env:
            v = self.env[name]
            if v is None:
                self.error(node, f"'{name}' is used before it is assigned")
            if isinstance(v, _Unassigned):
                if v.loop:
                    self.error(node, f"'{name}' is assigned only inside the loop at line "
                               f"{v.line}, so it is unassigned here when the loop runs no "
                               "iterations", "assign it before the loop")
                self.error(node, f"'{name}' may be unassigned here: it is assigned in only one "
                           f"branch of the if at line {v.line}",
                           "assign it before the if, or in both branches")
            return v
        if name in self.closure:
            return self.python_object(self.closure[name], node, name)
        g = self.src.fn.__globals__
        if name in g:
            return self.python_object(g[name], node, name)
        if hasattr(builtins, name):
            return self.python_object(getattr(builtins, name), node, name)
        self.error(node, f"name '{name}' is not defined")

    def python_object(self, obj: Any, node: ast.AST, name: str) -> FVal:
        """Turn a Python object found by name into a compile-time value."""
        if isinstance(obj, ModuleType):
            if obj is np:
                return ModuleRef(obj, "numpy")
            if obj is math:
                return ModuleRef(obj, "math")
            if obj.__name__.split(".")[0] in _LIBRARY_ROOTS:
                self.error(node, f"module '{obj.__name__}' is not supported",
                           "use numpy (under any alias) and math")
            return ModuleRef(obj, "user")
        if isinstance(obj, bool):
            return self.b.const(obj)
        if isinstance(obj, (int, np.integer)) and not isinstance(obj, bool):
            return self.b.const(int(obj))
        if isinstance(obj, (float, np.floating)):
            return self.b.const(float(obj))
        if isinstance(obj, FunctionType):
            return FuncRef("user", obj.__name__, fn=obj)
        if hasattr(obj, "__wrapped_symdiff__"):
            kind = getattr(getattr(obj, "transform", None), "kind", "primal")
            if kind != "primal":
                inner = obj.__wrapped_symdiff__.__name__
                self.error(node, f"'{name}' is symdiff.{kind}({inner}); a transformed function "
                                 "cannot be called inside code symdiff compiles",
                           f"call {inner} itself and transform the caller, or nest the "
                           f"transforms (symdiff.grad(symdiff.grad(f)), symdiff.hessian(f))")
            return FuncRef("user", name, fn=obj.__wrapped_symdiff__)
        known = library.identify(obj)
        if known is not None:
            return FuncRef(*known)
        builtin_hint = _BUILTIN_HINTS.get(id(obj))
        if builtin_hint is not None:
            self.error(node, f"the builtin '{name}' is not supported", builtin_hint)
        if isinstance(obj, np.ndarray):
            self.error(node, f"'{name}' is a global array; symdiff reads only numbers from globals",
                       "pass the array as an argument")
        self.error(node, f"'{name}' ({type(obj).__name__}) is not something symdiff can use",
                   "use numbers, arrays, numpy, math and your own functions")

    def expr_Tuple(self, node: ast.Tuple) -> FVal:
        return TupleVal(tuple(self.expr(e) for e in node.elts))

    def expr_BinOp(self, node: ast.BinOp) -> FVal:
        return self.binop(node.op, self.expr(node.left), self.expr(node.right), node)

    def binop(self, op: ast.operator, left: FVal, right: FVal, node: ast.AST) -> Value:
        name = _BINOPS.get(type(op))
        if name is None:
            self.error(node, f"the operator {type(op).__name__} is not supported")
        x = self.as_value(left, node)
        y = self.as_value(right, node)
        if name == "matmul":
            return self.typed(node, "matmul", x, y)
        if name == "pow":
            return self.power(x, y, node)
        if name in ("floordiv", "mod") and (x.type.dtype == "f64" or y.type.dtype == "f64"):
            self.error(node, f"'{'//' if name == 'floordiv' else '%'}' on floats is not "
                       "differentiable", "use it on integers only")
        return self.typed(node, name, x, y)

    def power(self, x: Value, y: Value, node: ast.AST) -> Value:
        """``x ** y``; an integer to a negative (or unknown) integer power is a float, as in Python."""
        if x.type.dtype != "f64" and y.type.dtype != "f64":
            c = const_value(y)
            if not (isinstance(c, int) and c >= 0):
                x = self.b.to_float(x)
        return self.typed(node, "pow", x, y)

    def typed(self, node: ast.AST, name: str, *args: Value, **attrs: Any) -> Value:
        """Emit an op, turning a type-rule failure into a located error."""
        try:
            if name == "add":
                return self.b.add(*args)
            if name == "sub":
                return self.b.sub(*args)
            if name == "mul":
                return self.b.mul(*args)
            return self.b.op(name, *args, **attrs)
        except TypeRuleError as e:
            self.error(node, f"{name}: {e}")

    def expr_UnaryOp(self, node: ast.UnaryOp) -> FVal:
        x = self.value(node.operand)
        if isinstance(node.op, ast.USub):
            return self.b.neg(x)
        if isinstance(node.op, ast.UAdd):
            return x
        if isinstance(node.op, ast.Not):
            return self.b.op("not", self.condition(x, node.operand))
        self.error(node, "the '~' operator is not supported", "use 'not' on conditions")

    def condition(self, v: Value, node: ast.AST) -> Value:
        """A boolean scalar for use as a condition (numbers test against zero)."""
        if v.type.ndim != 0:
            self.error(node, "the truth value of an array is ambiguous",
                       "use np.where for elementwise choice, or compare scalars")
        if v.type.dtype == "bool":
            return v
        return self.b.op("ne", v, self.b.const(0, Type(v.type.dtype)))

    def expr_BoolOp(self, node: ast.BoolOp) -> FVal:
        """``and``/``or`` on booleans. An operand that may fail (it indexes, calls or
        divides) is evaluated only when the ones before it do not decide, as in Python."""
        is_and = isinstance(node.op, ast.And)
        result = self.bool_operand(node.values[0])
        for operand in node.values[1:]:
            if not _may_fail(operand):
                result = self.b.op("and" if is_and else "or", result,
                                   self.bool_operand(operand))
                continue
            with self.b.region() as rest_ops:
                rest = self.bool_operand(operand)
            with self.b.region() as decided_ops:
                decided = self.b.const(not is_and, BOOL)
            arms = (Block((), tuple(rest_ops), (rest,)), Block((), tuple(decided_ops), (decided,)))
            (result,) = self.b.emit("if", [result], regions=arms if is_and else arms[::-1],
                                    result_types=(BOOL,))
        return result

    def bool_operand(self, node: ast.expr) -> Value:
        v = self.value(node)
        if v.type != BOOL:
            self.error(node, "'and'/'or' are supported on conditions (booleans) only",
                       "compare explicitly, e.g. 'x > 0 and y > 0'")
        return v

    def expr_Compare(self, node: ast.Compare) -> FVal:
        left = self.value(node.left)
        result: Value | None = None
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            name = _CMPOPS.get(type(op))
            if name is None:
                self.error(node, f"the comparison {type(op).__name__} is not supported")
            right = self.value(comparator)
            c = self.typed(node, name, left, right)
            result = c if result is None else self.b.op("and", result, c)
            left = right
        assert result is not None
        return result

    def expr_IfExp(self, node: ast.IfExp) -> FVal:
        cond = self.condition(self.value(node.test), node.test)
        with self.b.region() as then_ops:
            then_v = self.value(node.body)
        with self.b.region() as else_ops:
            else_v = self.value(node.orelse)
        if then_v.type.ndim != else_v.type.ndim:
            self.error(node, "both branches of a conditional expression must have the same "
                       "number of dimensions", "use np.where for elementwise choice")
        dtype = promote(then_v.type.dtype, else_v.type.dtype)
        target = Type(dtype, then_v.type.ndim)
        with self.b.region(then_ops):
            then_v = self.cast(then_v, target)
        with self.b.region(else_ops):
            else_v = self.cast(else_v, target)
        (result,) = self.b.emit(
            "if", [cond], regions=(Block((), tuple(then_ops), (then_v,)),
                                   Block((), tuple(else_ops), (else_v,))),
            result_types=(target,))
        return result

    def cast(self, v: Value, target: Type) -> Value:
        if v.type == target:
            return v
        if target.dtype == "f64":
            return self.b.to_float(v)
        if target.dtype == "i64" and v.type.dtype == "bool":
            return self.b.op("mul", v, self.b.const(1))
        raise AssertionError(f"cannot cast {v.type} to {target}")

    def expr_Attribute(self, node: ast.Attribute) -> FVal:
        base = self.expr(node.value)
        attr = node.attr
        if isinstance(base, ModuleRef):
            return self.module_attribute(base, attr, node)
        if isinstance(base, Value):
            return library.array_attribute(self, base, attr, node)
        self.error(node, f"unknown attribute '{attr}' of {_describe(base)}")

    def module_attribute(self, module: ModuleRef, attr: str, node: ast.AST) -> FVal:
        if not hasattr(module.module, attr):
            self.error(node, f"module '{module.module.__name__}' has no attribute '{attr}'")
        obj = getattr(module.module, attr)
        if module.kind == "user":
            return self.python_object(obj, node, f"{module.module.__name__}.{attr}")
        if isinstance(obj, ModuleType):
            self.error(node, f"'{module.module.__name__}.{attr}' is not supported",
                       "use the functions of numpy and math listed in docs/subset.md")
        if obj is None:  # np.newaxis
            return NoneVal()
        if isinstance(obj, (float, int)) and not isinstance(obj, bool):
            return self.b.const(obj)
        known = library.identify(obj)
        if known is None:
            self.error(node, f"'{module.module.__name__}.{attr}' is not supported",
                       "see docs/subset.md for the supported functions")
        return FuncRef(*known)

    def expr_Call(self, node: ast.Call) -> FVal:
        callee = self.expr(node.func)
        if not isinstance(callee, FuncRef):
            self.error(node.func, f"{_describe(callee)} is not callable")
        for kw in node.keywords:
            if kw.arg is None:
                self.error(node, "'**' arguments are not supported")
        if any(isinstance(a, ast.Starred) for a in node.args):
            self.error(node, "'*' arguments are not supported")
        args = [self.expr(a) for a in node.args]
        kwargs = {kw.arg: self.expr(kw.value) for kw in node.keywords if kw.arg is not None}
        if callee.kind == "user":
            assert callee.fn is not None
            return self.call_user(callee.fn, args, kwargs, node)
        return library.call(self, callee, args, kwargs, node)

    def call_user(self, fn: FunctionType, args: list[FVal], kwargs: dict[str, FVal],
                  node: ast.Call) -> FVal:
        if fn in self.call_stack:
            self.error(node, f"recursive call to '{fn.__name__}' is not supported",
                       "write the recursion as a loop")
        src = read_source(fn)
        if src not in self.sources:
            self.sources.append(src)
        inner = _FunctionLowerer(src, self.b, self.call_stack + (fn,), self.sources)
        params = inner.check_signature(src.tree)
        names = [p.arg for p in params]
        defaults = fn.__defaults__ or ()
        bound: dict[str, FVal] = {}
        if len(args) > len(names):
            self.error(node, f"{fn.__name__}() takes {len(names)} arguments, got {len(args)}")
        for name, a in zip(names, args, strict=False):
            bound[name] = a
        for key, v in kwargs.items():
            if key not in names:
                self.error(node, f"{fn.__name__}() has no parameter '{key}'")
            if key in bound:
                self.error(node, f"{fn.__name__}() got two values for '{key}'")
            bound[key] = v
        first_default = len(names) - len(defaults)
        for k, name in enumerate(names):
            if name not in bound:
                if k < first_default:
                    self.error(node, f"{fn.__name__}() is missing the argument '{name}'")
                bound[name] = inner.python_object(defaults[k - first_default], node, name)
        for name in names:
            inner.env[name] = bound[name]
            inner.params.add(name)
        saved = self.b.loc
        try:
            return inner.lower_body(src.tree.body)
        finally:
            self.b.loc = saved

    def expr_Subscript(self, node: ast.Subscript) -> FVal:
        base = self.expr(node.value)
        if isinstance(base, TupleVal):
            index = self.static_int(self.expr(node.slice), node.slice)
            if not -len(base.items) <= index < len(base.items):
                self.error(node, f"tuple index {index} out of range")
            return base.items[index]
        x = self.as_value(base, node.value)
        if x.type.ndim == 0:
            self.error(node, "cannot index a scalar")
        spec, operands = self.index(node)
        return self.typed(node, "getitem", x, *operands, spec=spec)

    def index(self, node: ast.Subscript) -> tuple[tuple[Any, ...], list[Value]]:
        """The index spec and operand values of ``node``'s subscript (see `symdiff.ir.indexing`)."""
        elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        spec: list[Any] = []
        operands: list[Value] = []
        for e in elts:
            if isinstance(e, ast.Slice):
                parts = [e.lower, e.upper, e.step]
                present = tuple(p is not None for p in parts)
                spec.append(("s", *present))
                for p in parts:
                    if p is not None:
                        operands.append(self.index_int(self.value(p), p))
                continue
            v = self.expr(e)
            if isinstance(v, NoneVal):
                spec.append("n")
            elif isinstance(v, Value) and v.type.ndim == 0:
                spec.append("i")
                operands.append(self.index_int(v, e))
            elif isinstance(v, Value) and v.type.ndim == 1 and v.type.dtype == "i64":
                spec.append("a")
                operands.append(v)
            elif isinstance(v, Value) and v.type.dtype == "bool":
                self.error(e, "boolean-mask indexing is not supported",
                           "use np.where(mask, x, 0) instead")
            else:
                self.error(e, f"cannot index with {_describe(v)}",
                           "indices are integers, slices, None or 1-D integer arrays")
        return tuple(spec), operands

    def index_int(self, v: Value, node: ast.AST) -> Value:
        if v.type != I64:
            self.error(node, f"indices must be integers, not {v.type}")
        return v

    # -------------------------------------------------------- static values
    def static_int(self, v: FVal, node: ast.AST) -> int:
        c = const_value(v) if isinstance(v, Value) else None
        if isinstance(v, Value) and v.type == I64 and c is not None:
            return int(c)
        self.error(node, "this must be an integer constant", "write a literal such as 0 or -1")

    def static_bool(self, v: FVal, node: ast.AST) -> bool:
        c = const_value(v) if isinstance(v, Value) else None
        if c is None or not isinstance(c, (bool, int)):
            self.error(node, "this must be True or False")
        return bool(c)

    def static_axes(self, v: FVal, ndim: int, node: ast.AST) -> tuple[int, ...] | None:
        if isinstance(v, NoneVal):
            return None
        items = v.items if isinstance(v, TupleVal) else (v,)
        axes = []
        for item in items:
            a = self.static_int(item, node)
            if not -ndim <= a < ndim:
                self.error(node, f"axis {a} is out of range for an array of {ndim} dimension(s)")
            axes.append(a % ndim)
        if len(set(axes)) != len(axes):
            self.error(node, "repeated axis")
        return tuple(sorted(axes))

    def shape_values(self, v: FVal, node: ast.AST) -> list[Value]:
        """A shape given as an int, a tuple of ints or ``x.shape``, as i64 scalars."""
        items = v.items if isinstance(v, TupleVal) else (v,)
        out = []
        for item in items:
            if not isinstance(item, Value) or item.type != I64:
                self.error(node, f"shape entries must be integers, found {_describe(item)}")
            out.append(item)
        return out


# Third-party libraries symdiff does not see into (their functions are not Python source
# in the subset); user modules are followed for their functions and constants.
_LIBRARY_ROOTS = {"numpy", "scipy", "torch", "jax", "pandas", "sympy", "numba", "autograd",
                  "sklearn", "tensorflow", "builtins", "os", "sys", "random", "time"}

_BUILTIN_HINTS = {id(k): v for k, v in {
    builtins.sum: "use np.sum(x) (or np.sum(x, axis=...))",
    builtins.print: "symdiff functions are pure: remove the print",
    builtins.round: "rounding is not differentiable; not supported",
    builtins.pow: "use x ** y",
    builtins.range: "range() is supported only as the iterable of a for loop: "
                    "for i in range(n): ...",
    builtins.isinstance: "symdiff specializes on argument kinds; write one function per kind",
}.items()}


class _Unassigned:
    """Marks a name assigned on only one path through an if, or only inside a loop."""

    def __init__(self, name: str, line: int, loop: bool = False) -> None:
        self.name, self.line, self.loop = name, line, loop


def _always_returns(stmts: list[ast.stmt]) -> bool:
    """True when every path through ``stmts`` ends in a return."""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, ast.Return):
        return True
    if isinstance(last, ast.If):
        return _always_returns(last.body) and _always_returns(last.orelse)
    return False


def _may_fail(node: ast.expr) -> bool:
    """True when evaluating ``node`` may raise (an index, a call, a division)."""
    return any(isinstance(n, (ast.Subscript, ast.Call))
               or isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Div, ast.FloorDiv, ast.Mod))
               for n in ast.walk(node))


def _returns_inside(stmt: ast.stmt) -> bool:
    return any(isinstance(n, ast.Return) for n in ast.walk(stmt))


_AUG_SYMBOL = {ast.Add: "+=", ast.Sub: "-=", ast.Mult: "*=", ast.Div: "/=", ast.Pow: "**=",
               ast.MatMult: "@=", ast.FloorDiv: "//=", ast.Mod: "%="}
_NUMPY_VIEWS = {"reshape", "transpose", "ravel", "squeeze", "expand_dims", "asarray"}
_METHOD_VIEWS = {"reshape", "transpose", "ravel", "T"}


def _root(v: Value) -> Value | None:
    """The array whose memory ``v`` may share (itself when fresh); None when unknown."""
    while True:
        op = defining_op(v)
        if op is None or not (lookup(op.name).view or op.name == "if"):
            return v  # a parameter or a fresh array
        if op.name == "if":
            return None  # may be any of its branches' values
        v = op.args[0]


def _is_param_value(v: Value) -> bool:
    return defining_op(v) is None


def _describe(v: FVal | None) -> str:
    if isinstance(v, Value):
        return "a scalar" if v.type.ndim == 0 else f"an array ({v.type})"
    if isinstance(v, TupleVal):
        return "a tuple"
    if isinstance(v, ModuleRef):
        return f"the module '{v.module.__name__}'"
    if isinstance(v, FuncRef):
        return f"the function '{v.name}'"
    if isinstance(v, NoneVal):
        return "None"
    if isinstance(v, SliceVal):
        return "a slice"
    return "nothing"

