"""Masses and dimensions against hand calculations, and watertight solids."""

import math

import numpy as np
import pytest

import packsim
from packsim import Design, get_material, rsc_blank

from helpers import block_design_dict

REL = 1e-9


def test_plain_block_insert_and_rigid_box_masses_match_hand_sums():
    d = Design.from_dict(block_design_dict())
    # Insert: 3 columns x 2 rows of 0.1 x 0.02 x 0.05 m cells, 10 mm spacing, 1 mm clearance.
    x = 2 * 0.02 + 2 * 0.001 + 3 * 0.1 + 2 * 0.01
    y = 2 * 0.02 + 2 * 0.001 + 2 * 0.02 + 1 * 0.01
    tray_h = 0.03 + 0.05 + 0.001
    pocket = (0.1 + 0.002) * (0.02 + 0.002) * (0.05 + 0.001)
    rho_eps = get_material("eps-24").density_kg_m3
    tray_mass = rho_eps * (x * y * tray_h - 6 * pocket)
    lid_mass = rho_eps * x * y * 0.025
    z = tray_h + 0.025
    assert d.insert_dims_m == pytest.approx((x, y, z), rel=REL)
    # Rigid PP box: a 5 mm shell round the insert.
    w = 0.005
    shell = (x + 2 * w) * (y + 2 * w) * (z + 2 * w) - x * y * z
    box_mass = get_material("pp").density_kg_m3 * shell
    parts = d.parts
    assert parts["insert-tray-1"].mass_kg == pytest.approx(tray_mass, rel=REL)
    assert parts["insert-lid"].mass_kg == pytest.approx(lid_mass, rel=REL)
    assert parts["container"].mass_kg == pytest.approx(box_mass, rel=REL)
    assert d.packaging_mass_kg == pytest.approx(tray_mass + lid_mass + box_mass, rel=REL)
    assert d.gross_mass_kg == pytest.approx(tray_mass + lid_mass + box_mass + 6 * 0.25, rel=REL)
    assert d.outer_dims_m == pytest.approx((x + 2 * w, y + 2 * w, z + 2 * w), rel=REL)
    assert d.n_cells == 6 and d.total_wh == pytest.approx(6 * 32.0)


def test_round_pockets_remove_exactly_the_cylinder_volume():
    cell = {"name": "can", "format": "cylindrical", "diameter_m": 0.02, "height_m": 0.07,
            "mass_kg": 0.07, "nominal_voltage_v": 3.6, "capacity_ah": 5.0, "energy_wh": 18.0,
            "fragility_g": 150.0}
    d = Design.from_dict(block_design_dict(**{"product.custom_cell": cell}))
    x = 2 * 0.02 + 2 * 0.001 + 3 * 0.02 + 2 * 0.01
    y = 2 * 0.02 + 2 * 0.001 + 2 * 0.02 + 0.01
    tray_h = 0.03 + 0.07 + 0.001
    pocket = math.pi * (0.01 + 0.001) ** 2 * (0.07 + 0.001)
    expected = get_material("eps-24").density_kg_m3 * (x * y * tray_h - 6 * pocket)
    assert d.parts["insert-tray-1"].mass_kg == pytest.approx(expected, rel=REL)
    cell_solid = d.parts["cell-001"].mesh
    assert cell_solid.volume == pytest.approx(math.pi * 0.01**2 * 0.07, rel=REL)


def test_rsc_blank_of_a_documented_box_matches_hand_computation():
    # 400 x 300 x 250 mm inner, 4 mm caliper; allowances 1 t per panel, 2 t on the depth,
    # 35 mm glue flap, flaps half the width panel, six slots one caliper wide.
    blank = rsc_blank((0.400, 0.300, 0.250), 0.004)
    assert blank.panel_widths_m == pytest.approx((0.404, 0.304, 0.404, 0.304), rel=REL)
    assert blank.body_height_m == pytest.approx(0.258, rel=REL)
    assert blank.flap_depth_m == pytest.approx(0.152, rel=REL)
    assert blank.length_m == pytest.approx(1.451, rel=REL)
    assert blank.width_m == pytest.approx(0.562, rel=REL)
    area = 1.416 * 0.562 + 0.035 * 0.258 - 6 * 0.004 * 0.152
    assert blank.area_m2 == pytest.approx(area, rel=REL)


