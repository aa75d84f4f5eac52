"""FEFCO 0201 regular slotted container (RSC): the flat blank from the box's inner dimensions.

Panels run glue flap, length, width, length, width; top and bottom flaps hang off each panel and the
outer flaps meet in the centre. Allowances come from ``data/fefco.toml`` (cited there).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ._cited import load_cited_entries, load_packaged


@cache
def _allowances() -> dict[str, float]:
    entry = load_packaged("fefco.toml", lambda path: load_cited_entries(path, "allowance"))["rsc"]
    return {name: float(cited.value) for name, cited in entry.items()}


@dataclass(frozen=True)
class RscBlank:
    """Flat blank of a FEFCO 0201 box. Lengths in m, area in m^2.

    Attributes
    ----------
    panel_widths_m : tuple of 4 floats
        Length, width, length, width panels, between crease centres, in manufacturing order.
    glue_flap_m : float
        Width of the manufacturer's joint flap.
    body_height_m : float
        Panel height between the top and bottom flap creases.
    flap_depth_m : float
        Depth of every flap (outer flaps meet in the centre).
    slot_width_m : float
        Width of the three slots between neighbouring flaps, on each of the two flap rows.
    """

    panel_widths_m: tuple[float, float, float, float]
    glue_flap_m: float
    body_height_m: float
    flap_depth_m: float
    slot_width_m: float

    @property
    def length_m(self) -> float:
        """Overall blank length (across the panels), m."""
        return self.glue_flap_m + sum(self.panel_widths_m)

    @property
    def width_m(self) -> float:
        """Overall blank width (flap tip to flap tip), m."""
        return self.body_height_m + 2.0 * self.flap_depth_m

    @property
    def area_m2(self) -> float:
        """Net board area: panels with their flaps and the glue flap, less the six slots, m^2."""
        panels = sum(self.panel_widths_m) * self.width_m
        glue = self.glue_flap_m * self.body_height_m
        slots = 2 * 3 * self.slot_width_m * self.flap_depth_m
        return panels + glue - slots

    def to_dict(self) -> dict[str, float | list[float]]:
        return {
            "panel_widths_m": list(self.panel_widths_m),
            "glue_flap_m": self.glue_flap_m,
            "body_height_m": self.body_height_m,
            "flap_depth_m": self.flap_depth_m,
            "slot_width_m": self.slot_width_m,
            "length_m": self.length_m,
            "width_m": self.width_m,
            "area_m2": self.area_m2,
        }


def rsc_blank(inner_dims_m: tuple[float, float, float], caliper_m: float) -> RscBlank:
    """The flat blank of a FEFCO 0201 box.

    Parameters
    ----------
    inner_dims_m : (float, float, float)
        Inner length, width and depth of the erected box, m.
    caliper_m : float
        Combined board caliper, m.

    Returns
    -------
    RscBlank
    """
    a = _allowances()
    length, width, depth = inner_dims_m
    t = caliper_m
    panel_l = length + a["length_panel_allowance_t"] * t
    panel_w = width + a["width_panel_allowance_t"] * t
    return RscBlank(
        panel_widths_m=(panel_l, panel_w, panel_l, panel_w),
        glue_flap_m=a["glue_flap_width_m"],
        body_height_m=depth + a["depth_allowance_t"] * t,
        flap_depth_m=a["flap_depth_fraction_of_width_panel"] * panel_w,
        slot_width_m=a["slot_width_t"] * t,
    )
