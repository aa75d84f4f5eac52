"""Constrained TPE against random search on a study, at the same trial budget.

Runs the study's fast fidelity (the screening every trial gets) with each sampler for three
seeds and prints the lowest feasible value of the first objective per run and the median per
sampler. Target: TPE's median below random search's.

    python benchmarks/study_samplers.py [--study studies/a-lightest.toml] [--trials 60]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path


def main() -> None:
    import packsim

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="studies/a-lightest.toml")
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    study = packsim.load_study(args.study)
    objective = study.objectives[0]
    print(f"study {study.name}: {objective}, {args.trials} trials, fast fidelity, seeds {args.seeds}")
    print(f"  base design {getattr(study.base, objective):.4g}")
    medians = {}
    with tempfile.TemporaryDirectory() as tmp:
        for sampler in ("tpe", "random"):
            found = []
            for seed in args.seeds:
                run = replace(study, name=f"{study.name}-{sampler}-{seed}", sampler=sampler,
                              seed=seed, fidelity="fast", output_dir=Path(tmp) / f"{sampler}-{seed}")
                start = time.perf_counter()
                result = packsim.optimize(run, n_trials=args.trials)
                best = result.best[0].objectives[objective] if result.best else float("inf")
                found.append(best)
                print(f"  {sampler:<6} seed {seed}: best feasible {best:.4g} "
                      f"({time.perf_counter() - start:.1f} s)")
            medians[sampler] = statistics.median(found)
    print(f"  median best feasible: tpe {medians['tpe']:.4g}, random {medians['random']:.4g} "
          f"-> {'TPE lower' if medians['tpe'] < medians['random'] else 'TPE NOT lower'} "
          "(target: TPE lower)")


if __name__ == "__main__":
    main()
