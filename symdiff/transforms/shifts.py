"""Shift invariance: derivatives skip a maximum that the result provably does not depend on.

The stable log-sum-exp and softmax subtract a maximum before exponentiating:

    m = np.max(Z, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(Z - m), axis=1)) + m[:, 0]
    p = np.exp(Z - m) / np.sum(np.exp(Z - m), axis=1, keepdims=True)

Neither ``lse`` nor ``p`` depends on ``m``: with ``m + d`` in its place (``d``
any value per row) both are exactly the same. Differentiating through ``m``
anyway costs an argmax mask, tie counts and another pass over ``Z`` for an
adjoint that is zero up to rounding (and splits it between tied maxima).
`stop_shift_gradients` proves the independence and wraps ``m`` in
``stop_gradient``, through which no derivative flows; `erase_stop_gradients`
removes the wrappers once the derivatives are built.

The proof follows ``m`` forward through the ops of its block and gives every
value that depends on it a *shift form*: additive, ``v(m + d) = v(m) + c d``,
or multiplicative, ``v(m + d) = v(m) exp(c d)``, with an integer ``c`` and, per
axis of ``v``, the axis of ``m`` that ``d`` varies along there (``None``: ``d`` is
constant along it). The rules are exact identities, not first-order ones:
``add``/``sub``/``neg`` of additive forms, ``mul``/``div`` of multiplicative
forms (or by values that do not depend on ``m``) combine their ``c``; ``exp``
turns additive into multiplicative, ``log`` back; ``sum`` keeps a multiplicative
form, ``mean`` both, ``max``/``min`` both (the factor is positive), over axes
along which ``d`` is constant; ``expand_dims``, ``transpose``, ``copy`` and
basic indexing that keeps every axis of ``m`` whole move the axes. Operands
combined by broadcasting must follow ``m``'s axes at the same places. A value
whose ``c`` is 0 does not depend on ``m``. ``m`` is wrapped only when every op
that reads a value depending on it has a rule here, and no such value with
``c != 0`` is returned or read inside a nested region.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from symdiff.ir.builder import record
from symdiff.ir.core import Block, Function, Op, Value, hint

Axes = tuple[int | None, ...]


@dataclass(frozen=True)
class Shift:
    """How a value changes when ``m`` becomes ``m + d``."""

    additive: bool   # v + c d (True) or v exp(c d) (False)
    coef: int
    axes: Axes       # per axis of the value: the axis of m that d follows there, or None


def stop_shift_gradients(fn: Function) -> Function:
    """``fn`` with each maximum or minimum its results provably do not depend on wrapped
    in ``stop_gradient`` (see the module docstring)."""
    body = _rewrite_block(fn.body)
    return fn if body is fn.body else Function(fn.name, fn.params, body, fn.loc)


def erase_stop_gradients(fn: Function) -> Function:
    """``fn`` with every ``stop_gradient(x)`` replaced by ``x`` (for code generation)."""
    rename: dict[Value, Value] = {}

    def rewrite(block: Block) -> Block:
        ops: list[Op] = []
        for op in block.ops:
            if op.name == "stop_gradient":
                rename[op.result] = rename.get(op.args[0], op.args[0])
                continue
            regions = tuple(rewrite(r) for r in op.regions)
            args = tuple(rename.get(a, a) for a in op.args)
            if args != op.args or any(n is not o for n, o in zip(regions, op.regions, strict=True)):
                op = Op(op.name, args, op.results, op.attrs, regions, op.loc)
                record(op)
            ops.append(op)
        return Block(block.params, tuple(ops), tuple(rename.get(y, y) for y in block.yields))

    if not any(op.name == "stop_gradient" for op in fn.body.walk()):
        return fn
    return Function(fn.name, fn.params, rewrite(fn.body), fn.loc)


def _rewrite_block(block: Block) -> Block:
    ops = list(block.ops)
    changed = False
    for k in range(len(ops)):
        op = ops[k]
        if op.regions:
            regions = tuple(_rewrite_block(r) for r in op.regions)
            if any(n is not o for n, o in zip(regions, op.regions, strict=True)):
                ops[k] = op = Op(op.name, op.args, op.results, op.attrs, regions, op.loc)
                record(op)
                changed = True
    k = 0
    while k < len(ops):
        op = ops[k]
        if op.name == "reduce" and op.attr("kind") in ("max", "min") \
                and op.result.type.dtype == "f64" and _independent_of(op, ops[k + 1:], block):
            m = op.result
            stopped = Value(m.type, hint(m))
            wrapper = Op("stop_gradient", (m,), (stopped,), (), (), op.loc)
            record(wrapper)
            later = []
            for user in ops[k + 1:]:
                if m in user.args:
                    user = Op(user.name, tuple(stopped if a is m else a for a in user.args),
                              user.results, user.attrs, user.regions, user.loc)
                    record(user)
                later.append(user)
            ops[k + 1:] = [wrapper, *later]
            changed = True
            k += 1
        k += 1
    return Block(block.params, tuple(ops), block.yields) if changed else block


def _independent_of(producer: Op, later: list[Op], block: Block) -> bool:
    """True when nothing ``later`` ops compute or the block yields depends on the
    reduction's result except through values whose shift form has ``c == 0``."""
    m = producer.result
    x = producer.args[0]
    axis = producer.attr("axis")
    reduced = set(range(x.type.ndim)) if axis is None else {a % x.type.ndim for a in axis}
    rows = [a for a in range(x.type.ndim) if a not in reduced]
    if producer.attr("keepdims"):
        axes: Axes = tuple(None if a in reduced else rows.index(a) for a in range(x.type.ndim))
    else:
        axes = tuple(range(len(rows)))
    forms: dict[Value, Shift] = {m: Shift(True, 1, axes)}
    for op in later:
        if op.regions:
            inner = {a for r in op.regions for o in r.walk() for a in o.args}
            inner |= {y for r in op.regions for y in r.yields}
            if inner & forms.keys() or any(a in forms for a in op.args):
                return False
            continue
        if not any(a in forms for a in op.args):
            continue
        form = _rule(op, forms)
        if form is None:
            return False
        if form.coef != 0:
            forms[op.result] = form
    return not any(y in forms for y in block.yields)


