"""Activity analysis: which values carry derivatives.

A value is *varied* when it depends differentiably on a differentiation input,
and *useful* when an output depends on it. Only values that are both, and of
float dtype, are *active*: they alone get adjoints (reverse mode) or tangents
(forward mode). Integer and boolean values are never active.
"""

from __future__ import annotations

from collections.abc import Iterable

from symdiff.ir.core import Block, Function, Value
from symdiff.ir.registry import lookup


def varied_values(block: Block, seeds: Iterable[Value]) -> set[Value]:
    varied = {s for s in seeds if s.type.dtype == "f64"}
    _forward(block, varied)
    return varied


def carried_parts(op) -> tuple[tuple[Value, ...], list[tuple[Value, ...]], tuple[Value, ...]]:
    """(initial values, each region's carried parameters, the body's yields) of a loop."""
    inits = op.args[3:] if op.name == "for" else op.args
    lead = 1 if op.name == "for" else 0
    params = [op.regions[-1].params[lead:]] + ([op.regions[0].params] if op.name == "while" else [])
    return inits, params, op.regions[-1].yields


def _forward(block: Block, varied: set[Value]) -> None:
    for op in block.ops:
        if op.name in ("for", "while"):
            # Fixed point: a carried value varies if its initial value or any yield does.
            inits, params, yields = carried_parts(op)
            while True:
                for ps in params:
                    varied.update(p for p, i, y in zip(ps, inits, yields, strict=True)
                                  if p.type.dtype == "f64" and (i in varied or y in varied))
                before = len(varied)
                for region in op.regions:
                    _forward(region, varied)
                if len(varied) == before:
                    break
            varied.update(r for r, p in zip(op.results, params[0], strict=True) if p in varied)
            continue
        for region in op.regions:
            _forward(region, varied)
        if not lookup(op.name).differentiable:
            continue
        if op.regions:
            for k, r in enumerate(op.results):
                if r.type.dtype == "f64" and any(reg.yields[k] in varied for reg in op.regions):
                    varied.add(r)
        elif any(a in varied for a in op.args):
            varied.update(r for r in op.results if r.type.dtype == "f64")


def useful_values(block: Block, outputs: Iterable[Value]) -> set[Value]:
    useful = {o for o in outputs if o.type.dtype == "f64"}
    _backward(block, useful)
    return useful


def _backward(block: Block, useful: set[Value]) -> None:
    for op in reversed(block.ops):
        wanted = [k for k, r in enumerate(op.results) if r in useful]
        if not wanted:
            continue
        if op.name in ("for", "while"):
            # Fixed point: a carried value is useful if its result is, or the body uses it.
            inits, params, yields = carried_parts(op)
            while True:
                before = len(useful)
                for k, y in enumerate(yields):
                    if op.results[k] in useful or any(ps[k] in useful for ps in params):
                        if y.type.dtype == "f64":
                            useful.add(y)
                        if inits[k].type.dtype == "f64":
                            useful.add(inits[k])
                for region in op.regions:
                    _backward(region, useful)
                if len(useful) == before:
                    break
            continue
        for region in op.regions:
            useful.update(region.yields[k] for k in wanted if region.yields[k].type.dtype == "f64")
            _backward(region, useful)
        useful.update(a for a in op.args if a.type.dtype == "f64")


def active_values(fn: Function, wrt: Iterable[Value], outputs: Iterable[Value]) -> set[Value]:
    return varied_values(fn.body, wrt) & useful_values(fn.body, outputs)
