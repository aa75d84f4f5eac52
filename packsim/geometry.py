"""Watertight solids of every part of a design, in one assembly frame, with masses.

Frame: metres, origin at a bottom corner of the closed container, x along its length (cell
columns), y along its width (cell rows), z up. Insert pockets are cut by a real mesh boolean
(manifold3d through trimesh). Round pockets and cells are polygons with the area of the true
circle, so volumes and masses computed from the solids are exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import manifold3d
import numpy as np
import trimesh

from .fefco import RscBlank, rsc_blank
from .materials import library

if TYPE_CHECKING:
    from .design import Design

Role = Literal["container", "insert", "divider", "cell"]

#: Facets of round pockets and cells.
ROUND_SECTIONS = 64
# Pockets poke this far out of the tray top (and through a zero floor) so that no cutting face is
# coplanar with a face of the tray.
_POKE_M = 1e-3


@dataclass(frozen=True, eq=False)
class Part:
    """One solid of the assembly.

    Attributes
    ----------
    name : str
        Unique name, e.g. ``container``, ``insert-tray-1``, ``insert-lid``, ``divider-1``,
        ``cell-001``.
    role : str
        ``container`` | ``insert`` | ``divider`` | ``cell``.
    material : str
        Material id (cells: the cell id).
    mesh : trimesh.Trimesh
        Watertight solid in the assembly frame, m.
    mass_kg : float
        Mass, kg. From the solid's volume x density, except the corrugated box, whose mass is its
        flat blank area x grammage.
    co2e_kg : float
        Cradle-to-gate CO2e of the part, kg (0 for cells: they are the product, not packaging).
    """

    name: str
    role: Role
    material: str
    mesh: trimesh.Trimesh
    mass_kg: float
    co2e_kg: float

    @property
    def volume_m3(self) -> float:
        """Volume of the solid, m^3."""
        return float(self.mesh.volume)

    @property
    def is_packaging(self) -> bool:
        return self.role != "cell"


@dataclass(frozen=True, eq=False)
class Assembly:
    """All parts of a design with their masses; see :attr:`packsim.Design.geometry`.

    Attributes
    ----------
    design : Design
        The design these solids were built from.
    parts : tuple of Part
        Container, insert trays and lid, dividers, then every cell.
    blank : RscBlank or None
        The flat blank of a corrugated container.
    """

    design: Design
    parts: tuple[Part, ...]
    blank: RscBlank | None

    @property
    def packaging_parts(self) -> tuple[Part, ...]:
        return tuple(p for p in self.parts if p.is_packaging)

    @property
    def packaging_mass_kg(self) -> float:
        """Mass of container, insert and dividers, kg."""
        return math.fsum(p.mass_kg for p in self.packaging_parts)

    @property
    def packaging_co2e_kg(self) -> float:
        """Cradle-to-gate CO2e of the packaging, kg."""
        return math.fsum(p.co2e_kg for p in self.packaging_parts)

    @property
    def gross_mass_kg(self) -> float:
        """Mass of the filled package, kg."""
        return math.fsum(p.mass_kg for p in self.parts)

    @property
    def center_of_mass_m(self) -> tuple[float, float, float]:
        """Mass-weighted centre of all parts, m."""
        masses = np.array([p.mass_kg for p in self.parts])
        centres = np.array([p.mesh.center_mass for p in self.parts])
        return tuple(float(v) for v in masses @ centres / masses.sum())

    def scene(self) -> trimesh.Scene:
        """A trimesh scene of the assembly, one geometry per part (``scene.show()`` in a notebook)."""
        return trimesh.Scene({p.name: p.mesh for p in self.parts})

    def summary(self) -> dict[str, Any]:
        """Dimensions, masses, cell count and energy as plain data."""
        d = self.design
        parts: dict[str, dict[str, Any]] = {}
        for p in self.packaging_parts:
            parts[p.name] = {"material": p.material, "mass_kg": p.mass_kg, "co2e_kg": p.co2e_kg}
        parts["cells"] = {
            "material": d.cell.id,
            "mass_kg": d.cells_mass_kg,
            "quantity": d.n_cells,
            "co2e_kg": 0.0,
        }
        return {
            "name": d.name,
            "container": d.container.type,
            "outer_dims_m": list(d.outer_dims_m),
            "inner_dims_m": list(d.inner_dims_m),
            "insert_dims_m": list(d.insert_dims_m),
            "insert_relief": ({"ribs": d.insert.ribs, "bearing_fraction": d.insert.bearing_fraction,
                               "groove_depth_ratio": d.insert.groove_depth_ratio}
                              if d.insert.relieved else None),
            "n_cells": d.n_cells,
            "cell": d.cell.id,
            "cell_wh": d.cell.energy_wh,
            "total_wh": d.total_wh,
            "packaging_mass_kg": self.packaging_mass_kg,
            "cells_mass_kg": d.cells_mass_kg,
            "gross_mass_kg": self.gross_mass_kg,
            "center_of_mass_m": list(self.center_of_mass_m),
            "packaging_co2e_kg": self.packaging_co2e_kg,
            "parts": parts,
        }


def _box(lo: tuple[float, float, float], hi: tuple[float, float, float]) -> trimesh.Trimesh:
    return trimesh.creation.box(bounds=np.array([lo, hi], dtype=float))


def _round(radius: float, z0: float, z1: float) -> trimesh.Trimesh:
    """Upright prism on the z axis whose polygon has the area of the circle of ``radius``."""
    n = ROUND_SECTIONS
    r_poly = radius * math.sqrt(2 * math.pi / (n * math.sin(2 * math.pi / n)))
    transform = trimesh.transformations.translation_matrix((0.0, 0.0, (z0 + z1) / 2))
    return trimesh.creation.cylinder(radius=r_poly, height=z1 - z0, sections=n, transform=transform)


def _prism(half_x: float, half_y: float, z0: float, z1: float, round_: bool) -> trimesh.Trimesh:
    """A pocket or cell shape centred on the z axis: a round prism, or a box."""
    if round_:
        return _round(half_x, z0, z1)
    return _box((-half_x, -half_y, z0), (half_x, half_y, z1))


def _tile(template: trimesh.Trimesh, offsets: np.ndarray) -> trimesh.Trimesh:
    """Disjoint copies of ``template`` translated by each row of ``offsets``, as one mesh."""
    nv = len(template.vertices)
    vertices = (template.vertices[None, :, :] + offsets[:, None, :]).reshape(-1, 3)
    faces = (template.faces[None, :, :] + nv * np.arange(len(offsets))[:, None, None]).reshape(-1, 3)
    return trimesh.Trimesh(vertices=vertices, faces=faces, process=False)


def _moved(template: trimesh.Trimesh, offset: np.ndarray) -> trimesh.Trimesh:
    return trimesh.Trimesh(vertices=template.vertices + offset, faces=template.faces, process=False)


def _manifold(mesh: trimesh.Trimesh) -> manifold3d.Manifold:
    return manifold3d.Manifold(manifold3d.Mesh64(
        vert_properties=np.asarray(mesh.vertices, dtype=np.float64),
        tri_verts=np.asarray(mesh.faces, dtype=np.uint64),
    ))


def _difference(solid: trimesh.Trimesh, *cutters: trimesh.Trimesh) -> trimesh.Trimesh:
    """``solid`` minus each of ``cutters`` in turn, in double precision.

    A cutter may have many disjoint shells, but its shells must not overlap (cutters may overlap
    each other). trimesh's manifold engine passes float32 vertices, which leaves ~1e-7 relative
    error in volumes and masses; Manifold's 64-bit mesh interface keeps them exact to rounding.
    """
    result = _manifold(solid)
    for cutter in cutters:
        result = result - _manifold(cutter)
    out = result.to_mesh64()
    return trimesh.Trimesh(vertices=np.asarray(out.vert_properties)[:, :3],
                           faces=np.asarray(out.tri_verts, dtype=np.int64), process=False)


def _solid(name: str, role: Role, material_id: str, mesh: trimesh.Trimesh,
           mass_kg: float | None = None) -> Part:
    material = library()[material_id]
    if mass_kg is None:
        mass_kg = float(mesh.volume) * material.density_kg_m3
    return Part(name, role, material_id, mesh, mass_kg, mass_kg * material.co2e_kg_per_kg)


def build_assembly(design: Design) -> Assembly:
    """Build the solids of every part of ``design`` and their masses.

    Parameters
    ----------
    design : Design

    Returns
    -------
    Assembly
    """
    from .design import CorrugatedBox

    insert = design.insert
    cell = design.cell
    side, cap = design.wall_thicknesses_m
    inner = design.inner_dims_m
    outer = design.outer_dims_m
    ins = design.insert_dims_m

    shell = _difference(
        _box((0, 0, 0), outer),
        _box((side, side, cap), (side + inner[0], side + inner[1], cap + inner[2])),
    )
    blank = None
    if isinstance(design.container, CorrugatedBox):
        board = library()[design.container.board]
        blank = rsc_blank(inner, board.caliper_m)
        container = _solid("container", "container", board.id, shell, blank.area_m2 * board.grammage_kg_m2)
    else:
        container = _solid("container", "container", design.container.material, shell)

    lay = design.layout
    x0, y0, _ = lay.insert_origin_m
    ex, ey, ez = lay.envelope_m
    c = insert.clearance_m
    round_cells = cell.format == "cylindrical"
    offsets = np.column_stack([lay.cell_xy_m, np.zeros(len(lay.cell_xy_m))])

    def block(z0: float, z1: float) -> trimesh.Trimesh:
        return _box((x0, y0, z0), (x0 + ins[0], y0 + ins[1], z1))

    def slab(name: str, role: Role, material_id: str, z0: float, z1: float) -> Part:
        return _solid(name, role, material_id, block(z0, z1))

    # Grooves open on the insert's outside: reach past it so no face of the cut is coplanar.
    outside_lo = np.array(lay.insert_origin_m)
    outside_hi = outside_lo + ins
    grooves = [_box(np.where(np.isclose(lo, outside_lo), np.subtract(lo, _POKE_M), lo),
                    np.where(np.isclose(hi, outside_hi), np.add(hi, _POKE_M), hi))
               for lo, hi in lay.grooves_m]

    divider_parts = [slab(f"divider-{i + 1}", "divider", design.dividers.material, z0, z1)
                     for i, (z0, z1) in enumerate(lay.dividers_m)]
    insert_parts: list[Part] = []
    cell_parts: list[Part] = []
    for layer, tray in enumerate(lay.trays):
        pocket_bottom = tray.cell_bottom_m if tray.floor_m > 0 else tray.bottom_m - _POKE_M
        pocket = _prism(ex / 2 + c, ey / 2 + c, pocket_bottom, tray.top_m + _POKE_M, round_cells)
        insert_parts.append(_solid(f"insert-tray-{layer + 1}", "insert", insert.material,
                                   _difference(block(tray.bottom_m, tray.top_m),
                                               _tile(pocket, offsets), *grooves)))
        body = _prism(ex / 2, ey / 2, tray.cell_bottom_m, tray.cell_top_m, round_cells)
        for offset in offsets:
            n = len(cell_parts) + 1
            cell_parts.append(Part(f"cell-{n:03d}", "cell", cell.id, _moved(body, offset),
                                   cell.mass_kg, 0.0))
    insert_parts.append(_solid("insert-lid", "insert", insert.material,
                               _difference(block(*lay.lid_m), *grooves)))

    parts = (container, *insert_parts, *divider_parts, *cell_parts)
    return Assembly(design=design, parts=parts, blank=blank)
