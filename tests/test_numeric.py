"""symdiff.numeric: each method's error behaves as theory says, on functions with known
derivatives; the API mirrors symdiff's; the complex step refuses what it cannot do."""

from __future__ import annotations

import math

import numpy as np
import pytest

from symdiff import numeric
from symdiff.errors import SignatureError, SymdiffError
from symdiff.numeric import ComplexStepError

EPS = np.finfo(np.float64).eps
POINTS = np.linspace(-2.0, 2.0, 2001)


def f(x):
    return np.exp(np.sin(x))


def df(x):
    return np.cos(x) * np.exp(np.sin(x))


def mean_error(method, h, **kw):
    """Mean error of the elementwise derivative of f over 2001 points (smooths round-off)."""
    return float(np.mean(np.abs(numeric.egrad(f, method=method, h=h, **kw)(POINTS) - df(POINTS))))


def slope(method, hs, **kw):
    """The exponent p in error ~ h^p, fitted on a log-log scale."""
    errors = [mean_error(method, h, **kw) for h in hs]
    return np.polyfit(np.log10(hs), np.log10(errors), 1)[0]


# --------------------------------------------------------------------------- theory

@pytest.mark.parametrize("method, hs, order", [
    ("forward", np.logspace(-2, -5, 7), 1),
    ("central", np.logspace(-1, -3, 5), 2),
    ("complex", np.logspace(-1, -4, 7), 2),
    ("richardson", np.logspace(-0.5, -1.5, 5), 4),
])
def test_truncation_error_has_the_order_of_the_method(method, hs, order):
    assert slope(method, hs) == pytest.approx(order, abs=0.15)


def test_more_richardson_levels_raise_the_order():
    assert slope("richardson", np.logspace(-0.3, -1.0, 5), levels=3) == pytest.approx(6, abs=0.4)
    assert slope("richardson", np.logspace(-1, -3, 5), levels=1) == pytest.approx(2, abs=0.15)


@pytest.mark.parametrize("method, hs", [
    ("forward", np.logspace(-10, -14, 5)),
    ("central", np.logspace(-8, -13, 6)),
    ("richardson", np.logspace(-6, -12, 7)),
])
def test_round_off_error_grows_like_one_over_h(method, hs):
    assert slope(method, hs) == pytest.approx(-1, abs=0.15)


def test_complex_step_has_no_round_off():
    for h in (1e-10, 1e-20, 1e-100, 1e-300):
        assert mean_error("complex", h) < 4 * EPS
    # the largest error anywhere is a few ulps of f'
    d = numeric.egrad(f, method="complex", h=1e-200)(POINTS)
    assert np.max(np.abs(d - df(POINTS)) / np.abs(df(POINTS)).max()) < 4 * EPS


@pytest.mark.parametrize("method, bound", [
    ("forward", 50 * math.sqrt(EPS)),           # ~1e-8 at the best step
    ("central", 50 * EPS ** (2 / 3)),           # ~4e-11
    ("richardson", 50 * EPS ** (4 / 5)),        # ~3e-13
    ("complex", 4 * EPS),
])
def test_default_step_reaches_the_best_error(method, bound):
    """The default step sits at the bottom of the V: its error is the method's best."""
    best = min(mean_error(method, h) for h in np.logspace(-1, -15, 57))
    at_default = mean_error(method, None)
    assert at_default < bound
    assert at_default < 10 * best


def test_default_steps():
    assert numeric.default_step("forward") == pytest.approx(1.49e-8, rel=1e-2)
    assert numeric.default_step("central") == pytest.approx(6.06e-6, rel=1e-2)
    assert numeric.default_step("complex") == 1e-20
    assert numeric.default_step("richardson", levels=2) == pytest.approx(7.4e-4, rel=1e-2)


def test_steps_are_exact():
    """Real steps are the representable differences (x + h) - x: the quotient of the identity
    is exactly 1 however badly h is chosen (it would not be with the h asked for)."""
    for h in (1e-3, 1.234567e-9, 3e-13):
        assert (0.1 + h) - 0.1 != h
        for method in ("forward", "central"):
            assert numeric.grad(lambda x: x, method=method, h=h)(0.1) == 1.0


