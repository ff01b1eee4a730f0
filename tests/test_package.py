"""Package-level promises: what `import symdiff` loads, and the public names."""

from __future__ import annotations

import subprocess
import sys

import symdiff as sd


def test_import_loads_neither_sympy_nor_numba():
    code = "import sys, symdiff; print('sympy' in sys.modules, 'numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_public_api():
    for name in ("grad", "value_and_grad", "jit", "show_ir", "SymdiffError",
                 "UnsupportedSyntaxError", "SignatureError", "CompileError",
                 "NotDifferentiableError"):
        assert hasattr(sd, name), name
    assert issubclass(sd.UnsupportedSyntaxError, sd.SymdiffError)
    assert issubclass(sd.SignatureError, sd.SymdiffError)
