"""The public transforms: `grad`, `value_and_grad`, `jit` and `show_ir`.

Each transform returns a callable that specializes on the kinds of its
arguments at the first call (scalar int/float, array dtype and ndim), compiles
through `symdiff.pipeline`, and afterwards dispatches on a small per-call key.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Sequence
from types import FunctionType
from typing import Any

import numpy as np

from symdiff.errors import CompileError, SignatureError, SymdiffError
from symdiff.frontend.lower import lower
from symdiff.frontend.source import read_source
from symdiff.ir.printer import print_function
from symdiff.ir.types import Type
from symdiff.pipeline import (
    BACKENDS,
    Transform,
    build,
    compile_transform,
    dim_checks,
    dim_classes,
    format_dim_classes,
    generate,
    primal_ir,
)
from symdiff.signature import bind_arguments, format_kinds, kinds_of, parse_signature

_ndarray = np.ndarray


_MISSING = object()  # an argument the caller did not pass (generated dispatch)

# Dimension equalities an entry assumes: (arg, axis, arg, axis) with equal lengths.
Checks = list[tuple[int, int, int, int]]


def _fast_key(a: Any) -> Any:
    """Dispatch key of one argument: its type, or (dtype, ndim) for an array."""
    return (a.dtype, a.ndim) if type(a) is _ndarray else type(a)


# Transforms whose result takes the function's own arguments, and so can be transformed
# again (a single-argnum grad of a scalar function, egrad of an elementwise one).
NESTABLE = ("grad", "egrad")


class Compiled:
    """A transformed function: call it like the original.

    ``backend`` is ``"numba"`` (default) or ``"python"`` (plain NumPy, for
    debugging or where Numba is unavailable).
    """

    def __init__(self, fn: Callable[..., Any], transform: Transform, backend: str = "numba"):
        if backend not in BACKENDS:
            raise SymdiffError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        if isinstance(fn, Compiled):
            # A transform of a transformed function differentiates its derivative code.
            if fn.transform.kind not in NESTABLE or transform.kind not in NESTABLE + ("primal",):
                raise SymdiffError(
                    f"symdiff.{transform.kind} of symdiff.{fn.transform.kind}(...) is not "
                    f"supported; the transforms that compose are {', '.join(NESTABLE)}")
            if transform.kind != "primal":
                transform = Transform(transform.kind, transform.argnums, transform.tuple_grads,
                                      inner=fn.transform)
            else:
                transform = fn.transform
            fn = fn.__wrapped_symdiff__
        elif not isinstance(fn, FunctionType):
            raise SymdiffError(f"symdiff transforms plain Python functions, not "
                               f"{type(fn).__name__}")
        self.__wrapped_symdiff__ = fn
        self.transform = transform
        self.backend = backend
        # Per argument-kinds key: (dimension checks, entry) pairs, most specific first;
        # an entry compiled without dimension assumptions has no checks and comes last.
        self._table: dict[tuple[Any, ...], list[tuple[Checks, Callable[..., Any]]]] = {}
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any) -> Any:
        return self._dispatch(*args)

    def _dispatch(self, *args: Any) -> Any:
        """Calls whose kinds or dimensions differ from the last specialization (see
        `_specialize`)."""
        for checks, entry in self._table.get(tuple([_fast_key(a) for a in args]), ()):
            if all(args[k].shape[ax] == args[k0].shape[ax0] for k, ax, k0, ax0 in checks):
                return entry(*args)
        return self._first_call(args)

    def _specialize(self, args: Sequence[Any],
                    entries: Sequence[tuple[Checks, Callable[..., Any]]]) -> None:
        """Make the next calls with the same argument kinds check them without building a key.

        Generates ``__call__``: one type/dtype/ndim test per argument, then, per entry
        compiled for these kinds (most specific first), its dimension equalities and the
        entry; any other call falls back to the dictionary dispatch.
        """
        tests = ["not rest"]
        env: dict[str, Any] = {"_nd": _ndarray, "_generic": self._dispatch, "_M": _MISSING}
        for k, a in enumerate(args):
            if type(a) is _ndarray:
                env[f"_d{k}"] = a.dtype
                tests.append(f"type(a{k}) is _nd and a{k}.dtype is _d{k} and a{k}.ndim == {a.ndim}")
            else:
                env[f"_t{k}"] = type(a)
                tests.append(f"type(a{k}) is _t{k}")
        names = [f"a{k}" for k in range(len(args))]
        params = "".join(f"{a}=_M, " for a in names)
        given = "(" + "".join(f"{a}, " for a in names) + ")"
        lines = [f"def __call__({params}*rest):", f"    if {' and '.join(tests)}:"]
        for n, (checks, entry) in enumerate(entries):
            env[f"_entry{n}"] = entry
            call = f"return _entry{n}({', '.join(names)})"
            if checks:
                same = " and ".join(f"a{k}.shape[{ax}] == a{k0}.shape[{ax0}]"
                                    for k, ax, k0, ax0 in checks)
                lines += [f"        if {same}:", f"            {call}"]
            else:
                lines.append(f"        {call}")
                break
        lines.append(f"    return _generic(*[a for a in {given} if a is not _M], *rest)")
        src = "\n".join(lines) + "\n"
        exec(compile(src, f"<symdiff dispatch {self.__wrapped_symdiff__.__name__}>", "exec"), env)
        # Python looks __call__ up on the type: a one-off subclass carries the generated one,
        # as a staticmethod (it needs no self, and calling it skips making a bound method).
        self.__class__ = type(Compiled.__name__, (Compiled,),
                              {"__call__": staticmethod(env["__call__"]),
                               "__module__": Compiled.__module__})

    def _prepare(self, args: Sequence[Any]) -> tuple[tuple[Any, ...], tuple[Type, ...]]:
        """The arguments completed with defaults (0-d arrays as scalars), and their kinds."""
        fn = self.__wrapped_symdiff__
        full = _scalarize(bind_arguments(fn, args))
        return full, kinds_of(fn, full)

    def _first_call(self, args: Sequence[Any]) -> Any:
        """Compile for these arguments' kinds (and the equal dimensions among them, unless
        an entry for the same kinds assuming other equalities exists: then without
        assumptions, so coincidentally equal lengths cost at most one more compile)."""
        fn = self.__wrapped_symdiff__
        full, kinds = self._prepare(args)
        fast = tuple([_fast_key(a) for a in args])
        dims = None if fast in self._table else dim_classes(
            [a if k < len(args) else None for k, a in enumerate(full)])
        try:
            entry = compile_transform(fn, kinds, self.transform, self.backend, dims=dims)
        except SymdiffError as e:
            names = fn.__code__.co_varnames[:fn.__code__.co_argcount]
            e.add_note(f"while compiling {self!r} for ({format_kinds(names, kinds)})")
            raise e.with_traceback(None) from None  # the message locates the problem
        try:
            try:
                result = entry(*full)
            except Exception as e:
                if not _from_numba_cache(e):
                    raise
                # A damaged machine-code cache: discard it and compile again.
                entry = compile_transform(fn, kinds, self.transform, self.backend, repair=True,
                                          dims=dims)
                result = entry(*full)
        except Exception as e:
            if _is_numba_error(e):
                raise CompileError(
                    f"Numba could not compile the code symdiff generated for {fn.__name__} "
                    f"(a bug in symdiff; please report it with this message):\n{e}") from None
            raise
        adapted = _adapter(entry, len(args), full)
        checks = dim_checks(dims) if dims is not None else []
        entries = self._table.setdefault(fast, [])
        entries.insert(0 if checks else len(entries), (checks, adapted))
        self._specialize(args, entries)
        return result

    def compile(self, *args: Any, equal_lengths: bool = False) -> Callable[..., Any]:
        """The compiled entry for these argument kinds, for calling without dispatch.

        It takes arrays of any lengths. With ``equal_lengths`` it is the entry a call
        with ``args`` runs, which assumes that array lengths equal among ``args`` stay
        equal (see `symdiff.pipeline.dim_classes`): the caller must then pass only such
        arguments, as nothing checks them (other lengths read out of bounds).
        """
        full, kinds = self._prepare(args)
        dims = dim_classes([a if k < len(args) else None for k, a in enumerate(full)]) \
            if equal_lengths else None
        return compile_transform(self.__wrapped_symdiff__, kinds, self.transform, self.backend,
                                 dims=dims)

    def __repr__(self) -> str:
        text = self.__wrapped_symdiff__.__qualname__
        for t in self.transform.chain:
            nums = f", argnums={t.argnums}" if t.argnums else ""
            text = f"symdiff.{t.kind}({text}{nums})"
        return f"<{text}>"


def _adapter(entry: Callable[..., Any], n_given: int, full: tuple[Any, ...]) -> Callable[..., Any]:
    """``entry`` itself when calls pass every argument as it is compiled for; otherwise a
    small wrapper that appends the defaults and turns 0-d arrays into scalars."""
    defaults = full[n_given:]
    if not defaults and not any(type(a) is _ndarray and a.ndim == 0 for a in full):
        return entry

    def call(*args: Any) -> Any:
        return entry(*_scalarize(args), *defaults)
    return call


def _scalarize(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """0-d arrays become Python scalars (the IR treats them as scalars)."""
    if not any(type(a) is _ndarray and a.ndim == 0 for a in args):
        return args
    return tuple(a.item() if type(a) is _ndarray and a.ndim == 0 else a for a in args)


def _from_numba_cache(e: BaseException) -> bool:
    tb = e.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(("numba/core/caching.py",
                                                     "numba\\core\\caching.py")):
            return True
        tb = tb.tb_next
    return False


def _is_numba_error(e: Exception) -> bool:
    return type(e).__module__.startswith("numba")


def _argnums(argnums: int | Sequence[int]) -> tuple[tuple[int, ...], bool]:
    if isinstance(argnums, (int, np.integer)) and not isinstance(argnums, bool):
        return (int(argnums),), False
    if isinstance(argnums, (tuple, list)) and all(isinstance(a, int) for a in argnums) and argnums:
        return tuple(argnums), True
    raise SignatureError(f"argnums must be an int or a non-empty tuple of ints, got {argnums!r}")


def _decorator(kind: str):
    def transform(fn: Callable[..., Any] | None = None, argnums: int | Sequence[int] = 0, *,
                  backend: str = "numba") -> Any:
        nums, as_tuple = _argnums(argnums)
        if fn is None:
            return lambda f: Compiled(f, Transform(kind, nums, as_tuple), backend)
        return Compiled(fn, Transform(kind, nums, as_tuple), backend)
    return transform


grad = _decorator("grad")
grad.__doc__ = """Gradient of a function returning a float scalar.

