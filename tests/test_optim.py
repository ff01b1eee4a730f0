"""symdiff.optim: first-order methods, Newton's methods and their examples.

Known optima (a quadratic, consistent least squares, Rosenbrock), the update
rules checked step by step against plain NumPy implementations of the
textbook formulas, the compiled loop against the Python loop, the targets of
the issue on real data (Newton against SciPy on breast cancer, the MLP on
digits), and clear errors for bad input.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import symdiff as sd
from symdiff import optim
from symdiff.optim import NonFiniteLossError, OptimError, _curvature, _first_order, _loop
from symdiff.optim._rng import new_state, permute

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _example(name: str):
    """Import examples/<name>.py as a module."""
    key = f"_symdiff_example_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------- losses


def lsq(w, b, X, y):
    """Mean squared error of a linear model: one array and one scalar parameter."""
    res = X @ w + b - y
    return np.mean(res * res)


def lsq_single(w, X, y):
    res = X @ w - y
    return np.mean(res * res)


def quadratic(x, A, c):
    """0.5 x.A.x - c.x: minimum at A^-1 c."""
    return 0.5 * np.dot(x, A @ x) - np.dot(c, x)


def rosenbrock(x):
    a = x[:-1]
    b = x[1:]
    return np.sum(100.0 * (b - a * a) ** 2 + (1.0 - a) ** 2)


def not_scalar(w, X, y):
    return X @ w - y


def log_of_sum(w, X, y):
    return np.log(np.sum(w)) + np.mean(X @ w - y)


def _linear_data(n=64, d=4, seed=0, noise=0.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    y = X @ w + 0.5 + noise * rng.standard_normal(n)
    return X, y, w


# ----------------------------------------------------------------------------- reference rules


def _reference(X, y, w0, b0, *, lr, epochs, batch_size=None, momentum=0.0, nesterov=False,
               adam=None, shuffle=False, seed=0, factors=None):
    """The textbook updates as a plain NumPy loop, with symdiff's gradient of `lsq`."""
    vg = sd.value_and_grad(lsq, argnums=(0, 1))
    n = len(y)
    bs = n if batch_size is None else min(batch_size, n)
    params = [w0.copy(), float(b0)]
    m = [np.zeros_like(w0), 0.0]
    s = [np.zeros_like(w0), 0.0]
    state = new_state(seed)
    perm = np.empty(n, dtype=np.int64)
    t = 0
    history = []
    for e in range(epochs):
        eta = lr * (1.0 if factors is None else factors[e])
        order = np.arange(n)
        if shuffle and bs < n:
            permute(perm, state)
            order = perm.copy()
        total = 0.0
        for start in range(0, n, bs):
            idx = order[start:start + bs]
            value, grads = vg(params[0], params[1], X[idx], y[idx])
            total += value * len(idx)
            t += 1
            for k, g in enumerate(grads):
                if adam is None and momentum == 0.0:
                    params[k] = params[k] - eta * g
                elif adam is None:
                    m[k] = momentum * m[k] + g
                    step = g + momentum * m[k] if nesterov else m[k]
                    params[k] = params[k] - eta * step
                else:
                    b1, b2, eps = adam
                    m[k] = b1 * m[k] + (1 - b1) * g
                    s[k] = b2 * s[k] + (1 - b2) * g * g
                    mhat = m[k] / (1 - b1 ** t)
                    shat = s[k] / (1 - b2 ** t)
                    params[k] = params[k] - eta * mhat / (np.sqrt(shat) + eps)
        history.append(total / n)
    return params, np.array(history)


UPDATE_CASES = [
    ("batch GD", {"batch_size": None}),
    ("stochastic", {"batch_size": 1}),
    ("minibatch, last batch smaller", {"batch_size": 10}),
    ("momentum", {"batch_size": 16, "momentum": 0.9}),
    ("nesterov", {"batch_size": 16, "momentum": 0.8, "nesterov": True}),
    ("adam", {"batch_size": 16, "adam": (0.9, 0.999, 1e-8)}),
    ("adam, other betas", {"batch_size": 7, "adam": (0.5, 0.9, 1e-3)}),
]


