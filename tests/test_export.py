"""Supplier exports: watertight meshes of the same volume, the FEFCO blank as a hand computation,
cutting profiles, a bill of materials that adds up, and the spec sheet."""

import base64
import csv
import io
import json
import re

import ezdxf
import matplotlib.image
import numpy as np
import pytest
import trimesh
from conftest import REFERENCE_DESIGNS
from helpers import well_cushioned

import packsim
from packsim.cli import main
from packsim.dieline import CAVITY, CREASE, CUT, GROOVE, OUTLINE
from packsim.export import bill_of_materials, export_design

# A documented box: inner 500 x 200 x 200 mm in C-flute 32 ECT board (caliper 4.06 mm).


@pytest.fixture(scope="module", params=[{}, {"insert.bearing_fraction": 0.5, "insert.ribs": 4}],
                ids=["plain", "relieved"])
def boxed(tmp_path_factory, request):
    design = well_cushioned(**{"container.inner_length_m": 0.5, "container.inner_width_m": 0.2,
                               "container.inner_height_m": 0.2, "insert.bearing_fraction": 1.0,
                               "insert.bottom_thickness_m": 0.06, "insert.top_thickness_m": 0.06,
                               "insert.side_thickness_m": 0.06, **request.param})
    out = tmp_path_factory.mktemp("export")
    return design, export_design(design, out)


def _shoelace(points):
    x, y = np.asarray(points).T
    return 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))


def test_the_blank_dxf_is_the_hand_computed_fefco_0201_blank(boxed):
    design, files = boxed
    t = packsim.get_material("board-c-32ect").caliper_m * 1e3
    assert t == pytest.approx(4.06)
    # Hand computation (data/fefco.toml): panels L + t, W + t; glue flap 35 mm; body D + 2 t;
    # flaps half the width panel; slots one caliper wide.
    panels = [500 + t, 200 + t, 500 + t, 200 + t]
    body, flap = 200 + 2 * t, (200 + t) / 2
    doc = ezdxf.readfile(files["container-blank.dxf"])
    msp = doc.modelspace()
    assert {e.dxf.layer for e in msp.query("LWPOLYLINE")} == {CUT}
    assert {e.dxf.layer for e in msp.query("LINE")} == {CREASE}
    outline = [p[:2] for p in msp.query("LWPOLYLINE").first.get_points()]
    xs, ys = np.array(outline).T
    assert xs.max() - xs.min() == pytest.approx(35 + sum(panels))
    assert ys.max() - ys.min() == pytest.approx(body + 2 * flap)
    vertical = sorted({round(e.dxf.start.x, 6) for e in msp.query("LINE")
                       if e.dxf.start.x == e.dxf.end.x})
    assert np.diff([*vertical, xs.max()]) == pytest.approx(panels)
    assert vertical[0] == pytest.approx(35)
    area = _shoelace(outline) * 1e-6
    assert area == pytest.approx(design.geometry.blank.area_m2, rel=1e-9)


def test_every_part_reimports_watertight_with_its_volume(boxed):
    design, files = boxed
    for part in design.geometry.packaging_parts:
        for ext in ("stl", "3mf"):
            loaded = trimesh.load(files[f"{part.name}.{ext}"], force="mesh")
            assert loaded.is_watertight, (part.name, ext)
            assert loaded.volume == pytest.approx(part.mesh.volume * 1e9, rel=1e-6)
    scene = trimesh.load(files["assembly.glb"])
    assert len(scene.geometry) == len(design.geometry.parts)


