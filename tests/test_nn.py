"""`symdiff.nn`: values against NumPy/SciPy, gradients against central differences and autograd.

Every nn function is plain NumPy, so it is checked three ways: called directly
(NumPy), compiled by symdiff (the value of the transformed function), and
differentiated by symdiff from a small user wrapper (inlined like user code).
Gradients are compared with central differences and with HIPS autograd running
an ``autograd.numpy`` transcription of the same formula.

Most tests use the NumPy backend (fast to build); a few compile with Numba.
"""

from __future__ import annotations

import functools
import zlib

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
import scipy.special as sps

import symdiff as sd
from symdiff import nn
from symdiff.nn import (
    bce,
    bce_with_logits,
    cross_entropy,
    hinge,
    huber,
    kl_div,
    l1,
    log_softmax,
    logsumexp,
    mse,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from tests.gradcheck import central_difference

PY = "python"
SHAPES = [(7,), (3, 4), (2, 3, 4)]
FD_TOL = {"rtol": 1e-6, "atol": 1e-8}
AG_TOL = {"rtol": 1e-9, "atol": 1e-12}


@functools.cache
def value_and_grad(fn, argnums=0, backend=PY):
    """One transformed callable per (function, argnums, backend): each kind compiles once."""
    return sd.value_and_grad(fn, argnums=argnums, backend=backend)


@functools.cache
def jit(fn, backend=PY):
    return sd.jit(fn, backend=backend)


def rng_for(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(("test_nn", *key)).encode()))


def away_from_kinks(x: np.ndarray, kinks=(0.0,), gap: float = 1e-3) -> np.ndarray:
    """Move points within ``gap`` of a kink away from it (FD needs a smooth neighbourhood)."""
    x = np.array(x, dtype=np.float64)
    for k in kinks:
        near = np.abs(x - k) < gap
        x[near] = k + 10 * gap
    return x


def check_gradients(fn, ag_fn, args, argnums, backend=PY, expect_value=None):
    """symdiff's value and gradients of ``fn`` against NumPy, central differences, autograd."""
    value, grads = value_and_grad(fn, tuple(argnums), backend)(*args)
    expected = fn(*args) if expect_value is None else expect_value
    assert np.isfinite(value)
    assert value == pytest.approx(expected, rel=1e-12, abs=1e-14)
    assert ag_fn(*args) == pytest.approx(expected, rel=1e-12, abs=1e-14)
    for k, g in zip(argnums, grads, strict=True):
        assert np.shape(g) == np.shape(args[k])
        np.testing.assert_allclose(g, central_difference(fn, args, k), **FD_TOL)
        np.testing.assert_allclose(g, autograd.grad(ag_fn, k)(*args), **AG_TOL)
    return value, grads


# ------------------------------------------- autograd transcriptions of nn


def ag_relu(x):
    return anp.maximum(x, 0.0)


def ag_tanh(x):
    return anp.tanh(x)


def ag_softplus(x):
    return anp.maximum(x, 0.0) + anp.log1p(anp.exp(-anp.abs(x)))


def ag_sigmoid(x):
    return anp.exp(-ag_softplus(-x))


def ag_logsumexp(z, axis=-1):
    m = anp.max(z, axis=axis, keepdims=True)
    s = anp.sum(anp.exp(z - m), axis=axis, keepdims=True)
    return anp.sum(anp.log(s) + m, axis=axis)


def ag_log_softmax(z, axis=-1):
    shifted = z - anp.max(z, axis=axis, keepdims=True)
    return shifted - anp.log(anp.sum(anp.exp(shifted), axis=axis, keepdims=True))


def ag_softmax(z, axis=-1):
    e = anp.exp(z - anp.max(z, axis=axis, keepdims=True))
    return e / anp.sum(e, axis=axis, keepdims=True)


def ag_mse(pred, target):
    return anp.mean((pred - target) ** 2)


def ag_l1(pred, target):
    return anp.mean(anp.abs(pred - target))


def ag_huber(pred, target, delta=1.0):
    a = anp.abs(pred - target)
    q = anp.minimum(a, delta)
    return anp.mean(0.5 * q * q + delta * (a - q))


