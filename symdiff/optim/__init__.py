"""Optimizers driven by symdiff's exact gradients.

First-order methods train the parameters of a loss on data, in epochs::

    from symdiff import optim

    def loss(w, b, X, y):                      # any loss inside symdiff's subset
        return nn.bce_with_logits(X @ w + b, y)

    res = optim.sgd(loss, (w0, b0), X, y, lr=0.1, epochs=50, batch_size=32)
    w, b = res.params                          # res.history: mean loss per epoch

- `sgd`: batch (``batch_size=None``), stochastic (``1``) or minibatch (``k``)
  gradient descent, with optional (Nesterov) momentum;
- `adam`: Adam, same arguments.

The whole epoch loop (shuffle, batch slicing, gradient, update) runs in
compiled code. Second-order methods minimize a function of one array::

    res = optim.newton(f, x0, *args)           # damped Newton, Cholesky solves
    res = optim.newton_cg(f, x0, *args)        # Hessian-free Newton-CG

See docs/optimizers.md.
"""

from symdiff.optim._common import NonFiniteLossError, OptimError
from symdiff.optim._first_order import TrainResult, adam, sgd
from symdiff.optim._newton import NewtonResult, newton, newton_cg

__all__ = ["NewtonResult", "NonFiniteLossError", "OptimError", "TrainResult", "adam",
           "newton", "newton_cg", "sgd"]
