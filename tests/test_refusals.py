"""Code outside the subset is refused at build time, naming the offending line.

Each case is a function in `tests/refusal_cases.py` marked with a ``# REFUSE``
comment on the line the error must name; the test finds that line in the
file, so the assertion cannot drift from the source.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import symdiff as sd
from tests import refusal_cases as rc

CASES = [
    (rc.uses_try, "try/except"),
    (rc.uses_with, "'with'"),
    (rc.uses_yield, "'yield'"),
    (rc.uses_lambda, "lambda"),
    (rc.uses_global, "'global'"),
    (rc.uses_nonlocal_like_def, "nested function"),
    (rc.uses_listcomp, "comprehension"),
    (rc.uses_genexp, "generator"),
    (rc.uses_string, "string"),
    (rc.calls_unknown, "not something symdiff can use"),
    (rc.unknown_attribute, "unknown array attribute"),
    (rc.unknown_numpy, "'numpy.linalg' is not supported"),
    (rc.writes_argument, "argument array 'x'"),
    (rc.augassign_argument, "argument array 'x'"),
    (rc.uses_print, "discarded"),
    (rc.global_array, "global array"),
    (rc.array_truth, "truth value of an array"),
    (rc.float_modulo, "on floats"),
    (rc.bool_mask, "boolean-mask"),
    (rc.recursive, "recursive"),
    (rc.helper_refuses, "try/except"),
    (rc.bad_axis, "out of range"),
    (rc.dynamic_axis, "integer constant"),
    (rc.list_literal, "lists are not supported"),
    (rc.code_after_return, "unreachable"),
    (rc.no_return, "'return'"),
    (rc.kwargs_def, "positional parameters"),
    (rc.loop_over_array, "only 'for ... in range(...)'"),
    (rc.loop_with_else, "'else' on a loop"),
    (rc.loop_local_read_after, "assigned only inside the loop"),
    (rc.loop_changes_kind, "a scalar before the loop"),
    (rc.range_of_float, "range() takes integers"),
    (rc.loop_variable_after, "assigned only inside the loop"),
    (rc.loop_writes_alias, "would also change 'b'"),
    (rc.tuple_carried, "holds a tuple"),
    (rc.matmul_3d, "more than 2 dimensions"),
    (rc.mismatched_branches, "same number of dimensions"),
]


def _marked_line(fn) -> int:
    lines, first = inspect.getsourcelines(fn)
    marked = [first + k for k, text in enumerate(lines) if "# REFUSE" in text]
    assert len(marked) == 1, f"{fn.__name__} needs exactly one '# REFUSE' marker"
    return marked[0]


@pytest.mark.parametrize("fn, fragment", CASES, ids=[c[0].__name__ for c in CASES])
def test_refusal_names_the_line(fn, fragment):
    args = rc.ARGS.get(fn.__name__, (np.ones(3),))
    with pytest.raises(sd.UnsupportedSyntaxError) as info:
        sd.grad(fn, backend="python")(*args)
    err = info.value
    line = _marked_line(rc._bad_helper if fn is rc.helper_refuses else fn)
    assert err.loc is not None
    assert err.loc.line == line, str(err)
    message = str(err)
    assert f"refusal_cases.py:{line}:" in message
    assert fragment in message
    assert "^" in message  # the caret under the offending column
    assert isinstance(err, sd.SymdiffError)


def test_refusal_message_shows_source_and_caret():
    with pytest.raises(sd.UnsupportedSyntaxError) as info:
        sd.grad(rc.uses_try, backend="python")(np.ones(3))
    text = str(info.value).splitlines()
    assert "try:" in text[1]
    caret_line = text[2]
    assert caret_line.strip() == "^"
    assert caret_line.index("^") == text[1].index("try")
    assert text[-1].startswith("hint:")


def test_builtin_sum_suggests_numpy():
    with pytest.raises(sd.UnsupportedSyntaxError, match="np.sum"):
        sd.grad(rc.builtin_sum, backend="python")(np.ones(3))


def test_lambda_function_is_refused():
    with pytest.raises(sd.UnsupportedSyntaxError, match="lambda"):
        sd.grad(rc.LAMBDA, backend="python")(1.0)


def test_wrong_argument_count():
    with pytest.raises(sd.SignatureError, match="takes 2 argument"):
        sd.grad(rc.two_args, backend="python")(np.ones(3))


def test_wrong_argument_type():
    with pytest.raises(sd.SignatureError, match="list"):
        sd.grad(rc.two_args, backend="python")([1.0, 2.0], 1.0)
    with pytest.raises(sd.SignatureError, match="float32"):
        sd.grad(rc.two_args, backend="python")(np.ones(3, dtype=np.float32), 1.0)


def test_wrong_ndim_recompiles_or_fails_cleanly():
    """A new ndim is a new specialization; one the code cannot handle fails with a located error."""
    g = sd.grad(rc.row_sums, backend="python")
    assert g(np.ones((2, 3))).shape == (2, 3)
    with pytest.raises(sd.UnsupportedSyntaxError, match="out of range"):
        g(np.ones(3))
