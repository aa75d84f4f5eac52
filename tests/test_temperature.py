"""Material properties at a test temperature (UN drops of plastics packagings at -18 C)."""

import math

import pytest
from helpers import block_design_dict, drop_standard_toml

import packsim
from packsim import cushion
from packsim._cited import DataError
from packsim.materials import get_material
from packsim.temperature import (REFERENCE_C, _load, conditioning, material_at,
                                 temperature_data)


def test_factors_run_linearly_from_23c_to_the_data_and_are_held_beyond():
    pp = get_material("pp")
    (point,) = temperature_data()["PP"]
    factor = float(point.modulus_factor.value)
    assert conditioning(pp, REFERENCE_C).modulus_factor == 1.0
    assert conditioning(pp, point.temperature_c).modulus_factor == pytest.approx(factor)
    middle = (REFERENCE_C + point.temperature_c) / 2
    assert conditioning(pp, middle).modulus_factor == pytest.approx((1 + factor) / 2)
    colder = conditioning(pp, point.temperature_c - 20)
    assert colder.modulus_factor == pytest.approx(factor)
    assert colder.provisional and "held" in colder.basis


@pytest.mark.parametrize("family", ["PP", "HDPE", "EPP", "EPS", "PE"])
def test_polymers_are_never_softer_or_weaker_when_colder(family):
    material = next(m for m in packsim.library().values() if m.family == family)
    temperatures = [23, 10, 0, -10, -18, -30]
    for warm, cold in zip(temperatures, temperatures[1:]):
        a, b = conditioning(material, warm), conditioning(material, cold)
        assert b.modulus_factor >= a.modulus_factor and b.strength_factor >= a.strength_factor


def test_scaled_values_name_their_factor_and_source():
    epp = get_material("epp-30")
    cold = material_at(epp, -18.0)
    c = conditioning(epp, -18.0)
    assert cold.youngs_modulus_pa == pytest.approx(epp.youngs_modulus_pa * c.modulus_factor)
    assert cold.plateau_stress_pa == pytest.approx(epp.plateau_stress_pa * c.strength_factor)
    assert cold.density_kg_m3 == epp.density_kg_m3
    assert "at -18 C" in cold.source("plateau_stress_pa").note
    assert material_at(epp, None) is epp


def test_a_cold_or_worn_gas_filled_foam_scales_its_whole_curve_past_yield():
    # The factors are measured on the stress the foam gives: for PE most of it is the cell gas.
    from packsim import reuse

    pe = get_material("pe-33")
    cold = material_at(pe, -18.0)
    factor = conditioning(pe, -18.0).strength_factor
    assert factor != 1.0
    for name in ("plateau_stress_pa", "gas_pressure_pa"):
        assert getattr(cold, name) == pytest.approx(getattr(pe, name) * factor)
        assert "at -18 C" in cold.source(name).note
    part = reuse.PartState("insert", "pe-33", strength_factor=0.8, modulus_factor=0.9)
    worn = part.material()
    assert worn.gas_pressure_pa == pytest.approx(0.8 * pe.gas_pressure_pa)
    assert worn.plateau_stress_pa == pytest.approx(0.8 * pe.plateau_stress_pa)


def test_a_family_without_data_keeps_its_values_and_is_flagged():
    pu = get_material("pu-30")
    c = conditioning(pu, -18.0)
    assert (c.modulus_factor, c.strength_factor, c.provisional) == (1.0, 1.0, True)
    assert "no data" in c.basis
    assert material_at(pu, -18.0) is pu


def test_a_bad_temperature_file_reports_every_problem(tmp_path):
    path = tmp_path / "temperature.toml"
    path.write_text('''
[temperature.a]
family = "PPP"
temperature_c = -18
modulus_factor = { value = 1.2, source = "s", confidence = "LOW" }
strength_factor = { value = 1.2, source = "s", confidence = "LOW" }

[temperature.b]
family = "PP"
temperature_c = "cold"
modulus_factor = { value = 1.2, source = "s", confidence = "LOW" }

[temperature.c]
family = "PP"
temperature_c = -30
modulus_factor = { value = -1.0, source = "s", confidence = "LOW" }
strength_factor = { value = 1.2, source = "s", confidence = "LOW" }

[references.s]
citation = "a source"
''')
    with pytest.raises(DataError) as err:
        _load(path)
    text = str(err.value)
    for where in ("temperature.a.family", "temperature.b", "temperature.c.modulus_factor"):
        assert where in text
    assert str(path) in text


def test_a_pad_below_yield_at_minus_18c_follows_the_spring_mass_drop_with_the_cold_modulus():
    # Below yield the pad is a spring of static deflection d = sigma t / E:
    # peak g = 1 + sqrt(1 + 2 h / d) (free fall from h onto a linear spring, with gravity).
    epp = get_material("epp-30")
    stress, thickness, height = 2000.0, 0.05, 0.002
    for material in (epp, material_at(epp, -18.0)):
        deflection = stress * thickness / material.youngs_modulus_pa
        expected = 1 + math.sqrt(1 + 2 * height / deflection)
        assert stress * expected < material.plateau_stress_pa  # still elastic
        assert cushion.peak_g(material, stress, thickness, height) == pytest.approx(expected, rel=1e-3)


def test_an_fe_drop_at_minus_18c_uses_the_cold_properties():
    design = packsim.Design.from_dict(block_design_dict(**{"insert.material": "epp-30"}))
    warm = packsim.simulate_drop(design, 0.3, mesh_size_m=0.03)
    cold = packsim.simulate_drop(design, 0.3, mesh_size_m=0.03, temperature_c=-18.0)
    assert cold.inputs["temperature_c"] == -18.0
    assert any(b.startswith("epp-30: modulus x1.42") for b in cold.inputs["materials_at_temperature"])
    # A stiffer, stronger cushion stops the cells harder and crushes less.
    assert cold.max_peak_g > 1.05 * warm.max_peak_g
    assert cold.max_foam_strain.value < warm.max_foam_strain.value


def test_a_cold_drop_row_uses_cold_properties_and_says_so(tmp_path):
    design = packsim.Design.from_dict(block_design_dict(**{"insert.material": "epp-30"}))
    rows = {}
    for name, temperature in (("warm", None), ("cold", -18.0)):
        spec = tmp_path / f"{name}.toml"
        spec.write_text(drop_standard_toml(name, "0.8", ["bottom"], temperature_c=temperature))
        report = packsim.check(design, (str(spec),))
        (rows[name],) = [r for r in report.rows if r.criterion == "cell-peak-g"]
    warm, cold = rows["warm"], rows["cold"]
    assert "at -18 C" in cold.condition and "epp-30: modulus x1.42" in cold.detail
    assert cold.provisional  # the cold factors are LOW / UNCONFIRMED
    assert "-18" not in warm.condition + warm.detail
    assert cold.value != pytest.approx(warm.value, rel=1e-3)
