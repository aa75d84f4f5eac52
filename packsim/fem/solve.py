"""Linear solves and buckling eigenvalues for grid models with prescribed displacements.

Constrained degrees of freedom keep their rows in the matrix as scaled identity rows (their
columns moved to the right-hand side), so matrices keep the grid's block pattern. The default
solver is conjugate gradients preconditioned by aggregation AMG (pyamg's hierarchy, with the six
rigid-body modes as near-null space) in W-cycles with compiled smoothers (:mod:`._amg`).
shared/reference/perf-notes.md measured smoothed aggregation: 9 iterations on a homogeneous
block; packages with stiff walls round soft foam take 30-50 iterations of the cheaper plain
aggregation used here.
"""

from __future__ import annotations

import time

import numpy as np
import pyamg
import pymetis
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._amg import WCycle


# Measured on package models (stiff thin walls round soft foam, 178k DOFs; benchmarks/compression.py):
# - theta = 0.1 drops the weak foam-to-wall couplings from aggregation: 29 -> 15 CG iterations
#   (theta 0.05 is as good; 0.25 needs hundreds);
# - the rigid-body modes are exact near-null vectors, so relaxing them ("improving candidates",
#   pyamg's default) only costs setup time (1.6 s);
# - one forward Gauss-Seidel sweep before and one backward after (still a symmetric preconditioner)
#   halves the smoothing cost of pyamg's default symmetric sweeps for 3 more iterations (the
#   sweeps are now :class:`._amg.WCycle`'s, not pyamg's);
# - plain (unsmoothed) aggregation in W-cycles instead of smoothed aggregation in V-cycles: the
#   prolongator smoothing, its spectral-radius estimates and the denser Galerkin products were
#   90 % of the setup (3.0-4.3 s at 183k DOFs). Without them the setup takes 0.3 s; CG needs more
#   iterations (design (a) 18 -> 30, (b) 39 -> 41, (c) 25 -> 52), and the solve, setup included,
#   takes 5.3-5.7 s against 7.0-7.7 s on (a), 6.3 against 11.5 s on (b), 9.3 against 9.0 s on
#   (c); at 44k DOFs on (a) 1.7-1.8 against 1.9-2.1 s. A compression runs one solve per
#   hierarchy (buckling factorises a coarser model directly), so setup counts in full.
_AMG_OPTIONS = {
    "strength": ("symmetric", {"theta": 0.1}),
    "smooth": None,
    "improve_candidates": None,
    # WCycle smooths with its own compiled sweeps: pyamg's smoothers would only be set up.
    "presmoother": None,
    "postsmoother": None,
}


def constrain(matrix: sp.bsr_matrix, fixed: np.ndarray, diagonal: float = 1.0) -> sp.bsr_matrix:
    """Zero the rows and columns of ``fixed`` dofs (boolean mask) and put ``diagonal`` on them.

    Works on the 3 x 3 block matrices of the grid, whose diagonal blocks always exist, so the
    pattern is kept.
    """
    k = sp.bsr_matrix(matrix, blocksize=(3, 3), copy=True)
    fixed3 = fixed.reshape(-1, 3)
    block_row = np.repeat(np.arange(len(k.indptr) - 1), np.diff(k.indptr))
    zero = fixed3[block_row][:, :, None] | fixed3[k.indices][:, None, :]
    k.data[zero] = 0.0
    on_diagonal = block_row == k.indices
    eye = np.eye(3)[None, :, :] * (diagonal * fixed3[block_row[on_diagonal]])[:, :, None]
    k.data[on_diagonal] += eye
    return k


def rigid_body_modes(points: np.ndarray) -> np.ndarray:
    """The six rigid-body displacement fields of nodes ``points`` (n, 3): (3 n, 6)."""
    n = len(points)
    b = np.zeros((n, 3, 6))
    b[:, 0, 0] = b[:, 1, 1] = b[:, 2, 2] = 1.0
    x, y, z = points.T
    b[:, 1, 3], b[:, 2, 3] = -z, y
    b[:, 0, 4], b[:, 2, 4] = z, -x
    b[:, 0, 5], b[:, 1, 5] = -y, x
    return b.reshape(3 * n, 6)