def test_foam_profiles_have_one_cavity_per_cell(boxed):
    design, files = boxed
    doc = ezdxf.readfile(files["insert-tray-1.dxf"])
    msp = doc.modelspace()
    outline = msp.query(f'LWPOLYLINE[layer=="{OUTLINE}"]')
    cavities = msp.query(f'*[layer=="{CAVITY}"]')
    assert len(outline) == 1 and len(cavities) == design.product.rows * design.product.columns
    xs, ys = np.array([p[:2] for p in outline.first.get_points()]).T
    x, y, _ = design.insert_dims_m
    assert (xs.max(), ys.max()) == pytest.approx((x * 1e3, y * 1e3))
    lid = ezdxf.readfile(files["insert-lid.dxf"]).modelspace()
    assert not lid.query(f'*[layer=="{CAVITY}"]')
    # A relieved insert: the grooves of its bottom (top) face and of its four sides, ribs - 1 each.
    expected = 5 * (design.insert.ribs - 1) if design.insert.relieved else 0
    for layer in (msp, lid):
        grooves = layer.query(f'LWPOLYLINE[layer=="{GROOVE}"]')
        assert len(grooves) == expected
        for groove in grooves:
            gx, gy = np.array([p[:2] for p in groove.get_points()]).T
            assert gx.min() >= -1e-9 and gy.min() >= -1e-9
            assert gx.max() <= x * 1e3 + 1e-9 and gy.max() <= y * 1e3 + 1e-9


@pytest.mark.parametrize("index", range(3))
def test_bill_of_materials_adds_up_to_the_packaging_mass(index):
    design = packsim.load_design(REFERENCE_DESIGNS[index])
    lines = bill_of_materials(design)
    assert sum(b.mass_kg for b in lines) == pytest.approx(design.packaging_mass_kg, rel=1e-12)
    assert sum(b.co2e_kg for b in lines) == pytest.approx(design.co2e_kg, rel=1e-12)
    assert sum(b.quantity for b in lines) == len(design.geometry.packaging_parts)


def test_bom_files_and_the_spec_sheet(boxed):
    design, files = boxed
    with open(files["bom.csv"]) as fh:
        rows = list(csv.DictReader(fh))
    assert sum(float(r["mass_kg"]) for r in rows) == pytest.approx(design.packaging_mass_kg)
    data = json.loads(files["bom.json"].read_text())
    assert data["packaging_mass_kg"] == pytest.approx(design.packaging_mass_kg)
    page = files["spec.html"].read_text()
    parts = {p.name.rsplit("-", 1)[0] if p.name[-1].isdigit() else p.name
             for p in design.geometry.packaging_parts}
    assert page.count("data:image/png;base64,") == 1 + len(parts)
    assert design.name in page and "Bill of materials" in page


def test_the_assembly_view_shows_the_cells_in_their_pockets(boxed):
    """The view paints the cells (grey) among the insert (blue), not the insert over them."""
    _, files = boxed
    first = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", files["spec.html"].read_text())
    rgb = matplotlib.image.imread(io.BytesIO(base64.b64decode(first.group(1))))[..., :3]
    grey = (np.ptp(rgb, axis=-1) < 0.02) & (rgb.mean(axis=-1) > 0.15) & (rgb.mean(axis=-1) < 0.5)
    assert grey.mean() > 0.01  # 2.1 % here; 0.25 % with the insert painted over them


def test_the_export_command(tmp_path, capsys):
    assert main(["export", str(REFERENCE_DESIGNS[0]), "--out", str(tmp_path / "a")]) == 0
    assert (tmp_path / "a" / "container-blank.dxf").exists()
    assert "spec.html" in capsys.readouterr().out
    # Design (a): 21700 cells stand in round cavities, the cell's diameter plus the clearance.
    design = packsim.load_design(REFERENCE_DESIGNS[0])
    circles = ezdxf.readfile(tmp_path / "a" / "insert-tray-1.dxf").modelspace().query("CIRCLE")
    assert len(circles) == design.n_cells
    radius_mm = (design.cell.diameter_m / 2 + design.insert.clearance_m) * 1e3
    assert {round(c.dxf.radius, 9) for c in circles} == {round(radius_mm, 9)}
    assert main(["export", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "b")]) == 2
