"""The ``symdiff`` command.

``symdiff show-ir FILE::FUNC --stage {ast,ir,grad,jvp,egrad,hvp,python,numpy,sympy}``
prints one stage of the pipeline for a function defined in a Python file;
``symdiff check FILE::FUNC --args ...`` compares its symdiff gradient with a
numerical one; ``symdiff swell FILE::FUNC --args ...`` measures expression swell. The
parser is built with sub-commands so that others can join it.

`main` returns the exit status: 0 success, 1 an error symdiff reports about the
user's code (message on stderr, no traceback) or, for ``check``, gradients that
disagree, 2 a usage error (bad arguments, missing file or function).
"""

from __future__ import annotations

import argparse
import importlib.util
import keyword
import os
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FunctionType, ModuleType, TracebackType
from typing import Any, TextIO

import symdiff
from symdiff.api import STAGES
from symdiff.errors import SymdiffError, UnsupportedSyntaxError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A command line that cannot be acted on; exit status 2.

    `main` prints it as ``PROG: error: MESSAGE``; ``prog`` defaults to the
    sub-command that is running (``symdiff check``).
    """

    def __init__(self, message: str, prog: str | None = None):
        super().__init__(message)
        self.prog = prog


# --------------------------------------------------------------------------- help texts

DESCRIPTION = """\
symdiff: a differentiation compiler for numeric Python.

symdiff reads a function's source, lowers it to a typed SSA IR, differentiates
the IR by source transformation and emits readable Python that Numba compiles.
Every stage of that pipeline can be printed with `symdiff show-ir`."""

MAIN_EPILOG = """\
examples:
  symdiff show-ir model.py::loss --stage grad
  symdiff show-ir --help        (stages, --sig syntax, more examples)
  symdiff check model.py::loss --sig "w=f64[:], X=f64[:,:], y=f64[:]"
  symdiff check --help          (--args syntax, methods, tolerances)
  symdiff swell cases.py::logistic_map --args "x=0.3" --sweep n=1..10"""

SHOW_IR_DESCRIPTION = """\
Print one stage of the symdiff pipeline for the function FUNC defined in FILE.

stages (--stage), in pipeline order:
  ast      the parsed Python source of FUNC (ast.dump)
  ir       typed SSA IR of FUNC, simplified (the default); row products of for
           loops hoisted before them, and maxima the result does not depend on
           wrapped in stop_gradient (what every derivative starts from)
  grad     the reverse-mode derivative, as IR: the adjoint of `w` is `w_bar`
  jvp      the forward-mode derivative, as IR: the tangent of `w` is `w_dot`
  egrad    the elementwise gradient, as IR; with --order N, applied N times
           (each level differentiates the IR of the one before)
  hvp      forward over reverse: a Hessian-vector product, as IR
  python   the generated Python module that Numba compiles (@numba.njit);
           '# line N: <source>' comments tie it to your code
  numpy    the generated module of the plain-NumPy backend
  sympy    FUNC as SymPy expressions (symdiff.symbolic.to_sympy): float
           arguments are symbols, integer arguments the constants --args
           gives, loops unrolled; arrays take their shapes from --args
           (parameters it leaves out: random values of their --sig kind)

  Stages after `ast` specialize FUNC on the kind of each argument (from --sig,
  annotations, or the values --args gives); with --args the code also assumes
  the array lengths those values share, as a call with them would compile
  (a first line "# assumed equal dimensions: ..." lists them). Stages grad,
  jvp, egrad, hvp, python and numpy differentiate with respect to --wrt
  (default: the argnums of an @sd.grad(argnums=...) decorator, else the first
  parameter). Nothing is compiled: python and numpy only print source.

argument kinds (--sig):
  f64, i64, bool          scalars (float, int, bool; `float` and `int` work too)
  f64[:], f64[:,:], ...   float64 arrays of 1, 2, ... dimensions (i64[:] etc.)

  Give them as a comma-separated list, by parameter name or in order:
    --sig "x=f64[:], W=f64[:,:], n=i64"
    --sig "f64[:], f64[:,:], i64"          (positional)
    --sig "n=i64"                          (the others from annotations)
  Parameters that --sig does not name take their kind from annotations:
    def loss(w: "f64[:]", X: "f64[:,:]", n: int, t: float): ..."""

SHOW_IR_EPILOG = """\
examples:
  symdiff show-ir model.py::loss
  symdiff show-ir model.py::loss --stage grad --wrt w,b \\
      --sig "w=f64[:], b=f64, X=f64[:,:], y=f64[:]"
  symdiff show-ir model.py::loss --stage python --wrt 0 --color never > loss_grad.py

