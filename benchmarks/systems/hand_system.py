"""Hand-written Numba: the gradients of ``handwritten.py`` and hand-written Numba primals.

The primals are written in the same style as the gradients (one fused loop
where the work is elementwise, BLAS for matrix products, NumPy's SIMD ufuncs
in place through ``numba.objmode`` for exp/tanh/log1p over large arrays), so
that gradient / primal compares like with like. They are checked against the
NumPy loss by the harness before anything is timed.
"""

from __future__ import annotations

from typing import Any

from systems import Built, as_tuple

LABEL = "hand-written Numba"
PACKAGES = ("numba",)

_primals: dict[str, Any] = {}


def _define_primals() -> None:
    import numba
    import numpy as np
    import problems
    from handwritten import _UFUNC_MIN, _exp_inplace, _tanh_inplace, njit

    @njit
    def _log1p_inplace(x):
        if x.size >= _UFUNC_MIN:
            with numba.objmode():
                np.log1p(x, out=x)
        else:
            for i in range(x.size):
                x[i] = np.log1p(x[i])
        return x

    @njit
    def rosenbrock(x):
        s = 0.0
        for i in range(x.shape[0] - 1):
            xi = x[i]
            t = x[i + 1] - xi * xi
            u = 1.0 - xi
            s += 100.0 * t * t + u * u
        return s

    @njit
    def logistic(w, X, y):
        z = X @ w
        n = z.shape[0]
        e = np.empty(n)
        for i in range(n):
            e[i] = -abs(z[i])
        _log1p_inplace(_exp_inplace(e))      # e = log1p(exp(-|z|))
        s = 0.0
        for i in range(n):
            zi = z[i]
            s += e[i] + max(zi, 0.0) - y[i] * zi
        return s / n

    @njit
    def _softmax_ce(Z, b, y):
        """Mean softmax cross-entropy of Z + b (Z overwritten)."""
        n, k = Z.shape
        m = np.empty(n)
        picked = 0.0
        for i in range(n):
            mi = -np.inf
            for j in range(k):
                v = Z[i, j] + b[j]
                Z[i, j] = v
                if v > mi:
                    mi = v
            m[i] = mi
            picked += Z[i, y[i]]
            for j in range(k):
                Z[i, j] -= mi
        _exp_inplace(Z)
        s = 0.0
        for i in range(n):
            r = 0.0
            for j in range(k):
                r += Z[i, j]
            s += np.log(r) + m[i]
        return (s - picked) / n

    @njit
    def softmax(W, b, X, y):
        return _softmax_ce(X @ W, b, y)

    @njit
    def mlp(W1, b1, W2, b2, X, y):
        H = X @ W1
        n, h = H.shape
        for i in range(n):
            for j in range(h):
                H[i, j] += b1[j]
        _tanh_inplace(H)
        return _softmax_ce(H @ W2, b2, y)

    oscillator = njit(problems.oscillator)  # scalar code: Numba compiles the loss itself

    @njit
    def rnn(Wx, Wh, b, xs, y):
        n_h = Wh.shape[0]
        T = xs.shape[0]
        WhT = Wh.T.copy()
        U = xs @ Wx.T
        h = np.zeros(n_h)
        z = np.empty(n_h)
        for t in range(T):
            for i in range(n_h):
                z[i] = U[t, i] + b[i]
            for j in range(n_h):
                hj = h[j]
                for i in range(n_h):
                    z[i] += WhT[j, i] * hj
            for i in range(n_h):
                h[i] = np.tanh(z[i])
        s = 0.0
        for i in range(n_h):
            d = h[i] - y[i]
            s += d * d
        return s

    _primals.update({"P1s": rosenbrock, "P1": rosenbrock, "P2": rosenbrock, "P3": logistic,
                     "P4": softmax, "P5": mlp, "P6": oscillator, "P7": rnn})


def init() -> dict[str, str]:
    import numba
    import numpy as np

    _define_primals()

    @numba.njit(cache=False)
    def warm(x):
        return np.sum(x * x)

    warm(np.ones(3))
    return {"numba": numba.__version__, "numpy": np.__version__}


def build(problem: Any) -> Built:
    import handwritten

    args = problem.make_data()
    g = getattr(handwritten, problem.hand)
    f = _primals[problem.key]
    return Built(grad=lambda: g(*args), primal=lambda: f(*args), to_numpy=as_tuple)
