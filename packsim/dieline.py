"""Flat 2D drawings for suppliers, as DXF in millimetres (ezdxf): the FEFCO 0201 blank of a
corrugated box (cut and crease lines on their own layers) and the cutting profile of a foam layer
(outline and cavities).

Blank frame: x across the panels from the glue flap's free edge, y from the bottom flap tips;
panels run glue flap, length, width, length, width (:class:`packsim.RscBlank`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .fefco import RscBlank

if TYPE_CHECKING:
    import ezdxf

#: Layer names of a blank: the die cuts along CUT and scores along CREASE.
CUT, CREASE, OUTLINE, CAVITY, GROOVE, NOTES = "CUT", "CREASE", "OUTLINE", "CAVITY", "GROOVE", "NOTES"
_MM = 1e3


def blank_lines(blank: RscBlank) -> tuple[list[tuple[float, float]], list[tuple[tuple[float, float],
                                                                                 tuple[float, float]]]]:
    """The blank's cut outline (a closed polygon) and its crease lines (segments), m.

    The flaps of neighbouring panels are separated by slots centred on the panel creases; the
    glue flap spans the body height only.
    """
    g, f, h, s = blank.glue_flap_m, blank.flap_depth_m, blank.body_height_m, blank.slot_width_m
    x = g + np.concatenate([[0.0], np.cumsum(blank.panel_widths_m)])  # panel creases and the end
    top, bottom = 2 * f + h, 0.0
    outline = [(0.0, f), (0.0, f + h), (x[0], f + h), (x[0], top)]
    for xc in x[1:-1]:  # top flap row, left to right, down and up each slot
        outline += [(xc - s / 2, top), (xc - s / 2, f + h), (xc + s / 2, f + h), (xc + s / 2, top)]
    outline += [(x[-1], top), (x[-1], bottom)]
    for xc in x[-2:0:-1]:  # bottom flap row, right to left
        outline += [(xc + s / 2, bottom), (xc + s / 2, f), (xc - s / 2, f), (xc - s / 2, bottom)]
    outline += [(x[0], bottom), (x[0], f)]
    creases = [((xc, f), (xc, f + h)) for xc in x[:-1]]
    creases += [((x[0], f), (x[-1], f)), ((x[0], f + h), (x[-1], f + h))]
    return [(float(a), float(b)) for a, b in outline], [
        ((float(a), float(b)), (float(c), float(d))) for (a, b), (c, d) in creases]


def _document(layers: dict[str, int]) -> ezdxf.document.Drawing:
    import ezdxf  # 0.3 s to import: only when a drawing is written, not by every packsim command

    doc = ezdxf.new("R2010", units=ezdxf.units.MM)
    for name, color in layers.items():
        doc.layers.add(name, color=color)
    return doc


def write_blank_dxf(blank: RscBlank, path: str | Path, title: str = "") -> Path:
    """Write the blank as DXF (mm): the outline on layer CUT, the creases on layer CREASE, and
    a note of its size on NOTES."""
    outline, creases = blank_lines(blank)
    doc = _document({CUT: 1, CREASE: 5, NOTES: 7})
    msp = doc.modelspace()
    msp.add_lwpolyline([(x * _MM, y * _MM) for x, y in outline], close=True,
                       dxfattribs={"layer": CUT})
    for (x0, y0), (x1, y1) in creases:
        msp.add_line((x0 * _MM, y0 * _MM), (x1 * _MM, y1 * _MM), dxfattribs={"layer": CREASE})
    note = (f"{title} FEFCO 0201 blank {blank.length_m * _MM:.1f} x {blank.width_m * _MM:.1f} mm; "
            "panels " + " / ".join(f"{w * _MM:.1f}" for w in blank.panel_widths_m)
            + f"; glue flap {blank.glue_flap_m * _MM:.1f}; flaps {blank.flap_depth_m * _MM:.1f}")
    msp.add_text(note.strip(), height=5.0, dxfattribs={"layer": NOTES}).set_placement(
        (0.0, -10.0))
    path = Path(path)
    doc.saveas(path)
    return path


def write_profile_dxf(size_m: tuple[float, float], centres_m: np.ndarray,
                      half_size_m: tuple[float, float], round_: bool, path: str | Path,
                      note: str = "", grooves_m: np.ndarray | None = None) -> Path:
    """Write a foam layer's cutting profile as DXF (mm): its rectangular outline on OUTLINE,
    one cavity per cell on CAVITY (circles for round cells, rectangles otherwise) and the plan of
    each relief groove on GROOVE.

    Parameters
    ----------
    size_m : (float, float)
        Outline, m (origin at its lower-left corner).
    centres_m : ndarray
        Cavity centres (n, 2), m, in the outline's frame.
    half_size_m : (float, float)
        Half the cavity size (the radius twice for round cavities), m.
    round_ : bool
    note : str
        Written on layer NOTES (thickness, cavity and groove depths).
    grooves_m : ndarray, optional
        Plan rectangles (x0, y0, x1, y1) of the relief grooves, m, in the outline's frame.
    """
    doc = _document({OUTLINE: 1, CAVITY: 3, GROOVE: 4, NOTES: 7})
    msp = doc.modelspace()
    w, d = size_m[0] * _MM, size_m[1] * _MM
    msp.add_lwpolyline([(0, 0), (w, 0), (w, d), (0, d)], close=True,
                       dxfattribs={"layer": OUTLINE})
    hx, hy = half_size_m[0] * _MM, half_size_m[1] * _MM
    for cx, cy in np.asarray(centres_m, float).reshape(-1, 2) * _MM:
        if round_:
            msp.add_circle((cx, cy), hx, dxfattribs={"layer": CAVITY})
        else:
            msp.add_lwpolyline([(cx - hx, cy - hy), (cx + hx, cy - hy), (cx + hx, cy + hy),
                                (cx - hx, cy + hy)], close=True, dxfattribs={"layer": CAVITY})
    for x0, y0, x1, y1 in np.asarray(grooves_m if grooves_m is not None else (), float).reshape(-1, 4) * _MM:
        msp.add_lwpolyline([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], close=True,
                           dxfattribs={"layer": GROOVE})
    if note:
        msp.add_text(note, height=5.0, dxfattribs={"layer": NOTES}).set_placement((0.0, -10.0))
    path = Path(path)
    doc.saveas(path)
    return path
