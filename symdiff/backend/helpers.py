"""Source generators for the small helper functions a generated module may need.

Numba lacks some NumPy features (``max``/``min``/``prod``/``mean`` with ``axis``,
``np.add.at``), and its scalar libm ``exp``/``tanh`` are several times slower
than NumPy's SIMD loops on large arrays. Each generator returns the source of a
module-level function, specialized on static facts (ndim, axes), that the
generated module defines once and calls by name. The NumPy backend uses plain
NumPy instead and needs none of these.
"""

from __future__ import annotations

# Arrays at least this large send transcendental ufuncs to NumPy through
# numba.objmode; below it Numba's own loop wins (crossover measured at 256-512
# elements on the development machine; objmode costs about 1.5 us a call).
UFUNC_OBJMODE_THRESHOLD = 1024

# The ufuncs that go through those helpers on arrays (and so are never fused into loops).
OBJMODE_UFUNCS = frozenset({"exp", "log", "log1p", "expm1", "sin", "cos", "tan", "tanh",
                            "arctan"})

NUMBA_TYPES = {"f64": "float64", "i64": "int64", "bool": "boolean"}


_MATH_NAMES = {"arctan": "atan"}


def ufunc_helper(func: str, ndim: int) -> tuple[str, str]:
    """``np.<func>`` on a float64 array of ``ndim`` dims: NumPy's SIMD loop (through
    objmode) for large arrays, a plain ``math.<func>`` loop below the threshold (which
    Numba compiles several times faster than its own ``np.<func>``)."""
    name = f"_{func}_{ndim}d"
    # C-contiguous: the small path's result is too, so both give one array type (a layout
    # 'A' result would make every later loop over it index without the contiguity).
    sig = "float64[" + ",".join([":"] * (ndim - 1) + ["::1"]) + "]"
    idx = [f"i{k}" for k in range(ndim)]
    shape = "(" + "".join(f"x.shape[{k}], " for k in range(ndim)) + ")"
    loops = "".join(f"{'    ' * (k + 1)}for {i} in range(x.shape[{k}]):\n" for k, i in enumerate(idx))
    pad = "    " * (ndim + 1)
    where = ", ".join(idx)
    src = f'''def {name}(x):
    if x.size >= {UFUNC_OBJMODE_THRESHOLD}:
        with numba.objmode(out="{sig}"):
            out = np.ascontiguousarray(np.{func}(x))
        return out
    out = np.empty({shape}, dtype=np.float64)
{loops}{pad}out[{where}] = math.{_MATH_NAMES.get(func, func)}(x[{where}])
    return out
'''
    return name, src


