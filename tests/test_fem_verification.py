"""The structured-grid finite elements against closed-form answers and against scikit-fem."""

import numpy as np
import pytest
import scipy.sparse as sp
import skfem
from skfem.models.elasticity import lame_parameters, linear_elasticity

from packsim.fem import StructuredGrid, isotropic_voigt
from packsim.fem import solve


def _grid(xs, ys, zs, e=200e9, nu=0.3, **kw):
    mat = np.zeros((len(xs) - 1, len(ys) - 1, len(zs) - 1), dtype=int)
    return StructuredGrid(np.asarray(xs, float), np.asarray(ys, float), np.asarray(zs, float), mat,
                          (isotropic_voigt(e, nu),), **kw)


def _trapezoid(c):
    h = np.diff(c)
    w = np.zeros(len(c))
    w[:-1] += h / 2
    w[1:] += h / 2
    return w


def _face_force(g, axis, where, component, total):
    """Nodal forces of a uniform traction summing to ``total`` on the face x_axis = where."""
    p = g.points
    nodes = np.flatnonzero(np.isclose(p[:, axis], where))
    coords = [g.xs, g.ys, g.zs]
    others = [a for a in range(3) if a != axis]
    idx = np.unravel_index(nodes, g.shape, order="F")
    w = _trapezoid(coords[others[0]])[idx[others[0]]] * _trapezoid(coords[others[1]])[idx[others[1]]]
    f = np.zeros(g.ndof)
    f[3 * nodes + component] = total * w / w.sum()
    return f


def _fix(g, mask, components):
    fixed = np.zeros(g.ndof, dtype=bool)
    for c in components:
        fixed[3 * np.flatnonzero(mask) + c] = True
    return fixed


def test_assembly_equals_scikit_fem_for_plain_trilinear_hexahedra():
    g = _grid([0, 0.1, 0.25, 0.3], [0, 0.2, 0.3], [0, 0.05, 0.2], e=1e7, nu=0.3, bubbles=False)
    basis = skfem.Basis(g.skfem_mesh(), skfem.ElementVector(skfem.ElementHex1()), intorder=2)
    reference = skfem.asm(linear_elasticity(*lame_parameters(1e7, 0.3)), basis)
    assert abs(g.stiffness() - reference).max() <= 1e-12 * abs(reference).max()


def test_stiffness_is_symmetric_with_the_six_rigid_body_modes_as_null_space():
    g = _grid(np.linspace(0, 0.3, 4), np.linspace(0, 0.2, 3), [0, 0.01, 0.1])
    k = g.stiffness()
    assert abs(k - k.T).max() <= 1e-12 * abs(k).max()
    modes = solve.rigid_body_modes(g.points)
    assert np.abs(k @ modes).max() <= 1e-9 * abs(k).max()


@pytest.mark.parametrize("method", ["direct", "amg"])
def test_uniaxial_block_shortens_by_FL_over_EA(method):
    e, nu, length, width, height, force = 10e6, 0.1, 0.3, 0.2, 0.1, 1000.0
    g = _grid(np.linspace(0, length, 7), np.linspace(0, width, 5), np.linspace(0, height, 4), e, nu)
    p = g.points
    # Rollers on three symmetry planes leave the lateral (Poisson) expansion free.
    fixed = (_fix(g, np.isclose(p[:, 2], 0), [2]) | _fix(g, np.isclose(p[:, 0], 0), [0])
             | _fix(g, np.isclose(p[:, 1], 0), [1]))
    f = _face_force(g, 2, height, 2, -force)
    u, _ = solve.solve_with_prescribed(g.stiffness(), f, fixed, np.zeros(g.ndof), p, method=method)
    top = u[3 * np.flatnonzero(np.isclose(p[:, 2], height)) + 2]
    expected = -force * height / (e * length * width)
    assert top == pytest.approx(np.full_like(top, expected), rel=1e-6)


