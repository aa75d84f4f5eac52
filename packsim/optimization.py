"""Optimisation studies: the lightest (and lowest-carbon) design that passes its standards.

Optuna searches; packsim supplies the design variants, the objectives and the constraints. Every
trial is a design variant (:meth:`Design.replace` of the study's variables), screened by the fast
compliance check. With the ``fe`` fidelity policy a screened design that passes and could improve
on the best FE-confirmed design so far (single objective: lighter; two objectives: not dominated)
is then checked by finite elements, within the study's budget of FE checks, and its constraints
come from that check. The best design reported is always FE-confirmed. The base design is the
first trial, the reference: the ``fe`` policy checks it by finite elements whatever screening
says, so that the study states whether it passes and how much the best design saves on it.

Once FE has checked some designs, screening corrects the fast models by the ratio of FE to fast
results seen so far per criterion and load case, among designs with the same kind of insert
(:func:`fe_bias`, :func:`insert_kind`): a fast model that FE shows to be optimistic stops sending
its designs to FE, one it shows to be pessimistic stops keeping them from it. The correction is
stored with each trial (``fe_bias``).

Each compliance criterion becomes one named Optuna constraint (``standard/test/criterion``: the
largest shortfall over its load cases, <= 0 when it passes), so infeasible trials inform the
sampler and any Optuna tool shows which clause bound. Each trial stores its design, margins and
fidelity as user attributes.

The storage is a SQLite file in the study's output folder unless a URL is given (e.g.
``postgresql://...`` for workers on several machines). Running a study again resumes it: the
budget counts the trials already finished. A process killed mid-trial leaves a trial that its
heartbeat marks failed at the next start (and re-queues once), so none stays running forever; one
killed before its first heartbeat is failed at the next start once the grace period has passed.
"""

from __future__ import annotations

import json
import math
import os
import socket
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.study import MaxTrialsCallback
from optuna.trial import FrozenTrial, TrialState

from . import _json
from .compliance import ComplianceReport, Row, check
from .design import Design
from .reuse import LifeForecast, forecast
from .errors import PacksimInputError, Problem
from ._database import missing_driver, sqlite_transactions
from ._database import shown_url as _shown
from .study import Study, Variable, load_study
from .study_plots import plot_study

#: Trials that count against the budget: evaluated designs, and variants the design rules refuse.
_DONE = (TrialState.COMPLETE, TrialState.PRUNED)
#: The trial that evaluates the study's base design: the first, queued before any other.
_REFERENCE = 0
#: A shortfall beyond this (a pad crushed solid: -inf margin) is recorded as this, finite.
_WORST = 1e3
#: Seconds between a running trial's heartbeats, and after which a silent one counts as dead
#: (a killed worker's trial is failed, and re-queued once, by the next worker to start a trial).
_HEARTBEAT_S, _GRACE_S = 2, 8


@dataclass(frozen=True)
class Candidate:
    """A design a study evaluated.

    Attributes
    ----------
    trial : int
        Trial number (-1 for the study's base design).
    design : Design
    objectives : dict of str to float
        Objective values, kg.
    fidelity : str
        ``fast`` or ``fe``: the highest fidelity its compliance check ran at.
    feasible : bool
        Every criterion passed at that fidelity.
    """

    trial: int
    design: Design
    objectives: dict[str, float]
    fidelity: str
    feasible: bool

    @property
    def label(self) -> str:
        """``trial N: objective value, ...`` for summaries."""
        return f"trial {self.trial}: " + ", ".join(f"{k} {v:.4g}" for k, v in self.objectives.items())


