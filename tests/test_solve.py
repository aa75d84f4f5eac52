"""The linear solvers on a package model: the direct and the AMG path give the same platen
solution, the direct path's fill-reducing order is a node-blocked permutation, and the compiled
W-cycle is pyamg's cycle, a symmetric positive preconditioner."""

import numpy as np
import pyamg
import pytest
import scipy.sparse as sp
from conftest import GEOMETRIES

import packsim
from packsim.compression import platen_constraints
from packsim.fem import solve
from packsim.fem._amg import WCycle, _Level
from packsim.fem.mesh import package_mesh


@pytest.fixture(scope="module")
def pressed():
    grid = package_mesh(packsim.load_design(GEOMETRIES / "a-21700-eps-rsc.toml"), 0.012).grid
    fixed, values, _, _ = platen_constraints(grid)
    return grid, grid.stiffness(), fixed, values


def test_direct_and_amg_solutions_agree_and_leave_the_matrix_alone(pressed):
    grid, k, fixed, values = pressed
    before = k.copy()
    direct, lu = solve.solve_with_prescribed(k, np.zeros(grid.ndof), fixed, values, grid.points,
                                             method="direct")
    amg, _ = solve.solve_with_prescribed(k, np.zeros(grid.ndof), fixed, values, grid.points)
    assert np.array_equal(k.data, before.data) and np.array_equal(k.indices, before.indices)
    # Nor does ordering touch the constrained matrix the solver keeps (and multiplies by).
    kept = solve.constrain(k, fixed, diagonal=k.diagonal()[~fixed].mean())
    assert np.array_equal(lu.k.data, kept.data) and np.array_equal(lu.k.indices, kept.indices)
    assert np.abs(amg - direct).max() < 1e-6 * np.abs(direct).max()
    # The free rows balance: the platen's displacement is carried by the package, not lost.
    residual = (k @ direct)[~fixed]
    assert np.abs(residual).max() < 1e-8 * np.abs(k @ direct).max()
    assert np.array_equal(direct[fixed], values[fixed])
    # Several right-hand sides at once, as columns.
    rhs = np.random.default_rng(0).standard_normal((grid.ndof, 2))
    both = lu.solve(rhs)
    assert np.allclose(both[:, 1], lu.solve(rhs[:, 1]), rtol=0, atol=1e-12 * np.abs(both).max())


def test_nested_dissection_keeps_each_nodes_dofs_together(pressed):
    grid, k, fixed, _ = pressed
    order = solve.nested_dissection(solve.constrain(k, fixed), grid.n_nodes)
    assert np.array_equal(np.sort(order), np.arange(grid.ndof))
    triples = order.reshape(-1, 3)
    assert np.all(triples % 3 == [0, 1, 2]) and np.all(np.diff(triples // 3, axis=1) == 0)


def _constrained(pressed):
    grid, k, fixed, _ = pressed
    return solve.constrain(k, fixed, diagonal=k.diagonal()[~fixed].mean()), grid.points


def _hierarchy(k, modes, **options):
    return pyamg.smoothed_aggregation_solver(k, B=modes, symmetry="symmetric", max_coarse=300,
                                             coarse_solver="splu", **{**solve._AMG_OPTIONS,
                                                                      **options})


def test_compiled_w_cycle_is_pyamgs_with_block_gauss_seidel(pressed):
    k, points = _constrained(pressed)
    # Translations only: every level has 3 x 3 blocks, where the compiled sweeps are pyamg's.
    hierarchy = _hierarchy(k, solve.rigid_body_modes(points)[:, :3],
                           presmoother=("block_gauss_seidel", {"sweep": "forward"}),
                           postsmoother=("block_gauss_seidel", {"sweep": "backward"}))
    assert len(hierarchy.levels) >= 3  # a W-cycle visits the middle levels twice
    b = np.random.default_rng(1).standard_normal(k.shape[0])
    expected = hierarchy.aspreconditioner(cycle="W") @ b
    assert np.abs(WCycle(hierarchy)(b) - expected).max() < 1e-10 * np.abs(expected).max()


def test_compiled_w_cycle_is_a_symmetric_positive_preconditioner(pressed):
    k, points = _constrained(pressed)
    centred = points - points.mean(axis=0)
    cycle = WCycle(_hierarchy(k, solve.rigid_body_modes(centred / np.abs(centred).max())))
    x, y = np.random.default_rng(2).standard_normal((2, k.shape[0]))
    mx, my = cycle(x), cycle(y)
    assert abs(y @ mx - x @ my) < 1e-10 * abs(y @ mx)
    assert x @ mx > 0 and y @ my > 0
    # The pre-smoothing sweep from zero returns the true residual of what it computed.
    level, smoothed = cycle._levels[0], np.zeros_like(x)
    residual = level.smooth_from_zero(smoothed, x)
    assert np.abs(residual - (x - k @ smoothed)).max() < 1e-10 * np.abs(x).max()


def test_compiled_w_cycle_of_a_single_level_solves_exactly():
    k = sp.diags([-1.0, 2.5, -1.0], [-1, 0, 1], shape=(60, 60), format="csr")
    hierarchy = pyamg.smoothed_aggregation_solver(k, max_coarse=100, coarse_solver="splu")
    assert len(hierarchy.levels) == 1
    b = np.arange(60.0)
    assert np.allclose(k @ WCycle(hierarchy)(b), b, rtol=0, atol=1e-12 * np.abs(b).max())


def test_a_level_with_a_singular_diagonal_block_is_swept_as_pyamg_sweeps_it():
    # A coarse aggregate of nodes on a line has no stiffness against the rotation about it: a
    # zero row and column in its diagonal block. pyamg's block Gauss-Seidel takes the block's
    # pseudo-inverse and leaves that component alone; so must the compiled sweeps.
    from types import SimpleNamespace

    rng = np.random.default_rng(3)
    g = rng.standard_normal((30, 30))
    k = g @ g.T + 30 * np.eye(30)
    k[4], k[:, 4] = 0.0, 0.0
    a = sp.bsr_matrix(k, blocksize=(3, 3))
    level = _Level.of(SimpleNamespace(A=a, R=None, P=None))
    b = rng.standard_normal(30)
    for forward in (True, False):
        x = rng.standard_normal(30)
        expected = x.copy()
        level.sweep(x, b, forward)
        pyamg.relaxation.relaxation.block_gauss_seidel(
            a, expected, b, blocksize=3, sweep="forward" if forward else "backward")
        assert np.abs(x - expected).max() < 1e-12 * np.abs(expected).max()
    x, expected = np.zeros(30), np.zeros(30)
    residual = level.smooth_from_zero(x, b)
    pyamg.relaxation.relaxation.block_gauss_seidel(a, expected, b, blocksize=3, sweep="forward")
    assert np.abs(x - expected).max() < 1e-12 * np.abs(expected).max()
    assert np.abs(residual - (b - k @ x)).max() < 1e-12 * np.abs(b).max()
