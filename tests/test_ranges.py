"""The nonnegative-integer analysis behind ``np.uintp`` indexes (symdiff/backend/ranges.py).

An index cast to ``np.uintp`` skips Numba's negative-index wraparound, so a value
wrongly proved nonnegative would read the wrong element: the tests check both
what is proved and that code indexing with negative values still wraps.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import symdiff as sd
from symdiff.backend.ranges import nonnegative_ints, range_variables
from symdiff.frontend.lower import lower
from symdiff.ir.core import Block
from symdiff.ir.names import assign_names
from symdiff.ir.types import Type
from symdiff.transforms.simplify import simplify

F1 = Type("f64", 1)
INT = Type("i64")


def _ops(block: Block):
    for op in block.ops:
        yield op
        for region in op.regions:
            yield from _ops(region)


def _proved_names(fn, kinds) -> dict[str, bool]:
    """For each named integer value of ``fn``'s IR: proved nonnegative or not."""
    ir = simplify(lower(fn, kinds).function)
    proved = nonnegative_ints(ir)
    names = assign_names(ir)
    return {names[v]: v in proved for v in names if v.type == INT}


def shifted(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        j = i + 1
        k = i % 3
        m = i - 1
        s += x[j] * x[k] + x[m]
    return s


def counter(x, n):
    s = 0.0
    j = 0
    down = n
    while j < n:
        s += x[j]
        j = j + 2
        down = down - 1
    return s + x[down]


def descending(x, start):
    s = 0.0
    for i in range(start, -1, -1):
        s += x[i]
    for i in range(start, -2, -1):
        s += x[i]
    return s


def test_sums_and_remainders_of_loop_variables_are_nonnegative():
    proved = _proved_names(shifted, (F1,))
    assert proved["i"] and proved["j"] and proved["k"]
    assert not proved["m"]  # i - 1 is -1 on the first iteration


def test_a_counter_carried_by_a_loop_is_proved_and_a_decreasing_one_is_not():
    proved = _proved_names(counter, (F1, INT))
    assert proved["j_1"] and proved["j_2"] and proved["j_3"]  # in the body, next, after
    assert not proved["down_1"] and not proved["down_3"]


def test_a_descending_range_is_nonnegative_only_down_to_minus_one():
    ir = simplify(lower(descending, (F1, INT)).function)
    loops = [op for op in ir.body.ops if op.name == "for"]
    first, second = (op.regions[-1].params[0] for op in loops)
    proved = nonnegative_ints(ir)
    assert first in proved and second not in proved
    assert range_variables(ir) == {first, second}


def branch_index(x, c):
    s = 0.0
    for i in range(x.shape[0] - 2):
        if c > 0.0:
            j = i + 1
        else:
            j = i + 2
        s += x[j]
    return s


def test_an_if_whose_branches_both_give_nonnegative_values_is_nonnegative():
    proved = _proved_names(branch_index, (F1, Type("f64")))
    js = [name for name in proved if name.startswith("j")]
    assert js and all(proved[name] for name in js), proved


def wraps(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i - 1] * x[(i + 1) % x.shape[0]] + x[-1 - i]
    return s


def neighbours(x):
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0] - 1):
        out[i + 1] = x[i + 1] - x[i] * x[i]
        out[i] += x[i + 1]
    return np.sum(out * out)


@pytest.mark.parametrize("fn", [wraps, neighbours, shifted])
def test_compiled_indexes_read_the_elements_python_reads(fn):
    x = np.random.default_rng(3).normal(size=7)
    value, grad = sd.value_and_grad(fn)(x)
    numpy_value, numpy_grad = sd.value_and_grad(fn, backend="python")(x)
    assert value == pytest.approx(fn(x), rel=1e-12)
    np.testing.assert_allclose(grad, numpy_grad, rtol=1e-12, atol=1e-12)


def test_the_generated_code_casts_derived_indexes_only():
    code = sd.show_ir(neighbours, "python", args=(np.ones(4),))
    assert "np.uintp(" in code
    assert "[np.uintp(i)]" not in code and "[np.uintp(it)]" not in code
    wrapped = sd.show_ir(wraps, "python", args=(np.ones(4),))
    negative = re.findall(r"(\w+) = (?:it - 1|-1 - it)$", wrapped, re.MULTILINE)
    assert len(negative) == 2
    assert all(f"[{name}]" in wrapped and f"np.uintp({name})" not in wrapped
               for name in negative)
    assert "np.uintp(" in wrapped  # (i + 1) % n is proved
