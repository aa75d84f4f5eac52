"""Drop of a whole package onto a rigid floor by explicit finite elements.

The package is the grid model of :func:`packsim.fem.mesh.package_mesh` (container, insert,
dividers, cells). Modelling choices:

- **Cells are rigid bodies** in unilateral, frictionless penalty contact with their pockets (they
  rest on the pocket floor, slide and lift off): a metal can is thousands of times stiffer than
  any cushion, so its deformation does not change what the cell feels, and as a deformable solid
  it would shrink the stable time step tenfold (shared/reference/perf-notes.md). Each cell's
  acceleration is that of its rigid body. The insert sits loose in the container the same way.
- **Foams** (insert, foam dividers) follow :class:`packsim.FoamLaw` with hysteresis; corrugated
  board crushes at its edge-crush stress ECT / caliper (``FoamLaw.board``); rigid plastic boxes
  and solid dividers are linear elastic. Materials may be taken at a test temperature
  (:mod:`packsim.temperature`).
- **Orientation**: instead of turning the package, the floor is turned: its normal, in the package
  frame, points from the impact face, edge or corner to the centre of mass (see
  :mod:`packsim.orientation`), and gravity acts against it. The floor is a frictionless penalty
  contact whose springs are scaled to each node's mass so that they never limit the time step.
- **Accelerations** are what an accelerometer on the cell reads (specific force, in g: 0 in free
  fall, 1 at rest), low-pass filtered with an SAE J211-1 CFC filter (class in ``data/fe.toml``).
- **Time step**: a fraction of the critical step (``data/fe.toml``); a run whose energy balance
  fails (an instability) is made again with a smaller fraction, so none is reported. A cushion
  element that densifies gets mass in proportion to its stiffening instead of shortening the
  step of the whole package (:meth:`~packsim.fem.explicit.ExplicitModel.hold_step`; a few grams,
  ``stats["added_mass_kg"]``).

The model is small-strain and small-rotation: fine for the impact of a flat drop; for edge and
corner drops the package's rotation during the pulse (a few degrees) is linearised.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import cache, partial
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from . import _json
from ._cited import load_cited_entries, load_packaged
from .compression import Peak
from .fem.explicit import ExplicitModel, Floor, integrate, lumped_masses
from .fem.grid import StructuredGrid, von_mises
from .fem.mass_scaling import element_frequencies, selective_mass
from .fem.mesh import CONTAINER, DIVIDERS, INSERT, package_mesh
from .fem.nonlinear import ElementForces, JointForces
from .fem.rigid import body_gap_rows, exposed_faces, node_gap_rows, rigid_bodies
from .errors import PacksimInputError, Problem
from .filters import cfc_filter
from .foam import FoamLaw
from .materials import library
from .temperature import TEMPERATURE_RANGE_C, design_conditioning, library_at
from .orientation import Orientation, parse_orientation
from .stacking import G_N

if TYPE_CHECKING:
    from .design import Design


#: Contact and floor springs, in units of the stiffness of the node they act on (along the
#: normal): as stiff as the first element layer, so a crushing foam penetrates its support by
#: about its elastic strain times the element size (tenths of a mm). Springs on heavy, stiff
#: nodes (board walls) are capped where the node would ring faster than the model's highest
#: frequency: they stay stiffer than 10^6 N/m (microns of penetration) and never set the step.
PENALTY_SCALE = 1.0


def _penalty(diagonal: np.ndarray, normal: np.ndarray, mass_kg: np.ndarray,
             omega_rad_s: float) -> np.ndarray:
    """Penalty springs, N/m, of nodes with stiffness diagonals ``diagonal`` (n, 3) along
    ``normal`` (n, 3) or (3,): PENALTY_SCALE K_nn, capped at m omega^2."""
    k_nn = (diagonal * np.asarray(normal) ** 2).sum(axis=-1)
    return np.minimum(PENALTY_SCALE * k_nn, mass_kg * omega_rad_s**2)


@cache
def _defaults() -> dict[str, float]:
    entry = load_packaged("fe.toml", lambda p: load_cited_entries(p, "model"))["drop"]
    return {k: float(v.value) for k, v in entry.items()}


@dataclass(frozen=True, eq=False)
class DropResult:
    """Result of :func:`simulate_drop`. SI units; accelerations in g.

    Attributes
    ----------
    design_name : str
    inputs : dict
        Height, orientation, mesh size, filter and the impact velocity.
    time_s : ndarray
        Sample times after first contact (uniform), s.
    cell_accel_g : ndarray
        (samples, cells): resultant acceleration each cell feels (accelerometer reading, g),
        filtered with ``filter``. Cells are numbered as the geometry's ``cell-001``, ... parts.
    filter : str
        The low-pass filter applied, e.g. ``"SAE J211-1 CFC 600"``.
    peak_g : ndarray
        Peak of each cell's filtered acceleration, g.
    max_peak_g : float
        Largest of ``peak_g``.
    pulse_ms : ndarray
        Duration of each cell's main pulse, between the crossings of 10 % of its peak, ms.
    max_foam_strain : Peak
        Largest compressive strain reached in an element of the cushion foam, and its centre.
        Crush in a plateau foam localises into bands one element thick, so this grows as the
        mesh is refined while the peak g does not (tests/test_drop.py); it locates the crush,
        ``max_cushion_compression`` judges it.
    max_cushion_compression : dict
        The largest compression of the cushion between a cell and a wall or its neighbour: the
        cell's approach over the gap between them (pocket clearance included), the strain the
        cushion model's pad has. ``value`` and ``between``.
    bottomed_out : bool
        ``max_cushion_compression`` passed the foam's densification onset: the cushion ran out
        of stroke somewhere.
    max_container_stress_pa : Peak
        Largest von Mises stress in the container during the drop, and where.
    max_container_crush : Peak or None
        Largest crush strain of a corrugated container's board (None for rigid boxes), and where.
    min_clearance : dict
        The closest any cell came to a neighbouring cell or to the container's walls during the
        drop: ``clearance_m`` (negative: they would touch), ``initial_gap_m`` and ``between``
        (cell translations; the small rotations of the cells are not counted).
    rebound_velocity_m_s : float
        Speed of the package's centre of mass away from the floor at the end (0 if it stays).
    energy : dict of str to ndarray
        Histories at ``energy["time_s"]``: ``kinetic``, ``internal`` (work of the internal
        forces), ``dissipated`` (internal work not stored elastically; left out by
        ``stored_energy=False``), ``contact`` (floor springs), ``gravity`` (work done by
        gravity), ``added_mass`` (kinetic energy brought by the mass given to densified
        cushion elements during the run), J.
    energy_error : float
        Largest balance error over the run, relative to the impact kinetic energy.
    first_contact_m : ndarray
        (k, 3) points of the package that touched the floor first (package frame), m.
    stats : dict
        ``dofs``, ``steps``, ``dt_s``, ``min_dt_s``, ``wall_s``, ``setup_s`` (model and mesh),
        ``stepping_s`` (the time-stepping loop), ``added_mass_kg`` (mass given during the run
        to the nodes of densified cushion elements so that they do not shorten the step;
        selective mass scaling adds none), ``selective_mass_kg``, ``turned_round`` (the
        package and every cell had turned round when the run stopped), ``courant`` (fraction
        of the critical step; the retry's when the first run's energy balance failed,
        data/fe.toml).
    """

    design_name: str
    inputs: dict[str, Any]
    time_s: np.ndarray
    cell_accel_g: np.ndarray
    filter: str
    peak_g: np.ndarray
    max_peak_g: float
    pulse_ms: np.ndarray
    max_foam_strain: Peak
    max_cushion_compression: dict[str, Any]
    bottomed_out: bool
    max_container_stress_pa: Peak
    max_container_crush: Peak | None
    min_clearance: dict[str, Any]
    rebound_velocity_m_s: float
    energy: dict[str, np.ndarray]
    energy_error: float
    first_contact_m: np.ndarray
    stats: dict[str, Any]
    _raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self, histories: bool = True) -> dict[str, Any]:
        """Plain data (JSON-serialisable); ``histories=False`` leaves out the time series."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "_raw":
                continue
            value = getattr(self, f.name)
            if isinstance(value, Peak):
                value = value.to_dict()
            elif isinstance(value, dict):
                value = {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in value.items()}
            elif isinstance(value, np.ndarray):
                value = value.tolist()
            out[f.name] = value
        if not histories:
            for name in ("time_s", "cell_accel_g", "energy"):
                out.pop(name)
        return out

    def to_json(self, histories: bool = True) -> str:
        return _json.dumps(self.to_dict(histories))


