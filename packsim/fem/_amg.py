"""W-cycles over a pyamg hierarchy with compiled block Gauss-Seidel sweeps (numba).

pyamg builds the hierarchy (aggregates, prolongators, Galerkin coarse matrices); this module runs
the cycles, because pyamg's own spend most of a CG iteration re-reading the fine matrix: a block
Gauss-Seidel sweep of pyamg 5.4 cost 2.0-2.6 bare matvecs on a 183k-DOF package (32-42 ms
against 16 ms), the residual one more, so the fine level of a cycle read the matrix about five
times. Here a sweep reads each block once (about one matvec), and the pre-smoothing sweep, which
always starts from zero, reads only the lower triangle and yields the residual as it goes:

- a forward sweep from x = 0 solves (D + L) x = b, so the residual is b - A x = -U x;
- A is symmetric, so U's block (j, i) is L's block (i, j) transposed: once x_i is known, row i's
  lower blocks, still in cache, add -A_ij^T x_i to the residual of each row j < i.

The fine level of a cycle then reads the matrix one and a half times (half for the pre-smoothing
and residual, once for the post-smoothing). On the 183k-DOF package of benchmarks/compression.py:
a forward sweep from zero with the residual 16 ms, a sweep 22 ms, a bare matvec 16 ms; a W-cycle
54 ms against pyamg's 148 ms; CG to 1e-8 in the same 30 iterations, 2.2 s against 4.8-5.0 s.

On 3 x 3 blocks the sweeps are pyamg's ``block_gauss_seidel`` (forward before the coarse
correction, backward after) up to rounding. Coarse levels, whose blocks are 6 x 6 (six rigid-body
modes per aggregate), are swept in 3 x 3 blocks, so that one pair of kernels serves all levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numba import njit
from pyamg import amg_core


@njit(inline="always")
def _less_product(d, x0, x1, x2, r0, r1, r2):
    """(r0, r1, r2) - d (x0, x1, x2) for a 3 x 3 block d, in registers."""
    return (r0 - d[0, 0] * x0 - d[0, 1] * x1 - d[0, 2] * x2,
            r1 - d[1, 0] * x0 - d[1, 1] * x1 - d[1, 2] * x2,
            r2 - d[2, 0] * x0 - d[2, 1] * x1 - d[2, 2] * x2)


@njit(inline="always")
def _product(d, r0, r1, r2):
    return _less_product(d, -r0, -r1, -r2, 0.0, 0.0, 0.0)


@njit(cache=True, nogil=True)
def _sweep(indptr, indices, data, diagonal, inverse, x, b, forward):
    """One block Gauss-Seidel sweep on x in place, x_i = D_i^-1 (b_i - sum_{j != i} A_ij x_j),
    rows in increasing (``forward``) or decreasing order. 3 x 3 blocks; ``diagonal`` is the
    position of each row's diagonal block in ``data``, ``inverse`` the inverted diagonal blocks."""
    rows = len(indptr) - 1
    for k in range(rows):
        i = k if forward else rows - 1 - k
        r0, r1, r2 = b[3 * i], b[3 * i + 1], b[3 * i + 2]
        for p in range(indptr[i], indptr[i + 1]):
            if p != diagonal[i]:
                j = 3 * indices[p]
                r0, r1, r2 = _less_product(data[p], x[j], x[j + 1], x[j + 2], r0, r1, r2)
        x[3 * i], x[3 * i + 1], x[3 * i + 2] = _product(inverse[i], r0, r1, r2)


@njit(cache=True, nogil=True)
def _sweep_from_zero(indptr, indices, data, diagonal, inverse, singular, x, b, residual):
    """A forward block Gauss-Seidel sweep from x = 0 into ``x``, and the residual b - A x into
    ``residual``, reading only the lower blocks of the symmetric matrix (3 x 3 blocks, sorted
    indices). The sweep leaves (D + L) x = b, so the residual is -U x, built from the lower
    blocks transposed; except in the rows of a ``singular`` diagonal block, whose pseudo-inverse
    leaves b - (D + L) x in its null space."""
    rows = len(indptr) - 1
    residual[:] = 0.0
    for i in range(rows):
        r0, r1, r2 = b[3 * i], b[3 * i + 1], b[3 * i + 2]
        for p in range(indptr[i], diagonal[i]):
            j = 3 * indices[p]
            r0, r1, r2 = _less_product(data[p], x[j], x[j + 1], x[j + 2], r0, r1, r2)
        x0, x1, x2 = _product(inverse[i], r0, r1, r2)
        x[3 * i], x[3 * i + 1], x[3 * i + 2] = x0, x1, x2
        if singular[i]:
            left = _less_product(data[diagonal[i]], x0, x1, x2, r0, r1, r2)
            for c in range(3):
                residual[3 * i + c] += left[c]
        for p in range(indptr[i], diagonal[i]):
            j = 3 * indices[p]
            residual[j], residual[j + 1], residual[j + 2] = _less_product(
                data[p].T, x0, x1, x2, residual[j], residual[j + 1], residual[j + 2])


