"""Symbolic shapes: which dimensions are provably equal, and which are 1.

Every array value gets a tuple of dimensions, each either the integer 1 or a
symbol (a string). Two values whose dimension tuples are equal have equal
shapes at run time. Parameters start with fresh symbols; ops propagate them
(``shape(x, 0)`` carries x's first symbol into ``np.zeros(n)``, a keepdims
reduction puts a 1 where it reduced, a full slice keeps its symbol...).
Anything the analysis cannot follow gets a fresh symbol, which is always
safe: it only makes the transform emit a run-time check it could have
avoided.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Sequence

from symdiff.ir import indexing
from symdiff.ir.builder import const_value
from symdiff.ir.core import Block, Function, Op, Value
from symdiff.ir.registry import lookup

Dim = int | str  # the integer 1 (or another known length), or a symbol like "d3" / "d3-1"
Dims = tuple[Dim, ...]

_fresh_ids = itertools.count()


def fresh() -> str:
    return f"d{next(_fresh_ids)}"


# Dimensions a compiled specialization assumes its parameters have: symbols shared
# between parameters ("D0") for lengths that were equal at the call that compiled it,
# None for the others. The caller checks the equalities before every call (see
# `symdiff.api`), so code built on them is correct for every argument it receives.
_assumed: weakref.WeakKeyDictionary[Value, tuple[str | None, ...]] = weakref.WeakKeyDictionary()


def assume_dims(v: Value, dims: tuple[str | None, ...]) -> None:
    """Declare that parameter ``v``'s dimensions are ``dims`` (None: unknown)."""
    if len(dims) != v.type.ndim:
        raise ValueError(f"{len(dims)} dimensions assumed for a {v.type.ndim}-d value")
    _assumed[v] = dims


def assumed_dims(v: Value) -> tuple[str | None, ...] | None:
    return _assumed.get(v)