@pytest.mark.parametrize("shuffle", [False, True], ids=["in order", "shuffled"])
@pytest.mark.parametrize("name,kw", UPDATE_CASES, ids=[c[0] for c in UPDATE_CASES])
def test_updates_follow_the_textbook_rules(name, kw, shuffle):
    X, y, _ = _linear_data(n=45, noise=0.1)
    kw = dict(kw)
    adam_h = kw.pop("adam", None)
    lr = 0.01 if adam_h else 0.05
    w0, b0 = np.full(4, 0.1), -0.2
    ref_params, ref_hist = _reference(X, y, w0, b0, lr=lr, epochs=4, adam=adam_h, shuffle=shuffle,
                                      seed=3, **kw)
    common = dict(lr=lr, epochs=4, batch_size=kw.get("batch_size"), shuffle=shuffle, seed=3)
    if adam_h is None:
        res = optim.sgd(lsq, (w0, b0), X, y, momentum=kw.get("momentum", 0.0),
                        nesterov=kw.get("nesterov", False), **common)
    else:
        b1, b2, eps = adam_h
        res = optim.adam(lsq, (w0, b0), X, y, beta1=b1, beta2=b2, eps=eps, **common)
    assert res.compiled, res.note
    w, b = res.params
    np.testing.assert_allclose(w, ref_params[0], rtol=1e-12, atol=1e-14)
    assert b == pytest.approx(ref_params[1], rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(res.history, ref_hist, rtol=1e-12)
    n_batches = math.ceil(45 / (kw.get("batch_size") or 45))
    assert res.steps == 4 * n_batches
    assert res.batch_size == (kw.get("batch_size") or 45)


def test_batch_gd_history_is_the_full_loss_at_the_start_of_each_epoch():
    X, y, _ = _linear_data()
    res = optim.sgd(lsq, (np.zeros(4), 0.0), X, y, lr=0.1, epochs=3)
    w, b = np.zeros(4), 0.0
    g = sd.grad(lsq, argnums=(0, 1))
    for e in range(3):
        assert res.history[e] == pytest.approx(lsq(w, b, X, y), rel=1e-12)
        gw, gb = g(w, b, X, y)
        w, b = w - 0.1 * gw, b - 0.1 * gb
    assert res.epochs == 3 and len(res.times) == 3 and np.all(np.diff(res.times) >= 0)
    assert res.seconds >= res.times[-1] >= 0


def test_schedule_scales_the_learning_rate_per_epoch():
    X, y, _ = _linear_data()
    factors = [1.0, 0.5, 0.25, 0.1]
    ref_params, ref_hist = _reference(X, y, np.zeros(4), 0.0, lr=0.2, epochs=4, batch_size=8,
                                      factors=factors)
    for schedule in (lambda e: factors[e], factors, np.array(factors + [7.0])):
        res = optim.sgd(lsq, (np.zeros(4), 0.0), X, y, lr=0.2, epochs=4, batch_size=8,
                        shuffle=False, schedule=schedule)
        np.testing.assert_allclose(res.params[0], ref_params[0], rtol=1e-12)
        np.testing.assert_allclose(res.history, ref_hist, rtol=1e-12)


# ----------------------------------------------------------------------------- known optima


@pytest.mark.parametrize("method,kw", [
    ("sgd", {"lr": 0.1}),                                         # batch gradient descent
    ("sgd", {"lr": 0.02, "batch_size": 1}),                       # stochastic
    ("sgd", {"lr": 0.05, "batch_size": 8}),                       # minibatch
    ("sgd", {"lr": 0.02, "batch_size": 8, "momentum": 0.9}),
    ("sgd", {"lr": 0.02, "batch_size": 8, "momentum": 0.9, "nesterov": True}),
    ("adam", {"lr": 0.02, "batch_size": 8, "schedule": lambda e: 1.0 / (1.0 + e / 20)}),
], ids=["gd", "sgd", "minibatch", "momentum", "nesterov", "adam"])
def test_first_order_methods_find_the_least_squares_solution(method, kw):
    # Noiseless data: every example's gradient vanishes at the solution, so even SGD with a
    # constant step converges to it.
    X, y, w_true = _linear_data(n=80)
    res = getattr(optim, method)(lsq, (np.zeros(4), 0.0), X, y, epochs=300, **kw)
    w, b = res.params
    np.testing.assert_allclose(w, w_true, atol=2e-4)
    assert b == pytest.approx(0.5, abs=2e-4)
    assert res.history[-1] < 1e-6 * res.history[0]


def bowl(x):
    """sum_i (i + 1) (x_i - 1)^2: minimum at ones."""
    return np.sum(np.arange(1.0, x.shape[0] + 1.0) * (x - 1.0) ** 2)


def test_sgd_without_data_minimizes_a_function_of_the_parameters():
    res = optim.sgd(bowl, np.zeros(5), lr=0.05, epochs=300)
    np.testing.assert_allclose(res.params, np.ones(5), atol=1e-10)
    assert res.batch_size == 1 and res.steps == 300  # no rows to batch: one update per epoch


def test_newton_solves_a_quadratic_in_one_step():
    rng = np.random.default_rng(2)
    M = rng.standard_normal((8, 8))
    A = M @ M.T + np.eye(8)
    c = rng.standard_normal(8)
    res = optim.newton(quadratic, np.ones(8), A, c)
    assert res.success and res.nit == 1 and res.step_sizes[0] == 1.0 and res.shifts[0] == 0.0
    np.testing.assert_allclose(res.x, np.linalg.solve(A, c), rtol=1e-8)
    cg = optim.newton_cg(quadratic, np.ones(8), A, c)
    # inexact steps (CG stops at a residual of min(0.5, sqrt|g|) |g|) but superlinear
    assert cg.success and cg.nit <= 15 and np.all(cg.cg_iters <= 8)
    np.testing.assert_allclose(cg.x, np.linalg.solve(A, c), rtol=1e-8)
    exact_cg = optim.newton_cg(quadratic, np.ones(8), A, c, tol=1e-300, max_iter=1)
    assert exact_cg.cg_iters[0] <= 8  # CG on an 8 x 8 system: at most 8 iterations


@pytest.mark.parametrize("symdiff_second_order", [True, False], ids=["symdiff", "differences"])
def test_newton_on_rosenbrock_handles_an_indefinite_hessian(symdiff_second_order, monkeypatch):
    monkeypatch.setattr(_curvature, "USE_SYMDIFF_SECOND_ORDER", symdiff_second_order)
    x0 = np.array([0.0, 1.0, -0.5, 1.2, 0.3, 0.9])  # the Hessian is indefinite here
    res = optim.newton(rosenbrock, x0, max_iter=200)
    assert res.success, res
    np.testing.assert_allclose(res.x, np.ones(6), atol=1e-8)
    assert res.shifts[0] > 0.0  # the first Hessian needed the shift to be positive definite
    assert np.all(np.diff(res.history) <= 0)  # the line search only accepts decreases
    cg = optim.newton_cg(rosenbrock, x0, max_iter=500)
    assert cg.success, cg
    np.testing.assert_allclose(cg.x, np.ones(6), atol=1e-8)
    assert ("symdiff.hessian" in res.curvature) == symdiff_second_order


def test_newton_keeps_the_form_of_x0():
    res = optim.newton(rosenbrock, np.zeros((2,)) + 0.5)
    assert isinstance(res.x, np.ndarray) and res.x.shape == (2,)
    A = np.eye(4) * 2.0

    def quad2d(W, A):
        return np.sum((A @ W - 1.0) ** 2)
    W = optim.newton(quad2d, np.zeros((4, 3)), A).x
    assert W.shape == (4, 3)
    np.testing.assert_allclose(W, 0.5, atol=1e-10)


# ----------------------------------------------------------------------------- the targets


def test_newton_matches_scipy_on_breast_cancer_with_quadratic_convergence(monkeypatch):
    pytest.importorskip("sklearn")
    ex = _example("logistic_breast_cancer")
    X, y = ex.load()
    ref = ex.reference(X, y)
    f_star = float(ref.fun)
    for exact in (True, False):
        monkeypatch.setattr(_curvature, "USE_SYMDIFF_SECOND_ORDER", exact)
        res = ex.fit_newton(X, y)
        assert res.success and res.nit <= 15, res
        assert abs(res.fun - f_star) <= 1e-8 * abs(f_star), (res.fun, f_star)
        assert res.fun <= f_star * (1 + 1e-12)  # at least as good as SciPy's tight optimum
        assert ("symdiff.hessian" in res.curvature) == exact
        # Quadratic convergence: near the optimum |g_{k+1}| <= C |g_k|^2 with a moderate C,
        # over the last three steps (all above the rounding floor but the last).
        g = res.grad_norms
        assert len(g) >= 4
        for k in range(len(g) - 4, len(g) - 1):
            assert g[k + 1] <= 100.0 * g[k] ** 2, g
        assert g[-2] < 1e-5 and g[-1] < 1e-12
        cg = optim.newton_cg(ex.loss, np.zeros(X.shape[1]), X, y, ex.LAM)
        assert cg.success and abs(cg.fun - f_star) <= 1e-8 * abs(f_star)


def test_mlp_on_digits_reaches_95_percent_test_accuracy():
    pytest.importorskip("sklearn")
    ex = _example("digits")
    X_train, X_test, y_train, y_test = ex.load()
    res = ex.train_mlp(X_train, y_train, epochs=20)
    assert res.compiled, res.note
    acc = ex.accuracy(ex.mlp_predict(res.params, X_test), y_test)
    assert acc >= 0.95, acc
    soft = ex.train_softmax(X_train, y_train, epochs=20)
    assert ex.accuracy(ex.softmax_predict(soft.params, X_test), y_test) >= 0.93


@pytest.mark.parametrize("name", ["logistic_breast_cancer", "digits", "least_squares"])
def test_examples_run(name, capsys):
    pytest.importorskip("sklearn")
    _example(name).main()
    out = capsys.readouterr().out
    assert "nan" not in out.lower()


def test_least_squares_example_agrees_with_the_closed_form():
    pytest.importorskip("sklearn")
    ex = _example("least_squares")
    X, y = ex.load()
    w_star, b_star = ex.closed_form(X, y)
    f_star = float(ex.mse_loss(w_star, b_star, X, y))
    results = {name: (w, b) for name, _, w, b, _ in ex.fits(X, y)}
    w, b = results["Newton"]
    np.testing.assert_allclose(w, w_star, rtol=1e-9, atol=1e-9)
    w, b = results["batch gradient descent"]
    assert float(ex.mse_loss(w, b, X, y)) <= f_star * (1 + 1e-5)


# ----------------------------------------------------------------------------- compiled loop


def _count_runs(monkeypatch):
    calls = []
    real = _loop.epoch_loop

    def counting(*args, **kw):
        run = real(*args, **kw)

        def wrapped(*a):
            calls.append(a)
            return run(*a)
        return wrapped
    monkeypatch.setattr(_loop, "epoch_loop", counting)
    return calls


def test_all_epochs_run_in_one_compiled_call_without_callback(monkeypatch):
    calls = _count_runs(monkeypatch)
    X, y, _ = _linear_data()
    res = optim.sgd(lsq, (np.zeros(4), 0.0), X, y, lr=0.05, epochs=25, batch_size=8)
    assert res.compiled and res.note == ""
    assert len(calls) == 2  # the zero-epoch call that compiles, then all 25 epochs


def test_callback_gets_each_epoch_and_can_stop(monkeypatch):
    calls = _count_runs(monkeypatch)
    X, y, _ = _linear_data()
    seen = []

    def callback(epoch, loss, params):
        w, b = params
        seen.append((epoch, loss, w.copy(), b))
        return epoch == 6

    res = optim.sgd(lsq, (np.zeros(4), 0.0), X, y, lr=0.05, epochs=25, batch_size=8,
                    callback=callback)
    assert [s[0] for s in seen] == list(range(7))
    assert res.epochs == 7 and len(res.history) == 7 and len(calls) == 1 + 7
    np.testing.assert_array_equal([s[1] for s in seen], res.history)
    np.testing.assert_array_equal(seen[-1][2], res.params[0])
    full = optim.sgd(lsq, (np.zeros(4), 0.0), X, y, lr=0.05, epochs=7, batch_size=8)
    np.testing.assert_array_equal(full.params[0], res.params[0])  # same epochs, same result


def test_progress_bar_changes_nothing():
    pytest.importorskip("tqdm")
    X, y, _ = _linear_data()
    a = optim.adam(lsq, (np.zeros(4), 0.0), X, y, lr=0.01, epochs=5, batch_size=8, progress=True)
    b = optim.adam(lsq, (np.zeros(4), 0.0), X, y, lr=0.01, epochs=5, batch_size=8)
    np.testing.assert_array_equal(a.params[0], b.params[0])
    np.testing.assert_array_equal(a.history, b.history)


def test_python_loop_fallback_gives_the_same_result(monkeypatch):
    X, y, _ = _linear_data(noise=0.1)
    kw = dict(lr=0.01, epochs=5, batch_size=6)
    compiled = optim.adam(lsq, (np.zeros(4), 0.0), X, y, **kw)
    on_numpy = optim.adam(sd.jit(lsq, backend="python"), (np.zeros(4), 0.0), X, y, **kw)
    assert compiled.compiled and not on_numpy.compiled and "NumPy backend" in on_numpy.note

    import numba

    def refuse(*args, **kw):
        raise numba.core.errors.TypingError("refused for the test")
    monkeypatch.setattr(_first_order, "_compiled_runner", refuse)
    with pytest.warns(RuntimeWarning, match="Python loop"):
        fallback = optim.adam(lsq, (np.zeros(4), 0.0), X, y, **kw)
    assert not fallback.compiled and "Numba could not compile" in fallback.note
    for other in (on_numpy, fallback):
        np.testing.assert_allclose(other.params[0], compiled.params[0], rtol=1e-12)
        np.testing.assert_allclose(other.history, compiled.history, rtol=1e-12)


def test_seeds_and_shuffling():
    X, y, _ = _linear_data(noise=0.1)
    kw = dict(lr=0.05, epochs=3, batch_size=5)
    a = optim.sgd(lsq, (np.zeros(4), 0.0), X, y, seed=1, **kw)
    b = optim.sgd(lsq, (np.zeros(4), 0.0), X, y, seed=1, **kw)
    c = optim.sgd(lsq, (np.zeros(4), 0.0), X, y, seed=2, **kw)
    d = optim.sgd(lsq, (np.zeros(4), 0.0), X, y, shuffle=False, **kw)
    np.testing.assert_array_equal(a.params[0], b.params[0])
    assert not np.array_equal(a.params[0], c.params[0])
    assert not np.array_equal(a.params[0], d.params[0])


def test_parameter_structure_is_kept_and_inputs_are_not_modified():
    X, y, _ = _linear_data()
    w0 = np.zeros(4)
    X_copy, y_copy = X.copy(), y.copy()
    single = optim.sgd(lsq_single, w0, X, y, lr=0.05, epochs=2, batch_size=8)
    assert isinstance(single.params, np.ndarray) and single.params.shape == (4,)
    pair = optim.sgd(lsq, [w0, 0.0], X, y, lr=0.05, epochs=2, batch_size=8)
    assert isinstance(pair.params, tuple) and isinstance(pair.params[1], float)
    zero_d = optim.sgd(lsq, (w0, np.array(0.0)), X, y, lr=0.05, epochs=2, batch_size=8)
    assert isinstance(zero_d.params[1], np.ndarray) and zero_d.params[1].ndim == 0
    assert zero_d.params[1] == pair.params[1]
    assert np.all(w0 == 0.0)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)
    # float32 data and int32 arrays are converted to float64 and int64
    X32 = X.astype(np.float32)
    res32 = optim.sgd(lsq_single, w0, X32, y, lr=0.05, epochs=2, batch_size=8)
    res64 = optim.sgd(lsq_single, w0, X32.astype(np.float64), y, lr=0.05, epochs=2, batch_size=8)
    np.testing.assert_array_equal(res32.params, res64.params)
    resi = optim.sgd(lsq_single, np.zeros(4, dtype=np.int32), X, y.astype(np.int32), lr=0.05,
                     epochs=2, batch_size=8)
    resf = optim.sgd(lsq_single, w0, X, y.astype(np.int32).astype(np.float64), lr=0.05,
                     epochs=2, batch_size=8)
    assert resi.params.dtype == np.float64
    np.testing.assert_array_equal(resi.params, resf.params)