def plot_pulse(result: DropResult, ax=None, cells: list[int] | None = None):
    """Plot the cells' acceleration pulses (g against ms); returns the matplotlib Axes.

    Parameters
    ----------
    result : DropResult
    ax : matplotlib Axes, optional
    cells : list of int, optional
        Cell numbers (0-based) to draw; default all, with the worst one highlighted.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    t_ms = result.time_s * 1e3
    worst = int(np.argmax(result.peak_g)) if result.peak_g.size else -1
    chosen = range(result.cell_accel_g.shape[1]) if cells is None else cells
    for c in chosen:
        emphasis = c == worst
        ax.plot(t_ms, result.cell_accel_g[:, c], lw=1.8 if emphasis else 0.6,
                color="C3" if emphasis else "0.6", zorder=3 if emphasis else 2,
                label=f"cell-{c + 1:03d} (worst, {result.peak_g[c]:.0f} g)" if emphasis else None)
    ax.set_xlabel("time after impact (ms)")
    ax.set_ylabel("cell acceleration (g)")
    h, o = result.inputs["height_m"], result.inputs["orientation"]
    ax.set_title(f"{result.design_name}: {h:g} m drop on {o}, {result.filter}")
    ax.grid(alpha=0.3)
    if worst >= 0:
        ax.legend(loc="upper right")
    return ax


def _pulse_ms(t: np.ndarray, g: np.ndarray) -> float:
    """Width of the pulse around the peak between its crossings of 10 % of the peak, ms."""
    if g.size == 0 or not np.isfinite(g).all():
        return math.nan
    top = int(np.argmax(g))
    low = g < 0.1 * g[top]
    before = np.flatnonzero(low[:top])
    after = np.flatnonzero(low[top:])
    start = t[before[-1]] if before.size else t[0]
    end = t[top + after[0]] if after.size else t[-1]
    return float(end - start) * 1e3


def _element_densities(design: Design, material: np.ndarray, cell_index: np.ndarray,
                       volume: np.ndarray, materials: tuple[str, ...]) -> np.ndarray:
    """Density of every element: library densities, and each cell's mass over its meshed volume."""
    lib = library()
    rho = np.zeros(material.shape)
    for group in (CONTAINER, INSERT, DIVIDERS):
        if materials[group]:
            rho[material == group] = lib[materials[group]].density_kg_m3
    inside = cell_index >= 0
    cell_volume = np.bincount(cell_index[inside], weights=volume[inside], minlength=design.n_cells)
    if (cell_volume <= 0).any():
        missing = int(np.argmin(cell_volume > 0))
        raise PacksimInputError([Problem(
            "mesh_size_m", None, f"too coarse for the cells: cell-{missing + 1:03d} has no element "
            "(its centre misses every element); pass a smaller mesh size")])
    rho[inside] = design.cell.mass_kg / cell_volume[cell_index[inside]]
    return rho


