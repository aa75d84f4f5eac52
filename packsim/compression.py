"""Static compression of a whole package by finite elements, with linear buckling.

The package stands on a rigid floor and is pressed by a rigid top platen (both fixed platens, as
in ASTM D642 with a fixed platen: no sliding at either face). The model is linear, so one solve
with a unit platen displacement gives the stiffness; results are scaled to the requested load.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from . import _json
from .fem import solve
from .fem.grid import max_abs_principal, von_mises
from .fem.mesh import PARTS, package_mesh
from .stacking import design_bct_n, stack_load_n

if TYPE_CHECKING:
    from .design import Design

_UNIT_DISPLACEMENT_M = 1e-3


class Peak(NamedTuple):
    """Largest value of a field in a part and the element centre where it occurs (m)."""

    value: float
    at_m: tuple[float, float, float]

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "at_m": list(self.at_m)}


@dataclass(frozen=True, eq=False)
class CompressionResult:
    """Result of :func:`simulate_compression`. Forces N, lengths m, stresses Pa.

    Attributes
    ----------
    design_name : str
    inputs : dict
        The arguments that produced this result (load, stack height, mesh size, ...).
    load_n : float
        Platen load.
    deflection_m : float
        Platen displacement under ``load_n`` (positive = shortening).
    reaction_n : float
        Floor reaction (equals ``load_n``: a check of equilibrium).
    stiffness_n_per_m : float
        Platen load per unit platen displacement.
    max_von_mises_pa, max_strain : dict of str to Peak
        Per part group (container, insert, dividers, cells): the largest von Mises stress and the
        largest principal strain by magnitude (signed; negative = compression), with location.
    buckling_factor : float or None
        Load multiplier at which the loaded package first buckles (linear buckling), i.e.
        ``buckling_load_n / load_n``.
    buckling_load_n : float or None
        Platen load at which the package first buckles.
    bct_mckee_n : float or None
        Simplified-McKee box compression strength (None when the container is not corrugated).
    dofs : int
        Degrees of freedom of the model.
    wall_s : dict of str to float
        Wall-clock time of mesh, assembly, solve, buckling and total, s.
    """

    design_name: str
    inputs: dict[str, Any]
    load_n: float
    deflection_m: float
    reaction_n: float
    stiffness_n_per_m: float
    max_von_mises_pa: dict[str, Peak]
    max_strain: dict[str, Peak]
    buckling_factor: float | None
    buckling_load_n: float | None
    bct_mckee_n: float | None
    dofs: int
    wall_s: dict[str, float]
    _fields: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-serialisable); the full fields are written by :meth:`to_vtu`."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_fields"}
        out["inputs"] = dict(self.inputs)
        out["wall_s"] = dict(self.wall_s)
        for name in ("max_von_mises_pa", "max_strain"):
            out[name] = {part: p.to_dict() for part, p in getattr(self, name).items()}
        return out

    def to_json(self) -> str:
        return _json.dumps(self.to_dict())

    def to_vtu(self, path: str | Path) -> Path:
        """Write the mesh with part tags, displacement, buckling mode, von Mises stress and strain
        (VTK unstructured grid, for ParaView)."""
        import meshio

        f = self._fields
        grid = f["grid"]
        ijk = grid.solid_elements
        mesh = grid.skfem_mesh()
        cells = mesh.t.T[:, [0, 2, 4, 1, 3, 6, 7, 5]]  # scikit-fem -> VTK hexahedron order
        sel = tuple(ijk.T)
        point_data = {"displacement_m": f["u"].reshape(-1, 3)}
        if f.get("mode") is not None:
            point_data["buckling_mode"] = f["mode"].reshape(-1, 3)
        cell_data = {
            "part": [grid.material[sel]],
            "von_mises_pa": [f["von_mises"][sel]],
            "max_principal_strain": [f["strain"][sel]],
        }
        path = Path(path)
        meshio.write(path, meshio.Mesh(grid.points, [("hexahedron", cells)],
                                       point_data=point_data, cell_data=cell_data))
        return path


@dataclass(frozen=True, eq=False)
class _PlatenSolution:
    """A package model pressed by a unit platen displacement."""

    grid: Any
    materials: tuple[str, ...]
    fixed: np.ndarray
    u_unit: np.ndarray
    solver: solve.LinearSolver
    unit_load_n: float
    unit_reaction_n: float
    mesh_s: float
    assembly_s: float
    solve_s: float


def platen_constraints(grid) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fixed dofs and their values for a unit platen displacement: floor and platen nodes held
    (fixed platens), the platen moved down by 1 mm; nodes outside the solid held too.

    Returns the fixed mask, the prescribed values, and the floor and platen node masks.
    """
    p = grid.points
    bottom = np.isclose(p[:, 2], 0.0)
    top = np.isclose(p[:, 2], grid.zs[-1])
    fixed = np.zeros(grid.ndof, dtype=bool)
    for c in range(3):
        fixed[3 * np.flatnonzero(bottom | top | ~grid.solid_nodes) + c] = True
    values = np.zeros(grid.ndof)
    values[3 * np.flatnonzero(top) + 2] = -_UNIT_DISPLACEMENT_M
    return fixed, values, bottom, top


