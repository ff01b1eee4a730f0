"""The shuffling of the first-order optimizers: one seeded permutation per epoch.

A Fisher-Yates shuffle driven by SplitMix64, compiled with Numba. The compiled
epoch loops and the Python fallback loop both call this one function, so a
seed gives the same batches whichever loop runs (and NumPy's and Numba's
global random states are left alone).
"""

from __future__ import annotations

import numba
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)


@numba.njit(cache=True)
def permute(perm, state):
    """Fill ``perm`` (int64) with a uniformly random permutation of ``0..n-1``.

    ``state`` is a one-element uint64 array, advanced in place.
    """
    n = perm.shape[0]
    for i in range(n):
        perm[i] = i
    s = state[0]
    for i in range(n - 1, 0, -1):
        s += _GOLDEN
        z = s
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
        z = z ^ (z >> _S31)
        # modulo bias: (i + 1) / 2**64, far below anything measurable
        j = np.int64(z % np.uint64(i + 1))
        t = perm[i]
        perm[i] = perm[j]
        perm[j] = t
    state[0] = s


def new_state(seed: int | None) -> np.ndarray:
    """The generator state for ``seed`` (fresh entropy when None)."""
    if seed is None:
        seed = int(np.random.SeedSequence().entropy) & (2**64 - 1)
    # One SplitMix64 step of the seed, so that nearby seeds start far apart.
    return np.array([(int(seed) * 0x2545F4914F6CDD1D + 0x632BE59BD9B4E019) & (2**64 - 1)],
                    dtype=np.uint64)
