"""IR -> Python source.

Each op becomes one statement built as an `ast` node and written with
``ast.unparse``; ``# line N: <source>`` comments mark where the user's lines
begin. Values keep the user's names (``w``), adjoints read ``w_bar``. The
functional updates ``index_add`` and ``setitem`` are written in place when their base array
is fresh and dead afterwards, so an adjoint of an indexing never copies.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from symdiff.backend import fusion, helpers, ranges
from symdiff.ir import indexing
from symdiff.ir.core import Block, Function, Op, Value
from symdiff.ir.names import assign_names
from symdiff.ir.registry import lookup
from symdiff.transforms.activity import carried_parts
from symdiff.transforms.shapes import ShapeInfo

# Loop fusion on the Numba target (SYMDIFF_FUSION=0 turns it off, for comparison and debugging).
FUSION = os.environ.get("SYMDIFF_FUSION", "1") != "0"



@dataclass
class EmitContext:
    """What emitters may ask of the backend: the target, and module-level helpers."""

    numba: bool
    helper_sources: dict[str, str] = field(default_factory=dict)

    def helper(self, name: str, source: str) -> str:
        """Define helper ``name`` once in the generated module; returns its (prefixed) name."""
        full = "_sd" + name
        self.helper_sources.setdefault(full, source.replace(f"def {name}(", f"def {full}(", 1))
        return full


@dataclass(frozen=True)
class GeneratedModule:
    source: str
    entry: str


def generate_module(fn: Function, *, numba: bool, header: str = "",
                    main_file: str | None = None,
                    return_expr: Callable[[list[str]], str] | None = None) -> GeneratedModule:
    """Python source of a module defining ``fn`` (and any helpers it needs)."""
    ctx = EmitContext(numba=numba)
    names = assign_names(fn, reserved=set(fusion.LOOP_INDEX))
    writer = _Writer(ctx, names, main_file)
    writer.params = frozenset(fn.params)
    writer.definitions = {r: op for op in fn.body.walk() for r in op.results}
    writer.flows = _value_flows(fn)
    if numba and FUSION:
        writer.shapes = ShapeInfo().analyze_function(fn)
    if numba:
        writer.unsigned = ranges.nonnegative_ints(fn) - ranges.range_variables(fn)
    writer.block(fn.body, 1)
    ret_names = [names[v] for v in fn.returns]
    if return_expr is not None:
        ret = return_expr(ret_names)
    else:
        ret = ret_names[0] if len(ret_names) == 1 else ", ".join(ret_names)
    writer.line(1, f"return {ret}")
    params = ", ".join(names[p] for p in fn.params)
    decorator = '@numba.njit(cache=True, error_model="numpy")\n' if numba else ""
    parts = [header.rstrip() + "\n" if header else "",
             "import numpy as np\n"]
    if numba:
        parts.append("import math\n\nimport numba\n\n"
                     "from symdiff.backend.runtime import contiguous as _sd_contig\n")
    else:
        parts.append("\nfrom symdiff.backend.runtime_numpy import unbroadcast as _unbroadcast\n")
        if any("_unbroadcast_to(" in line for line in writer.lines):
            parts.append("from symdiff.backend.runtime_numpy import unbroadcast_to as "
                         "_unbroadcast_to\n")
    for src in ctx.helper_sources.values():
        # a helper may bring its own decorator (helpers._REASSOC)
        parts.append("\n\n" + (src if src.startswith("@") else decorator + src))
    parts.append(f"\n\n{decorator}def {fn.name}({params}):\n")
    parts.append("\n".join(writer.lines) + "\n")
    return GeneratedModule("".join(parts), fn.name)


class _Writer:
    def __init__(self, ctx: EmitContext, names: dict[Value, str], main_file: str | None) -> None:
        self.ctx = ctx
        self.names = names
        self.lines: list[str] = []
        self.main_file = main_file
        self.last_comment: tuple[str, int] | None = None
        self.shapes: ShapeInfo | None = None
        self.taken: set[str] = set(names.values())
        self.params: frozenset[Value] = frozenset()  # the function's parameters
        self.definitions: dict[Value, Op] = {}  # every op result of the function -> its op
        # results of if/for/while and loop-carried parameters -> the values they may be
        self.flows: dict[Value, list[Value]] = {}
        self.owned: set[Value] = set()  # loop-carried arrays each iteration may overwrite
        self.direct_uses: dict[Value, int] = {}  # last reads in the current block, loops aside
        # values an enclosing block reads after the op whose region is being emitted
        self.live_outside: frozenset[Value] = frozenset()
        # producers in the enclosing branches, up to the innermost loop body: a fresh
        # array made there may be updated in place inside a branch
        self.enclosing: dict[Value, Op] = {}
        self.accumulate: dict[Op, Op] = {}  # in-place `acc + outer(a, b)` of the current block
        # integer indexes proved nonnegative, written as np.uintp so Numba skips the
        # negative-index wraparound and LLVM sees the index's affine form (ranges.py)
        self.unsigned: frozenset[Value] = frozenset()

    def fresh_name(self, base: str) -> str:
        """An identifier no value of the function uses (for loop-local temporaries)."""
        candidate, k = base, 0
        while candidate in self.taken:
            k += 1
            candidate = f"{base}_{k}"
        self.taken.add(candidate)
        return candidate

    def line(self, depth: int, text: str) -> None:
        pad = "    " * depth
        self.lines.extend(pad + part for part in text.splitlines())

    def comment(self, depth: int, op: Op) -> None:
        loc = op.loc
        if loc is None or (loc.file, loc.line) == self.last_comment:
            return
        self.last_comment = (loc.file, loc.line)
        where = f"line {loc.line}"
        if self.main_file is not None and loc.file != self.main_file:
            where = f"{os.path.basename(loc.file)} line {loc.line}"
        text = loc.text.strip()
        self.line(depth, f"# {where}: {text}" if text else f"# {where}")

    def comment_lines(self, depth: int, ops: list[Op]) -> None:
        """One comment per distinct source line of ``ops``, in line order (for fused loops)."""
        seen: dict[tuple[str, int], Op] = {}
        for op in ops:
            if op.loc is not None:
                seen.setdefault((op.loc.file, op.loc.line), op)
        for key in sorted(seen, key=lambda k: (k[0] != self.main_file, k[0], k[1])):
            self.comment(depth, seen[key])

    def block(self, block: Block, depth: int) -> None:
        uses = _later_uses(block)
        direct = _later_uses(block, through_loops=False)
        position = {op: k for k, op in enumerate(block.ops)}
        producers = {r: op for op in block.ops for r in op.results}
        for op in block.ops:
            if op.name == "const":
                self.names[op.result] = _literal(self.ctx, op)
        self.accumulate = self.outer_accumulations(block, uses, producers)
        items: list = list(block.ops)
        keep = frozenset(o for pair in self.accumulate.items() for o in pair)
        if self.shapes is not None:
            items = fusion.plan(block, self.shapes, lambda v, k: uses.get(v, -1) > k, keep)
        self.emit_items(items, block, depth, position, producers, uses, direct, keep)

    def emit_items(self, items: list, block: Block, depth: int, position: dict[Op, int],
                   producers: dict[Value, Op], uses: dict[Value, int],
                   direct: dict[Value, int], keep: frozenset[Op]) -> None:
        """Emit planned ``items`` of ``block`` (plain ops and fused groups)."""
        for item in items:
            if isinstance(item, fusion.Group):
                members = set(item.ops)
                outside = _reads_outside(block, members)
                self.comment_lines(depth, item.ops)
                emitter = fusion.GroupEmitter(self, item, self.shapes, outside.__contains__,
                                              fresh_locals=item.guarded)
                extents = emitter.extent_expressions()
                if extents is not None and item.guarded:
                    # Small: one fused loop with scalar transcendentals. Large: the group's
                    # ops planned again with the transcendentals as NumPy calls.
                    size = " * ".join(extents)
                    self.line(depth, f"if {size} < {helpers.UFUNC_OBJMODE_THRESHOLD}:")
                    emitter.emit(depth + 1)
                    self.line(depth, "else:")
                    sub = Block((), tuple(item.ops), ())
                    where = [position[op] for op in item.ops]
                    parts = fusion.plan(sub, self.shapes,
                                        lambda v, j, where=where: uses.get(v, -1) > where[j],
                                        keep,
                                        transcendentals=False)
                    self.emit_items(parts, block, depth + 1, position, producers, uses, direct,
                                    keep)
                    continue
                if extents is not None and emitter.emit(depth):
                    continue
                for op in item.ops:
                    self.emit_op(op, depth, position[op], producers, uses)
                continue
            self.direct_uses = direct  # (nested blocks emitted meanwhile set their own)
            k = position[item]
            outside, enclosing = self.live_outside, self.enclosing
            if item.regions:
                # A branch may update in place what the if yields: a read of the if's
                # result after it is not a read of the branch's input.
                after = _later_uses(block, skip=item) if item.name == "if" else uses
                self.live_outside = outside | {v for v, last in after.items() if last > k}
                self.enclosing = {**enclosing, **producers} if item.name == "if" else {}
            self.emit_op(item, depth, k, producers, uses)
            self.live_outside, self.enclosing = outside, enclosing

    def outer_accumulations(self, block: Block, uses: dict[Value, int],
                            producers: dict[Value, Op]) -> dict[Op, Op]:
        """``acc + np.outer(a, b)`` pairs (add op -> outer op) to emit as one in-place
        loop nest: the adjoint of a matrix-vector product accumulated across a loop's
        iterations (``W_bar += outer(g, h)``) then allocates nothing."""
        if self.shapes is None:
            return {}
        reads: dict[Value, int] = {}
        for op in block.ops:
            for a in op.args:
                reads[a] = reads.get(a, 0) + 1
            for region in op.regions:
                for inner in region.walk():
                    for a in inner.args:
                        reads[a] = reads.get(a, 0) + 2
        for y in block.yields:
            reads[y] = reads.get(y, 0) + 2
        out: dict[Op, Op] = {}
        for k, op in enumerate(block.ops):
            if op.name != "add" or op.result.type.ndim != 2:
                continue
            for acc, term in (op.args, op.args[::-1]):
                source = producers.get(term)
                if source is None or source.name != "outer" or reads.get(term) != 1 \
                        or acc is term or acc.type.ndim != 2 \
                        or not self.may_overwrite(acc, k, producers, uses):
                    continue
                out[op] = source
                break
        return out

    def emit_outer_accumulation(self, op: Op, depth: int) -> None:
        n = self.names
        source = self.accumulate[op]
        acc = op.args[0] if op.args[1] is source.result else op.args[1]
        a, b = (n[v] for v in source.args)
        n[op.result] = n[acc]
        i, j = self.fresh_name("i0"), self.fresh_name("i1")
        a_i = self.fresh_name(f"{a}_i")
        # The shapes agree unless acc is broadcast (then accumulate out of place).
        self.line(depth, f"if {n[acc]}.shape[0] == {a}.shape[0] and "
                         f"{n[acc]}.shape[1] == {b}.shape[0]:")
        self.line(depth + 1, f"for {i} in range({a}.shape[0]):")
        self.line(depth + 2, f"{a_i} = {a}[{i}]")
        self.line(depth + 2, f"for {j} in range({b}.shape[0]):")
        self.line(depth + 3, f"{n[acc]}[{i}, {j}] += {a_i} * {b}[{j}]")
        self.line(depth, "else:")
        self.line(depth + 1, f"{n[acc]} = {n[acc]} + np.outer({a}, {b})")

    def emit_op(self, op: Op, depth: int, k: int, producers: dict[Value, Op],
                uses: dict[Value, int]) -> None:
        if op.name == "const":
            return
        if op in self.accumulate or op in self.accumulate.values():
            if op.name == "add":
                self.comment(depth, op)
                self.emit_outer_accumulation(op, depth)
            return
        self.comment(depth, op)
        if op.name == "if":
            self.emit_if(op, depth)
        elif op.name in ("for", "while"):
            self.emit_loop(op, depth, k, producers, uses)
        elif op.name in ("index_add", "setitem"):
            self.emit_update(op, depth, in_place=self.may_overwrite(op.args[0], k, producers, uses))
        else:
            self.emit_plain(op, depth)

    def emit_plain(self, op: Op, depth: int) -> None:
        operands = [self.names[a] for a in op.args]
        if op.name == "getitem" and not indexing.is_advanced(op.attr("spec")):
            operands[1:] = self.index_operands(op.attr("spec"), op.args[1:])
        expr = lookup(op.name).emit(self.ctx, op, operands)
        self.assign(depth, op.results, expr)

    def index_operands(self, spec: tuple, operands: tuple[Value, ...]) -> list[str]:
        """Names of a basic index's operands, its integer entries cast to ``np.uintp``
        where ``self.unsigned`` proves them nonnegative (constants are left as written)."""
        texts = [self.names[v] for v in operands]
        position = 0
        for entry in spec:
            if entry == "i":
                v = operands[position]
                if v in self.unsigned and not texts[position].lstrip("-").isdigit():
                    texts[position] = f"np.uintp({texts[position]})"
                position += 1
            elif entry == "a":
                position += 1
            elif entry != "n":
                position += sum(entry[1:])
        return texts

    def assign(self, depth: int, targets: tuple[Value, ...], expr: str) -> None:
        node = ast.Assign(
            targets=[ast.Name(", ".join(self.names[t] for t in targets), ctx=ast.Store())],
            value=ast.parse(expr, mode="eval").body, lineno=0)
        self.line(depth, ast.unparse(node))

    def may_overwrite(self, base: Value, k: int, producers: dict[Value, Op],
                      uses: dict[Value, int]) -> bool:
        """True when ``base`` is a fresh array of this block that nothing reads after op k."""
        if uses.get(base, -1) > k or base in self.live_outside:
            return False
        if base in self.owned:
            return True  # a loop-carried array the loop keeps private
        producer = producers.get(base) or self.enclosing.get(base)
        if producer is not None and producer.name == "if":
            # Each branch yields an array of its own or one this block may overwrite.
            j = producer.results.index(base)
            return all(self._yields_own(region, region.yields[j], k, producers, uses)
                       for region in producer.regions)
        return producer is not None and _fresh(producer)

    def _yields_own(self, region: Block, y: Value, k: int, producers: dict[Value, Op],
                    uses: dict[Value, int]) -> bool:
        inner = next((o for o in region.ops if y in o.results), None)
        if inner is None:
            return self.may_overwrite(y, k, producers, uses)
        if inner.name == "if":
            j = inner.results.index(y)
            return all(self._yields_own(r, r.yields[j], k, producers, uses)
                       for r in inner.regions)
        return _fresh(inner)

    def emit_loop(self, op: Op, depth: int, k: int, producers: dict[Value, Op],
                  uses: dict[Value, int]) -> None:
        """A ``for`` or ``while``: each carried value lives in one variable (the body's
        parameter), assigned its initial value before the loop and its next value at
        the end of each iteration; after the loop the results are those variables.

        A carried array the body may write in place is kept private to the loop: its
        initial value is copied unless it is a fresh array nothing reads after the
        loop, and it stays private while every iteration yields a fresh array.
        """
        n = self.names
        body = op.regions[-1]
        inits = op.args[3:] if op.name == "for" else op.args
        params = body.params[1:] if op.name == "for" else body.params
        yielded = list(body.yields)
        private: set[Value] = set()  # carried arrays that own their memory from entry on
        for init, param, y in zip(inits, params, body.yields, strict=True):
            if param.type.ndim == 0:
                continue
            fresh_next = y is param or (_fresh_next(y, body, param) and yielded.count(y) == 1)
            if not fresh_next:
                continue
            self.owned.add(param)
            direct = self.direct_uses
            init_private = (init in self.owned or (init in producers and _fresh(producers[init]))) \
                and direct.get(init, -1) <= k and list(inits).count(init) == 1
            if not init_private and _writes_in_place(body, param):
                self.line(depth, f"{n[param]} = {n[init]}.copy()")
                private.add(param)
                continue
            if init_private:
                private.add(param)
            self.line(depth, f"{n[param]} = {n[init]}")
        for init, param in zip(inits, params, strict=True):
            if param.type.ndim == 0 or param not in self.owned:
                self.line(depth, f"{n[param]} = {n[init]}")
        if op.name == "for":
            start, stop, step = (n[a] for a in op.args[:3])
            stop_text = stop if step == "1" else f"{stop}, {step}"
            bounds = stop if start == "0" and step == "1" else f"{start}, {stop_text}"
            self.line(depth, f"for {n[body.params[0]]} in range({bounds}):")
        else:
            self.line(depth, "while True:")
            cond = op.regions[0]
            for p, cp in zip(params, cond.params, strict=True):
                n[cp] = n[p]
            saved = self.last_comment
            self.block(cond, depth + 1)
            self.last_comment = saved
            self.line(depth + 1, f"if not {n[cond.yields[0]]}:")
            self.line(depth + 2, "break")
        saved = self.last_comment
        self.block(body, depth + 1)
        self.last_comment = saved
        pairs = [(n[p], n[y]) for p, y in zip(params, body.yields, strict=True) if n[p] != n[y]]
        if pairs:
            self.line(depth + 1, f"{', '.join(p for p, _ in pairs)} = "
                                 f"{', '.join(y for _, y in pairs)}")
        elif not body.ops and op.name == "for":
            self.line(depth + 1, "pass")
        for r, p in zip(op.results, params, strict=True):
            n[r] = n[p]
            if p in private:
                self.owned.add(r)  # the loop's private array, now free for later writes

    def emit_update(self, op: Op, depth: int, in_place: bool) -> None:
        """``index_add`` (``+=``) or ``setitem`` (``=``) into its base, or into a copy of it."""
        base, g, *index = op.args
        spec = op.attr("spec")
        n = self.names
        if in_place:
            n[op.result] = n[base]
        else:
            self.assign(depth, op.results, f"{n[base]}.copy()")
        target = n[op.result]
        idx = [n[v] for v in index]
        if not indexing.is_advanced(spec):
            idx = self.index_operands(spec, tuple(index))
        if indexing.is_advanced(spec):
            if self.ctx.numba:
                kinds = tuple(e for e in spec if e in ("i", "a"))
                tag = "".join(kinds) + f"_{base.type.ndim}d"
                name = self.ctx.helper(*helpers.index_add_helper(tag, len(idx), kinds))
                self.line(depth, f"{name}({target}, {n[g]}, {', '.join(idx[:len(kinds)])})")
            else:
                lead = idx[:sum(1 for e in spec if e in ("i", "a"))]
                self.line(depth, f"np.add.at({target}, ({', '.join(lead)},), {n[g]})")
            return
        g_text = n[g]
        if "n" in spec:
            g_text = f"{n[g]}[{_drop_newaxis(spec, g.type.ndim)}]"
            spec = tuple(e for e in spec if e != "n")
        index_text = indexing.format_index(spec, idx)
        operator = "+=" if op.name == "index_add" else "="
        rank = base.type.ndim - g.type.ndim
        sliced = [k for k, e in enumerate(spec) if isinstance(e, tuple)]
        if self.ctx.numba and g_text == n[g] and g.type.ndim == 1 and len(sliced) == 1 \
                and len(spec) == base.type.ndim \
                and all(e == "i" for k, e in enumerate(spec) if k != sliced[0]):
            self.emit_slice_update(depth, target, spec, idx, sliced[0], operator, g_text,
                                   self.apart(g, base))
            return
        if self.ctx.numba and g_text == n[g] and g.type.ndim >= 1 and rank >= 1 \
                and spec == ("i",) * rank:
            same = self.same_trailing_dims(g, base)
            if g.type.ndim == 1 or same:
                self.emit_entry_update(depth, target, index_text, operator, g_text,
                                       g.type.ndim, rank, same, self.apart(g, base))
                return
        self.line(depth, f"{target}[{index_text}] {operator} {g_text}")

    def emit_entry_update(self, depth: int, target: str, index: str, operator: str, g: str,
                          ndim: int, rank: int, same: bool, apart: bool) -> None:
        """``target[index] = g`` / ``+= g`` (``index`` integers, ``g`` an ``ndim``-d entry
        such as a row) as explicit loops.

        Numba's array-valued slice assignment builds an array expression per call, and
        the first one a process compiles costs it about 1.5 s of compilation; these
        loops cost neither. NumPy's semantics are kept: ``g`` is copied first unless it
        cannot share memory with ``target`` (``apart``), as NumPy copies overlapping
        operands; unless the shape analysis proved the shapes equal (``same``), a 1-d
        ``g`` of length 1 broadcasts and another length raises ValueError (an entry of
        more dimensions is written this way only when ``same``).
        """
        qs = [self.fresh_name("q") for _ in range(ndim)]
        shape = ", ".join(f"{g}.shape[{k}]" for k in range(ndim))
        inner = depth
        if not same:
            self.line(depth, f"if {g}.shape[0] == {target}.shape[{rank}]:")
            inner = depth + 1
        source = g if apart else self.copied(inner, g, qs, shape)
        at = ", ".join(qs)
        self.nested_loops(inner, qs, g, f"{target}[{index}, {at}] {operator} {source}[{at}]")
        if not same:
            self.broadcast_or_raise(depth, g, qs[0], f"{target}.shape[{rank}]",
                                    lambda q: f"{target}[{index}, {q}]", operator, "row")

    def emit_slice_update(self, depth: int, target: str, spec: tuple, operands: list[str],
                          axis: int, operator: str, g: str, apart: bool) -> None:
        """``target[..., a:b:c, ...] = g`` / ``+= g``: a vector into a slice along ``axis``
        (the other entries integers), as a loop over ``slice(a, b, c).indices(n)``, for
        the reasons and with the semantics of `emit_entry_update` (a ``g`` of length 1
        broadcasts, another length raises)."""
        index, parts, k = [], [], 0
        for position, entry in enumerate(spec):
            if position == axis:
                for present in entry[1:]:
                    parts.append(operands[k] if present else "None")
                    k += present
                index.append("")
            else:
                index.append(operands[k])
                k += 1
        start, stop, step, count = (self.fresh_name(f"{target}_{x}")
                                    for x in ("start", "stop", "step", "n"))
        q = self.fresh_name("q")

        def element(i: str) -> str:
            at = [f"{start} + {i} * {step}" if p == axis else e for p, e in enumerate(index)]
            return f"{target}[{', '.join(at)}]"

        self.line(depth, f"{start}, {stop}, {step} = slice({', '.join(parts)})"
                         f".indices({target}.shape[{axis}])")
        self.line(depth, f"{count} = len(range({start}, {stop}, {step}))")
        self.line(depth, f"if {g}.shape[0] == {count}:")
        source = g if apart else self.copied(depth + 1, g, [q], f"{g}.shape[0]")
        self.line(depth + 1, f"for {q} in range({count}):")
        self.line(depth + 2, f"{element(q)} {operator} {source}[{q}]")
        self.broadcast_or_raise(depth, g, q, count, element, operator, "slice")

    def copied(self, depth: int, g: str, qs: list[str], shape: str) -> str:
        """Emit a copy of ``g`` (of ``shape``) by loops; returns the copy's name."""
        name = self.fresh_name(f"{g}_copy")
        self.line(depth, f"{name} = np.empty(({shape},), dtype=np.float64)")
        self.nested_loops(depth, qs, g, f"{name}[{', '.join(qs)}] = {g}[{', '.join(qs)}]")
        return name

    def broadcast_or_raise(self, depth: int, g: str, q: str, count: str,
                           element: Callable[[str], str], operator: str, what: str) -> None:
        """The ``elif``/``else`` arms after a same-length loop (index ``q``): a ``g`` of
        length 1 is broadcast over the ``count`` elements; another length raises
        ValueError, as NumPy does."""
        first = self.fresh_name(f"{g}_0")
        self.line(depth, f"elif {g}.shape[0] == 1:")
        self.line(depth + 1, f"{first} = {g}[0]")
        self.line(depth + 1, f"for {q} in range({count}):")
        self.line(depth + 2, f"{element(q)} {operator} {first}")
        self.line(depth, "else:")
        message = (f"could not broadcast input array into the {what} it is written to"
                   if operator == "=" else "operands could not be broadcast together")
        self.line(depth + 1, f"raise ValueError({message!r})")

    def nested_loops(self, depth: int, qs: list[str], over: str, statement: str) -> None:
        for k, q in enumerate(qs):
            self.line(depth + k, f"for {q} in range({over}.shape[{k}]):")
        self.line(depth + len(qs), statement)

    def same_trailing_dims(self, g: Value, base: Value) -> bool:
        """True when the shape analysis proved ``g``'s shape equal to ``base``'s last axes."""
        if self.shapes is None:
            return False
        dims, base_dims = self.shapes.of(g), self.shapes.of(base)
        return dims == base_dims[len(base_dims) - len(dims):]

    def apart(self, g: Value, base: Value) -> bool:
        """True when ``g`` provably shares no memory with ``base``: every array either
        may be (`memory_roots`) is known, and none is common to both. Two parameters
        may be one array: a parameter on both sides is not apart."""
        mine, theirs = self.memory_roots(g), self.memory_roots(base)
        if mine is None or theirs is None or not mine.isdisjoint(theirs):
            return False
        return not (mine & self.params and theirs & self.params)

    def memory_roots(self, v: Value) -> frozenset[Value] | None:
        """The arrays whose memory ``v`` may be (part of): function parameters and results
        of ops that allocate, found through views, branch results and loop-carried
        values (their initial values and yields); None when one cannot be traced."""
        roots: set[Value] = set()
        seen: set[Value] = set()
        pending = [v]
        while pending:
            u = pending.pop()
            if u in seen:
                continue
            seen.add(u)
            if u in self.params:
                roots.add(u)
            elif u in self.flows:
                pending.extend(self.flows[u])
            elif u in self.definitions and _fresh(self.definitions[u]):
                roots.add(u)
            elif u in self.definitions and lookup(self.definitions[u].name).view:
                pending.append(self.definitions[u].args[0])
            else:
                return None  # a region parameter not carried by a loop, or an unknown result
        return frozenset(roots)

    def emit_if(self, op: Op, depth: int) -> None:
        n = self.names
        self.line(depth, f"if {n[op.args[0]]}:")
        for k, region in enumerate(op.regions):
            if k == 1:
                self.line(depth, "else:")
            saved = self.last_comment
            self.block(region, depth + 1)
            self.last_comment = saved
            if op.results:
                targets = ", ".join(n[r] for r in op.results)
                values = ", ".join(n[y] for y in region.yields)
                self.line(depth + 1, f"{targets} = {values}")
            elif not region.ops:
                self.line(depth + 1, "pass")