@dataclass(frozen=True)
class StudyResult:
    """What a study found.

    Attributes
    ----------
    name, storage : str
        Optuna study name and storage URL (open it with any Optuna tool).
    best : tuple of Candidate
        FE-confirmed feasible designs: the lightest (one objective) or the Pareto front (two).
        With the ``fast`` policy, the best by the fast check.
    trials : int
        Trials finished (complete or refused by the design rules), this run and earlier ones.
    screened : tuple of Candidate
        The best designs that pass the fast check but were not FE-checked (the FE budget spent)
        and would improve on ``best`` (lighter; not dominated by it); the same as ``best`` with
        the ``fast`` policy.
    files : dict of str to Path
        Outputs written (best design, its report, figures).
    fe_bias : dict of str to dict of str to float
        Per kind of insert (:func:`insert_kind`, e.g. ``pe-33 relieved``) that FE has checked,
        and per criterion and load case (``standard/test/criterion @ condition``), how much
        harsher FE judged it than the fast models (largest FE load / fast load over the
        FE-checked trials of that kind, :func:`fe_bias`): the factor screening applies.
    closest : Candidate or None
        When no design is confirmed: of the designs that failed, the one that came closest
        (smallest worst shortfall).
    shortfall : tuple of (str, float or None) or None
        The closest design's worst criterion and its load over the limit there (with the FE
        bias applied to a fast-only trial); None for a failed rule that has no margin.
    reference : Candidate or None
        The base design (trial 0) once evaluated: FE-checked with the ``fe`` policy.
    reference_shortfall : tuple of (str, float or None) or None
        When the reference fails: its worst criterion and load over the limit, as ``shortfall``.
    """

    name: str
    storage: str
    objectives: tuple[str, ...]
    best: tuple[Candidate, ...]
    trials: int
    screened: tuple[Candidate, ...] = ()
    files: dict[str, Path] = field(default_factory=dict)
    fe_bias: dict[str, dict[str, float]] = field(default_factory=dict)
    closest: Candidate | None = None
    shortfall: tuple[str, float | None] | None = None
    reference: Candidate | None = None
    reference_shortfall: tuple[str, float | None] | None = None

    def saving(self) -> dict[str, float]:
        """Per objective, the fraction by which the best design improves on the reference
        (one objective and a confirmed best only; 0.25 is 25 % lighter)."""
        if self.reference is None or len(self.best) != 1:
            return {}
        ref, best = self.reference.objectives, self.best[0].objectives
        return {k: 1.0 - best[k] / ref[k] for k in self.objectives if ref[k] > 0}

    def findings(self) -> list[tuple[str, str]]:
        """What a reader needs beside the best designs, as (label, text): the design that came
        closest when none is confirmed, whether the reference passes and what the best saves on
        it, and how much harsher FE was than the fast models."""
        out = []
        if self.closest is not None:
            out.append(("closest", f"{self.closest.label} ({self.closest.fidelity}): "
                                   f"{_shortfall_text(self.shortfall)}"))
        if self.reference is not None:
            verdict = ("passes" if self.reference.feasible
                       else f"fails: {_shortfall_text(self.reference_shortfall)}")
            out.append(("reference", f"{self.reference.label} ({self.reference.fidelity}): {verdict}"))
        out += [("saving", f"{key} {fraction:.1%} below the reference")
                for key, fraction in self.saving().items()]
        for kind, bias in sorted(self.fe_bias.items()):
            by_criterion: dict[str, list[float]] = {}
            for key, ratio in bias.items():
                by_criterion.setdefault(_criterion(key), []).append(ratio)
            for key, ratios in sorted(by_criterion.items()):
                lo, hi = f"{min(ratios):.2f}", f"{max(ratios):.2f}"
                if lo == hi == "1.00":  # a rule both fidelities evaluate alike
                    continue
                span = f"{hi}x" if lo == hi else f"{lo}-{hi}x"
                cases = f" over {len(ratios)} load cases" if len(ratios) > 1 else ""
                out.append(("FE / fast", f"{kind}: {key} {span}{cases} (screening scales each "
                                         "fast load by its own)"))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "storage": self.storage, "objectives": list(self.objectives),
                "trials": self.trials,
                "best": [_candidate_dict(c) for c in self.best],
                "screened": [_candidate_dict(c) for c in self.screened],
                "files": {k: str(v) for k, v in self.files.items()},
                "fe_bias": {kind: dict(bias) for kind, bias in self.fe_bias.items()},
                "closest": _shortfall_dict(self.closest, self.shortfall),
                "reference": _shortfall_dict(self.reference, self.reference_shortfall),
                "saving": self.saving()}


def _candidate_dict(c: Candidate) -> dict[str, Any]:
    return {"trial": c.trial, "objectives": c.objectives, "fidelity": c.fidelity,
            "design": c.design.to_dict()}


