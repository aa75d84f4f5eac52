"""Reuse: wear per trip (cited, monotone), repairs, and the remaining-life forecast (bisection
equals a brute-force loop; generous margins live longer)."""

import math

import pytest
from conftest import REFERENCE_DESIGNS
from helpers import drop_standard_toml, well_cushioned

import packsim
from packsim import cushion, reuse
from packsim.foam import FoamLaw
from packsim.materials import library
from packsim.stacking import G_N

WET = reuse.Trip(max_rh_pct=90.0)
DRY = reuse.Trip()


def _returnable(**overrides):
    # The well-cushioned package in a corrugated box that comes back.
    return well_cushioned(**{"container.returnable": True, **overrides})


def _bottoming_spec(tmp_path):
    # A user's specification: the bottom pad must not bottom out in a 1.2 m flat drop.
    path = tmp_path / "spec.toml"
    path.write_text(drop_standard_toml("spec", "1.2", ["bottom"], criteria=("no-bottoming",)))
    return str(path)


def test_every_material_family_has_cited_wear_data():
    data = reuse.wear_data()
    assert {m.family for m in library().values()} <= set(data)
    for wear in data.values():
        assert wear.provenance and all(c.citation for _, c in wear.provenance)


def test_more_trips_never_strengthen_a_part(reference_path):
    design = packsim.load_design(reference_path)
    trip = reuse.Trip((0.81, 0.5, 1.0), max_rh_pct=85.0)
    previous = None
    for n in range(0, 12, 3):
        worn = reuse.degrade(design, [trip] * n)
        assert worn.trips == n
        if previous is not None:
            for before, after in zip(previous.parts, worn.parts):
                assert after.strength_factor <= before.strength_factor
                assert after.modulus_factor <= before.modulus_factor
                assert after.set_strain >= before.set_strain
                m0, m1 = before.material(), after.material()
                assert m1.youngs_modulus_pa <= m0.youngs_modulus_pa
                if m1.kind == "foam":
                    assert m1.plateau_stress_pa <= m0.plateau_stress_pa
                    assert m1.densification_strain <= m0.densification_strain
        previous = worn
    assert any(p.strength_factor < 1 or p.set_strain > 0 for p in previous.parts)


def test_humid_air_weakens_board_and_not_plastic():
    box = well_cushioned()
    wet, dry = reuse.degrade(box, [WET]), reuse.degrade(box, [DRY])
    # FBA: 48 % of the strength at 90 % RH; half of the loss stays (data/degradation.toml).
    wear = reuse.wear_data()["corrugated"]
    expected = wear.strength_per_trip * (1 - wear.humidity_share * (1 - 0.48))
    assert wet.part("container").strength_factor == pytest.approx(expected)
    assert dry.part("container").strength_factor == pytest.approx(wear.strength_per_trip)
    crate = well_cushioned(container={"type": "rigid", "material": "pp", "wall_thickness_m": 0.004})
    assert (reuse.degrade(crate, [WET]).part("container").strength_factor
            == reuse.degrade(crate, [DRY]).part("container").strength_factor)


def test_eps_keeps_the_crush_of_a_drop_as_its_foam_law_leaves_it():
    design = well_cushioned(**{"insert.material": "eps-24"})
    law = FoamLaw.of("eps-24")
    t, area, mass = cushion.design_pads(design)[3]
    low = cushion.drop(law, mass * G_N / area, t, 0.02)
    assert low.max_strain < law.yield_strain  # stays elastic: springs back fully
    assert reuse.degrade(design, [reuse.Trip((0.02,))]).part("insert").set_strain == 0.0
    high = cushion.drop(law, mass * G_N / area, t, 1.0)
    assert high.max_strain > 1.5 * law.yield_strain
    # Crushed on the plateau and unloaded along the elastic modulus.
    residual = high.max_strain - law.plateau_stress_pa / law.youngs_modulus_pa
    state = reuse.degrade(design, [reuse.Trip((1.0, 1.0))]).part("insert")
    assert state.set_strain == pytest.approx(2 * residual, rel=1e-6)


