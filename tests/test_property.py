"""Property-based tests: random straight-line programs differentiate like central differences.

Hypothesis draws a program over two vectors and a scalar from a grammar of
smooth array expressions (elementwise maths, broadcasting with the scalar,
reductions, slices, matrix-vector products, conditional expressions); the
program is written to a real file (symdiff reads source) and its symdiff
gradient is compared with central differences at a random point. Siblings
draw programs with branches and element writes (`branchy_programs`) and with
a ``for`` loop carrying scalars and arrays, with branches, ``break`` and
``continue`` and element writes in its body (`loop_programs`).
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symdiff as sd
from tests.gradcheck import assert_close, central_difference

N = 4
_counter = itertools.count()

VECTOR_UNARY = [
    "np.tanh({a})", "np.sin({a})", "np.exp(-{a} * {a})", "np.log(1.0 + {a} * {a})",
    "np.sqrt(1.0 + {a} * {a})", "np.arctan({a})", "-{a}", "{a} ** 2", "np.cos({a}) * 0.5",
    "np.log1p(np.exp({a}))", "{a}[::-1]", "np.maximum({a}, 0.3)",
]
VECTOR_BINARY = [
    "{a} + {b}", "{a} - {b}", "{a} * {b}", "{a} / (1.0 + {b} * {b})",
    "np.where({a} > {b}, {a} * 2.0, {b})", "np.minimum({a}, {b} + 0.1)",
    "np.outer({a}, {b}) @ {b}", "{a} * {s}", "{a} + {s}", "{a}[1:] @ {b}[:-1] * {b}",
]
SCALAR = [
    "np.sum({a})", "np.mean({a} * {b})", "np.max({a})", "{a}[0] * {s}", "np.dot({a}, {b})",
    "{s} * {s}", "np.tanh({s})", "({s} if {s} > 0.0 else -{s} * 0.5)",
]


@st.composite
def programs(draw):
    vectors, scalars = ["x", "y"], ["s"]
    lines = []
    for k in range(draw(st.integers(2, 7))):
        kind = draw(st.sampled_from(["vu", "vb", "sc"]))
        a, b = draw(st.sampled_from(vectors)), draw(st.sampled_from(vectors))
        s = draw(st.sampled_from(scalars))
        if kind == "vu":
            expr, out = draw(st.sampled_from(VECTOR_UNARY)).format(a=a), vectors
        elif kind == "vb":
            expr, out = draw(st.sampled_from(VECTOR_BINARY)).format(a=a, b=b, s=s), vectors
        else:
            expr, out = draw(st.sampled_from(SCALAR)).format(a=a, b=b, s=s), scalars
        name = f"v{k}"
        lines.append(f"    {name} = {expr}")
        out.append(name)  # every vector expression above has length N
    result = " + ".join(f"np.sum({v})" for v in vectors[2:]) or "np.sum(x)"
    result += " + " + " + ".join(scalars)
    return "\n".join(lines) + f"\n    return {result}\n"


def _load(body: str, root: Path):
    name = f"prop_case_{next(_counter)}"
    path = root / f"{name}.py"
    path.write_text(f"import numpy as np\n\n\ndef f(x, y, s):\n{body}")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.f


def _check_program(body: str, root: Path, seed: int) -> None:
    """The program's symdiff value and gradients against Python and central differences."""
    f = _load(body, root)
    rng = np.random.default_rng(seed)
    args = (rng.uniform(-1.5, 1.5, N), rng.uniform(-1.5, 1.5, N), float(rng.uniform(-1.5, 1.5)))
    before = [np.copy(a) for a in args]
    value, grads = sd.value_and_grad(f, argnums=(0, 1, 2), backend="python")(*args)
    for a, b in zip(args, before, strict=True):
        assert np.array_equal(a, b), "the gradient wrote into an argument"
    assert np.isclose(value, f(*args), rtol=1e-12, atol=1e-12)
    for k, g in enumerate(grads):
        assert_close(g, central_difference(f, args, k), rtol=1e-4, atol=1e-5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=programs(), seed=st.integers(0, 2**32 - 1))
def test_random_programs_match_central_differences(tmp_path, body, seed):
    _check_program(body, tmp_path, seed)


