import pytest

from packsim.units import parse_length


@pytest.mark.parametrize(
    "text, metres",
    [("30 mm", 0.03), ("3 cm", 0.03), ("0.03 m", 0.03), ("1 in", 0.0254), ("2ft", 0.6096),
     ("1.5e1 mm", 0.015), (" 7 mm ", 0.007)],
)
def test_lengths_convert_exactly_as_typed_in_metres(text, metres):
    assert parse_length(text) == metres


@pytest.mark.parametrize("text", ["30", "30 furlongs", "mm", "thirty mm", "3 kg"])
def test_bad_lengths_name_the_accepted_units(text):
    with pytest.raises(ValueError, match="mm"):
        parse_length(text)