def _face_neighbours(label: np.ndarray, ijk: np.ndarray) -> np.ndarray:
    """Label of the neighbour across each face (-x, +x, -y, +y, -z, +z) of elements ``ijk``;
    -2 beyond the grid."""
    padded = np.pad(label, 1, constant_values=-2)
    i, j, k = (ijk + 1).T
    out = np.empty((len(ijk), 6), dtype=label.dtype)
    for face in range(6):
        axis, side = divmod(face, 2)
        step = np.zeros(3, dtype=int)
        step[axis] = 1 if side else -1
        out[:, face] = padded[i + step[0], j + step[1], k + step[2]]
    return out


@dataclass(frozen=True)
class _Gaps:
    """Pairs that must not touch: neighbouring cells, and each cell and the container's walls.

    ``first`` / ``second`` are cell numbers (``second`` = -1 for a wall), ``axis`` and ``sign``
    the direction from first to second, ``gap_m`` the initial clear distance; ``centres_m`` are
    the cells' centres.
    """

    first: np.ndarray
    second: np.ndarray
    axis: np.ndarray
    sign: np.ndarray
    gap_m: np.ndarray
    centres_m: np.ndarray

    def label(self, i: int) -> str:
        direction = f"{'+' if self.sign[i] > 0 else '-'}{'xyz'[self.axis[i]]}"
        other = "wall" if self.second[i] < 0 else f"cell-{self.second[i] + 1:03d}"
        return f"cell-{self.first[i] + 1:03d} and {other} ({direction})"


