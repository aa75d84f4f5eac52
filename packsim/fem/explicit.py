"""Explicit central-difference time integration of a grid model dropped onto a rigid floor.

The unknowns are generalised coordinates q: nodal displacements u = T q (T selects the degrees of
freedom that carry mass) and, optionally, the six coordinates of rigid bodies that have no nodes
of their own and touch the grid through unilateral contacts (:mod:`packsim.fem.rigid`). The mass
matrix M_q = T^T M T + extra (rigid-body blocks, selective mass scaling) is diagonal except for
the scaled walls and the bodies' rotations; that coupled part is factorised once. A step is one
internal-force evaluation, sparse products with T and the contact matrix, and one mass solve
(part by part, each beside the next part's forces, where the forces come part by part).

The floor is the plane n . x = level with a penalty spring on every node below it (frictionless);
gravity acts along -n. The stable step is a fraction of 2 / omega_max of (K_q, M_q) with every
penalty spring counted as closed (Lanczos), shortened when a foam densifies (its tangent rises),
unless the part is held (:meth:`ExplicitModel.hold_step`: the densified elements get mass
instead). Energies are tracked so that every run reports its own balance error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.sparse.csgraph import connected_components
from threadpoolctl import threadpool_limits

from ..stacking import G_N
from ._kernels import (add_contact_forces, advance, first_part_and_its_accelerations,
                       floor_pushes, generalised_forces, part_forces, solve_blocks,
                       two_parts_side_by_side, work_increment)
from .nonlinear import in_parallel
from .rigid import RigidBodies
from .solve import nested_dissection

#: Fraction of the critical step 2 / omega_max (penalty springs closed) used. Contact switches
#: springs on and off, which pumps energy into the nodes near the stability limit, so the step
#: keeps a margin below the linear limit. Measured (energy balance as :func:`integrate` computes
#: it): an EPS pad crushing under a block on a floor 10x stiffer than itself
#: (tests/test_foam_elements.py) keeps its balance within 1e-4 up to 0.55 and loses 1.1 % at 0.6;
#: a linear pad (tests/test_explicit.py) goes unstable at 0.7. Design (a)'s peak g is the same to
#: 0.03 % at 0.5, 0.6 and 0.7. Package drops, whose contact springs are capped, take their own
#: fraction from data/fe.toml and retry with a smaller one when the energy balance fails.
COURANT = 0.5


@dataclass(frozen=True, eq=False)
class Floor:
    """A rigid floor: the plane ``normal . x = level_m`` (normal pointing up, unit), with a
    penalty spring of ``penalty_n_per_m`` (one value, or one per node) on every node below it."""

    normal: np.ndarray
    level_m: float
    penalty_n_per_m: float | np.ndarray


@dataclass(frozen=True, eq=False)
class ExplicitRun:
    """Histories of an explicit drop (SI units).

    Attributes
    ----------
    step_time_s : ndarray
        Time of every step, s (steps may shorten when a foam densifies).
    probe_acceleration_m_s2 : ndarray
        (steps, probes): the probes' accelerations (``probes @ a_q``) at every step, m/s^2.
    time_s : ndarray
        Output times (every few steps), s.
    contact_force_n : ndarray
        Total floor force along the floor normal, N.
    kinetic_j, internal_j, contact_j, potential_j : ndarray
        Energies: kinetic; internal work (strain energy plus what the material dissipated);
        penalty springs (floor and contacts); gravity (relative to the start).
    normal_velocity_m_s : ndarray
        Velocity of the centre of mass along the floor normal (negative = towards the floor).
    monitored : dict of str to ndarray
        Histories returned by the ``monitor`` callback at the output times.
    dt_s : float
        Initial (largest) time step, s.
    min_dt_s : float
        Smallest time step used, s.
    steps : int
    energy_error : float
        Largest |total - initial total| over the run, relative to the initial kinetic energy.
    final_q, final_velocity_q : ndarray
        Coordinates and (mid-step) velocities at the end.
    first_contact_nodes : ndarray
        Nodes below the floor at the first step that had any.
    stepping_s : float
        Wall time of the time-stepping loop, s (without the stable-step estimate before it).
    added_mass_j : ndarray
        Kinetic energy that mass added during the run (:meth:`ExplicitModel.hold_step`) brought
        with it, J, at the output times: the balance counts it as put in.
    added_mass_kg : float
        Mass added during the run, kg.
    """

    step_time_s: np.ndarray
    probe_acceleration_m_s2: np.ndarray
    time_s: np.ndarray
    contact_force_n: np.ndarray
    kinetic_j: np.ndarray
    internal_j: np.ndarray
    contact_j: np.ndarray
    potential_j: np.ndarray
    normal_velocity_m_s: np.ndarray
    dt_s: float
    min_dt_s: float
    steps: int
    energy_error: float
    final_q: np.ndarray
    final_velocity_q: np.ndarray
    first_contact_nodes: np.ndarray
    monitored: dict[str, np.ndarray] = field(default_factory=dict)
    stepping_s: float = 0.0
    added_mass_j: np.ndarray = field(default_factory=lambda: np.zeros(0))
    added_mass_kg: float = 0.0


def lumped_masses(grid, densities_kg_m3: np.ndarray) -> np.ndarray:
    """Nodal masses (n_nodes,) of a grid: each element's mass shared equally by its 8 corners, kg.

    Parameters
    ----------
    grid : StructuredGrid
    densities_kg_m3 : ndarray
        Density of each material index of the grid, or of every element (grid.material's shape).
    """
    from .hex8 import CORNERS

    nx, ny, nz = grid.shape
    solid = grid.material >= 0
    rho = np.asarray(densities_kg_m3, dtype=float)
    if rho.shape != grid.material.shape:
        rho = rho[np.maximum(grid.material, 0)]
    element_mass = np.where(solid, grid.element_sizes.prod(-1) * rho, 0.0)
    nodal = np.zeros((nx, ny, nz))
    for cx, cy, cz in CORNERS:
        nodal[cx:cx + nx - 1, cy:cy + ny - 1, cz:cz + nz - 1] += element_mass / 8
    return nodal.ravel("F")


#: Coupled mass blocks up to this size are inverted densely; larger ones are factorised.
_SMALL_BLOCK = 12


class _MassSolver:
    """f -> M^-1 f, set up once: a division for uncoupled coordinates; for the coupled ones (the
    scaled walls, the bodies' rotations), their connected blocks. Small blocks are inverted and
    applied as one block-diagonal product. Large blocks with the same matrix (selective mass
    scaling acts alike on the three components of a wall) share one sparse factorisation and are
    solved together, which reads the factors once instead of three times.

    The factors are SuperLU's (symmetric positive definite: a symmetric order and no pivoting, so
    P M P^T = L D L^T), applied by a compiled solve (:func:`~._kernels.solve_blocks`): in
    SuperLU's order 0.38 against SuperLU's own 0.43 ms for design (a)'s walls (3 x 3192
    coordinates), and callable beside the other part's forces (:meth:`ExplicitModel.accelerate`).
    """

    def __init__(self, mass: sp.spmatrix):
        csr = sp.csr_matrix(mass)
        self.inverse = 1.0 / csr.diagonal()
        coupled = np.flatnonzero(np.diff(csr.indptr) > 1)
        members: list[np.ndarray] = []
        if coupled.size:
            block = csr[coupled][:, coupled]
            _, label = connected_components(block, directed=False)
            order = np.argsort(label, kind="stable")
            members = [coupled[m] for m in np.split(order, np.cumsum(np.bincount(label))[:-1])]
        small = [m for m in members if m.size <= _SMALL_BLOCK]
        self._small_q = np.concatenate(small) if small else np.zeros(0, dtype=int)
        self._small_inverse = sp.block_diag(
            [np.linalg.inv(csr[m][:, m].toarray()) for m in small], format="csr") if small else None
        groups: dict[tuple, list[np.ndarray]] = {}
        for m in members:
            if m.size > _SMALL_BLOCK:
                sub = csr[m][:, m]
                key = (sub.indptr.tobytes(), sub.indices.tobytes(), sub.data.tobytes())
                groups.setdefault(key, []).append(m)
        self._groups = [_factorised_blocks(csr, same) for same in groups.values()]

    def __call__(self, f: np.ndarray) -> np.ndarray:
        out = self.inverse * f
        if self._small_inverse is not None:
            out[self._small_q] = self._small_inverse @ f[self._small_q]
        for group in self._groups:
            solve_blocks(out, f, *group)
        return out

    def kernel_arguments(self) -> tuple | None:
        """1 / masses, then the :func:`~._kernels.solve_blocks` arguments after its first two,
        where the coupled coordinates form one group of blocks (or none); None otherwise."""
        if self._small_inverse is not None or len(self._groups) > 1:
            return None
        return (self.inverse, *(self._groups[0] if self._groups else _NO_BLOCKS))


#: :func:`~._kernels.solve_blocks` arguments that solve nothing.
_NO_BLOCKS = (np.zeros((0, 0), dtype=np.int64), np.zeros(1, dtype=np.int32),
              np.zeros(0, dtype=np.int32), np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64),
              np.zeros((0, 3)))


def _factorised_blocks(mass: sp.csr_matrix, same: list[np.ndarray]) -> tuple:
    """:func:`~._kernels.solve_blocks` arguments after its first two for the blocks of ``mass``
    with coordinates ``same`` (one array each), which share one matrix."""
    # (blocks, size), the last block repeated to make the count a multiple of three.
    columns_t = np.ascontiguousarray(np.stack(same + same[-1:] * (-len(same) % 3)),
                                     dtype=np.int64)
    first = columns_t[0]
    block = sp.csc_matrix(mass[first][:, first])
    # The solve reads L once per sweep: METIS nested dissection leaves 97k entries in it for
    # design (a)'s walls (0.34 ms), SuperLU's MMD on A^T + A 106k (0.39 ms), COLAMD 198k.
    nd = nested_dissection(block, block.shape[0])
    # Symmetric positive definite: no pivoting needed, and the order stays symmetric.
    lu = spla.splu(block[nd][:, nd], permc_spec="NATURAL", diag_pivot_thresh=0.0,
                   options={"SymmetricMode": True})
    if not np.array_equal(lu.perm_r, lu.perm_c):
        raise ValueError("a coupled mass block is not symmetric positive definite")
    lower = sp.csc_matrix(lu.L)
    lower.sort_indices()
    order = nd[np.argsort(lu.perm_r)].astype(np.int64)
    return (columns_t, lower.indptr, lower.indices, lower.data, 1.0 / lu.U.diagonal(), order,
            np.empty((len(first), 3)))


def _uncoupled_pieces(mass: sp.spmatrix, bounds: np.ndarray) -> bool:
    """Whether ``mass`` couples no coordinate of one range bounds[i]:bounds[i + 1] with another."""
    coo = sp.coo_matrix(mass)
    return bool(np.array_equal(np.searchsorted(bounds, coo.row, side="right"),
                               np.searchsorted(bounds, coo.col, side="right")))


@dataclass(eq=False)
class _HeldPart:
    """A part whose densifying foams get mass instead of a shorter step (hold_step)."""

    forces: Any
    headroom: float
    element_mass: np.ndarray  # of each solid element, kg
    base: np.ndarray  # its coordinates' masses as built, kg
    positions: np.ndarray  # where they sit in the mass matrix's data
    node: np.ndarray  # the part's node of each coordinate
    factor: np.ndarray  # mass factor of each element (1: as built)
    solve: Callable[[np.ndarray], np.ndarray]  # the mass solve as built
    ratio: float = 1.0  # stiffening its masses leave (for the step)


class ExplicitModel:
    """A body for :func:`integrate`: masses, stiffness, internal forces and coordinates.

    Parameters
    ----------
    points : ndarray
        Node coordinates (n_nodes, 3), m.
    mass_dof : ndarray
        Lumped mass of every degree of freedom (ndof,), kg.
    stiffness : sparse matrix
        Linear (initial) stiffness (ndof x ndof), N/m: the stable step and, without
        ``internal_force``, the forces.
    internal_force : callable, optional
        u -> internal force vector (ndof,); ``stiffness @ u`` by default. It may expose
        ``stiffness_ratio`` (current largest tangent / initial modulus of its foams), which
        shortens the step.
    scaled_mass : sparse matrix, optional
        Added to the lumped masses (ndof x ndof), e.g. selective mass scaling.
    bodies : RigidBodies, optional
        Rigid bodies without nodes, six coordinates each after the nodal ones
        (:mod:`packsim.fem.rigid`).
    contacts : tuple of (sparse matrix, ndarray), optional
        Gap matrix G (n_contacts x nq) and penalty of each contact, N/m (rows from
        :func:`packsim.fem.rigid.node_gap_rows` and :func:`~packsim.fem.rigid.body_gap_rows`).

    Attributes
    ----------
    carried : ndarray
        The dofs that carry mass; the nodal coordinate ``q[i]`` is dof ``carried[i]``.
    body_q : ndarray
        First of the six coordinates (translation, rotation) of each body.
    """

    def __init__(self, points: np.ndarray, mass_dof: np.ndarray, stiffness: sp.spmatrix,
                 internal_force: Callable[[np.ndarray], np.ndarray] | None = None,
                 scaled_mass: sp.spmatrix | None = None, bodies: RigidBodies | None = None,
                 contacts: tuple[sp.spmatrix, np.ndarray] | None = None):
        self.points = np.asarray(points, float)
        self.mass_dof = np.asarray(mass_dof, float)
        self.stiffness = stiffness
        self.internal_force = internal_force or (lambda u: stiffness @ u)
        self.carried = np.flatnonzero(self.mass_dof > 0)
        n_free, n_bodies = self.carried.size, bodies.count if bodies is not None else 0
        nq = n_free + 6 * n_bodies
        self.body_q = n_free + 6 * np.arange(n_bodies)
        self.transform = sp.csr_matrix((np.ones(n_free), (self.carried, np.arange(n_free))),
                                       shape=(len(self.mass_dof), nq))
        self.transform_t = self.transform.T.tocsr()
        nodal = sp.diags(self.mass_dof) + (scaled_mass if scaled_mass is not None else 0)
        mass_q = self.transform_t @ nodal @ self.transform
        if n_bodies:
            mass_q = mass_q + sp.block_diag([sp.csr_matrix((n_free, n_free)), bodies.mass_matrix()])
        self.mass_q = sp.csc_matrix(mass_q)
        # Unit rigid translations: every node, and each body's own translation.
        self.translation = np.zeros((nq, 3))
        self.translation[np.arange(n_free), self.carried % 3] = 1.0
        for k in range(3):
            self.translation[self.body_q + k, k] = 1.0
        self.contacts = contacts
        # Ranges of coordinates that may be solved apart (some may be empty): each part's nodes
        # (when the forces come part by part), then the bodies.
        offsets = getattr(self.internal_force, "offsets", None)
        bounds = np.array([0, nq])
        if offsets is not None:
            bounds = np.concatenate([np.searchsorted(self.carried, offsets[:-1]), [n_free, nq]])
        self._by_part = offsets is not None and _uncoupled_pieces(self.mass_q, bounds)
        if not self._by_part:
            bounds = np.array([0, nq])
        self._pieces = [(lo, hi, _MassSolver(self.mass_q[lo:hi, lo:hi]))
                        for lo, hi in zip(bounds[:-1], bounds[1:])]
        if self._by_part:
            # Each coordinate's dof within its own part.
            self._local = self.carried - offsets[np.searchsorted(offsets, self.carried, "right") - 1]
            self._parts = len(offsets) - 1
        # Two compiled parts, the first with a mass of one group of blocks: their forces and the
        # first part's mass solve run in one compiled call (accelerate).
        parts = getattr(self.internal_force, "parts", ())
        self._side_by_side = self._pieces[0][2].kernel_arguments() if (
            self._by_part and len(parts) == 2
            and all(hasattr(p, "kernel_arguments") for p in parts)) else None
        self._top_mode: np.ndarray | None = None
        self._stiffness_q: sp.csr_matrix | None = None
        self._held: dict[int, _HeldPart] = {}
        self._added: list[tuple[np.ndarray, np.ndarray]] = []

    def hold_step(self, part: int, element_mass_kg: np.ndarray, headroom: float) -> bool:
        """Keep the foams of part ``part`` from shortening the step as they densify: before each
        of the part's mass solves, every element whose tangent ratio r
        (:meth:`~packsim.fem.nonlinear.ElementForces.densified_ratios`) exceeds its mass factor
        gets mass factor r x ``headroom``, its mass times (factor - 1) shared by its corners
        (factors never fall during a run). An element whose mass grows with its stiffness
        vibrates no faster than it did, so the step holds: the mass scaling explicit codes apply
        below a minimum step, confined to the densified elements. Masses lumped on the nodes
        from elsewhere (a load, a neighbour) are not scaled.

        ``element_mass_kg`` (the part's solid elements) are their masses, kg. Needs the forces
        part by part and the part's masses uncoupled (a diagonal block, as a foam insert has);
        returns whether the part is held.
        """
        if not self._by_part:
            return False
        lo, hi, solve = self._pieces[part]
        mass = self.mass_q
        # Uncoupled: each of the part's columns holds its diagonal entry alone, which is where
        # the part's masses sit in the (CSC) mass matrix's data.
        positions = mass.indptr[lo:hi]
        if not (np.all(np.diff(mass.indptr)[lo:hi] == 1)
                and np.array_equal(mass.indices[positions], np.arange(lo, hi))):
            return False
        forces = self.internal_force.parts[part]
        self._held[part] = _HeldPart(forces, headroom, np.asarray(element_mass_kg, float),
                                     mass.data[positions].copy(), positions,
                                     self._local[lo:hi] // 3, np.ones(len(forces.nodes)), solve)
        return True

    def release_masses(self) -> None:
        """Take back the masses :meth:`hold_step` added (for another run)."""
        for part, held in self._held.items():
            lo, hi, _ = self._pieces[part]
            self.mass_q.data[held.positions] = held.base
            self._pieces[part] = (lo, hi, held.solve)
            held.factor[:] = 1.0
            held.ratio = 1.0
        self._added.clear()

    @property
    def added_mass_kg(self) -> float:
        """Mass :meth:`hold_step` has added, kg (each node's on its three coordinates)."""
        return sum(float(self.mass_q.data[h.positions].sum() - h.base.sum()) / 3
                   for h in self._held.values())

    def take_added(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The coordinates whose mass grew since the last call, and by how much, kg."""
        added, self._added = self._added, []
        return added

    @property
    def stiffness_ratio(self) -> float:
        """How much the foams have shortened the stable step, squared: the largest tangent over
        initial modulus of the forces, where a held part counts by what its added masses leave
        of its stiffening."""
        force = self.internal_force
        if not self._held:
            return getattr(force, "stiffness_ratio", 1.0)
        free = [p.stiffness_ratio for i, p in enumerate(force.parts) if i not in self._held]
        return max([1.0, *free, *(h.ratio for h in self._held.values())])

    def _hold(self, part: int) -> None:
        """Give held part ``part``'s densified elements their mass (see hold_step)."""
        held = self._held[part]
        if held.forces.stiffness_ratio <= 1.0:
            # No element has stiffened yet (the part's largest tangent ratio, kept by its forces,
            # is that of its most crushed element): nothing to add, and no search on the hot path.
            held.ratio = 1.0
            return
        elements, ratio = held.forces.densified_ratios()
        need = ratio > held.factor[elements]
        if need.any():
            held.factor[elements[need]] = ratio[need] * held.headroom
            corners = held.forces.nodes
            extra = np.bincount(corners.ravel(), minlength=held.forces.grid.n_nodes,
                                weights=np.repeat(held.element_mass * (held.factor - 1.0)
                                                  / corners.shape[1], corners.shape[1]))
            masses = held.base + extra[held.node]
            grown = masses - self.mass_q.data[held.positions]
            self.mass_q.data[held.positions] = masses
            lo, hi, _ = self._pieces[part]
            inverse = 1.0 / masses
            self._pieces[part] = (lo, hi, lambda f: inverse * f)
            moved = np.flatnonzero(grown > 0)
            self._added.append((lo + moved, grown[moved]))
        held.ratio = max(1.0, float(np.max(ratio / held.factor[elements], initial=1.0)))

    def solve_mass(self, f: np.ndarray) -> np.ndarray:
        """M_q^-1 f."""
        out = np.empty_like(f)
        for lo, hi, solve in self._pieces:
            out[lo:hi] = solve(f[lo:hi])
        return out

    def accelerate(self, u: np.ndarray, f_q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Accelerations M_q^-1 (f_q - T^T f_int(u)) and the internal forces f_int(u), where
        ``f_q`` holds every other generalised force.

        Where the internal forces come part by part (:class:`~packsim.fem.nonlinear.JointForces`)
        and the mass couples no two parts, each part's accelerations are solved as soon as its
        forces are known; for two parts such as a container and its insert, the first part's
        forces and mass solve (the walls' coupled mass) run beside the second's forces
        (:meth:`_accelerate_side_by_side`).
        """
        if not self._by_part:
            f_int = self.internal_force(u)
            f_q = f_q.copy()
            f_q[: self.carried.size] -= f_int[self.carried]
            return self.solve_mass(f_q), f_int
        if self._side_by_side is not None and 0 not in self._held:
            return self._accelerate_side_by_side(u, f_q)
        a = np.empty(self.nq)

        def solve_part(i: int, f_part: np.ndarray) -> None:
            if i in self._held:
                self._hold(i)
            lo, hi, solve = self._pieces[i]
            a[lo:hi] = solve(f_q[lo:hi] - f_part[self._local[lo:hi]])

        f_int = self.internal_force(u, then=solve_part)
        for lo, hi, solve in self._pieces[self._parts:]:
            a[lo:hi] = solve(f_q[lo:hi])
        return a, f_int

    def _accelerate_side_by_side(self, u: np.ndarray,
                                 f_q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`accelerate` of two compiled parts: the first part's forces and accelerations
        on one thread, the second part's forces on the other (one thread where the process has
        no spare core, with the same arithmetic), then the second part's accelerations.

        Measured on design (a) (alternating runs, one process each): this call 0.83 ms against
        1.43 ms when a Python helper thread took the walls' solve (each wake-up of a sleeping
        thread costs this VM 70-230 us) and 1.37 ms on one thread; a step of a 20 ms drop
        1.21-1.25 ms against 1.36-1.72 ms.
        """
        forces = self.internal_force
        first, second = forces.parts
        u_first, u_second = forces.split(u)
        f_first, f_second = np.empty(first.grid.ndof), np.empty(second.grid.ndof)
        a = np.empty(self.nq)
        lo, hi, _ = self._pieces[0]
        solve = (a[lo:hi], f_q[lo:hi], self._local[lo:hi], np.empty(hi - lo),
                 *self._side_by_side)
        arguments = (first.kernel_arguments(u_first, f_first),
                     second.kernel_arguments(u_second, f_second))
        ratios = np.empty(2)
        if in_parallel():
            two_parts_side_by_side(*arguments, solve, ratios)
        else:
            ratios[0] = first_part_and_its_accelerations(arguments[0], solve)
            ratios[1] = part_forces(*arguments[1])
        first.stiffness_ratio = max(first.stiffness_ratio, ratios[0])
        second.stiffness_ratio = max(second.stiffness_ratio, ratios[1])
        if 1 in self._held:
            self._hold(1)
        lo, hi, solve_second = self._pieces[1]
        a[lo:hi] = solve_second(f_q[lo:hi] - f_second[self._local[lo:hi]])
        for lo, hi, solve_rest in self._pieces[2:]:
            a[lo:hi] = solve_rest(f_q[lo:hi])
        return a, np.concatenate([f_first, f_second])

    @property
    def top_mode(self) -> np.ndarray | None:
        """Where the next stable-step search starts: the highest mode the last one found."""
        return self._top_mode

    @top_mode.setter
    def top_mode(self, mode: np.ndarray | None) -> None:
        self._top_mode = None if mode is None else np.array(mode, dtype=float)

    def displacements(self, q: np.ndarray) -> np.ndarray:
        """Nodal displacements u = T q (ndof,) of the coordinates ``q``: T only selects."""
        u = np.zeros(len(self.mass_dof))
        u[self.carried] = q[: self.carried.size]
        return u

    @property
    def nq(self) -> int:
        return self.transform.shape[1]

    @property
    def total_mass_kg(self) -> float:
        return float(self.translation[:, 2] @ (self.mass_q @ self.translation[:, 2]))

    def centre_velocity_row(self, direction: np.ndarray) -> np.ndarray:
        """Row r with r @ v_q the velocity of the centre of mass along ``direction`` (unit)."""
        return (self.mass_q @ (self.translation @ direction)) / self.total_mass_kg

    def highest_frequency(self, floor: Floor | None = None) -> float:
        """omega_max of (K_q + closed contact and floor springs) phi = omega^2 M_q phi, rad/s.

        By Lanczos; every penalty spring counts as closed, since any may close during a run.
        """
        if self._stiffness_q is None:
            self._stiffness_q = sp.csr_matrix(self.transform_t @ self.stiffness @ self.transform)
        k_q = self._stiffness_q
        if self.contacts is not None:
            gap, k_gap = self.contacts
            k_q = k_q + gap.T @ sp.diags(k_gap) @ gap
        if floor is not None:
            push = self.floor_pushes(floor.normal)
            k_node = np.broadcast_to(floor.penalty_n_per_m, (len(self.points),))
            k_q = k_q + push @ sp.diags(k_node) @ push.T
        k_q = sp.csr_matrix(k_q)  # only multiplied: CSR does it without scattering
        op = spla.LinearOperator(k_q.shape, matvec=self.solve_mass, dtype=float)
        # A fixed start makes runs reproducible (ARPACK would start at random, and the step, hence
        # the number of steps, would change in the fourth digit); a later call, with springs
        # added, starts from the previous highest mode.
        if self._top_mode is None:
            self._top_mode = np.random.default_rng(0).standard_normal(self.nq)
        # Ritz values approach omega^2 from below. Measured on design (a) with every spring
        # closed: tol 1e-3 gives omega 6e-6 low in 51 mass solves (1e-4: 1e-7 low, 81 solves;
        # 1e-2: 6e-4 low); the 1 % margin covers it.
        lam, mode = spla.eigsh(k_q, k=1, M=self.mass_q, Minv=op, which="LM", tol=1e-3,
                               v0=self._top_mode, maxiter=5000)
        self._top_mode = mode[:, 0]
        return 1.01 * float(np.sqrt(lam.max()))

    def floor_pushes(self, normal: np.ndarray) -> sp.csr_matrix:
        """Generalised forces of unit pushes on the nodes along ``normal``: T^T (I (x) n),
        (nq x n_nodes); its transpose gives the nodes' displacements along ``normal``."""
        n = np.asarray(normal, float)[:, None]
        return (self.transform_t @ sp.kron(sp.identity(len(self.points)), n, format="csr")).tocsr()

    def time_step(self, floor: Floor, courant: float = COURANT) -> float:
        """Step of :func:`integrate`, s: ``courant`` x 2 / omega_max with every spring closed."""
        return courant * 2.0 / self.highest_frequency(floor)


# Every BLAS call of a step (the mass solve's dense blocks) is tiny: BLAS threads only wait on
# each other, and they compete with other simulations in parallel checks. Measured on design (a):
# 4.7 ms per step on one BLAS thread, 6.4 ms on two.
@threadpool_limits.wrap(limits=1, user_api="blas")
def integrate(
    model: ExplicitModel,
    velocity_q: np.ndarray,
    floor: Floor,
    duration_s: float,
    probes: sp.spmatrix | None = None,
    gravity: bool = True,
    outputs: int = 500,
    stop: Callable[[float, np.ndarray], bool] | None = None,
    monitor: Callable[[np.ndarray, np.ndarray], dict[str, float]] | None = None,
    max_steps: int = 200_000,
    courant: float = COURANT,
    progress: Callable[[float], None] | None = None,
) -> ExplicitRun:
    """Integrate a body that touches the floor at t = 0.

    Parameters
    ----------
    model : ExplicitModel
    velocity_q : ndarray
        Initial velocity of the coordinates (nq,), m/s.
    floor : Floor
    duration_s : float
        Longest simulated time after first contact, s.
    probes : sparse matrix, optional
        (n_probes x nq): accelerations recorded at every step.
    gravity : bool
        Apply gravity (along -floor.normal).
    outputs : int
        About how many samples of the energy histories to record.
    stop : callable, optional
        ``stop(t, velocity_q) -> bool``, checked at output times.
    monitor : callable, optional
        (u, q) -> {name: value}, evaluated at output times.
    max_steps : int
        Safety limit on the number of steps.
    courant : float
        Fraction of the critical step used (see :data:`COURANT`).
    progress : callable, optional
        Called with the simulated time, s, at output times.
    """
    n_nodes = len(model.points)
    normal = np.asarray(floor.normal, float)
    probes = sp.csr_matrix(probes if probes is not None else (0, model.nq))
    dt0 = model.time_step(floor, courant)
    every = max(1, int(duration_s / dt0) // outputs)
    momentum_row = model.centre_velocity_row(normal)
    v0 = np.asarray(velocity_q, float)
    kinetic0 = 0.5 * float(v0 @ (model.mass_q @ v0))  # before any mass is added (hold_step)
    weight = -G_N * model.total_mass_kg * momentum_row if gravity else np.zeros(model.nq)
    height0 = model.points @ normal - floor.level_m
    k_floor = np.ascontiguousarray(np.broadcast_to(floor.penalty_n_per_m, (n_nodes,)), dtype=float)
    push = np.zeros(n_nodes)
    gap, k_gap = model.contacts if model.contacts is not None else (None, None)
    if gap is not None:
        gap = sp.csr_matrix(gap)
        k_gap = np.ascontiguousarray(k_gap, dtype=float)
    carried_node, carried_axis = np.divmod(model.carried, 3)

    first_contact: list[np.ndarray] = []

    def accelerate(q_now: np.ndarray,
                   u_now: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
        total, energy, below = floor_pushes(push, height0, u_now, normal, k_floor)
        if below and not first_contact:
            first_contact.append(np.flatnonzero(push > 0))
        f_q = generalised_forces(weight, push, normal, carried_node, carried_axis)
        if gap is not None:
            energy += add_contact_forces(f_q, gap.indptr, gap.indices, gap.data, k_gap, q_now)
        return *model.accelerate(u_now, f_q), total, energy

    def step_size() -> float:
        return dt0 / np.sqrt(max(model.stiffness_ratio, 1.0))

    start = time.perf_counter()
    q = np.zeros(model.nq)
    u = model.displacements(q)
    a, f_int, total_c, e_c = accelerate(q, u)
    dt = step_size()
    v = v0 + 0.5 * dt * a  # mid-step velocities
    internal_work, injected, t, step = 0.0, 0.0, 0.0, 0
    step_times, probe_rows = [], []
    records: dict[str, list[float]] = {k_: [] for k_ in ("t", "fc", "ke", "ie", "ce", "pe", "vn",
                                                         "me")}
    monitored: dict[str, list[float]] = {}
    min_dt = dt
    while t < duration_s * (1 - 1e-12) and step < max_steps:
        step += 1
        t += dt
        advance(q, v, dt, model.carried, u)  # u is updated in place: nothing keeps the old one
        f_previous = f_int
        a, f_int, total_c, e_c = accelerate(q, u)
        # Work of the internal forces (trapezoidal): stored strain energy plus what the material
        # dissipated, exact for a linear material.
        internal_work += work_increment(f_previous, f_int, v, dt, model.carried)
        for grown_q, grown_kg in model.take_added():
            # Mass added at the velocity it meets brings its kinetic energy with it.
            injected += 0.5 * float(grown_kg @ v[grown_q] ** 2)
        dt_next = step_size()
        min_dt = min(min_dt, dt_next)
        v_new = v + 0.5 * (dt + dt_next) * a
        step_times.append(t)
        probe_rows.append(probes @ a)
        if step % every == 0:
            v_at = 0.5 * (v + v_new)  # velocity at the full step
            records["t"].append(t)
            records["fc"].append(total_c)
            # The energy central differences conserve (for a linear model) pairs the half-step
            # velocities; (v_at M v_at) / 2 would overstate it by (dv M dv) / 8 in fast modes.
            records["ke"].append(0.5 * float(v @ (model.mass_q @ v_new)))
            records["ie"].append(internal_work)
            records["ce"].append(e_c)
            records["pe"].append(-float(weight @ q))
            records["vn"].append(float(momentum_row @ v_at))
            records["me"].append(injected)
            for name, value in (monitor(u, q) if monitor else {}).items():
                monitored.setdefault(name, []).append(value)
            if progress is not None:
                progress(t)
            if stop is not None and stop(t, v_at):
                v = v_new
                break
        v = v_new
        dt = dt_next
    stepping_s = time.perf_counter() - start
    arrays = {key: np.array(val) for key, val in records.items()}
    total = arrays["ke"] + arrays["ie"] + arrays["ce"] + arrays["pe"] - arrays["me"]
    error = float(np.max(np.abs(total - kinetic0)) / kinetic0) if kinetic0 > 0 and total.size else 0.0
    return ExplicitRun(
        step_time_s=np.array(step_times),
        probe_acceleration_m_s2=np.array(probe_rows).reshape(len(step_times), probes.shape[0]),
        time_s=arrays["t"], contact_force_n=arrays["fc"], kinetic_j=arrays["ke"],
        internal_j=arrays["ie"], contact_j=arrays["ce"], potential_j=arrays["pe"],
        normal_velocity_m_s=arrays["vn"], dt_s=dt0, min_dt_s=min_dt, steps=step,
        energy_error=error, final_q=q, final_velocity_q=v,
        first_contact_nodes=first_contact[0] if first_contact else np.zeros(0, dtype=int),
        monitored={k_: np.array(v_) for k_, v_ in monitored.items()},
        stepping_s=stepping_s, added_mass_j=arrays["me"], added_mass_kg=model.added_mass_kg,
    )


def drop_onto_floor(
    k: sp.spmatrix,
    mass_dof: np.ndarray,
    points: np.ndarray,
    velocity_m_s: np.ndarray,
    duration_s: float,
    penalty_n_per_m: float,
    watch: np.ndarray,
    internal_force: Callable[[np.ndarray], np.ndarray] | None = None,
    gravity: bool = True,
) -> tuple[ExplicitRun, np.ndarray]:
    """A body falling straight down onto the floor z = 0, touching it at t = 0.

    Returns the run and the mass-weighted vertical acceleration of the ``watch`` nodes at every
    step (positive up), m/s^2. Parameters as :class:`ExplicitModel` and :func:`integrate`;
    ``velocity_m_s`` is per dof.
    """
    model = ExplicitModel(points, mass_dof, k, internal_force)
    watch_mass = np.zeros(len(mass_dof))
    watch_mass[3 * np.asarray(watch) + 2] = mass_dof[3 * np.asarray(watch) + 2]
    probe = (watch_mass / watch_mass.sum()) @ model.transform
    floor = Floor(np.array([0.0, 0.0, 1.0]), 0.0, penalty_n_per_m)
    run = integrate(model, model.transform_t @ velocity_m_s, floor, duration_s,
                    probes=sp.csr_matrix(probe), gravity=gravity)
    return run, run.probe_acceleration_m_s2[:, 0]
