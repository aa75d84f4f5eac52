"""The foam law and the one-degree-of-freedom cushion model against closed forms and physics."""

import dataclasses
import math

import numpy as np
import pytest
from scipy.integrate import quad

from packsim import cushion, get_material
from packsim.foam import FoamLaw
from packsim.stacking import G_N

FOAMS = ["eps-16", "eps-24", "eps-32", "epp-30", "epp-60", "pe-33", "molded-pulp"]


def _linear_drop(e=1e6, t=0.05, area=0.01, mass=2.0, h=0.5):
    k = e * area / t
    w = math.sqrt(k / mass)
    v0 = math.sqrt(2 * G_N * h)
    static = mass * G_N / k
    amplitude = math.hypot(static, v0 / w)
    return cushion.drop(FoamLaw.linear(e), mass * G_N / area, t, h), k, w, v0, static, amplitude


def test_mass_on_a_linear_pad_matches_the_spring_mass_solution():
    r, k, w, v0, static, amplitude = _linear_drop()
    # With gravity: oscillation of amplitude X about the static deflection.
    assert r.peak_g == pytest.approx(1 + amplitude * w**2 / G_N, rel=1e-9)
    contact = (math.pi + 2 * math.asin(static / amplitude)) / w
    assert r.pulse_ms == pytest.approx(contact * 1e3, rel=1e-6)
    # The textbook forms that neglect gravity are within 3 % for a hard impact.
    assert r.peak_g == pytest.approx(v0 * w / G_N, rel=0.03)
    assert r.pulse_ms == pytest.approx(math.pi / w * 1e3, rel=0.03)


def test_without_dissipation_the_mass_rebounds_with_its_impact_speed():
    r, *_ = _linear_drop()
    assert r.rebound_velocity_m_s == pytest.approx(r.impact_velocity_m_s, rel=1e-9)
    assert r.dissipated_fraction == pytest.approx(0.0, abs=1e-9)
    foam = cushion.drop("epp-30", 3000, 0.05, 1.2, dissipative=False)
    assert foam.rebound_velocity_m_s == pytest.approx(foam.impact_velocity_m_s, rel=1e-6)


@pytest.mark.parametrize("name", FOAMS)
def test_loading_energy_is_the_integral_of_the_loading_stress(name):
    law = FoamLaw.of(name)
    for eps in (0.5 * law.yield_strain, 0.3, law.densification_strain + 0.1, 0.99 * law.lockup_strain):
        exact, _ = quad(lambda e: float(law.loading_stress(e)), 0, eps, limit=400,
                        points=[law.yield_strain, law.densification_strain])
        assert float(law.loading_energy(eps)) == pytest.approx(exact, rel=1e-7)


def test_the_cell_gas_makes_pe_foam_follow_its_data_sheet_curve():
    # Zotefoams Plastazote LD33 data sheet (EN ISO 3386-1, as reproduced in
    # shared/reference/foam-compression.json): compression stress at 25 / 40 / 50 / 60 % strain.
    strain = np.array([0.25, 0.40, 0.50, 0.60])
    sheet_pa = np.array([40e3, 75e3, 115e3, 175e3])
    law = FoamLaw.of("pe-33")
    assert np.abs(law.loading_stress(strain) - sheet_pa).max() < 3e3
    # Without the gas the plateau is flat at the wall-collapse stress, far under the sheet.
    flat = dataclasses.replace(law, gas_pressure_pa=0.0)
    assert np.all(flat.loading_stress(strain) == law.plateau_stress_pa)
    # Gibson and Ashby's gas term, p0 eps / (1 - eps - R), counted from the yield strain.
    ey, r = law.yield_strain, law.relative_density
    gas = law.gas_pressure_pa * (strain / (1 - strain - r) - ey / (1 - ey - r))
    assert law.loading_stress(strain) == pytest.approx(law.plateau_stress_pa + gas, rel=1e-12)
    # The tangent is the derivative of the stress, on the plateau and where it densifies.
    for eps in (0.3, 0.7, 0.9):
        h = 1e-6
        slope = (law.loading_stress(eps + h) - law.loading_stress(eps - h)) / (2 * h)
        assert float(law.loading_tangent(eps)) == pytest.approx(float(slope), rel=1e-5)