def test_zero_epochs_returns_the_initial_parameters():
    X, y, _ = _linear_data()
    res = optim.sgd(lsq, (np.ones(4), 2.0), X, y, lr=0.1, epochs=0)
    assert res.epochs == 0 and len(res.history) == 0
    np.testing.assert_array_equal(res.params[0], np.ones(4))
    assert res.params[1] == 2.0


def test_a_default_argument_of_the_loss_is_passed():
    def ridge(w, X, y, lam=0.5):
        res = X @ w - y
        return np.mean(res * res) + lam * np.sum(w * w)
    X, y, _ = _linear_data()
    res = optim.sgd(ridge, np.zeros(4), X, y, lr=0.05, epochs=500)
    n = len(y)
    w_star = np.linalg.solve(X.T @ X / n + 0.5 * np.eye(4), X.T @ y / n)
    np.testing.assert_allclose(res.params, w_star, atol=1e-8)
    assert optim.newton(ridge, np.zeros(4), X, y).x == pytest.approx(w_star, abs=1e-10)


# ----------------------------------------------------------------------------- errors


def test_mismatched_data_lengths_are_refused():
    X, y, _ = _linear_data()
    with pytest.raises(OptimError, match=r"same length along axis 0.*data\[0\] has 64.*"
                                         r"data\[1\] has 63"):
        optim.sgd(lsq, (np.zeros(4), 0.0), X, y[:-1], lr=0.1, epochs=1)


