"""Explicit time integration with floor contact: a heavy mass on a linear pad, against closed form."""

import math

import numpy as np
import pytest

from packsim.fem import StructuredGrid, isotropic_voigt
from packsim.fem.explicit import ExplicitModel, drop_onto_floor, lumped_masses
from packsim.stacking import G_N

E, T_PAD, SIDE, BLOCK_KG, HEIGHT = 1e6, 0.05, 0.1, 20.0, 0.5


def _pad_drop(gravity=False, penalty_factor=10.0):
    # Poisson ratio 0: the pad compresses as a 1-D spring k = E A / t.
    grid = StructuredGrid(np.linspace(0, SIDE, 3), np.linspace(0, SIDE, 3), np.linspace(0, T_PAD, 5),
                          np.zeros((2, 2, 4), dtype=int), (isotropic_voigt(E, 0.0),))
    mass = lumped_masses(grid, [30.0])
    top = np.flatnonzero(np.isclose(grid.points[:, 2], T_PAD))
    w = np.array([0.25, 0.5, 0.25])
    share = w[top % 3] * w[(top // 3) % 3]
    mass[top] += BLOCK_KG * share / share.sum()  # a rigid block resting on the pad
    k_pad = E * SIDE**2 / T_PAD
    total = mass.sum()
    v0 = math.sqrt(2 * G_N * HEIGHT)
    velocity = np.zeros(grid.ndof)
    velocity[2::3] = -v0
    period = math.pi * math.sqrt(total / k_pad)
    run, acc = drop_onto_floor(grid.stiffness(), np.repeat(mass, 3), grid.points, velocity,
                               1.3 * period, penalty_n_per_m=penalty_factor * k_pad, watch=top,
                               gravity=gravity)
    return run, acc, v0 * math.sqrt(k_pad / total) / G_N, period


def test_mass_on_a_linear_pad_peak_and_pulse_match_the_spring_mass_solution():
    run, acc, peak_expected, period = _pad_drop()
    assert acc.max() / G_N == pytest.approx(peak_expected, rel=0.03)
    in_contact = run.time_s[run.contact_force_n > 0]
    assert in_contact.max() == pytest.approx(period, rel=0.03)


@pytest.mark.parametrize("gravity", [False, True])
def test_energy_is_conserved_through_impact_and_rebound(gravity):
    run, _, _, _ = _pad_drop(gravity=gravity)
    assert run.energy_error < 0.01
    # The pad let go: the energy of motion is back near its impact value.
    assert run.contact_force_n[-1] == 0
    motion = run.kinetic_j + run.potential_j
    assert motion[-1] == pytest.approx(motion[0], rel=0.05)


def test_highest_frequency_is_the_largest_eigenvalue_within_its_margin():
    grid = StructuredGrid(np.linspace(0, 0.1, 4), np.linspace(0, 0.1, 3), np.linspace(0, 0.05, 3),
                          np.zeros((3, 2, 2), dtype=int), (isotropic_voigt(1e6, 0.3),))
    mass = np.repeat(lumped_masses(grid, [30.0]), 3)
    k = grid.stiffness().toarray()
    scaled = k / np.sqrt(np.outer(mass, mass))
    omega_max = math.sqrt(np.linalg.eigvalsh(scaled).max())
    estimate = ExplicitModel(grid.points, mass, grid.stiffness()).highest_frequency()
    assert omega_max <= estimate <= 1.02 * omega_max  # safe, and not wasteful