@pytest.mark.parametrize("name", FOAMS)
def test_stored_energy_is_the_integral_of_the_unloading_stress(name):
    law = FoamLaw.of(name)
    # Up to 0.95 of lock-up; at 0.99 the 16-point rule of the densifying part errs by 2e-5.
    for eps_max in (0.5 * law.yield_strain, 0.4, law.densification_strain + 0.1,
                    0.95 * law.lockup_strain):
        eps = np.array([0.5, 0.9, 1.0]) * eps_max
        stored = law.stored_energy(eps, np.full(3, eps_max))
        for e, got in zip(eps, stored):
            exact, _ = quad(lambda s, m=eps_max: float(law.unloading_stress(s, m)), 0, e, limit=400,
                            points=[law.yield_strain, law.densification_strain])
            assert got == pytest.approx(exact, rel=1e-9, abs=1e-12 * law.plateau_stress_pa)


@pytest.mark.parametrize("name", FOAMS)
def test_a_load_cycle_dissipates_and_never_creates_energy(name):
    law = FoamLaw.of(name)
    eps = np.linspace(0, 0.98 * law.lockup_strain, 400)
    for eps_max in (0.5 * law.yield_strain, 0.4, 0.9 * law.lockup_strain):
        below = eps[eps <= eps_max]
        assert np.all(law.unloading_stress(below, eps_max) <= law.loading_stress(below) * (1 + 1e-12))
        returned = float(law.unloading_energy(0.0, eps_max))
        absorbed = float(law.loading_energy(eps_max))
        if eps_max > law.yield_strain or law.resilient:
            assert 0 <= returned < absorbed
        else:  # below yield a crushable foam is elastic
            assert returned == pytest.approx(absorbed)
    assert np.all(np.diff(law.loading_stress(eps)) >= 0)


@pytest.mark.parametrize("name", FOAMS)
def test_drops_conserve_energy_up_to_what_the_foam_dissipates(name):
    r = cushion.drop(name, 2500, 0.05, 1.2)
    assert 0 <= r.dissipated_fraction <= 1
    # Rebound kinetic energy never exceeds the impact kinetic energy (per unit mass).
    assert 0.5 * r.rebound_velocity_m_s**2 <= G_N * 1.2 * (1 - r.dissipated_fraction) + 1e-9


def test_cushion_curves_fall_reach_a_minimum_then_rise_and_thicker_pads_do_better():
    stresses = np.geomspace(300, 30000, 40)
    minima = []
    for t in (0.025, 0.05, 0.1):
        curve = cushion.cushion_curve("eps-24", t, 0.76, stresses)
        i = int(np.argmin(curve))
        assert 0 < i < len(curve) - 1
        assert np.all(np.diff(curve[: i + 1]) <= 1e-9) and np.all(np.diff(curve[i:]) >= -1e-9)
        minima.append(curve[i])
    assert minima[0] > minima[1] > minima[2]


def test_left_branch_of_a_cushion_curve_is_the_plateau_over_the_static_stress():
    law = get_material("eps-24")
    assert cushion.peak_g("eps-24", 500, 0.05, 0.76) == pytest.approx(law.plateau_stress_pa / 500)


def test_min_thickness_is_the_thinnest_pad_under_the_limit():
    t = cushion.min_thickness("eps-24", 4000, 1.2, 60)
    assert cushion.peak_g("eps-24", 4000, t, 1.2) <= 60
    assert cushion.peak_g("eps-24", 4000, t - 2e-6, 1.2) > 60
    with pytest.raises(ValueError, match="no pad"):
        cushion.min_thickness("eps-24", 2000, 1.2, 50)