@st.composite
def branchy_programs(draw):
    """Programs with if/else statements, early returns and element writes into a fresh array."""
    lines = ["    out = x * 1.0"]
    scalars = ["s"]
    for k in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["if", "write", "aug", "scalar", "ret"]))
        a = draw(st.sampled_from(scalars))
        i = draw(st.integers(0, N - 1))
        if kind == "if":
            lines += [f"    if {a} > {draw(st.sampled_from(['0.0', '0.5', '-0.3']))}:",
                      f"        v{k} = {a} * {a} + out[{i}]",
                      "    else:",
                      f"        v{k} = np.sin({a}) - out[{(i + 1) % N}] * y[{i}]"]
            scalars.append(f"v{k}")
        elif kind == "write":
            lines.append(f"    out[{i}] = {a} * y[{i}] + np.tanh(out[{(i + 2) % N}])")
        elif kind == "aug":
            lines.append(f"    out[{i} % {N}] += {a} * x[{(i + 3) % N}]")
        elif kind == "scalar":
            lines.append(f"    v{k} = np.sum(out * y) * 0.3 + {a}")
            scalars.append(f"v{k}")
        else:
            lines += [f"    if {a} < -1.0:", f"        return np.sum(out) * {a}"]
    lines.append(f"    return np.sum(out * out) + {' + '.join(scalars)}")
    return "\n".join(lines) + "\n"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=branchy_programs(), seed=st.integers(0, 2**32 - 1))
def test_random_branchy_programs_match_central_differences(tmp_path, body, seed):
    _check_program(body, tmp_path, seed)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(branchy_programs(), programs()), seed=st.integers(0, 2**32 - 1))
