"""Hoisting row-wise matrix products out of ``for`` loops.

A loop that multiplies a loop-invariant matrix by one row of a loop-invariant
array per iteration,

    for t in range(X.shape[0]):
        u = A @ X[t]          # or X[t] @ A
        ...

computes, over the whole loop, one matrix product done as many matrix-vector
products. `hoist_row_products` rewrites it as that product, computed once
before the loop, and reads its rows:

    U = X @ A.T               # or X @ A
    for t in range(X.shape[0]):
        u = U[t]

Before the loop runs this is one BLAS call instead of a call (and an
allocation) per iteration; after differentiation it is better still: the
adjoint of ``U[t]`` is a row of ``U_bar`` written in place, and the adjoint of
``A`` becomes one matrix product after the reverse loop (``U_bar.T @ X``)
instead of an outer product accumulated per iteration.

Contract: the meaning is unchanged up to the summation order of the products
(BLAS's, as for any matmul). The rewrite applies only when the loop visits
every row of ``X`` (``range(0, X.shape[0], 1)``, so no row is computed that the
loop would not compute), ``A`` and ``X`` are defined outside the loop (``A``
may be ``transpose`` of such a value, taken inside it), and the product is an
op of the loop body itself, not of a branch inside it. (A loop with a ``break``
or an early ``return`` is lowered to a ``while`` loop and is left alone.) When
``X`` has no rows the product is still formed, so mismatched inner dimensions
raise before a loop that would not have run.
"""

from __future__ import annotations

from collections.abc import Callable

from symdiff.ir.builder import const_value, record
from symdiff.ir.core import Block, Function, Op, Value
from symdiff.ir.types import Type


def hoist_row_products(fn: Function) -> Function:
    """``fn`` with every hoistable row-wise matrix product of a ``for`` loop computed
    once before the loop (see the module docstring)."""
    producers = {r: op for op in fn.body.walk() for r in op.results}
    body = _rewrite_block(fn.body, producers)
    return fn if body is fn.body else Function(fn.name, fn.params, body, fn.loc)


def _rewrite_block(block: Block, producers: dict[Value, Op]) -> Block:
    ops: list[Op] = []
    changed = False
    for op in block.ops:
        regions = tuple(_rewrite_block(r, producers) for r in op.regions)
        if any(new is not old for new, old in zip(regions, op.regions, strict=True)):
            op = Op(op.name, op.args, op.results, op.attrs, regions, op.loc)
            changed = True
        if op.name == "for":
            hoisted, op = _hoist_from_loop(op, producers)
            if hoisted:
                ops.extend(hoisted)
                changed = True
        ops.append(op)
    return Block(block.params, tuple(ops), block.yields) if changed else block


def _hoist_from_loop(loop: Op, producers: dict[Value, Op]) -> tuple[list[Op], Op]:
    """Ops to place before ``loop`` and the loop with its products replaced by row reads."""
    body = loop.regions[0]
    induction = body.params[0]
    start, stop, step = loop.args[:3]
    if const_value(start) != 0 or const_value(step) != 1:
        return [], loop
    stop_op = producers.get(stop)
    if stop_op is None or stop_op.name != "shape" or stop_op.attr("axis") != 0:
        return [], loop
    rows_of = stop_op.args[0]  # the array whose every row the loop visits
    inside = {r for op in body.walk() for r in op.results} | set(body.params)
    local = {r: op for op in body.ops for r in op.results}

    def invariant_matrix(v: Value) -> tuple[Value, bool] | None:
        """(matrix defined outside the loop, whether ``v`` is its transpose)."""
        if v.type.ndim != 2 or v.type.dtype != "f64":
            return None
        if v not in inside:
            return v, False
        op = local.get(v)
        if op is not None and op.name == "transpose" and op.args[0] not in inside \
                and tuple(op.attr("axes")) == (1, 0):
            return op.args[0], True
        return None

    def row_of_x(v: Value) -> Value | None:
        """X when ``v`` is ``X[t]``: row t of a 2-d array X defined outside the loop."""
        op = local.get(v)
        if op is None or op.name != "getitem" or op.attr("spec") != ("i",):
            return None
        x, index = op.args
        if index is not induction or x in inside or x is not rows_of or x.type != Type("f64", 2):
            return None
        return x

    hoisted: list[Op] = []
    new_ops: list[Op] = []
    for op in body.ops:
        replacement = _row_product(op, row_of_x, invariant_matrix, hoisted)
        if replacement is None:
            new_ops.append(op)
            continue
        table, row = replacement
        getter = Op("getitem", (table, induction), (row,), (("spec", ("i",)),), (), op.loc)
        record(getter)
        new_ops.append(getter)
    if not hoisted:
        return [], loop
    new_body = Block(body.params, tuple(new_ops), body.yields)
    return hoisted, Op(loop.name, loop.args, loop.results, loop.attrs, (new_body,), loop.loc)


def _row_product(op: Op, row_of_x: Callable[[Value], Value | None],
                 invariant_matrix: Callable[[Value], tuple[Value, bool] | None],
                 hoisted: list[Op]) -> tuple[Value, Value] | None:
    """For a hoistable ``A @ X[t]`` or ``X[t] @ A``: append the ops computing the whole
    product to ``hoisted`` and return (that product, the op's result to define as its row)."""
    if op.name != "matmul":
        return None
    left, right = op.args
    if left.type.ndim == 2 and right.type.ndim == 1:      # A @ X[t] == (X @ A.T)[t]
        x, matrix = row_of_x(right), invariant_matrix(left)
        transpose_matrix = True
    elif left.type.ndim == 1 and right.type.ndim == 2:    # X[t] @ A == (X @ A)[t]
        x, matrix = row_of_x(left), invariant_matrix(right)
        transpose_matrix = False
    else:
        return None
    if x is None or matrix is None:
        return None
    base, is_transposed = matrix
    # The right-hand factor of X @ B: B = A.T for A @ X[t], B = A for X[t] @ A.
    if transpose_matrix != is_transposed:
        factor = Value(Type("f64", 2))
        t_op = Op("transpose", (base,), (factor,), (("axes", (1, 0)),), (), op.loc)
        record(t_op)
        hoisted.append(t_op)
    else:
        factor = base
    table = Value(Type("f64", 2))
    product = Op("matmul", (x, factor), (table,), (), (), op.loc)
    record(product)
    hoisted.append(product)
    return table, op.result