exit status: 0 success, 1 symdiff refused or failed on the code (message on
stderr, with file:line:col), 2 usage error (bad FILE::FUNC, missing file or
function)."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=28)

    def _format_action(self, action: argparse.Action) -> str:
        text = super()._format_action(action)
        if action.nargs == argparse.PARSER:  # list the commands without a "COMMAND" line
            text = text.split("\n", 1)[1]
        return text


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are exceptions, so `main` can return a status."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise UsageError(message, prog=self.prog)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="symdiff", description=DESCRIPTION, epilog=MAIN_EPILOG,
                     formatter_class=_Formatter)
    parser.add_argument("--version", action="version",
                        version=f"symdiff {symdiff.__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND",
                                     parser_class=_Parser)

    show = commands.add_parser(
        "show-ir", help="print a stage of the pipeline (ast, ir, grad, jvp, egrad, hvp, python, "
                        "numpy, sympy)",
        description=SHOW_IR_DESCRIPTION, epilog=SHOW_IR_EPILOG, formatter_class=_Formatter)
    show.add_argument("target", metavar="FILE::FUNC",
                      help="a Python file and the name of a function in it, e.g. model.py::loss")
    show.add_argument("--stage", choices=(*STAGES, "sympy"), default="ir",
                      help="which stage to print (default: ir)")
    show.add_argument("--order", type=int, default=1,
                      help="with --stage egrad: how many times to apply it (default 1)")
    show.add_argument("--transform", choices=("grad", "jvp", "egrad", "hvp"), default="grad",
                      help="the derivative whose code --stage python/numpy prints "
                           "(default: grad)")
    show.add_argument("--wrt", metavar="NAME[,NAME]", default=None,
                      help="parameters to differentiate with respect to, by name or position "
                           "(e.g. w,b or 0,1; default: the argnums of an @sd.grad decorator, "
                           "else the first)")
    show.add_argument("--sig", metavar="KINDS", default=None,
                      help='argument kinds, e.g. "x=f64[:], W=f64[:,:], n=i64" (default: '
                           "from annotations)")
    show.add_argument("--args", metavar="VALUES", default=None,
                      help='example argument values, e.g. "x=0.3, n=6, w=[0.0, 0.0, 0.0]": '
                           "their kinds, and the array lengths they share, specialize the "
                           "code shown; --stage sympy takes its constants and shapes from "
                           "them (see symdiff swell --help)")
    show.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                      help="syntax-highlight the output (auto: when stdout is a terminal "
                           "and NO_COLOR is unset)")
    show.set_defaults(run=_run_show_ir)
    _add_check_command(commands)
    _add_swell_command(commands)
    return parser


# --------------------------------------------------------------------------- entry point

