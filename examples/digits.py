"""Softmax regression and a 64-128-10 tanh MLP on scikit-learn's digits, with a held-out test set.

The digits set (1797 images of 8x8 pixels, values 0..16, ten classes) ships
with scikit-learn; nothing is downloaded. Pixels are scaled to [0, 1] and a
stratified quarter of the images is held out for testing. Both models are
trained by symdiff.optim with minibatches; the losses are plain NumPy
functions that symdiff differentiates.

Run:  python examples/digits.py            (needs scikit-learn: pip install -e ".[examples]")
"""

from __future__ import annotations

import numpy as np

from symdiff import nn, optim


def softmax_loss(W, b, X, y):
    """Softmax regression: mean cross-entropy of the logits X @ W + b against labels y."""
    return nn.cross_entropy(X @ W + b, y)


def mlp_loss(W1, b1, W2, b2, X, y):
    """One tanh hidden layer, softmax cross-entropy output."""
    H = np.tanh(X @ W1 + b1)
    return nn.cross_entropy(H @ W2 + b2, y)


def softmax_predict(params, X):
    W, b = params
    return np.argmax(X @ W + b, axis=1)


def mlp_predict(params, X):
    W1, b1, W2, b2 = params
    return np.argmax(np.tanh(X @ W1 + b1) @ W2 + b2, axis=1)


def load(test_size: float = 0.25, seed: int = 0):
    """``(X_train, X_test, y_train, y_test)``: pixels in [0, 1] (float64), labels int64."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    X = d.data.astype(np.float64) / 16.0
    y = d.target.astype(np.int64)
    return train_test_split(X, y, test_size=test_size, stratify=y, random_state=seed)


def init_softmax(d: int = 64, k: int = 10):
    return np.zeros((d, k)), np.zeros(k)


def init_mlp(d: int = 64, h: int = 128, k: int = 10, seed: int = 0):
    """Glorot-uniform weights, zero biases."""
    rng = np.random.default_rng(seed)
    a1 = np.sqrt(6.0 / (d + h))
    a2 = np.sqrt(6.0 / (h + k))
    return (rng.uniform(-a1, a1, (d, h)), np.zeros(h), rng.uniform(-a2, a2, (h, k)), np.zeros(k))


def train_softmax(X, y, epochs: int = 30, **kw):
    kw = {"lr": 0.5, "batch_size": 32, "momentum": 0.9, **kw}
    return optim.sgd(softmax_loss, init_softmax(X.shape[1]), X, y, epochs=epochs, **kw)


def train_mlp(X, y, epochs: int = 30, **kw):
    kw = {"lr": 0.05, "batch_size": 32, "momentum": 0.9, **kw}
    return optim.sgd(mlp_loss, init_mlp(X.shape[1]), X, y, epochs=epochs, **kw)


def accuracy(pred, y) -> float:
    return float(np.mean(pred == y))


def main() -> None:
    X_train, X_test, y_train, y_test = load()
    print(f"digits: {len(X_train)} training and {len(X_test)} test images, 64 pixels, 10 classes\n")
    print(f"{'model':<34}{'epochs':>7}{'train loss':>12}{'train acc':>11}{'test acc':>10}"
          f"{'seconds':>9}{'epochs/s':>10}")
    runs = [
        ("softmax regression, SGD+momentum", train_softmax(X_train, y_train), softmax_predict),
        ("softmax regression, Adam", optim.adam(softmax_loss, init_softmax(), X_train, y_train,
                                                lr=0.01, epochs=30, batch_size=32),
         softmax_predict),
        ("MLP 64-128-10, SGD+momentum", train_mlp(X_train, y_train), mlp_predict),
        ("MLP 64-128-10, Adam", optim.adam(mlp_loss, init_mlp(), X_train, y_train, lr=2e-3,
                                           epochs=30, batch_size=32), mlp_predict),
    ]
    for name, res, predict in runs:
        train_acc = accuracy(predict(res.params, X_train), y_train)
        test_acc = accuracy(predict(res.params, X_test), y_test)
        print(f"{name:<34}{res.epochs:>7}{res.history[-1]:>12.4f}{train_acc:>11.3f}{test_acc:>10.3f}"
              f"{res.seconds:>9.3f}{res.epochs / res.seconds:>10.0f}")
    print("\n(the seconds exclude compilation; a first run compiles the gradients and the "
          "epoch loops, later runs load them from symdiff's disk cache)")


if __name__ == "__main__":
    main()
