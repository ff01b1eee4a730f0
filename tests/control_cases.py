"""Branches and array writes (straight-line code, no loops), for tests/test_control_flow.py."""
# ruff: noqa

import numpy as np


def piecewise(x, t):
    if t > 0.5:
        y = x * x
        z = np.sin(x)
    elif t > -0.5:
        y = -x
        z = x * t
    else:
        y = x
        z = 2.0
    return y * z + t


def early_return(x, t):
    s = x * 2.0
    if t < 0.0:
        return s * t
    s = s + t * t
    if s > 1.0 and t < 3.0:
        return np.sin(s)
    return s * x


def nested(x, y):
    if x > 0.0:
        if y > 0.0:
            r = x * y
        else:
            r = x - y
    else:
        r = x * x
    return r * 3.0


def array_branches(w, X):
    z = X @ w
    if np.sum(z) > 0.0:
        out = np.tanh(z)
    else:
        out = z * 0.5
    return np.sum(out * out)


def int_in_one_branch(x, n):
    k = 1
    if n > 2:
        k = n * 2
    return x * k


def element_writes(x):
    n = x.shape[0]
    out = np.zeros(n)
    out[0] = x[0] * x[1]
    out[1] = np.sin(x[2])
    out[n - 1] = x[0] + x[n - 1]
    return np.sum(out * out) + out[0]


def slice_writes(x):
    y = x.copy()
    y[1:] = y[:-1] * 2.0
    y[0] = y[0] ** 3
    return np.sum(y * x)


def matrix_writes(x, A):
    M = np.zeros((3, 3))
    M[0, 1] = x
    M[1] = A[0] * x
    M[:, 2] = A[1] + 1.0
    return np.sum(M @ A)


def aug_writes(x):
    s = np.zeros(3)
    s[1 % 3] += x[0]
    s[4 % 3] += x[1] * 2.0
    s[2] -= x[2]
    s[0] *= 2.0
    return np.sum(s * s)


def write_then_read(x):
    y = x * 1.5
    a = y[0]
    y[0] = 10.0
    return a * np.sum(y)


def write_in_branch(x, t):
    y = x * 2.0
    if t > 0.0:
        y[0] = t * x[1]
    return np.sum(y * y)


# refusals -------------------------------------------------------------------

def write_argument(x):
    x[0] = 1.0  # REFUSE
    return np.sum(x)


def write_through_view(x):
    y = x * 2.0
    v = y[1:]
    v[0] = 5.0  # REFUSE
    return np.sum(y)


def maybe_unassigned(x, t):
    if t > 0.0:
        z = x * 2.0
    return z  # REFUSE


def branches_different_ndim(x, t):
    if t > 0.0:  # REFUSE
        z = x * 2.0
    else:
        z = 1.0
    return np.sum(z)


def fancy_write(x, idx):
    y = x * 1.0
    y[idx] = 0.0  # REFUSE
    return np.sum(y)


def _scale_in_place(a):
    a *= 2.0  # REFUSE
    return a


def helper_mutates_argument(x):
    y = x * 3.0
    z = _scale_in_place(y)
    return np.sum(y + z)


def falls_off_end(x, t):
    if t > 0.0:
        return x
    y = x  # REFUSE