def _press(design: Design, mesh_size_m: float | None, method: str | None,
           direct_max_dofs: int = 0) -> _PlatenSolution:
    """The unit platen displacement solved on the package's grid; ``method`` None picks the
    direct solver up to ``direct_max_dofs`` DOFs, AMG above."""
    t = time.perf_counter()
    pm = package_mesh(design, mesh_size_m)
    grid = pm.grid
    mesh_s = time.perf_counter() - t
    if method is None:
        method = "direct" if grid.ndof <= direct_max_dofs else "amg"
    t = time.perf_counter()
    k = grid.stiffness()
    assembly_s = time.perf_counter() - t
    fixed, values, bottom, top = platen_constraints(grid)
    t = time.perf_counter()
    u_unit, lin = solve.solve_with_prescribed(k, np.zeros(grid.ndof), fixed, values, grid.points,
                                              method=method)
    internal = k @ u_unit
    return _PlatenSolution(
        grid=grid, materials=pm.materials, fixed=fixed, u_unit=u_unit, solver=lin,
        unit_load_n=-float(internal[3 * np.flatnonzero(top) + 2].sum()),
        unit_reaction_n=float(internal[3 * np.flatnonzero(bottom) + 2].sum()),
        mesh_s=mesh_s, assembly_s=assembly_s, solve_s=time.perf_counter() - t,
    )


def _buckling(design: Design, static: _PlatenSolution, mesh_size_m: float | None,
              max_dofs: int) -> tuple[float | None, np.ndarray | None, float | None]:
    """Platen load at first buckling (N), the mode on the static grid (None if solved on a
    coarser grid) and the mesh size used.

    Lanczos needs many exact solves, so buckling runs on a direct factorisation of a model of at
    most ``max_dofs`` degrees of freedom: the static grid if small enough, else a coarser one.
    """
    model, size = static, mesh_size_m
    if static.grid.ndof > max_dofs:
        size = mesh_size_m or float(np.diff(static.grid.xs).max())
        while True:
            size *= (model.grid.ndof / max_dofs) ** (1 / 3) * 1.05
            dofs = package_mesh(design, size).dofs
            if dofs <= max_dofs:
                break
            if size > max(design.outer_dims_m):  # one element per gap between the design's lines
                raise ValueError(f"buckling_max_dofs must be at least {dofs} for {design.name} "
                                 f"(its coarsest grid), got {max_dofs}")
        model = _press(design, size, "direct")
    elif static.solver.method != "direct":
        direct = solve.LinearSolver(static.solver.k, static.grid.points, method="direct")
        model = dataclasses.replace(static, solver=direct)
    grid = model.grid
    stress = grid.element_stresses(grid.element_strains(model.u_unit))
    factors, modes = solve.buckling_factors(model.solver, grid.geometric_stiffness(stress), model.fixed)
    if not len(factors):
        return None, None, size
    # Factors are per unit platen displacement; convert to per unit platen load.
    per_newton = float(factors[0]) * model.unit_load_n
    mode = modes[:, 0] if model.grid is static.grid else None
    return per_newton, mode, size