class ShapeInfo:
    """Dimensions of array values and the dimension an integer scalar equals."""

    def __init__(self) -> None:
        self.dims: dict[Value, Dims] = {}
        self.scalar_dim: dict[Value, Dim] = {}

    # -- queries -----------------------------------------------------------
    def of(self, v: Value) -> Dims:
        if v.type.ndim == 0:
            return ()
        if v not in self.dims:
            assumed = _assumed.get(v)
            self.dims[v] = tuple(fresh() for _ in range(v.type.ndim)) if assumed is None \
                else tuple(fresh() if d is None else d for d in assumed)
        return self.dims[v]

    def same(self, a: Value, b: Value) -> bool:
        return self.of(a) == self.of(b)

    def dim_of_scalar(self, v: Value) -> Dim:
        if v in self.scalar_dim:
            return self.scalar_dim[v]
        c = const_value(v)
        if isinstance(c, int) and not isinstance(c, bool) and c == 1:
            return 1
        d = fresh()
        self.scalar_dim[v] = d
        return d

    # -- analysis ------------------------------------------------------------
    def analyze_function(self, fn: Function) -> ShapeInfo:
        for p in fn.params:
            self.of(p)
        return self.analyze(fn.body)

    def analyze(self, block: Block) -> ShapeInfo:
        for op in block.ops:
            if op.name in ("for", "while"):
                self.analyze_loop(op)
                continue
            for region in op.regions:
                self.analyze(region)
            self.infer(op)
        return self

    def analyze_loop(self, op: Op) -> None:
        """A carried array keeps its initial value's dimensions when the body yields it
        back with the same ones (the usual case); otherwise its dimensions are unknown."""
        lead = 1 if op.name == "for" else 0
        inits = op.args[3:] if op.name == "for" else op.args
        body = op.regions[-1]
        regions_params = [r.params[lead if r is body else 0:] for r in op.regions]
        varying: set[int] = set()
        for _ in range(len(inits) + 1):
            for params in regions_params:
                for k, (p, init) in enumerate(zip(params, inits, strict=True)):
                    if p.type.ndim:
                        self.dims[p] = tuple(fresh() for _ in range(p.type.ndim)) \
                            if k in varying else self.of(init)
            for region in op.regions:
                self.analyze(region)
            changed = {k for k, (p, y) in enumerate(zip(regions_params[-1], body.yields,
                                                        strict=True))
                       if p.type.ndim and self.of(y) != self.of(p)} - varying
            if not changed:
                break
            varying |= changed
        for k, r in enumerate(op.results):
            if r.type.ndim:
                self.dims[r] = self.of(regions_params[-1][k])

    def infer(self, op: Op) -> None:
        """Record the dimensions of ``op``'s results."""
        name = op.name
        if name == "if":
            for k, r in enumerate(op.results):
                if r.type.ndim:
                    ys = [region.yields[k] for region in op.regions]
                    same = all(self.of(y) == self.of(ys[0]) for y in ys)
                    self.dims[r] = self.of(ys[0]) if same else tuple(fresh() for _ in range(r.type.ndim))
            return
        if len(op.results) != 1:
            return
        r = op.result
        if r.type.ndim == 0:
            if name == "shape":
                self.scalar_dim[r] = self.of(op.args[0])[op.attr("axis")]
            elif name == "const":
                c = op.attr("value")
                if isinstance(c, int) and not isinstance(c, bool) and c == 1:
                    self.scalar_dim[r] = 1
            return
        self.dims[r] = self._result_dims(op)

    def _result_dims(self, op: Op) -> Dims:
        name, args, r = op.name, op.args, op.result
        if lookup(name).elementwise:
            return broadcast_dims([self.of(a) for a in args])
        if name in ("zeros_like", "ones_like", "copy"):
            return self.of(args[0])
        if name in ("broadcast_like", "unbroadcast"):
            return self.of(args[1])
        if name in ("index_add", "setitem"):
            return self.of(args[0])
        if name in ("zeros", "ones", "empty"):
            return tuple(self.dim_of_scalar(a) for a in args)
        if name == "unbroadcast_to":
            return tuple(self.dim_of_scalar(a) for a in args[1:])
        if name == "full":
            return tuple(self.dim_of_scalar(a) for a in args[:-1])
        if name == "reshape":
            return tuple(self._reshape_dim(a) for a in args[1:])
        if name == "reduce":
            dims = self.of(args[0])
            axes = op.attr("axis")
            axes = range(len(dims)) if axes is None else axes
            if op.attr("keepdims"):
                return tuple(1 if k in axes else d for k, d in enumerate(dims))
            return tuple(d for k, d in enumerate(dims) if k not in axes)
        if name == "expand_dims":
            dims = list(self.of(args[0]))
            for ax in sorted(op.attr("axis")):
                dims.insert(ax, 1)
            return tuple(dims)
        if name == "transpose":
            dims = self.of(args[0])
            return tuple(dims[k] for k in op.attr("axes"))
        if name == "matmul":
            a, b = self.of(args[0]), self.of(args[1])
            if len(a) == 2 and len(b) == 2:
                return (a[0], b[1])
            if len(a) == 2:
                return (a[0],)
            return (b[1],)
        if name == "outer":
            return (self.of(args[0])[0], self.of(args[1])[0])
        if name == "arange":
            start = const_value(args[0])
            step = const_value(args[2]) if len(args) == 3 else 1
            if start == 0 and step == 1 and not isinstance(start, bool):
                return (self.dim_of_scalar(args[1]),)
            return (fresh(),)
        if name == "getitem":
            return self._getitem_dims(op)
        return tuple(fresh() for _ in range(r.type.ndim))

    def _reshape_dim(self, v: Value) -> Dim:
        c = const_value(v)
        if c == -1:
            return fresh()
        return self.dim_of_scalar(v)

    def _getitem_dims(self, op: Op) -> Dims:
        x, spec = op.args[0], op.attr("spec")
        dims = self.of(x)
        operands = list(op.args[1:])
        out: list[Dim] = []
        axis = 0
        advanced_done = False
        # Integer-array indices broadcast together: the result's first axis has their
        # common length, which is known only when all of them have the same symbol.
        arrays = [v for e, v in zip(_operand_entries(spec), op.args[1:], strict=True) if e == "a"]
        advanced_dim = broadcast_dims([self.of(v) for v in arrays])[0] if arrays else None
        for e in spec:
            count = indexing.operand_count(e)
            used, operands = operands[:count], operands[count:]
            if isinstance(e, tuple) and not indexing.is_full_slice(e):
                out.append(self._slice_dim(dims[axis], e, used))
                axis += 1
                continue
            if e == "n":
                out.append(1)
                continue
            if e == "a":
                if not advanced_done:
                    out.insert(0, advanced_dim)
                    advanced_done = True
                axis += 1
                continue
            if e == "i":
                axis += 1
                continue
            out.append(dims[axis] if indexing.is_full_slice(e) else fresh())
            axis += 1
        out.extend(dims[axis:])
        return tuple(out)


    def _slice_dim(self, n: Dim, entry: tuple, operands: list[Value]) -> Dim:
        """Length of ``x[start:stop]`` along a dimension of length ``n``, as ``n+c`` or ``c``.

        Only unit-step slices whose bounds are constants relative to the two
        ends (``x[1:]``, ``x[:-1]``, ``x[2:-3]``) are followed, as ``n+c``;
        NumPy clamps such lengths at zero, and two slices with equal forms
        clamp alike, so equal symbols stay equal lengths. Slices between two
        constants (``x[2:5]``) are clamped by n in ways a symbol cannot
        express, and get a fresh symbol.
        """
        _, has_start, has_stop, has_step = entry
        values = iter(operands)
        start = const_value(next(values)) if has_start else 0
        stop = const_value(next(values)) if has_stop else None
        step = const_value(next(values)) if has_step else 1
        if has_stop and not isinstance(stop, int):
            return fresh()
        if step != 1 or not isinstance(start, int) or isinstance(start, bool):
            return fresh()
        # bound = (uses n?, constant)
        lo = (start < 0, start)
        hi = (True, 0) if stop is None else (stop < 0, stop)
        uses_n = hi[0] - lo[0]
        offset = hi[1] - lo[1]
        if uses_n == 0:
            # x[2:5] has length 3 only when x is long enough (NumPy clamps): unknown.
            return fresh()
        if uses_n == 1:
            return _affine(n, offset)
        return fresh()


