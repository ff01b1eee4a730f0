"""The IR's invariants: rule completeness, the verifier, the printer."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff  # noqa: F401  (registers rules)
from symdiff.frontend.lower import lower
from symdiff.ir.builder import Builder
from symdiff.ir.core import Block, Function, Op, Value
from symdiff.ir.printer import print_function
from symdiff.ir.registry import REGISTRY
from symdiff.ir.types import F64, Type
from symdiff.ir.verify import VerificationError, verify
from symdiff.rules.vjp import VJP_RULES


def test_every_op_has_a_jvp_rule_or_is_declared_non_differentiable():
    from symdiff.rules.jvp import JVP_RULES
    from symdiff.transforms.forward import STRUCTURED
    missing = [name for name, op in REGISTRY.items()
               if op.differentiable and name not in JVP_RULES and name not in STRUCTURED]
    assert not missing, f"differentiable ops without a JVP rule: {missing}"
    stale = [name for name in (*JVP_RULES, *STRUCTURED) if name not in REGISTRY]
    assert not stale, f"rules for unknown ops: {stale}"


def test_every_op_has_a_vjp_rule_or_is_declared_non_differentiable():
    missing = [name for name, op in REGISTRY.items()
               if op.differentiable and name not in VJP_RULES]
    assert not missing, f"differentiable ops without a VJP rule: {missing}"
    stale = [name for name in VJP_RULES if name not in REGISTRY]
    assert not stale, f"rules for unknown ops: {stale}"
    declared = [name for name, op in REGISTRY.items() if not op.differentiable]
    assert {"const", "shape", "lt", "sign", "zeros", "arange"} <= set(declared)


def _fn(ops, params, yields) -> Function:
    return Function("f", tuple(params), Block((), tuple(ops), tuple(yields)))


def test_verifier_rejects_use_before_definition():
    x = Value(F64, "x")
    a, b = Value(F64, "a"), Value(F64, "b")
    ops = [Op("add", (x, b), (a,)), Op("neg", (x,), (b,))]
    with pytest.raises(VerificationError, match="before its definition"):
        verify(_fn(ops, [x], [a]))


def test_verifier_rejects_double_assignment():
    x = Value(F64, "x")
    a = Value(F64, "a")
    ops = [Op("neg", (x,), (a,)), Op("neg", (x,), (a,))]
    with pytest.raises(VerificationError, match="assigned twice"):
        verify(_fn(ops, [x], [a]))


def test_verifier_rejects_wrong_result_type_and_arity():
    x = Value(F64, "x")
    wrong = Value(Type("f64", 1), "a")
    with pytest.raises(VerificationError, match="typed"):
        verify(_fn([Op("neg", (x,), (wrong,))], [x], [wrong]))
    a = Value(F64, "a")
    with pytest.raises(VerificationError, match="args"):
        verify(_fn([Op("add", (x,), (a,))], [x], [a]))


def test_verifier_rejects_region_values_used_outside():
    x = Value(F64, "x")
    b = Builder()
    cond = b.op("gt", x, b.const(0.0))
    inner = Value(F64, "inner")
    region = Block((), (Op("neg", (x,), (inner,)),), (inner,))
    r = Value(F64, "r")
    out = Value(F64, "out")
    ops = [*b.ops, Op("if", (cond,), (r,), (("result_types", (F64,)),), (region, region)),
           Op("add", (inner, r), (out,))]
    with pytest.raises(VerificationError):
        verify(_fn(ops, [x], [out]))


def _printed(x, y):
    z = x * y + 1.0
    return np.sum(np.tanh(z)) if y[0] > 0.0 else -np.sum(z)


def test_printer_is_deterministic_and_keeps_user_names():
    kinds = (Type("f64", 1), Type("f64", 1))
    first = print_function(lower(_printed, kinds).function)
    second = print_function(lower(_printed, kinds).function)
    assert first == second
    assert first.startswith("func _printed(x: f64[:], y: f64[:]) -> (f64) {")
    assert "z: f64[:] = add(" in first
    assert "} else {" in first
