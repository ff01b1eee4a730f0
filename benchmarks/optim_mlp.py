#!/usr/bin/env python
"""Epochs per second of the 64-128-10 tanh MLP on digits: symdiff.optim against PyTorch (CPU).

    python benchmarks/optim_mlp.py                 # about a minute after compilation
    python benchmarks/optim_mlp.py --epochs 5 --repeats 3     # quicker
    python benchmarks/optim_mlp.py --json out.json

The training loop is the same everywhere: the 1347 training images of
scikit-learn's digits (pixels / 16, a stratified quarter held out, as in
examples/digits.py), float64, minibatches of 32 in a new random order each
epoch, mean softmax cross-entropy, and SGD with momentum 0.9 (lr 0.05) or
Adam (lr 2e-3). Systems:

  * ``symdiff.optim`` -- ``optim.sgd`` / ``optim.adam``: the whole epoch loop
    compiled (shuffle, gather, slicing, gradient, update), one call for all epochs;
  * ``symdiff, Python loop`` -- the same epochs as a Python loop around symdiff's
    compiled ``value_and_grad`` entry (NumPy shuffle, slicing and updates): what
    the compiled loop saves;
  * ``PyTorch`` -- ``torch.randperm``, indexing, ``nn.functional`` forward,
    ``backward()``, ``torch.optim.SGD(momentum=0.9)`` / ``torch.optim.Adam``, in
    float64 on the CPU (skipped when torch is not installed).

Everything runs single-threaded (thread variables set before NumPy is imported;
``torch.set_num_threads(1)``). Each measurement trains ``--epochs`` epochs from
the same initial weights; systems are measured in interleaved rounds and the
median over ``--repeats`` rounds is reported, with the test accuracy reached.
"""

from __future__ import annotations

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _digits_example():
    spec = importlib.util.spec_from_file_location("digits_example", ROOT / "examples" / "digits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ex = _digits_example()
mlp_loss = ex.mlp_loss

SETTINGS = {"sgd": {"lr": 0.05, "momentum": 0.9}, "adam": {"lr": 2e-3}}
BATCH = 32


# ---------------------------------------------------------------------------- the systems


def symdiff_compiled(method: str, X, y, init, epochs: int) -> tuple[float, Any]:
    from symdiff import optim

    res = getattr(optim, method)(mlp_loss, init, X, y, epochs=epochs, batch_size=BATCH, seed=1,
                                 **SETTINGS[method])
    assert res.compiled, res.note
    return res.seconds, res.params


def symdiff_python_loop(method: str, X, y, init, epochs: int) -> tuple[float, Any]:
    import symdiff as sd

    entry = sd.value_and_grad(mlp_loss, argnums=(0, 1, 2, 3)).compile(*init, X[:BATCH], y[:BATCH])
    params = [p.copy() for p in init]
    m = [np.zeros_like(p) for p in params]
    s = [np.zeros_like(p) for p in params]
    lr = SETTINGS[method]["lr"]
    rng = np.random.default_rng(1)
    n = len(y)
    t = 0
    start = time.perf_counter()
    for _ in range(epochs):
        perm = rng.permutation(n)
        Xs, ys = X[perm], y[perm]
        for b in range(0, n, BATCH):
            _, grads = entry(*params, Xs[b:b + BATCH], ys[b:b + BATCH])
            t += 1
            for k, g in enumerate(grads):
                if method == "sgd":
                    m[k] *= 0.9
                    m[k] += g
                    params[k] -= lr * m[k]
                else:
                    m[k] *= 0.9
                    m[k] += 0.1 * g
                    s[k] *= 0.999
                    s[k] += 0.001 * g * g
                    params[k] -= lr * (m[k] / (1 - 0.9 ** t)) / (np.sqrt(s[k] / (1 - 0.999 ** t)) + 1e-8)
    return time.perf_counter() - start, tuple(params)


def torch_loop(method: str, X, y, init, epochs: int) -> tuple[float, Any]:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y)
    params = [torch.tensor(p, requires_grad=True) for p in init]
    W1, b1, W2, b2 = params
    if method == "sgd":
        opt = torch.optim.SGD(params, lr=SETTINGS["sgd"]["lr"], momentum=0.9)
    else:
        opt = torch.optim.Adam(params, lr=SETTINGS["adam"]["lr"])
    gen = torch.Generator().manual_seed(1)
    n = len(y)
    start = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        Xs, ys = Xt[perm], yt[perm]
        for b in range(0, n, BATCH):
            xb, yb = Xs[b:b + BATCH], ys[b:b + BATCH]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(torch.tanh(xb @ W1 + b1) @ W2 + b2, yb)
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - start
    return seconds, tuple(p.detach().numpy().copy() for p in params)