def _shortfall_dict(c: Candidate | None, shortfall: tuple[str, float | None] | None
                    ) -> dict[str, Any] | None:
    if c is None:
        return None
    criterion, load = shortfall or (None, None)
    return {**_candidate_dict(c), "feasible": c.feasible, "criterion": criterion,
            "load_over_limit": load}


def _shortfall_text(shortfall: tuple[str, float | None]) -> str:
    criterion, load = shortfall
    return f"{criterion} {'fails' if load is None else f'at {load:.2f}x its limit'}"


def _storage(url: str) -> RDBStorage:
    # SQLite serialises writers: let concurrent workers wait for the lock instead of failing.
    engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeats
            storage = RDBStorage(url, engine_kwargs=engine, heartbeat_interval=_HEARTBEAT_S,
                                 grace_period=_GRACE_S,
                                 heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(
                                     max_retry=1))
    except ModuleNotFoundError as exc:
        raise StorageError([Problem("storage", _shown(url), missing_driver(exc))]) from None
    except Exception as exc:  # SQLAlchemy: bad URL, server down, wrong password
        raise StorageError([Problem("storage", _shown(url),
                                    f"cannot open it: {exc}".splitlines()[0])]) from None
    if url.startswith("sqlite"):
        # Optuna reads a queued trial as waiting, then marks it running; unless both happen in one
        # transaction, two workers can take the same trial (and one then fails to finish it).
        sqlite_transactions(storage.engine, lambda conn: True)
    return storage


def _fail_silent_trials(target: optuna.Study) -> list[int]:
    """Fail the running trials that never recorded a heartbeat and started more than the grace
    period ago; returns their numbers.

    A worker killed between taking a trial and its heartbeat thread's first beat leaves such a
    trial, and Optuna's stale-trial check skips trials without a heartbeat (RDBStorage.
    _get_stale_trial_ids), so it would stay running forever. A live worker beats within
    milliseconds of taking a trial, so one silent for the grace period is dead.
    """
    from datetime import datetime, timedelta

    from optuna.storages._rdb.models import TrialHeartbeatModel

    storage = target._storage
    database = getattr(storage, "_backend", storage)  # Optuna wraps an RDBStorage in a cache
    cutoff = datetime.now() - timedelta(seconds=_GRACE_S)
    old = [t for t in target.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
           if t.datetime_start is not None and t.datetime_start < cutoff]
    if not old or not isinstance(database, RDBStorage):
        return []
    with database.scoped_session() as session:
        beating = {row.trial_id for row in session.query(TrialHeartbeatModel.trial_id).filter(
            TrialHeartbeatModel.trial_id.in_([t._trial_id for t in old]))}
    failed = []
    for t in old:
        if t._trial_id in beating:
            continue
        try:
            if storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL):
                failed.append(t.number)
        except optuna.exceptions.UpdateFinishedTrialError:
            pass  # another worker got there first
    return failed


class StorageError(PacksimInputError):
    """The study storage cannot be opened (bad URL, missing driver, server not reachable)."""

    what = "storage"


def _sampler(study: Study) -> optuna.samplers.BaseSampler:
    if study.sampler == "random":
        return optuna.samplers.RandomSampler(seed=study.seed)
    if study.sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=study.seed)
    # constant_liar: parallel workers do not all propose the same point.
    return optuna.samplers.TPESampler(seed=study.seed, multivariate=True, constant_liar=True)


def _label(choice: Any) -> Any:
    """An Optuna categorical value for a choice: a table (a whole design section) as JSON."""
    return json.dumps(choice, sort_keys=True) if isinstance(choice, dict) else choice


def _suggest(trial: optuna.Trial, v: Variable) -> Any:
    if v.choices is not None:
        labels = [_label(c) for c in v.choices]
        return v.choices[labels.index(trial.suggest_categorical(v.path, labels))]
    if v.integer:
        return trial.suggest_int(v.path, int(v.low), int(v.high), step=int(v.step or 1), log=v.log)
    value = trial.suggest_float(v.path, v.low, v.high, step=v.step, log=v.log)
    # On a step grid Optuna returns low + k step in binary floats (0.07100000000000001 m): the
    # design, and the best design's file a supplier reads, get the number the grid means.
    return round(value, 12) if v.step else value