def test_non_finite_loss_is_reported_with_epoch_and_batch():
    X, y, _ = _linear_data()
    with pytest.raises(NonFiniteLossError, match=r"NaN or infinite at epoch 0, batch 0"):
        optim.sgd(log_of_sum, -np.ones(4), X, y, lr=0.1, epochs=2, batch_size=8)
    # divergence: a huge step overflows within a few epochs
    with pytest.raises(NonFiniteLossError, match=r"smaller lr"):
        optim.sgd(lsq, (np.zeros(4), 0.0), X, y, lr=1e3, epochs=200)
    with pytest.raises(NonFiniteLossError, match="x0"):
        optim.newton(log_of_sum, -np.ones(4), X, y)


def test_non_scalar_loss_is_refused():
    X, y, _ = _linear_data()
    with pytest.raises(sd.SymdiffError, match="one float scalar"):
        optim.sgd(not_scalar, np.zeros(4), X, y, lr=0.1, epochs=1)
    with pytest.raises(sd.SymdiffError, match="one float scalar"):
        optim.newton(not_scalar, np.zeros(4), X, y)


@pytest.mark.parametrize("kw,match", [
    ({"lr": 0.0}, "lr must be > 0"),
    ({"lr": float("nan")}, "lr must be"),
    ({"epochs": -1}, "epochs must be an int >= 0"),
    ({"epochs": 2.5}, "epochs must be an int"),
    ({"batch_size": 0}, "batch_size must be an int >= 1"),
    ({"momentum": 1.0}, "momentum must be in"),
    ({"nesterov": True}, "nesterov=True needs momentum > 0"),
    ({"schedule": [1.0]}, "schedule must be a callable or a sequence"),
    ({"schedule": lambda e: -1.0}, r"schedule\(0\) must be"),
    ({"callback": 3}, "callback must be callable"),
])
def test_bad_hyperparameters_are_refused(kw, match):
    X, y, _ = _linear_data()
    args = {"lr": 0.1, "epochs": 2, **kw}
    with pytest.raises(OptimError, match=match):
        optim.sgd(lsq, (np.zeros(4), 0.0), X, y, **args)