class LinearSolver:
    """Solves K u = f repeatedly for one constrained stiffness matrix.

    Parameters
    ----------
    k_free : sparse matrix
        Stiffness with constrained rows/columns replaced by a scaled identity (:func:`constrain`).
    points : ndarray
        Node coordinates (n, 3), for the rigid-body near-null space of the AMG hierarchy.
    method : {"amg", "direct"}
        AMG-preconditioned CG (default, scales to 10^5-10^6 DOFs) or SuperLU on a nested
        dissection order (small models, and many solves with one matrix).
    rtol : float
        Relative residual tolerance of CG.
    """

    def __init__(self, k_free: sp.spmatrix, points: np.ndarray, method: str = "amg",
                 rtol: float = 1e-8):
        self.k = k_free
        self.method = method
        self.rtol = rtol
        self.iterations: list[int] = []
        start = time.perf_counter()
        if method == "amg":
            # Scale the rotation modes to the model size so that all six columns are O(1).
            centred = points - points.mean(axis=0)
            scale = max(float(np.abs(centred).max()), 1e-12)
            hierarchy = pyamg.smoothed_aggregation_solver(
                k_free, B=rigid_body_modes(centred / scale), symmetry="symmetric", max_coarse=300,
                coarse_solver="splu", **_AMG_OPTIONS,
            )
            n = k_free.shape[0]
            self.preconditioner = spla.LinearOperator((n, n), matvec=WCycle(hierarchy),
                                                      dtype=float)
        elif method == "direct":
            # Symmetric positive definite: no pivoting, so the fill-reducing order is kept.
            order = self._order = nested_dissection(k_free, len(points))
            self._lu = spla.splu(sp.csc_matrix(k_free)[order][:, order], permc_spec="NATURAL",
                                 diag_pivot_thresh=0.0, options={"SymmetricMode": True})
        else:
            raise ValueError(f"unknown solver method {method!r}; expected 'amg' or 'direct'")
        self.setup_s = time.perf_counter() - start

    def solve(self, f: np.ndarray) -> np.ndarray:
        """Displacements for the right-hand side ``f``."""
        if self.method == "direct":
            u = np.empty_like(f, dtype=float)
            u[self._order] = self._lu.solve(np.asarray(f, dtype=float)[self._order])
            return u
        count = [0]

        def tick(_: np.ndarray) -> None:
            count[0] += 1

        u, info = spla.cg(self.k, f, rtol=self.rtol, atol=0.0, M=self.preconditioner,
                          maxiter=2000, callback=tick)
        if info != 0:
            raise RuntimeError(f"CG did not converge in {count[0]} iterations (info={info})")
        self.iterations.append(count[0])
        return u


def nested_dissection(matrix: sp.spmatrix, n_nodes: int) -> np.ndarray:
    """A fill-reducing order of the rows of ``matrix`` (symmetric pattern): METIS nested
    dissection of its node graph, each node's three dofs kept together, where the matrix has
    three rows per node; of its row graph otherwise.

    SuperLU's own orders suit 3-D solid meshes poorly. Measured on design (a)'s constrained
    stiffness (18k DOFs): default (COLAMD, partial pivoting) 4.7 s to factorise, 41 ms per solve,
    17.4M entries in the factors; MMD on A^T + A without pivoting 3.6 s, 23 ms, 18.8M; nested
    dissection 1.7-2.1 s, 22-27 ms, 12.9M.
    """
    per_node = 3 if matrix.shape[0] == 3 * n_nodes else 1
    blocks = sp.bsr_matrix(matrix, blocksize=(per_node, per_node))
    rows = np.repeat(np.arange(len(blocks.indptr) - 1), np.diff(blocks.indptr))
    # The structural pattern, blocks a constraint emptied included: ordering those nodes as
    # isolated vertices scatters them through the order, and SuperLU then took 22 s instead of 2.
    edge = rows != blocks.indices  # METIS takes no self-loops
    pattern = sp.csr_matrix((np.ones(edge.sum()), (rows[edge], blocks.indices[edge])),
                            shape=(len(blocks.indptr) - 1,) * 2)
    order, _ = pymetis.nested_dissection(pymetis.CSRAdjacency(pattern.indptr, pattern.indices))
    return (per_node * np.asarray(order)[:, None] + np.arange(per_node)).ravel()


def solve_with_prescribed(k: sp.spmatrix, f: np.ndarray, fixed: np.ndarray, values: np.ndarray,
                          points: np.ndarray, method: str = "amg",
                          rtol: float = 1e-8) -> tuple[np.ndarray, LinearSolver]:
    """Solve K u = f with u[fixed] = values[fixed]; returns u and the reusable solver.

    Constrained rows get the mean free diagonal, so that they are scaled like the rest of the
    matrix (a unit diagonal among entries of 1e6-1e9 N/m would spoil the AMG smoothers).
    """
    diagonal = k.diagonal()
    scale = float(diagonal[~fixed].mean()) if (~fixed).any() else 1.0
    rhs = f - k @ np.where(fixed, values, 0.0)
    rhs[fixed] = scale * values[fixed]
    solver = LinearSolver(constrain(k, fixed, diagonal=scale), points, method=method, rtol=rtol)
    return solver.solve(rhs), solver


def buckling_factors(solver: LinearSolver, k_geo: sp.spmatrix, fixed: np.ndarray,
                     n_modes: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Smallest positive load factors lambda with (K + lambda K_G) phi = 0, and their modes.

    Solved as the largest eigenvalues mu = 1 / lambda of -K_G phi = mu K phi by Lanczos (ARPACK)
    with one stiffness solve per iteration: the wanted mu are the largest and well separated from
    the cluster near zero. Constrained dofs have zero rows in K_G and identity rows in K, so their
    eigenvalues are 0. The relative tolerance 1e-6 is far below any modelling error: on design
    (a) (18k DOFs, whose first three factors lie within 2 %) it needs 84-86 solves against
    110-112 at 1e-10, with the same factors to eight digits.
    """
    kg = constrain(k_geo, fixed, diagonal=0.0)
    n = kg.shape[0]
    k_inv = spla.LinearOperator((n, n), matvec=solver.solve, dtype=float)
    count = min(n - 1, max(n_modes + 2, 6))
    mu, modes = spla.eigsh(-kg, k=count, M=solver.k, Minv=k_inv, which="LA", tol=1e-6)
    order = np.argsort(mu)[::-1]
    mu, modes = mu[order], modes[:, order]
    positive = mu > 0
    return 1.0 / mu[positive][:n_modes], modes[:, positive][:, :n_modes]