def _objective_values(design: Design, study: Study) -> tuple[list[float], LifeForecast | None]:
    """The study's objectives for ``design``, and its life forecast when an objective is per
    trip (None otherwise)."""
    values = {"packaging_mass_kg": design.packaging_mass_kg, "co2e_kg": design.co2e_kg}
    life = None
    if any(o.endswith("_per_trip_kg") for o in study.objectives):
        life = forecast(design, list(study.standards), study.trip_profile, horizon=study.horizon)
        values.update(mass_per_trip_kg=life.mass_per_trip_kg,
                      co2e_per_trip_kg=life.co2e_per_trip_kg)
    return [float(values[o]) for o in study.objectives], life


def constraints(report: ComplianceReport) -> dict[str, float]:
    """One value per criterion (``standard/test/criterion``): the largest shortfall over its load
    cases, -margin (<= 0 passes); 1 or 0 for rules without a margin, 0 when not evaluated."""
    out: dict[str, float] = {}
    for row in report.rows:
        key = _key(row)
        if row.status == "not-evaluated":
            value = 0.0
        elif row.margin is not None:
            value = min(-row.margin, _WORST)
        else:
            value = 1.0 if row.status == "fail" else 0.0
        out[key] = max(out.get(key, -math.inf), value)
    return out


def loads(report: ComplianceReport) -> dict[str, float]:
    """Per criterion and load case (``standard/test/criterion @ condition``; the criterion's key
    as :func:`constraints` for a rule on the design), value / limit of the rows with a margin
    (margin = 1 - value / limit): what the fidelities are compared on, case by case."""
    out: dict[str, float] = {}
    for row in report.rows:
        if row.margin is not None and math.isfinite(row.margin):
            key = _key(row) + (f" @ {row.condition}" if row.condition else "")
            out[key] = max(out.get(key, -math.inf), 1.0 - row.margin)
    return out


def _key(row: Row) -> str:
    """A row's criterion as a constraint name: ``standard/test/criterion``."""
    return f"{row.standard}/{row.test}/{row.criterion}"


def _criterion(key: str) -> str:
    """The criterion (constraint) a load key of :func:`loads` belongs to."""
    return key.split(" @ ", 1)[0]


def insert_kind(design: dict[str, Any]) -> str:
    """What the FE bias is learnt per, from a design's data (:meth:`Design.to_dict`): its
    insert's material, and ``relieved`` for a ribbed insert (``pe-33 relieved``).

    The fast cushion model errs differently by foam and by pad: on design (a) it is pessimistic
    on relieved PE-33 (FE / fast 0.74-0.85 on cell g) and optimistic on relieved EPS-16 (FE
    106-170 g where it says 80-98 g) and relieved EPP-30 (117-136 g where it says 46-67 g), so
    one foam's ratios must not screen another's designs.
    """
    insert = design.get("insert", {})
    relieved = " relieved" if insert.get("bearing_fraction", 1.0) < 1.0 else ""
    return f"{insert.get('material', '')}{relieved}"


def fe_bias(trials: list[FrozenTrial], kind: str | None = None) -> dict[str, float]:
    """How much harsher FE has judged each criterion than the fast models in this study: per
    criterion and load case (keys of :func:`loads`), the largest ratio FE load / fast load over
    the FE-checked trials (ratios below 1 are kept: FE may be milder); only those whose design
    is of the :func:`insert_kind` ``kind`` when it is given. A kind FE has not checked gets no
    correction: the first of its designs to pass the fast check goes to FE and measures it.

    Screening multiplies the fast loads by it (multiplicative bias correction of a low-fidelity
    model; R. T. Haftka, 'Combining global and local approximations', AIAA J. 29 (1991)
    1523-1525), so that, once FE has shown the fast models to be optimistic, the search stops
    spending FE checks on designs that only pass the uncorrected fast check, and once it has
    shown them pessimistic, lighter designs reach FE. Case by case, because the fast models err
    differently on different faces (a cushion pad under the cells, a side pad beside them): a
    ratio of the worst cases of the two fidelities would divide loads of different drops.
    """
    ratios: dict[str, float] = {}
    for t in trials:
        fast, fe = t.user_attrs.get("fast_load"), t.user_attrs.get("fe_load")
        if not fast or not fe or (kind is not None
                                  and insert_kind(t.user_attrs.get("design", {})) != kind):
            continue
        for key, value in fe.items():
            if fast.get(key, 0.0) > 0:
                ratios[key] = max(ratios.get(key, 0.0), value / fast[key])
    return ratios


