"""Property-based tests: random straight-line programs differentiate like central differences.

Hypothesis draws a program over two vectors and a scalar from a grammar of
smooth array expressions (elementwise maths, broadcasting with the scalar,
reductions, slices, matrix-vector products, conditional expressions); the
program is written to a real file (symdiff reads source) and its symdiff
gradient is compared with central differences at a random point.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path

import numpy as np
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
    value, grads = sd.value_and_grad(f, argnums=(0, 1, 2), backend="python")(*args)
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
