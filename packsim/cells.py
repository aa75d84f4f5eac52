"""Cell catalogue: cylindrical, prismatic and pouch lithium-ion cells, each value with its source.

The data live in ``packsim/data/cells.toml``; see ``packsim/data/SCHEMA.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any, Literal

from ._cited import Cited, CitedRecord, DataError, load_cited_entries, load_packaged, lookup, split_cited
from .errors import Problem, did_you_mean

CellFormat = Literal["cylindrical", "prismatic", "pouch"]
Orientation = Literal["upright", "flat"]

_DIMENSIONS = {
    "cylindrical": ("diameter_m", "height_m"),
    "prismatic": ("length_m", "thickness_m", "height_m"),
    "pouch": ("length_m", "thickness_m", "height_m"),
}
_DESCRIPTIVE = ("name", "format", "chemistry")
_COMMON = ("mass_kg", "nominal_voltage_v", "capacity_ah", "energy_wh", "fragility_g")


@dataclass(frozen=True)
class Cell(CitedRecord):
    """A lithium-ion cell. Physical values in SI units.

    Attributes
    ----------
    id, name, format, chemistry : str
        Catalogue key, readable name, ``cylindrical`` | ``prismatic`` | ``pouch``, chemistry.
    diameter_m : float or None
        Cylindrical cells: maximum diameter, m.
    length_m, thickness_m : float or None
        Prismatic and pouch cells: long horizontal edge and thinnest dimension, m.
    height_m : float
        Dimension along the terminals (vertical when upright), m.
    mass_kg : float
        Cell mass, kg.
    nominal_voltage_v, capacity_ah, energy_wh : float
        Nominal voltage (V), rated capacity (Ah) and nominal energy (Wh).
    fragility_g : float
        Shock the cell design is proven to survive, in multiples of g (default basis: UN 38.3 T.4).
    provenance : tuple of (str, Cited)
        Source and confidence of every value above.
    """

    id: str
    name: str
    format: CellFormat
    chemistry: str
    height_m: float
    mass_kg: float
    nominal_voltage_v: float
    capacity_ah: float
    energy_wh: float
    fragility_g: float
    diameter_m: float | None = None
    length_m: float | None = None
    thickness_m: float | None = None
    provenance: tuple[tuple[str, Cited], ...] = field(default=(), repr=False, compare=False)

    def envelope_m(self, orientation: Orientation = "upright") -> tuple[float, float, float]:
        """Bounding box of the cell (x, y, z) in metres, z vertical.

        ``upright`` stands the cell on its base (terminals up); ``flat`` lays a prismatic or pouch
        cell on its largest face.
        """
        if self.format == "cylindrical":
            d = self.diameter_m
            if orientation != "upright":
                raise ValueError("cylindrical cells are packed upright")
            return (d, d, self.height_m)
        if orientation == "upright":
            return (self.length_m, self.thickness_m, self.height_m)
        return (self.length_m, self.height_m, self.thickness_m)



def _cell_from_entry(cell_id: str, entry: dict[str, Any], path: Path) -> Cell:
    problems = []
    fmt = entry.get("format")
    if fmt not in _DIMENSIONS:
        problems.append(Problem(f"cell.{cell_id}.format", fmt,
                                f"expected one of {tuple(_DIMENSIONS)}", str(path)))
    else:
        for name in (*_DIMENSIONS[fmt], *_COMMON):
            if not isinstance(entry.get(name), Cited):
                problems.append(Problem(f"cell.{cell_id}.{name}", entry.get(name),
                                        f"required (cited) for a {fmt} cell", str(path)))
    known = {f.name for f in fields(Cell)} - {"id", "provenance"}
    for name, item in entry.items():
        where = f"cell.{cell_id}.{name}"
        if name not in known:
            problems.append(Problem(where, item, f"unknown cell property{did_you_mean(name, known)}",
                                    str(path)))
        elif name not in _DESCRIPTIVE and not isinstance(item, Cited):
            problems.append(Problem(where, item, "expected a {value, source, confidence} table",
                                    str(path)))
    if problems:
        raise DataError(problems)
    values, provenance = split_cited(entry)
    return Cell(id=cell_id, name=entry.get("name", cell_id), format=fmt,
                chemistry=entry.get("chemistry", ""), provenance=provenance, **values)


def load_cells(path: str | Path) -> dict[str, Cell]:
    """Load a cell catalogue file (same schema as the built-in catalogue)."""
    path = Path(path)
    entries = load_cited_entries(path, "cell")
    return {cid: _cell_from_entry(cid, entry, path) for cid, entry in entries.items()}


@cache
def catalogue() -> dict[str, Cell]:
    """The built-in cell catalogue, keyed by cell id."""
    return load_packaged("cells.toml", load_cells)


def get_cell(cell_id: str) -> Cell:
    """Look up a catalogue cell by id; unknown ids raise ``KeyError`` with the closest matches."""
    return lookup(catalogue(), cell_id, "cell")
