"""Explicit parsing of engineering units in input files; everything inside packsim is SI."""

from __future__ import annotations

import re

# Metric units as divisors, so that "30 mm" gives exactly 0.03, as a user typing 0.03 would.
_METRIC_DIVISOR = {"m": 1, "cm": 100, "mm": 1000, "um": 1_000_000}
#: Exact factors of the 1959 international yard and pound agreement: inch in m, pound-force in N.
INCH_M = 0.0254
LBF_N = 4.4482216152605
_IMPERIAL_TO_M = {"in": INCH_M, "inch": INCH_M, "ft": 0.3048}
_LENGTH_TO_M = {**{u: 1 / d for u, d in _METRIC_DIVISOR.items()}, **_IMPERIAL_TO_M}

_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-zA-Z]+)\s*$")

LENGTH_UNITS = tuple(_LENGTH_TO_M)


def parse_length(text: str) -> float:
    """Parse a length such as ``"30 mm"``, ``"1.5 in"`` or ``"0.03 m"``.

    Parameters
    ----------
    text : str
        A number followed by one of the units in :data:`LENGTH_UNITS`.

    Returns
    -------
    float
        The length in metres.

    Raises
    ------
    ValueError
        If the text is not a number followed by a known length unit.
    """
    match = _QUANTITY.match(text)
    if not match or match.group(2) not in _LENGTH_TO_M:
        raise ValueError(
            f"expected a number in metres or a length with a unit such as '30 mm' "
            f"(units: {', '.join(LENGTH_UNITS)})"
        )
    number, unit = match.groups()
    if unit in _METRIC_DIVISOR:
        return float(number) / _METRIC_DIVISOR[unit]
    return float(number) * _IMPERIAL_TO_M[unit]
