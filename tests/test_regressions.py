"""Regression tests for bugs found in review; each would be silently wrong or unclear."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff as sd
from symdiff.signature import parse_signature
from tests import regression_cases as rc
from tests.gradcheck import assert_close

rng = np.random.default_rng(7)


def test_loop_temporaries_never_clobber_user_variables():
    Z = rng.standard_normal((3, 4))
    assert sd.jit(rc.fused_names)(Z, 1.5) == pytest.approx(rc.fused_names(Z, 1.5), rel=1e-13)
    value = sd.jit(rc.fused_names_arrays)(Z, 0.5)
    assert value == pytest.approx(rc.fused_names_arrays(Z, 0.5), rel=1e-13)


def test_integer_index_arrays_broadcast_in_the_adjoint():
    X = rng.standard_normal((4, 3))
    i, j = np.array([0, 2, 2, 3]), np.array([1])
    expected = sd.grad(rc.broadcast_index, backend="python")(X, i, j)
    assert_close(sd.grad(rc.broadcast_index)(X, i, j), expected, rtol=0, atol=0)
    manual = np.zeros_like(X)
    np.add.at(manual, (i, np.broadcast_to(j, i.shape)), 2 * X[i, 1])
    assert_close(expected, manual, rtol=1e-14, atol=0)


@pytest.mark.parametrize("fn, fragment", [
    (rc.aug_on_argument, "argument array 'x'"),
    (rc.aug_on_alias, "also change 'z'"),
    (rc.aug_on_view_of_argument, "argument array 'x'"),
])
def test_in_place_update_visible_elsewhere_is_refused(fn, fragment):
    with pytest.raises(sd.UnsupportedSyntaxError, match=fragment):
        sd.jit(fn, backend="python")(np.ones(3))


def test_in_place_update_of_a_fresh_array_is_allowed():
    assert sd.jit(rc.aug_fresh, backend="python")(np.ones(3)) == 9.0


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_results_never_alias_the_arguments(backend):
    x, y = np.ones(3), np.arange(3.0)
    g = sd.grad(rc.dot, backend=backend)(x, y)
    assert g is not y and not np.shares_memory(g, y)
    assert_close(g, y, rtol=0, atol=0)
    r = sd.jit(rc.identity_times_one, backend=backend)(x)
    assert not np.shares_memory(r, x)
    A = rng.standard_normal((2, 3))
    t = sd.jit(rc.transpose_arg, backend=backend)(A)
    assert not np.shares_memory(t, A) and np.array_equal(t, A.T)


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_integer_to_a_negative_power_is_a_float_as_in_python(backend):
    assert sd.jit(rc.int_negative_power, backend=backend)(np.ones(2), 2) == 1.0


def test_defaults_and_0d_arrays_take_the_fast_path():
    g = sd.grad(rc.with_default, backend="python")
    x = np.arange(3.0)
    assert_close(g(x), 4.0 * x, rtol=0, atol=0)
    assert_close(g(x), 4.0 * x, rtol=0, atol=0)
    assert len(g._table) == 1
    v = sd.value_and_grad(rc.with_default, argnums=1, backend="python")
    value, gs = v(x, np.array(3.0))
    assert value == 15.0 and gs == 5.0
    assert v(x, np.array(3.0)) == (15.0, 5.0)


def test_full_with_integer_dtype_and_float_fill_is_refused():
    with pytest.raises(sd.UnsupportedSyntaxError, match="truncates"):
        sd.grad(rc.full_int_dtype, backend="python")(np.ones(3))


def test_quoted_annotations_under_future_annotations():
    kinds = parse_signature(rc.quoted_annotation, None)
    assert [str(k) for k in kinds] == ["f64[:]", "i64"]


def test_returning_a_module_names_the_return_line():
    with pytest.raises(sd.UnsupportedSyntaxError) as info:
        sd.jit(rc.return_module, backend="python")(np.ones(2))
    assert "cannot return the module 'numpy'" in str(info.value)
    assert "return np" in str(info.value)


def test_reductions_take_numpy_positional_order():
    with pytest.raises(sd.UnsupportedSyntaxError, match="'dtype' is not supported"):
        sd.grad(rc.sum_dtype_positional, backend="python")(np.ones((2, 2)))
    g = sd.grad(rc.reshape_shape_keyword, backend="python")(np.arange(4.0))
    assert_close(g, 2 * np.arange(4.0), rtol=0, atol=0)


def test_unknown_backend_is_refused_at_once():
    with pytest.raises(sd.SymdiffError, match="unknown backend"):
        sd.grad(rc.dot, backend="cuda")


def test_dispatch_switches_between_specializations():
    g = sd.grad(rc.with_default, backend="python")
    x1, x2 = np.arange(3.0), np.arange(6.0).reshape(2, 3)
    for _ in range(2):
        assert_close(g(x1), 4.0 * x1, rtol=0, atol=0)
        assert_close(g(x2), 4.0 * x2, rtol=0, atol=0)
        assert_close(g(x1, 0.5), x1, rtol=0, atol=0)
        assert_close(g(x1, 1), 2.0 * x1, rtol=0, atol=0)   # an int scale: its own kind
    with pytest.raises(sd.SignatureError, match="takes 2 argument"):
        g(x1, 1.0, 2.0)
    with pytest.raises(sd.SignatureError, match="list"):
        g([1.0, 2.0])


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_broadcast_gather_has_the_broadcast_length(backend):
    A = np.arange(12.0).reshape(3, 4)
    i, j = np.array([1]), np.array([0, 2, 3])
    g = sd.grad(rc.mean_of_broadcast_gather, backend=backend)(A, i, j)
    expected = np.zeros_like(A)
    expected[1, [0, 2, 3]] = 1.0 / 3.0 + A[1, [0, 2, 3]]
    assert_close(g, expected, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("fn, args, fragment", [
    (rc.write_after_numpy_transpose, (np.ones(3),), "also change 'z'"),
    (rc.aug_after_tuple_alias, (np.ones(3),), "also change"),
    (rc.write_after_conditional_alias, (np.ones(3), 1.0), "also change 'z'"),
    (rc.aug_after_helper_alias, (np.ones(3),), "also change 'z'"),
    (rc.write_after_branch_alias, (np.ones(3), 1.0), "argument array 'x'"),
])
def test_memory_shared_through_any_route_is_seen(fn, args, fragment):
    with pytest.raises(sd.UnsupportedSyntaxError, match=fragment):
        sd.jit(fn, backend="python")(*args)


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_gradients_are_distinct_arrays(backend):
    gx, gy = sd.grad(rc.shared_adjoint, argnums=(0, 1), backend=backend)(np.ones(2), np.ones(2))
    assert not np.shares_memory(gx, gy)
    assert_close(gx, [4.0, 4.0], rtol=0, atol=0)


def test_reshape_newshape_keyword_and_tuples_in_both_arms():
    g = sd.grad(rc.reshape_newshape, backend="python")(np.arange(4.0))
    assert_close(g, 2 * np.arange(4.0), rtol=0, atol=0)
    g = sd.grad(rc.tuple_in_both_arms, backend="python")(np.ones(3), -1.0)
    assert_close(g, [3.0, 3.0, 3.0], rtol=0, atol=0)


def _two_argument_loss(w, b):
    return np.sum(np.tanh(w) * b) ** 2


def test_show_ir_of_a_transformed_function_shows_that_transform():
    """show_ir(sd.grad(f, argnums=(0, 1))) once printed the gradient in argument 0 only."""
    args = (np.ones(3), np.ones(3))
    both = sd.grad(_two_argument_loss, argnums=(0, 1))
    assert sd.show_ir(both, "python", args=args) == \
        sd.show_ir(_two_argument_loss, "python", args=args, wrt=(0, 1))
    assert sd.show_ir(both, "grad", args=args) == \
        sd.show_ir(_two_argument_loss, "grad", args=args, wrt=(0, 1))
    assert "b_bar" in sd.show_ir(both, "grad", args=args)
    second = sd.egrad(sd.egrad(_tanh))
    assert sd.show_ir(second, "egrad", args=(np.ones(3),)) == \
        sd.show_ir(_tanh, "egrad", args=(np.ones(3),), order=2)
    # an explicit wrt still wins over the transform's own argnums
    assert "b_bar" not in sd.show_ir(both, "grad", args=args, wrt=0)


def _tanh(x):
    return np.tanh(x)


def _sum_of_squares(x):
    return np.sum(x * x)


_sum_of_squares_grad = sd.grad(_sum_of_squares)


def _calls_a_gradient(x):
    return _sum_of_squares_grad(x)


def test_grad_of_an_array_valued_gradient_is_refused():
    """grad(grad(f)) of an array argument once returned the Hessian times ones."""
    x = np.array([1.0, 2.0, 0.5])
    for nested in (sd.grad(sd.grad(_sum_of_squares)), sd.grad(sd.egrad(_sum_of_squares))):
        with pytest.raises(sd.NotDifferentiableError, match="hessian"):
            nested(x)
    np.testing.assert_allclose(sd.egrad(sd.grad(_sum_of_squares))(x), 2.0 * np.ones(3))


def test_a_gradient_called_inside_compiled_code_is_refused_at_the_call():
    """Calling sd.grad(f) inside a compiled function once inlined f itself."""
    with pytest.raises(sd.UnsupportedSyntaxError, match="symdiff.grad") as info:
        sd.jit(_calls_a_gradient)(np.ones(3))
    assert "return _sum_of_squares_grad(x)" in str(info.value)


def test_hvp_in_two_arguments_is_refused_cleanly():
    with pytest.raises(sd.SymdiffError, match="one argument"):
        sd.show_ir(_two_argument_loss, "hvp", args=(np.ones(3), np.ones(3)), wrt=(0, 1))


def _scaled_square(x, s=2.0):
    return np.sum(x * x) * s


def test_the_specialized_call_falls_back_for_other_arities_and_kinds():
    """After a specialization is installed, calls with fewer or more arguments, or other
    kinds, go through the general dispatch (defaults bound, errors named)."""
    g = sd.grad(_scaled_square)
    x = np.ones(3)
    np.testing.assert_allclose(g(x), 4.0 * x)
    np.testing.assert_allclose(g(x, 3.0), 6.0 * x)
    np.testing.assert_allclose(g(x), 4.0 * x)
    np.testing.assert_allclose(g(np.ones((2, 2))), 4.0 * np.ones((2, 2)))
    for bad in ((), (x, 1.0, 2.0)):
        with pytest.raises(sd.SignatureError, match="takes 2 argument"):
            g(*bad)


_GAIN = 2.0


def _gained(x):
    return np.sum(x * x) * _GAIN


def test_jvp_sees_a_changed_global_constant(monkeypatch):
    """Repeated jvp calls re-key the cache (cheaply: the source is parsed once), so a global
    constant changed between calls is used, never a stale compiled entry."""
    x, t = np.array([1.0, 2.0]), np.array([1.0, 0.0])
    assert sd.jvp(_gained, (x,), (t,))[1] == pytest.approx(4.0)
    monkeypatch.setitem(globals(), "_GAIN", 3.0)
    assert sd.jvp(_gained, (x,), (t,))[1] == pytest.approx(6.0)


def _literal_sum(x, s):
    v1 = np.tanh(x)
    v2 = x + s
    v3 = x - v2
    return np.sum(v1) + np.sum(v2) + np.sum(v3) + s


def test_fused_literal_arithmetic_with_a_zero_operand():
    """Folding two literals in a fused loop (here ``1.0 + 0.0`` from the adjoints) evaluated
    every operator, so any zero right operand raised ZeroDivisionError at code generation
    (found by tests/test_property.py once tanh joined fused loops)."""
    x = np.linspace(0.1, 0.4, 4)
    got = sd.grad(_literal_sum, argnums=(0, 1))(x, 0.5)
    expected = sd.grad(_literal_sum, argnums=(0, 1), backend="python")(x, 0.5)
    assert_close(got[0], expected[0], rtol=1e-14)
    assert got[1] == pytest.approx(float(expected[1]), rel=1e-14)
