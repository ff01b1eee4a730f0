"""L2-regularised logistic regression on scikit-learn's breast cancer data, four ways.

Newton's method, batch gradient descent, stochastic gradient descent and
minibatch gradient descent minimize the same loss, and the result is checked
against ``scipy.optimize.minimize`` run at tight tolerance. The data (569
tumours, 30 features, binary label) ships with scikit-learn; nothing is
downloaded. Features are standardized and a column of ones carries the bias,
which is not regularised.

Run:  python examples/logistic_breast_cancer.py    (needs scikit-learn: pip install -e ".[examples]")
"""

from __future__ import annotations

import time

import numpy as np

import symdiff as sd
from symdiff import optim

LAM = 1e-2  # the L2 penalty: loss = mean BCE + LAM / 2 * |w[1:]|^2


def loss(w, X, y, lam):
    """Mean binary cross-entropy of sigmoid(X @ w) against y, plus lam/2 |w[1:]|^2.

    The cross-entropy is computed from the logits in the stable form
    max(z, 0) - z y + log1p(exp(-|z|)).
    """
    z = X @ w
    bce = np.mean(np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z))))
    return bce + 0.5 * lam * np.sum(w[1:] * w[1:])


def load():
    """``(X, y)``: standardized features with a leading column of ones, labels 0/1 (float64)."""
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer()
    X = (d.data - d.data.mean(axis=0)) / d.data.std(axis=0)
    X = np.hstack([np.ones((X.shape[0], 1)), X])
    return X, d.target.astype(np.float64)


def reference(X, y, lam=LAM):
    """The optimum as ``scipy.optimize.minimize`` finds it at tight tolerance (L-BFGS-B with
    symdiff's gradient, iterated until float64 cannot decrease the loss further)."""
    from scipy.optimize import minimize

    vg = sd.value_and_grad(loss)
    vg(np.zeros(X.shape[1]), X, y, lam)  # compile before timing
    t = time.perf_counter()
    res = minimize(vg, np.zeros(X.shape[1]), args=(X, y, lam), jac=True, method="L-BFGS-B",
                   options={"maxiter": 100_000, "maxcor": 50, "ftol": 1e-16, "gtol": 1e-13})
    res.seconds = time.perf_counter() - t
    return res


def fit_newton(X, y, lam=LAM, **kw):
    """Newton from w = 0. There every logit is exactly 0, where the pieces of the stable
    cross-entropy have kinks: symdiff's exact Hessian sees no curvature from the data
    there, so the first step is damped hard by the line search; the rest are exact
    Newton steps (see docs/optimizers.md)."""
    return optim.newton(loss, np.zeros(X.shape[1]), X, y, lam, **kw)


def fit_gd(X, y, lam=LAM, epochs=500, **kw):
    """Batch gradient descent: one step on all the data per epoch."""
    return optim.sgd(loss, np.zeros(X.shape[1]), X, y, lam, lr=0.5, epochs=epochs, **kw)


def fit_sgd(X, y, lam=LAM, epochs=50, **kw):
    """Stochastic gradient descent: one example per step, learning rate decaying as 1/(1 + e/5)."""
    return optim.sgd(loss, np.zeros(X.shape[1]), X, y, lam, lr=0.05, epochs=epochs,
                     batch_size=1, schedule=lambda e: 1.0 / (1.0 + e / 5.0), **kw)


def fit_minibatch(X, y, lam=LAM, epochs=100, **kw):
    """Minibatches of 32 examples with a decaying learning rate."""
    return optim.sgd(loss, np.zeros(X.shape[1]), X, y, lam, lr=0.5, epochs=epochs,
                     batch_size=32, schedule=lambda e: 1.0 / (1.0 + e / 10.0), **kw)


def main() -> None:
    X, y = load()
    print(f"breast cancer: {X.shape[0]} examples, {X.shape[1] - 1} standardized features + bias, "
          f"lambda = {LAM}\n")
    ref = reference(X, y)
    t_ref = ref.seconds
    f_star = float(ref.fun)
    print(f"scipy.optimize.minimize (L-BFGS-B, tight): loss {f_star:.15f} in {ref.nit} iterations, "
          f"{t_ref:.3f} s\n")

    newton = fit_newton(X, y)
    print("Newton's method, gradient norm per iteration (quadratic convergence: the exponent "
          "roughly doubles):")
    print("  " + "  ".join(f"{g:.1e}" for g in newton.grad_norms))
    print(f"  Hessian: {newton.curvature}\n")

    def full_loss(w):
        return float(loss(w, X, y, LAM))

    def acc(w):
        return float(np.mean((X @ w > 0) == (y > 0.5)))

    print(f"{'method':<28}{'iters/epochs':>13}{'loss':>20}{'rel. gap':>11}{'accuracy':>10}{'seconds':>9}")
    rows = [("scipy L-BFGS-B (reference)", ref.nit, ref.x, t_ref),
            ("Newton", newton.nit, newton.x, newton.times[-1])]
    for name, res in [("batch gradient descent", fit_gd(X, y)),
                      ("SGD (batch size 1)", fit_sgd(X, y)),
                      ("minibatch (batch size 32)", fit_minibatch(X, y))]:
        rows.append((name, res.epochs, res.params, res.seconds))
    for name, its, w, secs in rows:
        f = full_loss(w)
        print(f"{name:<28}{its:>13}{f:>20.15f}{(f - f_star) / f_star:>11.1e}{acc(w):>10.3f}"
              f"{secs:>9.3f}")


if __name__ == "__main__":
    main()