def test_a_step_below_the_spacing_of_floats_is_an_error():
    with pytest.raises(SymdiffError, match="spacing"):
        numeric.grad(f, method="central", h=1e-30)(1.0)


# --------------------------------------------------------------------------- the API

def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_grad(x):
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return g


@pytest.mark.parametrize("method, rtol", [("forward", 1e-5), ("central", 1e-8),
                                          ("richardson", 1e-10), ("complex", 1e-14)])
def test_grad_of_an_array_argument(method, rtol):
    x = np.random.default_rng(0).uniform(-1.0, 1.0, 7)
    g = numeric.grad(rosenbrock, method=method)(x)
    assert g.shape == x.shape
    np.testing.assert_allclose(g, rosenbrock_grad(x), rtol=rtol, atol=rtol * 100)


def test_grad_of_matrix_and_scalar_arguments():
    def loss(W, b, X):
        return np.sum(np.tanh(X @ W + b) ** 2)

    rng = np.random.default_rng(1)
    W, b, X = rng.standard_normal((3, 2)), 0.3, rng.standard_normal((5, 3))
    gW, gb = numeric.grad(loss, argnums=(0, 1))(W, b, X)
    t = np.tanh(X @ W + b)
    dz = 2 * t * (1 - t * t)
    np.testing.assert_allclose(gW, X.T @ dz, rtol=1e-8)
    assert isinstance(gb, float)
    assert gb == pytest.approx(float(np.sum(dz)), rel=1e-8)
    (gW1,) = numeric.grad(loss, argnums=(0,))(W, b, X)        # a tuple even of one
    np.testing.assert_allclose(gW1, gW)
    np.testing.assert_allclose(numeric.grad(loss, argnums=-3)(W, b, X), gW)


def test_jacobian_has_output_then_input_shape():
    def g(x):
        return np.array([x[0] * x[1], np.sin(x[0]), x[1] ** 2])

    x = np.array([0.5, 2.0])
    expected = np.array([[2.0, 0.5], [np.cos(0.5), 0.0], [0.0, 4.0]])
    for method in numeric.METHODS:
        J = numeric.jacobian(g, method=method)(x)
        assert J.shape == (3, 2)
        np.testing.assert_allclose(J, expected, rtol=1e-5, atol=1e-8)
    M = numeric.jacobian(lambda A: A * 2.0)(np.ones((2, 3)))
    assert M.shape == (2, 3, 2, 3)


def test_jvp_is_the_directional_derivative():
    x = np.array([0.3, -0.7, 1.1])
    v = np.array([1.0, 2.0, -0.5])
    value, tangent = numeric.jvp(rosenbrock, (x,), (v,), method="complex")
    assert value == rosenbrock(x)
    assert tangent == pytest.approx(float(rosenbrock_grad(x) @ v), rel=1e-13)
    # an argument that does not move (None) and an integer argument
    value, tangent = numeric.jvp(lambda a, s, n: a * s * n, (2.0, 3.0, 4), (1.0, None, None))
    assert value == 24.0 and tangent == pytest.approx(12.0, rel=1e-9)


class Counter:
    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args):
        self.calls += 1
        return self.fn(*args)


@pytest.mark.parametrize("method", numeric.METHODS)
def test_grad_makes_the_advertised_number_of_calls(method):
    x = np.linspace(0.1, 1.0, 9)
    counted = Counter(rosenbrock)
    numeric.grad(counted, method=method)(x)
    assert counted.calls == numeric.evaluations(method, x.size)
    assert numeric.evaluations("forward", 9) == 10 and numeric.evaluations("central", 9) == 18


@pytest.mark.parametrize("method", ["forward", "central", "complex"])
def test_egrad_is_vectorized_over_coordinates(method):
    """For an elementwise function the number of calls does not depend on the number of points."""
    for n in (10, 100_000):
        counted = Counter(np.tanh)
        d = numeric.egrad(counted, method=method)(np.linspace(-3, 3, n))
        assert counted.calls <= 3
        np.testing.assert_allclose(d, 1 / np.cosh(np.linspace(-3, 3, n)) ** 2, atol=1e-7)


