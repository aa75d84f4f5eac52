"""Rigid bodies in a grid model, and their unilateral frictionless contact with the elements round them.

A body (a cell) is a group of grid elements that moves rigidly: a translation t of its mass
centre c and a small rotation theta (linearised, like the small-strain model it sits in), six
generalised coordinates appended after the nodal ones. Its elements carry no nodes of their own:
the nodes on its surface belong to the surrounding elements (the pocket).

Contacts are rows of a gap matrix G (gap = G q, open when positive) built from the exposed faces
of elements: each node on such a face touches the other side along the face normal. The
integrator (:mod:`packsim.fem.explicit`) puts a penalty spring on every row that pushes but never
pulls, with no friction. So a cell rests on its pocket floor, slides in its pocket and can lift
off it, as a loose cell in a foam pocket does, instead of being glued to the foam all round.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True, eq=False)
class RigidBodies:
    """Rigid bodies cut from a grid's elements.

    Attributes
    ----------
    mass_kg : ndarray
        (n_bodies,) masses, kg.
    centres_m : ndarray
        (n_bodies, 3) mass centres, m.
    inertia_kg_m2 : ndarray
        (n_bodies, 3, 3) inertia tensors about the mass centres, kg m^2.
    """

    mass_kg: np.ndarray
    centres_m: np.ndarray
    inertia_kg_m2: np.ndarray

    @property
    def count(self) -> int:
        return len(self.mass_kg)

    def mass_matrix(self) -> sp.csr_matrix:
        """Block-diagonal (6 n x 6 n) mass matrix of translations and rotations."""
        blocks = np.zeros((self.count, 6, 6))
        blocks[:, :3, :3] = self.mass_kg[:, None, None] * np.eye(3)
        blocks[:, 3:, 3:] = self.inertia_kg_m2
        return sp.block_diag(list(blocks), format="csr") if self.count else sp.csr_matrix((0, 0))


def rigid_bodies(centres_m: np.ndarray, sizes_m: np.ndarray, masses_kg: np.ndarray,
                 body: np.ndarray) -> RigidBodies:
    """Mass, centre and inertia of each body from its box elements.

    Parameters
    ----------
    centres_m, sizes_m : ndarray
        (n, 3) element centres and edge lengths, m.
    masses_kg : ndarray
        (n,) element masses, kg.
    body : ndarray
        (n,) body number of each element (0, 1, ...), -1 for elements outside bodies.
    """
    inside = body >= 0
    b, m, x, h = body[inside], masses_kg[inside], centres_m[inside], sizes_m[inside]
    n = int(b.max(initial=-1)) + 1
    mass = np.bincount(b, weights=m, minlength=n)
    centre = np.stack([np.bincount(b, weights=m * x[:, k], minlength=n) for k in range(3)], axis=1)
    centre /= mass[:, None]
    r = x - centre[b]
    # Parallel-axis terms plus each box's own inertia m (h_j^2 + h_k^2) / 12.
    own = m[:, None] * (h**2).sum(axis=1, keepdims=True) / 12 - m[:, None] * h**2 / 12
    point = m[:, None, None] * ((r * r).sum(axis=1)[:, None, None] * np.eye(3)
                                - r[:, :, None] * r[:, None, :])
    point[:, [0, 1, 2], [0, 1, 2]] += own
    inertia = np.zeros((n, 3, 3))
    np.add.at(inertia, b, point)
    return RigidBodies(mass_kg=mass, centres_m=centre, inertia_kg_m2=inertia)


def exposed_faces(element_nodes: np.ndarray, group: np.ndarray,
                  exposed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes on the exposed faces of some elements, with the outward face normal.

    Parameters
    ----------
    element_nodes : ndarray
        (n, 8) node indices (corners in :data:`hex8.CORNERS` order).
    group : ndarray
        (n,) group of each element (a body number; any value >= 0), -1 for other elements.
    exposed : ndarray
        (n, 6) bool: face (-x, +x, -y, +y, -z, +z) of the element is in contact.

    Returns
    -------
    node, group, normal : ndarray
        One row per distinct (node, group, face direction): (m,), (m,) and (m, 3).
    """
    from .hex8 import CORNERS

    rows = []
    for face in range(6):
        axis, side = divmod(face, 2)
        mine = (group >= 0) & exposed[:, face]
        for corner in np.flatnonzero(CORNERS[:, axis] == side):
            rows.append(np.stack([element_nodes[mine, corner], group[mine],
                                  np.full(mine.sum(), face)], axis=1))
    node, grp, face = np.unique(np.concatenate(rows), axis=0).T
    normal = np.zeros((len(node), 3))
    normal[np.arange(len(node)), face // 2] = np.where(face % 2, 1.0, -1.0)
    return node, grp, normal


def node_gap_rows(normal: np.ndarray, first_q: np.ndarray, nq: int) -> sp.csr_matrix:
    """Rows n . u of nodes whose three coordinates start at ``first_q`` (m x nq)."""
    m = len(normal)
    return sp.csr_matrix((normal.ravel(), (np.repeat(np.arange(m), 3),
                                           (first_q[:, None] + np.arange(3)).ravel())),
                         shape=(m, nq))


def body_gap_rows(normal: np.ndarray, arm_m: np.ndarray, body_first_q: np.ndarray,
                  nq: int) -> sp.csr_matrix:
    """Rows n . (t + theta x r) of rigid-body points at arm r from the mass centre (m x nq):
    n . t + theta . (r x n)."""
    m = len(normal)
    rows = np.repeat(np.arange(m), 6)
    cols = (body_first_q[:, None] + np.arange(6)).ravel()
    vals = np.concatenate([normal, np.cross(arm_m, normal)], axis=1).ravel()
    return sp.csr_matrix((vals, (rows, cols)), shape=(m, nq))
