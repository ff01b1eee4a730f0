"""for/while loops: gradients through loops against central differences and autograd.

Each case in `tests/loop_cases.py` is run with arguments chosen so that its
``break``/``continue``/``return`` paths are taken (`test_arguments_run_every_line`
checks this). On the NumPy backend every case is checked against central
differences and, where autograd can run the function (no element writes), HIPS
autograd, and the value returned by ``value_and_grad`` must be the function's;
on the Numba backend every case except a few costly to compile is checked
against the NumPy backend and central differences. ``symdiff.jit`` must
compute what Python computes, on both backends.

`test_tape_memory_grows_linearly` measures, with tracemalloc, the memory one
gradient call allocates for loops of N, 2N and 4N steps: it must grow
linearly with a small number of bytes per step.

The last cases of `CASES` are regressions for bugs these tests found.
"""

from __future__ import annotations

import dis
import functools
import inspect
import json
import os
import subprocess
import sys
import tracemalloc
import types
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import symdiff as sd
from tests import loop_cases as lc
from tests.gradcheck import assert_close, central_difference

FD_TOL = {"rtol": 1e-6, "atol": 1e-7}
AG_TOL = {"rtol": 1e-10, "atol": 1e-12}

rng = np.random.default_rng(11)


def R(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


@dataclass(frozen=True)
class Case:
    fn: Any
    args: tuple
    argnums: tuple[int, ...]
    label: str = ""

    @property
    def id(self) -> str:
        return self.fn.__name__ + (f"-{self.label}" if self.label else "")


X6 = np.array([0.1, -0.3, 0.2, 0.9, 0.4, -1.0])
X8 = np.array([0.5, -1.5, -0.4, 0.8, 1.2, 0.3, -0.2, 0.9])
SPREAD = np.array([0.9, -0.2, -0.8, 0.3, 1.4, -1.1, 0.05, 0.7])   # every if/elif/else branch
OSC_TARGET = np.cos(0.2 * np.arange(20))

CASES = [
    # for loops over ranges
    Case(lc.range_n, (R(6), 4), (0,)),
    Case(lc.range_n, (R(6), 0), (0,), "empty"),
    Case(lc.range_a_b, (R(6),), (0,)),
    Case(lc.range_step, (R(7),), (0,)),
    Case(lc.range_negative_step, (R(7),), (0,), "odd"),
    Case(lc.range_negative_step, (R(6),), (0,), "even"),
    Case(lc.empty_range, (R(4), 0.7, 0), (0, 1), "empty"),
    Case(lc.empty_range, (R(4), 0.7, 3), (0, 1), "three"),
    Case(lc.nested_triangular, (R(5),), (0,)),
    Case(lc.nested_dependent_bounds, (R(5), 0.3), (0, 1)),
    Case(lc.carried_array, (0.5 * R(3, 3), R(3), R(3)), (0, 1, 2)),
    Case(lc.carried_array_n, (R(4), R(4), R(4), 3), (0, 1, 2)),
    Case(lc.carried_array_n, (R(4), R(4), R(4), 0), (0, 1, 2), "empty"),
    Case(lc.carried_swap, (0.4, 0.7), (0, 1)),
    Case(lc.int_counter, (R(5), 0.3), (0, 1)),
    # while loops with data-dependent trip counts
    Case(lc.newton_sqrt, (2.3,), (0,)),
    Case(lc.newton_sqrt, (0.04,), (0,), "small"),
    Case(lc.newton_cubic, (1.3, 0.8), (0, 1)),
    Case(lc.taylor_exp, (1.7,), (0,)),
    Case(lc.taylor_exp, (-2.2,), (0,), "negative"),
    Case(lc.while_break, (X6 * 3.0, 0.8), (0, 1), "sum"),
    Case(lc.while_break, (X6 * 0.5, 0.8), (0, 1), "end"),
    Case(lc.while_zero_trips, (0.5, 0.3), (0, 1), "none"),
    Case(lc.while_zero_trips, (0.5, 30.0), (0, 1), "three"),
    Case(lc.while_array_carried, (R(4),), (0,)),
    Case(lc.oscillator_while, (4.0, 0.3, 1.0, 0.0, 0.05, OSC_TARGET), (0, 1)),
    # break, continue, return
    Case(lc.for_break, (X6, 0.5), (0, 1), "breaks"),
    Case(lc.for_break, (X6, 5.0), (0, 1), "runs-out"),
    Case(lc.for_continue, (X6, 0.5), (0, 1)),
    Case(lc.while_continue, (X6, 0.5), (0, 1)),
    Case(lc.break_continue_nested_ifs, (X8, 1.5), (0, 1)),
    Case(lc.break_inner_only, (R(4),), (0,)),
    Case(lc.break_variable_step, (X6 * 2.0, 2), (0,), "up"),
    Case(lc.break_variable_step, (np.abs(X6), -1), (0,), "down"),
    Case(lc.return_in_loop, (X6, 0.05), (0, 1), "returns"),
    Case(lc.return_in_loop, (X6, 100.0), (0, 1), "falls-through"),
    Case(lc.return_in_while, (X6 * 5.0, 0.9), (0, 1), "returns"),
    Case(lc.return_in_while, (np.abs(X6), 0.9), (0, 1), "falls-through"),
    Case(lc.return_in_nested_loop, (X6, 0.05), (0, 1), "returns"),
    Case(lc.return_in_nested_loop, (X6, 50.0), (0, 1), "falls-through"),
    Case(lc.return_tuple_in_loop, (X6, 0.2), (0, 1), "returns"),
    Case(lc.return_tuple_in_loop, (X6, 5.0), (0, 1), "falls-through"),
    # branches inside loops
    Case(lc.if_elif_else_in_loop, (SPREAD, 0.5), (0, 1)),
    Case(lc.boolean_conditions, (SPREAD, 0.5), (0, 1)),
    # array writes inside loops
    Case(lc.write_elements, (R(5),), (0,)),
    Case(lc.write_matrix, (R(3), R(4)), (0, 1)),
    Case(lc.write_rows, (R(3, 4), R(4)), (0, 1)),
    Case(lc.write_aug_modulo, (R(7),), (0,)),
    Case(lc.write_slices, (R(5),), (0,)),
    Case(lc.write_moving_slice, (R(5),), (0,)),
    Case(lc.write_strided, (R(5),), (0,)),
    Case(lc.write_empty, (R(5),), (0,)),
    Case(lc.write_copy, (R(5),), (0,)),
    Case(lc.write_n, (R(5), 4), (0,)),
    Case(lc.write_n, (R(5), 0), (0,), "empty"),
    Case(lc.euler_recurrence, (0.2, 1.5, 0.1), (0, 1, 2)),
    Case(lc.read_after_overwrite, (R(5),), (0,)),
    Case(lc.overwrite_modulo, (R(8),), (0,)),
    Case(lc.overwrite_matrix_rows, (R(3, 3), R(3)), (0, 1)),
    Case(lc.prefix_recurrence, (R(6), 0.7), (0, 1)),
    Case(lc.prefix_recurrence_branch, (R(6), 0.7), (0, 1)),
    # helpers with loops, called in loops
    Case(lc.helper_in_loop, (R(4), R(3)), (0, 1)),
    # the course's models
    Case(lc.rnn, (0.5 * R(3, 2), 0.3 * R(3, 3), 0.1 * R(3), R(4, 2), R(3)), (0, 1, 2)),
    Case(lc.oscillator, (4.0, 0.3, 1.0, 0.0, 0.05, OSC_TARGET), (0, 1)),
    Case(lc.rosenbrock_loop, (R(6),), (0,)),
    # regressions: symdiff bugs these tests found (see the functions)
    Case(lc.write_in_if_then_read, (X6, 0.7), (0, 1)),
    Case(lc.loop_variable_after_loop, (X6, 3), (0,)),
    Case(lc.loop_variable_after_loop, (X6, 0), (0,), "no-iterations"),
    Case(lc.short_circuit_while, (np.abs(X6),), (0,)),
    Case(lc.array_returned_from_loop, (X6,), (0,)),
    Case(lc.array_returned_from_loop, (X6 - 1.0,), (0,), "falls-through"),
    Case(lc.write_under_nested_ifs, (SPREAD, 0.7), (0, 1)),
    Case(lc.loop_with_runtime_step, (X8, -2), (0,)),
    Case(lc.loop_with_runtime_step, (X8, -3), (0,), "step-3"),
]

IDS = [c.id for c in CASES]

# autograd refuses element writes into arrays (and ArrayBox has no .copy())
NO_AUTOGRAD = {lc.write_elements, lc.write_matrix, lc.write_rows, lc.write_aug_modulo,
               lc.write_slices, lc.write_moving_slice, lc.write_strided, lc.write_empty,
               lc.write_copy, lc.write_n, lc.euler_recurrence, lc.read_after_overwrite,
               lc.overwrite_modulo, lc.overwrite_matrix_rows, lc.prefix_recurrence,
               lc.prefix_recurrence_branch, lc.write_in_if_then_read, lc.array_returned_from_loop,
               lc.write_under_nested_ifs}
AUTOGRAD_CASES = [c for c in CASES if c.fn not in NO_AUTOGRAD]

# Numba compiles these slowly (3 to 10 s each) and a cheaper case has the same construct:
# rnn carries tanh(W @ h + b), write_rows writes rows and overwrite_modulo overwrites,
# carried_array_n and oscillator_while carry arrays and run while loops, write_slices
# writes slices.
NUMBA_SKIP = {lc.carried_array, lc.overwrite_matrix_rows, lc.while_array_carried,
              lc.write_strided}
NUMBA_CASES = [c for c in CASES if c.fn not in NUMBA_SKIP]


@functools.cache
def _value_and_grad(fn, argnums, backend):
    """One transformed callable per (function, argnums, backend): each compiles once."""
    return sd.value_and_grad(fn, argnums=argnums, backend=backend)


@functools.cache
def _jit(fn, backend):
    return sd.jit(fn, backend=backend)


def _with_autograd_numpy(fn):
    """``fn`` with ``np`` bound to autograd.numpy, and so its helpers too."""
    env = dict(fn.__globals__)
    env["np"] = anp
    for name, value in fn.__globals__.items():
        if isinstance(value, types.FunctionType) and value.__module__ == fn.__module__:
            env[name] = types.FunctionType(value.__code__, env, value.__name__,
                                           value.__defaults__, value.__closure__)
    return env[fn.__name__]


def _check_against_differences(case: Case, value, grads, exact_value: bool) -> None:
    """The value is the function's (the NumPy backend runs the same operations: exactly,
    but for the summation order of products hoisted out of loops, which
    symdiff.transforms.hoist leaves to BLAS), the gradients are central differences'."""
    if exact_value:
        assert value == pytest.approx(case.fn(*case.args), rel=1e-15, abs=0.0)
    else:
        assert value == pytest.approx(case.fn(*case.args), rel=1e-12, abs=1e-12)
    assert len(grads) == len(case.argnums)
    for k, g in zip(case.argnums, grads, strict=True):
        assert np.shape(g) == np.shape(case.args[k])
        assert_close(g, central_difference(case.fn, case.args, k), **FD_TOL)


def _call_leaving_arguments_alone(fn, args):
    before = [np.copy(a) for a in args]
    out = fn(*args)
    for k, (a, b) in enumerate(zip(args, before, strict=True)):
        assert np.array_equal(a, b), f"argument {k} was written into"
    return out


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_numpy_backend_matches_central_differences(case):
    value, grads = _call_leaving_arguments_alone(
        _value_and_grad(case.fn, case.argnums, "python"), case.args)
    _check_against_differences(case, value, grads, exact_value=True)


@pytest.mark.parametrize("case", AUTOGRAD_CASES, ids=[c.id for c in AUTOGRAD_CASES])
def test_numpy_backend_matches_autograd(case):
    _, grads = _value_and_grad(case.fn, case.argnums, "python")(*case.args)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Output seems independent of input")
        reference = autograd.grad(_with_autograd_numpy(case.fn), case.argnums)(*case.args)
    for g, r in zip(grads, reference, strict=True):
        assert_close(g, r, **AG_TOL)


@pytest.mark.parametrize("case", NUMBA_CASES, ids=[c.id for c in NUMBA_CASES])
def test_numba_backend_matches_numpy_backend(case):
    value, grads = _call_leaving_arguments_alone(
        _value_and_grad(case.fn, case.argnums, "numba"), case.args)
    assert isinstance(value, float)
    _check_against_differences(case, value, grads, exact_value=False)
    ref_value, ref_grads = _value_and_grad(case.fn, case.argnums, "python")(*case.args)
    assert value == pytest.approx(ref_value, rel=1e-12, abs=1e-12)
    for g, r in zip(grads, ref_grads, strict=True):
        assert_close(g, r, rtol=1e-10, atol=1e-12)
        assert isinstance(g, np.ndarray) if np.ndim(r) else isinstance(g, float)


@pytest.mark.parametrize("backend", ["python", "numba"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_jit_computes_what_python_computes(case, backend):
    assert _jit(case.fn, backend)(*case.args) == pytest.approx(case.fn(*case.args),
                                                               rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("backend", ["python", "numba"])
@pytest.mark.parametrize("t", [0.2, 5.0], ids=["returns", "falls-through"])
def test_jit_returns_a_tuple_from_inside_a_loop(backend, t):
    result = _jit(lc.tuple_from_loop, backend)(X6, t)
    expected = lc.tuple_from_loop(X6, t)
    assert result[0] == pytest.approx(expected[0], rel=1e-14) and result[1] == expected[1]


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_loops_without_iterations_differentiate_like_the_straight_code(backend):
    args = (np.array([0.3, -1.2, 0.8, 0.5]), 0.7, 0)
    value, grads = _value_and_grad(lc.empty_range, (0, 1), backend)(*args)
    ref_value, ref_grads = _value_and_grad(lc.empty_range_straight, (0, 1), backend)(*args)
    assert value == ref_value
    for g, r in zip(grads, ref_grads, strict=True):
        assert_close(g, r, rtol=1e-15, atol=0)


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_a_zero_step_known_only_at_run_time_raises_like_range(backend):
    with pytest.raises(ValueError, match="must not be zero"):
        _value_and_grad(lc.loop_with_runtime_step, (0,), backend)(X8, 0)


# ----------------------------------------------------------- on-disk cache

WARM_RUNNER = """
import json, sys
import numpy as np
import symdiff as sd
from tests import loop_cases as lc
calls = {
    "range_n": (lc.range_n, (np.linspace(0.1, 0.6, 6), 4), 0),
    "oscillator": (lc.oscillator, (4.0, 0.3, 1.0, 0.0, 0.05, np.ones(5)), (0, 1)),
}
misses = {}
for name in sys.argv[1:]:
    fn, args, argnums = calls[name]
    g = sd.grad(fn, argnums=argnums)
    g(*args)
    misses[name] = sum(g.compile(*args).stats.cache_misses.values())
print(json.dumps(misses))
"""


def _run_in_process(cache: Path, *names: str) -> dict:
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "SYMDIFF_CACHE_DIR": str(cache), "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", WARM_RUNNER, *names], env=env, cwd=root,
                         check=True, capture_output=True, text=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_warm_process_reuses_the_machine_code_whatever_it_compiles_first(tmp_path):
    """Numba's cached code for a gradient loads in a later process that builds its
    gradients in another order (the suite's xdist workers do)."""
    cold = _run_in_process(tmp_path, "range_n", "oscillator")
    assert cold == {"range_n": 1, "oscillator": 1}
    warm = _run_in_process(tmp_path, "oscillator", "range_n")
    assert warm == {"oscillator": 0, "range_n": 0}, "the warm process recompiled with Numba"


# ------------------------------------------------------ the arguments' coverage

NOT_RUN = "# not run"  # lines of loop_cases a case's arguments may skip: empty constant ranges


def _case_functions() -> list[types.FunctionType]:
    return [f for _, f in inspect.getmembers(lc, inspect.isfunction) if f.__module__ == lc.__name__]


def test_arguments_run_every_line():
    """The cases' arguments take every path of every function in loop_cases (each break,
    continue, return and branch), so the gradient checks above cover them all."""
    code_of = {f.__code__: f for f in _case_functions()}
    ran: dict[Any, set[int]] = {code: set() for code in code_of}

    def tracer(frame, event, arg):
        if frame.f_code in ran:
            if event == "line":
                ran[frame.f_code].add(frame.f_lineno)
            return tracer
        return None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        for case in CASES:
            case.fn(*case.args)
        lc.tuple_from_loop(X6, 0.2), lc.tuple_from_loop(X6, 5.0)
        lc.empty_range_straight(X6, 0.7, 0)
    finally:
        sys.settrace(previous)
    source = inspect.getsource(lc).splitlines()
    missing = {}
    for code, f in code_of.items():
        lines = {line for _, line in dis.findlinestarts(code)
                 if line is not None and line != code.co_firstlineno}
        skipped = sorted(line for line in lines - ran[code] if NOT_RUN not in source[line - 1])
        if skipped:
            missing[f.__name__] = skipped
    assert not missing, f"lines no case runs: {missing}"


# ------------------------------------------------------------- tape memory


def _osc_args(n: int) -> tuple:
    return (4.0, 0.3, 1.0, 0.0, 0.01, np.cos(0.01 * np.arange(n)))


def _prefix_args(n: int) -> tuple:
    return (np.sin(np.arange(n) * 0.7), 0.5)


def _carried_args(n: int) -> tuple:
    return (np.linspace(-1.0, 1.0, 4), np.full(4, 0.1), np.ones(4), n)


# (function, arguments for N steps, bound on the bytes one gradient allocates per step)
TAPE_CASES = [
    # three floats taped per step (24 bytes)
    (lc.oscillator, _osc_args, 64),
    # the same in a while loop: tapes grow by doubling
    (lc.oscillator_while, _osc_args, 64),
    # out, its adjoint, the gradient and one taped float per step (32 bytes): no copy of `out`
    (lc.prefix_recurrence, _prefix_args, 64),
    # the same with the write under an if/else
    (lc.prefix_recurrence_branch, _prefix_args, 64),
    # two arrays of 4 floats, with index rows and two scalars, taped per step (about 120 bytes)
    (lc.carried_array_n, _carried_args, 256),
]


def _peak_bytes(g, args) -> int:
    """Peak memory allocated while ``g(*args)`` runs (NumPy reports to tracemalloc)."""
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        g(*args)
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        if not tracing:
            tracemalloc.stop()


@pytest.mark.parametrize("fn, make, bound", TAPE_CASES, ids=[c[0].__name__ for c in TAPE_CASES])
def test_tape_memory_grows_linearly(fn, make, bound):
    n = 1000
    g = sd.grad(fn, argnums=(0, 1), backend="python")
    g(*make(n))  # compile outside the measurement
    p1, p2 = _peak_bytes(g, make(n)), _peak_bytes(g, make(2 * n))
    per_step = (p2 - p1) / n
    assert per_step <= bound, (f"{per_step:.0f} bytes per step (peaks {p1} and {p2} bytes for "
                               f"{n} and {2 * n} steps)")
    p4 = _peak_bytes(g, make(4 * n))
    ratio = (p4 - p2) / (p2 - p1)  # 2 when linear, 4 when quadratic
    assert 1.6 <= ratio <= 2.4, (p1, p2, p4)
