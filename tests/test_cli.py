"""`packsim info`: the table and the JSON object."""

import json
import math

import pytest

from packsim import load_design
from packsim.cli import main


def test_info_json_has_the_documented_keys_and_values(reference_path, capsys):
    assert main(["info", str(reference_path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    design = load_design(reference_path)
    assert info["packaging_mass_kg"] == pytest.approx(design.packaging_mass_kg)
    assert info["gross_mass_kg"] == pytest.approx(design.gross_mass_kg)
    assert len(info["outer_dims_m"]) == 3
    assert info["n_cells"] == design.n_cells
    assert info["total_wh"] == pytest.approx(design.total_wh)
    # Parts: name -> material and mass; the part masses add up to the gross mass.
    assert all({"material", "mass_kg"} <= set(p) for p in info["parts"].values())
    assert math.fsum(p["mass_kg"] for p in info["parts"].values()) == pytest.approx(info["gross_mass_kg"])


def test_info_table_is_readable(reference_path, capsys):
    assert main(["info", str(reference_path)]) == 0
    out = capsys.readouterr().out
    design = load_design(reference_path)
    assert design.name in out
    assert f"{design.packaging_mass_kg:.3f} kg" in out
    assert f"{design.gross_mass_kg:.3f} kg" in out
    assert "container" in out and "cells" in out


def test_info_names_a_relieved_insert_s_ribs(reference_path, tmp_path, capsys):
    design = load_design(reference_path).replace({"insert.bearing_fraction": 0.4, "insert.ribs": 6})
    path = tmp_path / "relieved.toml"
    design.save(path)
    assert main(["info", str(path)]) == 0
    assert "6 ribs per face bearing 40% of it, grooves 75% of the pad deep" in capsys.readouterr().out
    assert main(["info", str(path), "--json"]) == 0
    relief = json.loads(capsys.readouterr().out)["insert_relief"]
    assert relief == {"ribs": 6, "bearing_fraction": 0.4, "groove_depth_ratio": 0.75}
    assert main(["info", str(reference_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["insert_relief"] is None


@pytest.mark.parametrize("command", ["materials", "cells"])
def test_catalogue_listings_name_every_entry_and_json_carries_sources(command, capsys):
    import packsim

    records = packsim.library() if command == "materials" else packsim.catalogue()
    assert main([command]) == 0
    table = capsys.readouterr().out
    assert all(rid in table for rid in records)
    assert main([command, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == set(records)
    for entry in data.values():
        assert all(s["citation"] and s["confidence"] for s in entry["sources"].values())
