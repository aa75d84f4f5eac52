"""Stacking: the load on a package in a stack, box compression strength by McKee, and derating.

Closed-form (fidelity level 1) companions of :func:`packsim.simulate_compression`. Constants and
derating multipliers live in ``data/stacking.toml`` with their sources.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ._cited import Cited, load_cited_entries, load_packaged
from .materials import Material, get_material
from .units import INCH_M, LBF_N

if TYPE_CHECKING:
    from .design import Design

#: Standard gravity, m/s^2 (CGPM 1901, exact).
G_N = 9.80665

PalletPattern = Literal["columnar_aligned", "columnar_misaligned", "interlocked"]


@cache
def _data() -> dict[str, dict[str, Cited]]:
    return {
        f"{section}.{name}": entry
        for section in ("mckee", "derating")
        for name, entry in load_packaged(
            "stacking.toml", lambda p, s=section: load_cited_entries(p, s)
        ).items()
    }


def stack_load_n(design: Design, stack_height_m: float, round_up: bool = True) -> float:
    """Load on the bottom package of a stack of identical packages, N.

    UN 6.1.5.6: a force equal to the weight of the identical packages that might be stacked on the
    sample, the stack (sample included) at least ``stack_height_m`` high (3 m for UN packagings).

    Parameters
    ----------
    design : Design
    stack_height_m : float
        Height of the stack including the bottom package, m.
    round_up : bool
        Count whole packages (conservative: a partial package counts as one); otherwise the
        fractional count ``H / h - 1`` of the reference sheet.
    """
    h = design.outer_dims_m[2]
    above = stack_height_m / h - 1.0
    if round_up:
        above = math.ceil(above - 1e-9)
    return max(0.0, above) * design.gross_mass_kg * G_N


def mckee_bct_n(ect_n_per_m: float, caliper_m: float, perimeter_m: float) -> float:
    """Box compression strength by the simplified McKee formula, N.

    BCT = 5.87 ECT sqrt(h Z): ECT edge crush (N/m), h combined board caliper (m), Z box perimeter
    2 (L + W) (m). Valid for regular slotted containers loaded top to bottom, flutes vertical, at
    23 C / 50 % RH; this is a lab value, not stacking strength (see :func:`derating`).
    """
    k = float(_data()["mckee.simplified"]["constant"].value)
    return k * ect_n_per_m * math.sqrt(caliper_m * perimeter_m)


def mckee_full_bct_n(ect_n_per_m: float, dx_n_m: float, dy_n_m: float, perimeter_m: float) -> float:
    """Box compression strength by the full McKee formula, N (constants UNCONFIRMED).

    P = 2.028 ECT^0.746 (sqrt(Dx Dy))^0.254 Z^0.492 in inch-pound units; converted here from SI.

    Parameters
    ----------
    ect_n_per_m : float
        Edge crush test, N/m.
    dx_n_m, dy_n_m : float
        Bending stiffness of the combined board in the machine and cross directions, N m
        (per unit width: N m^2 / m), e.g. from a four-point bending test.
    perimeter_m : float
        Box perimeter 2 (L + W), m.
    """
    c = _data()["mckee.full"]
    ect = ect_n_per_m / (LBF_N / INCH_M)
    d = math.sqrt(dx_n_m * dy_n_m) / (LBF_N * INCH_M**2 / INCH_M)  # N m -> lbf in (per unit width)
    z = perimeter_m / INCH_M
    p_lbf = (float(c["constant"].value) * ect ** float(c["ect_exponent"].value)
             * d ** float(c["stiffness_exponent"].value) * z ** float(c["perimeter_exponent"].value))
    return p_lbf * LBF_N


def design_bct_n(design: Design) -> float | None:
    """Simplified-McKee BCT of a design's corrugated container, N; ``None`` for rigid boxes."""
    if design.container.type != "rsc":
        return None
    board: Material = get_material(design.container.board)
    length, width, _ = design.inner_dims_m
    return mckee_bct_n(board.ect_n_per_m, board.caliper_m, 2 * (length + width))


@dataclass(frozen=True)
class StackingConditions:
    """Conditions under which a corrugated box carries its stack load.

    Attributes
    ----------
    storage_days : float
        Time under load, days (0 = lab test).
    relative_humidity_pct : float
        Relative humidity under load, % (50 = lab conditioning).
    pallet_pattern : str
        ``columnar_aligned`` | ``columnar_misaligned`` | ``interlocked``; ``None`` for no pallet.
    overhang, deck_board_gaps, excessive_handling : bool
        Further conditions with their own strength loss.
    safety_factor : float
        Extra factor on the load after derating (1 = none).
    """

    storage_days: float = 0.0
    relative_humidity_pct: float = 50.0
    pallet_pattern: PalletPattern | None = None
    overhang: bool = False
    deck_board_gaps: bool = False
    excessive_handling: bool = False
    safety_factor: float = 1.0

    def __post_init__(self) -> None:
        if self.storage_days < 0 or not 0 <= self.relative_humidity_pct <= 100:
            raise ValueError("storage_days must be >= 0 and relative_humidity_pct in [0, 100]")
        if self.safety_factor < 1:
            raise ValueError("safety_factor must be >= 1")


@dataclass(frozen=True)
class Derating:
    """Fraction of lab BCT that remains under stacking conditions, with each factor's source."""

    factor: float
    factors: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"factor": self.factor, "factors": dict(self.factors), "sources": dict(self.sources)}


def _interpolate(table: dict[str, Cited], prefix: str, x: float) -> tuple[float, str]:
    points = sorted((float(k[len(prefix):]), float(c.value), c.citation) for k, c in table.items())
    xs = np.array([p[0] for p in points])
    ys = np.array([p[1] for p in points])
    return float(np.interp(x, xs, ys)), points[0][2]


def derating(conditions: StackingConditions) -> Derating:
    """Multiply the Fibre Box Association factors that apply to ``conditions``.

    Storage time and humidity are interpolated linearly between the tabulated points (below 50 %
    RH no gain is credited); the other factors apply when their condition is set.
    """
    data = _data()
    factors: dict[str, float] = {}
    sources: dict[str, str] = {}
    factors["storage"], sources["storage"] = _interpolate(
        data["derating.storage_days"], "d", conditions.storage_days)
    factors["humidity"], sources["humidity"] = _interpolate(
        data["derating.relative_humidity_pct"], "rh", max(50.0, conditions.relative_humidity_pct))
    if conditions.pallet_pattern is not None:
        cited = data["derating.pallet_pattern"][conditions.pallet_pattern]
        factors["pallet_pattern"], sources["pallet_pattern"] = float(cited.value), cited.citation
    for name in ("overhang", "deck_board_gaps", "excessive_handling"):
        if getattr(conditions, name):
            cited = data["derating.condition"][name]
            factors[name], sources[name] = float(cited.value), cited.citation
    return Derating(math.prod(factors.values()), factors, sources)


def required_bct_n(load_n: float, conditions: StackingConditions = StackingConditions()) -> float:
    """Lab BCT a box needs to carry ``load_n`` under ``conditions`` with its safety factor, N."""
    return load_n * conditions.safety_factor / derating(conditions).factor
