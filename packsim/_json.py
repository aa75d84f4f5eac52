"""JSON that strict parsers accept: non-finite numbers (an infinite peak g of a pad crushed solid,
an undefined pulse) become ``null`` instead of Python's non-standard ``Infinity`` / ``NaN``."""

from __future__ import annotations

import json
import math
from typing import Any


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def dumps(data: Any) -> str:
    """``json.dumps(data, indent=2)`` with non-finite floats written as null."""
    return json.dumps(_finite(data), indent=2, allow_nan=False)