def reduce_helper(kind: str, ndim: int, axes: tuple[int, ...], keepdims: bool,
                  dtype: str) -> tuple[str, str]:
    """sum/mean/max/min/prod of an ``ndim`` array over ``axes`` as explicit loops.

    Loops run in memory order, accumulating into the output. Numba compiles
    these in a fraction of the time its own ``np.sum(x, axis=k)`` takes
    (measured: 0.07 s against 1.85 s for a first compile), and it has no
    ``max``/``min``/``prod``/``mean`` with ``axis`` at all.
    """
    tag = "".join(map(str, axes))
    name = f"_{kind}_{ndim}d_ax{tag}{'_k' if keepdims else ''}"
    idx = [f"i{k}" for k in range(ndim)]
    kept = [k for k in range(ndim) if k not in axes]
    out_dims = [f"x.shape[{k}]" if k in kept else "1" for k in range(ndim)] if keepdims \
        else [f"x.shape[{k}]" for k in kept]
    out_idx = [idx[k] if k in kept else "0" for k in range(ndim)] if keepdims \
        else [idx[k] for k in kept]
    result_dtype = "f64" if kind == "mean" else ("i64" if dtype == "bool" else dtype)
    np_dtype = {"f64": "np.float64", "i64": "np.int64"}[result_dtype]
    floating = result_dtype == "f64"
    init = {"sum": "0.0", "mean": "0.0", "prod": "1.0", "max": "-np.inf", "min": "np.inf"}[kind]
    if not floating:
        init = {"sum": "0", "prod": "1", "max": "np.iinfo(np.int64).min",
                "min": "np.iinfo(np.int64).max"}[kind]
    scalar_out = not out_idx
    target = "acc" if scalar_out else f"out[{', '.join(out_idx)}]"
    update = {
        "sum": f"{target} += v", "mean": f"{target} += v", "prod": f"{target} *= v",
        "max": f"if v > {target} or v != v:\n{{p}}    {target} = v",
        "min": f"if v < {target} or v != v:\n{{p}}    {target} = v",
    }[kind]
    lines = [f"def {name}(x):"]
    if scalar_out:
        lines.append(f"    acc = {init}")
    else:
        shape = "(" + "".join(d + ", " for d in out_dims) + ")"
        lines.append(f"    out = np.full({shape}, {init}, dtype={np_dtype})")
    pad = "    "
    for k in range(ndim):
        lines.append(f"{pad}for {idx[k]} in range(x.shape[{k}]):")
        pad += "    "
    lines.append(f"{pad}v = x[{', '.join(idx)}]")
    lines.append(pad + update.format(p=pad))
    result = "acc" if scalar_out else "out"
    if kind == "mean":
        count = " * ".join(f"x.shape[{k}]" for k in axes) or "1"
        lines.append(f"    return {result} / ({count})")
    else:
        lines.append(f"    return {result}")
    return name, "\n".join(lines) + "\n"


def unbroadcast_helper(g_ndim: int, ndim: int) -> tuple[str, str]:
    """Sum an adjoint of ``g_ndim`` dims back to the shape of ``like`` (``ndim`` dims).

    Leading axes of g are summed away; an axis where ``like`` has length 1 is
    summed with keepdims. Returns g itself when nothing needs summing.
    """
    name = f"_unbroadcast_{g_ndim}_{ndim}"
    lead = g_ndim - ndim
    idx = [f"i{k}" for k in range(g_ndim)]
    lines = [f"def {name}(g, like):"]
    if lead == 0 and ndim > 0:
        same = " and ".join(f"g.shape[{k}] == like.shape[{k}]" for k in range(ndim))
        lines += [f"    if {same}:", "        return g"]
    if ndim == 0:
        lines.append("    out = 0.0")
        target = "out"
    else:
        for k in range(ndim):
            lines.append(f"    b{k} = like.shape[{k}] != 1")
        shape = "(" + "".join(f"g.shape[{lead + k}] if b{k} else 1, " for k in range(ndim)) + ")"
        lines.append(f"    out = np.zeros({shape}, dtype=np.float64)")
        target = "out[" + ", ".join(f"{idx[lead + k]} if b{k} else 0" for k in range(ndim)) + "]"
    pad = "    "
    for k in range(g_ndim):
        lines.append(f"{pad}for {idx[k]} in range(g.shape[{k}]):")
        pad += "    "
    lines.append(f"{pad}{target} += g[{', '.join(idx)}]")
    lines.append("    return out")
    return name, "\n".join(lines) + "\n"


def unbroadcast_to_helper(g_ndim: int, ndim: int) -> tuple[str, str]:
    """`unbroadcast_helper` with the target shape given as integers."""
    name, src = unbroadcast_helper(g_ndim, ndim)
    dims = [f"d{k}" for k in range(ndim)]
    new = f"_unbroadcast_to_{g_ndim}_{ndim}"
    src = src.replace(f"def {name}(g, like):", f"def {new}(g, {', '.join(dims)}):")
    for k in range(ndim):
        src = src.replace(f"like.shape[{k}]", dims[k])
    return new, src