def _fresh(producer: Op) -> bool:
    """True when ``producer`` returns a new array (not a view, not a control-flow result)."""
    return not (lookup(producer.name).view or producer.regions)


def _fresh_next(y: Value, body: Block, param: Value) -> bool:
    """True when ``y``, yielded by a loop's ``body`` for the carried ``param``, is
    ``param`` itself or an array made in this iteration (through ifs whose branches
    yield such arrays)."""
    producers = {r: o for o in body.walk() for r in o.results}

    def own(v: Value) -> bool:
        if v is param:
            return True
        producer = producers.get(v)
        if producer is None:
            return False
        if producer.name == "if":
            k = producer.results.index(v)
            return all(own(region.yields[k]) for region in producer.regions)
        return _fresh(producer)

    return own(y)


def _writes_in_place(body: Block, param: Value) -> bool:
    """True when an op of ``body`` (or of a region inside it) may update ``param`` in
    place: an element write or scatter-add into it, an in-place accumulation into it,
    or a nested loop that takes it over; through any value that may share its memory
    (a view of it, an if result a branch yields it as, an earlier write's result)."""
    aliases = {param}
    for op in body.walk():
        if op.name in ("setitem", "index_add") and op.args[0] in aliases:
            return True
        if op.name == "add" and aliases & set(op.args):
            return True
        if op.name in ("for", "while") and aliases & set(op.args):
            return True
        if op.name == "if":
            aliases.update(r for k, r in enumerate(op.results)
                           if any(region.yields[k] in aliases for region in op.regions))
        elif lookup(op.name).view and op.args and op.args[0] in aliases:
            aliases.update(op.results)
    return False