``grad(f, argnums=0)`` returns a callable with f's parameters that returns the
gradient with respect to argument ``argnums`` (an int), or a tuple of gradients
(``argnums`` a tuple). Works as ``@grad`` and ``@grad(argnums=(0, 1))``.
Gradients have the shape of their argument; scalars come back as floats.
"""

value_and_grad = _decorator("value_and_grad")
value_and_grad.__doc__ = """Like `grad`, returning ``(value, gradient)`` from one sweep."""

elementwise_grad = _decorator("egrad")
elementwise_grad.__doc__ = """Elementwise gradient: the vector-Jacobian product with ones.

For a function applied elementwise to an array (``np.tanh(x)``, ``x ** 3``)
this is the array of each output's derivative in its own input. It composes:
``egrad(egrad(f))`` is the second derivative, built by differentiating the
first derivative's IR again. Works as a decorator, like `grad`.
"""
egrad = elementwise_grad


def jit(fn: Callable[..., Any] | None = None, *, backend: str = "numba") -> Any:
    """The function itself, compiled the way symdiff compiles its derivatives."""
    if fn is None:
        return lambda f: Compiled(f, Transform("primal"), backend)
    return Compiled(fn, Transform("primal"), backend)


STAGES = ("ast", "ir", "grad", "jvp", "egrad", "hvp", "python", "numpy")


def show_ir(fn: Callable[..., Any], stage: str = "ir", *,
            wrt: int | str | Sequence[int | str] | None = None,
            args: Sequence[Any] | None = None, signature: str | None = None,
            order: int | None = None, transform: str | None = None) -> str:
    """Text of one compiler stage for ``fn``.

    ``stage``: ``ast`` (the parsed source), ``ir`` (typed SSA IR), ``grad``
    (simplified adjoint IR), ``jvp`` (forward-mode IR: tangents ``x_dot``),
    ``egrad`` (the elementwise gradient applied ``order`` times: each level
    differentiates the IR of the one before), ``hvp`` (forward over reverse: a
    Hessian-vector product), ``python`` (generated Numba module) or ``numpy``
    (generated module of the NumPy backend) of ``transform`` (``grad``, ``jvp``,
    ``egrad``, ``hvp``). Argument kinds come from example ``args``, else from
    ``signature`` (``"x=f64[:], n=i64"``), else from annotations. ``wrt`` names
    the differentiation arguments by position or name.
    """
    if stage not in STAGES:
        raise SymdiffError(f"unknown stage {stage!r}; choose one of {', '.join(STAGES)}")
    f = getattr(fn, "__wrapped_symdiff__", fn)
    if not isinstance(f, FunctionType):
        raise SymdiffError(f"show_ir takes a Python function, not {type(fn).__name__}")
    if stage == "ast":
        return ast.dump(read_source(f).tree, indent=2, include_attributes=False) + "\n"
    dims = None
    if args is not None:
        bound = bind_arguments(f, args)
        kinds = kinds_of(f, bound)
        dims = dim_classes(list(bound))  # what a call with these arguments compiles
    else:
        kinds = parse_signature(f, signature)
    if stage == "ir":
        return print_function(primal_ir(lower(f, kinds).function))
    t = _own_transform(fn, stage) if (wrt, order, transform) == (None, None, None) else None
    if t is None:
        t = _stage_transform(f, stage, kinds, 0 if wrt is None else wrt,
                             1 if order is None else order, transform or "grad")
    built = build(f, kinds, t, dims)
    if stage in ("grad", "jvp", "egrad", "hvp"):
        return print_function(built.function)
    header = "" if dims is None else f"# assumed equal dimensions: {format_dim_classes(dims, f)}\n"
    return generate(built, "numba" if stage == "python" else "python", header).source


def _own_transform(fn: Callable[..., Any], stage: str) -> Transform | None:
    """The transform of a Compiled ``fn`` where ``stage`` shows it (its code, or its
    own kind of derivative IR), else None."""
    t = fn.transform if isinstance(fn, Compiled) else None
    if t is None or t.kind == "primal":
        return None
    kind = "grad" if t.kind == "value_and_grad" else t.kind
    return t if stage in ("python", "numpy", kind) else None


def _stage_transform(f: FunctionType, stage: str, kinds: Sequence[Type],
                     wrt: int | str | Sequence[int | str], order: int,
                     transform: str) -> Transform:
    kind = stage if stage in ("grad", "jvp", "egrad", "hvp") else transform
    if kind not in ("grad", "jvp", "egrad", "hvp"):
        raise SymdiffError(f"unknown transform {kind!r}; choose grad, jvp, egrad or hvp")
    if order < 1 or (order > 1 and kind != "egrad"):
        raise SymdiffError("order is 1, or more for egrad (the elementwise gradient applied "
                           "order times)")
    nums = _wrt_indices(f, wrt, kinds)
    t: Transform | None = None
    for _ in range(order):
        t = Transform(kind, nums, tuple_grads=not isinstance(wrt, (int, str)), inner=t)
    assert t is not None
    return t


def _wrt_indices(f: FunctionType, wrt: int | str | Sequence[int | str],
                 kinds: Sequence[Type]) -> tuple[int, ...]:
    names = list(f.__code__.co_varnames[:f.__code__.co_argcount])
    items = [wrt] if isinstance(wrt, (int, str)) else list(wrt)
    out = []
    for item in items:
        if isinstance(item, str):
            if item not in names:
                raise SymdiffError(f"{f.__name__} has no parameter '{item}'")
            out.append(names.index(item))
        else:
            out.append(item)
    return tuple(out)
