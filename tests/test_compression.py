"""Whole-package compression: equilibrium, linearity, symmetry, a spring estimate, convergence."""

import json

import meshio
import numpy as np
import pytest

from packsim import get_material, load_design
from packsim.cli import main
from packsim.compression import simulate_compression
from packsim.stacking import stack_load_n

from conftest import GEOMETRIES

DESIGN_A = GEOMETRIES / "a-21700-eps-rsc.toml"


@pytest.fixture(scope="module")
def design_a():
    return load_design(DESIGN_A)


@pytest.fixture(scope="module")
def stacked(design_a):
    return simulate_compression(design_a, stack_height_m=3.0)


def test_floor_reaction_balances_the_platen_load(stacked, design_a):
    assert stacked.load_n == pytest.approx(stack_load_n(design_a, 3.0))
    assert stacked.reaction_n == pytest.approx(stacked.load_n, rel=1e-5)
    assert stacked.deflection_m == pytest.approx(stacked.load_n / stacked.stiffness_n_per_m)


def test_results_scale_linearly_with_load(design_a, stacked):
    double = simulate_compression(design_a, load_n=2 * stacked.load_n, buckling=False,
                                  solver=stacked.inputs["solver"])
    assert double.deflection_m == pytest.approx(2 * stacked.deflection_m, rel=1e-6)
    for part, peak in stacked.max_von_mises_pa.items():
        assert double.max_von_mises_pa[part].value == pytest.approx(2 * peak.value, rel=1e-6)
    # The buckling load belongs to the package, not to the load applied.
    assert stacked.buckling_load_n == pytest.approx(stacked.buckling_factor * stacked.load_n)


def test_the_solver_is_direct_where_buckling_factorises_the_model_anyway(design_a, stacked):
    assert stacked.dofs <= 20000 and stacked.inputs["solver"] == "direct"
    iterative = simulate_compression(design_a, load_n=stacked.load_n, buckling=False)
    assert iterative.inputs["solver"] == "amg"
    assert iterative.deflection_m == pytest.approx(stacked.deflection_m, rel=1e-5)
    capped = simulate_compression(design_a, load_n=stacked.load_n,
                                  buckling_max_dofs=stacked.dofs - 1)
    assert capped.inputs["solver"] == "amg" and capped.inputs["buckling_mesh_size_m"] is not None
    # The design's own lines (walls, cells) bound how coarse its grid can get.
    with pytest.raises(ValueError, match="buckling_max_dofs must be at least 3024"):
        simulate_compression(design_a, load_n=stacked.load_n, buckling_max_dofs=1000)


def test_a_relieved_insert_solves_by_amg_as_by_the_direct_solver(design_a):
    # Its ribs leave aggregates on a line, whose coarse diagonal blocks are singular (they
    # have no stiffness against the rotation about that line): the smoother must cope.
    relieved = design_a.replace({"insert.bearing_fraction": 0.5, "insert.ribs": 3})
    direct, amg = (simulate_compression(relieved, load_n=200.0, buckling=False, solver=solver)
                   for solver in ("direct", "amg"))
    assert amg.reaction_n == pytest.approx(200.0, rel=1e-5)
    assert amg.deflection_m == pytest.approx(direct.deflection_m, rel=1e-5)


def test_stiffness_agrees_with_walls_and_insert_as_parallel_springs(design_a, stacked):
    # Walls: the board ring of the box; insert: a foam column (cells make it stiffer).
    board = get_material(design_a.container.board)
    foam = get_material(design_a.insert.material)
    length, width, height = design_a.outer_dims_m
    t = board.caliper_m
    walls = board.youngs_modulus_pa * 2 * (length + width - 2 * t) * t / height
    x, y, z = design_a.insert_dims_m
    column = foam.youngs_modulus_pa * x * y / z
    assert walls + column < stacked.stiffness_n_per_m < 1.5 * (walls + column)


def test_symmetric_design_gives_a_mirror_symmetric_field(stacked, tmp_path):
    mesh = meshio.read(stacked.to_vtu(tmp_path / "a.vtu"))
    p, u = mesh.points, mesh.point_data["displacement_m"]
    assert set(np.unique(mesh.cell_data["part"][0])) == {0, 1, 3}
    mirrored = p.copy()
    mirrored[:, 0] = p[:, 0].max() - p[:, 0]
    order = np.lexsort(np.round(p / 1e-9).T)
    mirror_order = np.lexsort(np.round(mirrored / 1e-9).T)
    scale = np.abs(u).max()
    assert np.allclose(u[order, 2], u[mirror_order, 2], atol=1e-6 * scale)
    assert np.allclose(u[order, 0], -u[mirror_order, 0], atol=1e-6 * scale)


def test_stiffness_converges_under_mesh_refinement(design_a):
    coarse, medium, fine = (simulate_compression(design_a, load_n=1000.0, mesh_size_m=h, buckling=False)
                            for h in (0.02, 0.012, 0.008))
    assert fine.dofs > medium.dofs > coarse.dofs
    # Displacement-based elements converge from the stiff side.
    assert coarse.stiffness_n_per_m >= medium.stiffness_n_per_m >= fine.stiffness_n_per_m
    assert abs(medium.stiffness_n_per_m / fine.stiffness_n_per_m - 1) < 0.05


def test_buckling_exceeds_the_load_and_is_reported_beside_mckee(stacked):
    assert stacked.bct_mckee_n is not None and stacked.bct_mckee_n > stacked.load_n
    assert stacked.buckling_factor > 1
    data = json.loads(stacked.to_json())
    for key in ("load_n", "deflection_m", "reaction_n", "stiffness_n_per_m", "max_von_mises_pa",
                "max_strain", "buckling_factor", "bct_mckee_n", "dofs", "wall_s"):
        assert key in data
    assert set(data["max_von_mises_pa"]) == {"container", "insert", "cells"}


def test_rigid_box_has_no_mckee_value():
    result = simulate_compression(load_design(GEOMETRIES / "b-lfp-epp-pp-returnable.toml"),
                                  load_n=1000.0, mesh_size_m=0.03, buckling=False)
    assert result.bct_mckee_n is None and result.buckling_factor is None
    assert result.reaction_n == pytest.approx(1000.0, rel=1e-5)


def test_cli_compress_prints_json_and_writes_vtu(tmp_path, capsys):
    vtu = tmp_path / "out.vtu"
    assert main(["compress", str(DESIGN_A), "--load", "500", "--no-buckling", "--mesh-size", "0.02",
                 "--vtu", str(vtu), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["load_n"] == 500.0 and vtu.exists()
    assert main(["compress", str(DESIGN_A), "--no-buckling", "--mesh-size", "0.02"]) == 0
    assert "stack 3 m" in capsys.readouterr().out


@pytest.mark.parametrize("args", [["--load", "-5"], ["--load", "5", "--stack-height", "3"],
                                  ["--mesh-size", "zero"]])
def test_cli_compress_rejects_bad_arguments_with_status_2(args, capsys):
    with pytest.raises(SystemExit) as info:
        main(["compress", str(DESIGN_A), *args])
    assert info.value.code == 2


def test_cli_reports_an_unwritable_output_path_without_traceback(capsys):
    code = main(["compress", str(DESIGN_A), "--load", "500", "--no-buckling", "--mesh-size", "0.03",
                 "--vtu", "/nonexistent-folder/out.vtu"])
    assert code == 2
    assert "nonexistent-folder" in capsys.readouterr().err