def gather_helper(spec_tag: str, kinds: tuple[str, ...], ndim: int) -> tuple[str, str]:
    """``x[i0, i1, ...]`` with leading integer-array (``a``) or scalar (``i``) indices.

    Index arrays broadcast as in NumPy (length 1 or the common length).
    """
    name = f"_gather_{spec_tag}"
    params = ", ".join(f"i{k}" for k in range(len(kinds)))
    arrays = [k for k, kind in enumerate(kinds) if kind == "a"]
    rest = ndim - len(kinds)
    lines = [f"def {name}(x, {params}):", "    n = 1"]
    for k in arrays:
        lines += [f"    if i{k}.shape[0] != 1:", f"        n = i{k}.shape[0]"]
    for k in arrays:
        lines += [f"    if i{k}.shape[0] != 1 and i{k}.shape[0] != n:",
                  '        raise IndexError("shape mismatch: indexing arrays could not be '
                  'broadcast together")']
    shape = "(n, " + "".join(f"x.shape[{len(kinds) + k}], " for k in range(rest)) + ")"
    lines.append(f"    out = np.empty({shape}, dtype=x.dtype)")
    sub = ", ".join((f"i{k}[k if i{k}.shape[0] != 1 else 0]" if kind == "a" else f"i{k}")
                    for k, kind in enumerate(kinds))
    lines += ["    for k in range(n):", f"        out[k] = x[{sub}]", "    return out"]
    return name, "\n".join(lines) + "\n"


def arange_helper() -> tuple[str, str]:
    """``np.arange`` on integers as a loop (Numba's own compiles several times slower)."""
    name = "_arange"
    src = f'''def {name}(start, stop, step):
    if step > 0:
        n = (stop - start + step - 1) // step
    else:
        n = (start - stop - step - 1) // (-step)
    out = np.empty((max(n, 0),), dtype=np.int64)
    for k in range(out.shape[0]):
        out[k] = start + k * step
    return out
'''
    return name, src


def broadcast_like_helper(ndim: int) -> tuple[str, str]:
    """A new float64 array of ``like``'s shape filled by broadcasting ``g``."""
    name = f"_broadcast_like_{ndim}d"
    src = f'''def {name}(g, like):
    out = np.empty(like.shape)
    out[...] = g
    return out
'''
    return name, src


def index_add_helper(spec_tag: str, n_index: int, kinds: tuple[str, ...]) -> tuple[str, str]:
    """``acc[idx] += g`` with duplicate-safe accumulation for integer-array indices.

    ``kinds`` gives each leading index entry: ``"a"`` (1-D int array) or
    ``"i"`` (int scalar). Index arrays broadcast as in NumPy (length 1 or the
    common length); other lengths raise IndexError, as NumPy does.
    """
    name = f"_index_add_{spec_tag}"
    params = ", ".join(f"i{k}" for k in range(n_index))
    arrays = [k for k, kind in enumerate(kinds) if kind == "a"]
    lines = [f"def {name}(acc, g, {params}):", "    n = 1"]
    for k in arrays:
        lines.append(f"    if i{k}.shape[0] != 1:")
        lines.append(f"        n = i{k}.shape[0]")
    for k in arrays:
        lines.append(f"    if i{k}.shape[0] != 1 and i{k}.shape[0] != n:")
        lines.append('        raise IndexError("shape mismatch: indexing arrays could not be '
                     'broadcast together")')
    sub = ", ".join((f"i{k}[k if i{k}.shape[0] != 1 else 0]" if kind == "a" else f"i{k}")
                    for k, kind in enumerate(kinds))
    lines += ["    for k in range(n):", f"        acc[{sub}] += g[k]", "    return acc"]
    return name, "\n".join(lines) + "\n"