def corrected(values: dict[str, float], fast_load: dict[str, float],
              bias: dict[str, float]) -> dict[str, float]:
    """Constraint values with each fast load scaled by its FE bias: per criterion, the largest
    load x bias over its load cases, less 1. A case FE has not seen takes its criterion's
    largest ratio; a criterion without any is left as it is."""
    by_criterion: dict[str, float] = {}
    for key, ratio in bias.items():
        by_criterion[_criterion(key)] = max(by_criterion.get(_criterion(key), 0.0), ratio)
    rescaled = _rescaled(fast_load, bias) & values.keys()
    scaled: dict[str, float] = {}
    for key, load in fast_load.items():
        criterion = _criterion(key)
        if criterion in rescaled:
            ratio = bias.get(key, by_criterion[criterion])
            scaled[criterion] = max(scaled.get(criterion, -math.inf), load * ratio)
    return {**values, **{k: min(v - 1.0, _WORST) for k, v in scaled.items()}}


def _rescaled(fast_load: dict[str, float], bias: dict[str, float]) -> set[str]:
    """The criteria :func:`corrected` rescales: those with a fast load and an FE / fast ratio."""
    return {_criterion(k) for k in fast_load} & {_criterion(k) for k in bias}


def _feasible(trial: FrozenTrial) -> bool:
    return all(v <= 0 for v in trial.constraints.values())


def _confirmed(trials: list[FrozenTrial], fidelity: str) -> list[FrozenTrial]:
    return [t for t in trials if t.state == TrialState.COMPLETE and _feasible(t)
            and t.user_attrs.get("fidelity") == fidelity]


def _dominates(a: list[float], b: list[float]) -> bool:
    """``a`` is no worse than ``b`` in every objective and better in one (all minimised)."""
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def _improves(values: list[float], front: list[list[float]]) -> bool:
    """``values`` would improve on ``front``: no member dominates or equals it."""
    return not any(_dominates(v, values) or v == values for v in front)


