"""Element forces with crushable foam: exact for linear materials, the foam law in compression,
a dropped block that agrees with the one-degree-of-freedom cushion model, and grids evaluated
side by side (forces, and accelerations solved part by part) as one model."""

import math
import multiprocessing
import os

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from packsim import cushion
from packsim.fem import StructuredGrid, isotropic_voigt, nonlinear
from packsim.fem.explicit import ExplicitModel, Floor, drop_onto_floor, integrate, lumped_masses
from packsim.fem.mass_scaling import selective_mass
from packsim.fem.nonlinear import ElementForces, JointForces
from packsim.foam import FoamLaw
from packsim.stacking import G_N


def _grid(e, nu, xs=(0, 0.02, 0.05, 0.06), ys=(0, 0.02, 0.04), zs=(0, 0.01, 0.03)):
    xs, ys, zs = (np.asarray(c, float) for c in (xs, ys, zs))
    mat = np.zeros((len(xs) - 1, len(ys) - 1, len(zs) - 1), dtype=int)
    return StructuredGrid(xs, ys, zs, mat, (isotropic_voigt(e, nu),))


@pytest.mark.parametrize("foam", [True, False])
def test_one_point_rule_plus_hourglass_stiffness_is_the_incompatible_mode_element(foam):
    e = 1e6
    grid = _grid(e, 0.0 if foam else 0.3)
    forces = ElementForces(grid, {0: FoamLaw.linear(e)} if foam else None)
    u = np.random.default_rng(1).standard_normal(grid.ndof) * 1e-3
    k_u = grid.stiffness() @ u
    assert np.abs(forces(u) - k_u).max() <= 1e-12 * np.abs(k_u).max()


def _wall_and_foam() -> tuple[ExplicitModel, JointForces]:
    """A stiff wall grid whose mass is selectively scaled (coupled), and a foam grid beside it."""
    foam, wall = _grid(1e6, 0.0), _grid(2e9, 0.3, xs=(0, 0.01, 0.03))
    parts = [ElementForces(wall), ElementForces(foam, {0: FoamLaw.of("pe-33")})]
    densities = [np.array([800.0]), np.array([30.0])]
    masses = np.concatenate([np.repeat(lumped_masses(p.grid, rho), 3)
                             for p, rho in zip(parts, densities)])
    # Slow the stiff part to a tenth of its fastest element: its mass matrix is then coupled.
    wall_mass, beta = selective_mass(wall, np.full(wall.material.shape, 800.0), 1e3)
    assert beta > 0
    scaled = sp.block_diag([wall_mass, sp.csr_matrix((foam.ndof, foam.ndof))], format="csr")
    joint = JointForces(parts)
    return ExplicitModel(np.vstack([wall.points, foam.points]), masses, joint.stiffness, joint,
                         scaled_mass=scaled), joint