def test_other_bad_input_is_refused():
    X, y, _ = _linear_data()
    with pytest.raises(OptimError, match="params is empty"):
        optim.sgd(lsq, (), X, y, lr=0.1, epochs=1)
    with pytest.raises(OptimError, match="NaN or infinite"):
        optim.sgd(lsq, (np.array([np.nan, 0, 0, 0]), 0.0), X, y, lr=0.1, epochs=1)
    with pytest.raises(OptimError, match="no rows"):
        optim.sgd(lsq, (np.zeros(4), 0.0), X[:0], y[:0], lr=0.1, epochs=1)
    with pytest.raises(OptimError, match="defined with 'def'"):
        optim.sgd(np.sum, np.zeros(4), lr=0.1, epochs=1)
    with pytest.raises(sd.SignatureError, match="takes 4 argument"):
        optim.sgd(lsq, np.zeros(4), X, y, lr=0.1, epochs=1)
    with pytest.raises(OptimError, match="eps must be > 0"):
        optim.adam(lsq, (np.zeros(4), 0.0), X, y, epochs=1, eps=0.0)
    with pytest.raises(OptimError, match="tol must be"):
        optim.newton(rosenbrock, np.zeros(3), tol=-1.0)
    with pytest.raises(OptimError, match="cg_max_iter"):
        optim.newton_cg(rosenbrock, np.zeros(3), cg_max_iter=0)


