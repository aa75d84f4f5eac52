"""Internal forces of a grid model with crushable foams, for explicit time stepping.

Each element is integrated at its centre (one point) with the material's stress law, and the
hourglass modes that one point cannot see get the linear stiffness of the incompatible-mode
element: K_hg = K_bubble - K_one_point, assembled once. For a linear material the sum is exactly
the incompatible-mode element (tested), so the stabilisation is physical, not a tuning knob.

Foams follow :class:`packsim.FoamLaw` along each principal strain (foams crush with a plastic
Poisson ratio near zero, so principal directions decouple); tension is linear with the initial
modulus. The history variable is each element's largest compressive principal strain.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..foam import FoamLaw
from . import hex8
from .grid import StructuredGrid


def _one_point_stiffness(grid: StructuredGrid) -> sp.bsr_matrix:
    """Stiffness of the one-point (centre) rule: B0^T D B0 V for every element."""
    g = hex8.centre_gradients(grid.element_sizes.reshape(-1, 3)).reshape(*grid.material.shape, 8, 3)
    vol = grid.element_sizes.prod(-1)
    blocks = grid._empty_blocks()
    tensors = [hex8.tensor_from_voigt(v) for v in grid.voigt]
    c = np.zeros((*grid.material.shape, 3, 3, 3, 3))
    for m, t in enumerate(tensors):
        c[grid.material == m] = t
    c *= vol[..., None, None, None, None]
    for where, o, a, b in grid._corner_pairs():
        # K[(a,k),(b,l)] = C_kilj g_a,i g_b,j V
        kab = np.einsum("...kilj,...i,...j->...kl", c, g[..., a, :], g[..., b, :])
        blocks[(*where, o)] += kab.transpose(2, 1, 0, 3, 4)
    return grid._bsr(blocks)


class ElementForces:
    """Callable u -> internal force vector of ``grid``, with foam laws for some materials.

    Parameters
    ----------
    grid : StructuredGrid
        Its ``voigt`` matrices give the linear materials and the initial stiffness of the foams
        (used for the hourglass stiffness).
    foams : dict of int to FoamLaw
        Material index -> foam law; other materials are linear elastic.
    """

    def __init__(self, grid: StructuredGrid, foams: dict[int, FoamLaw] | None = None):
        self.grid = grid
        self.foams = dict(foams or {})
        i, j, k = grid.solid_elements.T
        self.material = grid.material[i, j, k]
        self.nodes = grid.element_nodes
        sizes = grid.element_sizes[i, j, k]
        self.volume = sizes.prod(-1)
        self.gradients = hex8.centre_gradients(sizes)  # (n, 8, 3)
        self.tensors = [hex8.tensor_from_voigt(v) for v in grid.voigt]
        self.eps_max = np.zeros(len(self.material))
        dofs = (3 * self.nodes[:, :, None] + np.arange(3)).reshape(-1)
        self.scatter = sp.csr_matrix((np.ones(dofs.size), (dofs, np.arange(dofs.size))),
                                     shape=(grid.ndof, dofs.size))
        #: Linear stiffness of the incompatible-mode element (for stable steps and energies).
        self.stiffness = grid.stiffness()
        self.hourglass = (self.stiffness - _one_point_stiffness(grid)).tocsr()

    def strains(self, u: np.ndarray) -> np.ndarray:
        """Centre strains of the solid elements, (n, 3, 3)."""
        ue = u.reshape(-1, 3)[self.nodes]  # (n, 8, 3)
        h = np.swapaxes(ue, 1, 2) @ self.gradients  # du_k/dx_i -> (n, 3, 3)
        return 0.5 * (h + np.swapaxes(h, 1, 2))

    def stresses(self, strain: np.ndarray, update: bool = True) -> np.ndarray:
        """Centre stresses (n, 3, 3), Pa; ``update`` advances the foams' crush history."""
        stress = np.empty_like(strain)
        for m, c in enumerate(self.tensors):
            sel = self.material == m
            if not sel.any():
                continue
            if m in self.foams:
                stress[sel] = self._foam(self.foams[m], strain[sel], sel, update)
            else:
                stress[sel] = np.einsum("ijkl,nkl->nij", c, strain[sel])
        return stress

    def _foam(self, law: FoamLaw, strain: np.ndarray, sel: np.ndarray, update: bool) -> np.ndarray:
        values, vectors = np.linalg.eigh(strain)
        compression = -values
        history = np.maximum(self.eps_max[sel][:, None], compression)
        crushed = -law.stress(np.maximum(compression, 0.0), history)
        principal = np.where(compression > 0, crushed, law.youngs_modulus_pa * values)
        if update:
            self.eps_max[sel] = np.maximum(self.eps_max[sel], compression.max(axis=1))
        return np.einsum("nij,nj,nkj->nik", vectors, principal, vectors)

    def __call__(self, u: np.ndarray) -> np.ndarray:
        stress = self.stresses(self.strains(u))
        forces = (self.gradients @ stress) * self.volume[:, None, None]  # (n, 8, 3)
        return self.scatter @ forces.reshape(-1) + self.hourglass @ u
