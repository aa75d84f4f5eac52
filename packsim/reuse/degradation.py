"""Wear of a returnable package's materials: trips, drops, humid air and repairs.

Each part (container, insert, dividers) carries a state: the fraction of its strength and of its
modulus that remains, and, for foams, the permanent crush (compression set) as a fraction of the
thickness. A trip multiplies the two fractions by its family's per-trip retentions
(``data/degradation.toml``); every drop wears the foam: a resilient foam by its per-impact
retentions and set, a foam that keeps its crush (EPS, moulded pulp) by the residual strain the
drop leaves in the bottom pad (the cushion model's foam law, fresh pad; repeated drops add up,
which is conservative); corrugated board keeps a share of the strength it loses in humid air. A
repair renews a part.

The worn design is the same design with each worn part made of a state of its material (an id
such as ``pe-33~worn-1a2b3c4d``, known to the material library in this process), so every
compliance check, cushion model or FE simulation applies to it unchanged. A crushed foam keeps its
thickness in the geometry and loses the crushed strain from its stroke: its densification and
lock-up strains fall by the set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from .. import cushion
from .._cited import Cited, DataError, load_cited_entries, load_packaged
from ..errors import Problem
from ..foam import FoamLaw
from ..materials import STRENGTH_FIELD, Material, add_material_state, library, strength_fields
from ..stacking import StackingConditions, derating

if TYPE_CHECKING:
    from ..design import Design

Part = Literal["container", "insert", "dividers"]
PARTS: tuple[Part, ...] = ("container", "insert", "dividers")
_RETENTIONS = ("strength_per_trip", "modulus_per_trip", "strength_per_impact",
               "modulus_per_impact", "humidity_share")
_FIELDS = (*_RETENTIONS, "set_per_impact")


@dataclass(frozen=True)
class Trip:
    """One trip of a returnable package.

    Attributes
    ----------
    drops_m : tuple of float
        Heights of the drops it took (recorded, or expected in a forecast), m.
    max_rh_pct : float
        Highest relative humidity it stood in, % (50: conditioned air, no loss).
    """

    drops_m: tuple[float, ...] = ()
    max_rh_pct: float = 50.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "drops_m", tuple(float(h) for h in self.drops_m))
        if any(not h >= 0 for h in self.drops_m):
            raise ValueError(f"drop heights must be >= 0 m, got {self.drops_m}")
        if not 0 <= self.max_rh_pct <= 100:
            raise ValueError(f"max_rh_pct must be in [0, 100] %, got {self.max_rh_pct}")


@dataclass(frozen=True)
class Repair:
    """A part replaced by a new one (its wear is reset)."""

    part: Part

    def __post_init__(self) -> None:
        if self.part not in PARTS:
            raise ValueError(f"part must be one of {PARTS}, got {self.part!r}")


@dataclass(frozen=True)
class FamilyWear:
    """Wear data of one material family (see ``data/degradation.toml``); retentions in (0, 1]."""

    family: str
    strength_per_trip: float = 1.0
    modulus_per_trip: float = 1.0
    strength_per_impact: float = 1.0
    modulus_per_impact: float = 1.0
    set_per_impact: float = 0.0
    humidity_share: float = 0.0
    provenance: tuple[tuple[str, Cited], ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class PartState:
    """The wear of one part.

    Attributes
    ----------
    part : str
        ``container``, ``insert`` or ``dividers``.
    material_id : str
        The library material the part was made of.
    strength_factor, modulus_factor : float
        Fractions of the new part's strength and Young's modulus that remain, -.
    set_strain : float
        Foams: permanent crush, fraction of the thickness, -.
    trips, impacts : int
        Trips and drops since the part was new.
    """

    part: Part
    material_id: str
    strength_factor: float = 1.0
    modulus_factor: float = 1.0
    set_strain: float = 0.0
    trips: int = 0
    impacts: int = 0

    @property
    def is_new(self) -> bool:
        return self.strength_factor == 1.0 and self.modulus_factor == 1.0 and self.set_strain == 0.0

    def material(self) -> Material:
        """The part's material in this state (the library material itself when new)."""
        base = library()[self.material_id]
        if self.is_new:
            return base
        values = {"youngs_modulus_pa": base.youngs_modulus_pa * self.modulus_factor}
        strength = STRENGTH_FIELD[base.kind]
        for name in strength_fields(base):
            values[name] = getattr(base, name) * self.strength_factor
        if base.kind == "foam":
            # The crushed strain is gone from the stroke; keep the law's order of strains.
            yield_strain = values[strength] / values["youngs_modulus_pa"]
            onset = max(base.densification_strain - self.set_strain, 1.05 * yield_strain)
            values["densification_strain"] = onset
            values["lockup_strain"] = max(base.lockup_strain - self.set_strain, onset + 0.01)
        digest = hashlib.sha1(repr(self.to_dict()).encode()).hexdigest()[:8]
        why = (f"worn: strength x{self.strength_factor:.3g}, modulus x{self.modulus_factor:.3g}"
               + (f", crush {self.set_strain:.3g}" if base.kind == "foam" else "")
               + f" after {self.trips} trips and {self.impacts} drops (data/degradation.toml)")
        return base.revised(values, why, material_id=f"{base.id}~worn-{digest}")

    def to_dict(self) -> dict[str, Any]:
        return {"part": self.part, "material": self.material_id,
                "strength_factor": self.strength_factor, "modulus_factor": self.modulus_factor,
                "set_strain": self.set_strain, "trips": self.trips, "impacts": self.impacts}