def ag_bce(p, y, eps=1e-12):
    pc = anp.clip(p, eps, 1.0 - eps)
    return -anp.mean(y * anp.log(pc) + (1.0 - y) * anp.log(1.0 - pc))


def ag_bce_with_logits(z, y):
    return anp.mean(anp.maximum(z, 0.0) - z * y + anp.log1p(anp.exp(-anp.abs(z))))


def ag_cross_entropy(logits, labels):
    n = logits.shape[0]
    return anp.mean(ag_logsumexp(logits, axis=1) - logits[anp.arange(n), labels])


def ag_hinge(scores, y):
    return anp.mean(anp.maximum(0.0, 1.0 - y * scores))


def ag_kl_div(p, q, eps=1e-12):
    return anp.sum(p * (anp.log(anp.maximum(p, eps)) - anp.log(anp.maximum(q, eps))))


# ------------------------------------------------------------- activations

# Axis variants are separate functions: symdiff needs the axis as a constant.


def softmax_0(z):
    return softmax(z, axis=0)


def softmax_1(z):
    return softmax(z, axis=1)


def log_softmax_0(z):
    return log_softmax(z, axis=0)


def log_softmax_1(z):
    return log_softmax(z, axis=1)


def logsumexp_0(z):
    return logsumexp(z, axis=0)


def logsumexp_1(z):
    return logsumexp(z, axis=1)


def _weighted(act):
    """``sum(act(z) * c)``: its gradient is the vector-Jacobian product of ``act`` with ``c``."""
    def weighted(z, c):
        return np.sum(act(z) * c)
    return weighted


def _ag_weighted(act):
    def weighted(z, c):
        return anp.sum(act(z) * c)
    return weighted


def _bare(act):
    def bare(z):
        return act(z)
    return bare


def _np_softmax_ref(axis):
    return lambda z: sps.softmax(z, axis=axis)


# name -> (nn function, autograd version, reference, min ndim, kinks)
ACTIVATIONS = {
    "relu": (relu, ag_relu, lambda x: np.where(x > 0, x, 0.0), 1, (0.0,)),
    "tanh": (tanh, ag_tanh, np.tanh, 1, ()),
    "softplus": (softplus, ag_softplus, lambda x: np.logaddexp(0.0, x), 1, ()),
    "sigmoid": (sigmoid, ag_sigmoid, sps.expit, 1, ()),
    "softmax": (softmax, ag_softmax, lambda z: sps.softmax(z, axis=-1), 1, ()),
    "softmax_0": (softmax_0, lambda z: ag_softmax(z, axis=0), _np_softmax_ref(0), 1, ()),
    "softmax_1": (softmax_1, lambda z: ag_softmax(z, axis=1), _np_softmax_ref(1), 2, ()),
    "log_softmax": (log_softmax, ag_log_softmax, lambda z: sps.log_softmax(z, axis=-1), 1, ()),
    "log_softmax_0": (log_softmax_0, lambda z: ag_log_softmax(z, axis=0),
                      lambda z: sps.log_softmax(z, axis=0), 1, ()),
    "log_softmax_1": (log_softmax_1, lambda z: ag_log_softmax(z, axis=1),
                      lambda z: sps.log_softmax(z, axis=1), 2, ()),
    "logsumexp": (logsumexp, ag_logsumexp, lambda z: sps.logsumexp(z, axis=-1), 1, ()),
    "logsumexp_0": (logsumexp_0, lambda z: ag_logsumexp(z, axis=0),
                    lambda z: sps.logsumexp(z, axis=0), 1, ()),
    "logsumexp_1": (logsumexp_1, lambda z: ag_logsumexp(z, axis=1),
                    lambda z: sps.logsumexp(z, axis=1), 2, ()),
}
WEIGHTED = {name: _weighted(spec[0]) for name, spec in ACTIVATIONS.items()}
AG_WEIGHTED = {name: _ag_weighted(spec[1]) for name, spec in ACTIVATIONS.items()}
BARE = {name: _bare(spec[0]) for name, spec in ACTIVATIONS.items()}

