"""Where every part of a design sits: the insert, its trays and pockets, the cells, dividers, lid.

One place for the arithmetic that the solids (:mod:`packsim.geometry`) and the finite-element grids
(:mod:`packsim.fem.mesh`) both need. Assembly frame: metres, origin at a bottom corner of the closed
container, x along cell columns, y along cell rows, z up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .design import Design


@dataclass(frozen=True)
class Tray:
    """One foam tray holding a layer of cells (z coordinates, m)."""

    bottom_m: float
    cell_bottom_m: float  # top of the tray's foam floor
    cell_top_m: float
    top_m: float  # cell top plus the pocket clearance

    @property
    def floor_m(self) -> float:
        return self.cell_bottom_m - self.bottom_m


@dataclass(frozen=True, eq=False)
class Layout:
    """Positions of the insert's parts and the cells in the assembly frame, m.

    Attributes
    ----------
    insert_origin_m, insert_dims_m : tuple of float
        Lower corner and size of the insert (trays, dividers and lid together).
    envelope_m : tuple of float
        Bounding box of one cell as packed.
    cell_x_m, cell_y_m : ndarray
        Cell centre coordinates of the columns and of the rows.
    trays : tuple of Tray
        One per layer, bottom up.
    dividers_m : tuple of (float, float)
        z ranges of the divider sheets (between trays).
    lid_m : (float, float)
        z range of the insert's lid.
    grooves_m : tuple of ((float, float, float), (float, float, float))
        Lower and upper corners of the relief grooves cut into the insert's faces (empty unless
        ``insert.bearing_fraction`` < 1). Grooves of adjacent faces overlap at the edges.
    """

    insert_origin_m: tuple[float, float, float]
    insert_dims_m: tuple[float, float, float]
    envelope_m: tuple[float, float, float]
    cell_x_m: np.ndarray
    cell_y_m: np.ndarray
    trays: tuple[Tray, ...]
    dividers_m: tuple[tuple[float, float], ...]
    lid_m: tuple[float, float]
    grooves_m: tuple[tuple[tuple[float, float, float], tuple[float, float, float]], ...] = ()

    @property
    def cell_xy_m(self) -> np.ndarray:
        """Centres (x, y) of the cells of one layer, columns outer, rows inner: (n, 2)."""
        return np.array([(x, y) for x in self.cell_x_m for y in self.cell_y_m])


def layout(design: Design) -> Layout:
    """Compute the :class:`Layout` of ``design``."""
    product, insert = design.product, design.insert
    side, cap = design.wall_thicknesses_m
    inner = design.inner_dims_m
    ins = design.insert_dims_m
    x0 = side + (inner[0] - ins[0]) / 2
    y0 = side + (inner[1] - ins[1]) / 2
    ex, ey, ez = product.envelope_m
    c = insert.clearance_m
    first = insert.side_thickness_m + c
    divider_t = design.dividers.thickness_m if design.dividers else 0.0
    trays, dividers = [], []
    z = cap
    for layer in range(product.layers):
        if layer > 0 and design.dividers is not None:
            dividers.append((z, z + divider_t))
            z += divider_t
        floor = insert.bottom_thickness_m if layer == 0 else product.layer_gap_m - divider_t
        trays.append(Tray(z, z + floor, z + floor + ez, z + floor + ez + c))
        z = trays[-1].top_m
    return Layout(
        insert_origin_m=(x0, y0, cap),
        insert_dims_m=ins,
        envelope_m=(ex, ey, ez),
        cell_x_m=x0 + first + ex / 2 + np.arange(product.columns) * (ex + product.spacing_m),
        cell_y_m=y0 + first + ey / 2 + np.arange(product.rows) * (ey + product.spacing_m),
        trays=tuple(trays),
        dividers_m=tuple(dividers),
        lid_m=(z, z + insert.top_thickness_m),
        grooves_m=_grooves((x0, y0, cap), ins, design),
    )


def rib_widths(length_m: float, ribs: int, fraction: float) -> tuple[float, float]:
    """Width of each of ``ribs`` equal ribs covering ``fraction`` of a face ``length_m`` across,
    and of each groove between them, m."""
    return fraction * length_m / ribs, (1 - fraction) * length_m / (ribs - 1)


def narrowest_rib_m(design: Design) -> float:
    """The narrowest rib or groove of a relieved insert, m (inf for a plain one)."""
    insert = design.insert
    if not insert.relieved:
        return float("inf")
    length = min(design.insert_dims_m[:2])
    return min(rib_widths(length, insert.ribs, insert.bearing_fraction))


def _rib_spans(start_m: float, length_m: float, ribs: int, fraction: float) -> list[tuple[float, float]]:
    """The grooves between ``ribs`` equal ribs covering ``fraction`` of a face, the outer two flush
    with its edges: (start, end) of each, m."""
    rib, groove = rib_widths(length_m, ribs, fraction)
    return [(start_m + k * (rib + groove) + rib, start_m + (k + 1) * (rib + groove))
            for k in range(ribs - 1)]


def _grooves(origin: tuple[float, float, float], dims: tuple[float, float, float],
             design: Design) -> tuple:
    insert = design.insert
    if not insert.relieved:
        return ()
    lo = np.asarray(origin, float)
    hi = lo + dims
    r = insert.groove_depth_ratio
    across_x = _rib_spans(lo[0], dims[0], insert.ribs, insert.bearing_fraction)
    across_y = _rib_spans(lo[1], dims[1], insert.ribs, insert.bearing_fraction)
    bottom, top, side = (r * insert.bottom_thickness_m, r * insert.top_thickness_m,
                         r * insert.side_thickness_m)
    boxes = []
    for z0, z1 in ((lo[2], lo[2] + bottom), (hi[2] - top, hi[2])):
        boxes += [((a, lo[1], z0), (b, hi[1], z1)) for a, b in across_x]
    for x0, x1 in ((lo[0], lo[0] + side), (hi[0] - side, hi[0])):
        boxes += [((x0, a, lo[2]), (x1, b, hi[2])) for a, b in across_y]
    for y0, y1 in ((lo[1], lo[1] + side), (hi[1] - side, hi[1])):
        boxes += [((a, y0, lo[2]), (b, y1, hi[2])) for a, b in across_x]
    return tuple((tuple(map(float, a)), tuple(map(float, b))) for a, b in boxes)
