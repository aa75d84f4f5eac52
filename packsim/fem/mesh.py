"""Hexahedral grid of a whole package: container walls, insert foam, dividers and cells, tagged.

Grid lines run through every part boundary; intervals are then split to the requested element
size. For the static model the pocket clearance is closed (cells bonded to their pockets) and
gaps thinner than the merge tolerance vanish; round cells are resolved as staircases, and the edges
of an insert's relief grooves snap to nearby grid lines (:data:`GROOVE_SNAP`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from .._cited import load_cited_entries, load_packaged
from ..errors import PacksimInputError, Problem
from ..layout import narrowest_rib_m
from ..temperature import library_at
from .grid import StructuredGrid
from .hex8 import isotropic_voigt

if TYPE_CHECKING:
    from ..design import Design

#: Largest model built. The static model holds about 4 kB per degree of freedom (0.77 GB at 183k
#: DOFs, benchmarks/compression.py), so this is about 8 GB; an explicit drop of it would take hours.
MAX_DOFS = 2_000_000


class MeshSizeError(PacksimInputError):
    """The requested element size would give a model too large to build."""

    what = "mesh size"


#: A relief groove's edge is moved onto a grid line closer than this fraction of the element size,
#: or of the narrowest rib or groove if that is smaller: so no rib or groove vanishes, and each
#: keeps at least a fifth of its width.
GROOVE_SNAP = 0.4

#: Part groups of a package model, in material-index order.
PARTS = ("container", "insert", "dividers", "cells")
CONTAINER, INSERT, DIVIDERS, CELLS = range(4)


@cache
def cell_body() -> tuple[float, float]:
    """Young's modulus (Pa) and Poisson ratio of the cell body in package models (data/fe.toml)."""
    entry = load_packaged("fe.toml", lambda p: load_cited_entries(p, "model"))["cell_body"]
    return float(entry["youngs_modulus_pa"].value), float(entry["poisson_ratio"].value)


@dataclass(frozen=True, eq=False)
class PackageMesh:
    """A package as a structured grid with part groups (see :data:`PARTS`).

    Attributes
    ----------
    grid : StructuredGrid
        Material index = part group index; -1 is void.
    materials : tuple of str
        Material id of each part group ("" for an absent group; the cell id for cells).
    cell_index : ndarray of int
        For every element, the number of the cell it belongs to (-1 outside cells), in the
        order of the geometry's parts ``cell-001``, ``cell-002``, ...: layer by layer, columns
        outer, rows inner.
    """

    grid: StructuredGrid
    materials: tuple[str, str, str, str]
    cell_index: np.ndarray

    @property
    def dofs(self) -> int:
        return self.grid.ndof


def _breakpoints(values: list[float], protected: list[float], merge_m: float) -> np.ndarray:
    """Sorted unique coordinates; unprotected ones within ``merge_m`` of a kept one are dropped."""
    keep: list[tuple[float, bool]] = []
    tagged = sorted([(v, True) for v in protected] + [(v, False) for v in values])
    for v, is_protected in tagged:
        if keep and v - keep[-1][0] < merge_m:
            if is_protected and not keep[-1][1]:
                keep[-1] = (v, True)
            continue
        keep.append((v, is_protected))
    return np.array([v for v, _ in keep])


def _snapped(points: np.ndarray, loose: list[float], merge_m: float) -> np.ndarray:
    """``points`` plus each of ``loose`` that lies more than ``merge_m`` from every line kept.

    A loose line closer than that is snapped to its neighbour: a sliver element would cut the
    explicit drop's stable time step far more than the shifted line changes the model.
    """
    kept = list(points)
    for v in sorted(loose):
        if min(abs(v - k) for k in kept) > merge_m:
            kept.append(v)
    return np.array(sorted(kept))


def _pieces(points: np.ndarray, size: float) -> np.ndarray:
    """Elements in each interval between ``points`` for the largest edge ``size``."""
    return np.maximum(1, np.ceil(np.diff(points) / size - 1e-9)).astype(int)


def _dofs(lines: list[np.ndarray], size: float) -> int:
    """Degrees of freedom of the grid through ``lines`` (per axis) at element size ``size``."""
    return 3 * math.prod(int(_pieces(c, size).sum()) + 1 for c in lines)


def _subdivide(points: np.ndarray, size: float) -> np.ndarray:
    out = [points[:1]]
    for a, b, n in zip(points[:-1], points[1:], _pieces(points, size)):
        out.append(np.linspace(a, b, n + 1)[1:])
    return np.concatenate(out)


