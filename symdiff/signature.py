"""Argument kinds: the types a function is specialized on.

A kind is an IR `Type` per argument. Kinds come from the values of a call,
from a signature string (``"x=f64[:], n=i64"``) or from annotations.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from types import FunctionType
from typing import Any

import numpy as np

from symdiff.errors import SignatureError
from symdiff.ir.types import Type

_DTYPES = {np.dtype(np.float64): "f64", np.dtype(np.int64): "i64", np.dtype(np.bool_): "bool"}


def parameter_names(fn: FunctionType) -> list[str]:
    code = fn.__code__
    return list(code.co_varnames[:code.co_argcount])


def bind_arguments(fn: FunctionType, args: Sequence[Any]) -> tuple[Any, ...]:
    """Positional arguments completed with defaults; a clear error when the count is wrong."""
    names = parameter_names(fn)
    if len(args) == len(names):
        return tuple(args)
    defaults = fn.__defaults__ or ()
    if len(args) > len(names) or len(args) < len(names) - len(defaults):
        raise SignatureError(
            f"{fn.__name__}() takes {len(names)} argument(s) ({', '.join(names)}), "
            f"got {len(args)}")
    return tuple(args) + tuple(defaults[len(args) - len(names):])


def kind_of(value: Any, name: str, fn_name: str) -> Type:
    if isinstance(value, np.ndarray):
        dtype = _DTYPES.get(value.dtype)
        if dtype is None:
            raise SignatureError(
                f"{fn_name}: argument '{name}' is an array of dtype {value.dtype}; symdiff "
                "takes float64, int64 or bool arrays (convert with x.astype(np.float64))")
        return Type(dtype, value.ndim)
    if isinstance(value, (bool, np.bool_)):
        return Type("bool")
    if isinstance(value, (int, np.integer)):
        return Type("i64")
    if isinstance(value, (float, np.floating)):
        return Type("f64")
    raise SignatureError(
        f"{fn_name}: argument '{name}' is a {type(value).__name__}; symdiff takes numbers "
        "and NumPy arrays (convert lists with np.asarray(x, dtype=np.float64))")


def kinds_of(fn: FunctionType, args: Sequence[Any]) -> tuple[Type, ...]:
    names = parameter_names(fn)
    return tuple(kind_of(v, n, fn.__name__) for v, n in zip(args, names, strict=True))


def parse_signature(fn: FunctionType, text: str | None) -> tuple[Type, ...]:
    """Kinds from ``"x=f64[:], W=f64[:,:], n=i64"`` (names may be omitted: positional),
    falling back to annotations for parameters the text does not name."""
    kinds = known_kinds(fn, text)
    for name in parameter_names(fn):
        if name not in kinds:
            raise SignatureError(
                f"no kind for parameter '{name}' of {fn.__name__}: give --sig \"{name}=f64[:]\" "
                "(or f64, i64, f64[:,:]...) or annotate it")
    return tuple(kinds.values())


def known_kinds(fn: FunctionType, text: str | None) -> dict[str, Type]:
    """The kinds `parse_signature` finds, in parameter order, leaving out the parameters
    that neither the text nor an annotation gives a kind."""
    names = parameter_names(fn)
    given: dict[str, Type] = {}
    if text:
        for k, part in enumerate(_split_top(text)):
            name, sep, kind = part.partition("=")
            if not sep:
                name, kind = names[k] if k < len(names) else f"#{k}", name
            name = name.strip()
            if name not in names:
                raise SignatureError(f"{fn.__name__} has no parameter '{name}' "
                                     f"(parameters: {', '.join(names)})")
            try:
                given[name] = Type.parse(kind)
            except ValueError as e:
                raise SignatureError(f"bad kind for '{name}': {e}") from None
    annotations = inspect.get_annotations(fn, eval_str=False)
    out = {}
    for name in names:
        kind = given.get(name) or _annotation_kind(annotations.get(name))
        if kind is not None:
            out[name] = kind
    return out


def _annotation_kind(ann: Any) -> Type | None:
    if ann is float:
        return Type("f64")
    if ann is int:
        return Type("i64")
    if ann is bool:
        return Type("bool")
    if isinstance(ann, str):
        text = ann.strip()
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            text = text[1:-1]  # a quoted annotation under `from __future__ import annotations`
        try:
            return Type.parse(text)
        except ValueError:
            return None
    return None


def _split_top(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def format_kinds(names: Sequence[str], kinds: Sequence[Type]) -> str:
    return ", ".join(f"{n}={k}" for n, k in zip(names, kinds, strict=True))
