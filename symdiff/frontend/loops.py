"""Desugaring of loops: ``break``, ``continue`` and ``return`` inside loops become flags.

The IR's loops are structured (one entry, one exit, no jumps), so before a loop
is lowered its body is rewritten into an equivalent body without jumps:

- ``continue`` sets a flag that guards the rest of the iteration;
- ``break`` sets a flag that guards the rest of the iteration and stops the
  loop: a ``while`` tests it first, and a ``for`` with a ``break`` becomes a
  ``while`` over an explicit counter, so the loop runs exactly as many
  iterations as Python would;
- ``return e`` stores ``e`` in a result variable, sets a "returned" flag and
  breaks; after the loop, ``if returned: return result`` continues as any
  ``if`` with a ``return`` does.

Every rewritten node keeps the source position of the statement it replaces,
so errors and ``# line N`` comments still point at the user's code.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator

RETURNED = "_sd_returned"
RESULT = "_sd_result"

_ids = itertools.count()


def is_loop(stmt: ast.stmt) -> bool:
    return isinstance(stmt, (ast.For, ast.While))


def is_result_name(name: str) -> bool:
    """The variables a ``return`` inside a loop stores its value in (carried without an
    initial value: the loop lowering gives them a placeholder of the stored type)."""
    return name.startswith(RESULT)


def assigned_names(stmts: list[ast.stmt]) -> list[str]:
    """Names a statement list (re)binds, in order: assignment targets, augmented
    assignments, element writes (``x[i] = v`` rebinds x in symdiff's functional
    model) and the targets of nested ``for`` loops."""
    out: dict[str, None] = {}

    def target(t: ast.expr) -> None:
        if isinstance(t, ast.Name):
            out.setdefault(t.id, None)
        elif isinstance(t, (ast.Tuple, ast.List)):
            for e in t.elts:
                target(e)
        elif isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name):
            out.setdefault(t.value.id, None)
        elif isinstance(t, ast.Starred):
            target(t.value)

    for node in _walk_statements(stmts):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                target(t)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            target(node.target)
        elif isinstance(node, ast.For):
            target(node.target)
    return list(out)


def _walk_statements(stmts: list[ast.stmt]) -> Iterator[ast.stmt]:
    for s in stmts:
        yield s
        for field in ("body", "orelse"):
            inner = getattr(s, field, None)
            if isinstance(inner, list):
                yield from _walk_statements(inner)


def contains_return(stmt: ast.stmt) -> bool:
    return any(isinstance(n, ast.Return) for n in ast.walk(stmt))


def _jumps(stmts: list[ast.stmt], kind: type) -> bool:
    """True when ``stmts`` hold a ``kind`` (Break/Continue) of this loop level (nested
    loops own theirs)."""
    for s in stmts:
        if isinstance(s, kind):
            return True
        if isinstance(s, ast.If) and (_jumps(s.body, kind) or _jumps(s.orelse, kind)):
            return True
    return False


def _has_any_jump(stmts: list[ast.stmt]) -> bool:
    return _jumps(stmts, ast.Break) or _jumps(stmts, ast.Continue)


class DesugarError(Exception):
    """A loop form the desugaring cannot express; carries the offending node."""

    def __init__(self, node: ast.AST, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.node, self.message, self.hint = node, message, hint


def desugar_loop(loop: ast.For | ast.While) -> tuple[list[ast.stmt], ast.expr | None]:
    """Statements equivalent to ``loop`` with no ``break``, ``continue`` or ``return``
    inside it (at any depth).

    The second value is None when the loop held no ``return``; otherwise it is
    the expression to return when ``RETURNED`` is set after the loop (the
    caller emits ``if RETURNED: return <it>`` followed by the rest).
    """
    if loop.orelse:
        raise DesugarError(loop, "'else' on a loop is not supported",
                           "set a flag before 'break' and test it after the loop")
    result: list[ast.expr | None] = [None]
    body = _lift_nested(loop.body, result)
    body = _returns_to_breaks(body, result)
    n = next(_ids)
    brk, cont = f"_sd_break_{n}", f"_sd_continue_{n}"
    uses_break, uses_continue = _jumps(body, ast.Break), _jumps(body, ast.Continue)
    if uses_break or uses_continue:
        body = _flags(body, brk, cont, uses_break, uses_continue)
    if uses_continue:
        body = [_assign(cont, ast.Constant(False), loop)] + body
    pre: list[ast.stmt] = []
    if result[0] is not None:
        pre.append(_assign(RETURNED, ast.Constant(False), loop))
    if uses_break:
        pre.append(_assign(brk, ast.Constant(False), loop))
    if isinstance(loop, ast.While):
        test = loop.test
        if uses_break:
            test = _at(ast.IfExp(test=_name(brk), body=ast.Constant(False), orelse=test), loop)
        new: ast.stmt = _at(ast.While(test=test, body=body, orelse=[]), loop)
    elif uses_break:
        new_pre, new = _counted_while(loop, body, brk, n)
        pre.extend(new_pre)
    else:
        new = _at(ast.For(target=loop.target, iter=loop.iter, body=body, orelse=[],
                          type_comment=None), loop)
    return [*pre, new], result[0]


def returned_guard(result: ast.expr, loop: ast.stmt) -> ast.stmt:
    """``if RETURNED: return <result>``, placed right after a desugared loop."""
    return _at(ast.If(test=_name(RETURNED), body=[_at(ast.Return(value=result), loop)],
                      orelse=[]), loop)


def _lift_nested(stmts: list[ast.stmt], result: list[ast.expr | None]) -> list[ast.stmt]:
    """Desugar nested loops; a nested loop's return becomes ``if RETURNED: return`` here."""
    out: list[ast.stmt] = []
    for s in stmts:
        if is_loop(s):
            assert isinstance(s, (ast.For, ast.While))
            replaced, inner_result = desugar_loop(s)
            out.extend(replaced)
            if inner_result is not None:
                _merge_result(result, inner_result, s)
                out.append(returned_guard(inner_result, s))
        elif isinstance(s, ast.If):
            out.append(_at(ast.If(test=s.test, body=_lift_nested(s.body, result),
                                  orelse=_lift_nested(s.orelse, result)), s))
        else:
            out.append(s)
    return out