def test_corrugated_box_mass_is_blank_area_times_grammage():
    data = block_design_dict(container={"type": "rsc", "board": "board-c-32ect"})
    d = Design.from_dict(data)
    board = get_material("board-c-32ect")
    blank = rsc_blank(d.inner_dims_m, board.caliper_m)
    assert d.parts["container"].mass_kg == pytest.approx(blank.area_m2 * board.grammage_kg_m2, rel=REL)
    t = board.caliper_m
    x, y, z = d.insert_dims_m
    assert d.outer_dims_m == pytest.approx((x + 2 * t, y + 2 * t, z + 4 * t), rel=REL)


def test_dividers_split_the_insert_into_trays_and_add_their_mass():
    d = Design.from_dict(block_design_dict(**{
        "product.layers": 2, "product.layer_gap_m": 0.012,
        "dividers": {"material": "board-b-32ect", "thickness_m": 0.003},
    }))
    names = set(d.parts)
    assert {"insert-tray-1", "insert-tray-2", "insert-lid", "divider-1"} <= names
    x, y, z = d.insert_dims_m
    assert z == pytest.approx(0.03 + 0.025 + 2 * 0.051 + 0.012, rel=REL)
    divider = d.parts["divider-1"]
    assert divider.mass_kg == pytest.approx(
        x * y * 0.003 * get_material("board-b-32ect").density_kg_m3, rel=REL)
    # The second tray's foam floor is the layer gap less the divider.
    tray2 = d.parts["insert-tray-2"].mesh
    assert tray2.extents[2] == pytest.approx(0.012 - 0.003 + 0.051, rel=REL)
    assert d.n_cells == 12


def test_centre_of_mass_matches_a_hand_moment_sum():
    d = Design.from_dict(block_design_dict())
    rho_eps, rho_pp = get_material("eps-24").density_kg_m3, get_material("pp").density_kg_m3
    x, y, z = d.insert_dims_m
    w = 0.005
    pocket_v = 6 * 0.102 * 0.022 * 0.051
    # Heights of centroids above the outside of the box floor.
    block_v, block_z = x * y * 0.081, w + 0.081 / 2
    pocket_z = w + 0.03 + 0.051 / 2
    tray_m = rho_eps * (block_v - pocket_v)
    tray_z = (block_v * block_z - pocket_v * pocket_z) / (block_v - pocket_v)
    lid_m, lid_z = rho_eps * x * y * 0.025, w + 0.081 + 0.025 / 2
    box_m = rho_pp * ((x + 2 * w) * (y + 2 * w) * (z + 2 * w) - x * y * z)
    box_z = (z + 2 * w) / 2
    cells_m, cells_z = 6 * 0.25, w + 0.03 + 0.05 / 2
    masses = np.array([tray_m, lid_m, box_m, cells_m])
    heights = np.array([tray_z, lid_z, box_z, cells_z])
    com = np.array(d.center_of_mass_m)
    assert com[2] == pytest.approx(masses @ heights / masses.sum(), rel=REL)
    # The layout is symmetric in plan, so the centre of mass is on the vertical centre line.
    assert com[:2] == pytest.approx(np.array(d.outer_dims_m[:2]) / 2, rel=REL)


def test_every_solid_is_watertight_and_inside_the_container(reference_path):
    d = packsim.load_design(reference_path)
    outer = np.array(d.outer_dims_m)
    for part in d.parts.values():
        assert part.mesh.is_watertight, part.name
        assert part.mesh.is_volume, part.name
        lo, hi = part.mesh.bounds
        assert np.all(lo >= -1e-12) and np.all(hi <= outer + 1e-12), part.name
    cells = [p for p in d.parts.values() if p.role == "cell"]
    assert len(cells) == d.n_cells


