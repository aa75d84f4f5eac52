"""Figures of an optimisation study (Optuna's matplotlib plots), saved beside its results."""

from __future__ import annotations

import warnings
from pathlib import Path

import optuna


def plot_study(study: optuna.Study, objectives: tuple[str, ...], out: Path) -> dict[str, Path]:
    """Optimisation history per objective, the Pareto front (two objectives) and the parameter
    importances, as PNG files in ``out``; a figure that cannot be drawn yet (too few complete
    trials, a single parameter value) is skipped."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as ovm

    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    figures = {}
    for i, name in enumerate(objectives):
        figures[f"history-{name}"] = lambda i=i, name=name: ovm.plot_optimization_history(
            study, target=lambda t: t.values[i], target_name=name)
    if len(objectives) == 2:
        figures["pareto-front"] = lambda: ovm.plot_pareto_front(study, target_names=list(objectives))
    figures[f"importances-{objectives[0]}"] = lambda: ovm.plot_param_importances(
        study, target=lambda t: t.values[0], target_name=objectives[0])
    files = {}
    if len(complete) < 2:
        return files
    for key, draw in figures.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
            try:
                ax = draw()
            except (ValueError, RuntimeError, ZeroDivisionError):
                continue
        fig = ax.figure if hasattr(ax, "figure") else ax.flat[0].figure
        path = out / f"{key}.png"
        fig.savefig(path, dpi=120, bbox_inches="tight")
        plt.close(fig)
        files[key] = path
    return files
