"""The course's models, written with `symdiff.nn`, differentiated by symdiff.

Each model's gradient is checked against central differences and against HIPS
autograd running the same formula, on the NumPy backend; each model is also
compiled once by Numba and compared with autograd. Where a closed form is
short (logistic and softmax regression, the two-layer network's backprop) it
is checked as well.
"""

from __future__ import annotations

import functools

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
import scipy.special as sps

import symdiff as sd
from symdiff.nn import bce, bce_with_logits, cross_entropy, mse, relu, sigmoid, tanh
from tests.gradcheck import central_difference
from tests.test_nn import (
    ag_bce,
    ag_bce_with_logits,
    ag_cross_entropy,
    ag_mse,
    ag_relu,
    ag_sigmoid,
    ag_tanh,
)

FD_TOL = {"rtol": 1e-6, "atol": 1e-8}
AG_TOL = {"rtol": 1e-9, "atol": 1e-12}


@functools.cache
def value_and_grad(fn, argnums, backend="python"):
    """One transformed callable per (model, argnums, backend), so each compiles once."""
    return sd.value_and_grad(fn, argnums=argnums, backend=backend)


def check_model(fn, ag_fn, args, argnums, backend="python", fd=True):
    """Value and gradients against NumPy, autograd and (optionally) central differences."""
    value, grads = value_and_grad(fn, argnums, backend)(*args)
    assert np.isfinite(value)
    assert value == pytest.approx(fn(*args), rel=1e-12)
    assert value == pytest.approx(ag_fn(*args), rel=1e-12)
    assert len(grads) == len(argnums)
    for k, g in zip(argnums, grads, strict=True):
        assert np.shape(g) == np.shape(args[k])
        np.testing.assert_allclose(g, autograd.grad(ag_fn, k)(*args), **AG_TOL)
        if fd:
            np.testing.assert_allclose(g, central_difference(fn, args, k), **FD_TOL)
    return value, grads


# ------------------------------------------------------ logistic regression


def logistic_regression(w, b, X, y):
    """BCE of sigmoid(X w + b) against labels y in {0, 1}; w (d,), b scalar, X (n, d)."""
    return bce(sigmoid(X @ w + b), y)


def ag_logistic_regression(w, b, X, y):
    return ag_bce(ag_sigmoid(anp.dot(X, w) + b), y)


def logistic_regression_logits(w, b, X, y):
    """The same loss from the logits (the stable form used for training)."""
    return bce_with_logits(X @ w + b, y)


def ag_logistic_regression_logits(w, b, X, y):
    return ag_bce_with_logits(anp.dot(X, w) + b, y)


@pytest.fixture(scope="module")
def binary_data():
    rng = np.random.default_rng(11)
    n, d = 40, 5
    X = rng.normal(size=(n, d))
    y = (X @ rng.normal(size=d) + 0.5 * rng.normal(size=n) > 0).astype(np.float64)
    return rng.normal(size=d) * 0.5, 0.3, X, y


@pytest.mark.parametrize("model", [(logistic_regression, ag_logistic_regression),
                                   (logistic_regression_logits, ag_logistic_regression_logits)],
                         ids=["sigmoid-bce", "bce-with-logits"])
def test_logistic_regression(binary_data, model):
    fn, ag_fn = model
    w, b, X, y = binary_data
    _, (gw, gb) = check_model(fn, ag_fn, binary_data, (0, 1))
    # closed form: X^T (sigmoid(Xw + b) - y) / n
    r = sps.expit(X @ w + b) - y
    np.testing.assert_allclose(gw, X.T @ r / len(y), rtol=1e-10, atol=1e-14)
    assert isinstance(gb, float | np.floating)
    assert gb == pytest.approx(r.mean(), rel=1e-10)


def test_logistic_regression_numba(binary_data):
    value, (gw, gb) = check_model(logistic_regression, ag_logistic_regression, binary_data,
                                  (0, 1), backend="numba", fd=False)
    assert isinstance(value, float) and isinstance(gb, float)
    ref_value, (ref_gw, ref_gb) = value_and_grad(logistic_regression, (0, 1))(*binary_data)
    assert value == pytest.approx(ref_value, rel=1e-13)
    np.testing.assert_allclose(gw, ref_gw, rtol=1e-12, atol=1e-15)


