"""Functions outside symdiff's subset; '# REFUSE' marks the line each error must name."""
# ruff: noqa
# fmt: off

import numpy as np

SOME_ARRAY = np.ones(3)


def uses_try(x):
    y = x * 2.0
    try:  # REFUSE
        y = y + 1.0
    except ValueError:
        pass
    return np.sum(y)


def uses_with(x):
    with open("f"):  # REFUSE
        pass
    return np.sum(x)


def uses_yield(x):
    y = x * 2.0
    z = yield y  # REFUSE
    return np.sum(x)


def uses_lambda(x):
    f = lambda v: v * 2.0  # REFUSE
    return np.sum(x)


def uses_global(x):
    global SOME_ARRAY  # REFUSE
    return np.sum(x)


def uses_nonlocal_like_def(x):
    def inner(v):  # REFUSE
        return v
    return np.sum(x)


def uses_listcomp(x):
    s = [v * 2.0 for v in x]  # REFUSE
    return np.sum(x)


def uses_genexp(x):
    return np.sum(v for v in x)  # REFUSE


def uses_string(x):
    y = x * 2.0
    name = "loss"  # REFUSE
    return np.sum(y)


def calls_unknown(x):
    import_like = open  # REFUSE
    return np.sum(x)


def unknown_attribute(x):
    return np.sum(x.imag)  # REFUSE


def unknown_numpy(x):
    return np.linalg.norm(x)  # REFUSE


def writes_argument(x):
    x[0] = 1.0  # REFUSE
    return np.sum(x)


def augassign_argument(x):
    y = x * 2.0
    x[1] += 2.0  # REFUSE
    return np.sum(y)


def uses_print(x):
    y = x * 2.0
    print(y)  # REFUSE
    return np.sum(y)


def global_array(x):
    return np.sum(x * SOME_ARRAY)  # REFUSE


def array_truth(x):
    return 1.0 if x else 2.0  # REFUSE


def float_modulo(x):
    return np.sum(x % 2.0)  # REFUSE


def bool_mask(x):
    return np.sum(x[x > 0.0])  # REFUSE


def recursive(x):
    return recursive(x)  # REFUSE


def _bad_helper(v):
    try:  # REFUSE
        return v
    except ValueError:
        return v


def helper_refuses(x):
    return np.sum(_bad_helper(x))


def bad_axis(x):
    return np.sum(np.sum(x, axis=3))  # REFUSE


def dynamic_axis(x, k):
    return np.sum(np.sum(x, axis=k))  # REFUSE


def list_literal(x):
    w = [1.0, 2.0]  # REFUSE
    return np.sum(x)


def code_after_return(x):
    return np.sum(x)
    y = x  # REFUSE


def no_return(x):
    y = x * 2.0  # REFUSE


def kwargs_def(x, *rest):  # REFUSE
    return np.sum(x)


def loop_over_array(x):
    s = 0.0
    for v in x:  # REFUSE
        s = s + v
    return s


def loop_with_else(x):
    s = 0.0
    for i in range(3):  # REFUSE
        s = s + x[i]
    else:
        s = 1.0
    return s


def loop_local_read_after(x):
    for i in range(3):
        t = x[i] * 2.0
    return t  # REFUSE


def loop_changes_kind(x):
    s = 0.0
    for i in range(3):  # REFUSE
        s = s + x
    return np.sum(s)


def range_of_float(x):
    s = 0.0
    for i in range(x[0]):  # REFUSE
        s = s + 1.0
    return s


def loop_variable_after(x):
    s = 0.0
    for i in range(3):
        s = s + x[i]
    return s * i  # REFUSE


def loop_writes_alias(x):
    a = np.zeros(3)
    b = np.zeros(3)
    for i in range(3):
        a[i] = x[i]  # REFUSE
        b = a
    return np.sum(b)


def tuple_carried(x):
    p = (x[0], x[1])
    for i in range(3):  # REFUSE
        p = (p[1], p[0] * x[i])
    return p[0]


def matmul_3d(x):
    t = x.reshape(1, 1, 3)
    return np.sum(t @ t)  # REFUSE


def mismatched_branches(x):
    s = np.sum(x)
    return np.sum(x if s > 0.0 else s)  # REFUSE


def builtin_sum(x):
    return sum(x)


def two_args(x, y):
    return np.sum(x) * y


def row_sums(x):
    return np.sum(np.sum(x, axis=1))  # REFUSE


LAMBDA = lambda x: x * 2.0

ARGS = {
    "dynamic_axis": (np.ones((2, 2)), 1),
    "bad_axis": (np.ones((2, 2)),),
    "matmul_3d": (np.ones(3),),
}
