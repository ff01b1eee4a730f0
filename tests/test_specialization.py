"""Specialization on equal array lengths, and preallocated tapes of fixed-shape arrays.

A compiled entry may assume that array lengths equal at its first call stay equal
(`symdiff.pipeline.dim_classes`); the generated dispatch checks them on every call,
and calls that break them run an entry compiled without assumptions. Tests here: the
assumptions make the code better (one fused loop, no value computed only for its
shape), calls that break them still get NumPy's broadcasting or its error, and the
dispatch keeps the specialized entry for the calls it fits.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import symdiff as sd
from symdiff import pipeline
from symdiff.ir.types import Type
from symdiff.pipeline import Transform, build, dim_checks, dim_classes, generate
from tests.gradcheck import assert_close, central_difference


def bce_with_logits(w, X, y):
    z = X @ w
    return np.mean(np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0.0) - y * z)


def rnn(Wx, Wh, b, xs, y):
    h = np.zeros(Wh.shape[0])
    for t in range(xs.shape[0]):
        h = np.tanh(Wx @ xs[t] + Wh @ h + b)
    return np.sum((h - y) ** 2)


def shrinking(x):
    s = x * 1.0
    total = 0.0
    for _ in range(3):
        s = np.sin(s[1:]) * 2.0
        total += np.sum(s * s)
    return total


def _data(n=40, d=5, seed=0):
    r = np.random.default_rng(seed)
    return r.normal(size=d), r.normal(size=(n, d)), r.uniform(0, 1, n)


def test_dim_classes_name_the_shared_lengths():
    w, X, y = _data()
    dims = dim_classes([w, X, y])
    assert dims == (("D0",), ("D1", "D0"), ("D1",))
    assert dim_checks(dims) == [(1, 1, 0, 0), (2, 0, 1, 0)]
    # Lengths that occur once, and lengths 0 and 1, assume nothing.
    assert dim_classes([np.ones(3), np.ones((1, 4)), 2.0]) is None
    assert dim_classes([np.ones((3, 3)), 1.5]) == (("D0", "D0"), None)


def test_equal_lengths_fuse_and_drop_shape_only_values():
    """With z and y known to have one length, the BCE's log1p (read only for the shape
    of the mean) is gone, and the adjoint is one fused loop."""
    args = _data()
    kinds = (Type("f64", 1), Type("f64", 2), Type("f64", 1))
    # (specialized first: its assumptions must not leak into a later generic build)
    special = generate(build(bce_with_logits, kinds, Transform("grad", (0,)), dim_classes(args)),
                       "numba").source
    generic = generate(build(bce_with_logits, kinds, Transform("grad", (0,))), "numba").source
    def code(source):
        return "\n".join(line for line in source.split("def bce_with_logits_grad")[1].splitlines()
                         if not line.strip().startswith("#"))

    assert "log1p" in code(generic) and "_sd_unbroadcast" in code(generic)
    assert "log1p" not in code(special) and "_sd_unbroadcast" not in code(special)
    assert special.count("# fused loop") < generic.count("# fused loop")


def test_calls_that_break_the_assumptions_run_a_generic_entry():
    reference = sd.grad(bce_with_logits, backend="python")
    w, X, y = _data()
    w2, X2, y2 = _data(n=25, seed=1)
    y1 = y[:1].copy()  # broadcasts against z: legal NumPy, not what the first entry assumed
    expected = [reference(w, X, y), reference(w, X, y1), reference(w2, X2, y2)]
    g = sd.grad(bce_with_logits)
    builds = pipeline.BUILD_COUNT
    assert_close(g(w, X, y), expected[0])
    assert_close(g(w, X, y1), expected[1])
    # Lengths that cannot broadcast raise as NumPy does.
    with pytest.raises(ValueError):
        g(w, X, y[:7].copy())
    # New shapes that keep the equalities, and the first ones again: the specialized
    # entry, no further compile.
    assert_close(g(w2, X2, y2), expected[2])
    assert_close(g(w, X, y), expected[0])
    checks = [c for c, _ in g._table[next(iter(g._table))]]
    assert len(checks) == 2 and checks[0] and checks[-1] == [], checks
    assert pipeline.BUILD_COUNT - builds <= 2  # (0 when both are in the disk cache)


def test_rnn_tapes_its_state_in_one_preallocated_array():
    r = np.random.default_rng(2)
    args = (r.normal(size=(6, 3)) * 0.5, r.normal(size=(6, 6)) * 0.3, r.normal(size=6),
            r.normal(size=(7, 3)), r.normal(size=6))
    kinds = tuple(Type("f64", a.ndim) for a in args)
    source = generate(build(rnn, kinds, Transform("grad", (0, 1, 2), True), dim_classes(args)),
                      "numba").source
    assert "_sd_tape_push_array" not in source
    assert re.search(r"h_tape = np\.empty\(\(\w+, n", source)
    g = sd.grad(rnn, argnums=(0, 1, 2))(*args)
    for k in range(3):
        assert_close(g[k], central_difference(rnn, args, k), rtol=1e-6)


def test_arrays_whose_shape_changes_in_the_loop_keep_a_growable_tape():
    x = np.linspace(0.1, 1.0, 8)
    source = generate(build(shrinking, (Type("f64", 1),), Transform("grad", (0,))),
                      "numba").source
    assert "_sd_tape_push_array" in source
    assert_close(sd.grad(shrinking)(x), central_difference(shrinking, (x,), 0), rtol=1e-6)


def smooth_chain(x, w):
    return np.sum(np.tanh(x * w + 0.5) * np.exp(-x * x) + np.log1p(x * x) * w)


@pytest.mark.parametrize("n", [7, 3000])
def test_guarded_groups_fuse_small_arrays_and_call_numpy_on_large_ones(n):
    """A group holding transcendentals is emitted twice under a size test: both paths
    give the gradient (n = 7 takes the fused loop, n = 3000 the NumPy calls)."""
    source = generate(build(smooth_chain, (Type("f64", 1), Type("f64", 1)),
                            Transform("grad", (0, 1), True)), "numba").source
    assert "< 1024:" in source and "_sd_tanh_1d(" in source
    r = np.random.default_rng(n)
    x, w = r.normal(size=n), r.normal(size=n)
    g = sd.grad(smooth_chain, argnums=(0, 1))(x, w)
    reference = sd.grad(smooth_chain, argnums=(0, 1), backend="python")(x, w)
    for a, b in zip(g, reference, strict=True):
        assert_close(a, b, rtol=1e-12, atol=1e-12)
    if n < 10:
        assert_close(g[0], central_difference(smooth_chain, (x, w), 0), rtol=1e-6)


def test_compile_returns_the_generic_entry_unless_asked():
    w, X, y = _data()
    g = sd.grad(bce_with_logits)
    generic = g.compile(w, X, y)
    special = g.compile(w, X, y, equal_lengths=True)
    assert generic is not special
    assert_close(special(w, X, y), generic(w, X, y), rtol=1e-12)
    y1 = y[:1].copy()  # breaks an equality: only the generic entry takes it
    assert_close(generic(w, X, y1), sd.grad(bce_with_logits, backend="python")(w, X, y1))