@dataclass(frozen=True)
class _Level:
    matrix: sp.bsr_matrix
    diagonal: np.ndarray
    inverse: np.ndarray
    singular: np.ndarray
    restriction: sp.spmatrix
    prolongation: sp.spmatrix

    @classmethod
    def of(cls, level) -> _Level:
        a = sp.bsr_matrix(level.A, blocksize=(3, 3))
        if not a.has_sorted_indices:
            a = a.sorted_indices()
        rows = np.repeat(np.arange(len(a.indptr) - 1), np.diff(a.indptr))
        diagonal = np.flatnonzero(rows == a.indices)
        if len(diagonal) != len(a.indptr) - 1:
            raise ValueError("every block row of an AMG level needs its diagonal block")
        # Pseudo-inverses, as pyamg's block smoothers take them: on a coarse level an aggregate
        # of nodes on a line (a thin rib) has no stiffness against the rotation about it, and
        # the sweep must leave that component alone rather than fail.
        blocks = a.data[diagonal]
        inverse = blocks.copy()
        amg_core.pinv_array(inverse.ravel(), len(diagonal), 3, "T")
        singular = np.abs(blocks @ inverse - np.eye(3)).max(axis=(1, 2)) > 1e-8
        return cls(a, diagonal, inverse, singular, level.R, level.P)

    def _kernel_arguments(self) -> tuple:
        return self.matrix.indptr, self.matrix.indices, self.matrix.data, self.diagonal, self.inverse

    def smooth_from_zero(self, x: np.ndarray, b: np.ndarray) -> np.ndarray:
        residual = np.empty_like(b)
        _sweep_from_zero(*self._kernel_arguments(), self.singular, x, b, residual)
        return residual

    def sweep(self, x: np.ndarray, b: np.ndarray, forward: bool) -> None:
        _sweep(*self._kernel_arguments(), x, b, forward)


class WCycle:
    """The W-cycle preconditioner of a pyamg hierarchy, one forward block Gauss-Seidel sweep
    before each coarse correction and one backward after (a symmetric preconditioner).

    Parameters
    ----------
    hierarchy : pyamg.multilevel.MultilevelSolver
        Built on a symmetric BSR matrix, with any aggregation and coarse solver.
    """

    def __init__(self, hierarchy) -> None:
        self._levels = [_Level.of(level) for level in hierarchy.levels[:-1]]
        self._coarsest = hierarchy.levels[-1].A
        self._coarse_solve = hierarchy.coarse_solver

    def __call__(self, b: np.ndarray) -> np.ndarray:
        b = np.asarray(b, dtype=float).ravel()
        if not self._levels:  # a matrix small enough to be its own coarsest level
            return self._coarse_solve(self._coarsest, b)
        x = np.zeros_like(b)
        self._cycle(0, x, b, from_zero=True)
        return x

    def _cycle(self, depth: int, x: np.ndarray, b: np.ndarray, from_zero: bool) -> None:
        level = self._levels[depth]
        if from_zero:
            residual = level.smooth_from_zero(x, b)
        else:
            level.sweep(x, b, forward=True)
            residual = b - level.matrix @ x
        coarse_b = level.restriction @ residual
        coarse_x = np.zeros_like(coarse_b)
        if depth == len(self._levels) - 1:
            coarse_x[:] = self._coarse_solve(self._coarsest, coarse_b)
        else:
            self._cycle(depth + 1, coarse_x, coarse_b, from_zero=True)
            self._cycle(depth + 1, coarse_x, coarse_b, from_zero=False)
        x += level.prolongation @ coarse_x
        level.sweep(x, b, forward=False)
