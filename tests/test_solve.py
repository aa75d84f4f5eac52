"""The linear solvers on a package model: the direct and the AMG path give the same platen
solution, and the direct path's fill-reducing order is a node-blocked permutation."""

import numpy as np
import pytest
from conftest import GEOMETRIES

import packsim
from packsim.compression import platen_constraints
from packsim.fem import solve
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
    order = solve._nested_dissection(solve.constrain(k, fixed), grid.n_nodes)
    assert np.array_equal(np.sort(order), np.arange(grid.ndof))
    triples = order.reshape(-1, 3)
    assert np.all(triples % 3 == [0, 1, 2]) and np.all(np.diff(triples // 3, axis=1) == 0)