def test_numba_backend_agrees_on_random_programs(tmp_path, body, seed):
    """Fusion, in-place writes and helpers on the Numba target, against the NumPy backend."""
    f = _load(body, tmp_path)
    rng = np.random.default_rng(seed)
    args = (rng.uniform(-1.5, 1.5, N), rng.uniform(-1.5, 1.5, N), float(rng.uniform(-1.5, 1.5)))
    value, grads = sd.value_and_grad(f, argnums=(0, 1, 2))(*args)
    ref_value, ref_grads = sd.value_and_grad(f, argnums=(0, 1, 2), backend="python")(*args)
    assert np.isclose(value, ref_value, rtol=1e-12, atol=1e-12)
    for g, r in zip(grads, ref_grads, strict=True):
        assert_close(g, r, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ loops

LOOP_ELEMENTS = ["x[i]", "y[i]", "out[i]", "x[(i + 1) % {N}]", "out[(i + {N} - 1) % {N}]"]
LOOP_SCALAR = [
    "{c} * 0.9 + {e} * {f}", "np.tanh({c} + {e})", "{c} + np.sin({e}) * s", "{c} * {e}",
    "{c} - 0.5 * {e} ** 2", "np.maximum({c}, {e})", "{c} + np.sum({a} * y) * 0.1",
    "{c} / (1.0 + {e} * {e}) + i",
]
LOOP_ARRAY = [
    "np.tanh({a} * {c} + y)", "{a} * 0.5 + x * {e}", "np.sin({a}) * {e} + {a}[::-1] * 0.3",
    "{a} + out * 0.1", "{a} * np.cos(x * {c})",
]
LOOP_WRITES = [
    "out[i] = {c} * {e} + {f}", "out[(i + 1) % {N}] = out[i] * {e} + np.tanh({c})",
    "out[i % {N}] += {e} * {c}", "{w}[i] = {w}[(i + 1) % {N}] * {e} + {c}",
    "out[i] = out[i] - {c}", "{w}[i % {N}] -= 0.5 * {w}[i] * {e}", "{w}[i] = {w}[i] * {c} + {e}",
]
LOOP_CONDITIONS = [
    "{e} > 0.0", "{c} > {e}", "{e} > 0.0 and {c} < 1.0", "not ({e} < -0.5) or {c} > 0.3",
    "{c} * {f} > 0.1",
]
SCALAR_INITS = ["s", "0.0", "x[0] * s", "1.0", "0"]  # the int widens to float in the loop
ARRAY_INITS = ["x * 1.0", "y * s", "np.zeros({N})", "np.tanh(x + y)"]


@st.composite
def loop_programs(draw):
    """A ``for i in range(n)`` loop (n from 0 to N) carrying 1-3 scalars and arrays, whose
    body updates them (also inside ``if``/``else`` on data-dependent conditions, with
    ``break`` and ``continue``) and writes elements of ``out = np.zeros(N)``."""
    kinds = draw(st.lists(st.sampled_from(["scalar", "array"]), min_size=1, max_size=3))
    scalars = [f"c{k}" for k, kind in enumerate(kinds) if kind == "scalar"]
    arrays = [f"a{k}" for k, kind in enumerate(kinds) if kind == "array"]
    lines = [f"    out = np.zeros({N})"]
    for k, kind in enumerate(kinds):
        inits = SCALAR_INITS if kind == "scalar" else ARRAY_INITS
        name = f"c{k}" if kind == "scalar" else f"a{k}"
        lines.append(f"    {name} = {draw(st.sampled_from(inits)).format(N=N)}")

    def fill(template: str) -> str:
        return template.format(
            N=N, c=draw(st.sampled_from(scalars + ["s"])),
            a=draw(st.sampled_from(arrays + ["x", "out"])),  # read
            w=draw(st.sampled_from(arrays + ["out"])),  # written: arrays the function made
            e=draw(st.sampled_from(LOOP_ELEMENTS)).format(N=N),
            f=draw(st.sampled_from(LOOP_ELEMENTS)).format(N=N))

    def statement(depth: int) -> list[str]:
        choices = ["write", "if", "jump"] if depth < 2 else ["write"]
        choices += ["scalar"] * bool(scalars) + ["array"] * bool(arrays)
        kind = draw(st.sampled_from(choices))
        if kind == "scalar":
            return [f"{draw(st.sampled_from(scalars))} = {fill(draw(st.sampled_from(LOOP_SCALAR)))}"]
        if kind == "array":
            return [f"{draw(st.sampled_from(arrays))} = {fill(draw(st.sampled_from(LOOP_ARRAY)))}"]
        if kind == "write":
            return [fill(draw(st.sampled_from(LOOP_WRITES)))]
        cond = fill(draw(st.sampled_from(LOOP_CONDITIONS)))
        if kind == "jump":
            return [f"if {cond}:", f"    {draw(st.sampled_from(['break', 'continue']))}"]
        out = [f"if {cond}:"] + ["    " + t for t in statement(depth + 1)]
        if draw(st.booleans()):
            out += ["else:"] + ["    " + t for t in statement(depth + 1)]
        return out

    body = [t for _ in range(draw(st.integers(1, 4))) for t in statement(0)]
    lines.append(f"    for i in range({draw(st.integers(0, N))}):")
    lines += ["        " + t for t in body]
    result = " + ".join(["np.sum(out * out)", "s", *scalars, *(f"np.sum({a} * y)" for a in arrays)])
    return "\n".join(lines) + f"\n    return {result}\n"


# Found by `loop_programs` (an element write in a branch of a loop, then a read of that
# element in the same iteration). The random test above draws such a program in about one
# run in seven, so this one is checked on its own, every run.
WRITE_IN_BRANCH_THEN_READ = """\
    out = np.zeros(4)
    c0 = s
    for i in range(2):
        if x[i] > 0.0:
            out[i] = c0 * x[i] + x[i]
        else:
            out[i] = c0 * out[i] + x[i]
        out[(i + 1) % 4] = out[i] * x[i] + np.tanh(c0)
        out[i] = c0 * x[i] + x[i]
    return np.sum(out * out) + s + c0
"""


# Found by `loop_programs`: the adjoint of a0 starts as the argument y itself, and a
# write into it through an if's result went in place, into y.
ADJOINT_STARTS_AS_AN_ARGUMENT = """\
    out = np.zeros(4)
    a0 = y * s
    for i in range(1):
        if x[i] > 0.0:
            out[i] = s * x[i] + x[i]
        if x[i] > 0.0:
            a0[i] = a0[(i + 1) % 4] * x[i] + s
        if x[i] > 0.0:
            out[i] = s * x[i] + x[i]
        else:
            a0 = np.tanh(a0 * s + y)
    return np.sum(out * out) + s + np.sum(a0 * y)
"""

# Found by `loop_programs`: a nested if in a branch, whose condition reads another array
# the loop writes, guarding an element write (its undo log cannot recompute the condition).
NESTED_CONDITION_ON_ANOTHER_ARRAY = """\
    out = np.zeros(4)
    a0 = x * 1.0
    for i in range(3):
        if x[i] > 0.0:
            a0[i] = a0[(i + 1) % 4] * x[i] + s
        else:
            if out[i] > 0.0:
                a0[i] = a0[(i + 1) % 4] * x[i] + s
        out[i] = s * x[i] + x[i]
    return np.sum(out * out) + s + np.sum(a0 * y)
"""


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=loop_programs(), seed=st.integers(0, 2**32 - 1))
def test_random_loop_programs_match_central_differences(tmp_path, body, seed):
    _check_program(body, tmp_path, seed)


@pytest.mark.parametrize("body", [WRITE_IN_BRANCH_THEN_READ, NESTED_CONDITION_ON_ANOTHER_ARRAY,
                                  ADJOINT_STARTS_AS_AN_ARGUMENT],
                         ids=["write-in-branch-then-read", "nested-condition-on-another-array",
                              "adjoint-starts-as-an-argument"])
def test_loop_programs_found_by_the_generator(tmp_path, body):
    _check_program(body, tmp_path, 0)
