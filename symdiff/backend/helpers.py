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

NUMBA_TYPES = {"f64": "float64", "i64": "int64", "bool": "boolean"}


def ufunc_helper(func: str, ndim: int) -> tuple[str, str]:
    """``np.<func>`` on a float64 array of ``ndim`` dims, large arrays through NumPy."""
    name = f"_{func}_{ndim}d"
    sig = "float64[" + ",".join([":"] * ndim) + "]"
    src = f'''def {name}(x):
    if x.size >= {UFUNC_OBJMODE_THRESHOLD}:
        with numba.objmode(out="{sig}"):
            out = np.ascontiguousarray(np.{func}(x))
        return out
    return np.{func}(x)
'''
    return name, src


def reduce_helper(kind: str, ndim: int, axes: tuple[int, ...], keepdims: bool,
                  dtype: str) -> tuple[str, str]:
    """max/min/prod of an ``ndim`` array over ``axes`` as explicit loops."""
    tag = "".join(map(str, axes))
    name = f"_{kind}_{ndim}d_ax{tag}{'_k' if keepdims else ''}"
    idx = [f"i{k}" for k in range(ndim)]
    kept = [k for k in range(ndim) if k not in axes]
    out_dims = [f"x.shape[{k}]" if k in kept else "1" for k in range(ndim)] if keepdims \
        else [f"x.shape[{k}]" for k in kept]
    out_idx = [idx[k] if k in kept else "0" for k in range(ndim)] if keepdims \
        else [idx[k] for k in kept]
    np_dtype = {"f64": "np.float64", "i64": "np.int64", "bool": "np.bool_"}[dtype]
    init = {"max": "-np.inf", "min": "np.inf", "prod": "1.0"}[kind]
    if dtype != "f64":
        init = {"max": "np.iinfo(np.int64).min", "min": "np.iinfo(np.int64).max",
                "prod": "1"}[kind]
    update = {
        "max": "if v > acc or v != v:\n{p}    acc = v",
        "min": "if v < acc or v != v:\n{p}    acc = v",
        "prod": "acc = acc * v",
    }[kind]
    shape = "(" + "".join(d + ", " for d in out_dims) + ")"
    lines = [f"def {name}(x):", f"    out = np.empty({shape}, dtype={np_dtype})"]
    pad = "    "
    for k in kept:
        lines.append(f"{pad}for {idx[k]} in range(x.shape[{k}]):")
        pad += "    "
    lines.append(f"{pad}acc = {init}")
    for k in axes:
        lines.append(f"{pad}for {idx[k]} in range(x.shape[{k}]):")
        pad += "    "
    lines.append(f"{pad}v = x[{', '.join(idx)}]")
    lines.append(pad + update.format(p=pad))
    pad = "    " + "    " * len(kept)
    target = f"out[{', '.join(out_idx)}]" if out_idx else "out[()]"
    lines.append(f"{pad}{target} = acc")
    lines.append("    return out")
    return name, "\n".join(lines) + "\n"


def unbroadcast_helper(g_ndim: int, ndim: int) -> tuple[str, str]:
    """Sum an adjoint of ``g_ndim`` dims back to the shape of ``like`` (``ndim`` dims)."""
    name = f"_unbroadcast_{g_ndim}_{ndim}"
    lines = [f"def {name}(g, like):"]
    for _ in range(g_ndim - ndim):
        lines.append("    g = np.sum(g, axis=0)")
    if ndim == 0:
        lines.append("    return np.sum(g)")
        return name, "\n".join(lines) + "\n"
    lines.append("    r = np.ascontiguousarray(g)")
    if ndim == 1:
        lines.append("    if like.shape[0] == 1 and r.shape[0] != 1:")
        lines.append("        r = np.full((1,), np.sum(r))")
        lines.append("    return r")
        return name, "\n".join(lines) + "\n"
    for k in range(ndim):
        lines.append(f"    if like.shape[{k}] == 1 and r.shape[{k}] != 1:")
        lines.append(f"        r = np.expand_dims(np.sum(r, axis={k}), {k})")
    lines.append("    return r")
    return name, "\n".join(lines) + "\n"


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
