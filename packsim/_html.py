"""Self-contained HTML pages (the reports and the export's spec sheet): matplotlib figures
embedded as PNG, tables, the design summary with its bill of materials, one page skeleton."""

from __future__ import annotations

import html
import io
from base64 import b64encode
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .design import Design
    from .export import BomLine

STYLE = """
body { font-family: sans-serif; margin: 1.5em; max-width: 70em; color: #222; }
figure { display: inline-block; margin: 0.4em; vertical-align: top; }
figure img { max-width: 34em; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }
td, th { border: 1px solid #aaa; padding: 0.2em 0.5em; }
.pass { color: #1a7f37; font-weight: bold; } .fail { color: #c62828; font-weight: bold; }
.verdict { font-size: 1.4em; }
"""


def pyplot():
    """matplotlib.pyplot on the Agg backend (no screen needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png(fig, dpi: float | str = "figure") -> str:
    """The figure as a base64 PNG (the figure is closed)."""
    plt = pyplot()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return b64encode(buffer.getvalue()).decode()


def figure(png_b64: str, caption: str) -> str:
    return (f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{png_b64}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """A table; the cells are HTML (escape text first)."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def page(title: str, sections: list[str], style: str = STYLE) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{style}</style></head><body>"
            f"<h1>{html.escape(title)}</h1>{''.join(sections)}</body></html>\n")


def design_section(design: Design, lines: list[BomLine]) -> str:
    """The design in a sentence (cells, outer size, masses, CO2e) and its bill of materials."""
    outer = " x ".join(f"{v * 1e3:.1f}" for v in design.outer_dims_m)
    bom = table(["part", "material", "qty", "size mm", "mass kg", "CO2e kg"],
                [[html.escape(b.part), html.escape(b.material_name), b.quantity,
                  f"{b.length_mm:.1f} x {b.width_mm:.1f} x {b.height_mm:.1f}",
                  f"{b.mass_kg:.3f}", f"{b.co2e_kg:.3f}"] for b in lines])
    return (f"<h2>Design {html.escape(design.name)}</h2><p>{html.escape(design.description)}</p>"
            f"<p>{design.n_cells} x {html.escape(design.cell.id)} cells "
            f"({design.total_wh:.0f} Wh); outer {outer} mm; packaging "
            f"{design.packaging_mass_kg:.3f} kg, {design.co2e_kg:.3f} kg CO2e; gross "
            f"{design.gross_mass_kg:.3f} kg.</p><h3>Bill of materials</h3>{bom}")