def _cantilever_error(n):
    e, length, side, load = 200e9, 1.0, 0.05, 100.0
    g = _grid(np.linspace(0, length, n + 1), [0, side], np.linspace(0, side, max(1, n // 10) + 1), e)
    p = g.points
    fixed = _fix(g, np.isclose(p[:, 0], 0), [0, 1, 2])
    f = _face_force(g, 0, length, 2, -load)
    u, _ = solve.solve_with_prescribed(g.stiffness(), f, fixed, np.zeros(g.ndof), p, method="direct")
    tip = -u[3 * np.flatnonzero(np.isclose(p[:, 0], length)) + 2].mean()
    euler_bernoulli = load * length**3 / (3 * e * side**4 / 12)
    return tip / euler_bernoulli - 1


def test_cantilever_tip_deflection_converges_to_euler_bernoulli():
    errors = [abs(_cantilever_error(n)) for n in (5, 10, 20, 40)]
    assert errors[-1] < 0.02
    assert all(b < a for a, b in zip(errors, errors[1:])), errors


def test_plain_trilinear_hexahedra_lock_in_bending_and_bubbles_fix_it():
    # The reason for the incompatible modes: one element through the depth of a beam.
    e, length, side, load = 200e9, 1.0, 0.05, 100.0
    results = {}
    for bubbles in (False, True):
        g = _grid(np.linspace(0, length, 21), [0, side], [0, side], e, bubbles=bubbles)
        p = g.points
        fixed = _fix(g, np.isclose(p[:, 0], 0), [0, 1, 2])
        u, _ = solve.solve_with_prescribed(g.stiffness(), _face_force(g, 0, length, 2, -load), fixed,
                                           np.zeros(g.ndof), p, method="direct")
        results[bubbles] = -u[3 * np.flatnonzero(np.isclose(p[:, 0], length)) + 2].mean()
    exact = load * length**3 / (3 * e * side**4 / 12)
    assert results[False] < 0.8 * exact
    assert results[True] == pytest.approx(exact, rel=0.02)


def _buckle(g, fixed, f, n_modes=1):
    u, solver = solve.solve_with_prescribed(g.stiffness(), f, fixed, np.zeros(g.ndof), g.points,
                                            method="direct")
    stress = g.element_stresses(g.element_strains(u))
    return solve.buckling_factors(solver, g.geometric_stiffness(stress), fixed, n_modes=n_modes)[0]


def test_pinned_column_buckles_at_the_euler_load():
    e, length, b, h = 200e9, 1.0, 0.04, 0.02
    g = _grid(np.linspace(0, length, 101), np.linspace(0, b, 3), np.linspace(0, h, 3), e)
    p = g.points
    ends = np.isclose(p[:, 0], 0) | np.isclose(p[:, 0], length)
    # Pinned: no lateral motion at the ends, axial support only on the end's neutral axis.
    fixed = _fix(g, ends, [1, 2]) | _fix(g, np.isclose(p[:, 0], 0) & np.isclose(p[:, 2], h / 2), [0])
    factors = _buckle(g, fixed, _face_force(g, 0, length, 0, -1.0), n_modes=2)
    euler = np.pi**2 * e * b * h**3 / 12 / length**2
    assert factors[0] == pytest.approx(euler, rel=0.02)
    # The second mode has two half-waves: four times the load.
    assert factors[1] == pytest.approx(4 * euler, rel=0.03)


def test_simply_supported_square_plate_buckles_at_k_equal_4():
    e, nu, a, t = 70e9, 0.3, 1.0, 0.01
    g = _grid(np.linspace(0, a, 21), np.linspace(0, a, 21), np.linspace(0, t, 3), e, nu)
    p = g.points
    x0, x1 = np.isclose(p[:, 0], 0), np.isclose(p[:, 0], a)
    y0, y1 = np.isclose(p[:, 1], 0), np.isclose(p[:, 1], a)
    mid = np.isclose(p[:, 2], t / 2)
    fixed = _fix(g, x0 | x1 | y0 | y1, [2]) | _fix(g, x0 & mid, [0]) | _fix(g, x0 & y0 & mid, [1])
    n_x = 1.0  # N/m along the loaded edge
    factors = _buckle(g, fixed, _face_force(g, 0, a, 0, -n_x * a), n_modes=2)
    d = e * t**3 / (12 * (1 - nu**2))
    assert factors[0] * n_x == pytest.approx(4 * np.pi**2 * d / a**2, rel=0.05)
    # Two half-waves along the load: k = (2 + 1/2)^2 = 6.25.
    assert factors[1] * n_x == pytest.approx(6.25 * np.pi**2 * d / a**2, rel=0.05)


def test_geometric_stiffness_is_symmetric_and_scales_with_stress():
    g = _grid(np.linspace(0, 0.3, 4), np.linspace(0, 0.2, 3), [0, 0.05, 0.1])
    stress = np.random.default_rng(0).standard_normal((*g.material.shape, 3, 3))
    stress = stress + np.swapaxes(stress, -1, -2)
    kg = g.geometric_stiffness(stress)
    assert abs(kg - kg.T).max() <= 1e-12 * abs(kg).max()
    assert abs(g.geometric_stiffness(2 * stress) - 2 * kg).max() <= 1e-12 * abs(kg).max()
    assert isinstance(kg, sp.bsr_matrix)
