"""Stack loads, McKee box compression strength and derating against hand calculations."""

import math

import pytest

from packsim import Design, load_design
from packsim.stacking import (
    G_N,
    StackingConditions,
    derating,
    design_bct_n,
    mckee_bct_n,
    mckee_full_bct_n,
    required_bct_n,
    stack_load_n,
)

from conftest import GEOMETRIES
from helpers import block_design_dict

LBF = 4.4482216152605
INCH = 0.0254


def test_simplified_mckee_matches_the_documented_worked_example():
    # 32 ECT, 0.16 in caliper, 16 x 12 in box: 5.87 x 32 x sqrt(0.16 x 56) = 562 lbf.
    bct = mckee_bct_n(32 * LBF / INCH, 0.16 * INCH, 2 * (16 + 12) * INCH)
    assert bct / LBF == pytest.approx(5.87 * 32 * math.sqrt(0.16 * 56), rel=1e-12)
    assert bct / LBF == pytest.approx(562, abs=0.5)


def test_full_mckee_matches_a_hand_calculation_in_inch_pound_units():
    # ECT 32 lbf/in, Dx = 80 and Dy = 40 lbf in, Z = 56 in.
    expected = 2.028 * 32**0.746 * math.sqrt(80 * 40) ** 0.254 * 56**0.492
    got = mckee_full_bct_n(32 * LBF / INCH, 80 * LBF * INCH, 40 * LBF * INCH, 56 * INCH) / LBF
    assert got == pytest.approx(expected, rel=1e-12)


def test_design_bct_uses_the_board_and_inner_perimeter():
    d = load_design(GEOMETRIES / "a-21700-eps-rsc.toml")
    from packsim import get_material

    board = get_material(d.container.board)
    length, width, _ = d.inner_dims_m
    assert design_bct_n(d) == pytest.approx(
        5.87 * board.ect_n_per_m * math.sqrt(board.caliper_m * 2 * (length + width)), rel=1e-12)
    assert design_bct_n(load_design(GEOMETRIES / "b-lfp-epp-pp-returnable.toml")) is None


def test_un_stack_load_counts_whole_packages_above_the_sample():
    d = Design.from_dict(block_design_dict())
    h = d.outer_dims_m[2]
    above = math.ceil(3.0 / h - 1)
    assert stack_load_n(d, 3.0) == pytest.approx(above * d.gross_mass_kg * G_N, rel=1e-12)
    assert stack_load_n(d, 3.0, round_up=False) == pytest.approx((3.0 / h - 1) * d.gross_mass_kg * G_N)
    assert stack_load_n(d, h) == 0.0


def test_derating_multiplies_the_fba_factors_and_interpolates():
    lab = derating(StackingConditions())
    assert lab.factor == 1.0
    worst = derating(StackingConditions(storage_days=180, relative_humidity_pct=90))
    # 180 d at 90 % RH leaves 0.50 x 0.48 = 24 % of BCT (reference sheet, pitfall 3).
    assert worst.factor == pytest.approx(0.24)
    mid = derating(StackingConditions(storage_days=20, relative_humidity_pct=75))
    assert mid.factors["storage"] == pytest.approx((0.63 + 0.60) / 2)
    assert mid.factors["humidity"] == pytest.approx((0.80 + 0.68) / 2)
    pallet = derating(StackingConditions(pallet_pattern="interlocked", overhang=True))
    assert pallet.factor == pytest.approx(0.40 * 0.60)
    assert all(pallet.sources.values())


def test_more_severe_conditions_never_raise_the_remaining_strength():
    previous = 1.0
    for days in (0, 5, 10, 30, 60, 90, 180):
        f = derating(StackingConditions(storage_days=days)).factor
        assert f <= previous
        previous = f


def test_required_bct_includes_derating_and_safety_factor():
    c = StackingConditions(storage_days=30, relative_humidity_pct=80, safety_factor=1.5)
    assert required_bct_n(1000.0, c) == pytest.approx(1000.0 * 1.5 / (0.60 * 0.68))
    with pytest.raises(ValueError):
        StackingConditions(relative_humidity_pct=120)
