"""From a user function and argument kinds to a compiled callable.

`build` runs the compiler (lower, differentiate, simplify); `compile_transform`
adds the backend and the caches: an in-process table, then the disk cache,
then a fresh build.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FunctionType
from typing import Any

import symdiff
from symdiff.backend import cache
from symdiff.backend.emit import GeneratedModule, generate_module
from symdiff.errors import SymdiffError
from symdiff.frontend.keying import function_key
from symdiff.frontend.lower import Lowered, lower
from symdiff.ir.builder import Builder
from symdiff.ir.clone import replay
from symdiff.ir.core import Block, Function, Value, free_values, hint
from symdiff.ir.registry import lookup
from symdiff.ir.types import I64, Type
from symdiff.ir.verify import verify
from symdiff.transforms.forward import forward
from symdiff.transforms.hoist import hoist_row_products
from symdiff.transforms.polynomial import collect_polynomials
from symdiff.transforms.reverse import NotDifferentiableError, reverse
from symdiff.transforms.shapes import assume_dims
from symdiff.transforms.shifts import erase_stop_gradients, stop_shift_gradients
from symdiff.transforms.simplify import simplify

BACKENDS = ("numba", "python")
VERIFY = True  # run the verifier after every pass (cheap; catches transform bugs early)


@dataclass(frozen=True)
class Transform:
    """What to build from a function: ``kind`` with respect to ``argnums``.

    Kinds: ``primal``; ``grad`` and ``value_and_grad`` (reverse mode, scalar
    output); ``egrad`` (reverse mode seeded with ones: the elementwise gradient);
    ``jvp`` (forward mode: parameters gain one tangent per argnum, results are
    ``(outputs, output tangents)``); ``vjp`` (reverse mode with one cotangent
    parameter per output, results ``(outputs, adjoints)``); ``hvp`` (forward
    over reverse: the gradient's tangent, a Hessian-vector product).
    ``tuple_grads`` gives a tuple of gradients even for one argnum. ``inner`` is
    a transform applied first (``egrad(egrad(f))``): this one then
    differentiates its IR.
    """

    kind: str
    argnums: tuple[int, ...] = ()
    tuple_grads: bool = False
    inner: Transform | None = None

    @property
    def tag(self) -> str:
        nums = "".join(map(str, self.argnums))
        own = f"{self.kind}{nums}{'t' if self.tuple_grads else ''}"
        return own if self.inner is None else f"{own}_{self.inner.tag}"

    @property
    def chain(self) -> list[Transform]:
        """The transforms to apply, innermost first."""
        return ([] if self.inner is None else self.inner.chain) + [self]


@dataclass(frozen=True)
class Built:
    lowered: Lowered
    function: Function       # the final IR handed to the backend
    returns: str             # how the entry's results are returned: "single", "tuple", ...


def _checked(fn: Function) -> Function:
    if VERIFY:
        verify(fn)
    return fn


def own_results(fn: Function) -> Function:
    """Copy array results that are arguments or may be views of them.

    A caller must be able to modify what symdiff returns without changing its
    own inputs (``grad(lambda x, y: np.dot(x, y))`` would otherwise return y).
    """
    producers = {r: op for op in fn.body.ops for r in op.results}

    def root(v: Value) -> Value | None:
        """The array ``v`` may share memory with; None when that cannot be told."""
        p = producers.get(v)
        if p is not None and p.name == "if":
            return None  # either branch's value
        if p is None or not lookup(p.name).view:
            return v  # a parameter or a fresh array
        return root(p.args[0])

    b = Builder()
    for op in fn.body.ops:
        b.append(op)
    outs: list[Value] = []
    handed_out: set[Value] = set()
    for v in fn.returns:
        if v.type.ndim > 0:
            r = root(v)
            # Copy what may be an argument, or an array already returned (twice is once too many).
            if r is None or r in fn.params or r in handed_out:
                v = b.op("copy", v, name_hint=hint(v))
            else:
                handed_out.add(r)
        outs.append(v)
    return Function(fn.name, fn.params, Block((), tuple(b.ops), tuple(outs)), fn.loc)


# Per parameter, the dimensions a specialization assumes (`symdiff.transforms.shapes.
# assume_dims`): None for a scalar or for no assumption. See `dim_classes`.
DimClasses = tuple[tuple[str | None, ...] | None, ...]


def build(fn: FunctionType, kinds: tuple[Type, ...], transform: Transform,
          dims: DimClasses | None = None) -> Built:
    """Lower, differentiate and simplify ``fn`` for argument ``kinds``; ``dims`` names the
    array dimensions the caller guarantees equal (see `dim_classes`)."""
    lowered = lower(fn, kinds)
    ir = primal_ir(lowered.function)
    if dims is not None:
        for p, d in zip(ir.params, dims, strict=True):
            if d is not None:
                assume_dims(p, d)
    shape = "tuple" if lowered.returns_tuple else "single"
    # The user's own ops are never re-associated (see symdiff.transforms.polynomial).
    frozen = {r for op in ir.body.walk() for r in op.results}
    for t in transform.chain:
        ir, shape = derive(ir, t, fn.__name__, shape)
        ir = _checked(collect_polynomials(simplify(ir), frozen))
    final = _checked(own_results(simplify(erase_stop_gradients(ir))))
    final = Function(entry_name(fn, transform), final.params, final.body, final.loc)
    return Built(lowered, final, shape)


def primal_ir(lowered: Function) -> Function:
    """The lowered IR simplified, with loop-invariant row products hoisted out of its
    loops (`symdiff.transforms.hoist`) and maxima the results do not depend on wrapped
    in ``stop_gradient`` (`symdiff.transforms.shifts`): what every transform differentiates."""
    simplified = simplify(_checked(lowered))
    hoisted = hoist_row_products(simplified)
    if hoisted is not simplified:
        hoisted = simplify(hoisted)  # the row reads the products replaced may now be dead
    return _checked(stop_shift_gradients(hoisted))


def derive(ir: Function, t: Transform, name: str, shape: str) -> tuple[Function, str]:
    """The IR of transform ``t`` applied to ``ir`` (whose results are returned as
    ``shape``), and how the new results are returned."""
    if t.kind == "primal":
        return ir, shape
    for k in t.argnums:
        if not -len(ir.params) <= k < len(ir.params):
            raise SymdiffError(f"argnums {k} is out of range: {name} has "
                               f"{len(ir.params)} parameter(s)")
    wrt = [k % len(ir.params) for k in t.argnums]
    n_out = len(ir.returns)
    grads_shape = "tuple" if t.tuple_grads else "single"
    if _of_a_gradient(t) and (t.kind == "egrad" or all(v.type.ndim == 0 for v in ir.returns)):
        # ir is the gradient of a scalar function in this same argument: its Jacobian is
        # a Hessian, symmetric, so 1^T J (reverse mode) is J 1 (forward mode, no tapes).
        # (grad of an array-valued gradient goes on to reverse mode, which refuses it.)
        d = _checked(forward(simplify(ir), wrt, seed_ones=True))
        return _trimmed(d, d.body.yields[n_out:]), grads_shape
    if t.kind in ("grad", "egrad") and t.inner is not None and len(wrt) == 1 \
            and ir.params[wrt[0]].type == Type("f64") and len(ir.returns) == 1 \
            and ir.returns[0].type == Type("f64"):
        # The derivative of a scalar derivative in one scalar argument (a mixed partial
        # such as d/dy df/dx): one tangent sweep seeded with 1.0 is that derivative, and
        # forward mode goes through while loops, which reverse over reverse does not.
        d = _checked(forward(simplify(ir), wrt, seed_ones=True))
        return _trimmed(d, d.body.yields[n_out:]), grads_shape
    if t.kind in ("grad", "value_and_grad") and t.inner is not None \
            and any(v.type.ndim > 0 for v in ir.returns):
        at = f"{ir.loc}: " if ir.loc is not None else ""
        raise NotDifferentiableError(
            f"{at}{t.kind} of symdiff.{t.inner.kind}(...) needs the inner derivative to be a "
            f"scalar, but it is an array (its argument is an array); for second derivatives in an array use "
            f"symdiff.hessian(f) or symdiff.hvp(f) (symdiff.egrad(symdiff.grad(f)) gives the "
            f"Hessian's row sums)")
    if t.kind in ("grad", "egrad") and t.inner is not None and len(wrt) == 1 \
            and ir.params[wrt[0]].type == Type("f64", 1) and len(ir.returns) == 1 \
            and ir.returns[0].type == Type("f64"):
        try:
            d = _checked(reverse(simplify(ir), wrt, seed_ones=t.kind == "egrad"))
        except NotDifferentiableError:
            # Reverse over the reverse code of a while loop has no rule (its tape grows):
            # one forward sweep per element of the argument instead.
            return basis_sweeps(ir, wrt[0], f"{ir.name}_grad"), grads_shape
        return _trimmed(d, d.body.yields[n_out:]), grads_shape
    if t.kind in ("grad", "value_and_grad", "egrad", "vjp"):
        d = _checked(reverse(simplify(ir), wrt, seed_ones=t.kind == "egrad",
                             seed_params=t.kind == "vjp"))
        values, grads = d.body.yields[:n_out], d.body.yields[n_out:]
        if t.kind == "value_and_grad":
            keep, out = (*values, *grads), "value_" + grads_shape
        elif t.kind == "vjp":
            keep, out = (*values, *grads), f"pair:{n_out}:{shape}:{grads_shape}"
        else:
            keep, out = grads, grads_shape
        return _trimmed(d, keep), out
    if t.kind == "jvp":
        d = _checked(forward(simplify(ir), wrt))
        return d, f"pair:{n_out}:{shape}:{shape}"
    if t.kind in ("hessian", "hvp") and len(wrt) != 1:
        raise SymdiffError(f"{t.kind} differentiates in one argument, not {len(wrt)}; to "
                           "include several variables, put them in one array")
    if t.kind == "hessian":
        (k,) = wrt
        return hessian_function(ir, k), "single"
    if t.kind == "hvp":
        (k,) = wrt
        g = _checked(reverse(simplify(ir), [k]))
        g = _trimmed(g, g.body.yields[n_out:])
        d = _checked(forward(simplify(g), [k]))
        return _trimmed(d, d.body.yields[1:]), "single"
    raise SymdiffError(f"unknown transform {t.kind!r}")


def hessian_function(ir: Function, k: int) -> Function:
    """The Hessian of scalar ``ir`` in its 1-d parameter ``k``, as one function: the
    forward-over-reverse code with the tangent set to each basis vector in turn, inside
    a loop that writes row j (``H @ e_j``). What does not depend on the tangent (the
    function and its gradient) is computed once, before the loop."""
    g = _checked(reverse(simplify(ir), [k]))
    g = _trimmed(g, g.body.yields[len(ir.returns):])
    return basis_sweeps(g, k, f"{ir.name}_hessian")


def basis_sweeps(ir: Function, k: int, name: str) -> Function:
    """The Jacobian of ``ir``'s one result in its 1-d parameter ``k`` by forward mode,
    as one function: the tangent code with the tangent set to each basis vector e_j in
    turn, inside a loop that writes ``J @ e_j`` as row j (a scalar result gives the
    gradient; a gradient gives the Hessian). What does not depend on the tangent is
    computed once, before the loop."""
    d = _checked(forward(simplify(ir), [k]))
    d = simplify(_trimmed(d, d.body.yields[1:]))
    x, x_dot = ir.params[k], d.params[-1]
    depends, invariant, variant = {x_dot}, [], []
    for op in d.body.ops:
        reads = set(op.args) | {v for region in op.regions for v in free_values(region)}
        if reads & depends:
            variant.append(op)
            depends.update(op.results)
        else:
            invariant.append(op)
    b = Builder()
    b.loc = ir.loc
    for op in invariant:
        b.append(op)
    with b.at(ir.loc):
        n = b.op("shape", x, axis=0, name_hint="n")
        column_ndim = d.body.yields[0].type.ndim
        out_name = "H" if column_ndim else f"{hint(x)}_bar"
        start = b.op("zeros", *[n] * (1 + column_ndim), dtype="f64", name_hint=out_name)
        j, rows = Value(I64, "j"), Value(start.type, out_name)
        with b.region() as ops:
            e = b.op("setitem", b.op("zeros", n, dtype="f64"), b.scalar(1.0), j, spec=("i",),
                     name_hint=f"{hint(x)}_dot")
            mapping: dict[Value, Value] = {x_dot: e}
            replay(b, variant, mapping)
            column = mapping.get(d.body.yields[0], d.body.yields[0])
            filled = b.op("setitem", rows, column, j, spec=("i",), name_hint=out_name)
        (result,) = b.emit("for", [b.const(0), n, b.const(1), start],
                           regions=(Block((j, rows), tuple(ops), (filled,)),), names=[out_name])
    return _checked(Function(name, ir.params, Block((), tuple(b.ops), (result,)), ir.loc))


def _of_a_gradient(t: Transform) -> bool:
    """True when ``t`` (grad or egrad) differentiates, in one argument, a grad or egrad
    in that same argument (each level of such a chain is the gradient of a scalar:
    ``egrad(f) = grad(sum(f))``, ``egrad(egrad(f)) = grad(sum(egrad(f)))``...)."""
    inner = t.inner
    return (inner is not None and t.kind in ("grad", "egrad") and inner.kind in ("grad", "egrad")
            and len(t.argnums) == 1 and inner.argnums == t.argnums and not inner.tuple_grads)


def _trimmed(fn: Function, keep: tuple[Value, ...]) -> Function:
    return Function(fn.name, fn.params, Block((), fn.body.ops, tuple(keep)), fn.loc)


def return_expression(shape: str, names: list[str]) -> str:
    """How the entry returns its results ``names`` (see `derive` for the shapes)."""
    if shape == "single":
        return names[0]
    if shape == "tuple":
        return "(" + "".join(n + ", " for n in names) + ")"
    if shape == "value_single":
        return f"{names[0]}, {names[1]}"
    if shape == "value_tuple":
        return f"{names[0]}, (" + "".join(n + ", " for n in names[1:]) + ")"
    if shape.startswith("pair:"):
        _, n, first, second = shape.split(":")
        k = int(n)
        return (f"{return_expression(first, names[:k])}, "
                f"{return_expression(second, names[k:])}")
    raise AssertionError(shape)


def generate(built: Built, backend: str, header: str = "") -> GeneratedModule:
    main_file = built.lowered.sources[0].file
    return generate_module(built.function, numba=(backend == "numba"), header=header,
                           main_file=main_file,
                           return_expr=lambda names: return_expression(built.returns, names))


@functools.cache
def compiler_digest() -> str:
    """Digest of symdiff's own source: a changed compiler never reuses old generated code."""
    h = hashlib.sha256()
    root = Path(symdiff.__file__).parent
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def entry_key(fn: FunctionType, kinds: tuple[Type, ...], transform: Transform,
              backend: str, dims: DimClasses | None = None) -> str:
    h = hashlib.sha256()
    from symdiff.backend.emit import FUSION
    h.update(f"{compiler_digest()}\0{backend}\0{transform}\0{kinds}\0{FUSION}\0".encode())
    if dims is not None:
        h.update(f"dims={dims}\0".encode())
    h.update(function_key(fn).encode())
    return h.hexdigest()


_LOADED: dict[str, Callable[..., Any]] = {}

# How many times this process ran the compiler (lowering through code generation);
# the cache tests read it to prove a warm process generates nothing.
BUILD_COUNT = 0


def compile_transform(fn: FunctionType, kinds: tuple[Type, ...], transform: Transform,
                      backend: str, *, repair: bool = False,
                      dims: DimClasses | None = None) -> Callable[..., Any]:
    """The compiled entry point; built at most once per process and once per cache.

    ``repair`` discards the entry's Numba machine-code cache and loads the
    module afresh (used when loading that cache failed). ``dims``: the dimension
    equalities the entry may assume; the caller must check them on every call.
    """
    if backend not in BACKENDS:
        raise SymdiffError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
    key = entry_key(fn, kinds, transform, backend, dims)
    found = _LOADED.get(key)
    if found is not None and not repair:
        return found
    path = cache.cache_dir() / f"{fn.__name__}_{transform.tag}_{backend}_{key[:24]}.py"
    if repair:
        cache.purge_machine_code(path)
    entry = None
    if cache.read_valid(path) is not None:
        try:
            module = cache.import_file(path)
            entry = getattr(module, entry_name(fn, transform))
        except Exception:
            entry = None  # a damaged entry is rebuilt below
    if entry is None:
        global BUILD_COUNT
        BUILD_COUNT += 1
        built = build(fn, kinds, transform, dims)
        sig = ", ".join(str(k) for k in kinds)
        header = (f"# Generated by symdiff {symdiff.__version__}: {transform.kind} of "
                  f"{fn.__qualname__} ({fn.__code__.co_filename})\n"
                  f"# argnums={transform.argnums} kinds=({sig}) backend={backend}\n")
        if dims is not None:
            header += f"# assumed equal dimensions: {format_dim_classes(dims, fn)}\n"
        module_src = generate(built, backend, header)
        cache.write_atomic(path, cache.with_checksum(module_src.source))
        module = cache.import_file(path)
        entry = getattr(module, module_src.entry)
    _LOADED[key] = entry
    return entry


def entry_name(fn: FunctionType, transform: Transform) -> str:
    """The generated entry's name: ``f``, ``f_grad`` (grad, value_and_grad) or ``f_<kind>``."""
    if transform.kind == "primal" and transform.inner is None:
        return fn.__name__
    if transform.kind in ("grad", "value_and_grad") and transform.inner is None:
        return f"{fn.__name__}_grad"
    return f"{fn.__name__}_{transform.tag}"


def dim_classes(args: Any) -> DimClasses | None:
    """The equal array lengths among ``args``, as symbols per dimension: ``(("D0",),
    ("D1", "D0"), ("D1",))`` for w (50,), X (10000, 50), y (10000,). Lengths 0 and 1
    and lengths that occur once stay None (unknown). None when nothing is shared."""
    import numpy as np

    count: dict[int, int] = {}
    for a in args:
        if type(a) is np.ndarray:
            for n in a.shape:
                count[n] = count.get(n, 0) + 1
    name: dict[int, str] = {}
    for a in args:
        if type(a) is np.ndarray:
            for n in a.shape:
                if count[n] > 1 and n > 1 and n not in name:
                    name[n] = f"D{len(name)}"
    if not name:
        return None
    return tuple(tuple(name.get(n) for n in a.shape) if type(a) is np.ndarray else None
                 for a in args)


def dim_checks(dims: DimClasses) -> list[tuple[int, int, int, int]]:
    """The equalities ``dims`` assumes, as (arg, axis, arg, axis): each dimension of a
    class against the class's first one."""
    first: dict[str, tuple[int, int]] = {}
    out: list[tuple[int, int, int, int]] = []
    for k, ds in enumerate(dims):
        for ax, d in enumerate(ds or ()):
            if d is None:
                continue
            if d in first:
                out.append((k, ax, *first[d]))
            else:
                first[d] = (k, ax)
    return out


def format_dim_classes(dims: DimClasses, fn: FunctionType) -> str:
    """The equalities ``dims`` assumes, with ``fn``'s parameter names."""
    names = fn.__code__.co_varnames[:fn.__code__.co_argcount]
    return ", ".join(f"{names[k]}.shape[{ax}] == {names[k0]}.shape[{ax0}]"
                     for k, ax, k0, ax0 in dim_checks(dims))