def test_a_decorated_function_is_unwrapped():
    import symdiff as sd

    @sd.grad
    def cube(x):
        return x ** 3

    assert numeric.grad(cube)(2.0) == pytest.approx(12.0, rel=1e-9)


# --------------------------------------------------------------------------- refusals

def test_integer_arguments_are_refused():
    with pytest.raises(SignatureError, match="'n' is an integer"):
        numeric.grad(lambda x, n: x * n, argnums=1)(1.0, 3)
    with pytest.raises(SignatureError, match="dtype int64"):
        numeric.grad(np.sum)(np.arange(3))


def test_grad_needs_a_scalar_output():
    with pytest.raises(SymdiffError, match="use numeric.jacobian"):
        numeric.grad(lambda x: x * 2.0)(np.ones(3))
    with pytest.raises(SymdiffError, match="use numeric.jacobian"):
        numeric.grad(lambda x: x * 2.0, method="forward")(np.ones(3))


def test_unknown_method_and_bad_step():
    with pytest.raises(SymdiffError, match="unknown method 'backward'"):
        numeric.grad(f, method="backward")
    with pytest.raises(SymdiffError, match="positive"):
        numeric.grad(f, h=-1.0)
    with pytest.raises(SymdiffError, match="levels"):
        numeric.grad(f, method="richardson", levels=0)


def abs_loss(x):
    z = x * 2.0
    return np.sum(np.abs(z) * x)


def sign_loss(x):
    return np.sum(np.sign(x) * x * x)


def abs_in_a_condition_only(a):
    x = a
    step = 1.0
    while abs(step) > 1e-12:
        step = (x * x - a) / (2.0 * x)
        x = x - step
    return x


def float_cast(x):
    return math.exp(x)


def writes_into_zeros(x):
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = x[i] ** 2
    return np.sum(out)


def writes_into_zeros_like(x):
    out = np.zeros_like(x)
    for i in range(x.shape[0]):
        out[i] = x[i] ** 2
    return np.sum(out)


def real_result(x):
    return np.sum(np.real(x) ** 2)


@pytest.mark.parametrize("fn, x, match", [
    (abs_loss, np.array([1.0, -2.0]), r"test_numeric.py:\d+:\d+: return np.sum\(np.abs\(z\) \* x\)"),
    (sign_loss, np.array([1.0, -2.0]), "np.sign"),
    (float_cast, 0.5, "converts a complex value to a real one"),
    (writes_into_zeros, np.array([1.0, 2.0]), "np.zeros_like"),
    (real_result, np.array([1.0, 2.0]), "returned a real value"),
])
def test_complex_step_refuses_non_analytic_functions(fn, x, match):
    with pytest.raises(ComplexStepError, match=match):
        numeric.grad(fn, method="complex")(x)


def test_complex_step_through_branches_max_and_conditions():
    """Comparisons order complex numbers by their real part: branches, np.maximum, np.max and
    a while condition on abs() stay valid."""
    assert numeric.grad(abs_in_a_condition_only, method="complex")(2.0) == \
        pytest.approx(0.5 / math.sqrt(2.0), rel=1e-14)
    x = np.array([1.0, -2.0, 0.5])
    relu_sq = lambda x: np.sum(np.maximum(x, 0.0) ** 2) + np.max(x) * (x[0] if x[0] > 0 else -x[0])  # noqa: E731
    np.testing.assert_allclose(numeric.grad(relu_sq, method="complex")(x),
                               numeric.grad(relu_sq, method="central")(x), rtol=1e-9)
    np.testing.assert_allclose(numeric.grad(writes_into_zeros_like, method="complex")(x), 2 * x,
                               rtol=1e-15)


def test_non_analytic_uses_reads_the_ir():
    locs = numeric.non_analytic_uses(abs_loss, (np.ones(2),), (0,))
    assert len(locs) == 1 and "np.abs(z)" in locs[0].text
    assert numeric.non_analytic_uses(abs_in_a_condition_only, (2.0,), (0,)) == []
    assert numeric.non_analytic_uses(np.sum, (np.ones(2),), (0,)) == []  # not Python: no verdict