def _affine(n: Dim, offset: int) -> Dim:
    """The dimension ``n + offset`` in canonical form."""
    if offset == 0:
        return n
    if isinstance(n, int):
        return n + offset
    base, _, rest = n.partition("@")
    total = offset + (int(rest) if rest else 0)
    return base if total == 0 else f"{base}@{total}"


def _operand_entries(spec: tuple) -> list:
    """The spec entry each index operand belongs to, in operand order."""
    out: list = []
    for e in spec:
        out.extend([e] * indexing.operand_count(e))
    return out


def broadcast_dims(shapes: Sequence[Dims]) -> Dims:
    """NumPy broadcasting of symbolic shapes (a fresh symbol where it cannot tell)."""
    ndim = max((len(s) for s in shapes), default=0)
    out: list[Dim] = []
    for k in range(ndim):
        column = {s[k - ndim + len(s)] for s in shapes if k - ndim + len(s) >= 0}
        column.discard(1)
        if not column:
            out.append(1)
        elif len(column) == 1:
            out.append(column.pop())
        else:
            out.append(fresh())
    return tuple(out)


def reduction_plan(x: Dims, g: Dims) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """How to sum an adjoint shaped ``g`` back to ``x``'s shape.

    Returns (leading axes to sum away, axes of x that are 1 where g is not: sum
    with keepdims, axes that need a run-time check).
    """
    lead = tuple(range(len(g) - len(x)))
    tail = g[len(g) - len(x):]
    ones, unknown = [], []
    for k, (dx, dg) in enumerate(zip(x, tail, strict=True)):
        if dx == dg:
            continue
        if dx == 1:
            ones.append(k)
        else:
            unknown.append(k)
    return lead, tuple(ones), tuple(unknown)
