"""The reference designs: masses recomputed here from the design's fields with closed-form volumes."""

import math

import pytest

from packsim import get_material, load_design

from conftest import GEOMETRIES


def _independent_masses(d) -> dict[str, float]:
    """Packaging masses by role, from first principles: prisms, circles and the RSC blank."""
    p, ins = d.product, d.insert
    cell = d.cell
    if cell.format == "cylindrical":
        ex = ey = cell.diameter_m
        ez = cell.height_m
        pocket_area = math.pi * (ex / 2 + ins.clearance_m) ** 2
    else:
        ex, ey, ez = ((cell.length_m, cell.thickness_m, cell.height_m) if p.orientation == "upright"
                      else (cell.length_m, cell.height_m, cell.thickness_m))
        pocket_area = (ex + 2 * ins.clearance_m) * (ey + 2 * ins.clearance_m)
    c = ins.clearance_m
    x = 2 * ins.side_thickness_m + 2 * c + p.columns * ex + (p.columns - 1) * p.spacing_m
    y = 2 * ins.side_thickness_m + 2 * c + p.rows * ey + (p.rows - 1) * p.spacing_m
    t_div = d.dividers.thickness_m if d.dividers else 0.0
    floors = [ins.bottom_thickness_m] + [p.layer_gap_m - t_div] * (p.layers - 1)
    foam_volume = sum(x * y * (f + ez + c) - p.rows * p.columns * pocket_area * (ez + c)
                      for f in floors) + x * y * ins.top_thickness_m
    z = sum(f + ez + c for f in floors) + (p.layers - 1) * t_div + ins.top_thickness_m
    masses = {"insert": foam_volume * get_material(ins.material).density_kg_m3}
    if d.dividers:
        masses["divider"] = (p.layers - 1) * x * y * t_div * get_material(d.dividers.material).density_kg_m3
    if d.container.type == "rsc":
        board = get_material(d.container.board)
        t = board.caliper_m
        # FEFCO 0201: panels L+t, W+t, L+t, W+t; body H+2t; flaps (W+t)/2; 35 mm glue flap;
        # six slots one caliper wide.
        panels = 2 * (x + t) + 2 * (y + t)
        flap = (y + t) / 2
        body = z + 2 * t
        area = panels * (body + 2 * flap) + 0.035 * body - 6 * t * flap
        masses["container"] = area * board.grammage_kg_m2
    else:
        w = d.container.wall_thickness_m
        shell = (x + 2 * w) * (y + 2 * w) * (z + 2 * w) - x * y * z
        masses["container"] = shell * get_material(d.container.material).density_kg_m3
    return masses


@pytest.mark.parametrize("name", ["a-21700-eps-rsc", "b-lfp-epp-pp-returnable",
                                  "c-pouch-pe-rsc-doublewall"])
def test_reference_design_masses_match_an_independent_computation(name):
    d = load_design(GEOMETRIES / f"{name}.toml")
    expected = _independent_masses(d)
    by_role: dict[str, float] = {}
    for part in d.parts.values():
        if part.is_packaging:
            by_role[part.role] = by_role.get(part.role, 0.0) + part.mass_kg
    assert by_role == pytest.approx(expected, rel=1e-9)
    assert d.packaging_mass_kg == pytest.approx(sum(expected.values()), rel=1e-9)
    assert d.gross_mass_kg == pytest.approx(sum(expected.values()) + d.n_cells * d.cell.mass_kg, rel=1e-9)


def test_reference_designs_are_the_three_described_in_the_foundation_issue():
    a = load_design(GEOMETRIES / "a-21700-eps-rsc.toml")
    b = load_design(GEOMETRIES / "b-lfp-epp-pp-returnable.toml")
    c = load_design(GEOMETRIES / "c-pouch-pe-rsc-doublewall.toml")
    assert (a.n_cells, a.cell.id, get_material(a.insert.material).family, a.container.type,
            get_material(a.container.board).wall) == (20, "21700", "EPS", "rsc", "single")
    assert (b.n_cells, b.cell.format, b.cell.chemistry, get_material(b.insert.material).family,
            b.container.type, b.container.material) == (4, "prismatic", "LFP", "EPP", "rigid", "pp")
    assert (c.n_cells, c.cell.format, get_material(c.insert.material).family, c.container.type,
            get_material(c.container.board).wall) == (10, "pouch", "PE", "rsc", "double")
