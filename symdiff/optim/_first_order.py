"""Gradient descent in its batch, stochastic and minibatch forms, with momentum, and Adam.

Both `sgd` and `adam` go through `_train`, which checks the arguments, builds
symdiff's compiled ``value_and_grad`` entry of the loss, and runs the epochs in
the compiled loop of `symdiff.optim._loop` (or, when Numba cannot compile the
loss, in a Python loop with the same semantics; the result says which).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symdiff.errors import SymdiffError
from symdiff.optim._common import (
    NonFiniteLossError,
    OptimError,
    as_float_array,
    check_scalar_loss,
    data_array,
    unwrap,
    value_and_grad_entry,
)


@dataclass
class TrainResult:
    """What `sgd` and `adam` return.

    Attributes:
        params: the trained parameters, in the structure they were given (one
            array, or a tuple; a float stays a float).
        history: mean loss of each epoch: the mean over the epoch's batches of
            each batch's loss, weighted by batch size, each evaluated at the
            parameters before that batch's update. For batch gradient descent
            it is the full-data loss at the start of the epoch.
        epochs: epochs run (fewer than asked when a callback stopped early).
        seconds: wall time of the epochs (compilation excluded).
        times: wall time since the first epoch started, at the end of each epoch.
        compiled: True when the epochs ran in compiled code, False for the
            Python loop; ``note`` says why.
        steps: parameter updates made.
        compile_seconds: time spent building the gradient and the epoch loop
            (near zero when both come from the disk cache).
    """

    params: Any
    history: np.ndarray
    epochs: int
    seconds: float
    times: np.ndarray
    compiled: bool
    method: str
    batch_size: int
    steps: int
    compile_seconds: float
    note: str = ""
    loss: Any = field(default=None, repr=False)

    def __repr__(self) -> str:
        last = f"{self.history[-1]:.6g}" if len(self.history) else "n/a"
        mode = "compiled" if self.compiled else "python loop"
        return (f"TrainResult({self.method}, epochs={self.epochs}, batch_size={self.batch_size}, "
                f"final loss={last}, seconds={self.seconds:.3g}, {mode})")


# ----------------------------------------------------------------------------- public API


def sgd(loss: Callable[..., Any], params: Any, *data: Any, lr: float, epochs: int,
        batch_size: int | None = None, momentum: float = 0.0, nesterov: bool = False,
        shuffle: bool = True, seed: int | None = 0,
        schedule: Callable[[int], float] | Sequence[float] | None = None,
        callback: Callable[[int, float, Any], Any] | None = None,
        progress: bool = False) -> TrainResult:
    """Gradient descent with symdiff's gradient: batch, stochastic or minibatch.

    ``loss(*params, *batch)`` must return a float scalar (a mean over the
    batch, usually). ``params`` is one array or a tuple of arrays (floats are
    allowed); they are copied, never modified. Each array in ``data`` is
    sliced along axis 0 into batches; numbers in ``data`` are passed unchanged.

    ``batch_size=None`` is batch gradient descent (one update per epoch on all
    the data), ``1`` stochastic gradient descent, ``k`` minibatches of ``k``
    rows (the last one smaller when ``k`` does not divide the row count). With
    ``shuffle`` the rows are put in a new random order every epoch, from
    ``seed``; the same seed gives the same batches.

    The update of each parameter ``theta`` with gradient ``g`` of the batch loss:

    - ``momentum == 0``: ``theta <- theta - lr * g``
    - momentum ``mu``: ``v <- mu * v + g;  theta <- theta - lr * v`` (``v`` starts at 0)
    - ``nesterov=True``: ``v <- mu * v + g;  theta <- theta - lr * (g + mu * v)``

    ``schedule`` scales the learning rate per epoch: ``lr * schedule(epoch)``
    (epochs count from 0), or a sequence of factors, one per epoch.
    ``callback(epoch, mean_loss, params)`` runs after each epoch with the live
    parameters (copy them to keep them); returning True stops training.
    ``progress=True`` shows a tqdm progress bar. Without a callback and a
    progress bar, all epochs run in one call of compiled code.

    Returns a `TrainResult`. Raises `NonFiniteLossError` when the loss becomes
    NaN or infinite (the learning rate is often too large), `OptimError` for
    arguments that do not fit (data of different lengths, ...).
    """
    who = "symdiff.optim.sgd"
    mu = _number(momentum, "momentum", who, lo=0.0, hi=1.0, hi_open=True)
    if nesterov and mu == 0.0:
        raise OptimError(f"{who}: nesterov=True needs momentum > 0")
    hyper = dict(method=0, mu=mu, nesterov=bool(nesterov), b1=0.0, b2=0.0, eps=0.0)
    name = "sgd" if mu == 0.0 else ("nesterov" if nesterov else "momentum")
    return _train(name, who, loss, params, data, lr, epochs, batch_size, shuffle, seed,
                  schedule, callback, progress, hyper, moments=0 if mu == 0.0 else 1)


def adam(loss: Callable[..., Any], params: Any, *data: Any, lr: float = 1e-3, epochs: int,
         batch_size: int | None = None, beta1: float = 0.9, beta2: float = 0.999,
         eps: float = 1e-8, shuffle: bool = True, seed: int | None = 0,
         schedule: Callable[[int], float] | Sequence[float] | None = None,
         callback: Callable[[int, float, Any], Any] | None = None,
         progress: bool = False) -> TrainResult:
    """Adam (Kingma and Ba, 2015) with symdiff's gradient; arguments as in `sgd`.

    For each parameter, with ``t`` counting updates from 1::

        m <- beta1 * m + (1 - beta1) * g
        s <- beta2 * s + (1 - beta2) * g**2
        theta <- theta - lr * (m / (1 - beta1**t)) / (sqrt(s / (1 - beta2**t)) + eps)

    (the update of ``torch.optim.Adam``; the bias corrections are applied as the
    factors ``lr / (1 - beta1**t)`` and ``1 / sqrt(1 - beta2**t)``, once per step).
    """
    who = "symdiff.optim.adam"
    b1 = _number(beta1, "beta1", who, lo=0.0, hi=1.0, hi_open=True)
    b2 = _number(beta2, "beta2", who, lo=0.0, hi=1.0, hi_open=True)
    e = _number(eps, "eps", who, lo=0.0)
    if e <= 0.0:
        raise OptimError(f"{who}: eps must be > 0, got {eps!r}")
    hyper = dict(method=1, mu=0.0, nesterov=False, b1=b1, b2=b2, eps=e)
    return _train("adam", who, loss, params, data, lr, epochs, batch_size, shuffle, seed,
                  schedule, callback, progress, hyper, moments=2)


# ----------------------------------------------------------------------------- checks


def _number(x: Any, name: str, who: str, lo: float | None = None, hi: float | None = None,
            hi_open: bool = False) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise OptimError(f"{who}: {name} must be a number, got {x!r}")
    v = float(x)
    if not math.isfinite(v) or (lo is not None and v < lo) or (hi is not None and (
            v >= hi if hi_open else v > hi)):
        bounds = f"[{lo}, {hi}{')' if hi_open else ']'}" if hi is not None else f">= {lo}"
        raise OptimError(f"{who}: {name} must be in {bounds}, got {x!r}")
    return v


def _count(x: Any, name: str, who: str, lo: int) -> int:
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < lo:
        raise OptimError(f"{who}: {name} must be an int >= {lo}, got {x!r}")
    return int(x)


@dataclass
class _Param:
    form: str            # "array", "0d" or "scalar": how it was given, and how it is returned
    value: Any           # float64 array (form "array"), or float


def _params(params: Any, who: str) -> tuple[list[_Param], bool]:
    """The parameters as private float64 values, and whether one was given (not a tuple)."""
    single = not isinstance(params, (tuple, list))
    items = [params] if single else list(params)
    if not items:
        raise OptimError(f"{who}: params is empty; give an array or a tuple of arrays")
    out = []
    for k, p in enumerate(items):
        what = "params" if single else f"params[{k}]"
        a = as_float_array(p, what, who)
        if a.ndim == 0:
            form = "0d" if isinstance(p, np.ndarray) else "scalar"
            out.append(_Param(form, float(a)))
        else:
            if a.size == 0:
                raise OptimError(f"{who}: {what} is empty")
            out.append(_Param("array", a))
    return out, single


def _lrs(lr: float, epochs: int, schedule: Any, who: str) -> np.ndarray:
    if schedule is None:
        return np.full(epochs, lr)
    if callable(schedule):
        factors = []
        for e in range(epochs):
            f = schedule(e)
            factors.append(_number(f, f"schedule({e})", who, lo=0.0))
        return lr * np.asarray(factors, dtype=np.float64).reshape(epochs)
    f = np.asarray(schedule, dtype=np.float64)
    if f.ndim != 1 or len(f) < epochs:
        raise OptimError(f"{who}: schedule must be a callable or a sequence of at least "
                         f"{epochs} factors (one per epoch), got shape {f.shape}")
    if not np.all(np.isfinite(f)) or np.any(f < 0):
        raise OptimError(f"{who}: schedule factors must be finite and >= 0")
    return lr * f[:epochs].copy()


# ----------------------------------------------------------------------------- the driver


def _train(name: str, who: str, loss: Any, params: Any, data: tuple[Any, ...], lr: Any,
           epochs: Any, batch_size: Any, shuffle: bool, seed: int | None, schedule: Any,
           callback: Any, progress: bool, hyper: dict[str, Any], moments: int) -> TrainResult:
    from symdiff.signature import bind_arguments

    fn, backend = unwrap(loss, who)
    lr_value = _number(lr, "lr", who, lo=0.0)
    if lr_value <= 0.0:
        raise OptimError(f"{who}: lr must be > 0, got {lr!r}")
    n_epochs = _count(epochs, "epochs", who, 0)
    plist, single = _params(params, who)
    dlist = [data_array(d, k, who) for k, d in enumerate(data)]
    sliced = [k for k, d in enumerate(dlist) if isinstance(d, np.ndarray)]
    lengths = {k: dlist[k].shape[0] for k in sliced}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"data[{k}] has {m}" for k, m in lengths.items())
        raise OptimError(f"{who}: the data arrays must have the same length along axis 0 "
                         f"(one row per example); {desc} rows")
    n = next(iter(lengths.values())) if sliced else 1
    if n == 0:
        raise OptimError(f"{who}: the data arrays have no rows")
    if batch_size is None:
        bs = n
    else:
        bs = min(_count(batch_size, "batch_size", who, 1), n)
    shuffle = bool(shuffle) and bs < n and bool(sliced)
    if callback is not None and not callable(callback):
        raise OptimError(f"{who}: callback must be callable, got {type(callback).__name__}")
    lrs = _lrs(lr_value, n_epochs, schedule, who)

    P = len(plist)
    call_args = [p.value for p in plist] + dlist
    try:
        full = bind_arguments(fn, call_args)
    except SymdiffError as e:
        e.add_note(f"{who} calls loss(*params, *batch): {P} parameter(s), then "
                   f"{len(dlist)} data argument(s)")
        raise
    consts_extra = list(full[len(call_args):])
    # Kinds of everything passed after the parameters: sliced arrays and constants.
    tail = dlist + consts_extra
    data_kinds = [("slice", d.ndim) if k in sliced else ("const",) for k, d in enumerate(tail)]
    param_kinds = [p.value.ndim if p.form == "array" else 0 for p in plist]

    t0 = time.perf_counter()
    example = [p.value for p in plist] + [d[:bs] if k in sliced else d for k, d in enumerate(tail)]
    entry = value_and_grad_entry(fn, backend, P, example, who)
    state = _State(plist, tail, sliced, n, bs, shuffle, seed, lrs, hyper, moments)

    runner, compiled, note = None, False, ""
    if backend == "numba":
        try:
            runner = _compiled_runner(entry, param_kinds, data_kinds, state)
            compiled = True
        except Exception as e:  # Numba could not compile the loss or the loop
            if isinstance(e, SymdiffError) and not _numba_error(e):
                raise
            note = f"Numba could not compile the epoch loop ({type(e).__name__}: {_first_line(e)})"
            try:
                _check_entry(entry, example, who)
            except Exception as e2:
                if not _numba_error(e2):
                    raise
                entry = value_and_grad_entry(fn, "python", P, example, who)
                note += "; the gradient runs on symdiff's NumPy backend"
            warnings.warn(f"{who}: {note}; running a Python loop", RuntimeWarning, stacklevel=3)
    else:
        note = "the loss was given for symdiff's NumPy backend (backend='python')"
    if runner is None:
        _check_entry(entry, example, who)
        runner = _python_runner(entry, state)
    compile_seconds = time.perf_counter() - t0

    bar = None
    if progress:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            raise OptimError(f"{who}: progress=True needs tqdm (pip install tqdm)") from None
        bar = tqdm(total=n_epochs, desc=name, unit="epoch")

    start = time.perf_counter()
    done = n_epochs
    try:
        if callback is None and bar is None:
            _finish(runner(0, n_epochs), state, who)
        else:
            for e in range(n_epochs):
                _finish(runner(e, e + 1), state, who)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{state.hist[e]:.4g}", refresh=False)
                if callback is not None and callback(e, float(state.hist[e]),
                                                     state.structured(single)):
                    done = e + 1
                    break
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - start
    state.check_params(who)
    return TrainResult(params=state.structured(single), history=state.hist[:done].copy(),
                       epochs=done, seconds=seconds, times=state.times[:done] - start,
                       compiled=compiled, method=name, batch_size=bs, steps=int(state.t),
                       compile_seconds=compile_seconds, note=note, loss=fn)


class _State:
    """Everything the epoch loops read and update: parameters, moments, work buffers."""

    def __init__(self, plist: list[_Param], tail: list[Any], sliced: list[int], n: int, bs: int,
                 shuffle: bool, seed: int | None, lrs: np.ndarray, hyper: dict[str, Any],
                 moments: int):
        from symdiff.optim._rng import new_state

        self.plist = plist
        self.arrays = [p.value for p in plist if p.form == "array"]
        self.scalar_ids = [k for k, p in enumerate(plist) if p.form != "array"]
        self.sp = np.array([plist[k].value for k in self.scalar_ids], dtype=np.float64)
        ns = len(self.scalar_ids)

        def moment(a: np.ndarray, used: bool) -> np.ndarray:
            return np.zeros_like(a) if used else np.zeros((0,) * a.ndim)
        self.m = [moment(a, moments >= 1) for a in self.arrays]
        self.s = [moment(a, moments >= 2) for a in self.arrays]
        self.sm = np.zeros(ns if moments >= 1 else 0)
        self.ss = np.zeros(ns if moments >= 2 else 0)
        self.tail = tail
        self.sliced = sliced
        self.consts = [d for k, d in enumerate(tail) if k not in sliced]
        self.work = [np.empty_like(tail[k]) if shuffle else tail[k] for k in sliced]
        self.D = [tail[k].reshape(n, -1) if tail[k].size else tail[k].reshape(n, 0)
                  for k in sliced]
        self.W = [w.reshape(n, -1) if w.size else w.reshape(n, 0) for w in self.work]
        self.perm = np.empty(n if shuffle else 0, dtype=np.int64)
        self.rng = new_state(seed)
        self.n, self.bs, self.shuffle = n, bs, shuffle
        self.lrs = lrs
        self.hist = np.full(len(lrs), np.nan)
        self.times = np.full(len(lrs), np.nan)
        self.hyper = hyper
        self.t = 0
        self.failure: tuple[int, int, int] | None = None

    def scalar(self, k: int) -> float:
        return float(self.sp[self.scalar_ids.index(k)])

    def structured(self, single: bool) -> Any:
        out = []
        for k, p in enumerate(self.plist):
            if p.form == "array":
                out.append(p.value)
            else:
                v = self.scalar(k)
                out.append(np.array(v) if p.form == "0d" else v)
        return out[0] if single else tuple(out)

    def check_params(self, who: str) -> None:
        bad = [k for k, p in enumerate(self.plist)
               if not np.all(np.isfinite(p.value if p.form == "array" else self.scalar(k)))]
        if bad:
            raise NonFiniteLossError(
                f"{who}: the last update made parameter(s) {bad} NaN or infinite (the "
                "gradient was not finite); try a smaller learning rate")


def _finish(status: tuple[int, int, int], state: _State, who: str) -> None:
    code, e, b = status
    if code == 1:
        lr = state.lrs[e]
        raise NonFiniteLossError(
            f"{who}: the loss became NaN or infinite at epoch {e}, batch {b} (learning "
            f"rate {lr:g}); the steps may be too large: try a smaller lr, or check the "
            "loss for log(0), division by zero or overflow at these parameters")


def _compiled_runner(entry: Any, param_kinds: list[int], data_kinds: list[tuple[Any, ...]],
                     state: _State) -> Callable[[int, int], tuple[int, int, int]]:
    from symdiff.optim._loop import epoch_loop

    run = epoch_loop(param_kinds, data_kinds, entry)
    h = state.hyper
    s = state
    fixed_head = (*s.arrays, s.sp, s.sm, s.ss, *s.m, *s.s, *s.work, *s.D, *s.W, *s.consts,
                  s.perm, s.rng, s.lrs, s.hist, s.times)
    fixed_tail = (s.n, s.bs, s.shuffle, int(h["method"]), float(h["mu"]), bool(h["nesterov"]),
                  float(h["b1"]), float(h["b2"]), float(h["eps"]))

    def runner(e_start: int, e_stop: int) -> tuple[int, int, int]:
        code, e, b, t = run(*fixed_head, e_start, e_stop, *fixed_tail, s.t)
        s.t = t
        return code, e, b

    runner(0, 0)  # compiles (or loads from the cache) before the clock starts
    return runner


def _python_runner(entry: Any, state: _State) -> Callable[[int, int], tuple[int, int, int]]:
    """The same epochs as the compiled loop, as a Python loop around the gradient entry."""
    from symdiff.optim._rng import permute

    s = state
    h = s.hyper
    method, mu, nesterov = h["method"], h["mu"], h["nesterov"]
    b1, b2, eps = h["b1"], h["b2"], h["eps"]
    plist = s.plist
    P = len(plist)
    arr_index = {}
    j = 0
    for k, p in enumerate(plist):
        if p.form == "array":
            arr_index[k] = j
            j += 1
    scal_index = {k: i for i, k in enumerate(s.scalar_ids)}

    def runner(e_start: int, e_stop: int) -> tuple[int, int, int]:
        vals: list[Any] = [p.value if p.form == "array" else float(s.sp[scal_index[k]])
                           for k, p in enumerate(plist)]
        work_of = dict(zip(s.sliced, s.work, strict=True))
        try:
            for e in range(e_start, e_stop):
                lr = float(s.lrs[e])
                if s.shuffle:
                    permute(s.perm, s.rng)
                    for k, w in work_of.items():
                        np.take(s.tail[k], s.perm, axis=0, out=w)
                total = 0.0
                start, b = 0, 0
                while start < s.n:
                    stop = min(start + s.bs, s.n)
                    batch = [work_of[k][start:stop] if k in work_of else d
                             for k, d in enumerate(s.tail)]
                    value, grads = entry(*vals, *batch)
                    if P == 1:
                        grads = (grads,)
                    value = check_scalar_loss(value, "loss")
                    if not math.isfinite(value):
                        return 1, e, b
                    total += value * (stop - start)
                    s.t += 1
                    t = s.t
                    for k in range(P):
                        g = grads[k]
                        if k in arr_index:
                            a = arr_index[k]
                            p, m, v2 = vals[k], s.m[a], s.s[a]
                        else:
                            i = scal_index[k]
                            p, m, v2 = vals[k], s.sm[i:i + 1], s.ss[i:i + 1]
                        vals[k] = _python_update(p, g, m, v2, lr, method, mu, nesterov, b1, b2,
                                                 eps, t)
                    start = stop
                    b += 1
                s.hist[e] = total / s.n
                s.times[e] = time.perf_counter()
            return 0, e_stop, 0
        finally:
            for k, i in scal_index.items():
                s.sp[i] = vals[k]

    return runner


def _python_update(p: Any, g: Any, m: np.ndarray, s: np.ndarray, lr: float, method: int,
                   mu: float, nesterov: bool, b1: float, b2: float, eps: float, t: int) -> Any:
    """One update of one parameter; arrays in place, scalars returned (``m``/``s`` are
    one-element views for a scalar)."""
    scalar = not isinstance(p, np.ndarray)
    if method == 0 and mu == 0.0:
        step = lr * g
    elif method == 0:
        m *= mu
        m += g
        step = lr * (g + mu * m) if nesterov else lr * m
    else:
        m *= b1
        m += (1.0 - b1) * g
        s *= b2
        s += (1.0 - b2) * g * g
        step = (lr / (1.0 - b1 ** t)) * m / (np.sqrt(s) * (1.0 / math.sqrt(1.0 - b2 ** t)) + eps)
    if scalar:
        return p - float(np.asarray(step).reshape(-1)[0])
    p -= step
    return p


def _check_entry(entry: Any, example: list[Any], who: str) -> None:
    """Call the entry once: a loss that is not a scalar or fails at run time is reported here."""
    value, _ = entry(*example)
    check_scalar_loss(value, who)


def _numba_error(e: BaseException) -> bool:
    from symdiff.errors import CompileError

    return type(e).__module__.startswith("numba") or isinstance(e, CompileError)


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else ""