def _merge_result(result: list[ast.expr | None], expr: ast.expr, node: ast.AST) -> None:
    if result[0] is None:
        result[0] = expr
        return
    if ast.dump(result[0]) != ast.dump(expr):
        raise DesugarError(node, "returns inside nested loops must return the same number "
                           "of values")


def _result_target(value: ast.expr) -> ast.expr:
    """Where a returned value is stored: one result name, or one per tuple element."""
    if isinstance(value, ast.Tuple):
        return ast.Tuple(elts=[_name(f"{RESULT}_{k}", ast.Store())
                               for k in range(len(value.elts))], ctx=ast.Store())
    return _name(RESULT, ast.Store())


def _as_load(target: ast.expr) -> ast.expr:
    if isinstance(target, ast.Tuple):
        return ast.Tuple(elts=[_name(e.id) for e in target.elts if isinstance(e, ast.Name)],
                         ctx=ast.Load())
    assert isinstance(target, ast.Name)
    return _name(target.id)


def _returns_to_breaks(stmts: list[ast.stmt], result: list[ast.expr | None]) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for s in stmts:
        if isinstance(s, ast.Return):
            if s.value is None:
                raise DesugarError(s, "the function must return a value")
            target = _result_target(s.value)
            loaded = _as_load(target)
            if result[0] is not None and ast.dump(result[0]) != ast.dump(loaded):
                raise DesugarError(s, "every return inside a loop must return the same number "
                                   "of values")
            result[0] = loaded
            out.append(_at(ast.Assign(targets=[target], value=s.value), s))
            out.append(_assign(RETURNED, ast.Constant(True), s))
            out.append(_at(ast.Break(), s))
            return out  # the rest is unreachable
        if isinstance(s, ast.If):
            out.append(_at(ast.If(test=s.test, body=_returns_to_breaks(s.body, result),
                                  orelse=_returns_to_breaks(s.orelse, result)), s))
        else:
            out.append(s)
    return out


