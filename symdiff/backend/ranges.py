"""Which integer values of a function are provably nonnegative.

Numba wraps a negative integer index around (``i + n`` when ``i < 0``) unless the
index has an unsigned type. That select hides the index's affine form from
LLVM's loop analysis: a loop that updates ``a[i]`` and ``a[i + 1]`` is then not
vectorized ("unsafe indirect dependence"). The backend casts the indexes this
analysis proves nonnegative to ``np.uintp``, which is the same index for every
value it can take. A ``range`` loop's own variable needs no cast (LLVM derives
its bounds from the loop); arithmetic on it does, because Numba's integer adds
carry no no-wrap flag, so to LLVM ``i + 1`` might wrap around to a negative.

The analysis is a fixed point over the whole function (values are SSA, so one
set serves every region): constants, shapes and trip counts are nonnegative;
sums, products, ``max``/``min`` and floor division of nonnegative values are;
``a % b`` is for a nonnegative ``b`` (Python's sign rule, which Numba keeps; a
zero divisor raises, or gives 0 under NumPy's error model); a ``range`` loop's
variable is when it counts up from a nonnegative start, or down to a stop of at
least -1; an ``if`` result or a loop-carried
value is when every value that can reach it is. Carried values start optimistic
and are dropped until the set is consistent, so ``j = 0; ...; j = j + 1`` is
proved nonnegative.
"""

from __future__ import annotations

from collections.abc import Iterator

from symdiff.ir.core import Block, Function, Op, Value


def nonnegative_ints(fn: Function) -> frozenset[Value]:
    """The ``i64`` scalars of ``fn`` that are >= 0 on every execution."""
    ops = list(_walk(fn.body))
    consts = {op.results[0]: op.attr("value") for op in ops if op.name == "const"
              and isinstance(op.attr("value"), int) and not isinstance(op.attr("value"), bool)}
    carried = {p for op in ops for p in _carried_params(op) if _is_int(p)}
    assumed = set(carried)
    while True:
        proved = _prove(ops, assumed, consts)
        consistent = {p for p in assumed if all(v in proved for v in _sources(ops, p))}
        if consistent == assumed:
            return frozenset(proved)
        assumed = consistent


def range_variables(fn: Function) -> frozenset[Value]:
    """The variables of ``fn``'s ``for`` loops."""
    return frozenset(op.regions[-1].params[0] for op in _walk(fn.body) if op.name == "for")


def _prove(ops: list[Op], assumed: set[Value], consts: dict[Value, int]) -> set[Value]:
    """Values proved nonnegative, given ``assumed``: passes in program order until nothing
    new is proved (an ``if`` is visited before the ops of its branches)."""
    known = set(assumed)
    while True:
        size = len(known)
        for op in ops:
            for k, r in enumerate(op.results):
                if _is_int(r) and _result_nonnegative(op, k, known, consts):
                    known.add(r)
            if op.name == "for" and _loop_variable_nonnegative(op, known, consts):
                known.add(op.regions[-1].params[0])
        if len(known) == size:
            return known


def _result_nonnegative(op: Op, k: int, known: set[Value], consts: dict[Value, int]) -> bool:
    name, args = op.name, op.args
    if name == "const":
        return consts.get(op.results[0], -1) >= 0
    if name in ("shape", "range_length"):
        return True
    if name in ("add", "mul", "maximum", "minimum", "floordiv"):
        if name == "maximum":
            return any(a in known for a in args)
        return all(a in known for a in args)
    if name == "mod":
        return args[1] in known or consts.get(args[1], 0) > 0
    if name == "abs":
        return True
    if name == "if":
        return all(region.yields[k] in known for region in op.regions)
    if name in ("for", "while"):
        return op.regions[-1].params[k + (1 if name == "for" else 0)] in known
    return False


def _loop_variable_nonnegative(op: Op, known: set[Value], consts: dict[Value, int]) -> bool:
    start, stop, step = op.args[:3]
    step_value = consts.get(step)
    if step_value is None:
        return False
    if step_value > 0:
        return start in known
    stop_value = consts.get(stop)
    return stop in known or (stop_value is not None and stop_value >= -1)


def _carried_params(op: Op) -> tuple[Value, ...]:
    if op.name == "for":
        return op.regions[-1].params[1:]
    if op.name == "while":
        return op.regions[-1].params + op.regions[0].params
    return ()


def _sources(ops: list[Op], param: Value) -> Iterator[Value]:
    """The values a loop-carried parameter takes: its initial and its next value."""
    for op in ops:
        if op.name not in ("for", "while"):
            continue
        body = op.regions[-1]
        params = body.params[1:] if op.name == "for" else body.params
        inits = op.args[3:] if op.name == "for" else op.args
        if op.name == "while" and param in op.regions[0].params:
            j = op.regions[0].params.index(param)
            yield inits[j]
            yield body.yields[j]
        elif param in params:
            j = params.index(param)
            yield inits[j]
            yield body.yields[j]


def _walk(block: Block) -> Iterator[Op]:
    for op in block.ops:
        yield op
        for region in op.regions:
            yield from _walk(region)


def _is_int(v: Value) -> bool:
    return v.type.dtype == "i64" and v.type.ndim == 0
