"""PyTorch eager autograd, float64, one thread.

The losses are those of ``problems.py`` written with torch operations line by
line (the loops stay Python loops, as they are in eager PyTorch; P2 indexes
single elements). The differentiated arguments are leaf tensors with
``requires_grad=True`` created once; a timed gradient call is one forward pass
and ``torch.autograd.grad(loss, params)``; the timed primal is the forward pass
on tensors that do not require gradients. The data are converted to tensors
once, outside the timings. There is no compilation; the first call is reported
as such. Peak memory is not reported: tracemalloc does not see PyTorch's
allocations, and its CPU allocator has no peak counter.
"""

from __future__ import annotations

from typing import Any

from problems import oscillator, rosenbrock_loop  # scalar code: the same in torch

from systems import Built

LABEL = "PyTorch eager"
PACKAGES = ("torch",)

torch: Any = None


def init() -> dict[str, str]:
    global torch
    import torch as _torch

    torch = _torch
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    x = torch.ones(3, dtype=torch.float64, requires_grad=True)
    torch.autograd.grad(torch.sum(x * x), [x])
    return {"torch": torch.__version__, "threads": str(torch.get_num_threads())}


# ---------------------------------------------------------------------------
# The losses in torch
# ---------------------------------------------------------------------------


def rosenbrock(x):
    a = x[:-1]
    b = x[1:]
    return torch.sum(100.0 * (b - a * a) ** 2 + (1.0 - a) ** 2)


def logistic_loss(w, X, y):
    z = X @ w
    return torch.mean(torch.log1p(torch.exp(-torch.abs(z))) + torch.clamp_min(z, 0.0) - y * z)


def cross_entropy(Z, y):
    n = Z.shape[0]
    m = torch.amax(Z, dim=1, keepdim=True)
    lse = torch.log(torch.sum(torch.exp(Z - m), dim=1)) + m[:, 0]
    return torch.mean(lse - Z[torch.arange(n), y])


def softmax_loss(W, b, X, y):
    return cross_entropy(X @ W + b, y)


def mlp_loss(W1, b1, W2, b2, X, y):
    H = torch.tanh(X @ W1 + b1)
    return cross_entropy(H @ W2 + b2, y)


def rnn_loss(Wx, Wh, b, xs, y):
    h = torch.zeros(Wh.shape[0], dtype=xs.dtype)
    for t in range(xs.shape[0]):
        h = torch.tanh(Wx @ xs[t] + Wh @ h + b)
    return torch.sum((h - y) ** 2)


LOSSES = {"P1s": rosenbrock, "P1": rosenbrock, "P2": rosenbrock_loop, "P3": logistic_loss,
          "P4": softmax_loss, "P5": mlp_loss, "P6": oscillator, "P7": rnn_loss}


def build(problem: Any) -> Built:
    import numpy as np

    loss = LOSSES[problem.key]
    data = problem.make_data()
    diff = set(problem.argnum_tuple)

    def convert(i: int, a: Any, leaf: bool) -> Any:
        if isinstance(a, np.ndarray):
            t = torch.from_numpy(a.copy())
        elif i in diff:
            t = torch.tensor(float(a), dtype=torch.float64)
        else:
            return a                      # a non-differentiated Python scalar stays one
        return t.requires_grad_() if leaf and i in diff else t

    gargs = tuple(convert(i, a, True) for i, a in enumerate(data))
    pargs = tuple(convert(i, a, False) for i, a in enumerate(data))
    params = [gargs[i] for i in problem.argnum_tuple]

    def grad() -> Any:
        return torch.autograd.grad(loss(*gargs), params)

    def to_numpy(r: Any) -> tuple[Any, ...]:
        return tuple(t.detach().numpy().astype(np.float64) for t in r)

    return Built(grad=grad, primal=lambda: loss(*pargs), to_numpy=to_numpy,
                 to_float=lambda v: float(v), traced=False)
