"""The SymPy path: `symdiff.symbolic` beside symdiff's AD.

`gradient` (SymPy's diff, compiled by lambdify) must equal `sd.grad` on every
straight-line test function of `tests/test_primitives.py`, on the branch cases,
the golden functions, models written with `symdiff.nn`, and `for` loops it
unrolls. The classic swell cases must grow as docs/symbolic.md says. What the
SymPy path cannot express is refused with a located `SymbolicError`. The
interpreter also runs adjoint IR on numbers (that is how `swell` counts the ops
the adjoint executes): its results must be symdiff's gradients.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symdiff as sd
import symdiff.symbolic as sym
from symdiff import nn
from symdiff.cli import main
from symdiff.ir.registry import REGISTRY
from symdiff.pipeline import Transform, build
from symdiff.signature import kinds_of, parameter_names
from symdiff.symbolic import cases
from symdiff.symbolic.core import run_numeric
from tests import control_cases as cc
from tests import golden_cases as gc
from tests import loop_cases as lc
from tests.test_control_flow import CASES as CONTROL_CASES
from tests.test_primitives import CASES as PRIMITIVE_CASES
from tests.test_primitives import _case_id

ROOT = Path(__file__).resolve().parent.parent
CASES_FILE = ROOT / "symdiff" / "symbolic" / "cases.py"
TOL = {"rtol": 1e-9, "atol": 1e-12}
rng = np.random.default_rng(5)


def R(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


def assert_same_gradient(fn, args, argnums):
    got = sym.gradient(fn, argnums=argnums)(*args)
    want = sd.grad(fn, argnums=argnums, backend="python")(*args)
    if not isinstance(argnums, tuple):
        got, want = (got,), (want,)
    assert len(got) == len(want)
    for k, g, w in zip(argnums if isinstance(argnums, tuple) else (argnums,), got, want,
                       strict=True):
        assert np.shape(g) == np.shape(args[k])
        np.testing.assert_allclose(g, w, **TOL)


# ------------------------------------------------------------------ the package


def test_import_symdiff_does_not_import_sympy():
    code = ("import sys, numpy as np, symdiff, symdiff.cli\n"
            "from symdiff.ir.registry import lookup\n"
            "lookup('reduce').sympy  # the registry's forms import the symbolic path lazily\n"
            "print('sympy' in sys.modules)\n"
            "import symdiff.symbolic\n"
            "print('sympy' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "True"]


def test_every_op_has_a_sympy_form():
    """Rules are data: each primitive's SymPy form is in the registry (loops are unrolled
    by the interpreter itself)."""
    missing = [name for name, d in REGISTRY.items()
               if d.sympy is None and name not in ("for", "while")]
    assert missing == []


# ------------------------------------------------------------------ to_sympy


def test_logistic_map_as_an_expression():
    s = sym.to_sympy(cases.logistic_map, 0.3, 2)
    x = sp.Symbol("x", real=True)
    assert s.inputs == {"x": x, "n": 2}
    assert sp.expand(s.output - 16 * x * (1 - x) * (1 - 4 * x * (1 - x))) == 0
    assert "n = 2" in str(s) and "return 16*x*(1 - x)" in str(s)


def test_arrays_become_symbols_and_integers_constants():
    s = sym.to_sympy(cc.int_in_one_branch, 0.5, 3)   # k = n * 2 when n > 2
    assert s.output == 6 * sp.Symbol("x", real=True)
    s = sym.to_sympy(gc.softmax_regression, R(3, 2), R(2), R(4, 3), np.array([0, 1, 1, 0]))
    assert s.inputs["W"].shape == (3, 2)
    assert str(s.inputs["W"][1, 0]) == "W[1,0]"
    assert list(s.inputs["y"]) == [0, 1, 1, 0]
    assert len(s.symbols("X")) == 12 and s.symbols("y") == []
    assert len(s.all_symbols()) == 6 + 2 + 12


def test_symbolic_condition_becomes_piecewise():
    s = sym.to_sympy(gc.branchy, 0.3, 0.7)
    assert s.output.has(sp.Piecewise)
    x, t = sp.symbols("x t", real=True)
    assert s.output.subs({x: 2.0, t: 0.7}) == pytest.approx(2.8)
    assert s.output.subs({x: 2.0, t: 0.2}) == pytest.approx(-0.4)


def test_array_output_and_tuple_returns():
    def pair(x, y):
        return x * y, np.sin(x) + y

    s = sym.to_sympy(pair, R(2), 0.5)
    assert s.returns_tuple and len(s.outputs) == 2
    assert isinstance(s.outputs[0], sp.Array) and s.outputs[0].shape == (2,)


# ------------------------------------------------------------------ gradient == sd.grad


@pytest.mark.parametrize("case", PRIMITIVE_CASES, ids=[_case_id(c) for c in PRIMITIVE_CASES])
def test_gradient_equals_grad_on_primitives(case):
    fn, make, argnums = case
    assert_same_gradient(fn, make(), argnums)


@pytest.mark.parametrize("case", CONTROL_CASES, ids=[f"{c[0].__name__}-{k}"
                                                     for k, c in enumerate(CONTROL_CASES)])
def test_gradient_equals_grad_on_branches_and_writes(case):
    fn, args, argnums = case
    assert_same_gradient(fn, args, argnums)


def _mlp(W1, b1, W2, b2, X, y):
    return nn.cross_entropy(nn.tanh(X @ W1 + b1) @ W2 + b2, y)


def _regression(w, b, X, y):
    return nn.mse(X @ w + b, y) + nn.huber(X @ w, y) + nn.l1(w, 0.1 * y[:3])


def _logistic(w, X, y):
    return nn.bce(nn.sigmoid(X @ w), y) + nn.bce_with_logits(X @ w, y) + nn.hinge(X @ w, 2 * y - 1)


MODEL_CASES = [
    (gc.logistic_loss, (R(3), R(5, 3), (R(5) > 0) * 1.0), 0),
    (gc.rosenbrock, (R(6),), 0),
    (gc.softmax_regression, (R(3, 2), R(2), R(4, 3), np.array([0, 1, 1, 0])), (0, 1)),
    (gc.branchy, (0.3, 0.7), (0, 1)),
    (gc.branch_and_write, (R(3), 0.4), (0, 1)),
    (gc.branch_and_write, (R(3), -0.4), (0, 1)),
    (gc.recurrence, (R(4),), 0),
    (gc.oscillator, (4.0, 0.3, 1.0, 0.0, 0.1, np.cos(0.2 * np.arange(4))), (0, 1)),
    (_mlp, (R(3, 4), R(4), R(4, 2), R(2), R(3, 3), np.array([0, 1, 1])), (0, 1, 2, 3)),
    (_regression, (R(3), 0.2, R(5, 3), R(5)), (0, 1)),
    (_logistic, (R(3), R(4, 3), np.array([0.0, 1.0, 1.0, 0.0])), 0),
    (lc.range_n, (R(6), 4), 0),
    (lc.nested_triangular, (R(4),), 0),
    (lc.write_rows, (R(3, 4), R(4)), (0, 1)),
    (lc.rnn, (0.5 * R(3, 2), 0.3 * R(3, 3), 0.1 * R(3), R(3, 2), R(3)), (0, 1, 2)),
    (cases.mlp_stack, (R(2), R(3, 2, 2), R(3, 2)), (0, 1, 2)),
]


@pytest.mark.parametrize("case", MODEL_CASES,
                         ids=[f"{c[0].__name__}-{k}" for k, c in enumerate(MODEL_CASES)])
def test_gradient_equals_grad_on_models_and_loops(case):
    fn, args, argnums = case
    assert_same_gradient(fn, args, argnums)


def test_gradient_specializes_on_integer_values_and_shapes():
    g = sym.gradient(cases.logistic_map)
    assert g(0.3, 3) == pytest.approx(sd.grad(cases.logistic_map)(0.3, 3), rel=1e-12)
    assert g(0.3, 4) == pytest.approx(sd.grad(cases.logistic_map)(0.3, 4), rel=1e-12)
    p = sym.gradient(cases.product)
    np.testing.assert_allclose(p(np.array([2.0, 3.0])), [3.0, 2.0])
    np.testing.assert_allclose(p(np.array([2.0, 3.0, 4.0])), [12.0, 8.0, 6.0])
    assert len(g._table) == 2 and len(p._table) == 2
    assert isinstance(g(0.3, 3), float)


def test_gradient_refuses_what_grad_refuses():
    with pytest.raises(sd.SymdiffError, match="integer"):
        sym.gradient(cases.logistic_map, argnums=1)(0.3, 3)
    with pytest.raises(sd.SymdiffError, match="one float scalar"):
        sym.gradient(lambda_free_vector)(R(3))


def lambda_free_vector(x):
    return x * 2.0


# ------------------------------------------------------------------ refusals


def test_while_with_a_float_condition_is_refused_at_its_line():
    with pytest.raises(sym.SymbolicError) as info:
        sym.to_sympy(gc.newton_sqrt, 2.0)
    e = info.value
    assert isinstance(e, sd.SymdiffError)
    assert e.loc is not None and e.loc.line == gc.newton_sqrt.__code__.co_firstlineno + 4
    assert "while abs(step)" in str(e) and "data-dependent" in str(e)


def test_while_with_an_integer_condition_is_unrolled():
    def count(x, n):
        i = 0
        s = x
        while i < n:
            s = s * x
            i += 1
        return s

    s = sym.to_sympy(count, 0.5, 3)
    assert s.output == sp.Symbol("x", real=True) ** 4


def test_large_arrays_are_refused():
    def big_intermediate(x):
        return np.sum(np.zeros(300) + x)

    with pytest.raises(sym.SymbolicError, match="argument 'x' has shape .300,. .*256"):
        sym.to_sympy(gc.rosenbrock, np.ones(300))
    with pytest.raises(sym.SymbolicError, match="300 elements") as info:
        sym.to_sympy(big_intermediate, 0.5)
    assert "np.zeros(300)" in str(info.value)  # the line that made it


def test_unrolling_beyond_the_op_budget_is_refused(monkeypatch):
    monkeypatch.setattr(sym.interpret, "MAX_OPS", 1000)
    with pytest.raises(sym.SymbolicError, match="more than 1000 ops"):
        sym.to_sympy(cases.logistic_map, 0.3, 1000)


def test_an_expression_too_large_for_diff_is_refused(monkeypatch):
    monkeypatch.setattr(sym.core, "MAX_TREE_NODES", 10_000)
    sym.gradient(cases.logistic_map)(0.3, 8)
    with pytest.raises(sym.SymbolicError, match="expression swell"):
        sym.gradient(cases.logistic_map)(0.3, 14)


# ------------------------------------------------------------------ swell


def test_swell_report_fields_and_table():
    r = sym.swell(cases.logistic_map, 0.3, 6)
    for name in ("primal_ops", "ad_ops", "primal_ops_run", "ad_ops_run", "primal_sympy_ops",
                 "symbolic_ops", "symbolic_cse_ops"):
        assert isinstance(getattr(r, name), int), name
    for name in ("ad_seconds", "to_sympy_seconds", "symbolic_seconds", "cse_seconds"):
        assert getattr(r, name) >= 0.0
    ir = sd.show_ir(cases.logistic_map, "grad", args=(0.3, 6))
    assert r.ad_ops == sum(1 for line in ir.splitlines()
                           if " = " in line and " = const " not in line)
    text = str(r)
    assert "symdiff adjoint IR" in text and "after sympy.cse" in text and str(r.symbolic_ops) in text


def _sweep(fn, make, ns, argnums=0):
    return [sym.swell(fn, *make(n), argnums=argnums) for n in ns]


def test_logistic_map_swells_exponentially_while_the_adjoint_grows_linearly():
    ns = list(range(1, 9))
    rs = _sweep(cases.logistic_map, lambda n: (0.3, n), ns)
    sym_ops = [r.symbolic_ops for r in rs]
    assert all(b > 1.5 * a for a, b in zip(sym_ops, sym_ops[1:], strict=False)), sym_ops
    ad = [r.ad_ops for r in rs]
    assert max(ad) - min(ad) == 0                       # the same loop code for every n
    run = [r.ad_ops_run for r in rs]
    steps = {b - a for a, b in zip(run, run[1:], strict=False)}
    assert len(steps) == 1 and steps.pop() <= 20        # a bounded amount per step
    assert rs[-1].symbolic_ops > 50 * rs[-1].ad_ops_run
    assert all(r.symbolic_cse_ops < r.symbolic_ops for r in rs[1:])


def test_nested_sin_tanh_swells_quadratically():
    ns = list(range(1, 9))
    rs = _sweep(cases.nested_sin_tanh, lambda n: (0.3, n), ns)
    s = [r.symbolic_ops for r in rs]
    second = [c - 2 * b + a for a, b, c in zip(s, s[1:], s[2:], strict=False)]
    assert all(d > 0 for d in second), s               # superlinear
    run = [r.ad_ops_run for r in rs]
    assert len({b - a for a, b in zip(run, run[1:], strict=False)}) == 1   # linear


def test_product_gradient_is_quadratic_symbolically_and_linear_in_ad():
    rs = _sweep(cases.product, lambda n: (np.linspace(0.5, 1.5, n),), [8, 16])
    assert rs[1].symbolic_ops > 4 * rs[0].symbolic_ops
    assert rs[1].ad_ops_run < 2 * rs[0].ad_ops_run


def test_mlp_stack_swells_with_depth():
    d = 2
    rs = _sweep(cases.mlp_stack, lambda n: (R(d), R(n, d, d), R(n, d)), [1, 2, 3, 4])
    s = [r.symbolic_ops for r in rs]
    assert all(b > 2.5 * a for a, b in zip(s, s[1:], strict=False)), s
    run = [r.ad_ops_run for r in rs]
    assert len({b - a for a, b in zip(run, run[1:], strict=False)}) == 1


def test_swell_table_has_one_row_per_report():
    rs = _sweep(cases.logistic_map, lambda n: (0.3, n), [1, 2])
    table = sym.swell_table(rs, "n", [1, 2])
    lines = table.splitlines()
    assert lines[0].startswith("| n ") and "symbolic_ops" in lines[0] and len(lines) == 4


# ------------------------------------------------------------------ the adjoint IR run on numbers


NUMERIC_CASES = [
    (gc.oscillator, (4.0, 0.3, 1.0, 0.0, 0.1, np.cos(0.2 * np.arange(6))), (0, 1)),
    (gc.recurrence, (R(5),), (0,)),
    (gc.newton_sqrt, (2.0,), (0,)),                       # a growable tape
    (lc.write_rows, (R(3, 4), R(4)), (0, 1)),
    (lc.while_array_carried, (R(4),), (0,)),
    (gc.softmax_regression, (R(3, 2), R(2), R(4, 3), np.array([0, 1, 1, 0])), (0, 1)),
]


@pytest.mark.parametrize("case", NUMERIC_CASES, ids=[c[0].__name__ for c in NUMERIC_CASES])
def test_adjoint_ir_interpreted_on_numbers_gives_the_gradient(case):
    fn, args, argnums = case
    kinds = kinds_of(fn, args)
    adjoint = build(fn, kinds, Transform("grad", argnums, True)).function
    values, ops = run_numeric(adjoint, kinds, parameter_names(fn), args)
    want = sd.grad(fn, argnums=argnums, backend="python")(*args)
    assert ops > 0
    for v, w in zip(values, want, strict=True):
        got = np.array(v.tolist() if isinstance(v, np.ndarray) else v, dtype=float)
        np.testing.assert_allclose(got, w, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ command line


def test_cli_swell_prints_the_table(capsys):
    code = main(["swell", f"{CASES_FILE}::logistic_map", "--args", "x=0.3, n=6"])
    out = capsys.readouterr().out
    assert code == 0
    assert "swell of logistic_map(x=0.3, n=6)" in out and "| SymPy derivative (diff) | 2096 |" in out


def test_cli_swell_sweep(capsys):
    code = main(["swell", f"{CASES_FILE}::logistic_map", "--args", "x=0.3, n=9",
                 "--sweep", "n=1..3"])
    out = capsys.readouterr().out
    assert code == 0
    rows = [line for line in out.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [r.split("|")[1].strip() for r in rows] == ["1", "2", "3"]


def test_cli_show_ir_sympy_stage(capsys):
    code = main(["show-ir", f"{CASES_FILE}::logistic_map", "--stage", "sympy",
                 "--args", "x=0.3, n=2"])
    out = capsys.readouterr().out
    assert code == 0 and "return 16*x*(1 - x)" in out


def test_cli_refusals_and_usage_errors(capsys):
    code = main(["swell", f"{ROOT / 'tests' / 'golden_cases.py'}::newton_sqrt", "--args", "a=2.0"])
    err = capsys.readouterr().err
    assert code == 1 and "golden_cases.py:" in err and "data-dependent" in err
    code = main(["swell", f"{CASES_FILE}::logistic_map", "--args", "x=0.3", "--sweep", "n=a..b"])
    assert code == 2 and "--sweep" in capsys.readouterr().err


# ------------------------------------------------------------------ docs and example


def test_the_logistic_table_in_the_docs_is_what_swell_measures():
    text = (ROOT / "docs" / "symbolic.md").read_text()
    block = text.split("--sweep n=1..10\n```\n\n```\n", 1)[1].split("```", 1)[0]
    lines = [line for line in block.splitlines() if line.startswith("| ")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines[1:]]
    assert [int(r[0]) for r in rows] == list(range(1, 11))
    for row in rows[:8]:
        report = sym.swell(cases.logistic_map, 0.3, int(row[0]))
        for name, cell in zip(header[1:], row[1:], strict=True):
            if not name.endswith("seconds"):
                assert getattr(report, name) == int(cell), (row[0], name)


def test_the_swell_example_runs(capsys):
    import importlib.util
    spec = importlib.util.spec_from_file_location("swell_example", ROOT / "examples" / "swell.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--quick"])
    out = capsys.readouterr().out
    assert out.count("### ") == 4 and out.count("symbolic_ops") == 4
