"""Internal forces of a grid model with crushable foams, for explicit time stepping.

Each element is integrated at its centre (one point) with the material's stress law, and the
hourglass modes that one point cannot see get the linear stiffness of the incompatible-mode
element: K_hg = K_bubble - K_one_point, assembled once. For a linear material the sum is exactly
the incompatible-mode element (tested), so the stabilisation is physical, not a tuning knob.

Foams follow :class:`packsim.FoamLaw` along each principal strain (foams crush with a plastic
Poisson ratio near zero, so principal directions decouple); tension is linear with the initial
modulus. The history variable is each element's largest compressive principal strain. Near
lock-up the law's stress grows without bound; past the strain where its tangent reaches
:data:`MAX_STIFFENING` times the initial modulus it continues along that tangent, so that a
bottomed-out foam stays finite and the explicit step (which shrinks with the square root of the
stiffening) does not collapse.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..foam import FoamLaw
from . import hex8
from .grid import StructuredGrid

#: Largest tangent of a densifying foam, in units of its initial modulus (see the module doc).
MAX_STIFFENING = 100.0


def _cap_strain(law: FoamLaw) -> float:
    """Compression where the loading tangent reaches MAX_STIFFENING x E (inf for linear laws)."""
    if not np.isfinite(law.plateau_stress_pa):
        return np.inf
    ed, el = law.densification_strain, law.lockup_strain
    gap = np.sqrt(law.plateau_stress_pa * (el - ed) / (MAX_STIFFENING * law.youngs_modulus_pa))
    return max(el - gap, ed)


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
        #: Largest current tangent of the foams over their initial modulus (>= 1), for the step.
        self.stiffness_ratio = 1.0
        self._caps = {m: _cap_strain(law) for m, law in self.foams.items()}
        self._members = {m: np.flatnonzero(self.material == m) for m in range(len(grid.voigt))
                         if (self.material == m).any()}
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
        for m, members in self._members.items():
            if m in self.foams:
                stress[members] = self._foam(m, strain[members], members, update)
            else:
                stress[members] = self.linear_stress(strain[members], m)
        return stress

    def linear_stress(self, strain: np.ndarray, m: int) -> np.ndarray:
        """Stresses (n, 3, 3), Pa, of strains (n, 3, 3) in the linear material ``m``."""
        c = self.tensors[m].reshape(9, 9)
        return (strain.reshape(-1, 9) @ c.T).reshape(-1, 3, 3)

    def stored_energy(self, u: np.ndarray) -> float:
        """Elastic energy the model would give back on unloading from ``u``, J: linear
        materials, the hourglass stiffness, and the recoverable part of the foams' energy."""
        strain = self.strains(u)
        density = np.zeros(len(self.material))
        for m, sel in self._members.items():
            if m in self.foams:
                law = self.foams[m]
                values = np.linalg.eigvalsh(strain[sel])
                compression = np.maximum(-values, 0.0)
                history = np.maximum(self.eps_max[sel][:, None], compression)
                crushed = law.stored_energy(np.minimum(compression, history), history)
                density[sel] = np.sum(np.where(values < 0, crushed,
                                               0.5 * law.youngs_modulus_pa * values**2), axis=1)
            else:
                density[sel] = 0.5 * np.sum(self.linear_stress(strain[sel], m) * strain[sel],
                                            axis=(1, 2))
        return float(density @ self.volume + 0.5 * u @ (self.hourglass @ u))

    def _foam(self, m: int, strain: np.ndarray, members: np.ndarray, update: bool) -> np.ndarray:
        law, cap = self.foams[m], self._caps[m]
        e = law.youngs_modulus_pa
        # Elements that never left the elastic line (every principal compression below yield,
        # now and before: Gershgorin's bound on the smallest eigenvalue) need no eigenvectors.
        diagonal = np.diagonal(strain, axis1=1, axis2=2)
        off = np.abs(strain).sum(axis=2) - np.abs(diagonal)
        elastic = ((diagonal - off).min(axis=1) > -law.yield_strain) & (
            self.eps_max[members] <= law.yield_strain)
        stress = e * strain
        crushing = np.flatnonzero(~elastic)
        if crushing.size == 0:
            return stress
        at = members[crushing]
        values, vectors = np.linalg.eigh(strain[crushing])
        compression = -values
        beyond = np.maximum(compression - cap, 0.0)
        capped = np.minimum(compression, cap)
        history = np.maximum(np.minimum(self.eps_max[at], cap)[:, None], capped)
        crushed = -law.stress(np.maximum(capped, 0.0), history)
        tangent = float(law.loading_tangent(cap)) if np.isfinite(cap) else 0.0
        principal = np.where(compression > 0, crushed - tangent * beyond, e * values)
        if update:
            self.eps_max[at] = np.maximum(self.eps_max[at], compression.max(axis=1))
            # Unloading from a densified state is as stiff as the loading tangent there.
            worst = min(float(self.eps_max[at].max()), cap)
            self.stiffness_ratio = max(self.stiffness_ratio, float(law.loading_tangent(worst)) / e)
        stress[crushing] = (vectors * principal[:, None, :]) @ np.swapaxes(vectors, 1, 2)
        return stress

    def __call__(self, u: np.ndarray) -> np.ndarray:
        stress = self.stresses(self.strains(u))
        forces = (self.gradients @ stress) * self.volume[:, None, None]  # (n, 8, 3)
        return self.scatter @ forces.reshape(-1) + self.hourglass @ u


class JointForces:
    """Internal forces of several grid models side by side (their dofs concatenated in order):
    parts that touch only through contacts, such as a container and the loose insert in it."""

    def __init__(self, parts: list[ElementForces]):
        self.parts = parts
        sizes = [p.grid.ndof for p in parts]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)])
        self.stiffness = sp.block_diag([p.stiffness for p in parts], format="csr")

    @property
    def stiffness_ratio(self) -> float:
        return max(p.stiffness_ratio for p in self.parts)

    def split(self, u: np.ndarray) -> list[np.ndarray]:
        """The displacement vector of each part."""
        return [u[a:b] for a, b in zip(self.offsets[:-1], self.offsets[1:])]

    def stored_energy(self, u: np.ndarray) -> float:
        return sum(p.stored_energy(x) for p, x in zip(self.parts, self.split(u)))

    def __call__(self, u: np.ndarray) -> np.ndarray:
        return np.concatenate([p(x) for p, x in zip(self.parts, self.split(u))])
