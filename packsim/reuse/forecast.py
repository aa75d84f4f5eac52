"""How many trips a returnable design keeps passing its standards, and what a trip costs.

The forecast repeats one trip (:class:`TripProfile`) and checks the worn design
(:func:`packsim.reuse.degrade`) against the standards. Wear is monotone (more trips never
strengthen a part), so the trip of the first failure is found by doubling the trip count until a
check fails and then bisecting: about 2 log2(N) checks for a life of N trips, not N.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._cited import load_cited_entries, load_packaged
from ..compliance import DEFAULT_STANDARDS, ComplianceReport, Fidelity, Row, check
from ..standards import Standard
from .degradation import Repair, Trip, degrade

if TYPE_CHECKING:
    from ..design import Design


@cache
def _default_profile() -> dict[str, float]:
    entry = load_packaged("degradation.toml", lambda p: load_cited_entries(p, "trip_profile"))
    return {k: float(v.value) for k, v in entry["default"].items()}


@dataclass(frozen=True)
class TripProfile:
    """The trip a forecast repeats.

    Attributes
    ----------
    drops_per_trip : int
        Drops the package takes on one trip.
    drop_height_m : float
        Height of each, m.
    max_rh_pct : float
        Highest relative humidity on the trip, %.

    ``TripProfile.default()`` is the parcel-network trip of ``data/degradation.toml`` (10 drops of
    0.81 m, conditioned air).
    """

    drops_per_trip: int
    drop_height_m: float
    max_rh_pct: float = 50.0

    def __post_init__(self) -> None:
        if self.drops_per_trip < 0 or self.drops_per_trip != int(self.drops_per_trip):
            raise ValueError(f"drops_per_trip must be a whole number >= 0, got {self.drops_per_trip}")
        self.trip()  # validates the height and humidity

    @classmethod
    def default(cls) -> TripProfile:
        d = _default_profile()
        return cls(int(d["drops_per_trip"]), d["drop_height_m"], d["max_rh_pct"])

    def trip(self) -> Trip:
        return Trip((self.drop_height_m,) * int(self.drops_per_trip), self.max_rh_pct)

    def to_dict(self) -> dict[str, Any]:
        return {"drops_per_trip": int(self.drops_per_trip), "drop_height_m": self.drop_height_m,
                "max_rh_pct": self.max_rh_pct}


@dataclass(frozen=True)
class LifeForecast:
    """Result of :func:`forecast`.

    Attributes
    ----------
    design_name : str
    trips : int
        Trips the design completes while still passing every clause (0: it fails when new);
        with a ``history``, the trips left after it. A single-use design (not
        ``design.returnable``) makes one trip.
    censored : bool
        No clause failed within ``horizon`` trips: the life is at least ``trips``.
    failing_row : Row or None
        The clause that fails first (the worst row of the check after ``trips + 1`` trips);
        None when censored or single use.
    packaging_mass_kg, co2e_kg : float
        Of one package, kg and kg CO2e.
    mass_per_trip_kg, co2e_per_trip_kg : float
        Divided over its life (at least one trip), kg and kg CO2e. Return transport and cleaning
        are not counted.
    baseline_name : str or None
        The single-use design compared against (used for one trip).
    baseline_mass_per_trip_kg, baseline_co2e_per_trip_kg : float or None
    break_even_trips : int or None
        Trips after which the returnable design has emitted less per trip than the baseline.
    checks : int
        Compliance checks run.
    fidelity : str
    profile : TripProfile
    """

    design_name: str
    trips: int
    censored: bool
    failing_row: Row | None
    packaging_mass_kg: float
    co2e_kg: float
    mass_per_trip_kg: float
    co2e_per_trip_kg: float
    baseline_name: str | None
    baseline_mass_per_trip_kg: float | None
    baseline_co2e_per_trip_kg: float | None
    break_even_trips: int | None
    checks: int
    fidelity: str
    profile: TripProfile

    @property
    def pays_off(self) -> bool | None:
        """The design lives at least its break-even number of trips (None without a baseline)."""
        return None if self.break_even_trips is None else self.trips >= self.break_even_trips

    def to_dict(self) -> dict[str, Any]:
        row = self.failing_row
        return {
            "design": self.design_name, "trips": self.trips, "censored": self.censored,
            "failing_row": None if row is None else {
                "name": row.name, "standard": row.standard, "test": row.test, "clause": row.clause,
                "criterion": row.criterion, "condition": row.condition,
                "achieved": row.achieved, "requirement": row.requirement},
            "packaging_mass_kg": self.packaging_mass_kg, "co2e_kg": self.co2e_kg,
            "mass_per_trip_kg": self.mass_per_trip_kg, "co2e_per_trip_kg": self.co2e_per_trip_kg,
            "baseline": self.baseline_name,
            "baseline_mass_per_trip_kg": self.baseline_mass_per_trip_kg,
            "baseline_co2e_per_trip_kg": self.baseline_co2e_per_trip_kg,
            "break_even_trips": self.break_even_trips, "pays_off": self.pays_off,
            "checks": self.checks, "fidelity": self.fidelity, "profile": self.profile.to_dict(),
        }


def _deciding_row(report: ComplianceReport) -> Row:
    """The failed row with the lowest margin (rows without a margin last)."""
    return min(report.failed_rows, key=lambda r: (r.margin is None, r.margin or 0.0))


def forecast(design: Design,
             standards: tuple[str | Path | Standard, ...] | list | str = DEFAULT_STANDARDS,
             trip_profile: TripProfile | None = None, baseline: Design | None = None,
             horizon: int = 1000, fidelity: Fidelity = "fast",
             history: Sequence[Trip | Repair] = (),
             progress: Callable[[int, bool], None] | None = None) -> LifeForecast:
    """Predict how many trips ``design`` keeps passing ``standards``.

    Parameters
    ----------
    design : Design
        The returnable package, new.
    standards : standard ids, files or Standard objects
        As :func:`packsim.check`.
    trip_profile : TripProfile, optional
        The trip repeated (default :meth:`TripProfile.default`).
    baseline : Design, optional
        A single-use package to compare the cost per trip with (it makes one trip).
    horizon : int
        Most trips looked at; a longer life is reported as censored at ``horizon``.
    fidelity : str
        Fidelity of every check (``fast`` by default: a forecast runs about 2 log2(life) checks).
    history : sequence of Trip or Repair
        What the unit has been through already (e.g. from the ledger): the forecast counts the
        trips left after it, and the cost per trip over the whole life.
    progress : callable, optional
        Called as ``progress(trips, passed)`` after every check.

    Returns
    -------
    LifeForecast
    """
    if horizon < 1 or horizon != int(horizon):
        raise ValueError(f"horizon must be a whole number >= 1, got {horizon}")
    profile = trip_profile or TripProfile.default()
    trip = profile.trip()
    reports: dict[int, ComplianceReport] = {}

    def report(n: int) -> ComplianceReport:
        if n not in reports:
            worn = degrade(design, [*history, *[trip] * n]).design
            reports[n] = check(worn, standards, fidelity=fidelity)
            if progress is not None:
                progress(n, reports[n].passed)
        return reports[n]

    if not report(0).passed:
        life, censored = 0, False
    elif not design.returnable:
        life, censored = 1, False  # single use: one trip, whatever it could survive
    else:
        good, bad = 0, 1
        while bad <= horizon and report(bad).passed:
            good, bad = bad, 2 * bad
        censored = bad > horizon and (good == horizon or report(horizon).passed)
        if censored:
            life = horizon
        else:
            bad = min(bad, horizon)
            while bad - good > 1:
                mid = (good + bad) // 2
                good, bad = (mid, bad) if report(mid).passed else (good, mid)
            life = good
    failing_row = (None if censored or (life and not design.returnable)
                   else _deciding_row(report(life + 1 if report(0).passed else 0)))
    mass, co2e = design.packaging_mass_kg, design.co2e_kg
    per = max(life + sum(isinstance(e, Trip) for e in history), 1)
    base_mass = base_co2e = break_even = None
    if baseline is not None:
        base_mass, base_co2e = baseline.packaging_mass_kg, baseline.co2e_kg
        break_even = max(1, math.ceil(co2e / base_co2e - 1e-12)) if base_co2e > 0 else None
    return LifeForecast(
        design_name=design.name, trips=life, censored=censored, failing_row=failing_row,
        packaging_mass_kg=mass, co2e_kg=co2e, mass_per_trip_kg=mass / per,
        co2e_per_trip_kg=co2e / per, baseline_name=None if baseline is None else baseline.name,
        baseline_mass_per_trip_kg=base_mass, baseline_co2e_per_trip_kg=base_co2e,
        break_even_trips=break_even, checks=len(reports), fidelity=fidelity, profile=profile)