# ----------------------------------------------------------------------------- curvature


def test_gradient_difference_hessian_and_products_are_accurate(monkeypatch):
    monkeypatch.setattr(_curvature, "USE_SYMDIFF_SECOND_ORDER", False)
    x = np.array([0.3, -0.7, 1.1, 0.5])
    # Rosenbrock's Hessian by hand
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i + 1, i + 1] += 200
        H[i, i + 1] = H[i + 1, i] = -400 * x[i]
    hess, how = _curvature.hessian_fn(rosenbrock)
    assert "differences" in how
    np.testing.assert_allclose(hess(x), H, rtol=1e-8, atol=1e-7)
    hvp, _ = _curvature.hvp_fn(rosenbrock)
    v = np.array([1.0, -2.0, 0.5, 3.0])
    np.testing.assert_allclose(hvp(v, x), H @ v, rtol=1e-8, atol=1e-7)


def test_symdiff_second_order_is_used_when_present():
    if not hasattr(sd, "hessian"):
        pytest.skip("this symdiff has no hessian yet")
    hess, how = _curvature.hessian_fn(rosenbrock)
    assert "symdiff.hessian" in how
    hvp, how = _curvature.hvp_fn(rosenbrock)
    x = np.array([0.3, -0.7, 1.1])
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(hvp(v, x), hess(x) @ v, rtol=1e-12)


def test_import_symdiff_does_not_load_the_optimizers():
    import subprocess

    code = "import sys, symdiff; print('symdiff.optim' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_warnings_are_not_raised_on_the_compiled_path():
    X, y, _ = _linear_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optim.sgd(lsq, (np.zeros(4), 0.0), X, y, lr=0.05, epochs=2, batch_size=8)
