"""Shared test configuration: an isolated, session-wide symdiff cache directory."""

from __future__ import annotations

import os
import tempfile

# Tests compile into their own cache so they never read a stale user cache,
# yet share it across the session (and across xdist workers) to compile once.
os.environ.setdefault("SYMDIFF_CACHE_DIR", os.path.join(tempfile.gettempdir(), "symdiff-test-cache"))
os.environ.setdefault("NUMBA_NUM_THREADS", "1")