def _literal(ctx: EmitContext, op: Op) -> str:
    text = lookup("const").emit(ctx, op, [])
    return f"({text})" if text.startswith("-") else text


def _reads_outside(block: Block, members: set[Op]) -> set[Value]:
    """Values read by ops of ``block`` outside ``members`` (nested regions included) or yielded."""
    reads: set[Value] = set(block.yields)
    for op in block.ops:
        if op in members:
            continue
        reads.update(op.args)
        for region in op.regions:
            for inner in region.walk():
                reads.update(inner.args)
            reads.update(_all_yields(region))
    return reads


def _drop_newaxis(spec: tuple, g_ndim: int) -> str:
    """Index into g (shaped like x[spec]) that removes the axes newaxis inserted."""
    parts: list[str] = []
    for e in spec:
        if e == "n":
            parts.append("0")
        elif isinstance(e, tuple):
            parts.append(":")
    return ", ".join(parts) if parts else "..."


def _later_uses(block: Block, through_loops: bool = True,
                skip: Op | None = None) -> dict[Value, int]:
    """For each value, the index of the last op of ``block`` that reads it (len for yields).

    A read of a view counts as a read of its base, and a read of an ``if``'s result as
    a read of the branch values (except through ``skip``); ``through_loops`` adds a
    loop's initial values (a loop that runs no iteration returns them)."""
    last: dict[Value, int] = {}
    for k, op in enumerate(block.ops):
        for a in op.args:
            last[a] = k
        for region in op.regions:
            for inner in region.walk():
                for a in inner.args:
                    last[a] = k
            for r in _all_yields(region):
                last[r] = k
    for y in block.yields:
        last[y] = len(block.ops)
    # A read of a view is a read of the array it views, and a read of an if's result may
    # be a read of either branch's value: extend last uses back along those chains.
    for op in reversed(block.ops):
        if op is skip:
            continue
        if lookup(op.name).view:
            if op.result.type.ndim == 0:
                continue  # an element read: a number, not a view
            sources = [(op.result, op.args[0])]
        elif op.name == "if":
            sources = [(r, region.yields[k]) for region in op.regions
                       for k, r in enumerate(op.results)]
        elif op.name in ("for", "while") and through_loops:
            inits = op.args[3:] if op.name == "for" else op.args
            sources = list(zip(op.results, inits, strict=True))
        else:
            continue
        for r, source in sources:
            if r in last:
                last[source] = max(last.get(source, -1), last[r])
    return last


def _all_yields(block: Block) -> list[Value]:
    out = list(block.yields)
    for op in block.walk():
        for r in op.regions:
            out.extend(r.yields)
    return out


def _value_flows(fn: Function) -> dict[Value, list[Value]]:
    """For each result of an ``if``/``for``/``while`` and each loop-carried parameter, the
    values it may be: the branches' yields, or the loop's initial value and yield."""
    flows: dict[Value, list[Value]] = {}
    for op in fn.body.walk():
        if op.name == "if":
            for k, r in enumerate(op.results):
                flows[r] = [region.yields[k] for region in op.regions]
        elif op.name in ("for", "while"):
            inits, carried, yields = carried_parts(op)
            for k, init in enumerate(inits):
                sources = [init, yields[k]]
                flows[op.results[k]] = sources
                for params in carried:
                    flows[params[k]] = sources
    return flows
