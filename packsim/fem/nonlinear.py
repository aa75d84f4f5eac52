"""Internal forces of a grid model with crushable foams, for explicit time stepping.

Each element is integrated at its centre (one point) with the material's stress law, and the
hourglass modes that one point cannot see get the linear stiffness of the incompatible-mode
element: K_hg = K_bubble - K_one_point. On a box, K_hg vanishes on the 12 linear displacement
fields, so it lives on the other 12: the four hourglass patterns (xy, yz, zx, xyz sign vectors of
the corners, the same for every box) times the three components. Each element kind (material
and box size) keeps that 12 x 12 block, a quarter of the data of its 24 x 24 matrix. For a
linear material the sum is exactly the incompatible-mode element (tested), so the stabilisation
is physical, not a tuning knob.

Foams follow :class:`packsim.FoamLaw` along each principal strain (foams crush with a plastic
Poisson ratio near zero, so principal directions decouple); tension is linear with the initial
modulus. The history variable is each element's largest compressive principal strain. Near
lock-up the law's stress grows without bound; past the strain where its tangent reaches
:data:`MAX_STIFFENING` times the initial modulus it continues along that tangent, so that a
bottomed-out foam stays finite and the explicit step (which shrinks with the square root of the
stiffening) does not collapse.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from ..foam import FoamLaw, _legendre
from . import hex8
from ._kernels import kinematics, part_forces, part_stored_energy, part_stresses
from .grid import StructuredGrid

#: Largest tangent of a densifying foam, in units of its initial modulus (see the module doc).
MAX_STIFFENING = 100.0


def _cap_strain(law: FoamLaw) -> float:
    """Compression where the loading tangent reaches MAX_STIFFENING x E (inf for linear laws).

    The tangent rises monotonically from the densification onset to lock-up, so the crossing is
    found by bisection (the onset itself if the tangent is already that steep there)."""
    if not np.isfinite(law.plateau_stress_pa):
        return np.inf
    limit = MAX_STIFFENING * law.youngs_modulus_pa
    lo, hi = law.densification_strain, law.lockup_strain
    if law.loading_tangent(lo) >= limit:
        return lo
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if law.loading_tangent(mid) < limit else (lo, mid)
    return lo


def _hourglass_patterns() -> np.ndarray:
    """The four orthonormal hourglass vectors of the box corners, (8, 4)."""
    sx, sy, sz = (2.0 * hex8.CORNERS - 1.0).T
    return np.stack([sx * sy, sy * sz, sz * sx, sx * sy * sz], axis=1) / np.sqrt(8.0)


def _hourglass_entries(grid: StructuredGrid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hourglass stiffness of every element kind as its nonzero entries: rows and columns
    (nnz,) and values (kinds, nnz), N/m.

    A box with axis-aligned orthotropic material couples each hourglass mode with one or two
    others: 24 of the 144 entries are nonzero (the rest vanish by symmetry, to round-off), and a
    step multiplies only those. Entries below 1e-12 of a kind's largest are round-off.
    """
    blocks = _hourglass_blocks(grid)
    scale = np.abs(blocks).max(axis=(1, 2), keepdims=True)
    rows, cols = np.nonzero((np.abs(blocks) > 1e-12 * scale).any(axis=0))
    return rows, cols, np.ascontiguousarray(blocks[:, rows, cols])