ACTIVATION_CASES = [pytest.param(name, shape, id=f"{name}-{'x'.join(map(str, shape))}")
                    for name, spec in ACTIVATIONS.items()
                    for shape in SHAPES if len(shape) >= spec[3]]


def _activation_input(name, shape):
    rng = rng_for(name, shape)
    return away_from_kinks(2.0 * rng.normal(size=shape), ACTIVATIONS[name][4])


@pytest.mark.parametrize(("name", "shape"), ACTIVATION_CASES)
def test_activation_value(name, shape):
    act, _, ref, _, _ = ACTIVATIONS[name]
    z = _activation_input(name, shape)
    expected = ref(z)
    np.testing.assert_allclose(act(z), expected, rtol=1e-12, atol=1e-15)
    compiled = jit(BARE[name])(z)
    assert np.shape(compiled) == np.shape(expected)
    np.testing.assert_allclose(compiled, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("name", "shape"), ACTIVATION_CASES)
def test_activation_gradient(name, shape):
    act, _, ref, _, _ = ACTIVATIONS[name]
    z = _activation_input(name, shape)
    c = rng_for(name, shape, "c").normal(size=np.shape(ref(z)))
    check_gradients(WEIGHTED[name], AG_WEIGHTED[name], (z, c), (0,))


@pytest.mark.parametrize("name", ["relu", "tanh", "softplus", "sigmoid"])
def test_activation_on_scalar(name):
    act, ag_act, ref, _, _ = ACTIVATIONS[name]

    value, g = value_and_grad(BARE[name])(0.7)
    assert value == pytest.approx(float(ref(np.float64(0.7))), rel=1e-14)
    assert g == pytest.approx(autograd.grad(ag_act)(0.7), rel=1e-12)


def test_softmax_sums_to_one_along_axis():
    z = rng_for("sum1").normal(size=(4, 5)) * 10 + 500.0   # large: naive exp overflows
    for fn, axis in ((softmax, -1), (softmax_0, 0), (softmax_1, 1)):
        s = jit(BARE_SOFTMAX[axis])(z)
        assert np.all(np.isfinite(s)) and np.all(s >= 0)
        np.testing.assert_allclose(s.sum(axis=axis), 1.0, rtol=1e-14)
        np.testing.assert_allclose(fn(z).sum(axis=axis), 1.0, rtol=1e-14)
    np.testing.assert_allclose(np.exp(log_softmax(z)).sum(axis=-1), 1.0, rtol=1e-13)


BARE_SOFTMAX = {-1: BARE["softmax"], 0: BARE["softmax_0"], 1: BARE["softmax_1"]}


def test_softmax_gradient_of_sum_is_zero():
    # softmax sums to 1 along the axis, so the gradient of its sum vanishes
    z = rng_for("sum0").normal(size=(3, 4))
    _, g = value_and_grad(WEIGHTED["softmax"])(z, np.ones((3, 4)))
    np.testing.assert_allclose(g, 0.0, atol=1e-15)


def test_logsumexp_large_inputs_finite():
    z = np.array([[1e308, 1e308, 0.0], [1000.0, 1001.0, 999.0]])
    w = np.array([1.0, 2.0])
    value, g = value_and_grad(WEIGHTED["logsumexp"])(z, w)
    assert np.isfinite(value)
    lse = sps.logsumexp(z, axis=-1)
    assert np.all(np.isfinite(lse))
    assert value == pytest.approx(float(np.sum(lse * w)), rel=1e-14)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g[0], [0.5, 0.5, 0.0], atol=1e-15)
    np.testing.assert_allclose(g[1], 2.0 * sps.softmax(z[1]), rtol=1e-13)
    np.testing.assert_allclose(logsumexp(z), lse, rtol=1e-14)


def test_logsumexp_of_shifted_inputs_matches_scipy():
    z = rng_for("lse-big").normal(size=(3, 6)) + 800.0     # np.exp(800) overflows
    np.testing.assert_allclose(jit(BARE["logsumexp"])(z), sps.logsumexp(z, axis=-1),
                               rtol=1e-14)
    np.testing.assert_allclose(jit(BARE["logsumexp_0"])(z), sps.logsumexp(z, axis=0),
                               rtol=1e-14)
    np.testing.assert_allclose(jit(BARE["log_softmax"])(z), sps.log_softmax(z, axis=-1),
                               atol=1e-12)


