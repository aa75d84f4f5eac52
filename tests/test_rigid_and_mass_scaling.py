"""Rigid bodies from box elements and selective mass scaling: exact inertia, no added mass."""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from packsim.fem import StructuredGrid, isotropic_voigt
from packsim.fem.explicit import lumped_masses
from packsim.fem.mass_scaling import element_frequencies, selective_mass
from packsim.fem.rigid import rigid_bodies


def test_a_body_of_boxes_has_the_inertia_of_the_solid_box():
    # A 0.2 x 0.1 x 0.05 m block of density 1000 split into 4 x 2 x 1 elements.
    xs, ys, zs = np.linspace(0, 0.2, 5), np.linspace(0, 0.1, 3), np.array([0.0, 0.05])
    cx, cy, cz = np.meshgrid((xs[1:] + xs[:-1]) / 2, (ys[1:] + ys[:-1]) / 2, (zs[1:] + zs[:-1]) / 2,
                             indexing="ij")
    centres = np.stack([cx.ravel(), cy.ravel(), cz.ravel()], axis=1)
    sizes = np.tile([0.05, 0.05, 0.05], (len(centres), 1))
    masses = np.full(len(centres), 1000 * 0.05**3)
    body = rigid_bodies(centres, sizes, masses, np.zeros(len(centres), dtype=int))
    m, (a, b, c) = 1000 * 0.2 * 0.1 * 0.05, (0.2, 0.1, 0.05)
    assert body.mass_kg[0] == pytest.approx(m)
    assert body.centres_m[0] == pytest.approx([0.1, 0.05, 0.025])
    expected = np.diag([m * (b * b + c * c), m * (a * a + c * c), m * (a * a + b * b)]) / 12
    assert body.inertia_kg_m2[0] == pytest.approx(expected, abs=1e-15)


def test_selective_mass_keeps_rigid_translations_and_slows_the_thin_wall():
    # A thin stiff plate (2 mm of E = 1 GPa) under soft foam: its through-thickness mode is fast.
    xs, ys, zs = np.linspace(0, 0.06, 4), np.linspace(0, 0.06, 4), np.array([0, 0.002, 0.022, 0.042])
    material = np.zeros((3, 3, 3), dtype=int)
    material[:, :, 1:] = 1
    grid = StructuredGrid(xs, ys, zs, material, (isotropic_voigt(1e9, 0.3), isotropic_voigt(5e6, 0.1)))
    rho = np.where(material == 0, 150.0, 24.0)
    target = element_frequencies(grid, rho)[np.asarray(material[tuple(grid.solid_elements.T)]) == 1].max()
    extra, beta = selective_mass(grid, rho, target)
    assert beta > 0
    translation = np.tile([0.0, 0.0, 1.0], grid.n_nodes)
    assert np.abs(extra @ translation).max() < 1e-12  # no mass added to a rigid translation
    lumped = np.repeat(lumped_masses(grid, rho), 3)
    k = grid.stiffness().tocsc()

    def omega_max(mass):
        return np.sqrt(spla.eigsh(k, k=1, M=mass, which="LM", return_eigenvectors=False)[0])

    plain, scaled = omega_max(sp.diags(lumped).tocsc()), omega_max((sp.diags(lumped) + extra).tocsc())
    assert scaled < 0.5 * plain  # the step the model allows at least doubles