class _Objective:
    """The trial function: a design variant, its objectives and its compliance constraints."""

    def __init__(self, study: Study, fe_workers: int):
        self.study = study
        self.fe_workers = fe_workers

    def __call__(self, trial: optuna.Trial) -> list[float]:
        s = self.study
        changes = {v.path: _suggest(trial, v) for v in s.variables}
        if trial.number != _REFERENCE:
            # A variant is not the base: its name and description, which its files, bill of
            # materials and drawings carry to a supplier, must not claim the base's (which
            # may name a material the variant has changed).
            changes |= {"name": f"{s.name}-trial-{trial.number}",
                        "description": f"Trial {trial.number} of study {s.name}: design "
                                       f"{s.base.name} with the study's variables changed"}
        try:
            design = s.base.replace(changes)
        except PacksimInputError as exc:
            trial.set_user_attr("refused", [p.describe(show_file=False) for p in exc.problems])
            raise optuna.TrialPruned("the design rules refuse this variant") from None
        values, life = _objective_values(design, s)
        if life is not None:
            trial.set_user_attr("trips", life.trips)
            if life.failing_row is not None:
                trial.set_user_attr("life_limited_by", life.failing_row.name)
        report = check(design, s.standards, fidelity="fast")
        fast_load = loads(report)
        trial.set_user_attr("fast_load", fast_load)
        done = trial.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        data = design.to_dict()
        bias = fe_bias(done, insert_kind(data))
        screened = corrected(constraints(report), fast_load, bias)
        if bias:
            trial.set_user_attr("fe_bias", bias)
        failed = [r.name for r in report.failed_rows]
        if self._fe_check(trial.number == _REFERENCE, done, screened, values):
            report = check(design, s.standards, fidelity="fe", mesh_size_m=s.mesh_size_m,
                           workers=self.fe_workers)
            # Strict JSON (no Infinity) so that every Optuna tool can read it back.
            trial.set_user_attr("report", json.loads(_json.dumps(report.to_dict())))
            trial.set_user_attr("fe_load", loads(report))
            screened, failed = constraints(report), [r.name for r in report.failed_rows]
        elif bias:
            # The verdict is the corrected screening's: rescaled criteria by it, the rest by row.
            rescaled = _rescaled(fast_load, bias)
            failed = [r.name for r in report.failed_rows if _key(r) not in rescaled]
            failed += [f"{k} (fast x FE bias)" for k in sorted(rescaled) if screened.get(k, 0) > 0]
        for key, value in screened.items():
            trial.set_constraint(key, value)
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        trial.set_user_attr("fidelity", report.fidelity)
        trial.set_user_attr("design", data)
        trial.set_user_attr("failed", failed)
        return values

    def _fe_check(self, reference: bool, done: list[FrozenTrial], screened: dict[str, float],
                  values: list[float]) -> bool:
        """Whether FE checks this design, with FE budget left: the reference always (whether it
        passes is part of the answer, and its FE/fast ratios correct screening from the start,
        in either direction); another design if it passes the corrected screening and could
        improve on the FE-confirmed best of the ``done`` trials."""
        if self.study.fidelity != "fe" or \
                sum(t.user_attrs.get("fidelity") == "fe" for t in done) >= self.study.fe_checks:
            return False
        if reference:
            return True
        if any(v > 0 for v in screened.values()):
            return False
        return _improves(values, [t.values for t in _confirmed(done, "fe")])


def _base_params(study: Study) -> dict[str, Any]:
    """The base design's value of each variable that its range or choices contain."""
    data = study.base.to_dict()
    params = {}
    for v in study.variables:
        node = _at(data, v.path)
        if v.choices is not None:
            for choice in v.choices:
                if _same_value(study.base, v.path, choice, node):
                    params[v.path] = _label(choice)
        elif isinstance(node, int | float) and v.low <= node <= v.high:
            params[v.path] = float(node)
    return params


def _same_value(base: Design, path: str, choice: Any, value: Any) -> bool:
    """The base design's ``value`` at ``path`` is ``choice`` (a table compared as the design
    reads it: "4 mm" equals 0.004)."""
    if not isinstance(choice, dict):
        return choice == value
    return _at(base.replace({path: choice}).to_dict(), path) == value


