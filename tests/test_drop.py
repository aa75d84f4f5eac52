"""Drop simulation of whole packages: the FE drop against the cushion model, energy balance,
symmetry, and the point that hits the floor first for faces, edges and corners."""

import json
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import GEOMETRIES
from helpers import block_design_dict

import packsim
from packsim import cushion
from packsim import drop as drop_module
from packsim.drop import plot_pulse, simulate_drop
from packsim.orientation import OrientationError
from packsim.stacking import G_N

MESH = 0.02


@pytest.fixture(scope="module")
def block():
    return packsim.Design.from_dict(block_design_dict())


@pytest.fixture(scope="module")
def flat(block):
    return simulate_drop(block, 1.2, "bottom", mesh_size_m=MESH)


def test_single_cell_in_eps_agrees_with_the_cushion_model():
    # One heavy flat cell on a 30 mm EPS pad, 5 mm of foam at its sides. The cushion model sees the
    # weight of everything above the pad (cell, lid, side walls) over the pad's area.
    side, pad, cell_kg = 0.1, 0.03, 2.0
    design = packsim.Design.from_dict(block_design_dict(**{
        "product.custom_cell.length_m": side, "product.custom_cell.thickness_m": side,
        "product.custom_cell.mass_kg": cell_kg, "product.rows": 1, "product.columns": 1,
        "insert.bottom_thickness_m": pad, "insert.top_thickness_m": 0.01,
        "insert.side_thickness_m": 0.005}))
    x, y, z = design.layout.insert_dims_m
    insert_kg = sum(p.mass_kg for p in design.parts.values() if p.role == "insert")
    above_pad = insert_kg * (z - pad) / z + cell_kg
    static = above_pad * G_N / (x * y)
    expected = cushion.drop("eps-24", static, pad, 1.2)
    result = simulate_drop(design, 1.2, "bottom", mesh_size_m=MESH)
    assert result.peak_g[0] == pytest.approx(expected.peak_g, rel=0.10)
    assert not result.bottomed_out and not expected.bottomed_out
    assert result.energy_error < 0.01


def _one_heavy_cell(pad_m: float, **insert) -> packsim.Design:
    return packsim.Design.from_dict(block_design_dict(**{
        "product.custom_cell.length_m": 0.1, "product.custom_cell.thickness_m": 0.1,
        "product.custom_cell.mass_kg": 2.0, "product.rows": 1, "product.columns": 1,
        "insert.bottom_thickness_m": pad_m, "insert.top_thickness_m": 0.01,
        "insert.side_thickness_m": 0.005, **{f"insert.{k}": v for k, v in insert.items()}}))


def test_bottoming_is_judged_on_the_cushion_compression_which_converges_with_the_mesh():
    # A plain 60 mm EPS pad under a 2 kg cell: far from bottoming (the cushion model compresses
    # it 21 %). A plateau foam crushes in a band one element thick, so the largest element
    # strain grows past the densification onset as the mesh is refined; the cell's approach to
    # the floor over the gap does not move, and neither does the peak g.
    design = _one_heavy_cell(0.06)
    pad = cushion.design_pads(design)[3]
    expected = cushion.drop("eps-24", pad.static_stress_pa, pad.thickness_m, 1.2)
    gap = 0.06 + design.insert.clearance_m
    coarse, fine = (simulate_drop(design, 1.2, "bottom", mesh_size_m=h) for h in (0.02, 0.01))
    assert fine.max_foam_strain.value > 0.65 > coarse.max_foam_strain.value
    for r in (coarse, fine):
        assert not r.bottomed_out
        assert r.max_cushion_compression["between"] == "cell-001 and wall (-z)"
        assert r.max_cushion_compression["value"] == pytest.approx(
            expected.max_strain * 0.06 / gap, rel=0.12)
    assert fine.max_cushion_compression["value"] == pytest.approx(
        coarse.max_cushion_compression["value"], rel=0.03)
    assert fine.peak_g[0] == pytest.approx(coarse.peak_g[0], rel=0.01)


def test_a_relieved_pad_drops_as_the_cushion_model_of_its_ribs():
    # 40 % of the 60 mm pad's face cut away, 45 mm deep (three ribs): the cushion model sees the
    # ribs alone; the FE deck behind them adds a little stroke, so it may only be softer.
    design = _one_heavy_cell(0.06, bearing_fraction=0.6, ribs=3)
    pad = cushion.design_pads(design)[3]
    expected = cushion.drop("eps-24", pad.static_stress_pa, pad.thickness_m, 1.2)
    plain = cushion.drop("eps-24", cushion.design_pads(_one_heavy_cell(0.06))[3].static_stress_pa,
                         0.06, 1.2)
    result = simulate_drop(design, 1.2, "bottom", mesh_size_m=0.01)
    assert expected.peak_g < 0.7 * plain.peak_g  # the ribs move the cell down its cushion curve
    assert result.peak_g[0] == pytest.approx(expected.peak_g, rel=0.10)
    assert not result.bottomed_out and not expected.bottomed_out
    approach = expected.max_strain * pad.thickness_m / (0.06 + design.insert.clearance_m)
    assert approach < result.max_cushion_compression["value"] < 1.2 * approach
    assert result.energy_error < 0.01