def _inner_box(design: Design) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper corners of the container's inside, m."""
    side, cap = design.wall_thicknesses_m
    lo = np.array([side, side, cap])
    return lo, lo + np.array(design.inner_dims_m)


def _gaps(design: Design, centres: np.ndarray) -> _Gaps:
    env = np.array(design.layout.envelope_m)
    lo, hi = _inner_box(design)
    n = len(centres)
    cells = np.arange(n)
    parts = []
    key = np.round(centres / 1e-6).astype(np.int64)  # micrometre grid: same line, same key
    for axis in range(3):
        across = [k for k in range(3) if k != axis]
        order = np.lexsort((key[:, axis], key[:, across[1]], key[:, across[0]]))
        same_line = np.all(key[order[1:]][:, across] == key[order[:-1]][:, across], axis=1)
        i, j = order[:-1][same_line], order[1:][same_line]
        ones = np.ones(len(i))
        parts.append((i, j, axis * ones, ones, centres[j, axis] - centres[i, axis] - env[axis]))
        full = np.ones(n)
        parts.append((cells, -full, axis * full, full, hi[axis] - centres[:, axis] - env[axis] / 2))
        parts.append((cells, -full, axis * full, -full, centres[:, axis] - env[axis] / 2 - lo[axis]))
    first, second, axes, sign, gap = (np.concatenate(c) for c in zip(*parts))
    return _Gaps(first.astype(int), second.astype(int), axes.astype(int), sign, gap, centres)


def _wall_rows(design: Design, gaps: _Gaps, points: np.ndarray, node_q: np.ndarray,
               nq: int) -> sp.csr_matrix:
    """(gap rows, nq): for a cell-to-wall row, the mean displacement along the row's axis of the
    container's nodes on that inner wall within the cell's footprint (zero rows for cell pairs).

    The wall is taken where the cell would meet it: in edge and corner drops it turns with the
    package, and in every drop the struck wall stops while the rest of a crushing box moves on,
    so neither the box's mean translation nor a rigid fit of it is the wall the cell approaches.
    """
    lo, hi = _inner_box(design)
    half = np.array(design.layout.envelope_m) / 2
    n_nodes = len(points)
    box_q = node_q[:n_nodes]
    tol = 1e-9
    # The box's nodes on each of its six inner walls (upper wall: True), found once for all cells.
    walls = {(axis, upper): np.flatnonzero((np.abs(points[:, axis] - (hi if upper else lo)[axis]) < tol)
                                           & (box_q >= 0))
             for axis in range(3) for upper in (False, True)}
    rows, cols, vals = [], [], []
    for row in np.flatnonzero(gaps.second < 0):
        axis, cell = gaps.axis[row], gaps.first[row]
        across = [a for a in range(3) if a != axis]
        candidates = walls[axis, bool(gaps.sign[row] > 0)]
        offset = np.abs(points[candidates][:, across] - gaps.centres_m[cell, across])
        inside = np.all(offset <= half[across] + tol, axis=1)
        # A footprint between grid lines takes the wall node nearest the cell.
        nodes = (candidates[inside] if inside.any()
                 else candidates[[np.argmin(np.linalg.norm(offset, axis=1))]])
        rows += [row] * len(nodes)
        cols += (box_q[nodes] + axis).tolist()
        vals += [1.0 / len(nodes)] * len(nodes)
    return sp.csr_matrix((vals, (rows, cols)), shape=(len(gaps.gap_m), nq))


@dataclass(frozen=True, eq=False)
class _DropModel:
    """Everything about a package's drop model that does not depend on height or orientation."""

    container: ElementForces
    inner: ElementForces
    model: ExplicitModel
    cushions: tuple[int, ...]
    densification_onset: float
    gaps: _Gaps
    wall_rows: sp.csr_matrix  # see _wall_rows
    stiffness_diagonal: np.ndarray
    omega_rad_s: float
    selective_mass_kg: float
    start_mode: np.ndarray  # the stable-step search's start as built

    def reset(self) -> None:
        """Back to the state it was built in, for another run: uncrushed foams, and the
        stable-step search starting where it did (so that the step is the same to the last digit)."""
        self.model.internal_force.reset()
        self.model.release_masses()
        self.model.top_mode = self.start_mode