def _hourglass_blocks(grid: StructuredGrid) -> np.ndarray:
    """Phi^T (K_bubble - K_one_point) Phi of every element kind of the grid, (kinds, 12, 12),
    dofs (pattern, component)."""
    phi = np.kron(_hourglass_patterns(), np.eye(3))  # (24, 12), element dofs (corner, component)
    _, kind_material, kind_sizes = grid.element_types
    one_point = np.zeros((len(kind_material), 24, 24))
    for m, voigt in enumerate(grid.voigt):
        sel = kind_material == m
        g = hex8.centre_gradients(kind_sizes[sel])  # K_1pt[(a,k),(b,l)] = V C_kilj g_ai g_bj
        k1 = np.einsum("kilj,nai,nbj->nakbl", hex8.tensor_from_voigt(voigt), g, g)
        one_point[sel] = k1.reshape(-1, 24, 24) * kind_sizes[sel].prod(axis=1)[:, None, None]
    return phi.T @ (grid.kind_stiffness() - one_point) @ phi


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
        self.nodes = np.ascontiguousarray(grid.element_nodes, dtype=np.int64)
        types, _, kind_sizes = grid.element_types
        # Kernels read per-kind tables (a tensor grid has few element sizes), not per-element
        # copies: a step then streams little more than the displacements.
        self._kind = np.ascontiguousarray(types[i, j, k], dtype=np.int64)
        self._kind_volume = kind_sizes.prod(-1)
        self.volume = self._kind_volume[self._kind]
        # dN_a/dx_i = sign_ai / (4 h_i) at the centre of a box, (kinds, 8, 3).
        signs = 2.0 * hex8.CORNERS - 1.0
        self._gradients = np.ascontiguousarray(signs[None] * (0.25 / kind_sizes)[:, None, :])
        self.tensors = [hex8.tensor_from_voigt(v) for v in grid.voigt]
        self.eps_max = np.zeros(len(self.material))
        #: Largest current tangent of the foams over their initial modulus (>= 1), for the step.
        self.stiffness_ratio = 1.0
        self._caps = {m: _cap_strain(law) for m, law in self.foams.items()}
        self._members = {m: np.flatnonzero(self.material == m) for m in range(len(grid.voigt))
                         if (self.material == m).any()}
        n = len(self.material)
        self._strain, self._modes, self._stress = (np.empty((n, 3, 3)), np.empty((n, 12)),
                                                   np.empty((n, 3, 3)))
        #: Linear stiffness of the incompatible-mode element (for stable steps).
        self.stiffness = grid.stiffness()
        self._patterns = _hourglass_patterns()
        self._hourglass = _hourglass_entries(grid)
        foams = [m for m in self._members if m in self.foams]
        linear = [m for m in self._members if m not in self.foams]
        self._tables = (
            *self._member_table(foams),
            np.array([self.foams[m].parameters for m in foams], dtype=float).reshape(-1, 9),
            np.array([self._caps[m] for m in foams], dtype=float),
            *self._member_table(linear),
            np.array([self.tensors[m].reshape(9, 9) for m in linear]).reshape(-1, 9, 9),
        )

    def _member_table(self, materials: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """The elements of ``materials`` as (start of each, all of them concatenated)."""
        members = [self._members[m] for m in materials]
        start = np.cumsum([0] + [len(x) for x in members])
        return start, np.concatenate(members + [np.zeros(0, dtype=np.int64)]).astype(np.int64)

    def reset(self) -> None:
        """Forget the crush history: the foams as never loaded."""
        self.eps_max[:] = 0.0
        self.stiffness_ratio = 1.0

    def strains(self, u: np.ndarray) -> np.ndarray:
        """Centre strains of the solid elements, (n, 3, 3)."""
        return self._kinematics(u)[0]

    def _kinematics(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Centre strains (n, 3, 3) and hourglass amplitudes (n, 12), (pattern, component)."""
        n = len(self.nodes)
        strain, modes = np.empty((n, 3, 3)), np.empty((n, 12))
        kinematics(np.ascontiguousarray(u, dtype=float), self.nodes, self._kind, self._gradients,
                   self._patterns, strain, modes)
        return strain, modes

    def stresses(self, strain: np.ndarray, update: bool = True) -> np.ndarray:
        """Centre stresses (n, 3, 3), Pa; ``update`` advances the foams' crush history."""
        stress = np.empty_like(strain)
        ratio = part_stresses(np.ascontiguousarray(strain), stress, self.eps_max, *self._tables,
                              update)
        if update:
            self.stiffness_ratio = max(self.stiffness_ratio, ratio)
        return stress

    def densified_ratios(self) -> tuple[np.ndarray, np.ndarray]:
        """The foam elements crushed past their foam's densification onset (indices), and the
        loading tangent at each one's crush history (capped as the forces cap it) over its
        initial modulus: how much faster than at the start it now vibrates, squared. Elements
        short of the onset unload no stiffer than the initial modulus."""
        elements, ratios = [np.zeros(0, dtype=np.int64)], [np.zeros(0)]
        for m, law in self.foams.items():
            members = self._members.get(m)
            if members is None:
                continue
            past = members[self.eps_max[members] > law.densification_strain]
            elements.append(past)
            ratios.append(law.loading_tangent(np.minimum(self.eps_max[past], self._caps[m]))
                          / law.youngs_modulus_pa)
        return np.concatenate(elements), np.concatenate(ratios)

    def stored_energy(self, u: np.ndarray) -> float:
        """Elastic energy the model would give back on unloading from ``u``, J: linear
        materials, the hourglass stiffness, and the recoverable part of the foams' energy."""
        strain, modes = self._kinematics(u)
        return float(part_stored_energy(strain, modes, self._kind, self._kind_volume,
                                        self.eps_max, *self._tables, *self._hourglass,
                                        *_legendre(16)))

    def __call__(self, u: np.ndarray) -> np.ndarray:
        """Internal force vector (ndof,), advancing the crush history; the largest loading
        tangent of the foams over the initial modulus goes into ``stiffness_ratio``."""
        f = np.empty(self.grid.ndof)
        self.stiffness_ratio = max(self.stiffness_ratio, part_forces(*self.kernel_arguments(u, f)))
        return f

    def kernel_arguments(self, u: np.ndarray, f: np.ndarray) -> tuple:
        """The arguments of :func:`~packsim.fem._kernels.part_forces` for displacements ``u``
        and the force vector ``f`` it fills (whose ratio the caller folds into
        ``stiffness_ratio``)."""
        return (np.ascontiguousarray(u, dtype=float), f, self.nodes, self._kind, self._gradients,
                self._patterns, self._kind_volume, *self._hourglass, self._strain, self._modes,
                self._stress, self.eps_max, *self._tables)


class JointForces:
    """Internal forces of several grid models side by side (their dofs concatenated in order):
    parts that touch only through contacts, such as a container and the loose insert in it."""

    def __init__(self, parts: list[ElementForces]):
        self.parts = parts
        sizes = [p.grid.ndof for p in parts]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)])
        self.stiffness = _block_diagonal([p.stiffness for p in parts])
        self.stiffness.eliminate_zeros()  # the void blocks of each grid's pattern

    @property
    def stiffness_ratio(self) -> float:
        return max(p.stiffness_ratio for p in self.parts)

    def reset(self) -> None:
        """Forget every part's crush history."""
        for p in self.parts:
            p.reset()

    def split(self, u: np.ndarray) -> list[np.ndarray]:
        """The displacement vector of each part."""
        return [u[a:b] for a, b in zip(self.offsets[:-1], self.offsets[1:])]

    def stored_energy(self, u: np.ndarray) -> float:
        return sum(p.stored_energy(x) for p, x in zip(self.parts, self.split(u)))

    def __call__(self, u: np.ndarray,
                 then: Callable[[int, np.ndarray], None] | None = None) -> np.ndarray:
        """Internal forces of all parts; ``then(i, f_i)``, if given, runs right after part i's
        forces f_i."""
        forces = []
        for i, (part, x) in enumerate(zip(self.parts, self.split(u))):
            forces.append(part(x))
            if then is not None:
                then(i, forces[-1])
        return np.concatenate(forces)


