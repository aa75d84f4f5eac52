"""Material properties at a test temperature: cited factors on the library's room-temperature values.

Plastics packagings are drop-tested cold under the UN Model Regulations (sample and contents at or
below -18 C), where polymers and their foams are stiffer and stronger than at 23 C. The library
holds 23 C values; ``packsim/data/temperature.toml`` holds, per material family, measured ratios
of the modulus and of the strength (foam plateau stress, solid yield stress, board ECT) at other
temperatures to their 23 C values, each with its source. Between data points the factors are
interpolated linearly in temperature; beyond the coldest or warmest point they are held (and the
result says so); a family without data keeps its 23 C values (and the result says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from ._cited import Cited, DataError, load_cited_entries, load_packaged
from .errors import Problem
from .materials import Material, library, strength_fields

if TYPE_CHECKING:
    from .design import Design

#: Temperature of the library's values, C (the fibreboard conditioning of ISO 187 / UN 6.1.5.2.3).
REFERENCE_C = 23.0

#: Temperatures a package can be given, C (open interval): above absolute zero, below where
#: every packaging polymer here has melted.
TEMPERATURE_RANGE_C = (-273.15, 200.0)

@dataclass(frozen=True)
class TemperaturePoint:
    """Ratios of a family's properties at ``temperature_c`` to their 23 C values."""

    family: str
    temperature_c: float
    modulus_factor: Cited
    strength_factor: Cited


@dataclass(frozen=True)
class Conditioning:
    """How a material's values were brought to a temperature.

    Attributes
    ----------
    material_id : str
    temperature_c : float
    modulus_factor, strength_factor : float
        Ratios applied to the 23 C modulus and strength (1.0 without data).
    basis : str
        Where the factors come from, in words, for reports.
    provisional : bool
        No data, data held beyond their range, or a factor of LOW / UNCONFIRMED confidence.
    """

    material_id: str
    temperature_c: float
    modulus_factor: float
    strength_factor: float
    basis: str
    provisional: bool


def _load(path) -> dict[str, tuple[TemperaturePoint, ...]]:
    entries = load_cited_entries(path, "temperature")
    problems, points = [], []
    for entry_id, entry in entries.items():
        where = f"temperature.{entry_id}"
        missing = [k for k in ("family", "temperature_c", "modulus_factor", "strength_factor")
                   if k not in entry]
        if missing:
            problems.append(Problem(where, None, f"missing {', '.join(missing)}", str(path)))
            continue
        families = {m.family for m in library().values()}
        if entry["family"] not in families:
            problems.append(Problem(f"{where}.family", entry["family"],
                                    f"expected a material family of the library: {sorted(families)}",
                                    str(path)))
        t = entry["temperature_c"]
        if not isinstance(t, int | float) or isinstance(t, bool):
            problems.append(Problem(f"{where}.temperature_c", t, "expected a number, C", str(path)))
            continue
        for name in ("modulus_factor", "strength_factor"):
            item = entry[name]
            if not isinstance(item, Cited) or not isinstance(item.value, int | float) or not item.value > 0:
                problems.append(Problem(f"{where}.{name}", getattr(item, "value", item),
                                        "expected a cited ratio > 0", str(path)))
        points.append(TemperaturePoint(entry["family"], float(t), entry["modulus_factor"],
                                       entry["strength_factor"]))
    if problems:
        raise DataError(problems)
    families: dict[str, list[TemperaturePoint]] = {}
    for p in points:
        families.setdefault(p.family, []).append(p)
    return {f: tuple(sorted(ps, key=lambda p: p.temperature_c)) for f, ps in families.items()}


@cache
def temperature_data() -> dict[str, tuple[TemperaturePoint, ...]]:
    """The built-in temperature factors, per material family, coldest first."""
    return load_packaged("temperature.toml", _load)


def conditioning(material: Material, temperature_c: float) -> Conditioning:
    """The factors that bring ``material``'s 23 C values to ``temperature_c``, and their basis."""
    points = temperature_data().get(material.family, ())
    if temperature_c == REFERENCE_C:
        return Conditioning(material.id, temperature_c, 1.0, 1.0, "library values (23 C)", False)
    if not points:
        return Conditioning(material.id, temperature_c, 1.0, 1.0,
                            f"{material.id}: no data at {temperature_c:g} C, 23 C values", True)
    # The library's 23 C value is the factor 1 point; the data points are the others.
    ts = np.array([REFERENCE_C] + [p.temperature_c for p in points])
    order = np.argsort(ts)
    modulus = np.array([1.0] + [float(p.modulus_factor.value) for p in points])[order]
    strength = np.array([1.0] + [float(p.strength_factor.value) for p in points])[order]
    ts = ts[order]
    held = not ts[0] <= temperature_c <= ts[-1]
    m = float(np.interp(temperature_c, ts, modulus))
    s = float(np.interp(temperature_c, ts, strength))
    nearest = min(points, key=lambda p: abs(p.temperature_c - temperature_c))
    weak = any(c.confidence in ("LOW", "UNCONFIRMED")
               for p in points for c in (p.modulus_factor, p.strength_factor))
    basis = (f"{material.id}: modulus x{m:.2f}, strength x{s:.2f} at {temperature_c:g} C "
             f"({nearest.modulus_factor.source}"
             + (f"; held at the data's {'coldest' if temperature_c < ts[0] else 'warmest'} point"
                if held else "") + ")")
    return Conditioning(material.id, temperature_c, m, s, basis, held or weak)


def material_at(material: Material, temperature_c: float | None) -> Material:
    """``material`` with its modulus and strength at ``temperature_c`` (None: as in the library).

    The provenance of the scaled values names the factor and its source.
    """
    if temperature_c is None or temperature_c == REFERENCE_C:
        return material
    c = conditioning(material, temperature_c)
    if c.modulus_factor == 1.0 and c.strength_factor == 1.0:
        return material
    changes = {"youngs_modulus_pa": c.modulus_factor,
               **dict.fromkeys(strength_fields(material), c.strength_factor)}
    values = {name: getattr(material, name) * factor for name, factor in changes.items()
              if getattr(material, name) is not None}
    return material.revised(values, f"at {temperature_c:g} C: {c.basis}")


def library_at(temperature_c: float | None) -> dict[str, Material]:
    """The material library at ``temperature_c`` (None or 23 C: the library itself)."""
    return {k: material_at(m, temperature_c) for k, m in library().items()}


def design_conditioning(design: Design, temperature_c: float | None) -> tuple[Conditioning, ...]:
    """How each packaging material of ``design`` (container, insert, dividers) is brought to
    ``temperature_c``; empty for None (the library's 23 C values)."""
    if temperature_c is None:
        return ()
    ids = [design.container.material, design.insert.material]
    if design.dividers is not None:
        ids.append(design.dividers.material)
    lib = library()
    return tuple(conditioning(lib[i], temperature_c) for i in dict.fromkeys(ids))
