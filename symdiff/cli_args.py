"""Argument values on the command line, for the sub-commands that run a function.

``--args "x=0.3, n=6, w=[0.1, -0.2]"`` gives values as Python literals, by
name or in order, with lists (nested for more dimensions) for arrays; the
parameters it does not give keep their default value, or get a random value
of their kind (from ``--sig`` or annotations, see `symdiff.signature`)::

    bound = build_arguments(fn, args_text, sig_text, seed=0, size=4, floats={0})
    fn(*bound.values)
    print(bound.describe())     # w=f64[4], n=6 (random: w; --seed 0)

Random values: float scalars and arrays are standard normal; integer arrays
are uniform in ``[0, size)`` (valid indices and class labels for arrays of
length ``size``); integer scalars uniform in ``[1, size]``; booleans fair coin
flips. Every array dimension has length ``size``, so square shapes make
``X @ w`` and ``x + y`` fit.

A value given in ``--args`` is converted to its parameter's kind when one is
known (``w=[1, 2]`` for ``w: "f64[:]"`` is a float array); otherwise lists
become arrays of the literals' type, and integers given for a parameter in
``floats`` (the ones being differentiated) become floats.

Errors are `ArgumentTextError` (a ``ValueError``), with a message for the user.
"""

from __future__ import annotations

import ast
from collections.abc import Collection
from dataclasses import dataclass
from types import FunctionType
from typing import Any

import numpy as np

from symdiff.errors import SignatureError
from symdiff.ir.types import Type
from symdiff.signature import known_kinds, parameter_names

DEFAULT_SIZE = 4
_NUMPY_DTYPE = {"f64": np.float64, "i64": np.int64, "bool": np.bool_}


class ArgumentTextError(ValueError):
    """An ``--args`` or ``--sig`` text that cannot be turned into argument values."""


def parse_values(text: str) -> tuple[list[Any], dict[str, Any]]:
    """``"0.3, n=6, w=[1, 2]"`` -> ``([0.3], {"n": 6, "w": [1, 2]})``: Python literals,
    written as the arguments of a call."""
    try:
        call = ast.parse(f"_({text})", mode="eval").body
    except SyntaxError as e:
        raise ArgumentTextError(f"cannot read {text!r}: {e.msg} (write values as Python literals, "
                                "e.g. \"x=0.3, n=6, w=[0.1, 0.2]\")") from None
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        raise ArgumentTextError(f"cannot read {text!r} as a list of values")
    positional = [_literal(node, f"value {k + 1}") for k, node in enumerate(call.args)]
    named: dict[str, Any] = {}
    for kw in call.keywords:
        if kw.arg is None:
            raise ArgumentTextError(f"'**' is not allowed in {text!r}")
        if kw.arg in named:
            raise ArgumentTextError(f"'{kw.arg}' is given twice in {text!r}")
        named[kw.arg] = _literal(kw.value, kw.arg)
    return positional, named


def _literal(node: ast.expr, what: str) -> Any:
    if isinstance(node, ast.Starred):
        raise ArgumentTextError("'*' is not allowed in argument values")
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise ArgumentTextError(f"{what}: {ast.unparse(node)!r} is not a Python literal (numbers, "
                                "True/False, and lists or tuples of them)") from None


def convert(value: Any, kind: Type | None, name: str, as_float: bool = False) -> Any:
    """A literal as symdiff takes it: a number of the kind's dtype, or an array of its
    dtype and ndim (lists and tuples become arrays)."""
    literal = value
    if isinstance(value, (list, tuple)):
        try:
            arr = np.array(value)
        except ValueError:
            raise ArgumentTextError(f"'{name}': {value!r} is not a rectangular array") from None
        if arr.dtype.kind not in "biuf":
            raise ArgumentTextError(f"'{name}': {value!r} is not an array of numbers")
        value = arr
    elif not isinstance(value, (bool, int, float)):
        raise ArgumentTextError(f"'{name}': {value!r} is not a number or a list of numbers")
    if kind is None:
        if isinstance(value, np.ndarray):
            if value.dtype.kind in "iu":
                value = value.astype(np.float64 if as_float else np.int64)
            return value
        return float(value) if as_float and isinstance(value, int) and not isinstance(value, bool) \
            else value
    if np.ndim(value) != kind.ndim:
        raise ArgumentTextError(f"'{name}' is {kind}, but {_describe(value)} was given")
    if kind.dtype == "bool":
        if np.asarray(value).dtype != np.bool_:
            raise ArgumentTextError(f"'{name}' is {kind}: give True or False")
        return value
    if np.asarray(value).dtype == np.bool_:
        raise ArgumentTextError(f"'{name}' is {kind}, not a boolean")
    if kind.dtype == "i64" and np.any(np.asarray(value) != np.round(np.asarray(value, float))):
        raise ArgumentTextError(f"'{name}' is {kind}: give integers, not {literal!r}")
    if kind.ndim == 0:
        return float(value) if kind.dtype == "f64" else int(value)
    return np.asarray(value, dtype=_NUMPY_DTYPE[kind.dtype])