def tape_push_helper() -> tuple[str, str]:
    """Store scalar v at slot k of a 1-d tape, doubling its capacity when it is full."""
    return "_tape_push", """def _tape_push(buf, k, v):
    if k >= buf.shape[0]:
        grown = np.empty(max(2 * buf.shape[0], 16), dtype=buf.dtype)
        grown[:buf.shape[0]] = buf
        buf = grown
    buf[k] = v
    return buf
"""


def tape_push_array_helper() -> tuple[str, str]:
    """Store array v flat at slot k of (buf, meta); meta[k] = (offset, *shape). Both grow
    by doubling."""
    return "_tape_push_array", """def _tape_push_array(buf, meta, k, v):
    if k >= meta.shape[0]:
        grown = np.empty((max(2 * meta.shape[0], 16), meta.shape[1]), dtype=np.int64)
        grown[:meta.shape[0]] = meta
        meta = grown
    start = 0
    if k > 0:
        size = 1
        for d in range(1, meta.shape[1]):
            size *= meta[k - 1, d]
        start = meta[k - 1, 0] + size
    n = v.size
    if start + n > buf.shape[0]:
        bigger = np.empty(max(2 * buf.shape[0], start + n), dtype=buf.dtype)
        bigger[:start] = buf[:start]
        buf = bigger
    meta[k, 0] = start
    for d in range(v.ndim):
        meta[k, d + 1] = v.shape[d]
    buf[start:start + n] = np.ascontiguousarray(v).reshape(n)
    return buf, meta
"""


def tape_get_array_helper(ndim: int) -> tuple[str, str]:
    """The ``ndim`` array stored at slot k of (buf, meta), as a view of the buffer."""
    dims = [f"meta[k, {d + 1}]" for d in range(ndim)]
    size = " * ".join(dims)
    shape = "(" + "".join(d + ", " for d in dims) + ")"
    return f"_tape_get_{ndim}d", f"""def _tape_get_{ndim}d(buf, meta, k):
    start = meta[k, 0]
    return buf[start:start + {size}].reshape({shape})
"""


# Matrix-vector products of at most this many matrix elements run as generated loops:
# Numba's np.dot costs about 0.3-0.4 us a call in BLAS overhead, more than the whole
# product of a 32 x 32 matrix (measured: 0.34 us loop against 0.47 us BLAS for A @ v,
# 0.17 us against 0.44-0.69 us for v @ A; even at 128 x 64).
SMALL_MATVEC = 4096

# A dot product summed in any order lets LLVM vectorize the reduction (BLAS does not keep
# the order either); the decorator replaces the module's default for this helper only.
_REASSOC = '@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})\n'


def matvec_helper() -> tuple[str, str]:
    """``A @ v`` for a float64 matrix and vector: a row-by-row dot-product loop for small
    ``A``, BLAS otherwise."""
    return "_matvec", _REASSOC + f"""def _matvec(A, v):
    if A.size > {SMALL_MATVEC}:
        return np.dot(_sd_contig(A), _sd_contig(v))
    n, m = A.shape
    if v.shape[0] != m:
        raise ValueError("matmul: the matrix's columns and the vector's length differ")
    out = np.empty((n, ), dtype=np.float64)
    for i in range(n):
        acc = 0.0
        for j in range(m):
            acc += A[i, j] * v[j]
        out[i] = acc
    return out
"""


def vecmat_helper() -> tuple[str, str]:
    """``v @ A`` for a float64 vector and matrix: rows of ``A`` scaled and summed (a loop
    over contiguous rows) for small ``A``, BLAS otherwise."""
    return "_vecmat", f"""def _vecmat(v, A):
    if A.size > {SMALL_MATVEC}:
        return np.dot(_sd_contig(v), _sd_contig(A))
    m, n = A.shape
    if v.shape[0] != m:
        raise ValueError("matmul: the vector's length and the matrix's rows differ")
    out = np.zeros((n, ), dtype=np.float64)
    for i in range(m):
        vi = v[i]
        for j in range(n):
            out[j] += vi * A[i, j]
    return out
"""
