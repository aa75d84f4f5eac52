"""A tensor-product grid of hexahedra with a material per element, and its fast assembly.

Node (i, j, k) has index ``i + nx * (j + ny * k)`` and degrees of freedom ``3 * node + component``.
Each node couples only to its 27 grid neighbours, so a matrix is first summed into a dense array of
3 x 3 blocks, ``blocks[node, neighbour offset]``, by strided slice additions (no scatter), and then
turned into CSR with a pattern that is known in closed form. Elements with material ``-1`` are void.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp
import skfem

from . import hex8

# Neighbour offsets (dx, dy, dz) in {-1, 0, 1}, ordered so that global node index increases.
_OFFSETS = np.array([(dx, dy, dz) for dz in (-1, 0, 1) for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
# scikit-fem's local corner order for MeshHex, as indices into hex8.CORNERS.
_SKFEM_CORNER_ORDER = [0, 2, 1, 4, 3, 6, 5, 7]
# Elements per assembly chunk (z-slabs of about this many elements bound the temporary memory).
_CHUNK = 20000


def _offset_index(delta: np.ndarray) -> int:
    dx, dy, dz = delta
    return int((dx + 1) + 3 * (dy + 1) + 9 * (dz + 1))


@dataclass(frozen=True, eq=False)
class StructuredGrid:
    """Axis-aligned hexahedral grid.

    Attributes
    ----------
    xs, ys, zs : ndarray
        Increasing node coordinates along each axis, m.
    material : ndarray of int, shape (nx - 1, ny - 1, nz - 1)
        Index into ``voigt`` of each element, or -1 for void.
    voigt : tuple of ndarray
        6 x 6 elasticity matrices (Pa) of the materials.
    bubbles : bool
        Use the incompatible-mode element (default; accurate in bending) or plain trilinear.
    """

    xs: np.ndarray
    ys: np.ndarray
    zs: np.ndarray
    material: np.ndarray
    voigt: tuple[np.ndarray, ...] = field(repr=False)
    bubbles: bool = True

    # -- sizes ------------------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int, int]:
        """Nodes per axis."""
        return (len(self.xs), len(self.ys), len(self.zs))

    @property
    def n_nodes(self) -> int:
        nx, ny, nz = self.shape
        return nx * ny * nz

    @property
    def ndof(self) -> int:
        return 3 * self.n_nodes

    @cached_property
    def points(self) -> np.ndarray:
        """Node coordinates (n_nodes, 3), m."""
        x, y, z = np.meshgrid(self.xs, self.ys, self.zs, indexing="ij")
        return np.column_stack([x.ravel("F"), y.ravel("F"), z.ravel("F")])

    @cached_property
    def element_sizes(self) -> np.ndarray:
        """Side lengths of every element, (ex, ey, ez, 3), m."""
        hx, hy, hz = np.diff(self.xs), np.diff(self.ys), np.diff(self.zs)
        return np.stack(np.broadcast_arrays(hx[:, None, None], hy[None, :, None], hz[None, None, :]), -1)

    @cached_property
    def element_centres(self) -> np.ndarray:
        """Centres of every element, (ex, ey, ez, 3), m."""
        cx, cy, cz = [(c[1:] + c[:-1]) / 2 for c in (self.xs, self.ys, self.zs)]
        return np.stack(np.broadcast_arrays(cx[:, None, None], cy[None, :, None], cz[None, None, :]), -1)

    @cached_property
    def solid_nodes(self) -> np.ndarray:
        """Boolean (n_nodes,): the node belongs to at least one non-void element."""
        nx, ny, nz = self.shape
        touched = np.zeros((nx, ny, nz), dtype=bool)
        solid = self.material >= 0
        for cx, cy, cz in hex8.CORNERS:
            touched[cx:cx + nx - 1, cy:cy + ny - 1, cz:cz + nz - 1] |= solid
        return touched.ravel("F")

    def node_index(self, i: np.ndarray, j: np.ndarray, k: np.ndarray) -> np.ndarray:
        nx, ny, _ = self.shape
        return i + nx * (j + ny * k)

    @cached_property
    def solid_elements(self) -> np.ndarray:
        """Grid indices (n, 3) of the non-void elements, in the order of :meth:`skfem_mesh`."""
        return np.argwhere(self.material >= 0)

    def skfem_mesh(self) -> skfem.MeshHex:
        """The non-void elements as a scikit-fem mesh (all grid nodes kept, numbering unchanged)."""
        i, j, k = self.solid_elements.T
        corners = hex8.CORNERS[_SKFEM_CORNER_ORDER]
        t = np.stack([self.node_index(i + cx, j + cy, k + cz) for cx, cy, cz in corners])
        return skfem.MeshHex(self.points.T, t, validate=False, sort_t=False)

    # -- assembly -------------------------------------------------------------------------------

    def _blocks(self, element_matrix) -> np.ndarray:
        """Sum element matrices into neighbour blocks (nx, ny, nz, 27, 3, 3).

        ``element_matrix(k0, k1)`` returns the 24 x 24 matrices of elements with z-index in
        [k0, k1) as an array (ex, ey, k1 - k0, 24, 24) (zero for void elements).
        """
        nx, ny, nz = self.shape
        ex, ey, ez = nx - 1, ny - 1, nz - 1
        blocks = np.zeros((nx, ny, nz, 27, 3, 3))
        step = max(1, _CHUNK // max(1, ex * ey))
        for k0 in range(0, ez, step):
            k1 = min(ez, k0 + step)
            ke = element_matrix(k0, k1).reshape(ex, ey, k1 - k0, 8, 3, 8, 3)
            for a, (ax, ay, az) in enumerate(hex8.CORNERS):
                for b, corner_b in enumerate(hex8.CORNERS):
                    o = _offset_index(corner_b - hex8.CORNERS[a])
                    blocks[ax:ax + ex, ay:ay + ey, k0 + az:k1 + az, o] += ke[:, :, :, a, :, b, :]
        return blocks

    @cached_property
    def _pattern(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mask of existing neighbours (n_nodes, 27), CSR indptr and column indices."""
        nx, ny, nz = self.shape
        i, j, k = np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij")
        ijk = np.stack([i.ravel("F"), j.ravel("F"), k.ravel("F")], axis=1)
        nbr = ijk[:, None, :] + _OFFSETS[None, :, :]
        valid = np.all((nbr >= 0) & (nbr < np.array([nx, ny, nz])), axis=2)
        node = np.arange(self.n_nodes)
        delta = _OFFSETS @ np.array([1, nx, nx * ny])
        cols = 3 * (node[:, None, None, None] + delta[None, None, :, None]) + np.arange(3)[None, None, None, :]
        cols = np.broadcast_to(cols, (self.n_nodes, 3, 27, 3))
        mask = np.broadcast_to(valid[:, None, :, None], cols.shape)
        indices = cols[mask].astype(np.int32 if self.ndof < 2**31 else np.int64)
        per_row = np.repeat(3 * valid.sum(axis=1), 3)
        indptr = np.concatenate([[0], np.cumsum(per_row)]).astype(indices.dtype)
        return valid, indptr, indices

    def _csr(self, blocks: np.ndarray) -> sp.csr_matrix:
        valid, indptr, indices = self._pattern
        b = _node_major(blocks)
        data = np.transpose(b, (0, 2, 1, 3))[np.broadcast_to(valid[:, None, :, None], (len(b), 3, 27, 3))]
        return sp.csr_matrix((data, indices, indptr), shape=(self.ndof, self.ndof))

    def stiffness(self) -> sp.csr_matrix:
        """Global stiffness matrix (ndof x ndof), N/m. Rows of nodes outside the solid are zero."""
        qs = [hex8.stiffness_terms(v) for v in self.voigt]
        sizes = self.element_sizes

        def element_matrix(k0: int, k1: int) -> np.ndarray:
            mat = self.material[:, :, k0:k1]
            out = np.zeros((*mat.shape, 24, 24))
            for m, q in enumerate(qs):
                sel = mat == m
                if sel.any():
                    out[sel] = hex8.box_stiffness(q, sizes[:, :, k0:k1][sel], self.bubbles)
            return out

        return self._csr(self._blocks(element_matrix))

    def geometric_stiffness(self, stress: np.ndarray) -> sp.csr_matrix:
        """Geometric (initial-stress) stiffness for element stresses ``stress`` (ex, ey, ez, 3, 3), Pa.

        K_G[(f,k),(g,k)] = integral of sigma_ij dN_f/dx_i dN_g/dx_j, with each element's stress taken
        as constant (its centre value).
        """
        r = hex8.gradient_products()[:, :, :8, :8]
        sizes = self.element_sizes
        eye = np.eye(3)

        def element_matrix(k0: int, k1: int) -> np.ndarray:
            h = sizes[:, :, k0:k1]
            w = h.prod(-1)[..., None, None] / (h[..., :, None] * h[..., None, :])
            s = np.where((self.material[:, :, k0:k1] >= 0)[..., None, None], stress[:, :, k0:k1], 0.0)
            scalar = np.einsum("...ij,ijfg->...fg", s * w, r)
            return np.einsum("...fg,kl->...fkgl", scalar, eye).reshape(*scalar.shape[:3], 24, 24)

        return self._csr(self._blocks(element_matrix))

    # -- results ----------------------------------------------------------------------------------

    def element_strains(self, u: np.ndarray) -> np.ndarray:
        """Small-strain tensors at element centres, (ex, ey, ez, 3, 3), from nodal displacements."""
        nx, ny, nz = self.shape
        disp = np.asarray(u).reshape(nz, ny, nx, 3).transpose(2, 1, 0, 3)
        grad = hex8.centre_gradients(self.element_sizes.reshape(-1, 3)).reshape(nx - 1, ny - 1, nz - 1, 8, 3)
        g = np.zeros((nx - 1, ny - 1, nz - 1, 3, 3))
        for f, (cx, cy, cz) in enumerate(hex8.CORNERS):
            g += np.einsum("...k,...i->...ki", disp[cx:cx + nx - 1, cy:cy + ny - 1, cz:cz + nz - 1],
                           grad[..., f, :])
        return 0.5 * (g + np.swapaxes(g, -1, -2))

    def element_stresses(self, strain: np.ndarray) -> np.ndarray:
        """Cauchy stresses (ex, ey, ez, 3, 3), Pa, of element strains; zero in void elements."""
        stress = np.zeros_like(strain)
        for m, d in enumerate(self.voigt):
            sel = self.material == m
            stress[sel] = np.einsum("ijkl,nkl->nij", hex8.tensor_from_voigt(d), strain[sel])
        return stress


def _node_major(blocks: np.ndarray) -> np.ndarray:
    """(nx, ny, nz, 27, 3, 3) -> (n_nodes, 27, 3, 3) with node index i + nx (j + ny k)."""
    nx, ny, nz = blocks.shape[:3]
    return blocks.transpose(2, 1, 0, 3, 4, 5).reshape(nx * ny * nz, 27, 3, 3)


def von_mises(stress: np.ndarray) -> np.ndarray:
    """Von Mises equivalent stress of stress tensors (..., 3, 3)."""
    dev = stress - np.trace(stress, axis1=-2, axis2=-1)[..., None, None] * np.eye(3) / 3
    return np.sqrt(1.5 * np.sum(dev * dev, axis=(-2, -1)))


def max_abs_principal(tensor: np.ndarray) -> np.ndarray:
    """Largest principal value by magnitude, with its sign, of symmetric tensors (..., 3, 3)."""
    eig = np.linalg.eigvalsh(tensor)
    pick = np.where(np.abs(eig[..., 0]) > np.abs(eig[..., -1]), eig[..., 0], eig[..., -1])
    return pick