def _at(data: dict[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of nested dictionaries (None where there is none)."""
    node: Any = data
    for key in path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _line(trial: FrozenTrial, objectives: tuple[str, ...], best: str) -> str:
    if trial.state == TrialState.PRUNED:
        why = trial.user_attrs.get("refused", [""])[0]
        return f"trial {trial.number}: refused by the design rules ({why})"
    if trial.state != TrialState.COMPLETE:
        return f"trial {trial.number}: {trial.state.name.lower()}"
    shown = ", ".join(f"{o} {v:.4g}" for o, v in zip(objectives, trial.values))
    failed = trial.user_attrs.get("failed", [])
    verdict = "passes" if not failed else f"fails {len(failed)} rows, e.g. {failed[0]}"
    return f"trial {trial.number}: {shown} [{trial.user_attrs.get('fidelity')}] {verdict}; {best}"


def _run_worker(study: Study, url: str, n_trials: int, fe_workers: int,
                progress: Callable[[str], None] | None) -> None:
    """One worker: optimise until the study has ``n_trials`` finished trials."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    target = optuna.load_study(study_name=study.name, storage=_storage(url),
                               sampler=_sampler(study))

    def report(s: optuna.Study, trial: FrozenTrial) -> None:
        if progress is not None:
            confirmed = _confirmed(s.get_trials(deepcopy=False), study.fidelity)
            best = (f"best confirmed {study.objectives[0]} {min(t.values[0] for t in confirmed):.4g}"
                    if confirmed else "no confirmed design yet")
            progress(_line(trial, study.objectives, best))

    while (done := len(target.get_trials(deepcopy=False, states=_DONE))) < n_trials:
        try:
            target.optimize(_Objective(study, fe_workers), n_trials=n_trials - done,
                            callbacks=[MaxTrialsCallback(n_trials, states=_DONE), report],
                            gc_after_trial=False)
            return
        except optuna.exceptions.UpdateFinishedTrialError:
            # Another worker took this one's trial for dead (its heartbeat came late, e.g. on a
            # busy SQLite file) and queued it again: that copy will be run; this worker goes on.
            continue


def _best(study: Study, trials: list[FrozenTrial], fidelity: str) -> tuple[Candidate, ...]:
    """The feasible designs at ``fidelity`` that are best: the lightest, or the Pareto front."""
    confirmed = _confirmed(trials, fidelity)
    if not confirmed:
        return ()
    # The non-dominated trials; of equal ones, the first.
    chosen, seen = [], []
    for t in sorted(confirmed, key=lambda t: (t.values, t.number)):
        if t.values not in seen and not any(_dominates(o.values, t.values) for o in confirmed):
            chosen.append(t)
            seen.append(t.values)
    return tuple(_candidate(study, t, True) for t in chosen)


def _candidate(study: Study, trial: FrozenTrial, feasible: bool) -> Candidate:
    """The design a trial evaluated, as its user attributes stored it."""
    return Candidate(trial.number, Design.from_dict(trial.user_attrs["design"]),
                     dict(zip(study.objectives, trial.values)), trial.user_attrs["fidelity"],
                     feasible)


def optimize(study: Study | str | Path, n_trials: int | None = None, storage: str | None = None,
             n_workers: int = 1, progress: Callable[[str], None] | None = None) -> StudyResult:
    """Run (or resume) an optimisation study.

    Parameters
    ----------
    study : Study, or the path of a study file
    n_trials : int, optional
        Finished trials to reach, counting those a resumed study already has (default: the
        study file's ``trials``).
    storage : str, optional
        Optuna storage URL (default: ``sqlite:///<output folder>/study.db``).
    n_workers : int
        Worker processes on this machine, sharing the storage (more can join from other machines
        with the same storage URL and study file).
    progress : callable, optional
        Called with a line of text after each trial.

    Returns
    -------
    StudyResult
    """
    if not isinstance(study, Study):
        study = load_study(study)
    if n_workers < 1:
        raise ValueError(f"n_workers must be >= 1, got {n_workers}")
    n_trials = study.trials if n_trials is None else int(n_trials)
    study.output_dir.mkdir(parents=True, exist_ok=True)
    url = storage or f"sqlite:///{(study.output_dir / 'study.db').resolve()}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    directions = ["minimize"] * len(study.objectives)
    target = optuna.create_study(study_name=study.name, storage=_storage(url),
                                 directions=directions, load_if_exists=True,
                                 sampler=_sampler(study))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        target.set_metric_names(list(study.objectives))
    _fail_silent_trials(target)
    if not target.get_trials(deepcopy=False):
        # The base design is the first trial (_REFERENCE): what every result is measured against.
        target.enqueue_trial(_base_params(study), skip_if_exists=True)
    # Alone, a worker spreads each FE check over the CPUs; side by side, one CPU each.
    fe_workers = (os.cpu_count() or 1) if n_workers == 1 else 1
    if n_workers == 1:
        _run_worker(study, url, n_trials, fe_workers, progress)
    else:
        context = get_context("fork") if "fork" in get_all_start_methods() else get_context()
        workers = [context.Process(target=_run_worker,
                                   args=(study, url, n_trials, fe_workers, progress))
                   for _ in range(n_workers)]
        for w in workers:
            w.start()
        try:
            for w in workers:
                w.join()
        except BaseException:
            for w in workers:
                w.terminate()
            raise
        failed = [w.exitcode for w in workers if w.exitcode]
        if failed:
            raise RuntimeError(f"{len(failed)} of {n_workers} workers failed (exit {failed})")
    return _result(study, target, url)


def study_result(study: Study | str | Path, storage: str | None = None) -> StudyResult:
    """What a study has found so far, without running a trial (its outputs are rewritten).

    Raises
    ------
    StorageError
        If the storage holds no such study yet.
    """
    if not isinstance(study, Study):
        study = load_study(study)
    url = storage or f"sqlite:///{(study.output_dir / 'study.db').resolve()}"
    if storage is None and not (study.output_dir / "study.db").exists():
        raise StorageError([Problem("storage", _shown(url), f"no study {study.name!r} here yet; "
                                    f"run 'packsim optimize {study.path or study.name}' first")])
    try:
        target = optuna.load_study(study_name=study.name, storage=_storage(url))
    except KeyError:
        raise StorageError([Problem("storage", _shown(url), f"holds no study {study.name!r}")]) from None
    return _result(study, target, url)


def _closest(study: Study, trials: list[FrozenTrial]
             ) -> tuple[Candidate, tuple[str, float | None]] | None:
    """Of the completed trials that failed, the one whose worst constraint is the smallest, with
    that criterion and its load over the limit (None for a rule without a margin). Designs that
    pass screening but were not FE-checked are the study's ``screened``, not this."""
    failed = [t for t in trials
              if t.state == TrialState.COMPLETE and t.constraints and not _feasible(t)]
    if not failed:
        return None
    t = min(failed, key=lambda t: (max(t.constraints.values()), t.values, t.number))
    return _candidate(study, t, False), _worst(t)


def _worst(trial: FrozenTrial) -> tuple[str, float | None]:
    """A failed trial's worst criterion and its load over the limit (None for a rule without a
    margin)."""
    key, value = max(trial.constraints.items(), key=lambda kv: kv[1])
    with_margin = trial.user_attrs.get("fe_load") or trial.user_attrs.get("fast_load") or {}
    return key, value + 1.0 if key in {_criterion(k) for k in with_margin} else None


def _result(study: Study, target: optuna.Study, url: str) -> StudyResult:
    trials = target.get_trials(deepcopy=False)
    best = _best(study, trials, study.fidelity)
    front = [list(b.objectives.values()) for b in best]
    screened = best if study.fidelity != "fe" else tuple(
        c for c in _best(study, trials, "fast") if _improves(list(c.objectives.values()), front))
    files = _write_outputs(study, target, trials, best)
    closest = None if best else _closest(study, trials)
    reference = next((t for t in trials if t.number == _REFERENCE
                      and t.state == TrialState.COMPLETE), None)
    return StudyResult(study.name, url, study.objectives, best,
                       sum(t.state in _DONE for t in trials), screened, files,
                       fe_bias=_bias_by_kind(trials),
                       closest=closest[0] if closest else None,
                       shortfall=closest[1] if closest else None,
                       reference=None if reference is None else _candidate(
                           study, reference, _feasible(reference)),
                       reference_shortfall=None if reference is None or _feasible(reference)
                       else _worst(reference))


def _bias_by_kind(trials: list[FrozenTrial]) -> dict[str, dict[str, float]]:
    """:func:`fe_bias` for each kind of insert FE has checked."""
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    kinds = {insert_kind(t.user_attrs.get("design", {})) for t in done if "fe_load" in t.user_attrs}
    return {kind: fe_bias(done, kind) for kind in sorted(kinds)}


def _write_outputs(study: Study, target: optuna.Study, trials: list[FrozenTrial],
                   best: tuple[Candidate, ...]) -> dict[str, Path]:
    """The best design(s), their FE reports, and the study's figures."""
    out = study.output_dir
    files: dict[str, Path] = {}
    by_number = {t.number: t for t in trials}
    # A resumed study's front may have shrunk: no stale member of an earlier front stays behind.
    for old in [*out.glob("front-*.toml"), *out.glob("front-*-report.json"),
                *out.glob("best.toml"), *out.glob("best-report.json")]:
        old.unlink()
    for i, c in enumerate(best):
        stem = "best" if len(best) == 1 else f"front-{i + 1:02d}"
        files[f"{stem}-design"] = c.design.save(out / f"{stem}.toml")
        report = by_number[c.trial].user_attrs.get("report")
        if report is not None:
            path = out / f"{stem}-report.json"
            path.write_text(_json.dumps(report))
            files[f"{stem}-report"] = path
    files.update(plot_study(target, study.objectives, out))
    return files
