"""argparse ``type`` functions of the ``packsim`` command: a clear message for a bad value."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from .temperature import TEMPERATURE_RANGE_C


def argument(convert: Callable[[str], Any], what: str, accept: Callable[[Any], bool],
             requirement: str) -> Callable[[str], Any]:
    """An argparse ``type``: ``convert`` the text (else "expected ``what``"), then ``accept``
    the value (else "expected ``requirement``")."""
    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"expected {requirement}, got {text!r}")
        return value

    return parse


positive_float = argument(float, "a number", lambda v: v > 0, "a number > 0")
positive_int = argument(int, "a whole number", lambda v: v >= 1, "a whole number >= 1")
_low, _high = TEMPERATURE_RANGE_C
temperature_c = argument(float, "a temperature in C", lambda v: _low < v < _high,
                         f"a temperature between {_low:g} and {_high:g} C")
