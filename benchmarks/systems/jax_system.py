"""JAX: ``jax.jit(jax.grad(loss, argnums))`` on the CPU, float64.

The losses are the NumPy ones of ``problems.py`` written with ``jax.numpy``,
line by line; the loops become ``lax.fori_loop`` (P2, P6) and ``lax.scan``
(P7), which is how one writes a loop for JAX (a Python loop would be unrolled
into the trace). Nothing is simplified by hand: the max-shift of the
log-sum-exp is differentiated, as in the other systems.

The data are converted to JAX arrays once, outside the timings (as they would
stay on the device in a training loop). Every timed call waits for its result
(``jax.block_until_ready``). The first call (tracing and XLA compilation) is
reported as the compile time. Peak memory comes from XLA's buffer assignment
of the compiled gradient (``compiled.memory_analysis()``: output plus
temporary buffers), because tracemalloc does not see XLA's allocations.

Threads: the harness sets ``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false
intra_op_parallelism_threads=1`` before JAX is imported.
"""

from __future__ import annotations

from typing import Any

from systems import Built, as_tuple

LABEL = "JAX jit(grad)"
PACKAGES = ("jax", "jaxlib")

jax: Any = None
jnp: Any = None
lax: Any = None


def init() -> dict[str, str]:
    global jax, jnp, lax
    import jax as _jax

    _jax.config.update("jax_enable_x64", True)
    _jax.config.update("jax_platforms", "cpu")
    import jax.numpy as _jnp
    from jax import lax as _lax

    jax, jnp, lax = _jax, _jnp, _lax
    f = jax.jit(jax.grad(lambda x: jnp.sum(x * x)))
    jax.block_until_ready(f(jnp.ones(3)))
    import jaxlib

    dev = jax.devices()[0]
    return {"jax": jax.__version__, "jaxlib": jaxlib.__version__,
            "device": f"{dev.platform} ({dev.device_kind})"}


# ---------------------------------------------------------------------------
# The losses in jax.numpy
# ---------------------------------------------------------------------------


def rosenbrock(x):
    a = x[:-1]
    b = x[1:]
    return jnp.sum(100.0 * (b - a * a) ** 2 + (1.0 - a) ** 2)


def rosenbrock_loop(x):
    def body(i, s):
        return s + 100.0 * (x[i + 1] - x[i] * x[i]) ** 2 + (1.0 - x[i]) ** 2

    return lax.fori_loop(0, x.shape[0] - 1, body, jnp.zeros((), x.dtype))


def logistic_loss(w, X, y):
    z = X @ w
    return jnp.mean(jnp.log1p(jnp.exp(-jnp.abs(z))) + jnp.maximum(z, 0.0) - y * z)


def cross_entropy(Z, y):
    n = Z.shape[0]
    m = jnp.max(Z, axis=1, keepdims=True)
    lse = jnp.log(jnp.sum(jnp.exp(Z - m), axis=1)) + m[:, 0]
    return jnp.mean(lse - Z[jnp.arange(n), y])


def softmax_loss(W, b, X, y):
    return cross_entropy(X @ W + b, y)


def mlp_loss(W1, b1, W2, b2, X, y):
    H = jnp.tanh(X @ W1 + b1)
    return cross_entropy(H @ W2 + b2, y)


def oscillator(k, c, x0, v0, dt, target):
    def body(t, carry):
        x, v, loss = carry
        a = -k * x - c * v
        x = x + dt * v
        v = v + dt * a
        return x, v, loss + (x - target[t]) ** 2

    zero = jnp.zeros((), target.dtype)
    _, _, loss = lax.fori_loop(0, target.shape[0], body, (x0 + zero, v0 + zero, zero))
    return loss


def rnn_loss(Wx, Wh, b, xs, y):
    def step(h, x_t):
        return jnp.tanh(Wx @ x_t + Wh @ h + b), None

    h, _ = lax.scan(step, jnp.zeros(Wh.shape[0], xs.dtype), xs)
    return jnp.sum((h - y) ** 2)


LOSSES = {"P1s": rosenbrock, "P1": rosenbrock, "P2": rosenbrock_loop, "P3": logistic_loss,
          "P4": softmax_loss, "P5": mlp_loss, "P6": oscillator, "P7": rnn_loss}


def build(problem: Any) -> Built:
    import numpy as np

    loss = LOSSES[problem.key]
    args = tuple(jnp.asarray(a) if isinstance(a, np.ndarray) else jnp.asarray(a, dtype=jnp.float64)
                 for a in problem.make_data())
    jax.block_until_ready(args)
    g = jax.jit(jax.grad(loss, argnums=problem.argnums))
    f = jax.jit(loss)

    def memory() -> dict[str, Any]:
        m = g.lower(*args).compile().memory_analysis()
        if m is None:
            return {"method": "XLA memory_analysis unavailable"}
        return {"bytes": int(m.output_size_in_bytes + m.temp_size_in_bytes),
                "method": "XLA buffer assignment (output + temporaries)",
                "output_bytes": int(m.output_size_in_bytes), "temp_bytes": int(m.temp_size_in_bytes)}

    return Built(grad=lambda: jax.block_until_ready(g(*args)),
                 primal=lambda: jax.block_until_ready(f(*args)),
                 to_numpy=lambda r: as_tuple(tuple(np.asarray(a) for a in jax.tree_util.tree_leaves(r))),
                 traced=False, memory=memory)
