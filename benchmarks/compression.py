"""Time the static compression path on a package-like model at about 45k and 200k DOFs.

Prints, for each size: mesh, assembly and solve times of the default path (structured assembly,
AMG-preconditioned CG) and the peak resident memory of the process that ran it; and, at 45k, the
time of scipy's direct ``spsolve`` (SuperLU) on the same system as the baseline, with the ratio.
Beside the times, one bare matvec with the model's stiffness matrix, measured in the same process:
the speed of the 2-core test machine varies from hour to hour (the same 183k-DOF matvec took 10.5
to 19.8 ms on 2026-11-27), and assembly plus solve counted in matvecs varies much less.

Targets (2-core machine): at 200k DOFs assembly + solve < 5 s and < 3 GB; at 45k at least 10x
faster than the SuperLU baseline.

    python benchmarks/compression.py [--design geometries/a-21700-eps-rsc.toml]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import time

import numpy as np
from _timing import bare_matvec_s

TARGETS = (45_000, 200_000)


def _mesh_size_for(design, target: int) -> float:
    from packsim.fem.mesh import MeshSizeError, package_mesh

    def too_fine(size: float) -> bool:
        try:
            return package_mesh(design, size).dofs > target
        except MeshSizeError:
            return True

    lo, hi = 0.001, 0.05
    for _ in range(30):
        mid = (lo * hi) ** 0.5
        if too_fine(mid):
            lo = mid
        else:
            hi = mid
    return hi


def _run(design_path: str, target: int, baseline: bool, out: mp.Queue) -> None:
    import scipy.sparse.linalg as spla

    import packsim
    from packsim.compression import platen_constraints
    from packsim.fem import solve
    from packsim.fem.mesh import package_mesh

    design = packsim.load_design(design_path)
    size = _mesh_size_for(design, target)
    t = time.perf_counter()
    grid = package_mesh(design, size).grid
    grid.element_types  # noqa: B018  (part of meshing: classify element kinds)
    mesh_s = time.perf_counter() - t
    t = time.perf_counter()
    k = grid.stiffness()
    assembly_s = time.perf_counter() - t
    fixed, values, _, _ = platen_constraints(grid)
    t = time.perf_counter()
    u, lin = solve.solve_with_prescribed(k, np.zeros(grid.ndof), fixed, values, grid.points)
    solve_s = time.perf_counter() - t
    row = {"dofs": grid.ndof, "mesh_size_m": size, "mesh_s": mesh_s, "assembly_s": assembly_s,
           "solve_s": solve_s, "amg_setup_s": lin.setup_s, "cg_iterations": lin.iterations[-1]}
    if baseline:
        rhs = -(k @ np.where(fixed, values, 0.0))
        rhs[fixed] = lin.k.diagonal()[fixed] * values[fixed]
        t = time.perf_counter()
        u_lu = spla.spsolve(lin.k.tocsc(), rhs)
        row["superlu_s"] = time.perf_counter() - t
        row["superlu_difference"] = float(np.abs(u_lu - u).max() / np.abs(u_lu).max())
    row["matvec_s"] = bare_matvec_s(k)
    row["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    out.put(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--design", default="geometries/a-21700-eps-rsc.toml")
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    rows = []
    for target in TARGETS:
        queue = ctx.Queue()
        proc = ctx.Process(target=_run, args=(args.design, target, target == TARGETS[0], queue))
        proc.start()
        proc.join()
        if proc.exitcode != 0:
            raise SystemExit(f"the {target}-DOF run failed (exit code {proc.exitcode})")
        rows.append(queue.get())
    print(f"{'DOFs':>8} {'mesh s':>7} {'assembly s':>10} {'solve s':>8} {'(AMG setup)':>11} "
          f"{'CG its':>6} {'asm+solve s':>11} {'matvec ms':>9} {'= matvecs':>9} {'peak GB':>8}")
    for r in rows:
        print(f"{r['dofs']:>8} {r['mesh_s']:>7.2f} {r['assembly_s']:>10.2f} {r['solve_s']:>8.2f} "
              f"{r['amg_setup_s']:>11.2f} {r['cg_iterations']:>6} "
              f"{r['assembly_s'] + r['solve_s']:>11.2f} {r['matvec_s'] * 1e3:>9.1f} "
              f"{(r['assembly_s'] + r['solve_s']) / r['matvec_s']:>9.0f} {r['peak_rss_gb']:>8.2f}")
    small, large = rows
    ratio = small["superlu_s"] / (small["assembly_s"] + small["solve_s"])
    print(f"\nbaseline at {small['dofs']} DOFs: SuperLU spsolve {small['superlu_s']:.2f} s "
          f"(solution differs by {small['superlu_difference']:.1e}); default path "
          f"{small['assembly_s'] + small['solve_s']:.2f} s = {ratio:.1f}x faster (target >= 10x)")
    total = large["assembly_s"] + large["solve_s"]
    print(f"at {large['dofs']} DOFs: assembly + solve {total:.2f} s (target < 5 s), "
          f"peak {large['peak_rss_gb']:.2f} GB (target < 3 GB)")


if __name__ == "__main__":
    main()
