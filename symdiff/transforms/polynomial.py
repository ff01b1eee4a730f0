"""Polynomial collection of derivative code: sums of products re-emitted in Horner form.

Differentiating again and again builds sums of products of a few values: the n-th
derivative of ``tanh`` is a sum of products of powers of ``t = tanh(x)`` and
``s = 1 - t*t`` whose product-rule terms repeat and cancel. Each maximal tree of
``add``/``sub``/``neg``/``mul`` (and ``pow`` by a small integer constant) over one
float type is read as a polynomial in the values it starts from (its *atoms*), its
like terms are collected, and it is re-emitted by greedy multivariate Horner
(common monomial and constant factors out first), when that takes fewer ops.

Contract:

- Only derivative code is rewritten: ops whose results are in ``frozen`` (the
  user's own function) stay as written, so a user's deliberate evaluation order
  (compensated sums, ``(x + c) - c``) is never changed. Their results are atoms.
- Sums and differences with a constant (``1 - t*t``) are atoms too: expanding
  them into products is where floating-point cancellation comes from.
- A rewrite is refused when any like terms cancel to exactly zero (``a - a`` is NaN
  for infinite ``a``), when an atom disappears (it could change a broadcast shape),
  and when the polynomial grows past `MAX_TERMS` terms.
- The result is the same mathematical value with different rounding (like
  ``fastmath`` reassociation), and never has more ops than before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from symdiff.ir.builder import record
from symdiff.ir.core import Block, Function, Op, Value
from symdiff.ir.registry import lookup
from symdiff.ir.types import Type
from symdiff.transforms.simplify import block_reads, float_constants

MAX_TERMS = 48
MAX_POWER = 8

# A monomial: sorted ((atom index, exponent), ...); a polynomial: monomial -> coefficient.
Monomial = tuple[tuple[int, int], ...]
Poly = dict[Monomial, float]

_POLY_OPS = frozenset({"add", "sub", "neg", "mul", "pow"})


class _Refused(Exception):
    """This tree is not rewritten (cancellation, size); it stays as written."""


def collect_polynomials(fn: Function, frozen: set[Value]) -> Function:
    """``fn`` with each polynomial tree of derivative code re-emitted in Horner form
    where that takes fewer ops (see the module docstring for what is never touched)."""
    consts = float_constants(fn.body)
    body = _rewrite_block(fn.body, frozen, consts)
    return Function(fn.name, fn.params, body, fn.loc)


def _rewrite_block(block: Block, frozen: set[Value], consts: dict[Value, float]) -> Block:
    ops = [op if not op.regions else Op(op.name, op.args, op.results, op.attrs,
                                        tuple(_rewrite_block(r, frozen, consts)
                                              for r in op.regions), op.loc)
           for op in block.ops]
    producer = {op.result: op for op in ops if len(op.results) == 1}
    uses: Counter[Value] = Counter()
    for op in ops:
        uses.update(op.args)
        for region in op.regions:
            uses.update(block_reads(region))
    uses.update(block.yields)

    def is_poly(op: Op) -> bool:
        if op.name not in _POLY_OPS or op.result in frozen or op.result.type.dtype != "f64":
            return False
        if op.name == "pow":
            e = consts.get(op.args[1])
            return op.args[0].type == op.result.type and e is not None \
                and e == int(e) and 2 <= e <= MAX_POWER
        return all(a.type == op.result.type or a in consts for a in op.args)

    poly_users: Counter[Value] = Counter()
    for op in ops:
        if is_poly(op):
            poly_users.update(a for a in op.args if a in producer and is_poly(producer[a]))
    roots = [op for op in ops if is_poly(op) and poly_users[op.result] < uses[op.result]]

    for root in roots:
        trial = _rewrite_root(ops, root, producer, is_poly, consts)
        if trial is not None and _live_count(trial, block.yields) < _live_count(ops,
                                                                                block.yields):
            ops = trial
            producer = {op.result: op for op in ops if len(op.results) == 1}
    live = _live(ops, block.yields)
    return Block(block.params, tuple(op for op in ops if id(op) in live), block.yields)


def _rewrite_root(ops: list[Op], root: Op, producer: dict[Value, Op], is_poly,
                  consts: dict[Value, float]) -> list[Op] | None:
    atoms: list[Value] = []
    index: dict[Value, int] = {}

    def atom(v: Value) -> Poly:
        if v not in index:
            index[v] = len(atoms)
            atoms.append(v)
        return {((index[v], 1),): 1.0}

    memo: dict[Value, Poly] = {}

    def poly(v: Value) -> Poly:
        if v in memo:
            return memo[v]
        if v in consts:
            return {(): consts[v]}
        op = producer.get(v)
        if op is None or op is not root and not is_poly(op) or _shifted(op, consts):
            out = atom(v)
        else:
            args = [poly(a) for a in op.args]
            if op.name == "add":
                out = _add(args[0], args[1], 1.0)
            elif op.name == "sub":
                out = _add(args[0], args[1], -1.0)
            elif op.name == "neg":
                out = {m: -c for m, c in args[0].items()}
            elif op.name == "mul":
                out = _mul(args[0], args[1])
            else:
                out = args[0]
                for _ in range(int(consts[op.args[1]]) - 1):
                    out = _mul(out, args[0])
        if len(out) > MAX_TERMS:
            raise _Refused
        memo[v] = out
        return out

    if _shifted(root, consts):
        return None
    try:
        p = poly(root.result)
    except _Refused:
        return None
    used = {i for m in p for i, _ in m}
    if not used or used != set(range(len(atoms))):
        return None
    emitter = _Emitter(atoms, root)
    value = emitter.emit(p)
    new_ops = emitter.ops
    last = new_ops[-1] if new_ops and new_ops[-1].results == (value,) else None
    if last is None:  # the polynomial is one atom or constant: copy through a unit op
        return None
    new_ops[-1] = Op(last.name, last.args, root.results, last.attrs, (), root.loc)
    record(new_ops[-1])
    k = next(j for j, op in enumerate(ops) if op is root)
    return ops[:k] + new_ops + ops[k + 1:]


def _shifted(op: Op, consts: dict[Value, float]) -> bool:
    """``c + p`` or ``p - c`` with a nonzero constant: kept as written (an atom)."""
    return op.name in ("add", "sub") and any(consts.get(a, 0.0) != 0.0 for a in op.args)


def _add(p: Poly, q: Poly, sign: float) -> Poly:
    out = dict(p)
    for m, c in q.items():
        total = out.get(m, 0.0) + sign * c
        if total == 0.0:
            raise _Refused  # like terms cancel: a - a is not 0 for infinite a
        out[m] = total
    return out


def _mul(p: Poly, q: Poly) -> Poly:
    out: Poly = {}
    for m1, c1 in p.items():
        for m2, c2 in q.items():
            m = _mono_mul(m1, m2)
            total = out.get(m, 0.0) + c1 * c2
            if total == 0.0:
                raise _Refused
            out[m] = total
            if len(out) > MAX_TERMS:
                raise _Refused
    return out


def _mono_mul(a: Monomial, b: Monomial) -> Monomial:
    exps = dict(a)
    for i, e in b:
        exps[i] = exps.get(i, 0) + e
    return tuple(sorted(exps.items()))


class _Emitter:
    """Greedy multivariate Horner: common monomial out, common constant factor out,
    then ``p = a * q + r`` on the atom ``a`` in the most terms."""

    def __init__(self, atoms: list[Value], root: Op) -> None:
        self.atoms, self.type, self.loc = atoms, root.result.type, root.loc
        self.ops: list[Op] = []
        self.powers: dict[tuple[int, int], Value] = {}
        self.consts: dict[float, Value] = {}

    def _op(self, name: str, *args: Value) -> Value:
        v = Value(self.type)
        op = Op(name, args, (v,), (), (), self.loc)
        record(op)
        self.ops.append(op)
        return v

    def const(self, c: float) -> Value:
        if c not in self.consts:
            v = Value(Type("f64"), "c")
            op = Op("const", (), (v,), (("type", v.type), ("value", c)), (), self.loc)
            record(op)
            self.ops.append(op)
            self.consts[c] = v
        return self.consts[c]

    def power(self, i: int, e: int) -> Value:
        if e == 1:
            return self.atoms[i]
        if (i, e) not in self.powers:
            half = self.power(i, e // 2)
            v = self._op("mul", half, half)
            if e % 2:
                v = self._op("mul", v, self.atoms[i])
            self.powers[(i, e)] = v
        return self.powers[(i, e)]

    def monomial(self, m: Monomial) -> Value:
        values = [self.power(i, e) for i, e in m]
        out = values[0]
        for v in values[1:]:
            out = self._op("mul", out, v)
        return out

    def scaled(self, c: float, v: Value) -> Value:
        if c == 1.0:
            return v
        if c == -1.0:
            return self._op("neg", v)
        return self._op("mul", self.const(c), v)

    def times(self, v: Value, p: Poly) -> Value:
        """``v * p``, one scaling when ``p`` is a constant."""
        if len(p) == 1 and () in p:
            return self.scaled(p[()], v)
        return self._op("mul", v, self.emit(p))

    def emit(self, p: Poly) -> Value:
        if () in p and len(p) > 1:
            rest = {m: c for m, c in p.items() if m}
            return self._op("add", self.emit(rest), self.const(p[()]))
        if len(p) == 1:
            ((m, c),) = p.items()
            return self.scaled(c, self.monomial(m))
        common = _common_monomial(p.keys())
        if common:
            rest = {_mono_div(m, common): c for m, c in p.items()}
            return self.times(self.monomial(common), rest)
        factor = _common_factor(p.values())
        if factor != 1.0:
            return self.scaled(factor, self.emit({m: c / factor for m, c in p.items()}))
        counts = Counter(i for m in p for i, _ in m)
        a = min(counts, key=lambda i: (-counts[i], i))
        with_a = {_mono_div(m, ((a, 1),)): c for m, c in p.items() if dict(m).get(a)}
        rest = {m: c for m, c in p.items() if not dict(m).get(a)}
        if all(c < 0 for c in with_a.values()):
            return self._op("sub", self.emit(rest), self.times(self.atoms[a], _negated(with_a)))
        head = self.times(self.atoms[a], with_a)
        if all(c < 0 for c in rest.values()):
            return self._op("sub", head, self.emit(_negated(rest)))
        return self._op("add", head, self.emit(rest))


def _negated(p: Poly) -> Poly:
    return {m: -c for m, c in p.items()}


def _common_monomial(monomials: Iterable[Monomial]) -> Monomial:
    exps: dict[int, int] | None = None
    for m in monomials:
        d = dict(m)
        exps = d if exps is None else {i: min(e, d[i]) for i, e in exps.items() if i in d}
    return tuple(sorted((exps or {}).items()))


def _mono_div(m: Monomial, d: Monomial) -> Monomial:
    exps = dict(m)
    for i, e in d:
        exps[i] -= e
    return tuple(sorted((i, e) for i, e in exps.items() if e))


def _common_factor(coefficients: Iterable[float]) -> float:
    """The coefficient of smallest magnitude when every other one is an integer multiple
    of it, negative only when all coefficients are (a factor of +-1 is 1 unless all are
    negative: subtraction absorbs mixed signs); else 1."""
    cs = list(coefficients)
    smallest = abs(min(cs, key=abs))
    negative = all(c < 0 for c in cs)
    if smallest == 1.0 or not all(float(c / smallest).is_integer() for c in cs):
        return -1.0 if negative else 1.0
    return -smallest if negative else smallest


def _live(ops: list[Op], yields: tuple[Value, ...]) -> set[int]:
    """The ids of the ops of a block that its yields or its impure ops need."""
    needed = set(yields)
    keep: set[int] = set()
    for op in reversed(ops):
        if op.regions or not lookup(op.name).pure or any(r in needed for r in op.results):
            keep.add(id(op))
            needed.update(op.args)
            for region in op.regions:
                needed.update(block_reads(region))
    return keep


def _live_count(ops: list[Op], yields: tuple[Value, ...]) -> int:
    live = _live(ops, yields)
    return sum(1 for op in ops if id(op) in live and op.name != "const")