def _rule(op: Op, forms: dict[Value, Shift]) -> Shift | None:
    """The shift form of ``op``'s result, or None when no rule here applies."""
    args = [forms.get(a) for a in op.args]
    if len(op.results) != 1 or op.result.type.dtype != "f64":
        return None
    if op.name in _BINARY:
        additive, sign = _BINARY[op.name]
        axes = _broadcast_axes(op, args)
        if axes is None or any(f is not None and f.additive != additive for f in args):
            return None
        ca, cb = (0 if f is None else f.coef for f in args)
        return Shift(additive, ca + sign * cb, axes)
    rule = _UNARY.get(op.name)
    if rule is None or args[0] is None or any(f is not None for f in args[1:]):
        return None  # no rule, or an index or a shape that depends on m
    return rule(op, args[0])


def _broadcast_axes(op: Op, args: list[Shift | None]) -> Axes | None:
    """The axes of a broadcasting op's result: every operand that depends on m must
    follow m's axes at the same places of the result."""
    ndim = op.result.type.ndim
    aligned = {(None,) * (ndim - len(f.axes)) + f.axes for f in args if f is not None}
    return aligned.pop() if len(aligned) == 1 else None


def _reduce_rule(op: Op, form: Shift) -> Shift | None:
    """sum keeps a multiplicative form, mean/max/min both, over axes d is constant along."""
    kind, axis, keepdims = op.attr("kind"), op.attr("axis"), op.attr("keepdims")
    ndim = len(form.axes)
    reduced = set(range(ndim)) if axis is None else {a % ndim for a in axis}
    if any(form.axes[a] is not None for a in reduced):
        return None
    if kind not in ("mean", "max", "min") and not (kind == "sum" and not form.additive):
        return None
    axes = tuple(None if a in reduced else form.axes[a] for a in range(ndim)
                 if keepdims or a not in reduced)
    return Shift(form.additive, form.coef, axes)


def _expand_rule(op: Op, form: Shift) -> Shift:
    axes = list(form.axes)
    for a in sorted(op.attr("axis")):
        axes.insert(a, None)
    return Shift(form.additive, form.coef, tuple(axes))


def _getitem_rule(op: Op, form: Shift) -> Shift | None:
    spec = op.attr("spec")
    axes: list[int | None] = []
    k = 0
    for entry in spec:
        if entry == "a":
            return None
        if entry == "n":
            axes.append(None)
            continue
        if k >= len(form.axes):
            return None
        label = form.axes[k]
        k += 1
        if entry == "i":
            if label is not None:
                return None
            continue
        if label is not None and any(entry[1:]):
            return None  # a part of an axis of m: d no longer lines up
        axes.append(label)
    axes.extend(form.axes[k:])
    return Shift(form.additive, form.coef, tuple(axes))


# add/sub/mul/div: (the form both operands must have, the sign of the second's c)
_BINARY: dict[str, tuple[bool, int]] = {
    "add": (True, 1), "sub": (True, -1), "mul": (False, 1), "div": (False, -1)}

# One entry per op with one operand that may depend on m: (op, its form) -> the result's.
_UNARY: dict[str, Callable[[Op, Shift], Shift | None]] = {
    "neg": lambda op, f: Shift(f.additive, -f.coef if f.additive else f.coef, f.axes),
    "exp": lambda op, f: Shift(False, f.coef, f.axes) if f.additive else None,
    "log": lambda op, f: None if f.additive else Shift(True, f.coef, f.axes),
    "copy": lambda op, f: f,
    "transpose": lambda op, f: Shift(f.additive, f.coef, tuple(f.axes[a] for a in op.attr("axes"))),
    "expand_dims": _expand_rule,
    "reduce": _reduce_rule,
    "getitem": _getitem_rule,
}