def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``symdiff`` command; returns the exit status."""
    parser = build_parser()
    prog = parser.prog
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:  # --help and --version
            return e.code if isinstance(e.code, int) else EXIT_OK
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        prog = f"{parser.prog} {args.command}"
        return args.run(args)
    except UsageError as e:
        print(f"{e.prog or prog}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except UnsupportedSyntaxError as e:
        print(e, file=sys.stderr)  # the message starts with file:line:col
        return EXIT_ERROR
    except SymdiffError as e:
        print(f"symdiff: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `symdiff show-ir ... | head`
        _silence_stdout()
        return EXIT_OK


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


# --------------------------------------------------------------------------- show-ir

def _run_show_ir(args: argparse.Namespace) -> int:
    fn = load_target(args.target)
    wrt = parse_wrt(args.wrt)
    if wrt is not None and args.stage in ("ast", "ir", "sympy"):
        print(f"symdiff: note: --wrt has no effect on stage {args.stage}", file=sys.stderr)
    if wrt is None:
        wrt = default_wrt(fn)
    code_stage = args.stage in ("python", "numpy")
    if args.transform != "grad" and not code_stage:
        print("symdiff: note: --transform is used by --stage python/numpy only",
              file=sys.stderr)
    if args.order != 1 and args.stage in ("ast", "ir", "sympy", "python", "numpy") \
            and not (code_stage and args.transform == "egrad"):
        print("symdiff: note: --order is used by --stage egrad (or --transform egrad) only",
              file=sys.stderr)
    if args.args is not None and args.stage == "ast":
        print("symdiff: note: --args has no effect on stage ast", file=sys.stderr)
    if args.stage == "sympy":
        text = _sympy_stage(fn, args)
    elif args.args is not None and args.stage != "ast":
        # Example values give the kinds, and the array lengths they share: the code shown
        # is what a call with such arguments compiles (see "assumed equal dimensions").
        wanted = [wrt] if isinstance(wrt, (int, str)) else list(wrt)
        bound = _example_arguments(fn, args, _positions(fn, tuple(wanted)))
        text = symdiff.show_ir(fn, args.stage, wrt=wrt, args=bound.values, order=args.order,
                               transform=args.transform)
    else:
        text = symdiff.show_ir(fn, args.stage, wrt=wrt, signature=args.sig, order=args.order,
                               transform=args.transform)
    if not text.endswith("\n"):
        text += "\n"
    if use_color(args.color, sys.stdout):
        text = highlight(text)
    sys.stdout.write(text)
    sys.stdout.flush()
    return EXIT_OK


def default_wrt(fn: FunctionType) -> int | tuple[int, ...]:
    """The argnums of an ``@sd.grad(argnums=...)`` decorator on ``fn``, else 0."""
    decorated = _DECORATED_ARGNUMS.get(fn)
    return decorated if decorated and len(decorated) > 1 else (decorated[0] if decorated else 0)


def parse_wrt(text: str | None) -> int | str | tuple[int | str, ...] | None:
    """``"w"`` -> ``"w"``, ``"0"`` -> ``0``, ``"w,1"`` -> ``("w", 1)``."""
    if text is None:
        return None
    items: list[int | str] = []
    for part in text.split(","):
        part = part.strip()
        if re.fullmatch(r"-?\d+", part):
            items.append(int(part))
        elif part.isidentifier():
            items.append(part)
        else:
            raise UsageError(f"--wrt takes parameter names or positions "
                             f"separated by commas, e.g. --wrt w,b or --wrt 0,1; got {text!r}")
    return items[0] if len(items) == 1 else tuple(items)


def split_target(target: str) -> tuple[Path, str]:
    """``"path/to/model.py::loss"`` -> ``(Path("path/to/model.py"), "loss")``."""
    path, sep, name = target.rpartition("::")
    if not sep or not path or not name:
        raise UsageError(f"expected FILE::FUNC (e.g. model.py::loss), "
                         f"got {target!r}")
    if not all(part.isidentifier() for part in name.split(".")):
        raise UsageError(f"{name!r} is not a function name "
                         f"(in {target!r})")
    return Path(path), name


def load_target(target: str) -> FunctionType:
    """The function named by ``FILE::FUNC``, unwrapped from a symdiff decorator."""
    path, name = split_target(target)
    module = load_module(path)
    obj: Any = module
    for part in name.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            available = sorted(k for k, v in vars(module).items()
                               if _is_function(v) and getattr(_unwrap(v), "__module__", None)
                               == module.__name__)
            hint = f" (functions defined there: {', '.join(available)})" if available else ""
            raise UsageError(f"{path} has no function {name!r}{hint}") \
                from None
    fn = _unwrap(obj)
    if not isinstance(fn, FunctionType):
        raise UsageError(f"{path}::{name} is a "
                         f"{type(obj).__name__}, not a function")
    _DECORATED_ARGNUMS[fn] = getattr(getattr(obj, "transform", None), "argnums", None) or None
    return fn


# argnums of `@sd.grad(argnums=...)`-decorated targets: the default --wrt for them.
_DECORATED_ARGNUMS: dict[FunctionType, tuple[int, ...] | None] = {}


def _unwrap(obj: Any) -> Any:
    return getattr(obj, "__wrapped_symdiff__", obj)


def _is_function(obj: Any) -> bool:
    return isinstance(_unwrap(obj), FunctionType)


def load_module(path: Path) -> ModuleType:
    """Import a .py file by path; its directory goes on sys.path so its own imports work."""
    if not path.exists():
        raise UsageError(f"no such file: {path}")
    if path.is_dir():
        raise UsageError(f"{path} is a directory, not a Python file")
    path = path.resolve()
    directory = str(path.parent)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    module_name = _module_name(path)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot load {path} as a Python module "
                         f"(expected a .py file)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses, pickling and self-imports need it
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        sys.modules.pop(module_name, None)
        raise SymdiffError(f"could not import {path}:\n{_user_traceback(e, path)}") from None
    return module


def _module_name(path: Path) -> str:
    """The file's stem when that name is free, else a private unique name."""
    stem = path.stem
    existing = sys.modules.get(stem)
    if stem.isidentifier() and not keyword.iskeyword(stem) and existing is None:
        return stem
    if existing is not None and getattr(existing, "__file__", None) == str(path):
        return stem  # the same file again: reload it in place
    base = "_symdiff_cli_" + re.sub(r"\W", "_", stem)
    name, n = base, 0
    while name in sys.modules:
        n += 1
        name = f"{base}_{n}"
    return name