def test_a_pad_too_soft_for_the_load_is_crushed_solid():
    r = cushion.drop("pu-30", 3000, 0.05, 1.2)
    assert math.isinf(r.peak_g) and r.bottomed_out


def test_materials_are_accepted_by_name_object_or_law_and_bad_inputs_are_refused():
    by_name = cushion.peak_g("epp-30", 3000, 0.05, 1.2)
    assert cushion.peak_g(get_material("epp-30"), 3000, 0.05, 1.2) == by_name
    assert cushion.peak_g(FoamLaw.of("epp-30"), 3000, 0.05, 1.2) == by_name
    with pytest.raises(ValueError, match="not a foam"):
        cushion.peak_g("pp", 3000, 0.05, 1.2)
    with pytest.raises(ValueError, match="thickness_m"):
        cushion.peak_g("epp-30", 3000, 0.0, 1.2)


@pytest.mark.parametrize("name, stress", [("eps-24", 3000), ("epp-30", 3000), ("pe-33", 1500)])
def test_energy_balance_and_quadrature_agree_with_time_stepping_the_equation_of_motion(name, stress):
    # Independent check: explicit time stepping of m x'' = m g - A sigma(x / t, history).
    law = FoamLaw.of(name)
    t, h = 0.05, 1.2
    r = cushion.drop(name, stress, t, h)
    dt = r.pulse_ms * 1e-3 / 10000
    x, v, eps_max, time, peak = 0.0, math.sqrt(2 * G_N * h), 0.0, 0.0, 0.0
    rising = False
    while True:
        eps = x / t
        eps_max = max(eps_max, eps)
        sigma = float(law.stress(eps, eps_max))
        peak = max(peak, sigma / stress)
        a = G_N - G_N * sigma / stress
        v += a * dt  # semi-implicit Euler: symplectic, good energy behaviour
        x += v * dt
        time += dt
        rising = rising or v < 0
        if (rising and sigma <= 0) or (rising and v >= 0):
            break  # left the pad, or turned round on it
    assert peak == pytest.approx(r.peak_g, rel=1e-3)
    assert eps_max == pytest.approx(r.max_strain, rel=1e-3)
    if r.rebound_velocity_m_s > 0:
        assert time * 1e3 == pytest.approx(r.pulse_ms, rel=0.01)
        assert -v == pytest.approx(r.rebound_velocity_m_s, rel=0.01)


def test_a_relieved_pad_is_its_ribs_and_moves_a_light_load_down_its_cushion_curve():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from helpers import well_cushioned

    plain = well_cushioned(**{"product.custom_cell.mass_kg": 0.05, "insert.bearing_fraction": 1.0,
                              "insert.bottom_thickness_m": 0.06, "insert.top_thickness_m": 0.06,
                              "insert.side_thickness_m": 0.06})
    relieved = plain.replace({"insert.bearing_fraction": 0.4, "insert.groove_depth_ratio": 0.8})
    x, y, _ = relieved.layout.insert_dims_m
    pad = cushion.design_pads(relieved)[3]
    assert pad.area_m2 == pytest.approx(0.4 * x * y, rel=1e-12)
    assert pad.thickness_m == pytest.approx(0.8 * 0.06, rel=1e-12)
    # Six 50 g cells on a full 60 mm face of a flat-plateau foam (EPP) sit on the plateau branch
    # (peak g = plateau / static stress, far left of the curve's minimum); on 40 % of the face the
    # ribs crush at 2.5x the static stress and the peak falls, with stroke to spare. PE's plateau
    # rises with strain (its cell gas), so the thinner ribs crush deeper into it: ribs help less.
    gain = {}
    for foam in ("epp-30", "pe-33"):
        before = cushion.peak_g(foam, cushion.design_pads(plain)[3].static_stress_pa, 0.06, 1.2)
        gain[foam] = cushion.peak_g(foam, pad.static_stress_pa, pad.thickness_m, 1.2) / before
    assert gain["epp-30"] < 0.6
    assert gain["epp-30"] < gain["pe-33"] < 1.0
