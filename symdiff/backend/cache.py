"""The on-disk cache of generated modules.

Each entry is one Python file named by a digest of everything it depends on
(see `symdiff.frontend.keying`); Numba's own cache (``cache=True``) keeps the
machine code beside it in ``__pycache__``. Files are written atomically (write
a temporary file, then rename), carry a checksum of their body, and an entry
that fails its checksum or does not import is rebuilt.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType

CHECKSUM_PREFIX = "# symdiff-checksum: "


def cache_dir() -> Path:
    """``$SYMDIFF_CACHE_DIR``, else ``$XDG_CACHE_HOME/symdiff``, else ``~/.cache/symdiff`` (0700)."""
    root = os.environ.get("SYMDIFF_CACHE_DIR")
    if root:
        path = Path(root)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        path = Path(base) / "symdiff"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _checksum(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def with_checksum(body: str) -> str:
    return f"{CHECKSUM_PREFIX}{_checksum(body)}\n{body}"


def read_valid(path: Path) -> str | None:
    """The file's text when it exists and its checksum matches, else None."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        return None
    first, _, body = text.partition("\n")
    if not first.startswith(CHECKSUM_PREFIX) or first[len(CHECKSUM_PREFIX):] != _checksum(body):
        return None
    return text


def write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def purge_machine_code(path: Path) -> None:
    """Delete Numba's cache files (index and code) for the generated module at ``path``."""
    for f in (path.parent / "__pycache__").glob(f"{path.stem}.*.nb*"):
        try:
            f.unlink()
        except OSError:
            pass


def import_file(path: Path) -> ModuleType:
    """Import the generated module at ``path`` under a name derived from the file alone:
    Numba's machine-code cache records the module name, so a name that depended on
    import order would miss in a process that builds its functions in another order."""
    name = f"symdiff_generated_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module
