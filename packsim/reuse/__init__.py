"""Returnable packaging: wear per trip, remaining life, and the ledger of a fleet's units.

- :func:`degrade` gives a design's material state after a history of trips and repairs;
- :func:`forecast` predicts how many trips a design keeps passing its standards, and its mass and
  CO2e per trip against a single-use baseline.
"""

from .degradation import FamilyWear, PartState, Repair, Trip, WornDesign, degrade, wear_data
from .forecast import LifeForecast, TripProfile, forecast

__all__ = [
    "FamilyWear",
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