def test_symmetric_package_dropped_flat_gives_the_same_peak_for_mirror_cells(flat, block):
    # Columns outer, rows inner: 3 columns x 2 rows; mirror images about both mid-planes.
    peaks = flat.peak_g.reshape(3, 2)
    assert peaks[0] == pytest.approx(peaks[2], rel=1e-6)
    assert peaks[:, 0] == pytest.approx(peaks[:, 1], rel=1e-6)
    assert np.all(flat.first_contact_m[:, 2] == 0.0)  # the whole bottom face lands together
    assert flat.max_peak_g == pytest.approx(flat.peak_g.max())


@pytest.mark.parametrize("orientation, axes_at_zero", [("edge-2-3", (1, 2)), ("corner-2-3-5", (0, 1, 2))])
def test_edge_and_corner_drops_hit_first_at_that_edge_or_corner(block, orientation, axes_at_zero):
    result = simulate_drop(block, 1.2, orientation, mesh_size_m=MESH, duration_s=2e-4)
    first = result.first_contact_m
    assert np.all(first[:, list(axes_at_zero)] == 0.0)
    if orientation.startswith("edge"):
        # The whole edge (y = 0, z = 0 along x) touches at once.
        assert first[:, 0].min() == 0.0 and first[:, 0].max() == pytest.approx(block.outer_dims_m[0])
    else:
        assert len(first) == 1
    normal = np.array(result.inputs["floor_normal"])
    to_centre = np.array(block.center_of_mass_m) - first[0] * (len(first) == 1)
    if len(first) == 1:
        assert normal == pytest.approx(to_centre / np.linalg.norm(to_centre))


def test_without_dissipation_energy_is_conserved_through_impact_and_rebound(block):
    result = simulate_drop(block, 0.5, "bottom", mesh_size_m=MESH, dissipative=False)
    assert result.stats["turned_round"]
    assert result.energy_error < 0.01
    kinetic0 = 0.5 * block.gross_mass_kg * 2 * G_N * 0.5
    assert abs(result.energy["dissipated"][-1]) < 0.01 * kinetic0
    # Dissipative foams keep part of it (the stiff PP box bounces elastically) and rebound slower.
    lossy = simulate_drop(block, 0.5, "bottom", mesh_size_m=MESH)
    assert lossy.energy["dissipated"][-1] > 0.2 * kinetic0
    assert lossy.rebound_velocity_m_s < result.rebound_velocity_m_s


def test_result_fields_filter_and_serialisation(flat, tmp_path):
    assert flat.filter == "SAE J211-1 CFC 600"
    assert flat.cell_accel_g.shape == (len(flat.time_s), 6)
    assert np.all(flat.pulse_ms > 0)
    assert flat.max_foam_strain.value > 0
    assert flat.max_container_stress_pa.value > 0
    assert flat.max_container_crush is None  # a rigid PP box has no crush law
    gap = flat.min_clearance
    assert 0 < gap["clearance_m"] <= gap["initial_gap_m"] and gap["between"].startswith("cell-")
    assert flat.inputs["impact_velocity_m_s"] == pytest.approx(math.sqrt(2 * G_N * 1.2))
    assert flat.stats["added_mass_kg"] == 0.0
    data = json.loads(flat.to_json())
    assert data["peak_g"] == pytest.approx(list(flat.peak_g))
    assert "cell_accel_g" not in flat.to_dict(histories=False)
    ax = plot_pulse(flat)
    ax.figure.savefig(tmp_path / "pulse.png")
    assert (tmp_path / "pulse.png").stat().st_size > 0


def test_unknown_orientation_is_a_clear_error(block):
    with pytest.raises(OrientationError, match="opposite faces"):
        simulate_drop(block, 1.2, "edge-1-3")


