"""for/while loops with break, continue, return and array writes, for tests/test_loops.py.

Plain module-level functions in symdiff's subset; each takes its floats first.
`tests/test_loops.py` differentiates them and checks against central
differences and (where autograd can run the function with ``autograd.numpy``
swapped in for ``np``: no element writes) HIPS autograd.
"""
# ruff: noqa

import numpy as np


# for loops over ranges --------------------------------------------------------

def range_n(x, n):
    s = 0.0
    for i in range(n):
        s = s + np.sin(x[i]) * x[i + 1]
    return s


def range_a_b(x):
    s = 1.0
    for i in range(1, x.shape[0] - 1):
        s = s * (1.0 + 0.5 * x[i]) + x[i - 1] * x[i + 1]
    return s


def range_step(x):
    s = 0.0
    for i in range(1, x.shape[0], 2):
        s = s + x[i] * x[i - 1] + np.cos(s)
    return s


def range_negative_step(x):
    s = 0.0
    k = 1.0
    for i in range(x.shape[0] - 1, -1, -2):
        s = s * 0.5 + k * x[i] ** 2
        k = k + 1.0
    return s


def empty_range(x, t, n):
    """With n = 0 (and with the constant-empty ranges) no iteration runs."""
    s = x[0] * t
    for i in range(n):
        s = s * np.tanh(x[i]) + t
    for i in range(3, 1):
        s = s + 100.0 * x[i]  # not run
    for i in range(0, 5, -1):
        s = s * x[i]  # not run
    return s * s + np.sum(x * x) * t


def empty_range_straight(x, t, n):
    """`empty_range` with its loops removed: the same gradient when n == 0."""
    s = x[0] * t
    return s * s + np.sum(x * x) * t


def nested_triangular(x):
    s = 0.0
    n = x.shape[0]
    for i in range(n):
        for j in range(i):
            s = s + x[i] * np.sin(x[j]) / (1.0 + i + j)
    return s


def nested_dependent_bounds(x, t):
    s = t
    for i in range(1, x.shape[0]):
        for j in range(i - 1, x.shape[0], 2):
            s = s + t * x[i] * x[j]
        s = np.tanh(s)
    return s


def carried_array(W, b, h0):
    h = h0
    for i in range(4):
        h = np.tanh(W @ h + b)
    return np.sum(h * h)


def carried_swap(x, t):
    a = t
    b = 1.0
    for i in range(6):
        a, b = b, a + b * x
    return a * b


def int_counter(x, t):
    k = 0
    s = t
    for i in range(x.shape[0]):
        k = k + 2 * i + 1
        s = s * 0.9 + x[i] * k * t
        if k > 5:
            s = s - t
    return s * k


# while loops with data-dependent trip counts ---------------------------------

def newton_sqrt(a):
    x = a
    step = 1.0
    while abs(step) > 1e-13:
        step = (x * x - a) / (2.0 * x)
        x = x - step
    return x


def newton_cubic(p, q):
    """The real root of x^3 + p x - q (p > 0), as a function of p and q."""
    x = 1.0
    step = 1.0
    k = 0
    while abs(step) > 1e-13 and k < 100:
        step = (x * x * x + p * x - q) / (3.0 * x * x + p)
        x = x - step
        k = k + 1
    return x * x + x


def taylor_exp(x):
    term = 1.0
    s = 1.0
    k = 1
    while abs(term) > 1e-17 * abs(s):
        term = term * x / k
        s = s + term
        k = k + 1
    return s


def while_break(x, t):
    s = 0.0
    i = 0
    while True:
        s = s + t * x[i] ** 2
        i = i + 1
        if s > 1.5:
            break
        if i >= x.shape[0]:
            break
    return s * t


# break, continue, return -----------------------------------------------------

def for_break(x, t):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > t:
            break
        s = s + np.exp(x[i]) * t
    return s + t


def for_continue(x, t):
    s = t
    for i in range(x.shape[0]):
        if x[i] < 0.0:
            continue
        s = s + x[i] * s
    return s


def while_continue(x, t):
    s = 0.0
    i = -1
    while i < x.shape[0] - 1:
        i = i + 1
        if x[i] * t < 0.0:
            continue
        s = s + np.sin(x[i] * t)
    return s


def break_continue_nested_ifs(x, t):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            if s > t:
                break
            s = s + x[i] * x[i]
        else:
            if x[i] < -1.0:
                continue
            s = s - x[i] * t
        s = s * 1.1
    return s


def return_in_loop(x, t):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i] * x[i]
        if s > t:
            return s * t
    return s - t


def return_in_while(x, t):
    s = t
    i = 0
    while i < x.shape[0]:
        s = s * x[i]
        if s < -0.5:
            return np.sin(s)
        i = i + 1
    s = s + 1.0
    return s * s


def return_in_nested_loop(x, t):
    s = 0.0
    n = x.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            s = s + x[i] * x[j]
            if s > t:
                return s * x[j]
        s = s * 0.5
    return s + t


