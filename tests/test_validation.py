"""Broken design files: every problem is named in one error; the CLI exits 2 without a traceback."""

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from packsim import Design, DesignError, load_design
from packsim.cli import main
from packsim.errors import Problem
from packsim.fem.mesh import MAX_DOFS, MeshSizeError, package_mesh

from helpers import block_design_dict

DATA = Path(__file__).parent / "data"

FIELD_MISTAKES = [
    ("nmae", "unknown field (did you mean 'name'?)"),
    ("name", "required field is missing"),
    ("product.cell", "unknown cell (did you mean '21700'?)"),
    ("product.rows", "expected a valid integer"),
    ("product.spacing_m", "expected a length >= 0 m"),
    ("product.orientation", "'upright' or 'flat'"),
    ("insert.material", "unknown material (did you mean "),
    ("insert.bottom_thickness_m", 'write "25 mm"'),
    ("insert.top_thickness_m", "'30 mm'"),
    ("insert.side_thicknes_m", "did you mean 'side_thickness_m'?"),
    ("insert.side_thickness_m", "required field is missing"),
    ("dividers.material", "is a foam material; expected a board or solid material"),
    ("container.board", "is a solid material; expected a board material"),
]


def _problems(path: Path) -> dict[str, str]:
    with pytest.raises(DesignError) as info:
        load_design(path)
    err = info.value
    assert isinstance(err, ValueError)
    assert all(p.file == str(path) for p in err.problems)
    return {p.field: str(p) for p in err.problems}


def test_every_field_mistake_is_named_in_one_error():
    path = DATA / "broken-fields.toml"
    problems = _problems(path)
    for field, expected in FIELD_MISTAKES:
        assert field in problems, f"{field} not reported; got {sorted(problems)}"
        assert expected in problems[field]
    assert len(problems) == len(FIELD_MISTAKES)


def test_cross_section_mistakes_are_reported_with_field_mistakes():
    problems = _problems(DATA / "broken-fit.toml")
    assert set(problems) == {
        "description", "product.layer_gap_m", "product.spacing_m", "container.inner_length_m"
    }
    assert "do not fit" in problems["container.inner_length_m"]
    assert "expected >= 0.1493 m" in problems["container.inner_length_m"]
    assert "did you mean" in _problems(DATA / "broken-fields.toml")["insert.material"]
    assert "'eps-24'" in _problems(DATA / "broken-fields.toml")["insert.material"]
    assert "foam separates" in problems["product.spacing_m"]


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"product.custom_cell": {"format": "cylindrical", "height_m": 0.07}}, "product.custom_cell.mass_kg",
         "missing"),
        ({"product.layers": 1, "dividers": {"material": "board-b-32ect", "thickness_m": 0.003}},
         "dividers", "between layers"),
        ({"product.layers": 2, "product.layer_gap_m": 0.002,
          "dividers": {"material": "board-b-32ect", "thickness_m": 0.003}},
         "product.layer_gap_m", "dividers lie in the layer gap"),
        ({"container": {"type": "crate"}}, "container.type", "'rsc', 'rigid'"),
        ({"container": {"board": "board-c-32ect"}}, "container.type", "required"),
        ({"product.rows": 0}, "product.rows", "greater than or equal to 1"),
        ({"product.rows": 2.5}, "product.rows", "integer"),
        ({"insert.clearance_m": True}, "insert.clearance_m", "number"),
        ({"insert.bearing_fraction": 1.5}, "insert.bearing_fraction", "[0.1, 1]"),
        ({"insert.groove_depth_ratio": 1.0}, "insert.groove_depth_ratio", "[0.1, 0.9]"),
        ({"insert.ribs": 1}, "insert.ribs", "greater than or equal to 2"),
        # A 92 mm wide insert cut into 12 ribs at 95 % bearing leaves 0.4 mm grooves.
        ({"insert.bearing_fraction": 0.95, "insert.ribs": 12}, "insert.ribs", "grooves 0.4 mm"),
    ],
)
def test_each_kind_of_mistake_names_field_and_expectation(change, field, words):
    with pytest.raises(DesignError) as info:
        Design.from_dict(block_design_dict(**change))
    fields = {p.field: str(p) for p in info.value.problems}
    assert field in fields, fields
    assert words in fields[field]


def test_a_cell_source_is_required_exactly_once():
    data = block_design_dict(**{"product.cell": "21700"})
    with pytest.raises(DesignError, match="exactly one of product.cell"):
        Design.from_dict(data)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "packsim", *args], capture_output=True, text=True)


@pytest.mark.parametrize("name", ["broken-fields.toml", "broken-fit.toml", "does-not-exist.toml"])
def test_cli_prints_problems_without_traceback_and_exits_2(name):
    path = DATA / name
    result = _cli("info", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert str(path) in result.stderr
    assert result.stdout == ""


def test_cli_reports_toml_syntax_errors_with_the_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('name = "x"\n[product\nrows = 1\n')
    result = _cli("info", str(path))
    assert result.returncode == 2
    assert "line 2" in result.stderr and "Traceback" not in result.stderr


def test_input_errors_survive_the_trip_back_from_a_worker_process():
    # FE checks run in worker processes: an input error there must reach the user as itself.
    error = DesignError([Problem("insert.material", "unobtainium", "a material id", "a.toml"),
                         Problem("product.rows", 0, "an integer >= 1", "a.toml")])
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is DesignError and again.problems == error.problems
    assert str(again) == str(error)


def test_an_element_size_that_would_fill_the_memory_is_refused_before_meshing(capsys):
    design = Design.from_dict(block_design_dict())
    with pytest.raises(MeshSizeError) as err:
        package_mesh(design, 1e-4)
    (problem,) = err.value.problems
    assert problem.field == "mesh_size_m" and f"{MAX_DOFS:,}" in problem.expected
    suggested = float(problem.expected.split("try ")[1].split(" mm")[0]) * 1e-3
    assert package_mesh(design, suggested).dofs <= MAX_DOFS
    path = Path(__file__).parents[1] / "geometries" / "a-21700-eps-rsc.toml"
    assert main(["drop", str(path), "--mesh-size", "0.0002"]) == 2
    assert "mesh_size_m" in capsys.readouterr().err