def test_sigmoid_and_softplus_extremes():
    x = np.array([-1000.0, -700.0, -40.0, 0.0, 40.0, 700.0, 1000.0])
    s = jit(BARE["sigmoid"])(x)
    np.testing.assert_allclose(s, sps.expit(x), rtol=1e-13, atol=0)   # relative, in both tails
    assert s[1] > 0                                                     # sigmoid(-700) ~ 1e-304
    sp = jit(BARE["softplus"])(x)
    np.testing.assert_allclose(sp, np.logaddexp(0.0, x), rtol=1e-14, atol=0)
    for name in ("sigmoid", "softplus"):
        value, g = value_and_grad(WEIGHTED[name])(x, np.ones_like(x))
        assert np.isfinite(value) and np.all(np.isfinite(g))
    _, g = value_and_grad(WEIGHTED["softplus"])(x, np.ones_like(x))
    np.testing.assert_allclose(g, sps.expit(x), rtol=1e-13, atol=0)   # softplus' = sigmoid
    _, g = value_and_grad(WEIGHTED["sigmoid"])(x, np.ones_like(x))
    np.testing.assert_allclose(g, sps.expit(x) * sps.expit(-x), rtol=1e-12, atol=1e-300)


def test_subgradients_at_zero():
    zero = np.zeros(3)
    ones = np.ones(3)
    _, g = value_and_grad(WEIGHTED["relu"])(zero, ones)
    np.testing.assert_array_equal(g, 0.5)          # maximum splits the adjoint at the tie
    _, g = value_and_grad(WEIGHTED["softplus"])(zero, ones)
    np.testing.assert_allclose(g, 0.5, rtol=1e-15)
    _, g = value_and_grad(WEIGHTED["sigmoid"])(zero, ones)
    np.testing.assert_allclose(g, 0.25, rtol=1e-15)


# ------------------------------------------------------------------ losses


def huber_half(pred, target):
    return huber(pred, target, delta=0.5)


def ag_huber_half(pred, target):
    return ag_huber(pred, target, delta=0.5)


def _huber_ref(delta):
    return lambda p, t: float(np.mean(sps.huber(delta, p - t)))


def _pair(rng, shape):
    return rng.normal(size=shape), rng.normal(size=shape)


def _pair_away(gap_kinks):
    def make(rng, shape):
        p, t = _pair(rng, shape)
        return t + away_from_kinks(p - t, gap_kinks), t
    return make


def _probs(rng, shape):
    return rng.uniform(0.05, 0.95, size=shape), rng.uniform(0.0, 1.0, size=shape)


def _logits_targets(rng, shape):
    return 3.0 * rng.normal(size=shape), rng.uniform(0.0, 1.0, size=shape)


def _scores_signs(rng, shape):
    y = np.where(rng.uniform(size=shape) < 0.5, -1.0, 1.0)
    s = rng.normal(size=shape) * 2.0
    margin = away_from_kinks(1.0 - y * s)                 # keep 1 - y*s off the kink
    return y * (1.0 - margin), y


def _distributions(rng, shape):
    p = rng.uniform(0.05, 1.0, size=shape)
    q = rng.uniform(0.05, 1.0, size=shape)
    return p / p.sum(), q / q.sum()


def _bce_ref(p, y):
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def _bcel_ref(z, y):
    return float(np.mean(np.logaddexp(0.0, z) - z * y))


