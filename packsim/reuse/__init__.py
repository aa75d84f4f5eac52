"""Returnable packaging: wear per trip, remaining life, and the ledger of a fleet's units.

- :func:`degrade` gives a design's material state after a history of trips and repairs;
- :func:`forecast` predicts how many trips a design keeps passing its standards, and its mass and
  CO2e per trip against a single-use baseline;
- :class:`Ledger` records a fleet's units, trips, inspections, repairs and retirements (SQLite or
  PostgreSQL).
"""

from .degradation import FamilyWear, PartState, Repair, Trip, WornDesign, degrade, wear_data
from .forecast import LifeForecast, TripProfile, forecast
from .ledger import SCHEMA_VERSION, FleetSummary, Ledger, LedgerError, TripRecord, UnitStatus

__all__ = [
    "FamilyWear",
    "FleetSummary",
    "Ledger",
    "LedgerError",
    "SCHEMA_VERSION",
    "TripRecord",
    "UnitStatus",
    "LifeForecast",
    "PartState",
    "Repair",
    "Trip",
    "TripProfile",
    "WornDesign",
    "degrade",
    "forecast",
    "wear_data",
]
