"""The trilinear hexahedron with incompatible (bubble) modes, on axis-aligned boxes.

Displacements are trilinear in the eight corner values plus, for the stiffness only, the three
bubble modes 4 s (1 - s) per axis and component (Wilson's incompatible modes; Taylor's correction
is unnecessary on parallelepipeds, where the modes pass the patch test). The bubbles remove the
shear locking that makes plain trilinear hexahedra far too stiff in bending, and are condensed out
element by element.

On a box of sides h = (a, b, c) with volume V every integral factorises: the derivative along axis
i scales as 1/h_i, so

    K_e = sum_ij  V / (h_i h_j)  Q_ij,

with Q_ij computed once per material on the unit cube. Corner f has local coordinates
(f & 1, f >> 1 & 1, f >> 2 & 1); element degrees of freedom are ordered (corner, component).
"""

from __future__ import annotations

from functools import cache

import numpy as np

N_CORNERS = 8
N_MODES = 11  # 8 corners + 3 bubbles

#: Corner offsets (x, y, z) in {0, 1}, corner index f = x + 2 y + 4 z.
CORNERS = np.array([[f & 1, (f >> 1) & 1, (f >> 2) & 1] for f in range(N_CORNERS)])


def isotropic_voigt(youngs_modulus_pa: float, poisson_ratio: float) -> np.ndarray:
    """6 x 6 elasticity matrix (Voigt order xx, yy, zz, yz, xz, xy; engineering shear), Pa."""
    e, nu = youngs_modulus_pa, poisson_ratio
    lam = e * nu / ((1 + nu) * (1 - 2 * nu))
    mu = e / (2 * (1 + nu))
    d = np.zeros((6, 6))
    d[:3, :3] = lam
    d[np.arange(3), np.arange(3)] += 2 * mu
    d[np.arange(3, 6), np.arange(3, 6)] = mu
    return d


_VOIGT = np.array([[0, 5, 4], [5, 1, 3], [4, 3, 2]])


def tensor_from_voigt(d: np.ndarray) -> np.ndarray:
    """The fourth-order elasticity tensor C_ijkl (3, 3, 3, 3) of a 6 x 6 Voigt matrix."""
    return d[_VOIGT[:, :, None, None], _VOIGT[None, None, :, :]]


def _shape_gradients(s: np.ndarray) -> np.ndarray:
    """d(phi_f)/d(s_i) at points s (n, 3) of the unit cube: (n, 11, 3)."""
    n = len(s)
    grad = np.empty((n, N_MODES, 3))
    lin = np.stack([1 - s, s], axis=-1)  # (n, 3, 2): value of the 1D hat 0 or 1
    dlin = np.array([-1.0, 1.0])
    for f, (cx, cy, cz) in enumerate(CORNERS):
        vx, vy, vz = lin[:, 0, cx], lin[:, 1, cy], lin[:, 2, cz]
        grad[:, f, 0] = dlin[cx] * vy * vz
        grad[:, f, 1] = vx * dlin[cy] * vz
        grad[:, f, 2] = vx * vy * dlin[cz]
    grad[:, N_CORNERS:, :] = 0.0
    for i in range(3):
        grad[:, N_CORNERS + i, i] = 4 * (1 - 2 * s[:, i])
    return grad


@cache
def _gauss() -> tuple[np.ndarray, np.ndarray]:
    g = 0.5 / np.sqrt(3.0)
    pts = np.array([0.5 - g, 0.5 + g])
    s = np.array(np.meshgrid(pts, pts, pts, indexing="ij")).reshape(3, -1).T
    return s, np.full(len(s), 1.0 / 8.0)


@cache
def gradient_products() -> np.ndarray:
    """R[i, j, f, g] = integral over the unit cube of d(phi_f)/ds_i d(phi_g)/ds_j: (3, 3, 11, 11)."""
    s, w = _gauss()
    grad = _shape_gradients(s)
    return np.einsum("p,pfi,pgj->ijfg", w, grad, grad)


def stiffness_terms(voigt: np.ndarray) -> np.ndarray:
    """Q[i, j] (3, 3, 33, 33) of a material, so that K_e = sum_ij V / (h_i h_j) Q[i, j].

    Degrees of freedom are (mode, component) with the 24 corner ones first, then the 9 bubbles.
    """
    c = tensor_from_voigt(np.asarray(voigt, dtype=float))
    r = gradient_products()
    # K[(f,k),(g,l)] = C_kilj R_ij[f,g]
    q = np.einsum("kilj,ijfg->ijfkgl", c, r)
    return q.reshape(3, 3, 3 * N_MODES, 3 * N_MODES)


def box_stiffness(q: np.ndarray, sizes: np.ndarray, bubbles: bool = True) -> np.ndarray:
    """24 x 24 stiffness of boxes with side lengths ``sizes`` (n, 3): (n, 24, 24).

    With ``bubbles`` the incompatible modes are condensed out; without, this is the plain
    trilinear element (as scikit-fem's ``ElementHex1`` with 2 x 2 x 2 Gauss points).
    """
    sizes = np.atleast_2d(sizes)
    vol = sizes.prod(axis=1)
    weights = vol[:, None, None] / (sizes[:, :, None] * sizes[:, None, :])  # (n, 3, 3)
    full = np.einsum("nij,ijab->nab", weights, q)
    kuu, kua = full[:, :24, :24], full[:, :24, 24:]
    if not bubbles:
        return kuu
    kaa = full[:, 24:, 24:]
    return kuu - kua @ np.linalg.solve(kaa, np.swapaxes(kua, 1, 2))


def centre_gradients(sizes: np.ndarray) -> np.ndarray:
    """dN_f/dx_i at box centres, (n, 8, 3); the bubbles vanish there."""
    sign = 2.0 * CORNERS - 1.0  # (8, 3)
    return 0.25 * sign[None, :, :] / np.atleast_2d(sizes)[:, None, :]