# name -> (nn function, autograd version, reference, make args, argnums)
LOSSES = {
    "mse": (mse, ag_mse, lambda p, t: float(np.mean((p - t) ** 2)), _pair, (0, 1)),
    "l1": (l1, ag_l1, lambda p, t: float(np.mean(np.abs(p - t))), _pair_away((0.0,)), (0, 1)),
    "huber": (huber, ag_huber, _huber_ref(1.0), _pair_away((-1.0, 0.0, 1.0)), (0, 1)),
    "huber_half": (huber_half, ag_huber_half, _huber_ref(0.5), _pair_away((-0.5, 0.0, 0.5)),
                   (0, 1)),
    "bce": (bce, ag_bce, _bce_ref, _probs, (0, 1)),
    "bce_with_logits": (bce_with_logits, ag_bce_with_logits, _bcel_ref, _logits_targets, (0, 1)),
    "hinge": (hinge, ag_hinge, lambda s, y: float(np.mean(np.maximum(0.0, 1.0 - y * s))),
              _scores_signs, (0,)),
    "kl_div": (kl_div, ag_kl_div, lambda p, q: float(np.sum(sps.rel_entr(p, q))), _distributions,
               (0, 1)),
}
LOSS_CASES = [pytest.param(name, shape, id=f"{name}-{'x'.join(map(str, shape))}")
              for name in LOSSES for shape in SHAPES]


@pytest.mark.parametrize(("name", "shape"), LOSS_CASES)
def test_loss_value(name, shape):
    fn, _, ref, make, _ = LOSSES[name]
    args = make(rng_for(name, shape), shape)
    expected = ref(*args)
    assert fn(*args) == pytest.approx(expected, rel=1e-12)
    compiled = jit(fn)(*args)
    assert np.ndim(compiled) == 0
    assert compiled == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("name", "shape"), LOSS_CASES)
def test_loss_gradient(name, shape):
    fn, ag_fn, ref, make, argnums = LOSSES[name]
    args = make(rng_for(name, shape), shape)
    check_gradients(fn, ag_fn, args, argnums, expect_value=ref(*args))


def test_huber_gradient_is_clipped_residual():
    r = np.array([-3.0, -0.7, -0.2, 0.1, 0.4, 2.5])
    t = np.zeros_like(r)
    for fn, delta in ((huber, 1.0), (huber_half, 0.5)):
        _, (g, _) = value_and_grad(fn, (0, 1))(r, t)
        np.testing.assert_allclose(g, np.clip(r, -delta, delta) / r.size, rtol=1e-15)


def test_bce_clips_probabilities():
    p = np.array([0.0, 1.0, 0.3, 1.0, 0.0])
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    value, (gp, gy) = value_and_grad(bce, (0, 1))(p, y)
    assert np.isfinite(value) and np.all(np.isfinite(gp)) and np.all(np.isfinite(gy))
    # about log(1e-12) per wrong-side extreme, log(0.3) for the middle one, ~0 for the others
    pc = np.array([1e-12, 1.0 - 1e-12, 0.3, 1.0 - 1e-12, 1e-12])
    expected = -np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc))
    assert value == pytest.approx(expected, rel=1e-14)
    assert value == pytest.approx(-(2 * np.log(1e-12) + np.log(0.3)) / 5, rel=1e-4)
    assert gp[2] == pytest.approx(-1.0 / (0.3 * 5), rel=1e-12)


def test_bce_with_logits_at_extremes():
    z = np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.0])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    value, (gz, gy) = value_and_grad(bce_with_logits, (0, 1))(z, y)
    assert value == pytest.approx((2000.0 + np.log(2.0)) / 5, rel=1e-15)
    np.testing.assert_allclose(gz, (sps.expit(z) - y) / 5, rtol=1e-15, atol=0)
    np.testing.assert_allclose(gy, -z / 5, rtol=1e-15)


def test_bce_with_logits_at_extremes_numba():
    z = np.array([1000.0, -1000.0, 1000.0, -1000.0])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    value, (gz,) = value_and_grad(bce_with_logits, (0,), "numba")(z, y)
    assert isinstance(value, float)
    assert value == pytest.approx(500.0, rel=1e-15)
    np.testing.assert_array_equal(gz, [0.25, -0.25, 0.0, 0.0])


def test_kl_div_handles_zero_probabilities():
    p = np.array([0.0, 0.25, 0.75])
    q = np.array([0.5, 0.0, 0.5])
    value, (gp, gq) = value_and_grad(kl_div, (0, 1))(p, q)
    assert np.isfinite(value) and np.all(np.isfinite(gp)) and np.all(np.isfinite(gq))
    # the clipped q = 0 entry costs 0.25*log(0.25/1e-12); the p = 0 entry costs nothing
    assert value == pytest.approx(0.25 * np.log(0.25 / 1e-12) + 0.75 * np.log(1.5), rel=1e-13)
    p2, q2 = _distributions(rng_for("kl0"), (6,))
    assert kl_div(p2, p2) == 0.0 and kl_div(p2, q2) > 0.0


