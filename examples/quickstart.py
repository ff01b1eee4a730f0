"""Quickstart: differentiate a plain NumPy loss and look at the code symdiff wrote.

Run:  python examples/quickstart.py
"""

import numpy as np

import symdiff as sd


def loss(w, X, y):
    """Mean binary cross-entropy of a logistic model, computed from logits."""
    z = X @ w
    return np.mean(np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z))))


def main() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    y = (X @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) > 0).astype(np.float64)
    w = np.zeros(5)

    value, grad = sd.value_and_grad(loss)(w, X, y)
    print(f"loss(w)  = {value:.6f}")
    print(f"dloss/dw = {np.array2string(grad, precision=6)}")

    # Check against central differences.
    h = 1e-6
    fd = np.array([(loss(w + h * e, X, y) - loss(w - h * e, X, y)) / (2 * h) for e in np.eye(5)])
    print(f"max |symdiff - finite differences| = {np.max(np.abs(grad - fd)):.2e}")

    # A few steps of gradient descent with the compiled gradient.
    g = sd.grad(loss)
    for _ in range(200):
        w = w - 0.5 * g(w, X, y)
    print(f"after 200 steps: loss = {loss(w, X, y):.6f}")

    print("\nThe adjoint code symdiff generated (Numba backend):\n")
    print(sd.show_ir(loss, "python", wrt="w", args=(w, X, y)))


if __name__ == "__main__":
    main()
