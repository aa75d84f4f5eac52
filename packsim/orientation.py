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
    faces : tuple of int
        The one, two or three faces that meet there, ascending.
    """

    faces: tuple[int, ...]

    @property
    def kind(self) -> str:
        return ("face", "edge", "corner")[len(self.faces) - 1]

    @property
    def name(self) -> str:
        """Canonical name: ``face-3``, ``edge-2-3``, ``corner-2-3-5``."""
        return f"{self.kind}-{'-'.join(map(str, self.faces))}"

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


@cache
def all_orientations() -> tuple[Orientation, ...]:
    """The 6 faces, 12 edges and 8 corners of a box."""
    normals = faces()
    out = [Orientation((f,)) for f in sorted(normals)]
    for size in (2, 3):
        for combo in combinations(sorted(normals), size):
            vectors = np.array([normals[f][1] for f in combo])
            if np.allclose(vectors @ vectors.T, np.eye(size)):  # mutually perpendicular faces
                out.append(Orientation(combo))
    return tuple(out)


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
    valid = {o.faces: o for o in all_orientations()}
    aliases = [n for n, _ in faces().values()]
    if None in numbers or len(numbers) != expected_count:
        hint = did_you_mean(text, [*(o.name for o in valid.values()), *aliases])
        raise OrientationError([Problem(
            "orientation", name,
            f"a face (1-6 or {', '.join(aliases)}), an edge 'edge-A-B' or a corner 'corner-A-B-C' "
            f"by ISTA face numbers{hint}")])
    canonical = tuple(sorted(numbers))
    if canonical not in valid:
        raise OrientationError([Problem(
            "orientation", name,
            f"faces {', '.join(map(str, sorted(numbers)))} do not meet in "
            f"{'an edge' if expected_count == 2 else 'a corner'} (opposite faces: 1-3, 2-4, 5-6)")])
    return valid[canonical]


def _by_size(items: dict[str, float]) -> list[str]:
    """Keys ordered by value, ties broken by name (stable, reproducible)."""
    return [k for k, _ in sorted(items.items(), key=lambda kv: (kv[1], kv[0]))]


def resolve_orientations(names: list[str] | tuple[str, ...],
                         box_m: tuple[float, float, float]) -> list[Orientation]:
    """Orientations named in a test procedure, for a box of outer size ``box_m`` (x, y, z), m.

    Besides the names :func:`parse_orientation` takes: ``side-long`` / ``side-short`` (the larger
    and smaller of the side (2) and end (5) faces), ``corner`` (corner 2-3-5), the ISTA sequence
    names ``edge-shortest`` / ``edge-medium`` / ``edge-longest`` (edges radiating from corner
    2-3-5) and ``face-smallest`` / ``face-medium`` / ``face-largest`` (faces 3, 2 and 5 and their
    pairs, by area) with ``-opposite`` for the face across, and ``any`` (all 26).
    """
    x, y, z = box_m
    # Edges from corner 2-3-5 (x = 0, y = 0, z = 0): 2-3 runs along x, 3-5 along y, 2-5 along z.
    edges = _by_size({"edge-2-3": x, "edge-3-5": y, "edge-2-5": z})
    # Face pairs by area: 3/1 (x y), 2/4 (x z), 5/6 (y z).
    pairs = {("face-3", "face-1"): x * y, ("face-2", "face-4"): x * z, ("face-5", "face-6"): y * z}
    faces_by_area = [p for p, _ in sorted(pairs.items(), key=lambda kv: (kv[1], kv[0]))]
    sides = _by_size({"face-2": x * z, "face-5": y * z})
    aliases = {
        "corner": ["corner-2-3-5"],
        "side-long": [sides[1]],
        "side-short": [sides[0]],
        "edge-shortest": [edges[0]], "edge-medium": [edges[1]], "edge-longest": [edges[2]],
        "any": [o.name for o in all_orientations()],
    }
    for size, pair in zip(("smallest", "medium", "largest"), faces_by_area):
        aliases[f"face-{size}"] = [pair[0]]
        aliases[f"face-{size}-opposite"] = [pair[1]]
    out: list[Orientation] = []
    for name in names:
        for resolved in aliases.get(str(name).strip().lower(), [name]):
            orientation = parse_orientation(resolved)
            if orientation not in out:
                out.append(orientation)
    return out
