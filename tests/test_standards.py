"""Encoded standards: every shipped file validates; bad files fail naming file and key; drop-height
tables and the ASTM D4169 Schedule C load against the standards' figures and a hand calculation."""

import pytest
from helpers import drop_standard_toml

import packsim
from packsim.standards import STANDARDS_DIR, StandardError, builtin_standards, get_standard, load_standard

GOOD = drop_standard_toml("acme-ps12", '"48 in"', ["bottom", "corner-2-3-5"], criteria=("cell-peak-g",),
                          confidence="MED")


def test_every_shipped_standard_loads_and_cites_every_figure():
    shipped = builtin_standards()
    assert {"un-6.1.5-pg2", "sp188", "un-38.3-t4", "ista-1a", "ista-2a", "astm-d4169",
            "ista-3a"} <= set(shipped)
    for sid in shipped:
        std = get_standard(sid)
        for test in std.test:
            for name, cited in test.cited().items():
                assert cited.clause and cited.source in std.references, (sid, test.id, name)


def test_provisional_figures_are_flagged():
    assert get_standard("ista-3a").provisional
    assert get_standard("astm-d4169")["schedule-a"].provisional
    assert not get_standard("astm-d4169")["schedule-c"].provisional
    assert not get_standard("ista-1a").provisional


def test_a_user_standard_file_loads_with_units(tmp_path):
    path = tmp_path / "acme.toml"
    path.write_text(GOOD)
    std = get_standard(str(path))
    assert std["drop"].height_for(5.0) == pytest.approx(48 * 0.0254)


@pytest.mark.parametrize("edit, field, message", [
    (('kind = "drop"', 'kind = "drop"\ncolour = "red"'), "test.0.colour", "unknown key"),
    (('source = "spec", confidence = "HIGH"', 'source = "spec-inc", confidence = "HIGH"'), "test",
     "not a key of [references]"),
    ((', clause = "4.2.1"', ''), "test.0.height_m.clause", "required key is missing"),
    (('value = "48 in"', 'value = 1200'), "test.0.height_m.value", "less than or equal to 10"),
    (('value = "48 in"', 'value = "48 furlongs"'), "test.0.height_m.value", "unit"),
    (('confidence = "MED"', 'confidence = "SURE"'), "test.0.orientations.confidence", "HIGH"),
])
def test_bad_files_name_the_file_and_the_key(tmp_path, edit, field, message):
    path = tmp_path / "acme.toml"
    path.write_text(GOOD.replace(*edit, 1))
    with pytest.raises(StandardError) as info:
        load_standard(path)
    text = str(info.value)
    assert str(path) in text and field in text and message in text


def test_several_problems_are_reported_together(tmp_path):
    path = tmp_path / "acme.toml"
    path.write_text(GOOD.replace('title = "drop"', 'title = "drop"\nspeed = 3')
                    .replace('confidence = "MED"', 'confidence = "SURE"'))
    with pytest.raises(StandardError) as info:
        load_standard(path)
    assert len(info.value.problems) == 2


def test_unknown_standard_id_suggests_the_close_one():
    with pytest.raises(StandardError, match="did you mean 'ista-1a'"):
        get_standard("ista-1b")


# ISTA 1A / 2A tables (standards.md s3.1-3.2): lower bound inclusive, upper bound exclusive.
ISTA = {
    "ista-1a": [(0, 10, 0.76), (10, 19, 0.61), (19, 28, 0.46), (28, 45, 0.31), (45, 68, 0.20)],
    "ista-2a": [(0, 10, 0.97), (10, 19, 0.81), (19, 28, 0.66), (28, 45, 0.51), (45, 68, 0.31)],
}


@pytest.mark.parametrize("sid", sorted(ISTA))
def test_ista_drop_heights_on_both_sides_of_every_boundary(sid):
    drop = get_standard(sid)["drop"]
    rows = ISTA[sid]
    for i, (lo, hi, height) in enumerate(rows):
        assert drop.height_for(lo) == height
        assert drop.height_for(hi - 1e-6) == height
        if i + 1 < len(rows):
            assert drop.height_for(hi) == rows[i + 1][2]
    assert drop.height_for(68.0) == 0.20 if sid == "ista-1a" else 0.31
    with pytest.raises(ValueError, match="outside"):
        drop.height_for(68.01)


def test_d4169_schedule_c_top_load_matches_a_hand_calculation():
    # 16 x 12 x 10 in box, assurance level II: L = 10 lb/ft3 x (1920 / 1728) ft3 x (108 - 10) / 10
    # x 7 = 762.2 lbf = 3390.5 N.
    test = get_standard("astm-d4169")["schedule-c"]
    dims = (16 * 0.0254, 12 * 0.0254, 10 * 0.0254)
    expected_lbf = 10 * (16 * 12 * 10 / 1728) * (108 - 10) / 10 * 7
    assert test.load_n(dims, "II") == pytest.approx(expected_lbf * 4.4482216152605, rel=1e-12)
    assert test.load_n(dims, "I") / test.load_n(dims, "III") == pytest.approx(10 / 5)
    with pytest.raises(ValueError, match="assurance level"):
        test.load_n(dims, "IV")


def test_fragility_basis_by_cell_mass():
    t4 = get_standard("un-38.3-t4")["fragility"]
    assert t4.allowed_g(0.07) == pytest.approx(150 / 1.5)
    assert t4.allowed_g(0.6) == pytest.approx(50 / 1.5)


def test_standards_folder_has_a_schema_description():
    assert (STANDARDS_DIR / "SCHEMA.md").is_file()
    assert packsim.get_standard("sp188").id == "sp188"


def test_cli_lists_the_standards_and_shows_one_with_its_citations(capsys):
    from packsim.cli import main

    assert main(["standards"]) == 0
    listing = capsys.readouterr().out
    assert all(sid in listing for sid in builtin_standards())
    assert "[some figures provisional]" in listing  # ista-3a, astm-d4169, un-38.3-t4
    assert main(["standards", "show", "ista-1a"]) == 0
    shown = capsys.readouterr().out
    assert "height_table" in shown and "ista-1a-table" in shown and "references:" in shown
    assert main(["standards", "ista-3a"]) == 0
    assert "PROVISIONAL" in capsys.readouterr().out
    assert main(["standards", "show", "ista-9z"]) == 2
    assert "unknown standard" in capsys.readouterr().err