def test_logistic_regression_trains(binary_data):
    # a few steps of gradient descent with symdiff's gradient lower the loss
    w, b, X, y = binary_data
    step = value_and_grad(logistic_regression_logits, (0, 1))
    first, _ = step(w, b, X, y)
    for _ in range(50):
        loss, (gw, gb) = step(w, b, X, y)
        w, b = w - 0.5 * gw, b - 0.5 * gb
    assert loss < 0.5 * first


# ------------------------------------------------------- softmax regression


def softmax_regression(W, b, X, labels):
    """Cross-entropy of softmax(X W + b) with integer labels; W (d, k), b (k,)."""
    return cross_entropy(X @ W + b, labels)


def ag_softmax_regression(W, b, X, labels):
    return ag_cross_entropy(anp.dot(X, W) + b, labels)


@pytest.fixture(scope="module")
def multiclass_data():
    rng = np.random.default_rng(12)
    n, d, k = 30, 4, 3
    X = rng.normal(size=(n, d))
    labels = rng.integers(0, k, size=n)
    return rng.normal(size=(d, k)) * 0.5, rng.normal(size=k) * 0.1, X, labels


def test_softmax_regression(multiclass_data):
    W, b, X, labels = multiclass_data
    _, (gW, gb) = check_model(softmax_regression, ag_softmax_regression, multiclass_data, (0, 1))
    # closed form: X^T (P - Y) / n, and the column means of P - Y for b
    residual = (sps.softmax(X @ W + b, axis=1) - np.eye(W.shape[1])[labels]) / len(labels)
    np.testing.assert_allclose(gW, X.T @ residual, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(gb, residual.sum(axis=0), rtol=1e-10, atol=1e-14)


def test_softmax_regression_numba(multiclass_data):
    value, _ = check_model(softmax_regression, ag_softmax_regression, multiclass_data, (0, 1),
                           backend="numba", fd=False)
    assert isinstance(value, float)


# ------------------------------------- two-layer network without biases
# g(W2 f(W1 x)) for one example x, with g = sigmoid and a squared-error loss.


def mlp_tanh(W1, W2, x, t):
    return mse(sigmoid(W2 @ tanh(W1 @ x)), t)


def mlp_relu(W1, W2, x, t):
    return mse(sigmoid(W2 @ relu(W1 @ x)), t)


def mlp_sigmoid(W1, W2, x, t):
    return mse(sigmoid(W2 @ sigmoid(W1 @ x)), t)


def _ag_mlp(f):
    def model(W1, W2, x, t):
        return ag_mse(ag_sigmoid(anp.dot(W2, f(anp.dot(W1, x)))), t)
    return model


# activation name -> (model, autograd model, f, f' as a function of the pre-activation)
MLPS = {
    "tanh": (mlp_tanh, _ag_mlp(ag_tanh), np.tanh, lambda a: 1.0 - np.tanh(a) ** 2),
    "relu": (mlp_relu, _ag_mlp(ag_relu), lambda a: np.maximum(a, 0.0),
             lambda a: (a > 0).astype(np.float64)),
    "sigmoid": (mlp_sigmoid, _ag_mlp(ag_sigmoid), sps.expit,
                lambda a: sps.expit(a) * sps.expit(-a)),
}


@pytest.fixture(scope="module")
def single_example():
    d, h, k = 4, 6, 2
    for seed in range(100):
        rng = np.random.default_rng(100 + seed)
        W1, W2 = rng.normal(size=(h, d)), rng.normal(size=(k, h))
        x, t = rng.normal(size=d), rng.uniform(size=k)
        if np.min(np.abs(W1 @ x)) > 1e-2:       # ReLU kinks well outside the FD step
            return W1, W2, x, t
    raise AssertionError("no data away from the ReLU kink")


def _backprop(W1, W2, x, t, f, df):
    """The hand-written gradient of mse(sigmoid(W2 f(W1 x)), t) w.r.t. (W1, W2)."""
    a1 = W1 @ x
    h = f(a1)
    o = sps.expit(W2 @ h)
    delta2 = 2.0 * (o - t) / t.size * o * (1.0 - o)
    delta1 = (W2.T @ delta2) * df(a1)
    return np.outer(delta1, x), np.outer(delta2, h)


@pytest.mark.parametrize("activation", list(MLPS))
def test_mlp_unbiased(single_example, activation):
    model, ag_model, f, df = MLPS[activation]
    _, (gW1, gW2) = check_model(model, ag_model, single_example, (0, 1))
    hW1, hW2 = _backprop(*single_example, f, df)
    np.testing.assert_allclose(gW1, hW1, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(gW2, hW2, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("activation", list(MLPS))
def test_mlp_unbiased_single_argnum(single_example, activation):
    # argnums as an int gives the bare gradient, not a tuple
    model, ag_model, _, _ = MLPS[activation]
    g = sd.grad(model, argnums=1, backend="python")(*single_example)
    assert isinstance(g, np.ndarray)
    np.testing.assert_allclose(g, autograd.grad(ag_model, 1)(*single_example), **AG_TOL)


def test_mlp_unbiased_numba(single_example):
    model, ag_model, _, _ = MLPS["tanh"]
    value, _ = check_model(model, ag_model, single_example, (0, 1), backend="numba", fd=False)
    assert isinstance(value, float)


# ---------------------------------------- two-layer network with biases, batched


def mlp_batch(W1, b1, W2, b2, X, labels):
    """Softmax cross-entropy of tanh(X W1 + b1) W2 + b2 over a batch X (n, d)."""
    H = tanh(X @ W1 + b1)
    return cross_entropy(H @ W2 + b2, labels)


def ag_mlp_batch(W1, b1, W2, b2, X, labels):
    H = ag_tanh(anp.dot(X, W1) + b1)
    return ag_cross_entropy(anp.dot(H, W2) + b2, labels)


def mlp_batch_relu(W1, b1, W2, b2, X, labels):
    H = relu(X @ W1 + b1)
    return cross_entropy(H @ W2 + b2, labels)


def ag_mlp_batch_relu(W1, b1, W2, b2, X, labels):
    H = ag_relu(anp.dot(X, W1) + b1)
    return ag_cross_entropy(anp.dot(H, W2) + b2, labels)


@pytest.fixture(scope="module")
def batch_data():
    n, d, h, k = 16, 5, 7, 3
    for seed in range(100):
        rng = np.random.default_rng(200 + seed)
        W1, b1 = rng.normal(size=(d, h)) * 0.5, rng.normal(size=h) * 0.1
        W2, b2 = rng.normal(size=(h, k)) * 0.5, rng.normal(size=k) * 0.1
        X, labels = rng.normal(size=(n, d)), rng.integers(0, k, size=n)
        if np.min(np.abs(X @ W1 + b1)) > 1e-3:  # ReLU kinks well outside the FD step
            return W1, b1, W2, b2, X, labels
    raise AssertionError("no data away from the ReLU kink")


@pytest.mark.parametrize("model", [(mlp_batch, ag_mlp_batch),
                                   (mlp_batch_relu, ag_mlp_batch_relu)], ids=["tanh", "relu"])
def test_mlp_batch(batch_data, model):
    fn, ag_fn = model
    check_model(fn, ag_fn, batch_data, (0, 1, 2, 3))


def test_mlp_batch_subset_of_argnums(batch_data):
    # the order of argnums is the order of the returned gradients
    _, (gb2, gW1) = value_and_grad(mlp_batch, (3, 0))(*batch_data)
    _, (rW1, _, _, rb2) = value_and_grad(mlp_batch, (0, 1, 2, 3))(*batch_data)
    np.testing.assert_allclose(gb2, rb2, rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(gW1, rW1, rtol=1e-14, atol=1e-16)


def test_mlp_batch_numba(batch_data):
    value, grads = check_model(mlp_batch, ag_mlp_batch, batch_data, (0, 1, 2, 3),
                               backend="numba", fd=False)
    assert isinstance(value, float)
    _, ref = value_and_grad(mlp_batch, (0, 1, 2, 3))(*batch_data)
    for g, r in zip(grads, ref, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-15)
