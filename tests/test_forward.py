"""Forward mode and the derivatives built on it: jvp, vjp, jacobian, hessian, hvp, egrad.

References are independent of the code under test: central differences, the
reverse mode (the dot-product test ``<u, J v> == <J^T u, v>``), autograd, and
closed forms from SymPy for the nth derivatives of tanh and the sigmoid.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import sympy

import symdiff as sd
from tests import loop_cases as lc
from tests.gradcheck import assert_close, central_difference
from tests.test_primitives import CASES, _case_id

rng = np.random.default_rng(7)


def _direction(a):
    return float(rng.standard_normal()) if np.ndim(a) == 0 else rng.standard_normal(np.shape(a))


def _along(f, args, k, v, h=1e-6):
    up, down = list(args), list(args)
    up[k] = args[k] + h * v
    down[k] = args[k] - h * v
    return (np.asarray(f(*up)) - np.asarray(f(*down))) / (2 * h)


# ------------------------------------------------- jvp of every primitive


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_jvp_against_directional_differences(case):
    fn, make, argnums = case
    args = make()
    tangents = [None] * len(args)
    for k in argnums:
        tangents[k] = _direction(args[k])
    value, tangent = sd.jvp(fn, args, tangents, backend="python")
    assert value == pytest.approx(fn(*args), rel=1e-12, abs=1e-12)
    expected = sum(_along(fn, args, k, tangents[k]) for k in argnums)
    assert_close(tangent, expected, rtol=1e-5, atol=1e-6)


# ----------------------------------------------- vector-valued functions


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def mlp_layer(W, x):
    return np.tanh(W @ x + 0.1)


def prefix_products(x):
    out = np.ones(x.shape[0])
    acc = 1.0
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            acc = acc * x[i]
        else:
            acc = acc + x[i]
        out[i] = acc
    return out


def newton_roots(a):
    y = a * 0.5 + 0.5
    k = 0
    while k < 20:
        y = 0.5 * (y + a / y)
        k = k + 1
    return y


VECTOR_CASES = [
    (softmax, lambda: (rng.standard_normal(5),)),
    (mlp_layer, lambda: (rng.standard_normal((3, 4)), rng.standard_normal(4))),
    (prefix_products, lambda: (np.array([0.5, -0.3, 1.2, 0.8, -1.1]),)),
    (newton_roots, lambda: (rng.uniform(0.5, 2.0, 4),)),
]


@pytest.mark.parametrize("backend", ["python", "numba"])
@pytest.mark.parametrize("fn, make", VECTOR_CASES, ids=[c[0].__name__ for c in VECTOR_CASES])
def test_dot_product_of_jvp_and_vjp(fn, make, backend):
    """<u, J v> computed by forward mode equals <J^T u, v> computed by reverse mode."""
    args = make()
    vs = [_direction(a) for a in args]
    value, jv = sd.jvp(fn, args, vs, backend=backend)
    value2, vjp_fn = sd.vjp(fn, *args, backend=backend)
    assert_close(value, fn(*args), rtol=1e-12, atol=1e-12)
    assert_close(value2, value, rtol=1e-12, atol=1e-12)
    u = _direction(value)
    uj = vjp_fn(u)
    lhs = float(np.sum(u * jv))
    rhs = sum(float(np.sum(g * v)) for g, v in zip(uj, vs, strict=True))
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-12)
    expected = sum(_along(fn, args, k, vs[k]) for k in range(len(args)))
    assert_close(jv, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn, make", VECTOR_CASES, ids=[c[0].__name__ for c in VECTOR_CASES])
def test_jacobian_against_differences_in_both_modes(fn, make):
    args = make()
    jac = sd.jacobian(fn, argnums=len(args) - 1, backend="python")
    J = jac(*args)
    k = len(args) - 1
    x = args[k]
    out = np.asarray(fn(*args))
    assert J.shape == out.shape + np.shape(x)
    cols = [_along(fn, args, k, e) for e in np.eye(np.size(x)).reshape((-1, *np.shape(x)))]
    expected = np.stack([np.ravel(c) for c in cols], axis=-1).reshape(J.shape)
    assert_close(J, expected, rtol=1e-5, atol=1e-6)
    assert jac.mode == ("forward" if np.size(x) < out.size else "reverse")


def test_jacobian_chooses_forward_mode_for_few_inputs():
    def lift(t):
        return np.sin(t * np.arange(6.0))

    jac = sd.jacobian(lift, backend="python")
    J = jac(0.4)
    assert jac.mode == "forward" and J.shape == (6,)
    assert_close(J, np.arange(6.0) * np.cos(0.4 * np.arange(6.0)), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- Hessians


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def logistic(w, X, y):
    z = X @ w
    return np.mean(np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0.0) - y * z)


def branchy_loop(x, n):
    s = 0.0
    for i in range(n):
        if x[i] > 0.0:
            s = s + x[i] ** 3 * s + x[i]
        else:
            s = s * np.sin(x[i])
    return s


X_LOG = rng.standard_normal((20, 3))
Y_LOG = (rng.uniform(size=20) > 0.5).astype(float)

HESSIAN_CASES = [
    (rosenbrock, (rng.uniform(-1.0, 1.0, 5),)),
    (logistic, (rng.standard_normal(3), X_LOG, Y_LOG)),
    (branchy_loop, (np.array([0.4, -0.8, 1.1, 0.3]), 4)),
    (lc.oscillator_while, (4.0, 0.3, 1.0, 0.0, 0.05, np.cos(0.2 * np.arange(12)))),
    (lc.while_array_carried, (np.array([0.6, -0.4, 0.9]),)),
]


@pytest.mark.parametrize("backend", ["python", "numba"])
@pytest.mark.parametrize("fn, args", HESSIAN_CASES, ids=[c[0].__name__ for c in HESSIAN_CASES])
def test_hessian_is_symmetric_and_matches_differences_of_the_gradient(fn, args, backend):
    H = sd.hessian(fn, backend=backend)(*args)
    x = args[0]
    assert np.shape(H) == np.shape(x) * 2
    H2 = np.reshape(H, (np.size(x), np.size(x)))
    assert_close(H2, H2.T, rtol=1e-9, atol=1e-9)
    grad = sd.grad(fn, backend="python")
    if np.ndim(x) == 0:
        expected = central_difference(lambda t, *rest: grad(t, *rest), args, 0, h=1e-5)
    else:
        expected = np.stack([_along(grad, args, 0, e, h=1e-5)
                             for e in np.eye(np.size(x))], axis=-1)
    assert_close(H2, np.reshape(expected, H2.shape), rtol=1e-5, atol=1e-5)
    v = _direction(x)
    Hv = sd.hvp(fn, backend=backend)(*args, v)
    assert_close(Hv, np.reshape(H2 @ np.ravel(v), np.shape(x)), rtol=1e-10, atol=1e-10)


# ------------------------------------------------- derivatives of derivatives


@functools.cache
def _closed_forms(name: str) -> list:
    t = sympy.Symbol("t")
    f = sympy.tanh(t) if name == "tanh" else 1 / (1 + sympy.exp(-t))
    return [sympy.lambdify(t, sympy.diff(f, t, k), "numpy") for k in range(7)]


def tanh(x):
    return np.tanh(x)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@functools.cache
def _nested(fn, order: int, backend: str):
    d = fn
    for _ in range(order):
        d = sd.egrad(d, backend=backend)
    return d


@pytest.mark.parametrize("order", range(1, 7))
@pytest.mark.parametrize("fn", [tanh, sigmoid])
def test_nested_egrad_matches_sympy_closed_forms(fn, order):
    x = np.linspace(-3.0, 3.0, 25)
    got = _nested(fn, order, "python")(x)
    expected = _closed_forms(fn.__name__)[order](x)
    assert_close(got, expected, rtol=1e-9, atol=1e-10)


def test_sixth_derivative_of_tanh_compiles_with_numba():
    x = np.linspace(-3.0, 3.0, 200)
    assert_close(_nested(tanh, 6, "numba")(x), _closed_forms("tanh")[6](x), rtol=1e-9, atol=1e-10)


def test_egrad_through_branches_twice():
    def f(x):
        return np.where(x > 0.0, np.tanh(x) * x, np.sin(x))

    x = np.array([0.3, -0.7, 1.2, 0.5])
    h = 1e-4
    expected = (f(x + h) - 2 * f(x) + f(x - h)) / h ** 2
    assert_close(_nested(f, 2, "python")(x), expected, rtol=1e-5, atol=1e-6)


def test_grad_of_grad_of_a_scalar_function():
    def f(t):
        y = t
        for _ in range(3):
            y = np.sin(y) * t
        return y

    second = sd.grad(sd.grad(f, backend="python"), backend="python")
    h = 1e-4
    expected = (f(0.7 + h) - 2 * f(0.7) + f(0.7 - h)) / h ** 2
    assert second(0.7) == pytest.approx(expected, rel=1e-5)


def series(x):
    s = x * 0.0
    term = x * 1.0
    for k in range(1, 5):
        s = s + term / k
        term = term * x
    return s


def fixed_point(x):
    y = x * 1.0
    k = 0
    while k < 4:
        y = np.sin(y) + x
        k = k + 1
    return y


@pytest.mark.parametrize("fn", [series, fixed_point])
def test_egrad_twice_through_loops(fn):
    x = np.array([0.3, -0.7, 1.2, 0.5])
    h = 1e-4
    expected = (fn(x + h) - 2 * fn(x) + fn(x - h)) / h ** 2
    assert_close(_nested(fn, 2, "python")(x), expected, rtol=1e-5, atol=1e-5)
    assert_close(_nested(fn, 2, "numba")(x), _nested(fn, 2, "python")(x), rtol=1e-12, atol=1e-12)


def test_mixed_partials_through_a_for_loop():
    """d/dy (df/dx): reverse mode over a for loop's reverse code (its scalar tapes are
    ordinary arrays written element by element)."""
    def f(x, y):
        s = x
        for _ in range(3):
            s = s * y + np.sin(x)
        return s

    mixed = sd.grad(sd.grad(f, argnums=0, backend="python"), argnums=1, backend="python")
    h = 1e-4
    expected = (f(0.5 + h, 0.7 + h) - f(0.5 + h, 0.7 - h) - f(0.5 - h, 0.7 + h)
                + f(0.5 - h, 0.7 - h)) / (4 * h * h)
    assert mixed(0.5, 0.7) == pytest.approx(expected, rel=1e-6)


def _while_loop_of_two(x, y):
    s = x
    k = 0
    while k < 3:
        s = np.sin(s) * np.sum(y * y) + x
        k = k + 1
    return s


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_mixed_partials_through_a_while_loop(backend):
    """d/dy (df/dx) through a while loop, whose growable tape has no reverse-mode rule:
    a scalar y takes one forward sweep, an array y one forward sweep per element."""
    f = _while_loop_of_two
    inner = sd.grad(f, argnums=0, backend=backend)
    mixed = sd.grad(inner, argnums=1, backend=backend)
    y = np.array([0.3, -0.4, 0.5])
    h = 1e-5
    expected = [(inner(0.5, y + h * e) - inner(0.5, y - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(mixed(0.5, y), expected, rtol=1e-7)

    def g(x, y):
        s = x
        k = 0
        while k < 3:
            s = np.sin(s) * (y * y) + x
            k = k + 1
        return s

    mixed_scalar = sd.grad(sd.grad(g, argnums=0, backend=backend), argnums=1, backend=backend)
    assert mixed_scalar(0.5, 0.3) == pytest.approx(mixed(0.5, np.array([0.3]))[0], rel=1e-12)
    # egrad of a scalar is its gradient: the same forward sweeps
    by_egrad = sd.egrad(inner, argnums=1, backend=backend)
    np.testing.assert_allclose(by_egrad(0.5, y), mixed(0.5, y), rtol=1e-14)


def test_nested_egrad_code_grows_gently():
    """Each order's code is simplified (CSE modulo commutativity, constant factors
    gathered, polynomial collection): the 6th derivative of tanh stays small
    (3, 5, 7, 8, 11, 12 ops; 5, 14, 32, 72, 168, 412 without simplification)."""
    from symdiff.ir.types import Type
    from symdiff.pipeline import Transform, build
    from symdiff.transforms.simplify import count_ops

    counts, t = [], None
    for _ in range(6):
        t = Transform("egrad", (0,), inner=t)
        counts.append(count_ops(build(tanh, (Type("f64", 1),), t).function))
    assert counts[-1] <= 14, counts
    assert all(b - a <= 4 for a, b in zip(counts, counts[1:], strict=False)), counts


# -------------------------------------------------------------------- errors


def test_jvp_checks_its_tangents():
    with pytest.raises(sd.SignatureError, match="2 primals and 1 tangents"):
        sd.jvp(rosenbrock, (np.ones(3), 1.0), (np.ones(3),))
    with pytest.raises(sd.SignatureError, match="shape"):
        sd.jvp(rosenbrock, (np.ones(3),), (np.ones(4),))
    with pytest.raises(sd.SignatureError, match="not a float"):
        sd.jvp(branchy_loop, (np.ones(3), 3), (np.ones(3), 1))


def test_hessian_of_a_non_scalar_function_is_refused():
    with pytest.raises(sd.NotDifferentiableError, match="one float scalar"):
        sd.hessian(softmax, backend="python")(np.ones(3))
