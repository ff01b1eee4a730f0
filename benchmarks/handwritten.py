"""Hand-written Numba gradients of the benchmark problems, and their self-check.

These are the baselines symdiff is measured against, written the way a careful
engineer would write them by hand for speed:

* matrix products go to BLAS (Numba calls it for ``@`` on contiguous float64
  arrays);
* the elementwise work around them is fused into explicit loops that make one
  pass and allocate as little as possible;
* ``exp`` and ``tanh`` over large arrays are handed to NumPy's SIMD ufuncs in
  place, through ``numba.objmode``: Numba's own scalar ``np.exp``/``np.tanh``
  call libm one element at a time, and ``tanh`` that way costs ~470 us for the
  MLP's 256x128 hidden layer against ~70 us for NumPy's (SVML is not available
  to this Numba). symdiff's generated code uses the same trick, so the
  comparison is like for like.

Fully fused loop versions without BLAS and versions with Numba's scalar
exp/tanh were also tried; on the benchmark machine they were 1.3-3x slower, so
the versions below are the baselines.

The loop problems (P2, P6, P7) are written the same way: one forward loop that
stores the states the reverse pass needs in preallocated arrays, then one
reverse loop. The RNN (P7) computes its input projection for all time steps,
and its weight gradients from all time steps, with one BLAS call each, so that
only the recurrence itself (a 32x32 matrix-vector product per step, as an
explicit loop over contiguous rows) runs step by step. Its 32-element ``tanh``
per step is too small for the objmode round trip and uses Numba's scalar
``np.tanh``. Measured alternatives that were slower: P2 with the loop-carried
update of P1's ``rosenbrock_grad`` (1.5x), P7 with explicit loops for the
input projection and weight gradients (1.2x) or with ``np.dot``/``np.outer``
per step (2.5x).

Run ``python benchmarks/handwritten.py`` to check every gradient against
central finite differences of the NumPy loss in ``problems.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numba
import numpy as np

# run.py sets this in a subprocess to time a warm start of the hand-written
# gradients from Numba's own disk cache; normally they compile in memory.
njit = numba.njit(cache=os.environ.get("SYMDIFF_BENCH_HAND_CACHE") == "1")

# Below this many elements the objmode round trip (~2 us) is not worth it.
_UFUNC_MIN = 1024


@njit
def _exp_inplace(x):
    """x <- exp(x), with NumPy's vectorized ufunc for large arrays."""
    if x.size >= _UFUNC_MIN:
        with numba.objmode():
            np.exp(x, out=x)
    else:
        flat = x.reshape(-1)
        for i in range(flat.size):
            flat[i] = np.exp(flat[i])
    return x


@njit
def _tanh_inplace(x):
    """x <- tanh(x), with NumPy's vectorized ufunc for large arrays."""
    if x.size >= _UFUNC_MIN:
        with numba.objmode():
            np.tanh(x, out=x)
    else:
        flat = x.reshape(-1)
        for i in range(flat.size):
            flat[i] = np.tanh(flat[i])
    return x

# ---------------------------------------------------------------------------
# P1: Rosenbrock
# ---------------------------------------------------------------------------


@njit
def rosenbrock_grad(x):
    n = x.shape[0]
    g = np.empty(n)
    g[0] = 0.0
    for i in range(n - 1):
        xi = x[i]
        t = x[i + 1] - xi * xi
        g[i] += -400.0 * t * xi - 2.0 * (1.0 - xi)
        g[i + 1] = 200.0 * t
    return g


# ---------------------------------------------------------------------------
# P2: Rosenbrock as a scalar loop
# ---------------------------------------------------------------------------


@njit
def rosenbrock_loop_grad(x):
    # the same gradient as P1, but each g[i] is computed from x[i-1], x[i], x[i+1]
    # in one pass with no loop-carried dependence, so the loop vectorizes
    n = x.shape[0]
    g = np.empty(n)
    if n < 2:
        g[:] = 0.0
        return g
    x0 = x[0]
    g[0] = -400.0 * (x[1] - x0 * x0) * x0 - 2.0 * (1.0 - x0)
    for i in range(1, n - 1):
        xp = x[i - 1]
        xi = x[i]
        g[i] = 200.0 * (xi - xp * xp) - 400.0 * (x[i + 1] - xi * xi) * xi - 2.0 * (1.0 - xi)
    xp = x[n - 2]
    g[n - 1] = 200.0 * (x[n - 1] - xp * xp)
    return g


