"""Material and cell data: every value cited, entries complete and physically consistent."""

import math

import pytest

import packsim
from packsim import DataError, load_cells, load_materials
from packsim._cited import CONFIDENCE_LEVELS

MATERIAL_IDS = {
    "board-b-32ect", "board-c-32ect", "board-c-44ect", "board-bc-48ect", "board-bc-61ect",
    "eps-16", "eps-24", "eps-32", "epp-30", "epp-60", "pe-33", "pu-30", "molded-pulp", "pp", "hdpe",
}
CELL_IDS = {"18650", "21700", "4680", "lfp-prismatic-280ah", "pouch-lfp-20ah"}
LBF_PER_IN = 4.4482216152605 / 0.0254  # N/m


def _records():
    yield from packsim.library().values()
    yield from packsim.catalogue().values()


def test_the_library_has_the_required_entries():
    assert MATERIAL_IDS <= set(packsim.library())
    assert CELL_IDS <= set(packsim.catalogue())
    assert {c.format for c in packsim.catalogue().values()} == {"cylindrical", "prismatic", "pouch"}


@pytest.mark.parametrize("record", list(_records()), ids=lambda r: r.id)
def test_every_value_names_a_source_and_a_confidence(record):
    cited = dict(record.provenance)
    for name, value in record.to_dict().items():
        if name in ("id", "name", "kind", "family", "wall", "flute", "format", "chemistry", "sources"):
            continue
        assert name in cited, f"{record.id}.{name} has no source"
        assert cited[name].citation.strip(), f"{record.id}.{name} cites an empty reference"
        assert cited[name].confidence in CONFIDENCE_LEVELS
        assert cited[name].value == value


def test_a_value_without_a_source_is_refused(tmp_path):
    path = tmp_path / "materials.toml"
    path.write_text(
        '[references.r]\ncitation = "x"\n'
        '[material.m]\nname = "m"\nkind = "solid"\nfamily = "PP"\n'
        'density_kg_m3 = { value = 900.0, confidence = "MED" }\n'
        'co2e_kg_per_kg = { value = 1.0, source = "nowhere", confidence = "MED" }\n'
        'recyclability = { value = "yes", source = "r", confidence = "sure" }\n'
    )
    with pytest.raises(DataError) as info:
        load_materials(path)
    fields = {p.field for p in info.value.problems}
    assert fields == {"material.m.density_kg_m3", "material.m.co2e_kg_per_kg",
                      "material.m.recyclability"}


def test_a_foam_gas_term_needs_a_solid_density_that_leaves_room_for_the_gas(tmp_path):
    foam = (
        '[references.r]\ncitation = "x"\n'
        '[material.m]\nname = "m"\nkind = "foam"\nfamily = "PE"\n'
        + "".join(f'{name} = {{ value = {value}, source = "r", confidence = "MED" }}\n' for name, value in (
            ("density_kg_m3", 33.0), ("youngs_modulus_pa", 1e6), ("poisson_ratio", 0.3),
            ("plateau_stress_pa", 5e3), ("densification_strain", 0.65), ("lockup_strain", 0.95),
            ("resilient", "true"), ("co2e_kg_per_kg", 2.0), ("recyclability", '"no"'),
            ("gas_pressure_pa", 101325.0)))
    )
    path = tmp_path / "materials.toml"
    path.write_text(foam)
    with pytest.raises(DataError, match="material.m.solid_density_kg_m3 = None: required with gas"):
        load_materials(path)
    path.write_text(foam + 'solid_density_kg_m3 = { value = 500.0, source = "r", confidence = "LOW" }\n')
    with pytest.raises(DataError, match="expected above density / \\(1 - lockup_strain\\) = 660"):
        load_materials(path)
    path.write_text(foam + 'solid_density_kg_m3 = { value = 920.0, source = "r", confidence = "LOW" }\n')
    law = packsim.FoamLaw.of(load_materials(path)["m"])
    assert law.relative_density == pytest.approx(33 / 920)


def test_a_cell_missing_a_required_value_is_refused(tmp_path):
    path = tmp_path / "cells.toml"
    path.write_text(
        '[references.r]\ncitation = "x"\n'
        '[cell.c]\nformat = "cylindrical"\n'
        'diameter_m = { value = 0.018, source = "r", confidence = "HIGH" }\n'
    )
    with pytest.raises(DataError, match="cell.c.height_m"):
        load_cells(path)


@pytest.mark.parametrize("material", [m for m in packsim.library().values() if m.kind == "board"],
                         ids=lambda m: m.id)
def test_board_data_are_consistent(material):
    # Bulk density is grammage over caliper; ECT grades are whole lbf/in.
    assert material.density_kg_m3 == pytest.approx(material.grammage_kg_m2 / material.caliper_m, rel=0.01)
    ect_grade = material.ect_n_per_m / LBF_PER_IN
    assert ect_grade == pytest.approx(round(ect_grade), abs=0.01)
    assert f"-{round(ect_grade)}ect" in material.id
    assert (material.wall == "double") == (material.flute == "BC")


@pytest.mark.parametrize("material", [m for m in packsim.library().values() if m.kind == "foam"],
                         ids=lambda m: m.id)
def test_foam_data_describe_a_crushable_foam(material):
    assert 5 < material.density_kg_m3 < 300
    # The plateau begins after the elastic range: yield strain well below densification.
    assert material.plateau_stress_pa / material.youngs_modulus_pa < 0.2
    assert 0.3 < material.densification_strain < 1.0
    assert 0 <= material.poisson_ratio < 0.5


@pytest.mark.parametrize("cell", list(packsim.catalogue().values()), ids=lambda c: c.id)
def test_cell_energy_is_voltage_times_capacity_and_density_is_plausible(cell):
    assert cell.energy_wh == pytest.approx(cell.nominal_voltage_v * cell.capacity_ah, rel=0.02)
    ex, ey, ez = cell.envelope_m()
    volume = math.pi / 4 * ex * ex * ez if cell.format == "cylindrical" else ex * ey * ez
    # Lithium-ion cells weigh 1.5-3.5 kg per litre.
    assert 1500 < cell.mass_kg / volume < 3500
    # UN 38.3 T.4: 150 g for cells up to 500 g, 50 g above.
    assert cell.fragility_g == (150.0 if cell.mass_kg <= 0.5 else 50.0)


@pytest.mark.parametrize("name", ["materials.toml", "cells.toml", "fefco.toml"])
def test_every_reference_is_cited_by_some_value(name):
    import tomllib
    from importlib import resources

    raw = tomllib.loads((resources.files("packsim") / "data" / name).read_text())
    cited = set()

    def walk(node):
        if isinstance(node, dict):
            if "source" in node and "value" in node:
                cited.add(node["source"])
            for key, child in node.items():
                if key != "references":
                    walk(child)

    walk(raw)
    assert set(raw["references"]) == cited
