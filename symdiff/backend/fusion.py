"""Loop fusion for the Numba backend.

Numba fuses the operators of a single array expression into one loop, but not
a chain of statements: ``t = a * b; u = t + 1.0`` makes two passes and a
temporary. This pass groups consecutive elementwise ops that run over the same
symbolic shape (see `symdiff.transforms.shapes`) and emits each group as one
explicit loop nest of scalar code, the way a hand-written gradient is written:

- arguments from outside the group are read element by element, with
  broadcasting (size-1 and missing axes) resolved statically;
- unit-step slices and newaxis views are read through shifted indices;
- reductions over the group's arrays (``np.sum``, ``mean``, ``max``...)
  accumulate inside the loop;
- adjoint scatter-adds into a fresh buffer (``x_bar[1:] += g``) become
  ``x_bar[i + 1] += g_i``;
- only values read after the group are written to arrays.

Transcendental ufuncs on arrays (`helpers.OBJMODE_UFUNCS`) go through the NumPy
dispatch helpers on large arrays (NumPy's SIMD loops are several times faster
than Numba's scalar libm there). A group may still contain them: it is then
*guarded*, emitted twice under a run-time test of its size, as one fused loop
below `helpers.UFUNC_OBJMODE_THRESHOLD` elements (no temporaries, no helper
call: what a small RNN state needs) and op by op above it. A guarded group
does not write index adjoints (``index_add``), which the two paths would
have to agree on in place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from symdiff.backend import helpers
from symdiff.ir import indexing
from symdiff.ir.builder import const_value
from symdiff.ir.core import Block, Op, Value
from symdiff.ir.ops import NP_DTYPE
from symdiff.ir.registry import lookup
from symdiff.transforms.shapes import Dims, ShapeInfo

_REDUCE_KINDS = {"sum", "mean", "max", "min", "prod"}
LOOP_INDEX = ("i0", "i1", "i2", "i3", "i4", "i5", "i6", "i7")


@dataclass
class Group:
    """Ops fused into one loop nest over ``dims``."""

    dims: Dims
    ops: list[Op] = field(default_factory=list)
    values: set[Value] = field(default_factory=set)      # results of member ops
    sinks: set[Value] = field(default_factory=set)       # reduction results (after the loop)
    views: dict[Value, Op] = field(default_factory=dict)  # getitem views read elementwise

    @property
    def element_ops(self) -> int:
        return sum(1 for op in self.ops if op.name != "getitem")

    @property
    def guarded(self) -> bool:
        """Holds a transcendental: emitted fused only below the NumPy threshold."""
        return any(op.name in helpers.OBJMODE_UFUNCS for op in self.ops)


Item = Op | Group


def fusible_elementwise(name: str) -> bool:
    """Elementwise ops join loops as scalar code (the transcendentals of
    `helpers.OBJMODE_UFUNCS` make their group a guarded one)."""
    return lookup(name).elementwise


def _compatible(group: Group, op: Op) -> bool:
    """A guarded group takes no index_add, and a group with one takes no transcendental."""
    if op.name == "index_add":
        return not group.guarded
    if op.name in helpers.OBJMODE_UFUNCS:
        return not any(o.name == "index_add" for o in group.ops)
    return True


def loop_dims(op: Op, shapes: ShapeInfo) -> Dims | None:
    """The iteration space of ``op`` if it can join a fused loop, else None."""
    name = op.name
    if fusible_elementwise(name) or name in ("copy", "broadcast_like"):
        r = op.result
        if r.type.ndim == 0:
            return None
        dims = shapes.of(r)
        if all(_broadcastable(shapes.of(a), dims) for a in op.args[: 1 if name == "broadcast_like"
                                                                   else len(op.args)]):
            return dims
        return None
    if name == "reduce" and op.attr("kind") in _REDUCE_KINDS:
        return shapes.of(op.args[0])
    if name == "getitem" and _view_spec_ok(op):
        return shapes.of(op.result)
    if name == "index_add" and _view_spec_ok(op, first_index=2):
        g = op.args[1]
        if g.type.ndim == 0:
            return None
        return shapes.of(g)
    return None


def _broadcastable(src: Dims, dst: Dims) -> bool:
    if len(src) > len(dst):
        return False
    tail = dst[len(dst) - len(src):]
    return all(s == 1 or s == d for s, d in zip(src, tail, strict=True))


def _view_spec_ok(op: Op, first_index: int = 1) -> bool:
    """Basic indexing whose slices have unit step and a constant start."""
    spec = op.attr("spec")
    if indexing.is_advanced(spec):
        return False
    operands = iter(op.args[first_index:])
    for e in spec:
        if e in ("i",):
            next(operands)
        elif isinstance(e, tuple):
            _, has_start, has_stop, has_step = e
            start = next(operands) if has_start else None
            if has_stop:
                next(operands)
            step = next(operands) if has_step else None
            if step is not None and const_value(step) != 1:
                return False
            if start is not None and not isinstance(const_value(start), int):
                return False
    return True


def plan(block: Block, shapes: ShapeInfo, uses_after: Callable[[Value, int], bool],
         keep: frozenset[Op] = frozenset(), *, transcendentals: bool = True) -> list[Item]:
    """Split ``block``'s ops into plain ops and fused groups (in emission order).

    ``uses_after(v, k)`` tells whether anything after op ``k`` reads ``v``; ops in
    ``keep`` stay plain ops, in place. Without ``transcendentals`` the ufuncs of
    `helpers.OBJMODE_UFUNCS` are plain ops that end groups (no guarded groups).
    """
    items: list[Item] = []
    group: Group | None = None
    hoisted: list[Op] = []
    producer = {r: op for op in block.ops for r in op.results}

    def close() -> None:
        nonlocal group
        if group is not None:
            items.extend(hoisted)
            if group.element_ops >= 2 or group.sinks or any(o.name == "index_add" for o in group.ops):
                items.append(group)
            else:
                items.extend(group.ops)
        hoisted.clear()
        group = None

    for k, op in enumerate(block.ops):
        dims = loop_dims(op, shapes) if op not in keep and (
            transcendentals or op.name not in helpers.OBJMODE_UFUNCS) else None
        joins = dims is not None and group is not None and dims == group.dims \
            and not any(a in group.sinks for a in op.args) and _compatible(group, op) \
            and _index_add_ok(op, group, uses_after, k, producer)
        if joins:
            _add(group, op)
            continue
        depends = group is not None and any(a in group.values for a in op.args)
        barrier = op.name in ("index_add", "setitem", "if") or bool(op.regions) or op in keep
        if group is not None and not depends and not barrier and dims is None:
            hoisted.append(op)
            continue
        close()
        if dims is not None and _index_add_ok(op, None, uses_after, k, producer):
            group = Group(dims)
            _add(group, op)
        else:
            items.append(op)
    close()
    return items


def _index_add_ok(op: Op, group: Group | None, uses_after, k: int, producer: dict) -> bool:
    """An index_add joins a loop only when it writes a fresh buffer that nothing else reads.

    The buffer is a ``zeros_like`` made before the loop, or the result of an
    earlier index_add of the same loop (a chain of writes into one buffer).
    """
    if op.name != "index_add":
        return True
    base = op.args[0]
    if uses_after(base, k):
        return False
    if group is not None and base in _chain_results(group):
        return True
    source = producer.get(base)
    return source is not None and source.name in ("zeros_like", "zeros") and (
        group is None or base not in group.values)


def _chain_results(group: Group) -> set[Value]:
    return {o.result for o in group.ops if o.name == "index_add"}


def _add(group: Group, op: Op) -> None:
    group.ops.append(op)
    if op.name == "getitem":
        group.views[op.result] = op
    if op.name == "reduce":
        group.sinks.add(op.result)
    group.values.update(op.results)


# ------------------------------------------------------------------ emission


class GroupEmitter:
    """Writes one fused group as a loop nest, through the backend's line writer."""

    def __init__(self, writer, group: Group, shapes: ShapeInfo,
                 used_outside: Callable[[Value], bool], *, fresh_locals: bool = False) -> None:
        self.w = writer
        self.g = group
        self.shapes = shapes
        self.used_outside = used_outside
        # Loop-local scalars get names of their own (the guarded group's other path
        # defines the values' own names as arrays).
        self.fresh_locals = fresh_locals
        self.n = writer.names
        self.idx = list(LOOP_INDEX[: len(group.dims)])
        self.local: dict[Value, str] = {}

    def extent_expressions(self) -> list[str] | None:
        """A run-time expression for each loop extent, from an array the loop reads."""
        out: list[str | None] = [None] * len(self.g.dims)
        candidates = [a for op in self.g.ops for a in op.args
                      if a not in self.g.values and a.type.ndim > 0]
        candidates += [op.args[1] for op in self.g.ops if op.name == "broadcast_like"]
        for v in candidates:
            dims = self.shapes.of(v)
            for axis, d in enumerate(self.g.dims):
                if out[axis] is not None:
                    continue
                if d == 1:
                    out[axis] = "1"
                    continue
                for j, dv in enumerate(dims):
                    offset = _offset_between(dv, d)
                    if offset is not None:
                        shape = f"{self.n[v]}.shape[{j}]"
                        out[axis] = shape if not offset else (
                            f"{shape} + {offset}" if offset > 0 else f"{shape} - {-offset}")
                        break
        if any(e is None for e in out):
            return None
        return [e for e in out if e is not None]

    def emit(self, depth: int) -> bool:
        extents = self.extent_expressions()
        if extents is None:
            return False
        shape = "(" + "".join(e + ", " for e in extents) + ")"
        outputs = [op for op in self.g.ops if op.name not in ("reduce", "getitem", "index_add")
                   and self.used_outside(op.result)]
        for op in self.g.ops:
            if op.name == "getitem" and self.used_outside(op.result):
                self.w.emit_plain(op, depth)
        self.w.line(depth, f"# fused loop over {shape}")
        for op in outputs:
            self.w.line(depth, f"{self.n[op.result]} = np.empty({shape}, "
                               f"dtype={NP_DTYPE[op.result.type.dtype]})")
        for op in self.g.ops:
            if op.name == "reduce":
                self._init_reduction(op, depth, extents)
            if op.name == "index_add":
                self.n[op.result] = self.n[op.args[0]]
        body = depth
        for i, e in zip(self.idx, extents, strict=True):
            self.w.line(body, f"for {i} in range({e}):")
            body += 1
        needed = self._needed(outputs)
        for op in self.g.ops:
            if op in needed:
                self._emit_op(op, body, outputs)
        for op in self.g.ops:
            if op.name == "reduce" and op.attr("kind") == "mean":
                count = " * ".join(f"{extents[a]}" for a in self._reduced_axes(op))
                r = self.n[op.result]
                self.w.line(depth, f"{r} = {r} / ({count})")
        return True

    def _needed(self, outputs: list[Op]) -> set[Op]:
        """Member ops whose element values are read: by outputs, reductions, index writes,
        or other needed members (``broadcast_like`` reads only its first argument)."""
        producer = {r: op for op in self.g.ops for r in op.results}
        needed: set[Op] = set()
        stack = [op for op in self.g.ops
                 if op in outputs or op.name in ("reduce", "index_add")]
        while stack:
            op = stack.pop()
            if op in needed:
                continue
            needed.add(op)
            reads = op.args[:1] if op.name == "broadcast_like" else op.args
            stack.extend(producer[a] for a in reads if a in producer)
        return needed

    # -- pieces ----------------------------------------------------------------
    def _reduced_axes(self, op: Op) -> list[int]:
        axis = op.attr("axis")
        return list(range(len(self.g.dims))) if axis is None else list(axis)

    def _init_reduction(self, op: Op, depth: int, extents: list[str]) -> None:
        kind = op.attr("kind")
        r = op.result
        dtype = r.type.dtype
        init = {"sum": "0", "mean": "0", "prod": "1", "max": "-np.inf", "min": "np.inf"}[kind]
        if dtype == "f64" and init in ("0", "1"):
            init += ".0"
        if dtype != "f64" and kind in ("max", "min"):
            init = "np.iinfo(np.int64).min" if kind == "max" else "np.iinfo(np.int64).max"
        if r.type.ndim == 0:
            self.w.line(depth, f"{self.n[r]} = {init}")
            return
        reduced = set(self._reduced_axes(op))
        keep = op.attr("keepdims")
        dims = [("1" if a in reduced else e) for a, e in enumerate(extents) if keep or a not in reduced]
        shape = "(" + "".join(d + ", " for d in dims) + ")"
        self.w.line(depth, f"{self.n[r]} = np.full({shape}, {init}, dtype={NP_DTYPE[dtype]})")

    def element(self, v: Value) -> str:
        """Scalar expression for element [i...] of ``v`` (broadcast to the loop's dims)."""
        if v in self.local:
            return self.local[v]
        if v in self.g.views:
            return self._view_element(self.g.views[v])
        if v.type.ndim == 0:
            return self.n[v]
        dims = self.shapes.of(v)
        offset = len(self.g.dims) - len(dims)
        parts = ["0" if d == 1 and self.g.dims[offset + a] != 1 else self.idx[offset + a]
                 for a, d in enumerate(dims)]
        return f"{self.n[v]}[{', '.join(parts)}]"

    def _view_element(self, op: Op, first_index: int = 1, target: Value | None = None) -> str:
        """Element of ``x[spec]`` at the loop index, as an index into x itself."""
        x = op.args[0] if target is None else target
        spec = op.attr("spec")
        operands = iter(op.args[first_index:])
        result_axis = 0
        parts: list[str] = []
        for e in spec:
            if e == "i":
                parts.append(self.n[next(operands)])
            elif e == "n":
                result_axis += 1
            else:
                _, has_start, has_stop, has_step = e
                start = next(operands) if has_start else None
                if has_stop:
                    next(operands)
                if has_step:
                    next(operands)
                i = self.idx[result_axis]
                c = const_value(start) if start is not None else 0
                parts.append(i if not c else (f"{i} + {c}" if c > 0 else f"{i} - {-c}"))
                result_axis += 1
        consumed = sum(1 for e in spec if e != "n")
        for _ in range(x.type.ndim - consumed):
            parts.append(self.idx[result_axis])
            result_axis += 1
        base = self.element(x) if x in self.g.views else self.n[x]
        return f"{base}[{', '.join(parts)}]"

    def _emit_op(self, op: Op, depth: int, outputs: list[Op]) -> None:
        name = op.name
        if name == "getitem":
            return
        if name == "reduce":
            self._update_reduction(op, depth)
            return
        if name == "index_add":
            target = f"{self._view_element(op, first_index=2, target=op.args[0])}"
            target = target.replace(self.n[op.args[0]] + "[", self.n[op.result] + "[", 1)
            self.w.line(depth, f"{target} += {self.element(op.args[1])}")
            return
        if name == "broadcast_like":
            expr = self.element(op.args[0])
        elif name == "copy":
            expr = self.element(op.args[0])
        else:
            expr = _scalar_expression(self.w.ctx, op, [self.element(a) for a in op.args])
            expr = _fold_literals(expr)
        r = op.result
        local = self.w.fresh_name(self.n[r] + "_i") if op in outputs else \
            self.w.fresh_name(self.n[r] + "_s") if self.fresh_locals else self.n[r]
        if _is_atom(expr) and op not in outputs:
            self.local[r] = expr
            return
        self.w.line(depth, f"{local} = {expr}")
        self.local[r] = local
        if op in outputs:
            self.w.line(depth, f"{self.n[r]}[{', '.join(self.idx)}] = {local}")

    def _update_reduction(self, op: Op, depth: int) -> None:
        kind = op.attr("kind")
        v = self.element(op.args[0])
        r = self.n[op.result]
        if op.result.type.ndim:
            reduced = set(self._reduced_axes(op))
            keep = op.attr("keepdims")
            parts = [("0" if a in reduced else i) for a, i in enumerate(self.idx)
                     if keep or a not in reduced]
            r = f"{r}[{', '.join(parts)}]"
        if kind in ("sum", "mean"):
            self.w.line(depth, f"{r} += {v}")
        elif kind == "prod":
            self.w.line(depth, f"{r} *= {v}")
        else:
            cmp = ">" if kind == "max" else "<"
            tmp = self.w.fresh_name(f"{self.n[op.result]}_v")
            self.w.line(depth, f"{tmp} = {v}")
            self.w.line(depth, f"if {tmp} {cmp} {r} or {tmp} != {tmp}:")
            self.w.line(depth + 1, f"{r} = {tmp}")


