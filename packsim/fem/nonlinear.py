"""Internal forces of a grid model with crushable foams, for explicit time stepping.

Each element is integrated at its centre (one point) with the material's stress law, and the
hourglass modes that one point cannot see get the linear stiffness of the incompatible-mode
element: K_hg = K_bubble - K_one_point. On a box, K_hg vanishes on the 12 linear displacement
fields, so it lives on the other 12: the four hourglass patterns (xy, yz, zx, xyz sign vectors of
the corners, the same for every box) times the three components. Each element keeps that
12 x 12 block, a quarter of the data of its 24 x 24 matrix. For a linear material the sum is
exactly the incompatible-mode element (tested), so the stabilisation is physical, not a tuning
knob.

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


def symmetric_eigenvalues(a: np.ndarray) -> np.ndarray:
    """Ascending eigenvalues (n, 3) of symmetric 3 x 3 matrices (n, 3, 3), in closed form
    (trigonometric solution of the characteristic cubic): no per-matrix LAPACK call."""
    q = np.trace(a, axis1=1, axis2=2) / 3.0
    b = a - q[:, None, None] * np.eye(3)
    p = np.sqrt(np.sum(b * b, axis=(1, 2)) / 6.0)
    safe = np.where(p > 0, p, 1.0)
    r = np.clip(np.linalg.det(b / safe[:, None, None]) / 2.0, -1.0, 1.0)
    phi = np.arccos(r) / 3.0
    high = q + 2.0 * p * np.cos(phi)
    low = q + 2.0 * p * np.cos(phi + 2.0 * np.pi / 3.0)
    return np.stack([low, 3.0 * q - low - high, high], axis=1)


def spectral_map(a: np.ndarray, values: np.ndarray, mapped: np.ndarray) -> np.ndarray:
    """sum_i f(lambda_i) v_i v_i^T for symmetric ``a`` (n, 3, 3) with ascending eigenvalues
    ``values`` (n, 3) and f(lambda_i) = ``mapped`` (n, 3), without eigenvectors.

    The polynomial through (lambda_i, f_i) in Newton form, evaluated at ``a``, is that matrix
    function. Eigenvalues closer than 1e-6 of the largest are merged (a straight line through the
    extreme pair, or a constant), which errs by that fraction of f's slope.
    """
    l1, l2, l3 = values.T
    f1, f2, f3 = mapped.T
    scale = np.abs(values).max(axis=1)
    tol = 1e-6 * np.where(scale > 0, scale, 1.0)
    d12, d23, d13 = l2 - l1, l3 - l2, l3 - l1
    distinct = (d12 > tol) & (d23 > tol)
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.where(d12 > tol, (f2 - f1) / d12, 0.0)
        line = np.where(d13 > tol, (f3 - f1) / d13, 0.0)
        second = np.where(distinct, ((f3 - f2) / d23 - first) / d13, 0.0)
    slope = np.where(distinct, first, line)
    shifted = a - l1[:, None, None] * np.eye(3)
    out = slope[:, None, None] * shifted + f1[:, None, None] * np.eye(3)
    if distinct.any():
        k = np.flatnonzero(distinct)
        quad = shifted[k] @ (a[k] - l2[k, None, None] * np.eye(3))
        out[k] += second[k, None, None] * quad
    return out


def _hourglass_patterns() -> np.ndarray:
    """The four orthonormal hourglass vectors of the box corners, (8, 4)."""
    sx, sy, sz = (2.0 * hex8.CORNERS - 1.0).T
    return np.stack([sx * sy, sy * sz, sz * sx, sx * sy * sz], axis=1) / np.sqrt(8.0)


def _hourglass_blocks(grid: StructuredGrid) -> np.ndarray:
    """Phi^T (K_bubble - K_one_point) Phi of every solid element, (n, 12, 12), dofs (pattern,
    component): computed once per element kind of the grid."""
    phi = np.kron(_hourglass_patterns(), np.eye(3))  # (24, 12), element dofs (corner, component)
    types, kind_material, kind_sizes = grid.element_types
    one_point = np.zeros((len(kind_material), 24, 24))
    for m, voigt in enumerate(grid.voigt):
        sel = kind_material == m
        g = hex8.centre_gradients(kind_sizes[sel])  # K_1pt[(a,k),(b,l)] = V C_kilj g_ai g_bj
        k1 = np.einsum("kilj,nai,nbj->nakbl", hex8.tensor_from_voigt(voigt), g, g)
        one_point[sel] = k1.reshape(-1, 24, 24) * kind_sizes[sel].prod(axis=1)[:, None, None]
    per_kind = phi.T @ (grid.kind_stiffness() - one_point) @ phi
    return per_kind[types[tuple(grid.solid_elements.T)]]


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
        # Kernels work corner-major, (8, n, 3), so that every sum over corners is one matrix
        # product with a constant 8 x k matrix (one BLAS call, not n tiny ones).
        self._corner_nodes = np.ascontiguousarray(self.nodes.T)
        self._signs = 2.0 * hex8.CORNERS - 1.0  # (8, 3): dN_a/dx_i = sign_ai / (4 h_i)
        self._inv_h = 0.25 / sizes.T[:, :, None]  # (3, n, 1)
        self.tensors = [hex8.tensor_from_voigt(v) for v in grid.voigt]
        self.eps_max = np.zeros(len(self.material))
        #: Largest current tangent of the foams over their initial modulus (>= 1), for the step.
        self.stiffness_ratio = 1.0
        self._caps = {m: _cap_strain(law) for m, law in self.foams.items()}
        self._members = {m: np.flatnonzero(self.material == m) for m in range(len(grid.voigt))
                         if (self.material == m).any()}
        dofs = (3 * self._corner_nodes[:, :, None] + np.arange(3)).reshape(-1)
        self.scatter = sp.csr_matrix((np.ones(dofs.size), (dofs, np.arange(dofs.size))),
                                     shape=(grid.ndof, dofs.size))
        #: Linear stiffness of the incompatible-mode element (for stable steps).
        self.stiffness = grid.stiffness()
        self._patterns = _hourglass_patterns()
        self._hourglass = _hourglass_blocks(grid)

    def strains(self, u: np.ndarray) -> np.ndarray:
        """Centre strains of the solid elements, (n, 3, 3)."""
        return self._strains(self._gather(u))

    def _gather(self, u: np.ndarray) -> np.ndarray:
        """Corner displacements, (8, n, 3)."""
        return u.reshape(-1, 3)[self._corner_nodes]

    def _strains(self, corners: np.ndarray) -> np.ndarray:
        n = corners.shape[1]
        d = (self._signs.T @ corners.reshape(8, -1)).reshape(3, n, 3) * self._inv_h  # [i, n, k]
        h = d.transpose(1, 2, 0)  # du_k/dx_i as (n, k, i)
        return 0.5 * (h + np.swapaxes(h, 1, 2))

    def _hourglass_modes(self, corners: np.ndarray) -> np.ndarray:
        """Hourglass amplitudes (n, 12), ordered (pattern, component)."""
        n = corners.shape[1]
        return (self._patterns.T @ corners.reshape(8, -1)).reshape(4, n, 3).transpose(1, 0, 2).reshape(n, 12)

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
                values = symmetric_eigenvalues(strain[sel])
                compression = np.maximum(-values, 0.0)
                history = np.maximum(self.eps_max[sel][:, None], compression)
                crushed = law.stored_energy(np.minimum(compression, history), history)
                density[sel] = np.sum(np.where(values < 0, crushed,
                                               0.5 * law.youngs_modulus_pa * values**2), axis=1)
            else:
                density[sel] = 0.5 * np.sum(self.linear_stress(strain[sel], m) * strain[sel],
                                            axis=(1, 2))
        q = self._hourglass_modes(self._gather(u))
        hourglass = 0.5 * np.einsum("ni,nij,nj->", q, self._hourglass, q)
        return float(density @ self.volume + hourglass)

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
        values = symmetric_eigenvalues(strain[crushing])
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
        stress[crushing] = spectral_map(strain[crushing], values, principal)
        return stress

    def __call__(self, u: np.ndarray) -> np.ndarray:
        corners = self._gather(u)
        n = corners.shape[1]
        stress = self.stresses(self._strains(corners))
        # f_a = V sum_i dN_a/dx_i sigma_i. and the hourglass resistance, both corner-major.
        weighted = stress.transpose(1, 0, 2) * (self._inv_h * self.volume[:, None])  # [i, n, j]
        forces = self._signs @ weighted.reshape(3, -1)
        resisted = (self._hourglass @ self._hourglass_modes(corners)[:, :, None])[:, :, 0]
        forces += self._patterns @ resisted.reshape(n, 4, 3).transpose(1, 0, 2).reshape(4, -1)
        return self.scatter @ forces.reshape(-1)


class JointForces:
    """Internal forces of several grid models side by side (their dofs concatenated in order):
    parts that touch only through contacts, such as a container and the loose insert in it."""

    def __init__(self, parts: list[ElementForces]):
        self.parts = parts
        sizes = [p.grid.ndof for p in parts]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)])
        self.stiffness = sp.block_diag([p.stiffness for p in parts], format="csr")
        self.stiffness.eliminate_zeros()  # the void blocks of each grid's pattern

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
