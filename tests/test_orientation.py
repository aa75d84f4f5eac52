"""Drop orientations by ISTA face numbering: names, which faces meet, floor normals."""

import numpy as np
import pytest

from packsim.orientation import OrientationError, all_orientations, parse_orientation

BOX = (0.4, 0.3, 0.2)
CENTRE = (0.2, 0.15, 0.1)


def test_a_box_has_6_faces_12_edges_and_8_corners():
    kinds = [o.kind for o in all_orientations()]
    assert (kinds.count("face"), kinds.count("edge"), kinds.count("corner")) == (6, 12, 8)


@pytest.mark.parametrize("name", ["bottom", "3", "face-3", " Face-3 "])
def test_face_aliases(name):
    assert parse_orientation(name).name == "face-3"


def test_faces_in_any_order_name_the_same_corner():
    assert parse_orientation("corner-5-3-2") == parse_orientation("corner-2-3-5")


@pytest.mark.parametrize("name, hint", [("edge-1-3", "opposite faces"), ("corner-2-4-5", "opposite"),
                                        ("botom", "did you mean 'bottom'"), ("edge-2", "edge 'edge-A-B'")])
def test_bad_names_say_what_is_expected(name, hint):
    with pytest.raises(OrientationError, match=hint):
        parse_orientation(name)


def test_face_drop_lands_flat_and_corner_drop_has_the_centre_over_the_corner():
    assert parse_orientation("bottom").floor_normal(BOX, CENTRE) == pytest.approx([0, 0, 1])
    assert parse_orientation("top").floor_normal(BOX, CENTRE) == pytest.approx([0, 0, -1])
    corner = parse_orientation("corner-2-3-5")
    assert corner.impact_point_m(BOX, CENTRE) == pytest.approx([0, 0, 0])
    n = corner.floor_normal(BOX, CENTRE)
    assert n == pytest.approx(np.array(CENTRE) / np.linalg.norm(CENTRE))


@pytest.mark.parametrize("orientation", [o for o in all_orientations() if o.kind != "face"])
def test_the_named_edge_or_corner_is_the_lowest_point_of_the_box(orientation):
    corners = np.array([[x, y, z] for x in (0, BOX[0]) for y in (0, BOX[1]) for z in (0, BOX[2])])
    n = orientation.floor_normal(BOX, CENTRE)
    height = corners @ n
    lowest = corners[np.isclose(height, height.min())]
    out = orientation.outward
    expected = np.where(out > 0, BOX, 0.0)
    for axis in np.flatnonzero(out):
        assert np.all(lowest[:, axis] == expected[axis])
    assert len(lowest) == (2 if orientation.kind == "edge" else 1)