# ---------------------------------------------------------- cross-entropy


def _ce_args(shape):
    rng = rng_for("ce", shape)
    n, k = shape
    return 2.0 * rng.normal(size=shape), rng.integers(0, k, size=n)


def _ce_ref(logits, labels):
    return float(-np.mean(sps.log_softmax(logits, axis=1)[np.arange(len(labels)), labels]))


@pytest.mark.parametrize("shape", [(5, 3), (1, 4), (12, 10)])
def test_cross_entropy(shape):
    logits, labels = _ce_args(shape)
    assert labels.dtype == np.int64
    expected = _ce_ref(logits, labels)
    assert cross_entropy(logits, labels) == pytest.approx(expected, rel=1e-12)
    assert jit(cross_entropy)(logits, labels) == pytest.approx(expected, rel=1e-12)
    _, (g,) = check_gradients(cross_entropy, ag_cross_entropy, (logits, labels), (0,),
                              expect_value=expected)
    # the closed form: (softmax - onehot) / n
    onehot = np.eye(shape[1])[labels]
    np.testing.assert_allclose(g, (sps.softmax(logits, axis=1) - onehot) / shape[0],
                               rtol=1e-12, atol=1e-15)


def test_cross_entropy_large_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [0.0, 2000.0, 2000.0]])
    labels = np.array([0, 2])
    value, (g,) = value_and_grad(cross_entropy, (0,))(logits, labels)
    assert value == pytest.approx(np.log(2.0) / 2, rel=1e-14)
    np.testing.assert_allclose(g, [[0.0, 0.0, 0.0], [0.0, 0.25, -0.25]], atol=1e-15)


def test_cross_entropy_numba():
    logits, labels = _ce_args((6, 4))
    value, _ = check_gradients(cross_entropy, ag_cross_entropy, (logits, labels), (0,),
                               backend="numba", expect_value=_ce_ref(logits, labels))
    assert isinstance(value, float)


# ------------------------------------------------------------------- usage


def test_loss_transformed_directly():
    # a loss without constant arguments can be handed to symdiff itself
    rng = rng_for("direct")
    p, t = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    np.testing.assert_allclose(sd.grad(mse, backend=PY)(p, t), 2 * (p - t) / p.size, rtol=1e-14)


def test_defaults_become_arguments_when_transformed_directly():
    # transformed directly, huber's delta is a run-time argument (default 1.0)
    r = np.array([0.2, 3.0, -2.0])
    t = np.zeros(3)
    np.testing.assert_allclose(sd.grad(huber, backend=PY)(r, t), [0.2 / 3, 1 / 3, -1 / 3])
    np.testing.assert_allclose(sd.grad(huber, backend=PY)(r, t, 0.5), [0.2 / 3, 0.5 / 3, -0.5 / 3])
    # ... but an axis must be a constant: a clear refusal pointing into nn.py
    with pytest.raises(sd.UnsupportedSyntaxError, match="integer constant") as info:
        sd.grad(logsumexp, backend=PY)(r)
    assert "nn.py" in str(info.value)


def uses_nn_module(z, c):
    return np.sum(nn.relu(z) * c) + np.sum(nn.softmax(z, axis=0) * c)


def test_call_through_module_attribute():
    # `from symdiff import nn; nn.relu(...)` is inlined like a direct import
    z = np.array([-1.0, 2.0])
    c = np.array([1.0, 3.0])
    s = sps.softmax(z)
    expected = np.array([0.0, 3.0]) + s * (c - np.dot(s, c))
    np.testing.assert_allclose(sd.grad(uses_nn_module, backend=PY)(z, c), expected, rtol=1e-14)


def test_every_function_documented():
    for name in nn.__all__:
        doc = getattr(nn, name).__doc__
        assert doc and len(doc.strip()) > 20, name