def _first_crossing(x, t):
    a = 0.0
    b = 1.0
    for i in range(x.shape[0]):
        a = a + x[i]
        b = b * (1.0 + x[i] * t)
        if a > t:
            return a, b
    return a * 2.0, b


def return_tuple_in_loop(x, t):
    a, b = _first_crossing(x, t)
    return a * b + t


def tuple_from_loop(x, t):
    """Not differentiable (returns a tuple): checked by `symdiff.jit` only."""
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i]
        if s > t:
            return s, i
    return s, -1


# branches inside loops --------------------------------------------------------

def if_elif_else_in_loop(x, t):
    s = t
    for i in range(x.shape[0]):
        if x[i] > 0.5:
            s = s * x[i]
        elif x[i] > -0.5:
            s = s + np.sin(x[i]) * t
        else:
            s = s - x[i] * x[i]
    return s


def boolean_conditions(x, t):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0.0 and s < t:
            s = s + x[i] * t
        elif not (x[i] > -0.5) or s > 2.0 * t:
            s = s * 0.5
        else:
            s = s - x[i] ** 3
    return s


# array writes inside loops -----------------------------------------------------

def write_elements(x):
    n = x.shape[0]
    out = np.zeros(n)
    for i in range(n):
        out[i] = np.sin(x[i]) * x[(i + 1) % n]
    return np.sum(out * out) + out[0]


def write_matrix(x, y):
    M = np.zeros((x.shape[0], y.shape[0]))
    for i in range(x.shape[0]):
        for j in range(y.shape[0]):
            M[i, j] = x[i] * y[j] + np.tanh(x[i] - y[j])
    return np.sum(M @ y) + M[0, 1] * M[1, 0]


def write_rows(W, x):
    n = W.shape[0]
    M = np.zeros((n, x.shape[0]))
    for i in range(n):
        row = np.tanh(W[i] * x + i)
        M[i] = row
    return np.sum(M * M) + M[1, 0]


def write_aug_modulo(x):
    s = np.zeros(3)
    for i in range(x.shape[0]):
        s[i % 3] += x[i] * x[(i + 1) % x.shape[0]]
        s[(i + 1) % 3] -= 0.5 * x[i]
    return np.sum(s * s)


def write_slices(x):
    y = x * 1.0
    for k in range(3):
        y[1:] = y[:-1] * 0.9 + np.sin(y[1:])
        y[0] = y[0] * 1.1
    return np.sum(y * y)


def write_moving_slice(x):
    n = x.shape[0]
    y = np.zeros(n + 1)
    for i in range(n - 1):
        y[i:i + 2] = y[i:i + 2] + x[i:i + 2] * x[i]
    return np.sum(y * x[0]) + y[n - 1]


def write_empty(x):
    n = x.shape[0]
    out = np.empty(n)
    for i in range(n):
        out[i] = x[i] * x[n - 1 - i]
    return np.sum(np.exp(out))


def write_copy(x):
    y = x.copy()
    for i in range(1, x.shape[0]):
        y[i] = y[i] * np.cos(x[i - 1])
    return np.sum(y * x)


def euler_recurrence(x0, r, dt):
    n = 8
    x = np.zeros(n + 1)
    x[0] = x0
    for i in range(n):
        x[i + 1] = x[i] + dt * r * x[i] * (1.0 - x[i])
    return np.sum(x * x) + x[n]


def read_after_overwrite(x):
    n = x.shape[0]
    y = x * 2.0
    for i in range(n):
        # y[(i + 1) % n] was overwritten an iteration ago only when i == n - 1
        y[i] = y[i] * y[(i + 1) % n] + y[(i - 1) % n]
    for i in range(n):
        y[(i + 2) % n] = y[(i + 2) % n] - 0.1 * y[i]
    return np.sum(y * y)


# helpers with loops -----------------------------------------------------------

def _poly(c, z):
    """Horner evaluation of sum_k c[k] z^k, a loop in a helper."""
    s = 0.0
    for k in range(c.shape[0] - 1, -1, -1):
        s = s * z + c[k]
    return s