def _user_traceback(e: BaseException, path: Path) -> str:
    """The traceback of an exception raised while importing the user's file, without
    the importlib frames above it."""
    tb: TracebackType | None = e.__traceback__
    while tb is not None and Path(tb.tb_frame.f_code.co_filename) != path:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(e), e, tb)).rstrip()


# --------------------------------------------------------------------------- check

CHECK_DESCRIPTION = """\
Compare the gradient symdiff computes for FUNC (defined in FILE) with a
numerical one, at the arguments --args gives and random values for the rest.
Prints a table of the worst coordinates; exits with status 1 when the
gradients disagree.

argument values (--args), as Python literals, by name or in order:
  --args "x=0.3, n=6"
  --args "w=[0.1, -0.2, 0.3], X=[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]"
  Lists (nested for more dimensions) are arrays. A value is converted to its
  parameter's kind when --sig or an annotation gives one; otherwise write
  1.0, not 1, for a float.

random values for the parameters --args leaves out (--sig, --seed, --size):
  parameters with a default keep it; the others need a kind, from --sig
  ("w=f64[:], X=f64[:,:], n=i64", as for show-ir) or an annotation. Floats
  are standard normal, integer arrays uniform in [0, size), integer scalars
  in [1, size]; every array dimension is --size long (default 4).

methods (--method) and their default tolerances (--rtol, --atol):
  forward      (f(x+h) - f(x)) / h                    1e-5
  central      (f(x+h) - f(x-h)) / 2h  (the default)  1e-7
  richardson   central at h and h/2, extrapolated     1e-9
  complex      Im f(x+ih) / h; needs a complex-analytic FUNC (no abs,
               np.sign): symdiff refuses it otherwise  1e-11
  The check passes when every coordinate has |symdiff - numeric| <=
  atol + rtol * (largest entry of that argument's gradient)."""

CHECK_EPILOG = """\
examples:
  symdiff check model.py::loss --sig "w=f64[:], X=f64[:,:], y=f64[:]"
  symdiff check model.py::loss --args "b=0.5" --wrt w,b --method complex --seed 3
  symdiff check physics.py::energy --args "x=0.3, n=6"

exit status: 0 the gradients agree, 1 they disagree (or symdiff refused or
failed on the code), 2 usage error (bad FILE::FUNC, --args, --sig, --wrt)."""