def test_cli_drop_prints_json_and_a_table_and_saves_the_plot(block, tmp_path, capsys):
    from packsim.cli import main

    path = tmp_path / "block.toml"
    block.save(path)
    png = tmp_path / "pulse.png"
    assert main(["drop", str(path), "--height", "0.8", "--orientation", "face-3",
                 "--mesh-size", str(MESH), "--json", "--plot", str(png)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["inputs"]["orientation"] == "face-3" and len(data["peak_g"]) == 6
    assert png.stat().st_size > 0
    assert main(["drop", str(path), "--height", "0.8", "--mesh-size", str(MESH)]) == 0
    out = capsys.readouterr().out
    assert "max peak" in out and "cell-006" in out and "SAE J211-1 CFC 600" in out


@pytest.mark.parametrize("args, message", [(["--orientation", "corner-1-3-5"], "opposite"),
                                           (["--orientation", "botom"], "did you mean 'bottom'")])
def test_cli_drop_rejects_a_bad_orientation_with_status_2(args, message, capsys):
    from packsim.cli import main

    assert main(["drop", str(GEOMETRIES / "a-21700-eps-rsc.toml"), *args]) == 2
    assert message in capsys.readouterr().err


def test_cli_drop_rejects_a_negative_height(capsys):
    from packsim.cli import main

    with pytest.raises(SystemExit) as info:
        main(["drop", str(GEOMETRIES / "a-21700-eps-rsc.toml"), "--height", "-1"])
    assert info.value.code == 2


def test_a_drop_whose_energy_balance_fails_is_run_again_with_a_smaller_step(block, monkeypatch):
    normal = simulate_drop(block, 0.5, "bottom", mesh_size_m=MESH)
    defaults = drop_module._defaults()
    # 1.2 x the critical step: the first run blows up (energy error ~1e7), the retry must not.
    monkeypatch.setattr(drop_module, "_defaults", lambda: {**defaults, "courant": 1.2})
    retried = simulate_drop(block, 0.5, "bottom", mesh_size_m=MESH)
    assert retried.stats["courant"] == defaults["retry_courant"] < normal.stats["courant"]
    assert retried.energy_error < 0.01
    assert retried.max_peak_g == pytest.approx(normal.max_peak_g, rel=0.01)


def test_a_design_dropped_again_reuses_its_model_and_gets_the_same_result(block):
    drop_module._forget_models()
    fresh = simulate_drop(block, 1.2, "bottom", mesh_size_m=MESH)
    corner = simulate_drop(block, 1.2, "corner-2-3-5", mesh_size_m=MESH)  # crushes other foam
    again = simulate_drop(block, 1.2, "bottom", mesh_size_m=MESH)
    assert again._raw["model"] is corner._raw["model"] is fresh._raw["model"]
    assert (again.stats["steps"], again.stats["dt_s"]) == (fresh.stats["steps"], fresh.stats["dt_s"])
    np.testing.assert_array_equal(again.cell_accel_g, fresh.cell_accel_g)
    assert again.max_foam_strain == fresh.max_foam_strain
    # Another thread keeps its own models (a run changes its model's state while it runs).
    with ThreadPoolExecutor(max_workers=1) as pool:
        other = pool.submit(simulate_drop, block, 1.2, "bottom", mesh_size_m=MESH).result()
    assert other._raw["model"] is not fresh._raw["model"]
    np.testing.assert_array_equal(other.cell_accel_g, fresh.cell_accel_g)


def test_a_package_moving_rigidly_brings_no_cell_closer_to_a_wall(block):
    # Walls turn with the package in edge and corner drops; each cell's gap is measured to the
    # wall under it, so a rigid translation plus rotation of everything closes no gap.
    dm = drop_module._drop_model(block, MESH, True, None)
    model, gaps = dm.model, dm.gaps
    translation, rotation = np.array([1e-3, -2e-3, 0.5e-3]), np.array([0.01, -0.02, 0.03])

    def rigid(x):
        return translation + np.cross(rotation, x - gaps.centres_m.mean(axis=0))

    q = np.zeros(model.nq)
    node, k = model.carried // 3, model.carried % 3
    q[: model.carried.size] = rigid(model.points[node])[np.arange(node.size), k]
    for cell, centre in enumerate(gaps.centres_m):
        q[model.body_q[cell] + np.arange(3)] = rigid(centre)
    walls = gaps.second < 0
    wall = dm.wall_rows @ q
    cell = q[model.body_q[gaps.first] + gaps.axis]
    assert walls.sum() == 6 * len(gaps.centres_m)
    np.testing.assert_allclose(cell[walls], wall[walls], rtol=0, atol=1e-12)
    # A translation of the box alone moves every wall by it.
    q[:] = 0
    q[: model.carried.size] = translation[k]
    np.testing.assert_allclose((dm.wall_rows @ q)[walls], translation[gaps.axis[walls]], rtol=1e-12)


def test_a_drop_without_stored_energy_gives_the_same_results_less_the_dissipated_history(block):
    full = simulate_drop(block, 0.5, "bottom", mesh_size_m=MESH, duration_s=3e-3)
    lean = simulate_drop(block, 0.5, "bottom", mesh_size_m=MESH, duration_s=3e-3,
                         stored_energy=False)
    assert "dissipated" in full.energy and "dissipated" not in lean.energy
    assert full.energy["dissipated"][-1] > 0  # the foam crushed: the split had work to do
    assert lean.peak_g == pytest.approx(full.peak_g, rel=1e-12)
    assert lean.max_cushion_compression == full.max_cushion_compression
    assert lean.energy_error == pytest.approx(full.energy_error, rel=1e-12)
    for name in ("kinetic", "internal", "contact"):
        assert lean.energy[name] == pytest.approx(full.energy[name], rel=1e-12)
