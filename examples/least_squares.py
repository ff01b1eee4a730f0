"""Linear least squares (mean squared error) on scikit-learn's diabetes data.

A linear model ``X @ w + b`` is fitted to disease progression one year after
baseline (442 patients, 10 standardized features) by minimizing the mean
squared error with Newton's method (one step: the loss is quadratic), batch
gradient descent, minibatch SGD with momentum and Adam; the closed-form
least-squares solution (``numpy.linalg.lstsq``) is the reference. The data
ship with scikit-learn; nothing is downloaded.

Run:  python examples/least_squares.py      (needs scikit-learn: pip install -e ".[examples]")
"""

from __future__ import annotations

import numpy as np

from symdiff import nn, optim


def mse_loss(w, b, X, y):
    """Mean squared error of the linear model X @ w + b."""
    return nn.mse(X @ w + b, y)


def mse_flat(theta, X, y):
    """The same loss with the bias as theta[0]: one array for Newton's method."""
    return nn.mse(X @ theta[1:] + theta[0], y)


def load():
    """``(X, y)``: standardized features (float64), the target in its own units."""
    from sklearn.datasets import load_diabetes

    d = load_diabetes(scaled=False)
    X = (d.data - d.data.mean(axis=0)) / d.data.std(axis=0)
    return X, d.target.astype(np.float64)


def closed_form(X, y):
    """The least-squares solution ``(w, b)``."""
    A = np.hstack([X, np.ones((X.shape[0], 1))])
    sol = np.linalg.lstsq(A, y, rcond=None)[0]
    return sol[:-1], float(sol[-1])


def fits(X, y):
    """Each method's ``(name, steps, w, b, seconds)``."""
    d = X.shape[1]
    # The curvature of the MSE along the features is 2 * eig(X^T X / n): a step of 1/L is safe.
    L = 2.0 * float(np.linalg.eigvalsh(X.T @ X / len(y)).max())
    newton = optim.newton(mse_flat, np.zeros(d + 1), X, y)
    gd = optim.sgd(mse_loss, (np.zeros(d), 0.0), X, y, lr=1.0 / L, epochs=2000)
    # Two features (total and LDL cholesterol) are strongly correlated, so the loss is
    # ill-conditioned: first-order methods crawl along the valley; Newton solves it in one step.
    mom = optim.sgd(mse_loss, (np.zeros(d), 0.0), X, y, lr=0.01, momentum=0.9, epochs=300,
                    batch_size=16, schedule=lambda e: 1.0 / (1.0 + e / 20.0))
    adam = optim.adam(mse_loss, (np.zeros(d), 0.0), X, y, lr=5.0, epochs=300, batch_size=64,
                      schedule=lambda e: 1.0 / (1.0 + e / 10.0))
    return [("Newton", newton.nit, newton.x[1:], float(newton.x[0]), newton.times[-1]),
            ("batch gradient descent", gd.epochs, *gd.params, gd.seconds),
            ("minibatch 16 + momentum", mom.epochs, *mom.params, mom.seconds),
            ("Adam, minibatch 64", adam.epochs, *adam.params, adam.seconds)]


def main() -> None:
    X, y = load()
    w_star, b_star = closed_form(X, y)
    f_star = float(mse_loss(w_star, b_star, X, y))
    print(f"diabetes: {X.shape[0]} patients, {X.shape[1]} standardized features; "
          f"least-squares MSE {f_star:.6f}\n")
    print(f"{'method':<26}{'iters/epochs':>13}{'MSE':>14}{'rel. gap':>11}{'max |w - w*|':>14}"
          f"{'seconds':>9}")
    for name, steps, w, b, secs in fits(X, y):
        f = float(mse_loss(w, b, X, y))
        err = max(float(np.max(np.abs(w - w_star))), abs(b - b_star))
        print(f"{name:<26}{steps:>13}{f:>14.6f}{(f - f_star) / f_star:>11.1e}{err:>14.2e}"
              f"{secs:>9.3f}")


if __name__ == "__main__":
    main()
