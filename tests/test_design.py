"""The design model: round trips, variants, immutability."""

import dataclasses

import pydantic
import pytest

import packsim
from packsim import Design, DesignError, load_design

from helpers import block_design_dict


def test_public_names_are_importable_from_the_package():
    assert packsim.load_design is load_design
    assert packsim.Design is Design
    assert issubclass(packsim.DesignError, ValueError)


def test_toml_round_trip_is_exact(reference_path, tmp_path):
    design = load_design(reference_path)
    path = design.save(tmp_path / "copy.toml")
    again = load_design(path)
    assert again == design
    assert hash(again) == hash(design)
    assert again.to_toml() == design.to_toml()
    assert Design.from_dict(design.to_dict()) == design


def test_a_plain_insert_file_lists_no_ribs_but_keeps_what_was_set_and_reads_back_equal():
    plain = Design.from_dict(block_design_dict())
    assert not {"bearing_fraction", "ribs", "groove_depth_ratio"} & set(plain.to_dict()["insert"])
    assert "ribs" not in plain.to_toml()
    set_on_purpose = plain.replace({"insert.ribs": 5})
    assert set_on_purpose.to_dict()["insert"]["ribs"] == 5
    relieved = plain.replace({"insert.bearing_fraction": 0.4})
    assert {"bearing_fraction": 0.4, "ribs": 3, "groove_depth_ratio": 0.75}.items() <= (
        relieved.to_dict()["insert"].items())
    for design in (plain, set_on_purpose, relieved):
        assert Design.from_dict(design.to_dict()) == design


def test_engineering_units_in_files_become_the_same_si_values(tmp_path):
    si = Design.from_dict(block_design_dict())
    data = block_design_dict(**{"insert.bottom_thickness_m": "30 mm", "product.spacing_m": "1 cm"})
    assert Design.from_dict(data) == si


def test_designs_pickle_small_and_equal_after_their_geometry_is_built():
    import pickle

    d = Design.from_dict(block_design_dict())
    fresh = len(pickle.dumps(d))
    assert d.packaging_mass_kg > 0
    copy = pickle.loads(pickle.dumps(d))
    assert copy == d and len(pickle.dumps(d)) == fresh
    assert copy.packaging_mass_kg == d.packaging_mass_kg


def test_designs_are_frozen_and_hashable():
    d = Design.from_dict(block_design_dict())
    with pytest.raises(pydantic.ValidationError):
        d.name = "other"
    with pytest.raises(pydantic.ValidationError):
        d.insert.bottom_thickness_m = 0.1
    assert len({d, Design.from_dict(block_design_dict())}) == 1


def test_replace_with_dotted_paths_makes_a_validated_variant():
    d = Design.from_dict(block_design_dict())
    thinner = d.replace({"insert.bottom_thickness_m": 0.02})
    assert thinner.insert.bottom_thickness_m == 0.02
    assert d.insert.bottom_thickness_m == 0.03  # the original is untouched
    assert thinner.insert_dims_m[2] == pytest.approx(d.insert_dims_m[2] - 0.01)
    assert thinner.packaging_mass_kg < d.packaging_mass_kg
    assert d.replace(**{"insert.bottom_thickness_m": 0.02}) == thinner
    assert d.replace(name="renamed").name == "renamed"
    assert d.replace({"insert.bottom_thickness_m": 0.03}) == d


def test_replace_can_swap_and_remove_tables():
    d = Design.from_dict(block_design_dict())
    rsc = d.replace({"container": {"type": "rsc", "board": "board-c-32ect"}})
    assert rsc.container.type == "rsc"
    layered = d.replace({"product.layers": 2, "product.layer_gap_m": 0.01,
                         "dividers": {"material": "board-b-32ect", "thickness_m": 0.003}})
    assert layered.dividers is not None
    assert layered.replace({"dividers": None}).dividers is None


def test_replace_rejects_unknown_paths_and_invalid_values_with_design_errors():
    d = Design.from_dict(block_design_dict())
    with pytest.raises(DesignError, match=r"insert\.bottom_thicknes_m.*did you mean 'bottom_thickness_m'"):
        d.replace({"insert.bottom_thicknes_m": 0.02})
    with pytest.raises(DesignError, match=r"'nosuch' is not a table"):
        d.replace({"nosuch.field": 1})
    with pytest.raises(DesignError, match=r"no 'dividers' table; give the whole table"):
        d.replace({"dividers.thickness_m": 0.003})
    with pytest.raises(DesignError, match=r"insert\.bottom_thickness_m = -0\.01"):
        d.replace({"insert.bottom_thickness_m": -0.01})


def test_custom_cell_data_flow_into_masses_and_energy():
    d = Design.from_dict(block_design_dict())
    assert d.cell.id == "custom" and d.cell.energy_wh == 32.0
    assert d.cells_mass_kg == pytest.approx(1.5)
    catalogue_cell = d.replace({"product.custom_cell": None, "product.cell": "21700"})
    cell = packsim.get_cell("21700")
    assert catalogue_cell.total_wh == pytest.approx(6 * cell.energy_wh)
    assert dataclasses.is_dataclass(cell)


def test_explicit_container_dimensions_larger_than_the_insert_are_kept():
    d = Design.from_dict(block_design_dict())
    x, y, z = d.insert_dims_m
    roomy = d.replace({"container.inner_length_m": x + 0.02})
    assert roomy.inner_dims_m == pytest.approx((x + 0.02, y, z))
    # The insert is centred, so the centre of mass stays on the centre line.
    assert roomy.center_of_mass_m[0] == pytest.approx(roomy.outer_dims_m[0] / 2)
