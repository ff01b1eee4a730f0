"""The compiled epoch loop of the first-order optimizers.

For a loss with P parameters and D data arguments, `epoch_loop` writes the
source of one Numba function that runs whole epochs: the seeded shuffle, the
gather of the shuffled rows, the batch slices, the call of symdiff's compiled
``value_and_grad`` entry, the NaN check and the update of every parameter
(plain SGD, momentum, Nesterov momentum or Adam, chosen at run time). The
source is specialized on the arity and on each argument's kind (an array's
ndim, or a scalar), so parameter updates are plain loops over elements and no
tuple of unknown length is ever built. The module is written to symdiff's disk
cache under a name derived from its text and the gradient entry it calls, and
Numba caches its machine code beside it: a warm process compiles nothing.

Signature of the generated ``run`` (one line per group)::

    run(p0..,               array parameters, updated in place (scalar ones live in sp)
        sp, sm, ss,          scalar parameters, and their first and second moments
        m0.., s0..,          first and second moment of each array parameter
        w0.., D0.., W0..,    per sliced data argument: the array batches are sliced from
                             (the shuffled rows, or the data itself when not shuffling);
                             the data and that array seen as 2-D (n, -1), for the gather
        c0..,                constant data (scalars, defaults of the loss)
        perm, rng, lrs, hist, times, e_start, e_stop, n, bs, shuffle,
        method, mu, nesterov, b1, b2, eps, t)
    -> (status, epoch, batch, t)    status 0: done; 1: non-finite loss at (epoch, batch)

``method`` is 0 for SGD (momentum ``mu``, ``nesterov``) and 1 for Adam
(``b1``, ``b2``, ``eps``); ``t`` counts updates (Adam's bias correction).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

# Parameter kinds: the ndim of an array parameter, 0 for a float scalar.
# Data kinds: ("slice", ndim) for an array sliced along axis 0, ("const",) for an argument
# passed unchanged.


def _loops(ndim: int, name: str, body: list[str], pad: str) -> list[str]:
    """Nested loops over every element of array ``name``; ``body`` uses ``[IDX]``."""
    idx = ", ".join(f"i{k}" for k in range(ndim))
    out = [f"{pad}{'    ' * k}for i{k} in range({name}.shape[{k}]):" for k in range(ndim)]
    inner = pad + "    " * ndim
    out += [inner + line.replace("[IDX]", f"[{idx}]") for line in body]
    return out


_SGD_PLAIN = ["p[IDX] -= lr * g[IDX]"]
_SGD_MOMENTUM = ["v = mu * m[IDX] + g[IDX]", "m[IDX] = v", "p[IDX] -= lr * v"]
_SGD_NESTEROV = ["gi = g[IDX]", "v = mu * m[IDX] + gi", "m[IDX] = v", "p[IDX] -= lr * (gi + mu * v)"]
_ADAM = ["gi = g[IDX]",
         "mi = b1 * m[IDX] + (1.0 - b1) * gi",
         "si = b2 * s[IDX] + (1.0 - b2) * gi * gi",
         "m[IDX] = mi",
         "s[IDX] = si",
         "p[IDX] -= step * mi / (math.sqrt(si) * rbc2 + eps)"]


def _update(body: list[str], p: str, g: str, m: str, s: str) -> list[str]:
    return [line.replace("p[", f"{p}[").replace("g[", f"{g}[").replace("m[", f"{m}[")
            .replace("s[", f"{s}[") for line in body]


def _scalar_update(body: list[str], p: str, g: str, m: str, s: str) -> list[str]:
    """The same rule for a scalar parameter held in a local, moments in sm[j]/ss[j]."""
    out = []
    for line in body:
        line = line.replace("p[IDX] -=", f"{p} -=").replace("g[IDX]", g)
        line = line.replace("m[IDX]", m).replace("s[IDX]", s)
        out.append(line)
    return out


def source(param_kinds: Sequence[int], data_kinds: Sequence[tuple[Any, ...]], entry_name: str) -> str:
    """The text of the generated module (see the module docstring)."""
    P = len(param_kinds)
    arrays = [k for k in range(P) if param_kinds[k] > 0]
    scalars = [k for k in range(P) if param_kinds[k] == 0]
    sliced = [k for k, d in enumerate(data_kinds) if d[0] == "slice"]
    consts = [k for k, d in enumerate(data_kinds) if d[0] == "const"]
    sig = [", ".join(f"p{k}" for k in arrays), "sp, sm, ss",
           ", ".join(f"m{k}" for k in arrays), ", ".join(f"s{k}" for k in arrays),
           ", ".join(f"w{k}" for k in sliced),
           ", ".join(f"D{k}" for k in sliced), ", ".join(f"W{k}" for k in sliced),
           ", ".join(f"c{k}" for k in consts),
           "perm, rng, lrs, hist, times, e_start, e_stop, n, bs, shuffle",
           "method, mu, nesterov, b1, b2, eps, t"]
    params = ",\n        ".join(s for s in sig if s)
    scal_index = {k: j for j, k in enumerate(scalars)}
    call_args = []
    for k in range(P):
        call_args.append(f"q{k}" if k in scal_index else f"p{k}")
    for k, d in enumerate(data_kinds):
        call_args.append(f"w{k}[start:stop]" if d[0] == "slice" else f"c{k}")
    store = [f"sp[{j}] = q{k}" for k, j in scal_index.items()]

    L: list[str] = []
    L.append(f"def run({params}):")
    L += [f"    q{k} = sp[{j}]" for k, j in scal_index.items()]
    L.append("    for e in range(e_start, e_stop):")
    L.append("        lr = lrs[e]")
    if sliced:
        L.append("        if shuffle:")
        L.append("            _permute(perm, rng)")
        L.append("            for i in range(n):")
        L.append("                r = perm[i]")
        for k in sliced:
            L.append(f"                for j in range(D{k}.shape[1]):")
            L.append(f"                    W{k}[i, j] = D{k}[r, j]")
    L.append("        total = 0.0")
    L.append("        start = 0")
    L.append("        b = 0")
    L.append("        while start < n:")
    L.append("            stop = min(start + bs, n)")
    L.append(f"            value, grads = _entry({', '.join(call_args)})")
    L.append("            if not np.isfinite(value):")
    L += ["                " + s for s in store]
    L.append("                return 1, e, b, t")
    L.append("            total += value * (stop - start)")
    L.append("            t += 1")
    if P == 1:
        L.append("            g0 = grads")  # one parameter: compiled with argnums=0
    for k in range(P if P > 1 else 0):
        L.append(f"            g{k} = grads[{k}]")
    rules = [("method == 0 and mu == 0.0", _SGD_PLAIN), ("method == 0 and not nesterov", _SGD_MOMENTUM),
             ("method == 0", _SGD_NESTEROV), (None, _ADAM)]
    for r, (cond, body) in enumerate(rules):
        head = "if" if r == 0 else "elif"
        L.append(f"            {head} {cond}:" if cond else "            else:")
        if body is _ADAM:
            # lr * (m / bc1) / (sqrt(s / bc2) + eps), with the divisions by the bias
            # corrections hoisted out of the element loops (as torch.optim.Adam does)
            L.append("                step = lr / (1.0 - b1 ** t)")
            L.append("                rbc2 = 1.0 / math.sqrt(1.0 - b2 ** t)")
        for k in range(P):
            if k in scal_index:
                j = scal_index[k]
                lines = _scalar_update(body, f"q{k}", f"g{k}", f"sm[{j}]", f"ss[{j}]")
                L += ["                " + s for s in lines]
            else:
                L += _loops(param_kinds[k], f"p{k}",
                            _update(body, f"p{k}", f"g{k}", f"m{k}", f"s{k}"), "                ")
    L.append("            start = stop")
    L.append("            b += 1")
    L.append("        hist[e] = total / n")
    L.append("        with numba.objmode(now='float64'):")
    L.append("            now = _clock()")
    L.append("        times[e] = now")
    L += ["    " + s for s in store]
    L.append("    return 0, e_stop, 0, t")

    header = (f"# Generated by symdiff.optim: the compiled epoch loop for {entry_name}\n"
              f"# parameters {list(param_kinds)}, data {[list(d) for d in data_kinds]}\n"
              "import math\nimport time\n\nimport numba\nimport numpy as np\n\n"
              "from symdiff.optim._rng import permute as _permute\n\n"
              "_clock = time.perf_counter\n"
              "_entry = None  # the value_and_grad entry, set before the first call\n\n\n")
    return header + "@numba.njit(cache=True)\n" + "\n".join(L) + "\n"


_LOOPS: dict[str, Callable[..., Any]] = {}


def epoch_loop(param_kinds: Sequence[int], data_kinds: Sequence[tuple[Any, ...]],
               entry: Any) -> Callable[..., Any]:
    """The compiled ``run`` function calling ``entry`` (a Numba dispatcher)."""
    from symdiff.backend import cache
    from symdiff.pipeline import compiler_digest

    name = f"{getattr(entry, '__module__', '?')}.{getattr(entry, '__name__', '?')}"
    text = source(param_kinds, data_kinds, name)
    digest = hashlib.sha256(f"{compiler_digest()}\0{name}\0{text}".encode()).hexdigest()
    found = _LOOPS.get(digest)
    if found is not None:
        return found
    path = cache.cache_dir() / f"optim_loop_{digest[:24]}.py"
    if cache.read_valid(path) is None:
        cache.write_atomic(path, cache.with_checksum(text))
    module = cache.import_file(path)
    module._entry = entry
    _LOOPS[digest] = module.run
    return module.run
