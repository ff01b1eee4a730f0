"""Cache keys: a digest of everything a function's generated code depends on.

The key covers the function's source, and recursively the source of every user
function it can reach by name, and the values of the numeric globals and
closure variables it reads. Computing it parses source but lowers nothing, so
a warm cache skips code generation entirely.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import inspect
import re
import textwrap
import weakref
from types import CodeType, FunctionType, ModuleType

import numpy as np


def function_key(fn: FunctionType) -> str:
    h = hashlib.sha256()
    _feed(fn, h, set())
    return h.hexdigest()


def _stable_filename(fn: FunctionType) -> str:
    """The function's file name, without the process id that IPython kernels put in the
    directory of a cell's file (``/tmp/ipykernel_<pid>/<hash of the cell>.py``), so a
    notebook's functions are found in the cache by the next kernel."""
    return re.sub(r"ipykernel_\d+", "ipykernel", fn.__code__.co_filename)


def _feed(fn: FunctionType, h: hashlib._Hash, seen: set[int]) -> None:
    if id(fn) in seen:
        return
    seen.add(id(fn))
    source, names, attributes = _read(fn)
    h.update(f"{fn.__module__}.{fn.__qualname__}\0{_stable_filename(fn)}\0".encode())
    h.update(source.encode())
    h.update(repr(fn.__defaults__).encode())
    closure = {}
    if fn.__closure__:
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__, strict=True):
            try:
                closure[name] = cell.cell_contents
            except ValueError:
                pass
    for name in names:
        if name in closure:
            obj = closure[name]
        elif name in fn.__globals__:
            obj = fn.__globals__[name]
        elif hasattr(builtins, name):
            continue
        else:
            continue
        _feed_object(name, obj, h, seen)
    for dotted in attributes:
        head, *rest = dotted.split(".")
        obj = closure.get(head, fn.__globals__.get(head))
        if not isinstance(obj, ModuleType) or obj.__name__.split(".")[0] in ("numpy", "math"):
            continue
        for part in rest:
            obj = getattr(obj, part, None)
        _feed_object(dotted, obj, h, seen)


# A code object's source and the names it reads, parsed once per process: the key is
# recomputed on every uncached call (jvp, jacobian...), and only the values of the globals
# it reads can have changed since.
# (Weakly keyed: a notebook that redefines a function drops the old code object's entry.)
_PARSED: weakref.WeakKeyDictionary[CodeType, tuple[str, tuple[str, ...], tuple[str, ...]]] = \
    weakref.WeakKeyDictionary()


def _read(fn: FunctionType) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """``fn``'s source, and the names and dotted attributes it reads (sorted)."""
    found = _PARSED.get(fn.__code__)
    if found is not None:
        return found
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        source = repr(fn.__code__.co_code)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        found = (source, (), ())
    else:
        names = tuple(sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}))
        attributes = tuple(sorted({_dotted(n) for n in ast.walk(tree)
                                   if isinstance(n, ast.Attribute)} - {None}))
        found = (source, names, attributes)
    _PARSED[fn.__code__] = found
    return found


def _dotted(node: ast.Attribute) -> str | None:
    parts = [node.attr]
    base = node.value
    while isinstance(base, ast.Attribute):
        parts.append(base.attr)
        base = base.value
    if not isinstance(base, ast.Name):
        return None
    parts.append(base.id)
    return ".".join(reversed(parts))


def _feed_object(name: str, obj: object, h: hashlib._Hash, seen: set[int]) -> None:
    h.update(f"\0{name}=".encode())
    if isinstance(obj, FunctionType):
        _feed(obj, h, seen)
    elif hasattr(obj, "__wrapped_symdiff__"):
        _feed(obj.__wrapped_symdiff__, h, seen)
    elif isinstance(obj, (bool, int, float, np.integer, np.floating)):
        h.update(repr(obj).encode())
    elif isinstance(obj, ModuleType):
        h.update(obj.__name__.encode())
    else:
        h.update(type(obj).__name__.encode())