def _add_check_command(commands: Any) -> None:
    from symdiff.numeric import METHODS
    check = commands.add_parser(
        "check", help="compare symdiff's gradient with finite differences",
        description=CHECK_DESCRIPTION, epilog=CHECK_EPILOG, formatter_class=_Formatter)
    check.add_argument("target", metavar="FILE::FUNC",
                       help="a Python file and the name of a function in it, e.g. model.py::loss")
    check.add_argument("--args", metavar="VALUES", default=None,
                       help='argument values as Python literals, e.g. "x=0.3, n=6, w=[1.0, 2.0]"')
    check.add_argument("--sig", metavar="KINDS", default=None,
                       help='kinds of the arguments to draw at random, e.g. "w=f64[:], n=i64" '
                            "(default: from annotations)")
    check.add_argument("--wrt", metavar="NAME[,NAME]", default=None,
                       help="parameters to differentiate with respect to, by name or position "
                            "(default: the argnums of an @sd.grad decorator, else the first)")
    check.add_argument("--method", choices=METHODS, default="central",
                       help="the numerical method (default: central)")
    check.add_argument("--h", type=float, default=None, metavar="STEP",
                       help="the step (default: the method's, scaled by max(1, |x_i|))")
    check.add_argument("--rtol", type=float, default=None,
                       help="relative tolerance (default: the method's, see above)")
    check.add_argument("--atol", type=float, default=None,
                       help="absolute tolerance (default: rtol)")
    check.add_argument("--seed", type=int, default=0, help="seed of the random values (default: 0)")
    check.add_argument("--size", type=int, default=4,
                       help="length of every dimension of a random array (default: 4)")
    check.add_argument("--backend", choices=("numba", "python"), default="numba",
                       help="symdiff's backend (default: numba)")
    check.add_argument("--rows", type=int, default=8, metavar="N",
                       help="coordinates to show, worst first (default: 8)")
    check.set_defaults(run=_run_check)


def _run_check(args: argparse.Namespace) -> int:
    from symdiff.check import check_grad
    from symdiff.cli_args import ArgumentTextError, build_arguments
    from symdiff.signature import parameter_names

    fn = load_target(args.target)
    names = parameter_names(fn)
    wrt = parse_wrt(args.wrt)
    if wrt is None:
        wrt = default_wrt(fn)
    positions = []
    for item in wrt if isinstance(wrt, tuple) else (wrt,):
        if isinstance(item, str) and item not in names:
            raise UsageError(f"--wrt: {fn.__name__} has no parameter {item!r} "
                             f"(parameters: {', '.join(names)})")
        if isinstance(item, int) and not -len(names) <= item < len(names):
            raise UsageError(f"--wrt: position {item} is out of range: {fn.__name__} has "
                             f"{len(names)} parameter(s)")
        positions.append(names.index(item) if isinstance(item, str) else item % len(names))
    if args.size < 1 or args.rows < 1:
        raise UsageError("--size and --rows must be positive")
    try:
        bound = build_arguments(fn, args.args, args.sig, seed=args.seed, size=args.size,
                                floats=positions)
    except ArgumentTextError as e:
        raise UsageError(str(e)) from None
    try:
        fn(*bound.values)  # the user's own errors first, with their own traceback
    except Exception as e:
        path = split_target(args.target)[0].resolve()
        raise SymdiffError(f"{fn.__name__} fails at {bound.describe()}:\n"
                           f"{_user_traceback(e, path)}") from None
    argnums = tuple(positions) if isinstance(wrt, tuple) else positions[0]
    report = check_grad(fn, *bound.values, argnums=argnums, method=args.method, h=args.h,
                        rtol=args.rtol, atol=args.atol, backend=args.backend)
    print(f"at {bound.describe()}")
    print(report.table(max_rows=args.rows))
    sys.stdout.flush()
    return EXIT_OK if report.ok else EXIT_ERROR


# --------------------------------------------------------------------------- swell

SWELL_DESCRIPTION = """\
Differentiate FUNC (defined in FILE) two ways and compare the sizes: SymPy's
diff of FUNC written out as one expression (symdiff.symbolic: integer
arguments are constants, loops unrolled), and symdiff's adjoint IR. Prints a
table of operation counts and seconds (symdiff.symbolic.swell).

what is counted:
  symdiff primal IR / adjoint IR   ops in the simplified IR (show-ir --stage ir
                                   / grad), each once, regions included,
                                   constants excluded
    ops executed                   the same IR's ops run for these arguments
                                   (a loop body once per iteration)
  SymPy expression / derivative    sympy.count_ops of FUNC's expression and of
                                   the raw derivatives (one per symbol of --wrt)
    after sympy.cse                count_ops after common-subexpression
                                   elimination

argument values (--args), as Python literals, by name or in order:
  --args "x=0.3, n=6"
  --args "x=[0.0, 0.0, 0.0], W=[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]"
  Float arguments become SymPy symbols: only the shapes of float arrays
  matter to SymPy (their values decide which branch each if takes when the
  adjoint's ops are counted). Integer arguments are constants. Parameters
  --args leaves out keep their default, or get a random value of the kind
  --sig or an annotation gives (arrays: every dimension --size long).

--sweep NAME=A..B (or NAME=A,B,C) repeats the measurement for each value of
the integer parameter NAME and prints one row per value."""