def simulate_compression(
    design: Design,
    load_n: float | None = None,
    stack_height_m: float | None = None,
    mesh_size_m: float | None = None,
    buckling: bool = True,
    solver: str | None = None,
    buckling_max_dofs: int = 20000,
) -> CompressionResult:
    """Press a package between a rigid floor and a rigid top platen.

    Parameters
    ----------
    design : Design
    load_n : float, optional
        Platen load, N. Give this or ``stack_height_m``.
    stack_height_m : float, optional
        Stack height including this package (UN 6.1.5.6 uses 3 m); the load is the weight of the
        whole packages above (:func:`packsim.stacking.stack_load_n`).
    mesh_size_m : float, optional
        Largest element edge, m (default: see :func:`packsim.fem.mesh.package_mesh`).
    buckling : bool
        Also compute the linear buckling load factor.
    solver : {"amg", "direct"}, optional
        Linear solver; AMG-preconditioned CG scales to large models. By default the direct
        solver where the buckling analysis factorises the same model anyway (up to
        ``buckling_max_dofs``), AMG otherwise; ``inputs["solver"]`` says which ran. Measured on
        design (a)'s default mesh (18k DOFs): 1.0 s of AMG solve saved, since buckling reuses the
        factorisation.
    buckling_max_dofs : int
        Largest model for the buckling analysis; a finer static mesh is coarsened for it.

    Returns
    -------
    CompressionResult
    """
    if (load_n is None) == (stack_height_m is None):
        raise ValueError("give exactly one of load_n or stack_height_m")
    if stack_height_m is not None:
        if stack_height_m <= 0:
            raise ValueError(f"stack_height_m must be > 0, got {stack_height_m}")
        load_n = stack_load_n(design, stack_height_m)
    if load_n < 0:
        raise ValueError(f"load_n must be >= 0 (compression), got {load_n}")
    t0 = time.perf_counter()
    static = _press(design, mesh_size_m, solver, buckling_max_dofs if buckling else 0)
    grid = static.grid
    wall = {"mesh": static.mesh_s, "assembly": static.assembly_s, "solve": static.solve_s}
    unit_load = static.unit_load_n

    scale = load_n / unit_load
    u = static.u_unit * scale
    strain = grid.element_strains(u)
    stress = grid.element_stresses(strain)
    vm = von_mises(stress)
    principal = max_abs_principal(strain)
    centres = grid.element_centres
    peaks_vm: dict[str, Peak] = {}
    peaks_strain: dict[str, Peak] = {}
    for index, part in enumerate(PARTS):
        sel = grid.material == index
        if not sel.any():
            continue
        where = np.argwhere(sel)
        i = int(np.argmax(vm[sel]))
        peaks_vm[part] = Peak(float(vm[sel][i]), tuple(float(v) for v in centres[tuple(where[i])]))
        j = int(np.argmax(np.abs(principal[sel])))
        peaks_strain[part] = Peak(float(principal[sel][j]),
                                  tuple(float(v) for v in centres[tuple(where[j])]))

    buckling_n = mode = buckling_size = None
    if buckling:
        t = time.perf_counter()
        buckling_n, mode, buckling_size = _buckling(design, static, mesh_size_m, buckling_max_dofs)
        wall["buckling"] = time.perf_counter() - t
    wall["total"] = time.perf_counter() - t0
    factor = None if buckling_n is None or load_n == 0 else buckling_n / load_n

    stiffness = unit_load / _UNIT_DISPLACEMENT_M
    return CompressionResult(
        design_name=design.name,
        inputs={"load_n": load_n, "stack_height_m": stack_height_m, "mesh_size_m": mesh_size_m,
                "buckling": buckling, "buckling_mesh_size_m": buckling_size,
                "solver": static.solver.method,
                "materials": dict(zip(PARTS, static.materials))},
        load_n=float(load_n),
        deflection_m=float(load_n / stiffness) if stiffness > 0 else float("inf"),
        reaction_n=static.unit_reaction_n * scale,
        stiffness_n_per_m=stiffness,
        max_von_mises_pa=peaks_vm,
        max_strain=peaks_strain,
        buckling_factor=factor,
        buckling_load_n=buckling_n,
        bct_mckee_n=design_bct_n(design),
        dofs=grid.ndof,
        wall_s=wall,
        _fields={"grid": grid, "u": u, "mode": mode, "von_mises": vm, "strain": principal},
    )
