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
from symdiff.ir.core import Block, Function, Value, hint
from symdiff.ir.registry import lookup
from symdiff.ir.types import Type
from symdiff.ir.verify import verify
from symdiff.transforms.reverse import reverse
from symdiff.transforms.simplify import simplify

BACKENDS = ("numba", "python")
VERIFY = True  # run the verifier after every pass (cheap; catches transform bugs early)


@dataclass(frozen=True)
class Transform:
    """What to build: ``primal``, ``grad`` or ``value_and_grad`` w.r.t. ``argnums``.

    ``tuple_grads`` gives a tuple of gradients even for one argnum (argnums
    was given as a tuple).
    """

    kind: str
    argnums: tuple[int, ...] = ()
    tuple_grads: bool = False

    @property
    def tag(self) -> str:
        nums = "".join(map(str, self.argnums))
        return f"{self.kind}{nums}{'t' if self.tuple_grads else ''}"


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


def build(fn: FunctionType, kinds: tuple[Type, ...], transform: Transform) -> Built:
    lowered = lower(fn, kinds)
    ir = _checked(lowered.function)
    n_out = len(ir.returns)
    if transform.kind == "primal":
        final = _checked(own_results(simplify(ir)))
        return Built(lowered, final, "tuple" if lowered.returns_tuple else "single")
    for k in transform.argnums:
        if not -len(ir.params) <= k < len(ir.params):
            raise SymdiffError(f"argnums {k} is out of range: {fn.__name__} has "
                               f"{len(ir.params)} parameter(s)")
    wrt = [k % len(ir.params) for k in transform.argnums]
    grad = _checked(reverse(simplify(ir), wrt))
    yields = grad.body.yields
    values, grads = yields[:n_out], yields[n_out:]
    keep = (*values, *grads) if transform.kind == "value_and_grad" else grads
    trimmed = Function(grad.name, grad.params, Block((), grad.body.ops, tuple(keep)), grad.loc)
    final = _checked(own_results(simplify(trimmed)))
    shape = "tuple" if transform.tuple_grads else "single"
    if transform.kind == "value_and_grad":
        shape = "value_" + shape
    return Built(lowered, final, shape)


def return_expression(shape: str, names: list[str]) -> str:
    if shape == "single":
        return names[0]
    if shape == "tuple":
        return "(" + "".join(n + ", " for n in names) + ")"
    if shape == "value_single":
        return f"{names[0]}, {names[1]}"
    if shape == "value_tuple":
        return f"{names[0]}, (" + "".join(n + ", " for n in names[1:]) + ")"
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
              backend: str) -> str:
    h = hashlib.sha256()
    from symdiff.backend.emit import FUSION
    h.update(f"{compiler_digest()}\0{backend}\0{transform}\0{kinds}\0{FUSION}\0".encode())
    h.update(function_key(fn).encode())
    return h.hexdigest()


_LOADED: dict[str, Callable[..., Any]] = {}

# How many times this process ran the compiler (lowering through code generation);
# the cache tests read it to prove a warm process generates nothing.
BUILD_COUNT = 0


def compile_transform(fn: FunctionType, kinds: tuple[Type, ...], transform: Transform,
                      backend: str, *, repair: bool = False) -> Callable[..., Any]:
    """The compiled entry point; built at most once per process and once per cache.

    ``repair`` discards the entry's Numba machine-code cache and loads the
    module afresh (used when loading that cache failed).
    """
    if backend not in BACKENDS:
        raise SymdiffError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
    key = entry_key(fn, kinds, transform, backend)
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
            entry = getattr(module, _entry_name(fn, transform))
        except Exception:
            entry = None  # a damaged entry is rebuilt below
    if entry is None:
        global BUILD_COUNT
        BUILD_COUNT += 1
        built = build(fn, kinds, transform)
        sig = ", ".join(str(k) for k in kinds)
        header = (f"# Generated by symdiff {symdiff.__version__}: {transform.kind} of "
                  f"{fn.__qualname__} ({fn.__code__.co_filename})\n"
                  f"# argnums={transform.argnums} kinds=({sig}) backend={backend}\n")
        module_src = generate(built, backend, header)
        cache.write_atomic(path, cache.with_checksum(module_src.source))
        module = cache.import_file(path)
        entry = getattr(module, module_src.entry)
    _LOADED[key] = entry
    return entry


def _entry_name(fn: FunctionType, transform: Transform) -> str:
    return fn.__name__ if transform.kind == "primal" else f"{fn.__name__}_grad"