@dataclass(frozen=True, eq=False)
class WornDesign:
    """A design after a history of trips: ``design`` uses the worn materials."""

    design: Design
    original: Design
    parts: tuple[PartState, ...]
    trips: int

    def part(self, name: Part) -> PartState:
        return next(p for p in self.parts if p.part == name)

    def to_dict(self) -> dict[str, Any]:
        return {"design": self.original.name, "trips": self.trips,
                "parts": [p.to_dict() for p in self.parts]}


def _load(path) -> dict[str, FamilyWear]:
    entries = load_cited_entries(path, "degradation")
    problems: list[Problem] = []
    wear: dict[str, FamilyWear] = {}
    for key, entry in entries.items():
        family = entry.get("family")
        values: dict[str, float] = {}
        for name, item in entry.items():
            where = f"degradation.{key}.{name}"
            if name == "family":
                continue
            if name not in _FIELDS:
                problems.append(Problem(where, name, f"unknown field; expected one of {_FIELDS}",
                                        str(path)))
            elif not isinstance(item, Cited) or isinstance(item.value, bool) \
                    or not isinstance(item.value, int | float):
                problems.append(Problem(where, item, "expected a {value, source, confidence} "
                                        "table with a number", str(path)))
            elif name in _RETENTIONS and not 0 < item.value <= 1 or \
                    name == "set_per_impact" and not 0 <= item.value < 1:
                bounds = "[0, 1)" if name == "set_per_impact" else "(0, 1]"
                problems.append(Problem(where, item.value, f"expected a fraction in {bounds}",
                                        str(path)))
            else:
                values[name] = float(item.value)
        if not isinstance(family, str):
            problems.append(Problem(f"degradation.{key}.family", family,
                                    "expected a material family name", str(path)))
            continue
        provenance = tuple((k, v) for k, v in entry.items() if isinstance(v, Cited))
        wear[family] = FamilyWear(family, **values, provenance=provenance)
    if problems:
        raise DataError(problems)
    return wear


@cache
def wear_data() -> dict[str, FamilyWear]:
    """The built-in wear data, by material family."""
    return load_packaged("degradation.toml", _load)


def family_wear(material: Material) -> FamilyWear:
    """Wear data of ``material``'s family (no wear, with a note, for a family without data)."""
    return wear_data().get(material.family, FamilyWear(material.family))


def _part_materials(design: Design) -> dict[Part, str]:
    parts: dict[Part, str] = {"container": design.container.material,
                              "insert": design.insert.material}
    if design.dividers is not None:
        parts["dividers"] = design.dividers.material
    return parts


@cache
def _residual_crush(law: FoamLaw, static_pa: float, thickness_m: float, height_m: float) -> float:
    """Strain a drop leaves in a pad of a foam that keeps its crush, -."""
    response = cushion.drop(law, static_pa, thickness_m, height_m)
    peak = min(response.max_strain, law.lockup_strain - 1e-9)
    return max(0.0, float(peak - law.loading_stress(peak) / law.youngs_modulus_pa))


def _trip(state: PartState, material: Material, trip: Trip, bottom_pad: cushion.Pad) -> PartState:
    wear = family_wear(material)
    strength = state.strength_factor * wear.strength_per_trip
    modulus = state.modulus_factor * wear.modulus_per_trip
    crush = state.set_strain
    if material.kind == "board" and trip.max_rh_pct > 50:
        humid = derating(StackingConditions(relative_humidity_pct=trip.max_rh_pct))
        strength *= 1 - wear.humidity_share * (1 - humid.factors["humidity"])
    if material.kind == "foam" and state.part == "insert":
        for height in trip.drops_m:
            if material.resilient:
                strength *= wear.strength_per_impact
                modulus *= wear.modulus_per_impact
                crush += wear.set_per_impact
            elif height > 0:
                crush += _residual_crush(FoamLaw.of(material), bottom_pad.static_stress_pa,
                                         bottom_pad.thickness_m, height)
        crush = min(crush, 1.0)
    return replace(state, strength_factor=strength, modulus_factor=modulus, set_strain=crush,
                   trips=state.trips + 1, impacts=state.impacts + len(trip.drops_m))


def degrade(design: Design, history: Iterable[Trip | Repair]) -> WornDesign:
    """The state of ``design``'s packaging after ``history`` (trips and repairs, in order).

    More trips never make a part stronger, stiffer or less crushed: every retention is at most 1
    and crush only accumulates.

    Parameters
    ----------
    design : Design
        The package as new.
    history : iterable of Trip or Repair

    Returns
    -------
    WornDesign
        ``.design`` is ``design`` made of the worn materials (ready for :func:`packsim.check`).
    """
    materials = _part_materials(design)
    lib = library()
    states = {part: PartState(part, mid) for part, mid in materials.items()}
    bottom_pad = cushion.design_pads(design)[3]
    trips = 0
    for event in history:
        if isinstance(event, Repair):
            if event.part in states:
                states[event.part] = PartState(event.part, materials[event.part])
            continue
        if not isinstance(event, Trip):
            raise TypeError(f"history holds Trip and Repair events, got {event!r}")
        trips += 1
        for part, state in states.items():
            states[part] = _trip(state, lib[materials[part]], event, bottom_pad)
    changes = {}
    for part, state in states.items():
        if state.is_new:
            continue
        worn = state.material()
        add_material_state(worn)
        path = "container." + ("board" if lib[state.material_id].kind == "board" else "material") \
            if part == "container" else f"{part}.material"
        changes[path] = worn.id
    return WornDesign(design.replace(**changes) if changes else design, design,
                      tuple(states.values()), trips)