def _offset_between(have, want) -> int | None:
    """c such that dimension ``want`` is ``have + c`` (affine symbols ``base@c``), else None."""
    if isinstance(have, int) or isinstance(want, int):
        return None if have != want else 0
    hb, _, ho = have.partition("@")
    wb, _, wo = want.partition("@")
    if hb != wb:
        return None
    return (int(wo) if wo else 0) - (int(ho) if ho else 0)


_ATOM = re.compile(r"^(-?[0-9.]+(e-?[0-9]+)?|\(?-?[0-9.]+\)?|[A-Za-z_][A-Za-z0-9_.]*(\[[^\[\]]*\])?)$")


_LITERAL_BINARY = re.compile(r"^\(?(-?[0-9.]+(?:e-?[0-9]+)?)\)? ([-+*/]) \(?(-?[0-9.]+(?:e-?[0-9]+)?)\)?$")


def _fold_literals(expr: str) -> str:
    """``1.0 * 100.0`` -> ``100.0``: arithmetic on two float literals, evaluated."""
    m = _LITERAL_BINARY.match(expr)
    if not m or "." not in m.group(1) + m.group(3):
        return expr
    a, op, b = float(m.group(1)), m.group(2), float(m.group(3))
    if op == "/" and b == 0.0:
        return expr
    value = a + b if op == "+" else a - b if op == "-" else a * b if op == "*" else a / b
    return repr(value) if value >= 0 else f"({value!r})"


def _is_atom(expr: str) -> bool:
    """A name, a number or a subscript ``name[...]``: safe to use without parentheses."""
    return bool(_ATOM.match(expr))


def _scalar_expression(ctx, op: Op, args: list[str]) -> str:
    """The op's own emitter (the registry's), applied to one element of each argument."""
    scalar_args = tuple(a if a.type.ndim == 0 else Value(a.type.with_ndim(0), a.name)
                        for a in op.args)
    scalar_op = Op(op.name, scalar_args, tuple(Value(r.type.with_ndim(0)) for r in op.results),
                   op.attrs)
    return lookup(op.name).emit(ctx, scalar_op, [x if _is_atom(x) else f"({x})" for x in args])
