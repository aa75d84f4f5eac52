"""Selective mass scaling: slow the fastest modes of thin, stiff elements without adding mass.

A container wall is one element thick (3-8 mm) but as stiff as 0.7-1 GPa: its through-thickness
modes would set an explicit time step five to ten times shorter than the cushion foam needs.
Ordinary mass scaling would add several times the wall's mass to the package and change every
peak g. Selective mass scaling (Olovsson, Simonsson and Unosson, Int. J. Numer. Meth. Engng 63
(2005) 1436-1445) instead adds inertia only to the relative motion of the two nodes of each
element edge along a too-fast direction: the mass matrix gains beta [[1, -1], [-1, 1]] per edge
and component, so rigid translations, total mass, momentum and the package's weight are exact,
while those edge modes slow down to the target frequency.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import hex8
from .grid import StructuredGrid


def _edge_pairs(direction: int) -> list[tuple[int, int]]:
    """Corner pairs (local indices) of the four element edges along ``direction``."""
    corners = [tuple(c) for c in hex8.CORNERS]
    pairs = []
    for a, c in enumerate(corners):
        if c[direction] == 0:
            partner = list(c)
            partner[direction] = 1
            pairs.append((a, corners.index(tuple(partner))))
    return pairs


def element_frequencies(grid: StructuredGrid, densities_kg_m3: np.ndarray) -> np.ndarray:
    """One-dimensional bound 2 c / h of every solid element along each axis (n_solid, 3), rad/s,
    with c from the largest normal stiffness of its material (P-wave speed)."""
    ijk = tuple(grid.solid_elements.T)
    modulus = np.array([np.max(np.diag(v)[:3]) for v in grid.voigt])[grid.material[ijk]]
    speed = np.sqrt(modulus / densities_kg_m3[ijk])
    return 2.0 * speed[:, None] / grid.element_sizes[ijk]


def selective_mass(grid: StructuredGrid, densities_kg_m3: np.ndarray,
                   target_rad_s: float) -> tuple[sp.csr_matrix, float]:
    """Added mass matrix (ndof x ndof) bringing every element axis to ``target_rad_s``.

    Parameters
    ----------
    grid : StructuredGrid
    densities_kg_m3 : ndarray
        Density of every element (grid.material's shape), kg/m^3.
    target_rad_s : float
        Highest 1-D element frequency to allow, rad/s.

    Returns
    -------
    matrix : scipy.sparse.csr_matrix
        beta [[1, -1], [-1, 1]] blocks on the edges of the too-fast axes, kg.
    beta_kg : float
        Sum of all beta (a measure of how much inertia was added to relative motions), kg.
    """
    ijk = tuple(grid.solid_elements.T)
    omega = element_frequencies(grid, densities_kg_m3)
    node_share = grid.element_sizes[ijk].prod(-1) * densities_kg_m3[ijk] / 8
    nodes = grid.element_nodes
    rows, cols, vals = [], [], []
    total = 0.0
    for d in range(3):
        fast = omega[:, d] > target_rad_s
        if not fast.any():
            continue
        # Two nodes of mass m: relative-mode mass m / 2 becomes (m + 2 beta) / 2.
        beta = 0.5 * node_share[fast] * ((omega[fast, d] / target_rad_s) ** 2 - 1.0)
        for a, b in _edge_pairs(d):
            i, j = nodes[fast, a], nodes[fast, b]
            for k in range(3):
                rows += [3 * i + k, 3 * j + k, 3 * i + k, 3 * j + k]
                cols += [3 * i + k, 3 * j + k, 3 * j + k, 3 * i + k]
                vals += [beta, beta, -beta, -beta]
        total += 4 * float(beta.sum())
    n = grid.ndof
    if not rows:
        return sp.csr_matrix((n, n)), 0.0
    matrix = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                           shape=(n, n))
    return matrix, total
