"""Compiled per-element loops of the explicit internal-force kernel (numba).

An explicit step touches each element a few dozen times with 3 x 3 and 12 x 12 algebra. As numpy
array expressions that is some hundred passes over element-sized arrays per step, each paying
call overhead and a trip through memory; here each loop makes one pass with everything in
registers. The loops are written like the formulas in :mod:`packsim.fem.nonlinear`.

A whole part's forces are one call (:func:`part_forces`), and a two-part package's step one
parallel call (:func:`two_parts_side_by_side`): the container's forces and its walls' coupled
mass solve on one thread, the insert's forces on the other. Splitting each loop over two threads
instead (numba's parallel loops) gained nothing on design (a): the walls' mass solve then ran
alone; and handing work to a Python helper thread cost 70-230 us per wake-up of a sleeping
thread on this VM, several times a step, where numba's OpenMP workers spin between the calls of
a step. Compiled code is cached beside the module on first use.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..foam import _loading_tangent, _stored_energy, _stress


@njit(cache=True, nogil=True)
def kinematics(u, nodes, kind, gradients, patterns, strain, modes):
    """Centre strains, sym(sum_a u_a (x) dN_a/dx), into ``strain`` (n, 3, 3) and hourglass
    amplitudes, sum_a Gamma_ap u_aj ordered (pattern, component), into ``modes`` (n, 12), in one
    pass over the corners.

    u (ndof,); nodes (n, 8) node of each corner; kind (n,) element kind; gradients
    (kinds, 8, 3) dN_a/dx_i of each kind, 1/m; patterns (8, 4) hourglass vectors Gamma.
    The sums are written out as scalars, which stay in registers (measured 20-30 % faster than
    loops over 3 x 3 and 12-long scratch arrays on design (a)'s insert); writing into arrays
    the caller keeps saves their allocation every step (0.03-0.07 ms on the insert).
    """
    for e in range(nodes.shape[0]):
        t = kind[e]
        h00 = h01 = h02 = h10 = h11 = h12 = h20 = h21 = h22 = 0.0  # h_ki = sum_a u_ak dN_a/dx_i
        m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = m8 = m9 = m10 = m11 = 0.0
        for a in range(8):
            base = 3 * nodes[e, a]
            x0, x1, x2 = u[base], u[base + 1], u[base + 2]
            g0, g1, g2 = gradients[t, a, 0], gradients[t, a, 1], gradients[t, a, 2]
            h00 += x0 * g0
            h01 += x0 * g1
            h02 += x0 * g2
            h10 += x1 * g0
            h11 += x1 * g1
            h12 += x1 * g2
            h20 += x2 * g0
            h21 += x2 * g1
            h22 += x2 * g2
            p0, p1, p2, p3 = patterns[a, 0], patterns[a, 1], patterns[a, 2], patterns[a, 3]
            m0 += p0 * x0
            m1 += p0 * x1
            m2 += p0 * x2
            m3 += p1 * x0
            m4 += p1 * x1
            m5 += p1 * x2
            m6 += p2 * x0
            m7 += p2 * x1
            m8 += p2 * x2
            m9 += p3 * x0
            m10 += p3 * x1
            m11 += p3 * x2
        modes[e, 0], modes[e, 1], modes[e, 2], modes[e, 3] = m0, m1, m2, m3
        modes[e, 4], modes[e, 5], modes[e, 6], modes[e, 7] = m4, m5, m6, m7
        modes[e, 8], modes[e, 9], modes[e, 10], modes[e, 11] = m8, m9, m10, m11
        strain[e, 0, 0], strain[e, 1, 1], strain[e, 2, 2] = h00, h11, h22
        strain[e, 0, 1] = strain[e, 1, 0] = 0.5 * (h01 + h10)
        strain[e, 0, 2] = strain[e, 2, 0] = 0.5 * (h02 + h20)
        strain[e, 1, 2] = strain[e, 2, 1] = 0.5 * (h12 + h21)


@njit(cache=True, nogil=True)
def add_element_forces(f, stress, modes, nodes, kind, gradients, volume, patterns,
                       hg_rows, hg_cols, hg_values):
    """f[dof of a, j] += V sum_i dN_a/dx_i sigma_ij + sum_p Gamma_ap (K_hg q)_pj, in place.

    Per kind: ``gradients`` (kinds, 8, 3), ``volume`` (kinds,) and the hourglass stiffness
    K_hg (12 x 12) as its nonzero entries: ``hg_values`` (kinds, nnz) at rows ``hg_rows`` and
    columns ``hg_cols`` (nnz,); other arguments as :func:`kinematics`.
    """
    resisted = np.empty(12)
    for e in range(nodes.shape[0]):
        t = kind[e]
        g = gradients[t]
        resisted[:] = 0.0
        for n in range(hg_rows.size):
            resisted[hg_rows[n]] += hg_values[t, n] * modes[e, hg_cols[n]]
        # V sigma, and the corner loop written out over j: measured 25-30 % faster than loops.
        v = volume[t]
        s00, s01, s02 = v * stress[e, 0, 0], v * stress[e, 0, 1], v * stress[e, 0, 2]
        s10, s11, s12 = v * stress[e, 1, 0], v * stress[e, 1, 1], v * stress[e, 1, 2]
        s20, s21, s22 = v * stress[e, 2, 0], v * stress[e, 2, 1], v * stress[e, 2, 2]
        for a in range(8):
            base = 3 * nodes[e, a]
            g0, g1, g2 = g[a, 0], g[a, 1], g[a, 2]
            p0, p1, p2, p3 = patterns[a, 0], patterns[a, 1], patterns[a, 2], patterns[a, 3]
            f[base] += (g0 * s00 + g1 * s10 + g2 * s20 + p0 * resisted[0] + p1 * resisted[3]
                        + p2 * resisted[6] + p3 * resisted[9])
            f[base + 1] += (g0 * s01 + g1 * s11 + g2 * s21 + p0 * resisted[1] + p1 * resisted[4]
                            + p2 * resisted[7] + p3 * resisted[10])
            f[base + 2] += (g0 * s02 + g1 * s12 + g2 * s22 + p0 * resisted[2] + p1 * resisted[5]
                            + p2 * resisted[8] + p3 * resisted[11])


@njit(inline="always")
def _law(row):
    """A row of a foam-law table as the tuple the foam kernels take (FoamLaw.parameters)."""
    return (row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8])


@njit(inline="always")
def _linear_stress(c, strain, out):
    """out = C : strain for one element, C (9 x 9, (ij), (kl))."""
    for i in range(3):
        for j in range(3):
            total = 0.0
            for a in range(3):
                for b in range(3):
                    total += c[3 * i + j, 3 * a + b] * strain[a, b]
            out[i, j] = total


@njit(cache=True, nogil=True)
def part_stresses(strain, stress, eps_max, foam_start, foam_members, laws, caps, linear_start,
                  linear_members, tensors, update):
    """Centre stresses of a grid's elements into ``stress`` from their strains; ``update``
    advances the foams' crush history ``eps_max``. Returns the largest loading-tangent ratio of
    its foams (:func:`foam_stresses`; 1 without foams).

    Materials come as tables: foam k's elements are foam_members[foam_start[k]:foam_start[k+1]],
    its law laws[k] (FoamLaw.parameters) and cap caps[k]; linear material k's elements likewise
    from linear_start and linear_members, its stiffness tensors[k] (9 x 9, (ij), (kl)).
    """
    ratio = 1.0
    for k in range(caps.size):
        members = foam_members[foam_start[k]:foam_start[k + 1]]
        ratio = max(ratio, foam_stresses(stress, strain, members, eps_max, _law(laws[k]),
                                         caps[k], update))
    for k in range(tensors.shape[0]):
        for n in range(linear_start[k], linear_start[k + 1]):
            m = linear_members[n]
            _linear_stress(tensors[k], strain[m], stress[m])
    return ratio


@njit(cache=True, nogil=True)
def part_forces(u, f, nodes, kind, gradients, patterns, volume, hg_rows, hg_cols, hg_values,
                strain, modes, stress, eps_max, foam_start, foam_members, laws, caps,
                linear_start, linear_members, tensors):
    """The internal force vector of a grid into ``f`` (overwritten), advancing the foams' crush
    history; returns the largest loading-tangent ratio of its foams (:func:`part_stresses`).

    The material tables are :func:`part_stresses`'; the other arguments are those of
    :func:`kinematics` and :func:`add_element_forces`, and the scratch arrays strain, modes and
    stress (elements, ...).
    """
    kinematics(u, nodes, kind, gradients, patterns, strain, modes)
    ratio = part_stresses(strain, stress, eps_max, foam_start, foam_members, laws, caps,
                          linear_start, linear_members, tensors, True)
    f[:] = 0.0
    add_element_forces(f, stress, modes, nodes, kind, gradients, volume, patterns, hg_rows,
                       hg_cols, hg_values)
    return ratio


@njit(cache=True, nogil=True, error_model="numpy")
def part_stored_energy(strain, modes, kind, volume, eps_max, foam_start, foam_members, laws, caps,
                       linear_start, linear_members, tensors, hg_rows, hg_cols, hg_values, x, w):
    """Elastic energy a grid would give back on unloading, J: the foams' recoverable energy
    along each principal strain (FoamLaw.stored_energy, Gauss-Legendre rule x, w; tension
    linear), the linear materials' strain energy and the hourglass energy. Tables as
    :func:`part_stresses` (``caps`` unused: the energy follows the law itself); ``volume`` per
    element kind."""
    total = 0.0
    values = np.empty(3)
    stress = np.empty((3, 3))
    for k in range(caps.size):
        law = _law(laws[k])
        for n in range(foam_start[k], foam_start[k + 1]):
            m = foam_members[n]
            _eigenvalues3(strain[m], values)
            density = 0.0
            for i in range(3):
                if values[i] < 0.0:
                    compression = -values[i]
                    density += _stored_energy(compression, max(eps_max[m], compression), x, w,
                                              law)
                else:
                    density += 0.5 * law[0] * values[i] ** 2
            total += density * volume[kind[m]]
    for k in range(tensors.shape[0]):
        for n in range(linear_start[k], linear_start[k + 1]):
            m = linear_members[n]
            _linear_stress(tensors[k], strain[m], stress)
            total += 0.5 * np.sum(stress * strain[m]) * volume[kind[m]]
    return total + hourglass_energy(modes, kind, hg_rows, hg_cols, hg_values)


@njit(cache=True, nogil=True)
def solve_blocks(out, f, columns_t, indptr, indices, data, d_inverse, order, y):
    """out[columns_t[c]] = A^-1 f[columns_t[c]] for every block c (coordinates columns_t[c])
    of a mass matrix whose coupled blocks share one matrix A; a no-op when columns_t is empty.

    A is factorised as P A P^T = L D L^T: L unit lower triangular in CSC (indptr, indices,
    data; each column's diagonal first), ``d_inverse`` 1 / D, and A's row order[j] is row j of
    P A P^T. The blocks are solved three at a time (a block may be repeated to fill the last
    three), which reads L once per sweep for three right-hand sides: on design (a)'s walls
    (3 x 3192 coordinates) 0.37 ms, against 0.74 ms one at a time or with a loop over the
    blocks (scalars in registers, not a row of ``y``); ``y`` (size, 3) is scratch.
    """
    size = columns_t.shape[1]
    for t in range(0, columns_t.shape[0], 3):
        c0, c1, c2 = columns_t[t], columns_t[t + 1], columns_t[t + 2]
        for j in range(size):
            k = order[j]
            y[j, 0], y[j, 1], y[j, 2] = f[c0[k]], f[c1[k]], f[c2[k]]
        for j in range(size):
            y0, y1, y2 = y[j, 0], y[j, 1], y[j, 2]
            for p in range(indptr[j] + 1, indptr[j + 1]):
                i, entry = indices[p], data[p]
                y[i, 0] -= entry * y0
                y[i, 1] -= entry * y1
                y[i, 2] -= entry * y2
        for j in range(size - 1, -1, -1):
            s0, s1, s2 = y[j, 0] * d_inverse[j], y[j, 1] * d_inverse[j], y[j, 2] * d_inverse[j]
            for p in range(indptr[j] + 1, indptr[j + 1]):
                i, entry = indices[p], data[p]
                s0 -= entry * y[i, 0]
                s1 -= entry * y[i, 1]
                s2 -= entry * y[i, 2]
            y[j, 0], y[j, 1], y[j, 2] = s0, s1, s2
        for j in range(size):
            k = order[j]
            out[c0[k]], out[c1[k]], out[c2[k]] = y[j, 0], y[j, 1], y[j, 2]


@njit(cache=True, nogil=True)
def first_part_and_its_accelerations(first, solve):
    """Forces of the first part (the arguments of :func:`part_forces`) and its coordinates'
    accelerations out = M^-1 (f_q - f[local]), where solve = (out, f_q, local, rhs, inverse,
    then the arguments of :func:`solve_blocks` after its first two): ``rhs`` scratch, ``inverse``
    1 / mass of every coordinate, the blocks those coupled (one flat tuple: a parallel call
    takes no nested ones). Returns the forces' ratio."""
    ratio = part_forces(*first)
    f = first[1]
    out, f_q, local, rhs, inverse = solve[0], solve[1], solve[2], solve[3], solve[4]
    for i in range(local.size):
        rhs[i] = f_q[i] - f[local[i]]
        out[i] = inverse[i] * rhs[i]
    solve_blocks(out, rhs, *solve[5:])
    return ratio


@njit(cache=True, nogil=True, parallel=True)
def two_parts_side_by_side(first, second, solve, ratios):
    """On two threads: :func:`first_part_and_its_accelerations` (ratio into ratios[0]) beside
    the second part's :func:`part_forces` (ratios[1])."""
    for c in prange(2):
        if c == 0:
            ratios[0] = first_part_and_its_accelerations(first, solve)
        else:
            ratios[1] = part_forces(*second)


@njit(cache=True, nogil=True)
def floor_pushes(push, height0, u, normal, stiffness):
    """Penalty pushes of a plane on nodes, in one pass: push[i] = k_i max(-d_i, 0) with
    d_i = height0[i] + u_i . n the node's height over the plane; returns the total push (N), the
    springs' energy (J) and whether any node is below the plane.

    push, height0, stiffness (n_nodes,); u (3 n_nodes,); normal (3,).
    """
    total, energy, below = 0.0, 0.0, False
    for i in range(height0.size):
        d = height0[i] + u[3 * i] * normal[0] + u[3 * i + 1] * normal[1] + u[3 * i + 2] * normal[2]
        if d < 0.0:
            p = -stiffness[i] * d
            push[i] = p
            total += p
            energy -= 0.5 * p * d
            below = True
        else:
            push[i] = 0.0
    return total, energy, below


@njit(cache=True, nogil=True)
def generalised_forces(weight, push, normal, node, axis):
    """weight + T^T (push n): the floor's pushes along ``normal`` on the nodes, on the
    coordinates that carry mass (q[i] is component axis[i] of node[i]), plus ``weight`` (nq,).
    As numpy, broadcasting the pushes over a length-3 axis and gathering the carried dofs cost
    0.46 ms per step on design (a); this pass costs a few hundredths.
    """
    out = weight.copy()
    for i in range(node.size):
        out[i] += push[node[i]] * normal[axis[i]]
    return out


@njit(cache=True, nogil=True)
def advance(q, v, dt, carried, u):
    """q += dt v, and the nodal displacements u[carried[i]] = q[i] in place (the dofs that carry
    no mass stay as they are: zero). As numpy (a new u, the update, the difference for the work)
    this bookkeeping cost 0.6 ms per step on design (a); one pass costs a few hundredths."""
    for i in range(q.size):
        q[i] += dt * v[i]
    for i in range(carried.size):
        u[carried[i]] = q[i]


@njit(cache=True, nogil=True)
def work_increment(f_old, f_new, v, dt, carried):
    """Trapezoidal work of the internal forces over a step, (f_old + f_new) . du / 2, J, where
    du[carried[i]] = dt v[i] and the other dofs do not move."""
    total = 0.0
    for i in range(carried.size):
        d = carried[i]
        total += (f_old[d] + f_new[d]) * v[i]
    return 0.5 * dt * total


@njit(cache=True, nogil=True)
def add_contact_forces(f, indptr, indices, data, stiffness, q):
    """Unilateral penalty contacts with gaps G q (G in CSR: indptr, indices, data): adds
    G^T (-k min(G q, 0)) to f in place, in one pass over G; returns the springs' energy, J."""
    energy = 0.0
    for r in range(indptr.size - 1):
        gap = 0.0
        for j in range(indptr[r], indptr[r + 1]):
            gap += data[j] * q[indices[j]]
        if gap < 0.0:
            push = -stiffness[r] * gap
            for j in range(indptr[r], indptr[r + 1]):
                f[indices[j]] += data[j] * push
            energy += 0.5 * stiffness[r] * gap * gap
    return energy


@njit(cache=True, nogil=True)
def hourglass_energy(modes, kind, hg_rows, hg_cols, hg_values):
    """sum_e 1/2 q_e . K_hg q_e over the elements, J (arguments as :func:`add_element_forces`)."""
    total = 0.0
    for e in range(modes.shape[0]):
        t = kind[e]
        for n in range(hg_rows.size):
            total += 0.5 * modes[e, hg_rows[n]] * hg_values[t, n] * modes[e, hg_cols[n]]
    return total


@njit(cache=True, nogil=True)
def _eigenvalues3(a, out):
    """Ascending eigenvalues of one symmetric 3 x 3 matrix into ``out`` (3,), by the
    trigonometric solution of the characteristic cubic."""
    q = (a[0, 0] + a[1, 1] + a[2, 2]) / 3.0
    b00, b11, b22 = a[0, 0] - q, a[1, 1] - q, a[2, 2] - q
    b01, b02, b12 = a[0, 1], a[0, 2], a[1, 2]
    p = np.sqrt((b00 * b00 + b11 * b11 + b22 * b22
                 + 2.0 * (b01 * b01 + b02 * b02 + b12 * b12)) / 6.0)
    r = 0.0
    if p > 0.0:
        det = (b00 * (b11 * b22 - b12 * b12) - b01 * (b01 * b22 - b12 * b02)
               + b02 * (b01 * b12 - b11 * b02))
        r = min(max(det / (2.0 * p * p * p), -1.0), 1.0)
    phi = np.arccos(r) / 3.0
    high = q + 2.0 * p * np.cos(phi)
    low = q + 2.0 * p * np.cos(phi + 2.0 * np.pi / 3.0)
    out[0] = low
    out[1] = 3.0 * q - low - high
    out[2] = high


@njit(cache=True, nogil=True)
def _spectral3(a, values, mapped, out):
    """sum_i f_i v_i v_i^T of one symmetric 3 x 3 matrix into ``out`` (see spectral_map)."""
    l1, l2, l3 = values[0], values[1], values[2]
    f1, f2, f3 = mapped[0], mapped[1], mapped[2]
    scale = max(abs(l1), abs(l2), abs(l3))
    tol = 1e-6 * (scale if scale > 0.0 else 1.0)
    d12, d23, d13 = l2 - l1, l3 - l2, l3 - l1
    distinct = d12 > tol and d23 > tol
    if distinct:
        slope = (f2 - f1) / d12
        second = ((f3 - f2) / d23 - slope) / d13
    else:
        slope = (f3 - f1) / d13 if d13 > tol else 0.0
        second = 0.0
    for i in range(3):
        for j in range(3):
            value = slope * (a[i, j] - (l1 if i == j else 0.0)) + (f1 if i == j else 0.0)
            if distinct:
                quad = 0.0
                for k in range(3):
                    quad += (a[i, k] - (l1 if i == k else 0.0)) * (a[k, j] - (l2 if k == j else 0.0))
                value += second * quad
            out[i, j] = value


@njit(cache=True, nogil=True)
def symmetric_eigenvalues(a):
    """Ascending eigenvalues (n, 3) of symmetric 3 x 3 matrices (n, 3, 3), in closed form: no
    per-matrix LAPACK call."""
    out = np.empty((a.shape[0], 3))
    for e in range(a.shape[0]):
        _eigenvalues3(a[e], out[e])
    return out


@njit(cache=True, nogil=True)
def spectral_map(a, values, mapped):
    """sum_i f(lambda_i) v_i v_i^T for symmetric ``a`` (n, 3, 3) with ascending eigenvalues
    ``values`` (n, 3) and f(lambda_i) = ``mapped`` (n, 3), without eigenvectors.

    The polynomial through (lambda_i, f_i) in Newton form, evaluated at ``a``, is that matrix
    function. Eigenvalues closer than 1e-6 of the largest are merged (a straight line through the
    extreme pair, or a constant), which errs by that fraction of f's slope.
    """
    out = np.empty_like(a)
    for e in range(a.shape[0]):
        _spectral3(a[e], values[e], mapped[e], out[e])
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def foam_stresses(out, strain, members, eps_max, law, cap, update):
    """Stresses of the foam elements ``members``: out[m] from strain[m], Pa.

    Along each principal strain the foam law (``law`` = FoamLaw.parameters) with the crush
    history ``eps_max`` (advanced in place when ``update``); past ``cap`` the loading tangent
    there continues. Elements that never left the elastic line (Gershgorin's bound on the
    smallest eigenvalue above minus the yield strain, now and before) skip the eigenvalues.
    Returns the loading tangent at the largest crush history of the members (capped at ``cap``),
    over the initial modulus: how much stiffer than virgin foam the stiffest element unloads.
    """
    e, plateau, ed, el, p0, r, resilient, exponent, dissipative = law
    yield_strain = plateau / e
    cap_tangent = _loading_tangent(cap, e, plateau, ed, el, p0, r) if np.isfinite(cap) else 0.0
    values = np.empty(3)
    principal = np.empty(3)
    worst = 0.0
    for idx in range(members.size):
        m = members[idx]
        s = strain[m]
        worst = max(worst, eps_max[m])
        elastic = eps_max[m] <= yield_strain
        for i in range(3):
            off = abs(s[i, 0]) + abs(s[i, 1]) + abs(s[i, 2]) - abs(s[i, i])
            if s[i, i] - off <= -yield_strain:
                elastic = False
        if elastic:
            for i in range(3):
                for j in range(3):
                    out[m, i, j] = e * s[i, j]
            continue
        _eigenvalues3(s, values)
        history = min(eps_max[m], cap)
        largest = eps_max[m]
        for k in range(3):
            compression = -values[k]
            largest = max(largest, compression)
            if compression > 0.0:
                capped = min(compression, cap)
                crushed = _stress(capped, max(history, capped), e, plateau, ed, el, p0, r,
                                  resilient, exponent, dissipative)
                principal[k] = -crushed - cap_tangent * max(compression - cap, 0.0)
            else:
                principal[k] = e * values[k]
        if update:
            eps_max[m] = largest
        worst = max(worst, eps_max[m])
        _spectral3(s, values, principal, out[m])
    return _loading_tangent(min(worst, cap), e, plateau, ed, el, p0, r) / e