def helper_in_loop(c, x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + _poly(c, x[i]) ** 2
    return s


# the course's models -----------------------------------------------------------

def rnn(Wx, Wh, b, xs, y):
    h = np.zeros(Wh.shape[0])
    for t in range(xs.shape[0]):
        h = np.tanh(Wx @ xs[t] + Wh @ h + b)
    return np.sum((h - y) ** 2)


def oscillator(k, c, x0, v0, dt, target):
    x = x0
    v = v0
    loss = 0.0
    for t in range(target.shape[0]):
        a = -k * x - c * v
        x = x + dt * v
        v = v + dt * a
        loss += (x - target[t]) ** 2
    return loss


def oscillator_while(k, c, x0, v0, dt, target):
    x = x0
    v = v0
    loss = 0.0
    t = 0
    while t < target.shape[0]:
        a = -k * x - c * v
        x = x + dt * v
        v = v + dt * a
        loss += (x - target[t]) ** 2
        t += 1
    return loss


def rosenbrock_loop(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s += 100.0 * (x[i + 1] - x[i] * x[i]) ** 2 + (1.0 - x[i]) ** 2
    return s


# tape growth (tests/test_loops.py measures the memory of one gradient) --------

def prefix_recurrence(x, a):
    n = x.shape[0]
    out = np.zeros(n)
    out[0] = x[0]
    for i in range(1, n):
        out[i] = a * out[i - 1] + np.sin(x[i])
    return np.sum(out * out)


# extra -------------------------------------------------------------------

def carried_array_n(w, b, h0, n):
    h = h0 * 1.0
    for i in range(n):
        h = np.tanh(w * h[::-1] + b * h[0])
    return np.sum(h * h)


def write_n(x, n):
    out = x * 2.0
    for i in range(n):
        out[i] = out[i] * out[i + 1] + x[i]
    return np.sum(out * x)


def while_zero_trips(x, t):
    s = t
    while s > 10.0:
        s = s * x
    return s * x


def overwrite_modulo(x):
    s = np.ones(3)
    for i in range(x.shape[0]):
        s[i % 3] = s[i % 3] * x[i] + x[i] ** 2
    return np.sum(s * s)


def overwrite_matrix_rows(W, x):
    M = np.zeros((2, x.shape[0]))
    M[0] = x
    for i in range(4):
        M[(i + 1) % 2] = np.tanh(W @ M[i % 2]) + M[(i + 1) % 2] * 0.5
    return np.sum(M * M)


def write_strided(x):
    y = x * 1.0
    for k in range(3):
        y[::2] = y[::2] * y[1::2][0] + 0.1
        y[-1] = y[0] * y[-1]
    return np.sum(y * x)


def break_variable_step(x, step):
    s = 0.0
    for i in range(x.shape[0] - 1 if step < 0 else 0, -1 if step < 0 else x.shape[0], step):
        s = s + x[i] * (s + 1.0)
        if s > 2.0:
            break
    return s


def break_inner_only(x):
    s = 0.0
    for i in range(x.shape[0]):
        for j in range(x.shape[0]):
            if j > i:
                break
            s = s + x[i] * x[j]
        s = s * 0.9
    return s


def while_array_carried(x):
    h = x * 1.0
    k = 0
    while np.sum(h * h) > 0.01:
        h = h * 0.5 + 0.01 * np.sin(h)
        k = k + 1
    return np.sum(h) * k


def prefix_recurrence_branch(x, a):
    """`prefix_recurrence` with the write under an if/else: the undo log saves the
    overwritten element under the if's condition, so the tape stays O(N) (a copy of
    ``out`` per iteration would make it O(N^2))."""
    n = x.shape[0]
    out = np.zeros(n)
    out[0] = x[0]
    for i in range(1, n):
        if x[i] > 0.0:
            out[i] = a * out[i - 1] + np.sin(x[i])
        else:
            out[i] = a * out[i - 1] - x[i]
    return np.sum(out * out)


# regressions: bugs these tests found, fixed since ---------------------------

def write_in_if_then_read(x, s):
    """An element write under an ``if`` without ``else``, then a read of that element.

    The reverse loop needs ``out[i]`` as it was before the branch wrote it. (Once the
    branch's write was emitted in place while the tape still had to read the old array
    at the end of the iteration.)"""
    out = np.ones(x.shape[0] + 1)
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            out[i] = s * out[i]
        out[i + 1] = out[i] * x[i]
    return np.sum(out)


def loop_variable_after_loop(x, n):
    """``i`` has a value before the loop; after it, Python's ``i`` is the last one taken
    (or still 7 when the loop runs no iterations): the loop carries it."""
    i = 7
    s = 1.0
    for i in range(n):
        s = s * x[i]
    return s * i


def short_circuit_while(x):
    """``x[i]`` is read only while ``i < n``: ``and`` must not evaluate it after (an
    IndexError on the NumPy backend, a read past the end on Numba's)."""
    n = x.shape[0]
    i = 0
    s = 0.0
    while i < n and x[i] > 0.0:
        s = s + x[i] * x[i]
        i = i + 1
    return s


def array_returned_from_loop(x):
    """A ``return`` inside a loop of an array the loop writes: the loop stops there, so
    the returned array is never written again."""
    acc = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        acc[i] = x[i] * x[i]
        if x[i] > 0.5:
            v = acc * 2.0
            return np.sum(v * acc)
    return np.sum(acc)


def write_under_nested_ifs(x, s):
    """Element writes under nested ifs with an index computed in the branch: each saves
    what it overwrites under its own conditions, and only then."""
    n = x.shape[0]
    out = np.ones(n)
    for i in range(n):
        if x[i] > -0.5:
            j = (i + 1) % n
            if x[j] > 0.0:
                out[j] = out[j] * s + x[i]
            out[i] = out[i] * x[j]
        else:
            out[i] = s * out[(i + n - 1) % n]
    return np.sum(out * out)


def loop_with_runtime_step(x, k):
    """range() with a step known at run time."""
    s = 0.0
    for i in range(x.shape[0] - 1, -1, k):
        s = s * 0.5 + x[i] * x[i]
    return s
