"""check_grad and `symdiff check`: agreement, a deliberately wrong gradient, the report,
and the command line with --args / --sig."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest

import symdiff
from symdiff import check as check_module
from symdiff.check import TOLERANCES, GradCheck, check_grad
from symdiff.cli import main
from symdiff.cli_args import ArgumentTextError, build_arguments, convert, parse_values
from symdiff.ir.types import Type
from symdiff.numeric import ComplexStepError

BACKEND = "python"  # no Numba compile in these tests; the numba path is run by the CLI test


def softmax_ce(W, b, X, labels):
    z = X @ W + b
    z = z - np.max(z, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(z), axis=1))
    picked = z[np.arange(X.shape[0]), labels]
    return np.mean(lse - picked)


def logistic(w, X, y):
    z = X @ w
    return np.mean(np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z))))


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 4))
    return (rng.standard_normal((4, 3)), rng.standard_normal(3), X, rng.integers(0, 3, 20))


@pytest.fixture
def wrong_gradient(monkeypatch):
    """symdiff's value_and_grad with an error added at ``index`` of the ``which``-th gradient
    it returns."""
    def install(which: int, index: tuple[int, ...], error: float) -> None:
        real = check_module.value_and_grad

        def broken(fn, argnums, backend):
            vg = real(fn, argnums, backend=backend)

            def call(*args):
                value, grads = vg(*args)
                grads = list(grads) if isinstance(grads, tuple) else [grads]
                g = np.array(grads[which], dtype=np.float64)
                g[index] += error
                grads[which] = g
                return value, tuple(grads) if len(grads) > 1 else grads[0]
            return call
        monkeypatch.setattr(check_module, "value_and_grad", broken)
    return install


@pytest.mark.parametrize("method", ["forward", "central", "richardson", "complex"])
def test_a_correct_gradient_passes(data, method):
    report = check_grad(softmax_ce, *data, argnums=(0, 1), method=method, backend=BACKEND)
    assert report.ok, report
    assert report.max_abs_error < TOLERANCES[method]
    assert report.names == ("W", "b")
    assert report.rtol == report.atol == TOLERANCES[method]


@pytest.mark.parametrize("method", ["forward", "central", "richardson", "complex"])
def test_a_wrong_gradient_is_caught(data, wrong_gradient, method):
    wrong_gradient(0, (2, 1), 1e-3)
    report = check_grad(softmax_ce, *data, argnums=(0, 1), method=method, backend=BACKEND)
    assert not report.ok
    assert report.worst == ("W", (2, 1))
    assert report.worst_argument == "W" and report.worst_index == (2, 1)
    assert report.max_abs_error == pytest.approx(1e-3, rel=1e-3)
    assert "GRADIENTS DISAGREE" in str(report) and "worst coordinate W[2, 1]" in str(report)


def test_the_tolerance_follows_the_method(data, wrong_gradient):
    """An error of 1e-6 (relative) is inside forward differences' reach, not central's."""
    wrong_gradient(0, (0,), 1e-6)
    kw = dict(argnums=1, backend=BACKEND)
    assert check_grad(softmax_ce, *data, method="forward", **kw).ok
    report = check_grad(softmax_ce, *data, method="central", **kw)
    assert not report.ok and report.worst == ("b", (0,))
    assert check_grad(softmax_ce, *data, method="central", rtol=1e-5, **kw).ok


def scaled_square(a, x):
    return a * np.sum(x * x)


def sin_x(x):
    return np.sum(np.sin(x) * x)


def test_a_scalar_argument_has_the_empty_index(wrong_gradient):
    wrong_gradient(0, (), 0.5)
    report = check_grad(scaled_square, 2.0, np.ones(3), backend=BACKEND)
    assert report.worst == ("a", ()) and not report.ok
    assert "worst coordinate a:" in str(report)


def test_a_nan_gradient_never_passes(wrong_gradient, data):
    wrong_gradient(0, (0, 0), np.nan)
    report = check_grad(softmax_ce, *data, backend=BACKEND)
    assert not report.ok and report.worst == ("W", (0, 0))
    assert np.isnan(report.max_abs_error)


def test_the_report_prints_as_a_table(data):
    report = check_grad(softmax_ce, *data, argnums=(0, 1), backend=BACKEND)
    text = str(report)
    lines = text.splitlines()
    assert lines[0].startswith("softmax_ce = ") and "gradient in W, b" in lines[0]
    assert "central differences" in lines[0]
    assert lines[1].split() == ["argument", "index", "symdiff", "central", "abs", "error", "rel",
                                "error"]
    assert len(lines) == 2 + 8 + 2  # header, column names, 8 worst, "... and N more", verdict
    assert "... and 7 more coordinate(s)" in text
    assert lines[-1].startswith("max abs error") and lines[-1].endswith(": ok")
    assert len(report.table(max_rows=20).splitlines()) == 2 + 15 + 1
    assert repr(report).startswith("<GradCheck softmax_ce vs central: max abs error")
    rows = report.rows()
    assert len(rows) == 15 and {r[0] for r in rows} == {"W", "b"}


def test_max_rel_error_is_relative_to_the_gradients_size():
    report = GradCheck("f", "central", ("x",), (np.array([1.0, 1e-9]),),
                       (np.array([1.0 + 1e-8, 2e-9]),), value=0.0, rtol=1e-7, atol=1e-7)
    assert report.max_abs_error == pytest.approx(1e-8)
    assert report.max_rel_error == pytest.approx(1e-8)
    assert report.ok


def test_complex_step_refuses_abs(data):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 3))
    with pytest.raises(ComplexStepError, match="np.abs"):
        check_grad(logistic, np.zeros(3), X, (X[:, 0] > 0) * 1.0, method="complex",
                   backend=BACKEND)


def test_the_numba_backend_by_default():
    report = check_grad(sin_x, np.linspace(0, 1, 5))
    assert report.ok


def test_package_exports_check_grad():
    if not hasattr(symdiff, "check_grad"):
        pytest.skip("symdiff.check_grad is not exported yet")
    assert symdiff.check_grad is check_grad


# --------------------------------------------------------------------------- --args parsing

def test_parse_values():
    assert parse_values("0.3, n=6, w=[1, 2.5], X=[[1, 2], [3, 4]], flag=True, e=-1e-3") == (
        [0.3], {"n": 6, "w": [1, 2.5], "X": [[1, 2], [3, 4]], "flag": True, "e": -1e-3})


@pytest.mark.parametrize("text, message", [
    ("x=", "cannot read"),
    ("x=foo", "not a Python literal"),
    ("x=np.ones(3)", "not a Python literal"),
    ("n=6, 0.3", "positional argument follows keyword argument"),
    ("x=1, x=2", "given twice"),
    ("**d", "not allowed"),
])
def test_parse_values_errors(text, message):
    with pytest.raises(ArgumentTextError, match=message):
        parse_values(text)


def test_convert_follows_the_kind():
    assert convert(1, Type("f64"), "x") == 1.0 and isinstance(convert(1, Type("f64"), "x"), float)
    a = convert([1, 2], Type("f64", 1), "w")
    assert a.dtype == np.float64 and a.tolist() == [1.0, 2.0]
    assert convert([0, 2], Type("i64", 1), "labels").dtype == np.int64
    assert convert([1, 2], None, "w").dtype == np.int64
    assert convert([1, 2], None, "w", as_float=True).dtype == np.float64
    assert convert(3, None, "x", as_float=True) == 3.0
    for value, kind, message in [(1.0, Type("f64", 1), "a number was given"),
                                 (2.5, Type("i64"), "give integers"),
                                 ([[1], [2, 3]], None, "not a rectangular array"),
                                 (True, Type("f64"), "not a boolean"),
                                 ("s", None, "not a number")]:
        with pytest.raises(ArgumentTextError, match=message):
            convert(value, kind, "x")


def annotated(w: "f64[:]", X, n: int, labels: "i64[:]", eps=1e-3):  # noqa: F821, UP037
    return 0.0


def test_build_arguments():
    bound = build_arguments(annotated, "X=[[1.0, 2.0], [3.0, 4.0]]", seed=1, size=3, floats={0})
    w, X, n, labels, eps = bound.values
    assert w.shape == (3,) and w.dtype == np.float64
    assert X.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert 1 <= n <= 3 and isinstance(n, int)
    assert labels.dtype == np.int64 and labels.shape == (3,) and labels.min() >= 0 and labels.max() < 3
    assert eps == 1e-3
    assert bound.origins == ("random", "given", "random", "random", "default")
    assert bound.describe() == (f"w=f64[3], X=f64[2,2], n={n}, labels=i64[3], eps=0.001 "
                                "(random: w, n, labels; --seed 1)")
    again = build_arguments(annotated, "X=[[1.0, 2.0], [3.0, 4.0]]", seed=1, size=3, floats={0})
    np.testing.assert_array_equal(again.values[0], w)
    sig = build_arguments(annotated, "X=0.5", "w=f64[:,:]", size=2)
    assert sig.values[0].shape == (2, 2)


@pytest.mark.parametrize("args, sig, message", [
    (None, None, "no value for parameter 'X'"),
    ("X=1.0, q=3", None, "has no parameter 'q'"),
    ("1, 2, 3, 4, 5, 6", None, "takes 5 argument"),
    ("[1.0], X=1.0, w=[2.0]", None, "'w' is given twice"),
    ("X=1.0", "X=f32", "bad kind for 'X'"),
])
def test_build_arguments_errors(args, sig, message):
    with pytest.raises(ArgumentTextError, match=message):
        build_arguments(annotated, args, sig)


# --------------------------------------------------------------------------- the command

MODEL = textwrap.dedent('''\
    import math

    import numpy as np

    import symdiff as sd


    def loss(w: "f64[:]", b: float, X: "f64[:,:]", y: "f64[:]"):
        z = X @ w + b
        return np.mean(np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z))))


    def energy(x, n):
        total = 0.0
        for k in range(1, n + 1):
            total += np.sin(k * x) / k
        return total


    def cast(x: float):
        return math.exp(x)


    @sd.grad(argnums=1)
    def second(a: float, x: float):
        return a * x ** 3
''')


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "symdiff_check_model.py"
    path.write_text(MODEL)
    saved = list(sys.path)
    yield path
    sys.path[:] = saved
    for name in [n for n in sys.modules if n == path.stem or n.startswith("_symdiff_cli_")]:
        del sys.modules[name]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_check_with_args(model, capsys):
    code, out, err = run(capsys, "check", f"{model}::energy", "--args", "x=0.3, n=6",
                         "--backend", "python")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "at x=0.3, n=6"
    assert lines[1].startswith("energy = ") and "central differences" in lines[1]
    assert lines[-1].endswith("worst coordinate x: ok")


def test_check_with_random_inputs_is_reproducible(model, capsys):
    argv = ("check", f"{model}::loss", "--wrt", "w,b", "--seed", "7", "--size", "5",
            "--method", "richardson")
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert out.splitlines()[0] == "at w=f64[5], b=" + out.splitlines()[0].split("b=")[1]
    assert "X=f64[5,5], y=f64[5] (random: w, b, X, y; --seed 7)" in out
    assert "gradient in w, b" in out and "Richardson" in out
    assert run(capsys, *argv)[1] == out
    assert run(capsys, *argv[:-4], "--seed", "8")[1] != out


def test_check_exits_1_when_the_gradient_disagrees(model, capsys, wrong_gradient):
    wrong_gradient(0, (1,), 0.01)
    code, out, err = run(capsys, "check", f"{model}::loss", "--backend", "python")
    assert code == 1
    assert "GRADIENTS DISAGREE" in out and "worst coordinate w[1]" in out


def test_check_uses_the_decorators_argnums(model, capsys):
    code, out, err = run(capsys, "check", f"{model}::second", "--args", "a=2.0, x=0.5",
                         "--backend", "python")
    assert code == 0, err
    assert "gradient in x" in out


@pytest.mark.parametrize("argv, message", [
    (("--args", "x=0.3"), "no value for parameter 'n'"),
    (("--args", "x=0.3, n=foo"), "not a Python literal"),
    (("--args", "x=0.3, n=6", "--wrt", "q"), "has no parameter 'q'"),
    (("--args", "x=0.3, n=6", "--wrt", "5"), "out of range"),
    (("--args", "x=0.3, n=6", "--method", "backward"), "invalid choice"),
])
def test_check_usage_errors_exit_2(model, capsys, argv, message):
    code, out, err = run(capsys, "check", f"{model}::energy", *argv)
    assert code == 2
    assert message in err and out == ""
    assert err.splitlines()[-1].startswith("symdiff check: error:")


def test_check_reports_the_users_own_error(model, capsys):
    code, out, err = run(capsys, "check", f"{model}::loss", "--args", "w=[1.0, 2.0]")
    assert code == 1
    assert "loss fails at w=f64[2]" in err and "ValueError" in err
    assert "symdiff/" not in err  # the user's traceback only


def test_check_complex_step_refusal_exits_1(model, capsys):
    code, out, err = run(capsys, "check", f"{model}::cast", "--args", "0.5", "--method", "complex")
    assert code == 1
    assert "converts a complex value to a real one" in err


def test_check_help(capsys):
    code, out, _ = run(capsys, "check", "--help")
    assert code == 0
    assert "--args" in out and "richardson" in out and "exit status" in out
    code, out, _ = run(capsys, "--help")
    assert "check" in out
