"""The disk cache: editing invalidates, a warm process compiles nothing, damage is repaired."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

MODULE = """
import numpy as np

SCALE = {scale}


def helper(v):
    return v * {factor}


def loss(x):
    return np.sum(helper(x) ** 2) * SCALE
"""

RUNNER = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
import symdiff as sd
from symdiff import pipeline
import model
g = sd.grad(model.loss)
t = time.perf_counter()
value = g(np.arange(3.0))
first_call = time.perf_counter() - t
entry = g.compile(np.arange(3.0))
misses = sum(entry.stats.cache_misses.values())
print(json.dumps({"grad": value.tolist(), "builds": pipeline.BUILD_COUNT,
                  "numba_misses": misses, "first_call": first_call}))
"""


def _write_model(root: Path, scale: float = 1.0, factor: float = 2.0) -> None:
    (root / "model.py").write_text(MODULE.format(scale=scale, factor=factor))


def _run(root: Path, cache: Path) -> dict:
    env = {**os.environ, "SYMDIFF_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, "-c", RUNNER, str(root)], env=env, check=True,
                         capture_output=True, text=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "proj"
    root.mkdir()
    _write_model(root)
    return root, tmp_path / "cache"


def test_second_process_generates_and_compiles_nothing(project):
    root, cache = project
    cold = _run(root, cache)
    assert cold["builds"] == 1 and cold["numba_misses"] == 1
    warm = _run(root, cache)
    assert warm["grad"] == cold["grad"] == [0.0, 8.0, 16.0]
    assert warm["builds"] == 0, "the warm process ran the compiler"
    assert warm["numba_misses"] == 0, "the warm process recompiled with Numba"
    mode = stat.S_IMODE(cache.stat().st_mode)
    assert mode == 0o700


def test_editing_the_function_or_a_helper_or_a_constant_invalidates(project):
    root, cache = project
    assert _run(root, cache)["grad"] == [0.0, 8.0, 16.0]
    _write_model(root, factor=3.0)            # helper edited
    edited = _run(root, cache)
    assert edited["builds"] == 1 and edited["grad"] == [0.0, 18.0, 36.0]
    _write_model(root, scale=2.0, factor=3.0)  # a global constant changed
    rescaled = _run(root, cache)
    assert rescaled["builds"] == 1 and rescaled["grad"] == [0.0, 36.0, 72.0]


def test_damaged_entries_are_rebuilt(project):
    root, cache = project
    _run(root, cache)
    generated = [p for p in cache.glob("loss_*.py")]
    assert len(generated) == 1
    generated[0].write_text(generated[0].read_text() + "\nthis is not python\n")
    repaired = _run(root, cache)
    assert repaired["builds"] == 1 and repaired["grad"] == [0.0, 8.0, 16.0]
    for nb in cache.glob("__pycache__/*.nb*"):
        nb.write_bytes(b"garbage")
    again = _run(root, cache)
    assert again["grad"] == [0.0, 8.0, 16.0]


def test_concurrent_processes_share_one_cache(project):
    root, cache = project
    env = {**os.environ, "SYMDIFF_CACHE_DIR": str(cache)}
    procs = [subprocess.Popen([sys.executable, "-c", RUNNER, str(root)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert json.loads(out.strip().splitlines()[-1])["grad"] == [0.0, 8.0, 16.0]
    assert not list(cache.glob("*.tmp"))
    assert _run(root, cache)["builds"] == 0


def test_generated_file_is_readable_python(project):
    root, cache = project
    _run(root, cache)
    (generated,) = cache.glob("loss_*.py")
    text = generated.read_text()
    assert "def loss_grad(x):" in text
    assert "x_bar" in text
    # comments quote the user's lines (here the helper's, where the folded product comes from)
    assert re.search(r"# line \d+: return (v \* 2\.0|np\.sum\(helper)", text)
    compile(text, str(generated), "exec")
