"""SymPy forms of the array ops (the registry's ``OpDef.sympy`` for them points here).

Every form is ``form(sp, args, attrs)``, ``sp`` the ``sympy`` module. Values follow
one convention, shared with `symdiff.symbolic.interpret`:

- a float scalar is a SymPy expression; an integer or boolean scalar is a Python
  ``int``/``bool`` (the SymPy path treats integers as constants), or a SymPy
  expression when it depends on a float (a comparison, a ``Piecewise``);
- an array is a NumPy array of ``dtype=object`` and concrete shape whose elements
  are such scalars.

Forms build new arrays and never modify their arguments (``setitem`` copies), so
values can be shared freely. The interpreter converts results to the op's
result type afterwards (``sympy.Integer`` to ``int`` for ``i64`` and so on), so
forms need not care which dtype a filled array has. This module imports NumPy
only; SymPy arrives as ``sp``.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

_mul = np.frompyfunc(operator.mul, 2, 1)


def _shape_of(a: Any) -> tuple[int, ...]:
    return a.shape if isinstance(a, np.ndarray) else ()


def _objects(a: Any) -> np.ndarray:
    """``a`` as an object array (a scalar becomes a 0-d one)."""
    if isinstance(a, np.ndarray):
        return a if a.dtype == object else a.astype(object)
    out = np.empty((), dtype=object)
    out[()] = a
    return out


def _scalar(a: np.ndarray) -> Any:
    """A 0-d result as its element; arrays unchanged."""
    return a[()] if isinstance(a, np.ndarray) and a.ndim == 0 else a


def _ints(values: Any) -> tuple[int, ...]:
    return tuple(_int(v) for v in values)


def _int(v: Any) -> int:
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    try:
        return operator.index(v)
    except TypeError:
        raise ValueError(f"needs a concrete integer here, got {v}") from None


def _fill(shape: tuple[int, ...], value: Any) -> np.ndarray:
    out = np.empty(shape, dtype=object)
    out.fill(value)
    return out


def _as_number(v: Any) -> Any:
    """Python bools count as 0/1 in sums and products, as in NumPy."""
    return int(v) if isinstance(v, (bool, np.bool_)) else v


# ----------------------------------------------------------------- reductions


def _combine(sp: Any, kind: str, items: list[Any]) -> Any:
    items = [_as_number(v) for v in items]
    if kind == "sum":
        return sp.Add(*items)
    if kind == "mean":
        if not items:
            return sp.nan
        return sp.Add(*items) / len(items)
    if kind == "prod":
        return sp.Mul(*items)
    if not items:
        raise ValueError(f"{kind} of an empty array")
    return sp.Max(*items) if kind == "max" else sp.Min(*items)


def reduce_axes(sp: Any, x: np.ndarray, kind: str, axes: tuple[int, ...],
                keepdims: bool) -> Any:
    """``np.<kind>(x, axis=axes, keepdims=keepdims)`` on an object array."""
    axes = tuple(sorted({a % x.ndim for a in axes}))
    rest = [k for k in range(x.ndim) if k not in axes]
    rest_shape = tuple(x.shape[k] for k in rest)
    moved = np.transpose(x, rest + list(axes))
    n = int(np.prod([x.shape[k] for k in axes], dtype=np.int64))
    flat = moved.reshape(rest_shape + (n,))
    out = np.empty(rest_shape, dtype=object)
    for idx in np.ndindex(*rest_shape):
        out[idx] = _combine(sp, kind, list(flat[idx]))
    if keepdims:
        out = out.reshape(tuple(1 if k in axes else x.shape[k] for k in range(x.ndim)))
    return _scalar(out)


def reduce(sp, a, attrs):
    x = _objects(a[0])
    axis = attrs.get("axis")
    axes = tuple(range(x.ndim)) if axis is None else tuple(axis)
    return reduce_axes(sp, x, attrs["kind"], axes, bool(attrs.get("keepdims")))


# ----------------------------------------------------------------- linear algebra


def matmul(sp, a, attrs):
    x, y = _objects(a[0]), _objects(a[1])
    x2 = x if x.ndim == 2 else x.reshape(1, -1)
    y2 = y if y.ndim == 2 else y.reshape(-1, 1)
    if x2.shape[1] != y2.shape[0]:
        raise ValueError(f"matmul: shapes {x.shape} and {y.shape} do not match")
    out = np.empty((x2.shape[0], y2.shape[1]), dtype=object)
    for i in range(x2.shape[0]):
        for j in range(y2.shape[1]):
            out[i, j] = sp.Add(*[_as_number(x2[i, k]) * _as_number(y2[k, j])
                                 for k in range(x2.shape[1])])
    if x.ndim == 1:
        out = out[0]
    if y.ndim == 1:
        out = out[..., 0]
    return _scalar(out)


def outer(sp, a, attrs):
    return _mul.outer(_objects(a[0]), _objects(a[1]))


# ----------------------------------------------------------------- shapes and views


def transpose(sp, a, attrs):
    return np.transpose(a[0], tuple(attrs["axes"])).copy()


def reshape(sp, a, attrs):
    return _objects(a[0]).reshape(_ints(a[1:])).copy()


def expand_dims(sp, a, attrs):
    x = _objects(a[0])
    for ax in sorted(attrs["axis"]):
        x = np.expand_dims(x, ax)
    return x.copy()


def shape(sp, a, attrs):
    return _shape_of(a[0])[attrs["axis"]]


def copy(sp, a, attrs):
    return a[0].copy() if isinstance(a[0], np.ndarray) else a[0]


# ----------------------------------------------------------------- creation


def zeros(sp, a, attrs):
    return _fill(_ints(a), 0)


def ones(sp, a, attrs):
    return _fill(_ints(a), 1)


def empty(sp, a, attrs):
    return _fill(_ints(a), 0)  # never read before written in valid code


def full(sp, a, attrs):
    return _fill(_ints(a[:-1]), a[-1])


def zeros_like(sp, a, attrs):
    return _fill(_shape_of(a[0]), 0)


def ones_like(sp, a, attrs):
    return _fill(_shape_of(a[0]), 1)


def broadcast_like(sp, a, attrs):
    return _scalar(np.broadcast_to(_objects(a[0]), _shape_of(a[1])).copy())


def arange(sp, a, attrs):
    bounds = []
    for v in a:
        if isinstance(v, (int, np.integer)) or getattr(v, "is_Integer", False):
            bounds.append(int(v))
        elif getattr(v, "is_Number", False) or isinstance(v, float):
            bounds.append(float(v))
        else:
            raise ValueError(f"arange needs concrete bounds, got {v}")
    values = np.arange(*bounds)
    out = np.empty(values.shape, dtype=object)
    out[:] = values.tolist()
    return out


def range_length(sp, a, attrs):
    return len(range(*_ints(a)))


# ----------------------------------------------------------------- indexing


def python_index(spec: tuple[Any, ...], operands: list[Any]) -> tuple[Any, ...]:
    """The NumPy index that ``spec`` (the format of `symdiff.ir.indexing`) means for these operands."""
    it = iter(operands)
    parts: list[Any] = []
    for e in spec:
        if e == "i":
            parts.append(_int(next(it)))
        elif e == "a":
            parts.append(np.array(_ints(next(it)), dtype=np.int64))
        elif e == "n":
            parts.append(None)
        else:
            _, has_start, has_stop, has_step = e
            start = _int(next(it)) if has_start else None
            stop = _int(next(it)) if has_stop else None
            step = _int(next(it)) if has_step else None
            parts.append(slice(start, stop, step))
    return tuple(parts)


def getitem(sp, a, attrs):
    part = _objects(a[0])[python_index(attrs["spec"], list(a[1:]))]
    return part.copy() if isinstance(part, np.ndarray) else part


def setitem(sp, a, attrs):
    out = _objects(a[0]).copy()
    value = a[1]  # a scalar is stored as itself (a 0-d array would be stored as an element)
    out[python_index(attrs["spec"], list(a[2:]))] = value
    return out


def index_add(sp, a, attrs):
    out = _objects(a[0]).copy()
    np.add.at(out, python_index(attrs["spec"], list(a[2:])), _objects(a[1]))
    return out


def unbroadcast_to_shape(sp, g: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``g`` over the axes along which an array of ``shape`` was broadcast to it."""
    if not isinstance(g, np.ndarray):
        return g
    lead = g.ndim - len(shape)
    if lead > 0:
        g = _objects(reduce_axes(sp, g, "sum", tuple(range(lead)), False))
    axes = tuple(k for k, n in enumerate(shape) if n == 1 and g.shape[k] != 1)
    if axes:
        g = _objects(reduce_axes(sp, g, "sum", axes, True))
    return _scalar(g)