SWELL_EPILOG = """\
examples:
  symdiff swell symdiff/symbolic/cases.py::logistic_map --args "x=0.3, n=6"
  symdiff swell symdiff/symbolic/cases.py::logistic_map --args "x=0.3" --sweep n=1..10
  symdiff show-ir symdiff/symbolic/cases.py::logistic_map --stage sympy --args "x=0.3, n=3"

exit status: 0 success, 1 symdiff or the SymPy path refused the code (message
on stderr, with file:line:col), 2 usage error (bad FILE::FUNC, --args, --sweep)."""


def _add_swell_command(commands: Any) -> None:
    swell = commands.add_parser(
        "swell", help="compare SymPy's derivative with symdiff's adjoint (expression swell)",
        description=SWELL_DESCRIPTION, epilog=SWELL_EPILOG, formatter_class=_Formatter)
    swell.add_argument("target", metavar="FILE::FUNC",
                       help="a Python file and the name of a function in it")
    swell.add_argument("--args", metavar="VALUES", default=None,
                       help='argument values as Python literals, e.g. "x=0.3, n=6"')
    swell.add_argument("--sig", metavar="KINDS", default=None,
                       help='kinds of the arguments to draw at random, e.g. "w=f64[:]"')
    swell.add_argument("--wrt", metavar="NAME[,NAME]", default=None,
                       help="parameters to differentiate with respect to (default: the "
                            "argnums of an @sd.grad decorator, else the first)")
    swell.add_argument("--sweep", metavar="NAME=A..B", default=None,
                       help="repeat for each value of an integer parameter, e.g. n=1..10")
    swell.add_argument("--seed", type=int, default=0, help="seed of the random values (default: 0)")
    swell.add_argument("--size", type=int, default=4,
                       help="length of every dimension of a random array (default: 4)")
    swell.set_defaults(run=_run_swell)


def _example_arguments(fn: FunctionType, args: argparse.Namespace, floats: Sequence[int],
                       extra: dict[str, Any] | None = None) -> Any:
    """`symdiff.cli_args.build_arguments` for --args/--sig, with ``extra`` values on top."""
    from symdiff.cli_args import ArgumentTextError, build_arguments, parse_values
    text = args.args or ""
    try:
        if extra:  # --sweep's value replaces one --args gives
            positional, named = parse_values(text) if text.strip() else ([], {})
            named.update(extra)
            text = ", ".join([repr(v) for v in positional] + [f"{k}={v!r}" for k, v in named.items()])
        return build_arguments(fn, text, args.sig, seed=getattr(args, "seed", 0),
                               size=getattr(args, "size", 4), floats=floats)
    except ArgumentTextError as e:
        raise UsageError(str(e)) from None


def _positions(fn: FunctionType, wrt: Any) -> list[int]:
    from symdiff.signature import parameter_names
    names = parameter_names(fn)
    out = []
    for item in wrt if isinstance(wrt, tuple) else (wrt,):
        if isinstance(item, str) and item not in names:
            raise UsageError(f"--wrt: {fn.__name__} has no parameter {item!r} "
                             f"(parameters: {', '.join(names)})")
        if isinstance(item, int) and not -len(names) <= item < len(names):
            raise UsageError(f"--wrt: position {item} is out of range: {fn.__name__} has "
                             f"{len(names)} parameter(s)")
        out.append(names.index(item) if isinstance(item, str) else item % len(names))
    return out


def parse_sweep(text: str) -> tuple[str, list[int]]:
    """``"n=1..10"`` -> ``("n", [1, ..., 10])``; ``"n=1,2,4"`` -> ``("n", [1, 2, 4])``."""
    name, sep, values = text.partition("=")
    name, values = name.strip(), values.strip()
    m = re.fullmatch(r"(-?\d+)\s*\.\.\s*(-?\d+)", values)
    if sep and name.isidentifier() and m and int(m[1]) <= int(m[2]):
        return name, list(range(int(m[1]), int(m[2]) + 1))
    if sep and name.isidentifier() and re.fullmatch(r"-?\d+(\s*,\s*-?\d+)*", values):
        return name, [int(v) for v in values.split(",")]
    raise UsageError(f"--sweep takes NAME=A..B or NAME=A,B,C with integers, e.g. n=1..10; "
                     f"got {text!r}")


