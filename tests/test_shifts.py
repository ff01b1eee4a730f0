"""Shift invariance (symdiff.transforms.shifts): derivatives skip a maximum that the
result provably does not depend on (the max-shift of log-sum-exp and softmax).

Checked: which forms get ``stop_gradient`` and which do not (the IR stage shows it);
that the claim is true (a random program whose IR has it gives the same value with
``m + d`` in place of ``m``, evaluated with ``m`` as a parameter); and that gradients
stay right, against central differences and autograd, including at tied maxima.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import symdiff as sd
from tests.gradcheck import assert_close, central_difference


def lse_keepdims(Z):
    m = np.max(Z, axis=1, keepdims=True)
    return np.sum(np.log(np.sum(np.exp(Z - m), axis=1)) + m[:, 0])


def lse_expanded(Z):
    m = np.max(Z, axis=1)
    return np.sum((m + np.log(np.sum(np.exp(Z - m[:, None]), axis=1))) ** 2)


def softmax(Z, W):
    m = np.max(Z, axis=1, keepdims=True)
    e = np.exp(Z - m)
    return np.sum(e / np.sum(e, axis=1, keepdims=True) * W)


def log_softmax(Z, W):
    m = np.max(Z, axis=1, keepdims=True)
    return np.sum((Z - m - np.log(np.sum(np.exp(Z - m), axis=1, keepdims=True))) * W)


def lse_of_a_vector(x):
    m = np.max(x)
    return np.log(np.sum(np.exp(x - m))) + m


def lse_of_columns(Z, W):
    m = np.min(Z, axis=0)
    return np.sum((np.log(np.mean(np.exp(Z - m), axis=0)) + m) * W[0])


def shift_kept(Z):
    m = np.max(Z, axis=1, keepdims=True)
    return np.sum(np.log(np.sum(np.exp(Z - m), axis=1)))


def m_used_again(Z):
    m = np.max(Z, axis=1, keepdims=True)
    return np.sum(np.log(np.sum(np.exp(Z - m), axis=1)) + m[:, 0] + 0.5 * m[:, 0])


def summed_over_rows(Z):
    m = np.max(Z, axis=1, keepdims=True)
    return np.log(np.sum(np.exp(Z - m))) + np.sum(m)


def max_over_rows(Z):
    m = np.max(Z, axis=1, keepdims=True)
    return np.log(np.sum(np.exp(Z - m))) + np.max(m)


def additive_sum(Z):
    m = np.max(Z, axis=1, keepdims=True)
    return np.sum(np.sum(Z - m, axis=1) + m[:, 0])


def part_of_a_row(Z):
    m = np.max(Z, axis=1, keepdims=True)
    return np.sum(np.log(np.sum(np.exp(Z[:, 1:] - m), axis=1)) + m[:, 0])


def rows_sliced(Z):
    m = np.max(Z, axis=1, keepdims=True)
    e = np.exp(Z - m)
    return np.sum(np.log(np.sum(e[1:], axis=1)) + m[1:, 0])


def m_read_in_a_loop(Z):
    m = np.max(Z, axis=1, keepdims=True)
    s = 0.0
    for _ in range(2):
        s += np.sum(np.log(np.sum(np.exp(Z - m), axis=1)) + m[:, 0])
    return s


STOPPED = [lse_keepdims, lse_expanded, softmax, log_softmax, lse_of_a_vector, lse_of_columns,
           part_of_a_row]
# (rows_sliced does not depend on m either, but a part of m's axis is beyond the proof)
KEPT = [shift_kept, m_used_again, summed_over_rows, max_over_rows, additive_sum, rows_sliced,
        m_read_in_a_loop]


def _args(fn, seed=0):
    r = np.random.default_rng(seed)
    Z = r.normal(size=(5, 4)) * 2.0
    if fn is lse_of_a_vector:
        return (Z[0],)
    if fn in (softmax, log_softmax, lse_of_columns):
        return (Z, r.normal(size=(5, 4)))
    return (Z,)


@pytest.mark.parametrize("fn", STOPPED)
def test_shifts_the_result_does_not_depend_on_get_no_derivative(fn):
    assert "stop_gradient(" in sd.show_ir(fn, "ir", args=_args(fn))
    # and the gradient code neither compares with the maximum nor counts ties
    code = sd.show_ir(fn, "numpy", args=_args(fn))
    assert " == " not in code.split("\n", 1)[1]


@pytest.mark.parametrize("fn", KEPT)
def test_shifts_the_result_depends_on_keep_their_derivative(fn):
    assert "stop_gradient(" not in sd.show_ir(fn, "ir", args=_args(fn))


@pytest.mark.parametrize("fn", STOPPED + KEPT)
def test_gradients_match_central_differences_and_autograd(fn):
    args = _args(fn)
    value, g = sd.value_and_grad(fn, backend="python")(*args)
    assert value == pytest.approx(fn(*args), rel=1e-12)
    assert_close(g, central_difference(fn, args, 0), rtol=1e-6, atol=1e-7)
    reference = autograd.grad(_with_autograd_numpy(fn))(*args)
    assert_close(g, reference, rtol=1e-10, atol=1e-12)


def test_tied_maxima_give_the_softmax_gradient():
    """At a tie the maximum has no derivative, but log-sum-exp does: softmax."""
    Z = np.array([[1.0, 3.0, 3.0, -2.0], [0.5, 0.5, 0.5, 0.5]])
    g = sd.grad(lse_keepdims, backend="python")(Z)
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(g, e / e.sum(axis=1, keepdims=True), rtol=1e-15, atol=1e-16)


def test_compiled_gradient_with_a_stopped_shift():
    args = _args(log_softmax, seed=3)
    compiled = sd.grad(log_softmax)(*args)
    assert_close(compiled, sd.grad(log_softmax, backend="python")(*args), rtol=1e-13, atol=1e-14)


def test_hessian_of_log_sum_exp():
    x = np.random.default_rng(4).normal(size=5)
    H = sd.hessian(lse_of_a_vector, backend="python")(x)
    p = np.exp(x - x.max())
    p /= p.sum()
    np.testing.assert_allclose(H, np.diag(p) - np.outer(p, p), rtol=1e-12, atol=1e-14)


def _with_autograd_numpy(fn):
    import types
    env = dict(fn.__globals__)
    env["np"] = anp
    return types.FunctionType(fn.__code__, env, fn.__name__)


# ---------------------------------------------------------------------------------------
# Random programs: when the IR says the result does not depend on m, it does not.

_counter = itertools.count()


@st.composite
def additive(draw, depth=0):
    """An expression of shape (n, k) or (n, 1) that may depend on m additively."""
    leaves = ["Z", "m", "(Z - m)", "(m - Z)", "Z * 0.5"]
    if depth >= 3:
        return draw(st.sampled_from(leaves))
    kind = draw(st.sampled_from(["leaf", "leaf", "add", "sub", "neg", "log", "lsm", "lse",
                                 "colmax"]))
    if kind == "leaf":
        return draw(st.sampled_from(leaves))
    a = draw(additive(depth + 1))
    if kind in ("add", "sub"):
        b = draw(additive(depth + 1))
        return f"({a} {'+' if kind == 'add' else '-'} {b})"
    if kind == "neg":
        return f"(-{a})"
    if kind == "log":
        return f"np.log({draw(positive(depth + 1))})"
    if kind == "colmax":  # over the axis m varies along
        return f"np.max({a}, axis=0, keepdims=True)"
    if kind == "lsm":  # log-softmax of a
        return f"({a} - np.log(np.sum(np.exp({a}), axis=1, keepdims=True)))"
    return f"(np.log(np.sum(np.exp({a} - m), axis=1, keepdims=True)) + m)"


@st.composite
def positive(draw, depth=0):
    """A positive expression that may depend on m multiplicatively."""
    kind = draw(st.sampled_from(["exp", "exp", "mul", "div", "sum", "max", "softmax", "colsum"]))
    if depth >= 3 or kind == "exp":
        return f"np.exp({draw(additive(3 if depth >= 3 else depth + 1))})"
    if kind in ("mul", "div"):
        a, b = draw(positive(depth + 1)), draw(positive(depth + 1))
        return f"({a} {'*' if kind == 'mul' else '/'} {b})"
    if kind == "softmax":
        e = draw(positive(depth + 1))
        return f"({e} / np.sum({e}, axis=1, keepdims=True))"
    if kind == "colsum":
        return f"np.sum({draw(positive(depth + 1))}, axis=0, keepdims=True)"
    return f"np.{kind}({draw(positive(depth + 1))}, axis=1, keepdims=True)"


def _load(source: str, root: Path):
    name = f"shift_case_{next(_counter)}"
    path = root / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expr=additive(), seed=st.integers(0, 2**32 - 1))
def test_random_programs_do_not_depend_on_a_stopped_shift(tmp_path, expr, seed):
    module = _load(
        "import numpy as np\n\n\n"
        f"def f(Z, W):\n    m = np.max(Z, axis=1, keepdims=True)\n    return np.sum({expr} * W)\n\n\n"
        f"def with_m(Z, W, m):\n    return np.sum({expr} * W)\n", tmp_path)
    rng = np.random.default_rng(seed)
    Z, W = rng.uniform(-2.0, 2.0, (4, 3)), rng.normal(size=(4, 3))
    stopped = "stop_gradient(" in sd.show_ir(module.f, "ir", args=(Z, W))
    event(f"stopped: {stopped}")
    m = Z.max(axis=1, keepdims=True)
    if stopped:
        d = rng.uniform(-3.0, 3.0, (4, 1))
        before, after = module.with_m(Z, W, m), module.with_m(Z, W, m + d)
        assert after == pytest.approx(before, rel=1e-8, abs=1e-8)
    value, g = sd.value_and_grad(module.f, backend="python")(Z, W)
    if np.isfinite(value) and abs(value) < 1e6:
        assert_close(g, central_difference(module.f, (Z, W), 0), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("expr, stopped", [
    ("((Z - m) - np.log(np.sum(np.exp((Z - m)), axis=1, keepdims=True)))", True),
    ("np.log((np.exp((Z - m)) / np.sum(np.exp((Z - m)), axis=1, keepdims=True)))", True),
    ("(np.log(np.sum(np.exp(Z - m), axis=1, keepdims=True)) + m)", True),
    ("(Z - m)", False),
    ("np.log(np.max(np.exp((m - Z)), axis=1, keepdims=True))", False),
])
def test_the_random_programs_reach_both_outcomes(tmp_path, expr, stopped):
    """The property above is not vacuous: its grammar writes these (stopped and kept)."""
    module = _load("import numpy as np\n\n\ndef f(Z, W):\n"
                   f"    m = np.max(Z, axis=1, keepdims=True)\n    return np.sum({expr} * W)\n",
                   tmp_path)
    Z = np.random.default_rng(0).normal(size=(4, 3))
    assert ("stop_gradient(" in sd.show_ir(module.f, "ir", args=(Z, Z))) is stopped