def test_a_repair_renews_the_part_and_the_worn_design_checks_like_any_design():
    design = well_cushioned()
    trips = [reuse.Trip((0.81,) * 10)] * 4
    worn = reuse.degrade(design, trips)
    insert = worn.part("insert")
    assert insert.set_strain == pytest.approx(40 * reuse.wear_data()["EPP"].set_per_impact)
    assert worn.design.insert.material.startswith("epp-30~worn-")
    material = library()[worn.design.insert.material]
    assert "worn" in material.source("plateau_stress_pa").note
    assert worn.design.packaging_mass_kg == pytest.approx(design.packaging_mass_kg)
    report = packsim.check(worn.design, ("un-6.1.5-pg2",))
    assert not report.passed  # 8 % of the stroke is gone: the 12 % margin on bottoming is not
    repaired = reuse.degrade(design, [*trips, reuse.Repair("insert")])
    assert repaired.part("insert").is_new and repaired.design.insert.material == "epp-30"
    assert not repaired.part("container").is_new


def test_bad_trips_and_repairs_are_refused():
    with pytest.raises(ValueError, match="drop heights"):
        reuse.Trip((-0.5,))
    with pytest.raises(ValueError, match="max_rh_pct"):
        reuse.Trip(max_rh_pct=120)
    with pytest.raises(ValueError, match="part must be"):
        reuse.Repair("lid")
    with pytest.raises(ValueError, match="drops_per_trip"):
        reuse.TripProfile(-1, 0.8)


def test_the_forecast_equals_a_brute_force_loop_with_fewer_checks(tmp_path):
    spec = _bottoming_spec(tmp_path)
    design = _returnable()
    profile = reuse.TripProfile(drops_per_trip=3, drop_height_m=0.8)
    result = reuse.forecast(design, spec, profile)
    trips = 0
    while packsim.check(reuse.degrade(design, [profile.trip()] * (trips + 1)).design, spec).passed:
        trips += 1
    assert result.trips == trips > 3
    assert not result.censored
    assert result.failing_row.criterion == "no-bottoming"
    assert result.checks < trips + 1
    assert result.mass_per_trip_kg == pytest.approx(design.packaging_mass_kg / trips)


def test_generous_margins_live_longer_than_lean_ones(tmp_path):
    spec = _bottoming_spec(tmp_path)
    profile = reuse.TripProfile(drops_per_trip=3, drop_height_m=0.8)
    lives = {t: reuse.forecast(_returnable(**{"insert.bottom_thickness_m": t}), spec,
                               profile).trips for t in (0.05, 0.06, 0.08)}
    assert 0 < lives[0.05] < lives[0.06] < lives[0.08]


def test_a_long_life_is_censored_at_the_horizon_and_compared_with_a_single_use_baseline(tmp_path):
    spec = _bottoming_spec(tmp_path)
    calm = reuse.TripProfile(drops_per_trip=0, drop_height_m=0.0)
    crate = well_cushioned(container={"type": "rigid", "material": "pp", "wall_thickness_m": 0.004})
    box = well_cushioned()
    result = reuse.forecast(crate, spec, calm, baseline=box, horizon=50)
    assert result.censored and result.trips == 50 and result.failing_row is None
    assert result.co2e_per_trip_kg == pytest.approx(crate.co2e_kg / 50)
    assert result.break_even_trips == math.ceil(crate.co2e_kg / box.co2e_kg)
    assert result.pays_off
    assert result.to_dict()["baseline"] == box.name
    # The corrugated box is single use: one trip, however long it could last.
    once = reuse.forecast(box, spec, calm, horizon=50)
    assert not box.returnable and once.trips == 1 and once.failing_row is None
    assert once.co2e_per_trip_kg == pytest.approx(box.co2e_kg)


def test_a_design_that_fails_when_new_lives_no_trip():
    design = packsim.load_design(REFERENCE_DESIGNS[0])
    result = reuse.forecast(design)
    assert result.trips == 0 and result.checks == 1
    assert result.failing_row.status == "fail"
