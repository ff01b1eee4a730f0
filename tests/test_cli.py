"""The `symdiff` command: `main([...])` in-process, plus one run of the installed command."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import symdiff
from symdiff import cli
from symdiff.cli import highlight, main, use_color

ANSI = re.compile(r"\x1b\[[0-9;]*m")

EXAMPLE = textwrap.dedent('''\
    import numpy as np

    import symdiff as sd


    def loss(w: "f64[:]", X: "f64[:,:]", t: float):
        r = X @ w  # residuals
        return np.sum(r * r) * t


    def plain(x, W, n):
        y = W @ x
        return np.sum(np.tanh(y)) * n


    def refused(x: float):
        try:
            return x * 2.0
        except ValueError:
            return 0.0


    @sd.grad
    def decorated(x: float):
        return x * x


    NOT_A_FUNCTION = 3
''')

STEM = "symdiff_cli_example"


@pytest.fixture
def example(tmp_path):
    """The example module written to a fresh directory; sys.path and sys.modules restored."""
    path = tmp_path / f"{STEM}.py"
    path.write_text(EXAMPLE)
    saved_path = list(sys.path)
    yield path
    sys.path[:] = saved_path
    for name in [n for n in sys.modules if n == STEM or n.startswith("_symdiff_cli_")]:
        del sys.modules[name]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- stages

def test_stage_ast(example, capsys):
    code, out, err = run(capsys, "show-ir", f"{example}::loss", "--stage", "ast")
    assert code == 0, err
    assert "FunctionDef(" in out and "name='loss'" in out


def test_stage_ir_is_the_default(example, capsys):
    code, out, err = run(capsys, "show-ir", f"{example}::loss")
    assert code == 0, err
    assert "func loss(" in out
    assert "# line 7" in out  # `r = X @ w` is line 7 of the example
    assert "_bar" not in out
    code, out2, _ = run(capsys, "show-ir", f"{example}::loss", "--stage", "ir")
    assert code == 0 and out2 == out


def test_stage_grad(example, capsys):
    code, out, err = run(capsys, "show-ir", f"{example}::loss", "--stage", "grad")
    assert code == 0, err
    assert "func loss_grad(" in out
    assert "w_bar" in out


def test_stage_python(example, capsys):
    code, out, err = run(capsys, "show-ir", f"{example}::loss", "--stage", "python")
    assert code == 0, err
    assert "@numba.njit" in out
    assert "# line 7: r = X @ w" in out
    assert "def loss_grad(" in out
    compile(out, "<generated>", "exec")  # valid Python


def test_stage_numpy(example, capsys):
    code, out, err = run(capsys, "show-ir", f"{example}::loss", "--stage", "numpy")
    assert code == 0, err
    assert "def loss_grad(" in out and "# line" in out
    assert "numba" not in out
    compile(out, "<generated>", "exec")


def test_args_give_the_kinds_and_the_equal_lengths(example, capsys):
    """--args on a code stage shows what a call with such arguments compiles: x and W's
    columns have one length (3), so the code assumes it and says so."""
    code, out, err = run(capsys, "show-ir", f"{example}::plain", "--stage", "python",
                         "--args", "x=[0.1, 0.2, 0.3], W=[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], n=2")
    assert code == 0, err
    assert out.startswith("# assumed equal dimensions: W.shape[1] == x.shape[0]"), out[:200]
    assert "def plain_grad(x, W, n):" in out
    code, out, err = run(capsys, "show-ir", f"{example}::plain", "--stage", "python",
                         "--sig", "x=f64[:], W=f64[:,:], n=i64")
    assert code == 0 and "assumed" not in out


def test_decorated_function_is_unwrapped(example, capsys):
    code, out, err = run(capsys, "show-ir", f"{example}::decorated")
    assert code == 0, err
    assert "func decorated(x: f64)" in out


def test_relative_path(example, capsys, monkeypatch):
    monkeypatch.chdir(example.parent)
    code, out, err = run(capsys, "show-ir", f"{example.name}::loss")
    assert code == 0, err
    assert "func loss(" in out


# --------------------------------------------------------------------------- kinds and wrt

def test_annotations_give_the_kinds(example, capsys):
    code, out, err = run(capsys, "show-ir", f"{example}::loss")
    assert code == 0, err
    assert "func loss(w: f64[:], X: f64[:,:], t: f64)" in out


@pytest.mark.parametrize("sig", ["x=f64[:], W=f64[:,:], n=i64",
                                 "f64[:], f64[:,:], i64",
                                 "n=int, W=f64[:,:], x=float64[:]"])
def test_sig(example, capsys, sig):
    code, out, err = run(capsys, "show-ir", f"{example}::plain", "--sig", sig)
    assert code == 0, err
    assert "func plain(x: f64[:], W: f64[:,:], n: i64)" in out


def test_sig_overrides_annotations(example, capsys):
    code, out, err = run(capsys, "show-ir", f"{example}::loss", "--sig", "t=i64")
    assert code == 0, err
    assert "func loss(w: f64[:], X: f64[:,:], t: i64)" in out


def test_missing_kinds_is_an_error(example, capsys):
    code, out, err = run(capsys, "show-ir", f"{example}::plain")
    assert code == 1
    assert "--sig" in err and "Traceback" not in err and out == ""


def test_bad_sig_is_an_error(example, capsys):
    code, _, err = run(capsys, "show-ir", f"{example}::plain", "--sig", "x=f65, W=f64[:,:], n=i64")
    assert code == 1
    assert "f65" in err and "Traceback" not in err


def test_wrt_by_name(example, capsys):
    sig = "x=f64[:], W=f64[:,:], n=i64"
    code, out, err = run(capsys, "show-ir", f"{example}::plain", "--stage", "grad",
                         "--sig", sig, "--wrt", "W")
    assert code == 0, err
    assert "W_bar" in out
    assert out.splitlines()[0].endswith("-> (f64[:,:]) {")


def test_wrt_several_names_and_positions(example, capsys):
    sig = "x=f64[:], W=f64[:,:], n=i64"
    code, by_name, err = run(capsys, "show-ir", f"{example}::plain", "--stage", "grad",
                             "--sig", sig, "--wrt", "W,x")
    assert code == 0, err
    assert by_name.splitlines()[0].endswith("-> (f64[:,:], f64[:]) {")
    code, by_pos, err = run(capsys, "show-ir", f"{example}::plain", "--stage", "grad",
                            "--sig", sig, "--wrt", "1, 0")
    assert code == 0, err
    assert by_pos == by_name


def test_wrt_unknown_name(example, capsys):
    code, _, err = run(capsys, "show-ir", f"{example}::loss", "--stage", "grad", "--wrt", "zz")
    assert code == 1
    assert "zz" in err


def test_parse_wrt():
    assert cli.parse_wrt(None) is None
    assert cli.parse_wrt("w") == "w"
    assert cli.parse_wrt("2") == 2
    assert cli.parse_wrt("w, 1") == ("w", 1)


# --------------------------------------------------------------------------- errors

def test_unsupported_construct_exits_1_with_location(example, capsys):
    code, out, err = run(capsys, "show-ir", f"{example}::refused")
    assert code == 1
    assert out == ""
    line = EXAMPLE.splitlines().index("    try:") + 1
    assert f"{example}:{line}:" in err
    assert "try:" in err and "^" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("target, message", [
    ("{path}::nope", "no function 'nope'"),
    ("{path}::NOT_A_FUNCTION", "not a function"),
    ("{path}", "FILE::FUNC"),
    ("{path}::", "FILE::FUNC"),
    ("{dir}/missing.py::loss", "no such file"),
])
def test_usage_errors_exit_2(example, capsys, target, message):
    target = target.format(path=example, dir=example.parent)
    code, out, err = run(capsys, "show-ir", target)
    assert code == 2
    assert message in err and out == ""


def test_missing_function_lists_the_functions(example, capsys):
    code, _, err = run(capsys, "show-ir", f"{example}::nope")
    assert code == 2
    assert "loss" in err and "plain" in err


def test_bad_option_exits_2(example, capsys):
    code, _, err = run(capsys, "show-ir", f"{example}::loss", "--stage", "bogus")
    assert code == 2
    assert "invalid choice" in err


def test_bad_wrt_exits_2(example, capsys):
    code, _, err = run(capsys, "show-ir", f"{example}::loss", "--wrt", "a b")
    assert code == 2
    assert "--wrt" in err


def test_no_command_exits_2(capsys):
    code, _, err = run(capsys)
    assert code == 2
    assert "show-ir" in err


def test_file_that_fails_to_import(tmp_path, capsys):
    path = tmp_path / "symdiff_cli_broken.py"
    path.write_text("import numpy as np\n\nraise RuntimeError('boom')\n")
    saved = list(sys.path)
    try:
        code, _, err = run(capsys, "show-ir", f"{path}::f")
    finally:
        sys.path[:] = saved
    assert code == 1
    assert "boom" in err and f"{path}" in err and "importlib" not in err
    assert "symdiff_cli_broken" not in sys.modules


# --------------------------------------------------------------------------- help, color

def test_help(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "show-ir" in out and "examples:" in out


def test_show_ir_help(capsys):
    code, out, _ = run(capsys, "show-ir", "--help")
    assert code == 0
    for text in ("ast", "grad", "numpy", "--sig", "x=f64[:], W=f64[:,:], n=i64", "--wrt",
                 "examples:", "symdiff show-ir model.py::loss"):
        assert text in out


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert symdiff.__version__ in out


def test_no_color_when_not_a_tty(example, capsys):
    for stage in ("ir", "grad", "python"):
        code, out, _ = run(capsys, "show-ir", f"{example}::loss", "--stage", stage)
        assert code == 0
        assert "\x1b" not in out


def test_color_always(example, capsys):
    code, plain, _ = run(capsys, "show-ir", f"{example}::loss", "--stage", "python")
    code, colored, _ = run(capsys, "show-ir", f"{example}::loss", "--stage", "python",
                           "--color", "always")
    assert code == 0
    assert "\x1b[" in colored
    assert ANSI.sub("", colored) == plain


class _Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_use_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    assert use_color("auto", _Stream(True))
    assert not use_color("auto", _Stream(False))
    assert not use_color("never", _Stream(True))
    assert use_color("always", _Stream(False))
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color("auto", _Stream(True))
    assert use_color("always", _Stream(True))


def test_highlight_tokens():
    ir = "func f(x: f64) -> (f64) {\n  t: f64 = mul(x, 2.5)  # line 3\n  return t\n}\n"
    out = highlight(ir)
    assert ANSI.sub("", out) == ir
    styles = cli.STYLES
    assert f"{styles['keyword']}func" in out and f"{styles['keyword']}return" in out
    assert f"{styles['call']}mul" in out
    assert f"{styles['number']}2.5" in out
    assert f"{styles['comment']}# line 3" in out
    assert f"{styles['type']}f64" in out
    # identifiers with digits are not numbers; '#' in a string is not a comment
    py = 'x_1 = f64_2 + "a # b"\n'
    out = highlight(py)
    assert ANSI.sub("", out) == py
    assert styles["number"] not in out and styles["comment"] not in out
    assert f'{styles["string"]}"a # b"' in out


# --------------------------------------------------------------------------- the command

def test_installed_command(example):
    exe = Path(sys.executable).parent / "symdiff"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "symdiff"]
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    done = subprocess.run(cmd + ["show-ir", f"{example}::loss", "--stage", "python"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "@numba.njit" in done.stdout and "# line 7" in done.stdout
    assert "\x1b" not in done.stdout  # piped: plain text


def test_decorator_argnums_are_the_default_wrt(tmp_path, capsys, monkeypatch):
    (tmp_path / "decorated.py").write_text(textwrap.dedent('''
        import numpy as np
        import symdiff as sd


        @sd.grad(argnums=(0, 1))
        def loss(w: "f64[:]", b: float, x: "f64[:]"):
            return np.sum((x * w + b) ** 2)
    '''))
    monkeypatch.chdir(tmp_path)
    try:
        assert main(["show-ir", "decorated.py::loss", "--stage", "grad", "--color", "never"]) == 0
    finally:
        sys.modules.pop("decorated", None)
        if str(tmp_path) in sys.path:
            sys.path.remove(str(tmp_path))
    header = capsys.readouterr().out.splitlines()[0]
    assert header.endswith("-> (f64[:], f64) {"), header


@pytest.mark.parametrize("extra, note", [
    (("--order", "2"), "--order is used by --stage egrad"),
    (("--transform", "jvp"), "--transform is used by --stage python/numpy"),
])
def test_options_that_do_not_apply_to_the_stage_are_noted(example, capsys, extra, note):
    code, out, err = run(capsys, "show-ir", f"{example}::loss", "--stage", "ir", *extra)
    assert code == 0 and out.startswith("func loss")
    assert note in err