def _laws(materials: tuple[str, ...], dissipative: bool,
          temperature_c: float | None) -> tuple[dict[int, FoamLaw], list[int]]:
    """Crushable laws of the part groups (foams and corrugated board) and which are cushions."""
    lib = library_at(temperature_c)
    laws, cushions = {}, []
    for group in (CONTAINER, INSERT, DIVIDERS):
        m = lib[materials[group]] if materials[group] else None
        if m is not None and m.kind == "foam":
            laws[group] = FoamLaw.of(m, dissipative=dissipative)
            cushions.append(group)
        elif m is not None and m.kind == "board":
            laws[group] = FoamLaw.board(m, dissipative=dissipative)
    return laws, cushions


def _drop_model(design: Design, mesh_size_m: float | None, dissipative: bool,
                temperature_c: float | None) -> _DropModel:
    """The package as two grids touching through contacts (container; insert and dividers) and
    one rigid body per cell in contact with its pocket."""
    pm = package_mesh(design, mesh_size_m, temperature_c)
    grid = pm.grid
    material = grid.material
    ijk = grid.solid_elements
    sel = tuple(ijk.T)
    volume = grid.element_sizes.prod(-1)
    rho = _element_densities(design, material, pm.cell_index, volume, pm.materials)
    laws, cushions = _laws(pm.materials, dissipative, temperature_c)
    is_inner = np.isin(material, (INSERT, DIVIDERS))
    parts = []
    for keep in (material == CONTAINER, is_inner):
        part = StructuredGrid(grid.xs, grid.ys, grid.zs, np.where(keep, material, -1), grid.voigt)
        parts.append(ElementForces(part, laws))
    forces = JointForces(parts)
    n_nodes = grid.n_nodes
    mass_dof = np.concatenate([np.repeat(lumped_masses(p.grid, rho), 3) for p in parts])
    element_cell = pm.cell_index[sel]
    bodies = rigid_bodies(grid.element_centres[sel], grid.element_sizes[sel],
                          volume[sel] * rho[sel], element_cell)
    # The cushion sets the pace: thin stiff parts are slowed to its highest frequency.
    cushion_frequency = max(
        float(element_frequencies(p.grid, rho)[np.isin(p.material, cushions)].max(initial=0.0))
        for p in parts)
    scaled = [selective_mass(p.grid, rho, cushion_frequency) for p in parts]
    points = np.vstack([grid.points, grid.points])
    model = ExplicitModel(points, mass_dof, forces.stiffness, forces,
                          scaled_mass=sp.block_diag([m for m, _ in scaled], format="csr"),
                          bodies=bodies)
    # A densifying cushion gets mass where it stiffens instead of a shorter step for the whole
    # package (data/fe.toml, stiffening_mass_headroom).
    inner = parts[1]
    model.hold_step(1, inner.volume * rho[tuple(inner.grid.solid_elements.T)],
                    _defaults()["stiffening_mass_headroom"])
    nq, body_q, carried = model.nq, model.body_q, model.carried
    node_q = np.full(2 * n_nodes, -1)
    node_q[carried[0::3] // 3] = np.arange(0, carried.size, 3)

    # Loose insert in the box: container faces towards insert or dividers touch their nodes.
    inner_across = _face_neighbours(is_inner.astype(int), ijk) == 1
    node, _, normal = exposed_faces(grid.element_nodes, np.where(material[sel] == CONTAINER, 0, -1),
                                    inner_across)
    both = (node_q[node] >= 0) & (node_q[n_nodes + node] >= 0)
    node, normal = node[both], normal[both]
    box_gap = node_gap_rows(normal, node_q[n_nodes + node], nq) - node_gap_rows(normal, node_q[node], nq)
    box_pair = (node, n_nodes + node, normal)
    # Loose cells in their pockets: every cell face touches the node there (insert, else box).
    cell_across = _face_neighbours(pm.cell_index, ijk) != element_cell[:, None]
    node, cell, normal = exposed_faces(grid.element_nodes, element_cell, cell_across)
    other = np.where(node_q[n_nodes + node] >= 0, n_nodes + node, node)
    touching = node_q[other] >= 0
    other, cell, normal = other[touching], cell[touching], normal[touching]
    arm = grid.points[other % n_nodes] - bodies.centres_m[cell]
    cell_gap = node_gap_rows(normal, node_q[other], nq) - body_gap_rows(normal, arm, body_q[cell], nq)
    cell_pair = (other, normal)

    # Contacts are added once the model's own highest frequency (which caps them) is known.
    omega = model.highest_frequency()
    diagonal = np.abs(forces.stiffness.diagonal()).reshape(-1, 3)  # per node and axis
    node_mass = mass_dof[0::3]
    a, b, n_box = box_pair
    box_k = np.minimum(_penalty(diagonal[a], n_box, node_mass[a], omega),
                       _penalty(diagonal[b], n_box, node_mass[b], omega))
    cell_k = _penalty(diagonal[cell_pair[0]], cell_pair[1], node_mass[cell_pair[0]], omega)
    model.contacts = (sp.vstack([box_gap, cell_gap]).tocsr(), np.concatenate([box_k, cell_k]))
    onset = min((laws[g].densification_strain for g in cushions), default=math.inf)
    gaps = _gaps(design, bodies.centres_m)
    return _DropModel(container=parts[0], inner=parts[1], model=model, cushions=tuple(cushions),
                      densification_onset=onset,
                      gaps=gaps, wall_rows=_wall_rows(design, gaps, grid.points, node_q, nq),
                      stiffness_diagonal=diagonal,
                      omega_rad_s=omega,
                      selective_mass_kg=sum(b for _, b in scaled),
                      start_mode=model.top_mode.copy())


#: Drop models kept per thread for the next drops of the same design: a compliance check drops a
#: design on up to a dozen orientations, and building the model of design (a) takes about 0.5 s
#: (it holds about 65 MB at the default mesh).
_KEPT_MODELS = 2
_kept = threading.local()


def _reused_drop_model(design: Design, mesh_size_m: float | None, dissipative: bool,
                       temperature_c: float | None) -> _DropModel:
    """:func:`_drop_model`, built once per thread and reset before every later run."""
    kept = _kept.__dict__.setdefault("models", OrderedDict())
    key = (design, mesh_size_m, dissipative, temperature_c)
    if key in kept:
        kept.move_to_end(key)
        kept[key].reset()
    else:
        kept[key] = _drop_model(design, mesh_size_m, dissipative, temperature_c)
        while len(kept) > _KEPT_MODELS:
            kept.popitem(last=False)
    return kept[key]


def _forget_models() -> None:
    """Drop the kept models of this thread (the next drop builds its model anew)."""
    _kept.__dict__.pop("models", None)


def simulate_drop(design: Design, height_m: float, orientation: str | Orientation = "bottom",
                  mesh_size_m: float | None = None, duration_s: float | None = None,
                  cfc: float | None = None, dissipative: bool = True,
                  temperature_c: float | None = None,
                  progress: Callable[[float, float], None] | None = None,
                  stored_energy: bool = True) -> DropResult:
    """Drop ``design`` from ``height_m`` onto a rigid floor, hitting first with ``orientation``.

    Parameters
    ----------
    design : Design
    height_m : float
        Drop height (free fall), m; impact speed sqrt(2 g h).
    orientation : str or Orientation
        A face (``"bottom"``, ``"face-3"``, ``"3"``), edge (``"edge-2-3"``) or corner
        (``"corner-2-3-5"``) by ISTA numbering.
    mesh_size_m : float, optional
        Largest element edge, m (default as :func:`packsim.fem.mesh.package_mesh`).
    duration_s : float, optional
        Simulated time after impact, s; by default the run ends when the package and all cells
        have turned round and as long again has passed, or after ``max_duration_s`` of
        ``data/fe.toml``.
    cfc : float, optional
        SAE J211-1 channel frequency class of the acceleration filter (default in data/fe.toml).
    dissipative : bool
        ``False`` makes the foams unload along their loading curve (no hysteresis; verification).
    temperature_c : float, optional
        Temperature of the package, C, e.g. -18 for the UN drop of plastics packagings: moduli
        and strengths from :mod:`packsim.temperature` (default: the library's 23 C values).
    progress : callable, optional
        Called as ``progress(t_s, limit_s)`` while the drop runs (simulated time and the longest
        it may run), e.g. to drive a progress bar.
    stored_energy : bool
        Evaluate the elastic energy stored in the package at every output, which splits the
        internal work into stored and ``dissipated`` energy. ``False`` leaves ``dissipated`` out
        of ``energy``: on a foam insert this costs about a fifth of the run (the recoverable
        energy of every crushed element, principal strain by principal strain), and nothing
        but that history uses it; the compliance check does without.

    Returns
    -------
    DropResult
    """
    start = time.perf_counter()
    if not height_m > 0:
        raise ValueError(f"height_m must be > 0, got {height_m}")
    low, high = TEMPERATURE_RANGE_C
    if temperature_c is not None and not low < temperature_c < high:
        raise ValueError(f"temperature_c must be between {low:g} and {high:g} C, got {temperature_c}")
    orient = parse_orientation(orientation)
    defaults = _defaults()
    cfc = defaults["filter_cfc"] if cfc is None else float(cfc)
    run = partial(_drop, design, height_m, orient, mesh_size_m, duration_s, cfc, dissipative,
                  temperature_c, progress, stored_energy, start)
    # A step closer to the stability limit than the integrator's default, measured safe on package
    # drops; a run whose energy balance says otherwise is made again with a wider margin.
    result = run(defaults["courant"])
    if not result.energy_error <= defaults["max_energy_error"]:  # NaN too
        result = run(defaults["retry_courant"])
    return result


def _drop(design: Design, height_m: float, orient: Orientation, mesh_size_m: float | None,
          duration_s: float | None, cfc: float, dissipative: bool, temperature_c: float | None,
          progress: Callable[[float, float], None] | None, stored_energy: bool, start: float,
          courant: float) -> DropResult:
    """One run of :func:`simulate_drop` at ``courant`` (fraction of the critical step);
    ``start`` is when the drop was asked for (its wall time counts from there)."""
    began = time.perf_counter()
    defaults = _defaults()
    limit = defaults["max_duration_s"] if duration_s is None else float(duration_s)
    dm = _reused_drop_model(design, mesh_size_m, dissipative, temperature_c)
    model, container, inner = dm.model, dm.container, dm.inner
    setup_s = time.perf_counter() - began

    normal = orient.floor_normal(design.outer_dims_m, design.center_of_mass_m)
    node_mass = model.mass_dof[0::3]
    level = float((model.points @ normal)[node_mass > 0].min())
    floor = Floor(normal, level, _penalty(dm.stiffness_diagonal, normal, node_mass, dm.omega_rad_s))

    v0 = math.sqrt(2 * G_N * height_m)
    velocity_q = -v0 * (model.translation @ normal)
    n_cells = len(model.body_q)
    rows = (model.body_q[:, None] + np.arange(3)).ravel()
    cell_translation = sp.csr_matrix((np.ones(rows.size), (np.arange(rows.size), rows)),
                                     shape=(rows.size, model.nq))
    centre_velocity = model.centre_velocity_row(normal)
    turn: dict[str, float] = {}

    def stop(t: float, v_q: np.ndarray) -> bool:
        cells_down = ((cell_translation @ v_q).reshape(-1, 3) @ normal < 0).any()
        if "t" not in turn and not cells_down and float(centre_velocity @ v_q) >= 0:
            turn["t"] = t
        return duration_s is None and "t" in turn and t >= 2.0 * turn["t"]

    peak_stress = {"value": 0.0, "at": -1}
    forces = model.internal_force

    gaps = dm.gaps
    closest = {"clearance_m": math.inf, "row": -1}
    compressed = {"value": 0.0, "row": -1}

    def monitor(u: np.ndarray, q: np.ndarray) -> dict[str, float]:
        moved = q[model.body_q[:, None] + np.arange(3)]
        other = np.where(gaps.second < 0, dm.wall_rows @ q, moved[np.maximum(gaps.second, 0), gaps.axis])
        approach = gaps.sign * (moved[gaps.first, gaps.axis] - other)
        clearance = gaps.gap_m - approach
        i = int(np.argmin(clearance))
        if clearance[i] < closest["clearance_m"]:
            closest.update(clearance_m=float(clearance[i]), row=i)
        compression = approach / gaps.gap_m
        i = int(np.argmax(compression))
        if compression[i] > compressed["value"]:
            compressed.update(value=float(compression[i]), row=i)
        u_box = forces.split(u)[0]
        if container.material.size:
            vm = von_mises(container.stresses(container.strains(u_box), update=False))
            i = int(np.argmax(vm))
            if vm[i] > peak_stress["value"]:
                peak_stress.update(value=float(vm[i]), at=i)
        return {"stored": forces.stored_energy(u)} if stored_energy else {}

    outputs = max(1, math.ceil(limit / defaults["output_interval_s"]))
    run = integrate(model, velocity_q, floor, limit, probes=cell_translation, stop=stop,
                    monitor=monitor, outputs=outputs, courant=courant,
                    progress=None if progress is None else lambda t: progress(t, limit))

    # Accelerometer reading: acceleration minus gravity (gravity is -g n in the package frame).
    steps = len(run.step_time_s)
    specific = run.probe_acceleration_m_s2.reshape(steps, n_cells, 3) + G_N * normal
    t_uniform = np.arange(0.0, run.step_time_s[-1], run.dt_s) if steps else np.zeros(0)
    resampled = np.stack([np.interp(t_uniform, run.step_time_s, column)
                          for column in specific.reshape(steps, -1).T], axis=1)
    filtered = cfc_filter(resampled, run.dt_s, cfc) if t_uniform.size > 12 else resampled
    accel_g = np.linalg.norm(filtered.reshape(t_uniform.size, n_cells, 3), axis=2) / G_N
    peak_g = accel_g.max(axis=0) if t_uniform.size else np.zeros(n_cells)
    pulse = np.array([_pulse_ms(t_uniform, accel_g[:, c]) for c in range(n_cells)])

    def centre(part: ElementForces, i: int) -> tuple[float, float, float]:
        if i < 0:
            return (math.nan,) * 3
        return tuple(float(c) for c in part.grid.element_centres[tuple(part.grid.solid_elements[i])])

    foam = np.isin(inner.material, dm.cushions)
    i = int(np.argmax(np.where(foam, inner.eps_max, -np.inf))) if foam.any() else -1
    max_strain = Peak(float(inner.eps_max[i]) if i >= 0 else 0.0, centre(inner, i))
    stress_at = centre(container, peak_stress["at"])
    crush = None
    if container.material.size and CONTAINER in container.foams:
        i = int(np.argmax(container.eps_max))
        crush = Peak(float(container.eps_max[i]), centre(container, i))
    row = closest["row"]
    clearance = {"clearance_m": closest["clearance_m"],
                 "initial_gap_m": float(gaps.gap_m[row]) if row >= 0 else math.nan,
                 "between": gaps.label(row) if row >= 0 else ""}

    internal = run.internal_j
    energy = {"time_s": run.time_s, "kinetic": run.kinetic_j, "internal": internal,
              "contact": run.contact_j, "gravity": -run.potential_j,
              "added_mass": run.added_mass_j}
    if stored_energy:
        energy["dissipated"] = internal - run.monitored["stored"]
    return DropResult(
        design_name=design.name,
        inputs={"height_m": float(height_m), "orientation": orient.name,
                "mesh_size_m": mesh_size_m, "impact_velocity_m_s": v0, "filter_cfc": cfc,
                "floor_normal": normal.tolist(), "temperature_c": temperature_c,
                "materials_at_temperature": [c.basis for c in design_conditioning(design, temperature_c)]},
        time_s=t_uniform,
        cell_accel_g=accel_g,
        filter=f"SAE J211-1 CFC {cfc:g}",
        peak_g=peak_g,
        max_peak_g=float(peak_g.max()) if peak_g.size else 0.0,
        pulse_ms=pulse,
        max_foam_strain=max_strain,
        max_cushion_compression={
            "value": compressed["value"],
            "between": gaps.label(compressed["row"]) if compressed["row"] >= 0 else ""},
        bottomed_out=bool(compressed["value"] > dm.densification_onset),
        max_container_stress_pa=Peak(peak_stress["value"], stress_at),
        max_container_crush=crush,
        min_clearance=clearance,
        rebound_velocity_m_s=max(0.0, float(run.normal_velocity_m_s[-1])) if run.time_s.size else 0.0,
        energy=energy,
        energy_error=run.energy_error,
        first_contact_m=np.unique(model.points[run.first_contact_nodes], axis=0),
        stats={"dofs": model.nq, "steps": run.steps, "dt_s": run.dt_s, "min_dt_s": run.min_dt_s,
               "wall_s": time.perf_counter() - start, "setup_s": setup_s,
               "stepping_s": run.stepping_s, "added_mass_kg": run.added_mass_kg,
               "selective_mass_kg": dm.selective_mass_kg, "turned_round": "t" in turn,
               "courant": courant},
        _raw={"run": run, "model": dm},
    )