def unbroadcast(sp, a, attrs):
    return unbroadcast_to_shape(sp, a[0], _shape_of(a[1]))


def unbroadcast_to(sp, a, attrs):
    return unbroadcast_to_shape(sp, a[0], _ints(a[1:]))


# ----------------------------------------------------------------- tapes (adjoint code)


def _grown(buf: np.ndarray, size: int) -> np.ndarray:
    out = _fill((size,) + buf.shape[1:], 0)
    out[:buf.shape[0]] = buf
    return out


def tape_push(sp, a, attrs):
    buf, k, v = _objects(a[0]), _int(a[1]), a[2]
    out = _grown(buf, max(2 * buf.shape[0], 16)) if k >= buf.shape[0] else buf.copy()
    out[k] = v
    return out


def tape_push_array(sp, a, attrs):
    buf, meta, k, v = _objects(a[0]), _objects(a[1]), _int(a[2]), _objects(a[3])
    meta = _grown(meta, max(2 * meta.shape[0], 16)) if k >= meta.shape[0] else meta.copy()
    start = 0
    if k > 0:
        start = _int(meta[k - 1, 0]) + int(np.prod(_ints(meta[k - 1, 1:]), dtype=np.int64))
    n = v.size
    buf = _grown(buf, max(2 * buf.shape[0], start + n)) if start + n > buf.shape[0] else buf.copy()
    meta[k, 0] = start
    for d in range(v.ndim):
        meta[k, d + 1] = v.shape[d]
    buf[start:start + n] = v.reshape(n)
    return buf, meta


def tape_get_array(sp, a, attrs):
    buf, meta, k = _objects(a[0]), _objects(a[1]), _int(a[2])
    dims = _ints(meta[k, 1:1 + attrs["ndim"]])
    start = _int(meta[k, 0])
    return buf[start:start + int(np.prod(dims, dtype=np.int64))].reshape(dims).copy()
