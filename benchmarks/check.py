"""Time the compliance check of a reference design: all encoded standards in the fast fidelity,
and the default standards (UN 6.1.5 PG II and SP 188) by finite elements.

Targets (2-core machine): a full fast check under 50 ms; a full FE check of design (a) under 60 s.

    python benchmarks/check.py [--design geometries/a-21700-eps-rsc.toml] [--skip-fe]
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    import packsim

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--design", default="geometries/a-21700-eps-rsc.toml")
    parser.add_argument("--skip-fe", action="store_true", help="time the fast fidelity only")
    args = parser.parse_args()
    design = packsim.load_design(args.design)
    standards = tuple(packsim.builtin_standards())
    packsim.check(design, standards)  # loads and validates the standard files once

    repeats = 20
    start = time.perf_counter()
    for _ in range(repeats):
        report = packsim.check(design, standards)
    fast_s = (time.perf_counter() - start) / repeats
    print(f"design {design.name}")
    print(f"  fast check, {len(standards)} standards, {len(report.rows)} rows: "
          f"{fast_s * 1e3:.1f} ms (target < 50 ms); verdict {'PASS' if report.passed else 'FAIL'}")
    if args.skip_fe:
        return
    # Compile the element kernels before the check forks its workers (see benchmarks/drop.py).
    packsim.simulate_drop(design, 1.2, duration_s=1e-4)
    lines: list[str] = []
    start = time.perf_counter()
    report = packsim.check(design, fidelity="fe", progress=lines.append)
    fe_s = time.perf_counter() - start
    simulated_s = sum(float(line.rsplit(": ", 1)[1].rstrip(" s")) for line in lines)
    print(f"  FE check, {', '.join(report.standards)}: {len(report.rows)} rows, {len(lines)} FE "
          f"simulations ({simulated_s:.1f} s of simulation on {os.cpu_count()} CPUs): {fe_s:.1f} s "
          f"(target < 60 s); verdict {'PASS' if report.passed else 'FAIL'}")

if __name__ == "__main__":
    main()