# ---------------------------------------------------------------------------
# P3: logistic regression, d/dw mean(log1p(exp(-|z|)) + max(z, 0) - y z), z = X w
# ---------------------------------------------------------------------------


@njit
def logistic_grad(w, X, y):
    n = X.shape[0]
    z = X @ w
    e = np.empty(n)
    for i in range(n):
        e[i] = -abs(z[i])
    _exp_inplace(e)                          # e = exp(-|z|)
    inv_n = 1.0 / n
    for i in range(n):                       # z <- (sigmoid(z) - y) / n, in place
        ei = e[i]
        s = 1.0 / (1.0 + ei) if z[i] >= 0.0 else ei / (1.0 + ei)
        z[i] = (s - y[i]) * inv_n
    return X.T @ z


# ---------------------------------------------------------------------------
# Softmax cross-entropy backward, shared by P4 and P5
# ---------------------------------------------------------------------------


@njit
def _softmax_ce_backward(Z, b, y):
    """In place: Z <- (softmax(Z + b) - onehot(y)) / n (bias add and max shift fused)."""
    n, k = Z.shape
    inv_n = 1.0 / n
    for i in range(n):
        m = -np.inf
        for j in range(k):
            v = Z[i, j] + b[j]
            Z[i, j] = v
            if v > m:
                m = v
        for j in range(k):
            Z[i, j] -= m
    _exp_inplace(Z)
    for i in range(n):
        s = 0.0
        for j in range(k):
            s += Z[i, j]
        c = inv_n / s
        for j in range(k):
            Z[i, j] *= c
        Z[i, y[i]] -= inv_n
    return Z


@njit
def _column_sums(G):
    n, k = G.shape
    out = np.zeros(k)
    for i in range(n):
        for j in range(k):
            out[j] += G[i, j]
    return out


# ---------------------------------------------------------------------------
# P4: softmax regression, gradient in (W, b)
# ---------------------------------------------------------------------------


@njit
def softmax_grad(W, b, X, y):
    G = _softmax_ce_backward(X @ W, b, y)
    return X.T @ G, _column_sums(G)


# ---------------------------------------------------------------------------
# P5: MLP 64-128-10 tanh, gradient in (W1, b1, W2, b2)
# ---------------------------------------------------------------------------


@njit
def mlp_grad(W1, b1, W2, b2, X, y):
    H = X @ W1
    n, h = H.shape
    for i in range(n):
        for j in range(h):
            H[i, j] += b1[j]
    _tanh_inplace(H)
    G = _softmax_ce_backward(H @ W2, b2, y)
    dW2 = H.T @ G
    db2 = _column_sums(G)
    dA = G @ W2.T
    db1 = np.zeros(h)
    for i in range(n):                       # dA <- dA * (1 - H^2), db1 fused
        for j in range(h):
            v = dA[i, j] * (1.0 - H[i, j] * H[i, j])
            dA[i, j] = v
            db1[j] += v
    return X.T @ dA, db1, dW2, db2


# ---------------------------------------------------------------------------
# P6: damped oscillator, explicit Euler, gradient in (k, c)
# ---------------------------------------------------------------------------


@njit
def oscillator_grad(k, c, x0, v0, dt, target):
    T = target.shape[0]
    xs = np.empty(T + 1)                     # x_0 .. x_T
    vs = np.empty(T)                         # v_0 .. v_{T-1}
    x = x0
    v = v0
    for t in range(T):
        xs[t] = x
        vs[t] = v
        a = -k * x - c * v
        x = x + dt * v
        v = v + dt * a
    xs[T] = x
    # reverse: xb, vb are dL/dx_{t+1}, dL/dv_{t+1}; with ab = dt vb,
    # dL/dk = -sum_t x_t ab and dL/dc = -sum_t v_t ab (dt factored out of the sums)
    kdt = k * dt
    one_cdt = 1.0 - c * dt
    xb = 0.0
    vb = 0.0
    sk = 0.0
    sc = 0.0
    for t in range(T - 1, -1, -1):
        xb += 2.0 * (xs[t + 1] - target[t])
        sk += xs[t] * vb
        sc += vs[t] * vb
        xb, vb = xb - kdt * vb, one_cdt * vb + dt * xb
    return -dt * sk, -dt * sc


# ---------------------------------------------------------------------------
# P7: Elman RNN, tanh, gradient in (Wx, Wh, b)
# ---------------------------------------------------------------------------


