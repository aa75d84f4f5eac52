"""Timing helpers shared by the benchmark scripts."""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp


def bare_matvec_s(matrix: sp.spmatrix, repeats: int = 20) -> float:
    """Best of five means of ``repeats`` products ``matrix @ x``, s: the memory-bandwidth floor
    of one sweep over the matrix on this machine, at this hour."""
    x = np.random.default_rng(0).standard_normal(matrix.shape[1])
    matrix @ x
    best = np.inf
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeats):
            matrix @ x
        best = min(best, (time.perf_counter() - start) / repeats)
    return best