def _flags(stmts: list[ast.stmt], brk: str, cont: str, uses_break: bool,
           uses_continue: bool) -> list[ast.stmt]:
    """Replace this level's break/continue by flag assignments; statements after one
    that may have set a flag run only when no flag is set."""
    out: list[ast.stmt] = []
    for k, s in enumerate(stmts):
        if isinstance(s, ast.Break):
            out.append(_assign(brk, ast.Constant(True), s))
            return out
        if isinstance(s, ast.Continue):
            out.append(_assign(cont, ast.Constant(True), s))
            return out
        if isinstance(s, ast.If) and _has_any_jump([s]):
            out.append(_at(ast.If(test=s.test,
                                  body=_flags(s.body, brk, cont, uses_break, uses_continue),
                                  orelse=_flags(s.orelse, brk, cont, uses_break, uses_continue)),
                           s))
            rest = _flags(stmts[k + 1:], brk, cont, uses_break, uses_continue)
            if rest:
                flags = [_name(f) for f, used in ((brk, uses_break), (cont, uses_continue))
                         if used]
                test: ast.expr = flags[0] if len(flags) == 1 else ast.BoolOp(op=ast.Or(),
                                                                              values=flags)
                out.append(_at(ast.If(test=_at(ast.UnaryOp(op=ast.Not(), operand=test), s),
                                      body=rest, orelse=[]), stmts[k + 1]))
            return out
        out.append(s)
    return out


def _counted_while(loop: ast.For, body: list[ast.stmt], brk: str,
                   n: int) -> tuple[list[ast.stmt], ast.stmt]:
    """``for i in range(a, b, s)`` holding a break, as a while over a counter that
    stops at the break (the range's arguments are evaluated once, as Python does)."""
    it = loop.iter
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range"
            and not it.keywords and 1 <= len(it.args) <= 3):
        raise DesugarError(it, "only 'for ... in range(...)' loops are supported",
                           "iterate over indices: for i in range(len(x))")
    args = list(it.args)
    start: ast.expr = ast.Constant(0)
    step: ast.expr = ast.Constant(1)
    if len(args) == 1:
        stop = args[0]
    else:
        start, stop = args[0], args[1]
        if len(args) == 3:
            step = args[2]
    counter, stop_name, step_name = f"_sd_i_{n}", f"_sd_stop_{n}", f"_sd_step_{n}"
    pre = [_assign(counter, start, loop), _assign(stop_name, stop, loop),
           _assign(step_name, step, loop)]
    ahead = _at(ast.Compare(left=_name(counter), ops=[ast.Lt()], comparators=[_name(stop_name)]),
                loop)
    behind = _at(ast.Compare(left=_name(counter), ops=[ast.Gt()], comparators=[_name(stop_name)]),
                 loop)
    sign = _constant_sign(step)
    if sign is None:
        in_range: ast.expr = _at(ast.IfExp(
            test=ast.Compare(left=_name(step_name), ops=[ast.Gt()], comparators=[ast.Constant(0)]),
            body=ahead, orelse=behind), loop)
    else:
        in_range = ahead if sign > 0 else behind
    test = _at(ast.IfExp(test=_name(brk), body=ast.Constant(False), orelse=in_range), loop)
    advance = [_at(ast.Assign(targets=[loop.target], value=_name(counter)), loop),
               _assign(counter, ast.BinOp(left=_name(counter), op=ast.Add(),
                                          right=_name(step_name)), loop)]
    return pre, _at(ast.While(test=test, body=advance + body, orelse=[]), loop)


def _constant_sign(node: ast.expr) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return (node.value > 0) - (node.value < 0)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _constant_sign(node.operand)
        return None if inner is None else -inner
    return None


def _name(name: str, ctx: ast.expr_context | None = None) -> ast.Name:
    return ast.Name(id=name, ctx=ctx or ast.Load())


def _assign(name: str, value: ast.expr, ref: ast.AST) -> ast.stmt:
    return _at(ast.Assign(targets=[_name(name, ast.Store())], value=value), ref)


def _at(node: ast.AST, ref: ast.AST) -> ast.AST:
    """Give ``node`` and its children without a position the position of ``ref``."""
    for child in ast.walk(node):
        if "lineno" in child._attributes and not hasattr(child, "lineno"):
            child.lineno = ref.lineno  # type: ignore[attr-defined]
            child.col_offset = ref.col_offset  # type: ignore[attr-defined]
            child.end_lineno = getattr(ref, "end_lineno", ref.lineno)  # type: ignore[attr-defined]
            child.end_col_offset = getattr(ref, "end_col_offset", ref.col_offset)  # type: ignore
    return node