def _accelerations(u: np.ndarray, f_q: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The wall-and-foam model's accelerations and internal forces at a few scales of ``u``:
    loading, into densification, then unloading along the crush history."""
    model, _ = _wall_and_foam()
    return [model.accelerate(scale * u, f_q) for scale in (0.1, 1.0, 8.0, 0.5)]


def test_two_parts_side_by_side_give_the_same_accelerations_on_one_thread_or_two():
    model, _ = _wall_and_foam()
    assert model._side_by_side is not None  # the compiled two-part path is the one tested
    rng = np.random.default_rng(2)
    u = model.displacements(rng.standard_normal(model.nq) * 1e-3)
    f_q = rng.standard_normal(model.nq)
    here = _accelerations(u, f_q)
    # A worker process (parallel FE checks, study workers) shares the cores with its siblings:
    # it runs both parts on its one thread, with the same result to the last bit, so that a
    # parallel check reproduces the serial one.
    with multiprocessing.get_context("fork").Pool(1) as pool:
        there = pool.apply(_accelerations, (u, f_q))
        assert pool.apply(nonlinear.in_parallel) is False
    spare_core = len(os.sched_getaffinity(0)) > 1
    assert nonlinear.in_parallel() is (spare_core and nonlinear._threadsafe_layer())
    for (a, f), (a_there, f_there) in zip(here, there, strict=True):
        assert np.array_equal(a, a_there) and np.array_equal(f, f_there)


def test_joint_stiffness_is_the_block_diagonal_of_the_parts():
    parts = [ElementForces(_grid(1e6, 0.0)), ElementForces(_grid(2e9, 0.3, xs=(0, 0.01, 0.03))),
             ElementForces(_grid(5e6, 0.1, zs=(0, 0.02)))]
    joint = JointForces(parts).stiffness
    expected = sp.block_diag([p.stiffness for p in parts], format="csr")
    assert joint.shape == expected.shape
    assert abs(joint - expected).max() == 0.0


@pytest.mark.parametrize("name", ["eps-24", "epp-30", "pe-33"])
def test_homogeneous_compression_follows_the_foam_law_on_loading_and_unloading(name):
    law = FoamLaw.of(name)
    grid = _grid(law.youngs_modulus_pa, 0.0)
    forces = ElementForces(grid, {0: law})
    z = grid.points[:, 2]
    height, area = grid.zs[-1], (grid.xs[-1] - grid.xs[0]) * (grid.ys[-1] - grid.ys[0])
    top = np.isclose(z, height)

    def platen_stress(strain):
        u = np.zeros(grid.ndof)
        u[2::3] = -strain * z
        return float(forces(u)[3 * np.flatnonzero(top) + 2].sum()) / area

    for strain in (0.5 * law.yield_strain, 0.2, 0.5, 0.8):
        assert -platen_stress(strain) == pytest.approx(float(law.loading_stress(strain)), rel=1e-9)
    # Back off from 0.8: the unloading branch (zero for a crushed EPS).
    assert -platen_stress(0.6) == pytest.approx(float(law.unloading_stress(0.6, 0.8)), rel=1e-9,
                                                abs=1e-9 * law.plateau_stress_pa)


def test_stored_energy_is_the_strain_energy_of_linear_grids_and_the_law_s_for_foams():
    # Linear material: one-point rule plus hourglass energy is 1/2 u.K u of the element.
    grid = _grid(2e9, 0.3)
    u = np.random.default_rng(6).standard_normal(grid.ndof) * 1e-4
    assert ElementForces(grid).stored_energy(u) == pytest.approx(0.5 * u @ (grid.stiffness() @ u),
                                                                 rel=1e-12)
    # A foam crushed uniformly to 0.5 and let back to 0.3 stores what its law gives back.
    for name in ("eps-24", "pe-33"):
        law = FoamLaw.of(name)
        grid = _grid(law.youngs_modulus_pa, 0.0)
        forces = ElementForces(grid, {0: law})
        z = grid.points[:, 2]
        u = np.zeros(grid.ndof)
        for strain in (0.5, 0.3):
            u[2::3] = -strain * z
            forces(u)
        volume = np.ptp(grid.xs) * np.ptp(grid.ys) * np.ptp(grid.zs)
        expected = volume * float(law.stored_energy(0.3, 0.5))
        assert forces.stored_energy(u) == pytest.approx(expected, rel=1e-9)
        # Stretched, it is linear with its initial modulus.
        u[2::3] = 0.01 * z
        expected = volume * 0.5 * law.youngs_modulus_pa * 0.01**2
        assert forces.stored_energy(u) == pytest.approx(expected, rel=1e-9)


def test_block_dropped_on_an_eps_pad_agrees_with_the_cushion_model():
    law = FoamLaw.of("eps-24")
    side, thickness, block_kg, height = 0.1, 0.05, 6.0, 0.5
    grid = _grid(law.youngs_modulus_pa, 0.0, xs=np.linspace(0, side, 3), ys=np.linspace(0, side, 3),
                 zs=np.linspace(0, thickness, 5))
    forces = ElementForces(grid, {0: law})
    mass = lumped_masses(grid, [24.0])
    top = np.flatnonzero(np.isclose(grid.points[:, 2], thickness))
    w = np.array([0.25, 0.5, 0.25])
    share = w[top % 3] * w[(top // 3) % 3]
    mass[top] += block_kg * share / share.sum()
    velocity = np.zeros(grid.ndof)
    velocity[2::3] = -math.sqrt(2 * G_N * height)
    static = block_kg * G_N / side**2
    expected = cushion.drop(law, static, thickness, height)
    k_pad = law.youngs_modulus_pa * side**2 / thickness
    run, acc = drop_onto_floor(forces.stiffness, np.repeat(mass, 3), grid.points, velocity,
                               1.2 * expected.pulse_ms * 1e-3, penalty_n_per_m=10 * k_pad,
                               watch=top, internal_force=forces)
    assert acc.max() / G_N == pytest.approx(expected.peak_g, rel=0.10)
    assert run.energy_error < 0.01  # internal work includes what the foam dissipated
    # The crush localises near the impact face (a flat plateau has no preferred place to crush),
    # so elements crush at least as far as the pad does on average.
    assert forces.eps_max.max() >= 0.9 * expected.max_strain


def _block_crushing_a_pad(hold: bool):
    """An 8 kg block dropped 0.8 m onto a 30 mm EPS pad, deep into densification (12 ms): the
    run, the block's peak deceleration (g) and the model."""
    law = FoamLaw.of("eps-24")
    side, thickness, block_kg, height = 0.1, 0.03, 8.0, 0.8
    grid = _grid(law.youngs_modulus_pa, 0.0, xs=np.linspace(0, side, 3), ys=np.linspace(0, side, 3),
                 zs=np.linspace(0, thickness, 4))
    forces = JointForces([ElementForces(grid, {0: law})])
    mass = lumped_masses(grid, [24.0])
    top = np.flatnonzero(np.isclose(grid.points[:, 2], thickness))
    w = np.array([0.25, 0.5, 0.25])
    share = w[top % 3] * w[(top // 3) % 3]
    mass[top] += block_kg * share / share.sum()
    model = ExplicitModel(grid.points, np.repeat(mass, 3), forces.stiffness, forces)
    if hold:
        assert model.hold_step(0, forces.parts[0].volume * 24.0, headroom=1.25)
    velocity = np.zeros(grid.ndof)
    velocity[2::3] = -math.sqrt(2 * G_N * height)
    watch = np.zeros(grid.ndof)
    watch[3 * top + 2] = mass[top]
    probe = sp.csr_matrix((watch / watch.sum()) @ model.transform)
    k_pad = law.youngs_modulus_pa * side**2 / thickness
    run = integrate(model, model.transform_t @ velocity, Floor(np.array([0, 0, 1.0]), 0.0, 10 * k_pad),
                    0.012, probes=probe)
    return run, run.probe_acceleration_m_s2[:, 0].max() / G_N, model


def test_mass_on_densified_elements_holds_the_step_and_keeps_the_peak():
    free, free_peak, _ = _block_crushing_a_pad(hold=False)
    held, held_peak, model = _block_crushing_a_pad(hold=True)
    # Without it, the densified foam shortens the step; with it, the step holds.
    assert free.min_dt_s < 0.5 * free.dt_s
    assert held.min_dt_s == held.dt_s
    assert held.steps < 0.8 * free.steps
    assert held_peak == pytest.approx(free_peak, rel=0.01)
    # The mass added is a few grams on a block of 8 kg, and its kinetic energy is in the balance.
    assert 0.0 < held.added_mass_kg < 0.01 * 8.0
    assert held.added_mass_j[-1] > 0.0
    assert held.energy_error < 0.01
    model.release_masses()
    assert model.added_mass_kg == 0.0


def test_closed_form_eigenvalues_and_spectral_map_match_lapack_with_repeated_eigenvalues():
    from packsim.fem._kernels import spectral_map, symmetric_eigenvalues

    rng = np.random.default_rng(3)
    a = rng.standard_normal((600, 3, 3)) * 0.1
    a = a + np.swapaxes(a, 1, 2)
    rotations = np.linalg.qr(rng.standard_normal((200, 3, 3)))[0]
    a[:200] = rotations @ (np.eye(3) * [-0.2, 0.05, 0.05]) @ np.swapaxes(rotations, 1, 2)  # pair
    a[200:250] = np.eye(3) * 0.03  # all three equal
    a[250:300] = rotations[:50] @ (np.eye(3) * [-0.2, 0.05, 0.05 + 1e-12]) @ np.swapaxes(rotations[:50], 1, 2)
    values = symmetric_eigenvalues(a)
    reference, vectors = np.linalg.eigh(a)
    assert np.abs(values - reference).max() < 1e-8

    def law(x):  # kinked, like the foam law: elastic, then a plateau in compression
        return np.where(x < -0.01, -0.01 - 0.05 * (-x - 0.01), x)

    expected = (vectors * law(reference)[:, None, :]) @ np.swapaxes(vectors, 1, 2)
    assert np.abs(spectral_map(a, values, law(values)) - expected).max() < 1e-7


def test_accelerations_solved_part_by_part_equal_one_global_mass_solve():
    """ExplicitModel.accelerate solves each part's (coupled, selectively scaled) mass as soon as
    that part's forces are known; the result must be M^-1 (f - T^T f_int) of the whole model,
    the same from the compiled two-part path and from the part-by-part one."""
    model, joint = _wall_and_foam()
    assert model._by_part
    rng = np.random.default_rng(3)
    u = model.displacements(rng.standard_normal(model.nq) * 1e-4)
    f_q = rng.standard_normal(model.nq)
    a, f_int = model.accelerate(u, f_q)
    reference = JointForces([ElementForces(p.grid, p.foams) for p in joint.parts])
    expected_f = reference(u)
    expected_a = spla.spsolve(sp.csc_matrix(model.mass_q), f_q - expected_f[model.carried])
    assert np.array_equal(f_int, expected_f)
    assert np.abs(a - expected_a).max() <= 1e-10 * np.abs(expected_a).max()
    generic, _ = _wall_and_foam()
    generic._side_by_side = None
    a_generic, f_generic = generic.accelerate(u, f_q)
    assert np.array_equal(a, a_generic) and np.array_equal(f_int, f_generic)


def test_mass_solver_solves_blocks_that_share_a_matrix_and_small_ones():
    from packsim.fem.explicit import _MassSolver

    rng = np.random.default_rng(4)
    # Two 40-coordinate blocks with one matrix (a count the compiled solve pads to three), a
    # 3 x 3 block, and uncoupled coordinates, interleaved.
    shared = sp.random(40, 40, density=0.1, random_state=5)
    shared = (shared @ shared.T + 5 * sp.eye(40)).tocsr()
    small = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 2.0]])
    mass = sp.block_diag([shared, sp.diags(rng.uniform(1, 2, 7)), small, shared,
                          sp.diags(rng.uniform(1, 2, 5))], format="csr")
    # Interleave the blocks, each keeping its own order (which makes the shared matrix shared).
    sizes = [40, 7, 3, 40, 5]
    position = rng.permutation(mass.shape[0])
    for block in np.split(np.arange(mass.shape[0]), np.cumsum(sizes)[:-1]):
        position[block] = np.sort(position[block])
    old = np.argsort(position)
    mass = mass[old][:, old]
    f = rng.standard_normal(mass.shape[0])
    solver = _MassSolver(mass)
    assert len(solver._groups) == 1 and solver._small_inverse is not None
    expected = spla.spsolve(sp.csc_matrix(mass), f)
    assert np.abs(solver(f) - expected).max() <= 1e-12 * np.abs(expected).max()