def _describe(value: Any) -> str:
    ndim = np.ndim(value)
    return "a number" if ndim == 0 else f"an array of {ndim} dimension(s) {np.shape(value)}"


def random_value(kind: Type, rng: np.random.Generator, size: int = DEFAULT_SIZE) -> Any:
    """A random value of ``kind`` (see the module docstring)."""
    shape = (size,) * kind.ndim
    if kind.dtype == "f64":
        return float(rng.standard_normal()) if kind.ndim == 0 else rng.standard_normal(shape)
    if kind.dtype == "i64":
        if kind.ndim == 0:
            return int(rng.integers(1, size + 1))
        return rng.integers(0, size, shape, dtype=np.int64)
    return bool(rng.random() < 0.5) if kind.ndim == 0 else rng.random(shape) < 0.5


@dataclass(frozen=True)
class BoundArguments:
    """A value for each parameter, and where it came from: ``given``, ``default`` or
    ``random``."""

    names: tuple[str, ...]
    values: tuple[Any, ...]
    origins: tuple[str, ...]
    seed: int | None

    def describe(self) -> str:
        """``w=f64[4], X=f64[4,4], n=6 (random: w, X; --seed 0)``: arrays by dtype and shape."""
        parts = []
        for name, value in zip(self.names, self.values, strict=True):
            if isinstance(value, np.ndarray) and value.ndim > 0:
                dtype = {"f": "f64", "i": "i64", "b": "bool"}.get(value.dtype.kind, str(value.dtype))
                parts.append(f"{name}={dtype}[{','.join(map(str, value.shape))}]")
            else:
                parts.append(f"{name}={value!r}")
        text = ", ".join(parts)
        drawn = [n for n, o in zip(self.names, self.origins, strict=True) if o == "random"]
        return text + (f" (random: {', '.join(drawn)}; --seed {self.seed})" if drawn else "")


def build_arguments(fn: FunctionType, args_text: str | None = None, sig_text: str | None = None,
                    seed: int | None = 0, size: int = DEFAULT_SIZE,
                    floats: Collection[int] = ()) -> BoundArguments:
    """A value for every parameter of ``fn``: from ``args_text`` (``--args``), else the
    parameter's default, else random of the kind ``sig_text`` (``--sig``) or an
    annotation gives. ``floats`` are the positions that must be float (differentiated)."""
    names = parameter_names(fn)
    try:
        kinds = known_kinds(fn, sig_text)
    except SignatureError as e:
        raise ArgumentTextError(str(e)) from None
    positional, named = parse_values(args_text) if args_text and args_text.strip() else ([], {})
    if len(positional) > len(names):
        raise ArgumentTextError(f"{fn.__name__} takes {len(names)} argument(s) "
                                f"({', '.join(names)}); --args gives {len(positional)}")
    given = dict(zip(names, positional, strict=False))
    for name, value in named.items():
        if name not in names:
            raise ArgumentTextError(f"{fn.__name__} has no parameter '{name}' "
                                    f"(parameters: {', '.join(names)})")
        if name in given:
            raise ArgumentTextError(f"'{name}' is given twice")
        given[name] = value
    defaults = dict(zip(names[len(names) - len(fn.__defaults__ or ()):], fn.__defaults__ or (),
                        strict=True))
    rng = np.random.default_rng(seed)
    values, origins = [], []
    for k, name in enumerate(names):
        kind = kinds.get(name)
        if name in given:
            values.append(convert(given[name], kind, name, as_float=k in floats))
            origins.append("given")
        elif name in defaults:
            values.append(defaults[name])
            origins.append("default")
        elif kind is not None:
            values.append(random_value(kind, rng, size))
            origins.append("random")
        else:
            raise ArgumentTextError(
                f"no value for parameter '{name}' of {fn.__name__}: give one in --args (e.g. "
                f"\"{name}=0.5\" or \"{name}=[1.0, 2.0]\"), or a kind in --sig (e.g. \"{name}=f64\", "
                f"\"{name}=i64\" or \"{name}=f64[:]\") to draw it at random, or annotate it")
    return BoundArguments(tuple(names), tuple(values), tuple(origins), seed)