def package_mesh(design: Design, mesh_size_m: float | None = None,
                 temperature_c: float | None = None) -> PackageMesh:
    """Build the grid model of ``design``.

    Parameters
    ----------
    design : Design
    mesh_size_m : float, optional
        Largest element edge, m. Default: 1/12 of the smallest outer dimension, but no larger
        than 15 mm (about 15-60k DOFs for the reference designs).
    temperature_c : float, optional
        Temperature of the materials, C (default: the library's 23 C values; see
        :mod:`packsim.temperature`).

    Returns
    -------
    PackageMesh
    """
    outer = np.array(design.outer_dims_m)
    if mesh_size_m is None:
        mesh_size_m = min(outer.min() / 12, 0.015)
    if not mesh_size_m > 0:
        raise ValueError(f"mesh_size_m must be > 0, got {mesh_size_m}")
    side, cap = design.wall_thicknesses_m
    inner = np.array(design.inner_dims_m)
    lay = design.layout
    ins = np.array(lay.insert_dims_m)
    lo = np.array(lay.insert_origin_m)
    product, insert = design.product, design.insert
    ex, ey, _ = lay.envelope_m
    xc, yc = lay.cell_x_m, lay.cell_y_m
    layers = [(tray.cell_bottom_m, tray.cell_top_m) for tray in lay.trays]
    dividers = list(lay.dividers_m)

    merge = min(1.5e-3, 0.3 * side)
    walls = [[0.0, side, side + inner[i], outer[i]] for i in range(2)]
    walls.append([0.0, cap, cap + inner[2], outer[2]])
    lines = []
    for axis, centres, half in ((0, xc, ex / 2), (1, yc, ey / 2)):
        inner_lines = [lo[axis], lo[axis] + ins[axis], *(centres - half), *(centres + half)]
        lines.append(_breakpoints(inner_lines, walls[axis], merge))
    z_lines = [lo[2] + ins[2], *[v for pair in layers for v in pair], *[v for pair in dividers for v in pair]]
    lines.append(_breakpoints(z_lines, walls[2], merge))
    grooves = np.array(lay.grooves_m).reshape(-1, 2, 3)
    snap = GROOVE_SNAP * min(mesh_size_m, narrowest_rib_m(design))
    lines = [_snapped(c, grooves[:, :, axis].ravel().tolist(), snap) for axis, c in enumerate(lines)]
    # Count before building: a size typed in the wrong unit would otherwise fill the memory.
    dofs = _dofs(lines, mesh_size_m)
    if dofs > MAX_DOFS:
        smallest = mesh_size_m * (dofs / MAX_DOFS) ** (1 / 3)
        while _dofs(lines, math.ceil(smallest * 1e4) / 1e4) > MAX_DOFS:
            smallest *= 1.02
        raise MeshSizeError([Problem("mesh_size_m", mesh_size_m,
                                     f"an element size that gives at most {MAX_DOFS:,} degrees of "
                                     f"freedom; this one gives about {dofs:,} (try "
                                     f"{math.ceil(smallest * 1e4) / 10:.1f} mm or more)")])
    xs, ys, zs = (_subdivide(c, mesh_size_m) for c in lines)

    grid_shape = (len(xs) - 1, len(ys) - 1, len(zs) - 1)
    cx, cy, cz = [(c[1:] + c[:-1]) / 2 for c in (xs, ys, zs)]
    X, Y, Z = np.meshgrid(cx, cy, cz, indexing="ij")
    in_inner = ((X > side) & (X < side + inner[0]) & (Y > side) & (Y < side + inner[1])
                & (Z > cap) & (Z < cap + inner[2]))
    in_insert = np.all([(c > lo[i]) & (c < lo[i] + ins[i]) for i, c in enumerate((X, Y, Z))], axis=0)
    material = np.full(grid_shape, -1, dtype=int)
    material[~in_inner] = CONTAINER
    material[in_insert] = INSERT
    for g_lo, g_hi in grooves:
        in_groove = np.all([(c > g_lo[i]) & (c < g_hi[i]) for i, c in enumerate((X, Y, Z))], axis=0)
        material[in_groove & in_insert] = -1
    for bottom, top in dividers:
        material[in_insert & (Z > bottom) & (Z < top)] = DIVIDERS
    # Nearest cell column and row of each element centre, then an inside test.
    col = np.clip(np.rint((X - xc[0]) / (ex + product.spacing_m)), 0, product.columns - 1).astype(int)
    row = np.clip(np.rint((Y - yc[0]) / (ey + product.spacing_m)), 0, product.rows - 1).astype(int)
    dx, dy = X - xc[col], Y - yc[row]
    if design.cell.format == "cylindrical":
        inside = dx**2 + dy**2 <= (ex / 2) ** 2
    else:
        inside = (np.abs(dx) <= ex / 2) & (np.abs(dy) <= ey / 2)
    layer = np.full(grid_shape, -1)
    for n, (b, t) in enumerate(layers):
        layer[(Z > b) & (Z < t)] = n
    is_cell = in_insert & inside & (layer >= 0)
    material[is_cell] = CELLS
    per_layer = product.columns * product.rows
    cell_index = np.where(is_cell, layer * per_layer + col * product.rows + row, -1)

    lib = library_at(temperature_c)
    container_id = design.container.material
    divider_id = design.dividers.material if design.dividers else ""
    voigt = []
    for mid in (container_id, insert.material, divider_id or insert.material):
        m = lib[mid]
        voigt.append(isotropic_voigt(m.youngs_modulus_pa, m.poisson_ratio))
    voigt.append(isotropic_voigt(*cell_body()))
    grid = StructuredGrid(xs, ys, zs, material, tuple(voigt))
    return PackageMesh(grid=grid, materials=(container_id, insert.material, divider_id, design.cell.id),
                       cell_index=cell_index)
