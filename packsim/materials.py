"""Material library: foams, corrugated boards and solid plastics, each value with its source.

The data live in ``packsim/data/materials.toml``; see ``packsim/data/SCHEMA.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal

from ._cited import Cited, CitedRecord, DataError, load_cited_entries, load_packaged, lookup, split_cited
from .errors import Problem, did_you_mean

MaterialKind = Literal["foam", "board", "solid"]

_REQUIRED = {
    "foam": ("density_kg_m3", "youngs_modulus_pa", "poisson_ratio", "plateau_stress_pa",
             "densification_strain", "lockup_strain", "resilient", "co2e_kg_per_kg",
             "recyclability"),
    "board": ("density_kg_m3", "wall", "flute", "ect_n_per_m", "caliper_m", "grammage_kg_m2",
              "youngs_modulus_pa", "poisson_ratio", "co2e_kg_per_kg", "recyclability"),
    "solid": ("density_kg_m3", "youngs_modulus_pa", "poisson_ratio", "yield_stress_pa",
              "co2e_kg_per_kg", "recyclability"),
}


@dataclass(frozen=True)
class Material(CitedRecord):
    """A packaging material. Physical values in SI units; absent values are ``None``.

    Attributes
    ----------
    id, name, kind, family : str
        Library key, readable name, ``foam`` | ``board`` | ``solid``, and family (EPS, PP, ...).
    density_kg_m3 : float
        Bulk density, kg/m^3 (for boards: grammage / caliper).
    youngs_modulus_pa, poisson_ratio : float
        Small-strain elastic constants (Pa, -); for boards, effective in-plane values.
    plateau_stress_pa, densification_strain : float or None
        Foams: compressive plateau stress (Pa) and densification onset (nominal strain, -).
    lockup_strain : float or None
        Foams: nominal strain at which the stress tends to that of the solid (-).
    resilient : bool or None
        Foams: recovers after an impact, so usable for repeated impacts.
    gas_pressure_pa, solid_density_kg_m3 : float or None
        Closed-cell foams whose plateau rises with strain: initial pressure of the gas in the
        cells (Pa) and density of the cell-wall solid (kg/m^3), for the gas term of
        :class:`packsim.FoamLaw`; absent, the plateau is flat.
    ect_n_per_m, caliper_m, grammage_kg_m2 : float or None
        Boards: edge crush test (N/m), combined caliper (m), combined grammage (kg/m^2).
    wall, flute : str or None
        Boards: ``single`` | ``double`` wall, flute profile (``B``, ``C``, ``BC``).
    yield_stress_pa : float or None
        Solids: tensile yield stress, Pa.
    co2e_kg_per_kg : float
        Cradle-to-gate carbon footprint, kg CO2e per kg of material.
    recyclability : str
        End-of-life route in words.
    provenance : tuple of (str, Cited)
        Source and confidence of every value above.
    """

    id: str
    name: str
    kind: MaterialKind
    family: str
    density_kg_m3: float
    co2e_kg_per_kg: float
    recyclability: str
    youngs_modulus_pa: float | None = None
    poisson_ratio: float | None = None
    plateau_stress_pa: float | None = None
    densification_strain: float | None = None
    lockup_strain: float | None = None
    resilient: bool | None = None
    gas_pressure_pa: float | None = None
    solid_density_kg_m3: float | None = None
    ect_n_per_m: float | None = None
    caliper_m: float | None = None
    grammage_kg_m2: float | None = None
    wall: str | None = None
    flute: str | None = None
    yield_stress_pa: float | None = None
    provenance: tuple[tuple[str, Cited], ...] = field(default=(), repr=False)

    def revised(self, values: dict[str, float], why: str, material_id: str | None = None) -> Material:
        """This material with some values replaced (a state of it: cold, worn), each value's
        provenance noting ``why``; ``material_id`` names the state (default: the same id)."""
        provenance = dict(self.provenance)
        for name, value in values.items():
            if name in provenance:
                provenance[name] = replace(provenance[name], value=value,
                                           note=f"{why}; " + provenance[name].note)
        return replace(self, **values, id=material_id or self.id,
                       provenance=tuple(provenance.items()))


#: The value that measures a material's strength, by kind.
STRENGTH_FIELD = {"foam": "plateau_stress_pa", "solid": "yield_stress_pa", "board": "ect_n_per_m"}


def strength_fields(material: Material) -> tuple[str, ...]:
    """The values a measured strength factor (cold, wear) scales: a solid's yield stress, a
    board's ECT, a foam's whole curve past yield (its plateau and, if it has one, its cell gas:
    the factors are measured on the stress the foam gives, not on one of its terms)."""
    names = (STRENGTH_FIELD[material.kind],)
    if material.kind == "foam" and material.gas_pressure_pa:
        names += ("gas_pressure_pa",)
    return names


# Words that classify a material rather than measure it; every other field is a cited value.
_DESCRIPTIVE = ("name", "kind", "family", "wall", "flute")
_VALUE_FIELDS = {f.name for f in fields(Material)} - {"id", "provenance", *_DESCRIPTIVE}


def _material_from_entry(material_id: str, entry: dict[str, Any], path: Path) -> Material:
    problems = []
    kind = entry.get("kind")
    if kind not in _REQUIRED:
        problems.append(Problem(f"material.{material_id}.kind", kind,
                                f"expected one of {tuple(_REQUIRED)}", str(path)))
    else:
        for name in _REQUIRED[kind]:
            if name not in entry:
                problems.append(Problem(f"material.{material_id}.{name}", None,
                                        f"required for a {kind} material", str(path)))
    for name, item in entry.items():
        where = f"material.{material_id}.{name}"
        if name in _DESCRIPTIVE:
            if not isinstance(item, str):
                problems.append(Problem(where, item, "expected a string", str(path)))
        elif name not in _VALUE_FIELDS:
            problems.append(Problem(where, item, "unknown material property"
                                    f"{did_you_mean(name, _VALUE_FIELDS)}", str(path)))
        elif not isinstance(item, Cited):
            problems.append(Problem(where, item, "expected a {value, source, confidence} table",
                                    str(path)))
    if "gas_pressure_pa" in entry and "solid_density_kg_m3" not in entry:
        problems.append(Problem(f"material.{material_id}.solid_density_kg_m3", None,
                                "required with gas_pressure_pa (the gas term needs the foam's "
                                "relative density)", str(path)))
    if problems:
        raise DataError(problems)
    values, provenance = split_cited(entry)
    solid, lockup = values.get("solid_density_kg_m3"), values.get("lockup_strain")
    if solid is not None and lockup is not None and not values["density_kg_m3"] < (1 - lockup) * solid:
        raise DataError([Problem(f"material.{material_id}.solid_density_kg_m3", solid,
                                 f"expected above density / (1 - lockup_strain) = "
                                 f"{values['density_kg_m3'] / (1 - lockup):.4g} kg/m^3 (the cells "
                                 "must lock up before the gas is squeezed out)", str(path))])
    words = {name: entry[name] for name in _DESCRIPTIVE if name in entry}
    words.setdefault("name", material_id)
    words.setdefault("family", "")
    return Material(id=material_id, provenance=provenance, **words, **values)


def load_materials(path: str | Path) -> dict[str, Material]:
    """Load a materials file (same schema as the built-in library).

    Parameters
    ----------
    path : str or Path
        A TOML file with ``[references]`` and ``[material.<id>]`` tables.

    Returns
    -------
    dict of str to Material
    """
    path = Path(path)
    entries = load_cited_entries(path, "material")
    return {mid: _material_from_entry(mid, entry, path) for mid, entry in entries.items()}


@cache
def _built_in() -> dict[str, Material]:
    return load_packaged("materials.toml", load_materials)


# States of library materials made in this process (worn by reuse, see packsim.reuse), by id,
# and the library with them (rebuilt when a state is added: a long study adds thousands).
_STATES: dict[str, Material] = {}
_WITH_STATES: list[dict[str, Material]] = []


def library() -> dict[str, Material]:
    """The material library, keyed by material id: the built-in materials and the states of them
    added with :func:`add_material_state`."""
    if not _STATES:
        return _built_in()
    if not _WITH_STATES:
        _WITH_STATES.append({**_built_in(), **_STATES})
    return _WITH_STATES[0]


def add_material_state(material: Material) -> None:
    """Make a state of a library material (e.g. worn after some trips) known under its own id,
    so that designs may use it like any library material, in this process and in the worker
    processes it forks. Adding the same state again is a no-op.

    Raises
    ------
    ValueError
        If the id is a built-in material's or names a different state.
    """
    known = _built_in().get(material.id) or _STATES.get(material.id)
    if known is not None and known != material:
        raise ValueError(f"material id {material.id!r} is taken by another material")
    if known is None:
        _STATES[material.id] = material
        _WITH_STATES.clear()


def get_material(material_id: str) -> Material:
    """Look up a material of the built-in library by id.

    Raises
    ------
    KeyError
        With the closest matches and the known ids, for an unknown id.
    """
    return lookup(library(), material_id, "material")