def _run_swell(args: argparse.Namespace) -> int:
    fn = load_target(args.target)
    wrt = parse_wrt(args.wrt)
    if wrt is None:
        wrt = default_wrt(fn)
    positions = _positions(fn, wrt)
    argnums = tuple(positions) if isinstance(wrt, tuple) else positions[0]
    if args.size < 1:
        raise UsageError("--size must be positive")
    import symdiff.symbolic as sym
    if args.sweep is None:
        bound = _example_arguments(fn, args, positions)
        report = sym.swell(fn, *bound.values, argnums=argnums)
        if "random" in bound.origins:
            print(f"at {bound.describe()}\n")
        print(report.table())
    else:
        name, values = parse_sweep(args.sweep)
        reports = []
        for v in values:
            bound = _example_arguments(fn, args, positions, {name: v})
            reports.append(sym.swell(fn, *bound.values, argnums=argnums))
        others = ", ".join(p for p in bound.describe().split(", ") if not p.startswith(name + "="))
        print(f"swell of {fn.__name__}, derivative with respect to {reports[0].wrt}"
              + (f", at {others}" if others else "") + "\n")
        print(sym.swell_table(reports, name, values))
    sys.stdout.flush()
    return EXIT_OK


def _sympy_stage(fn: FunctionType, args: argparse.Namespace) -> str:
    """The text of ``show-ir --stage sympy``."""
    import symdiff.symbolic as sym
    bound = _example_arguments(fn, args, [])
    return f"# at {bound.describe()}\n" + str(sym.to_sympy(fn, *bound.values))


# --------------------------------------------------------------------------- color

def use_color(mode: str, stream: TextIO) -> bool:
    if mode == "always":
        return True
    if mode == "never":
        return False
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty: Callable[[], bool] | None = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False


RESET = "\x1b[0m"
STYLES = {
    "comment": "\x1b[90m",      # grey
    "string": "\x1b[32m",       # green
    "decorator": "\x1b[35m",    # magenta
    "keyword": "\x1b[1;35m",    # bold magenta
    "type": "\x1b[34m",         # blue
    "call": "\x1b[36m",         # cyan: op names, functions, AST node names
    "number": "\x1b[33m",       # yellow
}

# IR words on top of Python's keywords (func, yield, const and the `^(...)` region params).
_KEYWORDS = frozenset(keyword.kwlist) | {"func", "const"}

_TOKEN = re.compile(r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>[rbuRBU]{0,2}(?:'''[\s\S]*?'''|\"\"\"[\s\S]*?\"\"\"
                            |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"))
  | (?P<decorator>(?<![\w)\]])@[A-Za-z_][\w.]*)
  | (?P<type>\b(?:f64|i64|bool)(?:\[[:,\s]*\])?(?![\w(]))
  | (?P<call>\b[A-Za-z_]\w*(?=\())
  | (?P<word>\b[A-Za-z_]\w*)
  | (?P<number>(?<![\w.])(?:\d[\d_]*\.?\d*|\.\d+)(?:[eE][+-]?\d+)?j?)
""", re.VERBOSE)


def highlight(text: str) -> str:
    """ANSI-color IR, Python source or an AST dump: comments, strings, keywords,
    types, op and function names, numbers."""
    def paint(m: re.Match[str]) -> str:
        kind = m.lastgroup
        token = m.group()
        if kind == "word":
            if token not in _KEYWORDS:
                return token
            kind = "keyword"
        elif kind == "call" and token in _KEYWORDS:
            kind = "keyword"
        assert kind is not None
        # Color line by line, so a multi-line string does not bleed through a pager.
        style = STYLES[kind]
        return "\n".join(f"{style}{line}{RESET}" if line else line
                         for line in token.split("\n"))
    return _TOKEN.sub(paint, text)


if __name__ == "__main__":
    sys.exit(main())
