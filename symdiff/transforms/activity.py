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


def _forward(block: Block, varied: set[Value]) -> None:
    for op in block.ops:
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
        for region in op.regions:
            useful.update(region.yields[k] for k in wanted if region.yields[k].type.dtype == "f64")
            _backward(region, useful)
        useful.update(a for a in op.args if a.type.dtype == "f64")


def active_values(fn: Function, wrt: Iterable[Value], outputs: Iterable[Value]) -> set[Value]:
    return varied_values(fn.body, wrt) & useful_values(fn.body, outputs)
