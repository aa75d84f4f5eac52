"""Drop orientations by ISTA / ISO 2206 face numbering: faces, edges and corners of a box.

Names: a face by number or name (``"3"``, ``"face-3"``, ``"bottom"``), an edge by its two faces
(``"edge-2-3"``), a corner by its three faces (``"corner-2-3-5"``); the numbering is in
``data/orientations.toml``. A face drop lands flat on that face. Edge and corner drops land with
the centre of gravity vertically above the edge or corner, as UN 6.1.5.3 asks for the corner drop
and drop-test practice for edges, so the package does not start to turn before the impact.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from itertools import combinations

import numpy as np

from ._cited import load_cited_entries, load_packaged
from .errors import PacksimInputError, Problem, did_you_mean


class OrientationError(PacksimInputError):
    """An orientation name that names no face, edge or corner of a box."""

    what = "drop orientation"


@cache
def faces() -> dict[int, tuple[str, np.ndarray]]:
    """Face number -> (name, outward unit normal in the package frame)."""
    entries = load_packaged("orientations.toml", lambda p: load_cited_entries(p, "face"))
    return {int(k): (v["name"], np.array(v["outward_normal"].value, dtype=float))
            for k, v in entries.items()}


@dataclass(frozen=True)
class Orientation:
    """A face, edge or corner of a box that hits the floor first.

    Attributes
    ----------
    name : str
        Canonical name: ``face-3``, ``edge-2-3``, ``corner-2-3-5`` (face numbers ascending).
    faces : tuple of int
        The one, two or three faces that meet there.
    """

    name: str
    faces: tuple[int, ...]

    @property
    def kind(self) -> str:
        return ("face", "edge", "corner")[len(self.faces) - 1]

    @property
    def outward(self) -> np.ndarray:
        """Sum of the faces' outward normals: the signs say which side of each axis is hit."""
        return np.sum([faces()[f][1] for f in self.faces], axis=0)

    def impact_point_m(self, box_m: tuple[float, float, float],
                       centre_of_mass_m: tuple[float, float, float]) -> np.ndarray:
        """The point of the box ``[0, box_m]`` that touches the floor first, m.

        On the impacting face(s) the coordinate is the box side; along the free axes (the
        length of an edge, both in-plane axes of a face) it is the centre of mass's.
        """
        box, com = np.asarray(box_m, float), np.asarray(centre_of_mass_m, float)
        out = self.outward
        return np.where(out > 0, box, np.where(out < 0, 0.0, com))

    def floor_normal(self, box_m: tuple[float, float, float],
                     centre_of_mass_m: tuple[float, float, float]) -> np.ndarray:
        """Unit vector, in the package frame, pointing up from the floor at impact.

        For a face it is the inward face normal; for an edge or corner it points from the
        impact point to the centre of mass (centre of gravity vertically above the impact).
        """
        if self.kind == "face":
            return -self.outward
        up = np.asarray(centre_of_mass_m, float) - self.impact_point_m(box_m, centre_of_mass_m)
        return up / np.linalg.norm(up)


def _name_to_face(token: str) -> int | None:
    names = {name: number for number, (name, _) in faces().items()}
    if token in names:
        return names[token]
    if token.isdigit() and int(token) in faces():
        return int(token)
    return None


def all_orientations() -> list[Orientation]:
    """The 6 faces, 12 edges and 8 corners of a box."""
    normals = faces()
    out = [Orientation(f"face-{f}", (f,)) for f in sorted(normals)]
    for size, kind in ((2, "edge"), (3, "corner")):
        for combo in combinations(sorted(normals), size):
            vectors = np.array([normals[f][1] for f in combo])
            if np.allclose(vectors @ vectors.T, np.eye(size)):  # mutually perpendicular faces
                out.append(Orientation(f"{kind}-{'-'.join(map(str, combo))}", combo))
    return out


def parse_orientation(name: str | Orientation) -> Orientation:
    """The :class:`Orientation` named ``name`` (see the module docstring for the forms).

    Raises
    ------
    OrientationError
        For an unknown face, or faces that do not meet in an edge or corner (e.g. ``edge-1-3``).
    """
    if isinstance(name, Orientation):
        return name
    text = str(name).strip().lower()
    kinds = {"face": 1, "edge": 2, "corner": 3}
    head, _, rest = text.partition("-")
    tokens = rest.split("-") if head in kinds else [text]
    expected_count = kinds.get(head, 1)
    numbers = [_name_to_face(t) for t in tokens]
    valid = {o.name: o for o in all_orientations()}
    aliases = [n for n, _ in faces().values()]
    hint = did_you_mean(text, [*valid, *aliases])
    if None in numbers or len(numbers) != expected_count:
        raise OrientationError([Problem(
            "orientation", name,
            f"a face (1-6 or {', '.join(aliases)}), an edge 'edge-A-B' or a corner 'corner-A-B-C' "
            f"by ISTA face numbers{hint}")])
    canonical = f"{('face', 'edge', 'corner')[expected_count - 1]}-{'-'.join(map(str, sorted(numbers)))}"
    if canonical not in valid:
        raise OrientationError([Problem(
            "orientation", name,
            f"faces {', '.join(map(str, sorted(numbers)))} do not meet in "
            f"{'an edge' if expected_count == 2 else 'a corner'} (opposite faces: 1-3, 2-4, 5-6)")])
    return valid[canonical]