def _have_torch() -> bool:
    return importlib.util.find_spec("torch") is not None


# ---------------------------------------------------------------------------- harness


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=20, help="epochs per measurement (20)")
    ap.add_argument("--repeats", type=int, default=7, help="interleaved rounds (7)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)

    X_train, X_test, y_train, y_test = ex.load()
    init = ex.init_mlp()
    systems: dict[str, Callable[..., tuple[float, Any]]] = {
        "symdiff.optim (compiled epoch loop)": symdiff_compiled,
        "symdiff gradient, Python loop": symdiff_python_loop,
    }
    if _have_torch():
        import torch
        systems[f"PyTorch {torch.__version__} (CPU)"] = torch_loop
    else:
        print("PyTorch is not installed: its rows are skipped (pip install -e \".[bench]\")")

    results: dict[str, dict[str, Any]] = {}
    for method in SETTINGS:
        # Warm up: compile everything (symdiff's gradient and epoch loop, Numba) outside the clock.
        for fn in systems.values():
            fn(method, X_train, y_train, init, 1)
        times: dict[str, list[float]] = {name: [] for name in systems}
        accs: dict[str, float] = {}
        names = list(systems)
        for r in range(args.repeats):
            for name in names[r % len(names):] + names[:r % len(names)]:
                seconds, params = systems[name](method, X_train, y_train, init, args.epochs)
                times[name].append(seconds)
                accs[name] = ex.accuracy(ex.mlp_predict(params, X_test), y_test)
        for name in systems:
            med = statistics.median(times[name])
            results[f"{method}: {name}"] = {
                "method": method, "system": name, "epochs": args.epochs,
                "median_seconds": med, "epochs_per_second": args.epochs / med,
                "ms_per_epoch": 1e3 * med / args.epochs, "test_accuracy": accs[name],
                "all_seconds": times[name]}

    base = {m: results[f"{m}: symdiff.optim (compiled epoch loop)"]["epochs_per_second"]
            for m in SETTINGS}
    print(f"\nMLP 64-128-10 tanh on digits: {len(y_train)} training images, batch {BATCH}, "
          f"{args.epochs} epochs per measurement, median of {args.repeats}\n")
    print("| optimizer | system | epochs/s | ms/epoch | symdiff.optim speed-up | test accuracy |")
    print("|---|---|---:|---:|---:|---:|")
    for r in results.values():
        m = r["method"]
        label = "SGD, momentum 0.9" if m == "sgd" else "Adam"
        print(f"| {label} | {r['system']} | {r['epochs_per_second']:.0f} | {r['ms_per_epoch']:.2f} | "
              f"{base[m] / r['epochs_per_second']:.2f}x | {r['test_accuracy']:.3f} |")
    info = {"python": platform.python_version(), "machine": platform.machine(),
            "processor": platform.processor() or "", "numpy": np.__version__,
            "commit": _commit(), "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None}
    print(f"\n{json.dumps(info)}")
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "results": results}, indent=1))
    return 0


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


if __name__ == "__main__":
    raise SystemExit(main())