def test_relief_grooves_remove_their_hand_computed_volume_and_leave_solids_watertight():
    relief = {"insert.bearing_fraction": 0.5, "insert.ribs": 3, "insert.groove_depth_ratio": 0.5}
    plain = Design.from_dict(block_design_dict())
    d = Design.from_dict(block_design_dict(**relief))
    x, y, z = d.insert_dims_m
    # Grooves: two per face, each (1 - 0.5) x length / 2 wide, half the pad deep.
    gx, gy = 0.5 * x / 2, 0.5 * y / 2
    bottom, top, side = 0.5 * 0.03, 0.5 * 0.025, 0.5 * 0.02
    removed = (2 * gx * y * (bottom + top)  # bottom and top, across x
               + 2 * 2 * gy * side * z  # the two faces normal to x, upright
               + 2 * 2 * gx * side * z  # the two faces normal to y, upright
               - 2 * 2 * gx * side * (bottom + top))  # counted twice where those meet
    # Ribs (x / 6 and y / 6 wide) are wider than the side grooves are deep, so no other overlap.
    assert min(x, y) / 6 > side
    rho = get_material("eps-24").density_kg_m3

    def foam(design):
        return sum(p.mass_kg for p in design.parts.values() if p.role == "insert")

    assert foam(plain) - foam(d) == pytest.approx(rho * removed, rel=REL)
    assert plain.packaging_mass_kg - d.packaging_mass_kg == pytest.approx(rho * removed, rel=1e-6)
    for part in d.parts.values():
        assert part.mesh.is_watertight and part.mesh.is_volume, part.name


def test_relief_grooves_are_cut_from_the_finite_element_grid_as_in_the_solids():
    from packsim.fem.mesh import INSERT, package_mesh

    relief = {"insert.bearing_fraction": 0.5, "insert.ribs": 3, "insert.groove_depth_ratio": 0.5}

    def foam_volume(design):
        g = package_mesh(design, mesh_size_m=0.005).grid
        sizes = np.prod(np.meshgrid(*(np.diff(c) for c in (g.xs, g.ys, g.zs)), indexing="ij"), axis=0)
        return sizes[g.material == INSERT].sum()

    plain = Design.from_dict(block_design_dict())
    d = Design.from_dict(block_design_dict(**relief))
    solid = sum(p.mesh.volume for p in plain.parts.values() if p.role == "insert")
    relieved = sum(p.mesh.volume for p in d.parts.values() if p.role == "insert")
    # Box-shaped cells, and 5 mm elements: no groove edge is snapped, the grid holds them exactly.
    assert foam_volume(plain) - foam_volume(d) == pytest.approx(solid - relieved, rel=1e-9)


@pytest.mark.parametrize("mesh_size_m", [0.005, 0.02, 0.05])
def test_no_rib_or_groove_vanishes_from_a_coarse_grid(mesh_size_m):
    from packsim.fem.mesh import INSERT, package_mesh

    # Three 6.1 mm ribs on the 92 mm wide ends of the insert, far narrower than the elements.
    d = Design.from_dict(block_design_dict(**{"insert.bearing_fraction": 0.2, "insert.ribs": 3}))
    g = package_mesh(d, mesh_size_m=mesh_size_m).grid
    lo = d.layout.insert_origin_m
    cx, cz = ((c[1:] + c[:-1]) / 2 for c in (g.xs, g.zs))
    # The end's first layer of elements, along y at mid-height: 3 ribs, 2 grooves between.
    i = int(np.searchsorted(cx, lo[0]))
    k = int(np.argmin(np.abs(cz - (lo[2] + d.insert_dims_m[2] / 2))))
    foam = (g.material[i, :, k] == INSERT).astype(int)
    steps = np.diff(foam[np.flatnonzero(foam)[0]:np.flatnonzero(foam)[-1] + 1])
    assert (np.count_nonzero(steps == -1), np.count_nonzero(steps == 1)) == (2, 2)