def _block_diagonal(matrices: list[sp.spmatrix]) -> sp.csr_matrix:
    """The block-diagonal CSR matrix of ``matrices``, by concatenating their CSR arrays: on
    design (a)'s two grids 0.08 s, against 0.18 s for scipy's ``block_diag`` (through COO)."""
    parts = [sp.csr_matrix(m) for m in matrices]
    columns = np.cumsum([0] + [m.shape[1] for m in parts])
    entries = np.cumsum([0] + [m.nnz for m in parts])
    return sp.csr_matrix(
        (np.concatenate([m.data for m in parts]),
         np.concatenate([m.indices + c for m, c in zip(parts, columns)]),
         np.concatenate([[0]] + [m.indptr[1:] + n for m, n in zip(parts, entries)])),
        shape=(sum(m.shape[0] for m in parts), columns[-1]))


def _side_by_side() -> bool:
    """Use a second thread only in a process of its own with a spare core: the processes of a
    parallel FE check or of a study's workers already keep every core busy, and there a second
    thread only contends (FE check of design (a), 2 processes on 2 cores: 30.5-34.7 s without,
    36.8-40.7 s with)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return multiprocessing.parent_process() is None and (cores or 1) > 1 and _threadsafe_layer()


def _threadsafe_layer() -> bool:
    """Whether numba can load its OpenMP or TBB threading layer (OpenMP needs the system's
    libgomp). Without either it falls back to its workqueue layer, which aborts the process when
    two Python threads run parallel code at once (drops may run in several threads)."""
    for layer in ("numba.np.ufunc.tbbpool", "numba.np.ufunc.omppool"):
        try:
            importlib.import_module(layer)
            return True
        except (ImportError, OSError):
            continue
    return False


_PARALLEL: dict[int, bool] = {}


def in_parallel() -> bool:
    """Whether this process evaluates two parts at once (:func:`_side_by_side`), decided once per
    process. A forked worker decides anew, and must say no: its parent may have started the
    kernels' OpenMP threads, which a forked child cannot use."""
    pid = os.getpid()
    if pid not in _PARALLEL:
        _PARALLEL[pid] = _side_by_side()
    return _PARALLEL[pid]