@njit
def rnn_grad(Wx, Wh, b, xs, y):
    n_h = Wh.shape[0]
    T = xs.shape[0]
    WhT = Wh.T.copy()                        # so that Wh @ h is a sum of contiguous rows
    U = xs @ Wx.T                            # input projections of all steps, one BLAS call
    hs = np.empty((T + 1, n_h))              # h_0 .. h_T
    hs[0, :] = 0.0
    for t in range(T):
        z = hs[t + 1]
        hp = hs[t]
        for i in range(n_h):
            z[i] = U[t, i] + b[i]
        for j in range(n_h):
            hj = hp[j]
            for i in range(n_h):
                z[i] += WhT[j, i] * hj
        for i in range(n_h):
            z[i] = np.tanh(z[i])
    Zb = np.empty((T, n_h))                  # dL/dz_t, z_t the pre-activation of step t
    db = np.zeros(n_h)
    hb = np.empty(n_h)                       # dL/dh_{t+1}
    for i in range(n_h):
        hb[i] = 2.0 * (hs[T, i] - y[i])
    for t in range(T - 1, -1, -1):
        hn = hs[t + 1]
        zb = Zb[t]
        for i in range(n_h):
            v = hb[i] * (1.0 - hn[i] * hn[i])
            zb[i] = v
            db[i] += v
        if t > 0:                            # hb <- Wh.T @ zb, over contiguous rows of Wh
            for j in range(n_h):
                hb[j] = 0.0
            for i in range(n_h):
                zi = zb[i]
                for j in range(n_h):
                    hb[j] += Wh[i, j] * zi
    ZbT = Zb.T
    return ZbT @ xs, ZbT @ hs[:T], db        # weight gradients, one BLAS call each


# ---------------------------------------------------------------------------
# Self-check against central finite differences
# ---------------------------------------------------------------------------


def as_tuple(g: Any) -> tuple[np.ndarray, ...]:
    """A gradient or tuple of gradients as a tuple of float64 arrays."""
    return tuple(np.asarray(a, dtype=np.float64) for a in (g if isinstance(g, tuple) else (g,)))


def finite_differences(loss: Callable[..., Any], args: tuple[Any, ...], argnum: int,
                       n_probe: int = 16, eps: float = 1e-6,
                       seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Central differences of ``loss`` in ``n_probe`` random coordinates of ``args[argnum]``.

    Returns (flat indices probed, derivative estimates).
    """
    r = np.random.default_rng(seed)
    base = np.asarray(args[argnum], dtype=np.float64)
    idx = r.choice(base.size, size=min(n_probe, base.size), replace=False)
    out = np.empty(idx.size)
    for t, i in enumerate(idx):
        h = eps * max(1.0, abs(float(base.flat[i])))
        vals = []
        for sign in (1.0, -1.0):
            moved = base.copy()
            moved.flat[i] += sign * h
            a = list(args)
            a[argnum] = moved
            vals.append(float(loss(*a)))
        out[t] = (vals[0] - vals[1]) / (2.0 * h)
    return idx, out


def check_against_fd(problem: Any, grad: Callable[..., Any] | None = None,
                     rtol: float = 1e-5) -> tuple[bool, float, str]:
    """A gradient of ``problem`` (default: its hand-written one) against finite differences.

    The error of each argument's probes is scaled by the largest probed
    derivative of that argument, so summation-order noise in tiny entries does
    not count. Returns (ok, worst scaled error, message).
    """
    args = problem.make_data()
    grad = grad or globals()[problem.hand]
    grads = as_tuple(grad(*args))
    if len(grads) != len(problem.argnum_tuple):
        return False, np.inf, f"expected {len(problem.argnum_tuple)} gradients, got {len(grads)}"
    worst = 0.0
    for g, a in zip(grads, problem.argnum_tuple, strict=True):
        if g.shape != np.shape(args[a]):
            return False, np.inf, f"gradient {a} has shape {g.shape}, argument {np.shape(args[a])}"
        idx, fd = finite_differences(problem.loss, args, a)
        scale = max(float(np.max(np.abs(fd))), 1e-300)
        worst = max(worst, float(np.max(np.abs(g.flat[idx] - fd))) / scale)
    ok = worst <= rtol
    return ok, worst, f"max |grad - fd| / max |fd| = {worst:.1e} (limit {rtol:.0e})"


def main() -> int:
    from problems import PROBLEMS

    bad = 0
    for p in PROBLEMS:
        ok, _, msg = check_against_fd(p)
        print(f"{p.key:4s} {p.hand:20s} vs finite differences: {'ok  ' if ok else 'FAIL'} {msg}")
        bad += not ok
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
