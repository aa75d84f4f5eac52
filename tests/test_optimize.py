"""Optimisation studies: study files, constrained search, resumption, parallel workers."""

import multiprocessing
import os
import signal
import subprocess
import sys
import time

import optuna
import pytest
from conftest import REFERENCE_DESIGNS
from helpers import block_design_dict, drop_standard_toml

import packsim
from packsim.cli import format_study, main
from packsim import optimization
from packsim.optimization import _fail_silent_trials, _storage, constraints, insert_kind, optimize
from packsim.study import StudyError, load_study

STUDY = '''
name = "{name}"
design = "base.toml"
objectives = {objectives}
standards = ["drop.toml"]
fidelity = "{fidelity}"
trials = {trials}
seed = {seed}
sampler = "{sampler}"
mesh_size_m = 0.03

[[variable]]
path = "insert.bottom_thickness_m"
low = "4 mm"
high = "40 mm"
step = "1 mm"

[[variable]]
path = "insert.top_thickness_m"
low = "4 mm"
high = "40 mm"
step = "1 mm"

[[variable]]
path = "insert.material"
choices = ["eps-16", "eps-24", "pe-33"]
'''


def _study_files(tmp_path, name="block", objectives='["packaging_mass_kg"]', fidelity="fast",
                 trials=12, seed=1, sampler="tpe", height=None, cell_mass_kg=0.25):
    """A base design (a block of six cells on thick PE pads) and a one-drop standard it passes:
    PE pads down to about 25 mm pass too, EPS pads fail (too stiff). The FE policy drops from
    0.1 m, against a limit of 100 g. Light cells (``cell_mass_kg`` 0.1) ring on their pads: from
    0.25 m FE then gives the base 104 g where the cushion model gives 92 g."""
    if height is None:
        height = "0.1" if fidelity == "fe" else "0.3"
    packsim.Design.from_dict(block_design_dict(**{
        "product.custom_cell.fragility_g": 200.0, "insert.material": "pe-33",
        "product.custom_cell.mass_kg": cell_mass_kg,
        "insert.bottom_thickness_m": 0.04, "insert.top_thickness_m": 0.04})).save(tmp_path / "base.toml")
    (tmp_path / "drop.toml").write_text(drop_standard_toml("drop", height, ["bottom", "top"]))
    path = tmp_path / f"{name}.toml"
    path.write_text(STUDY.format(name=name, objectives=objectives, fidelity=fidelity, trials=trials,
                                 seed=seed, sampler=sampler))
    return path


def test_whole_number_bounds_draw_whole_numbers_for_counts(tmp_path):
    path = _study_files(tmp_path, trials=4)
    path.write_text(path.read_text() + '\n[[variable]]\npath = "insert.ribs"\nlow = 3\nhigh = 6\n'
                    '\n[[variable]]\npath = "product.state_of_charge_pct"\nlow = 10.0\nhigh = 30.0\n')
    study = load_study(path)
    ribs, charge = study.variables[-2:]
    assert ribs.integer and not charge.integer
    result = optimize(study)
    trials = optuna.load_study(study_name="block", storage=result.storage).trials
    drawn = [t.params["insert.ribs"] for t in trials]
    assert all(type(r) is int and 3 <= r <= 6 for r in drawn)
    assert [t.user_attrs["design"]["insert"].get("ribs", 3) for t in trials] == drawn
    assert any(t.params["product.state_of_charge_pct"] % 1 for t in trials)
    path.write_text(path.read_text().replace("high = 30.0", "high = 30.5") + "integer = true\n")
    with pytest.raises(StudyError, match="whole-number low, high and step"):
        load_study(path)


def test_a_bad_study_file_reports_every_problem_with_file_and_field(tmp_path):
    path = _study_files(tmp_path)
    text = path.read_text().replace('"insert.material"', '"insert.materials"').replace(
        '"pe-33"', '"unobtainium"').replace('["drop.toml"]', '["drop.toml", "un-6.1.5"]')
    path.write_text(text)
    with pytest.raises(StudyError) as err:
        load_study(path)
    problems = {p.field: p for p in err.value.problems}
    assert "standards.1" in problems
    assert "variable.2" in problems and "materials" in problems["variable.2"].expected
    assert all(p.file == str(path) for p in err.value.problems)
    path.write_text(text.replace('low = "4 mm"', 'low = "50 mm"', 1).replace("trials = 12", "trials = 0"))
    with pytest.raises(StudyError) as err:
        load_study(path)
    assert {p.field for p in err.value.problems} >= {"trials", "variable.0"}
    assert main(["optimize", str(path)]) == 2


def test_constraints_are_one_per_criterion_with_the_worst_load_case():
    design = packsim.Design.from_dict(block_design_dict())
    report = packsim.check(design, ("un-6.1.5-pg2",))
    values = constraints(report)
    rows = [r for r in report.rows if r.criterion == "cell-peak-g" and r.test == "drop"]
    assert values["un-6.1.5-pg2/drop/cell-peak-g"] == pytest.approx(max(-r.margin for r in rows))
    assert all((v <= 0) == (k not in {f"{r.standard}/{r.test}/{r.criterion}"
                                      for r in report.failed_rows}) for k, v in values.items())


def test_a_study_finds_a_lighter_design_that_passes_and_resumes_where_it_stopped(tmp_path):
    path = _study_files(tmp_path)
    study = load_study(path)
    base_mass = study.base.packaging_mass_kg
    assert packsim.check(study.base, study.standards).passed  # the reference passes
    first = optimize(study, n_trials=8)
    assert first.trials == 8
    result = optimize(study)  # the same command again: resumes up to the file's 12
    assert result.trials == 12
    (best,) = result.best
    assert result.closest is None and result.shortfall is None  # only said when none passed
    assert best.objectives["packaging_mass_kg"] < base_mass
    assert packsim.check(best.design, study.standards).passed
    stored = optuna.load_study(study_name=study.name, storage=result.storage)
    numbers = [t.number for t in stored.trials]
    assert numbers == list(range(len(numbers)))  # nothing lost, nothing twice
    # Stepped lengths land on their grid as written (0.031, not 0.031000000000000003).
    drawn = [t.user_attrs["design"]["insert"][k] for t in stored.trials
             for k in ("bottom_thickness_m", "top_thickness_m")]
    assert all(v == round(v * 1000) / 1000 for v in drawn)
    assert stored.trials[0].params == {"insert.bottom_thickness_m": 0.04,
                                       "insert.top_thickness_m": 0.04, "insert.material": "pe-33"}
    trial = stored.trials[best.trial]
    assert trial.user_attrs["fidelity"] == "fast" and trial.user_attrs["design"]
    assert "drop/drop/cell-peak-g" in trial.constraints
    assert (result.files["best-design"]).exists() and result.files["history-packaging_mass_kg"].exists()
    assert packsim.load_design(result.files["best-design"]) == best.design
    # A variant's file names the trial, not the base (whose material it may have changed).
    assert best.trial > 0 and best.design.name == f"{study.name}-trial-{best.trial}"
    assert f"study {study.name}: design {study.base.name}" in best.design.description
    # The reference is the base design, checked at the study's fidelity; the best saves on it.
    reference = result.reference
    assert reference.trial == 0 and reference.design == study.base and reference.feasible
    assert reference.fidelity == "fast" and result.reference_shortfall is None
    saving = 1 - best.objectives["packaging_mass_kg"] / base_mass
    assert result.saving() == pytest.approx({"packaging_mass_kg": saving}) and saving > 0
    summary = format_study(result)
    assert f"reference         {reference.label} (fast): passes" in summary
    assert f"saving            packaging_mass_kg {saving:.1%} below the reference" in summary
    assert result.to_dict()["saving"] == pytest.approx({"packaging_mass_kg": saving})


# Seed 3 leaves a lighter design that passes the fast check unconfirmed, seed 9 only heavier ones.
@pytest.mark.parametrize("seed", [3, 9])
def test_the_fe_policy_reports_only_fe_confirmed_designs_within_its_fe_budget(tmp_path, seed):
    path = _study_files(tmp_path, name="fe", fidelity="fe", trials=8, seed=seed)
    path.write_text(path.read_text().replace("trials = 8", "trials = 8\nfe_checks = 2"))
    result = optimize(load_study(path), progress=lambda line: None)
    stored = optuna.load_study(study_name="fe", storage=result.storage)
    fe_trials = [t for t in stored.trials if t.user_attrs.get("fidelity") == "fe"]
    assert 1 <= len(fe_trials) <= 2  # the first design that passed screening was confirmed
    assert result.best
    for c in result.best:
        assert c.fidelity == "fe"
        assert stored.trials[c.trial].user_attrs["report"]["fidelity"] == "fe"
    assert result.files["best-report"].stat().st_size > 0
    # Beside it, only screened designs that would improve on it: lighter, not yet FE-checked.
    lightest = result.best[0].objectives["packaging_mass_kg"]
    passing = [t for t in stored.trials if t.user_attrs.get("fidelity") == "fast"
               and t.constraints and max(t.constraints.values()) <= 0]
    assert passing and all(c.objectives["packaging_mass_kg"] < lightest for c in result.screened)
    assert bool(result.screened) == any(t.values[0] < lightest for t in passing)


def test_the_fe_policy_checks_the_reference_by_fe_even_when_screening_fails_it(tmp_path):
    path = _study_files(tmp_path, name="ref", fidelity="fe", trials=3, seed=5)
    path.write_text(path.read_text().replace("trials = 3", "trials = 3\nfe_checks = 2"))
    base = packsim.load_design(tmp_path / "base.toml").replace({"insert.material": "eps-24"})
    base.save(tmp_path / "base.toml")
    study = load_study(path)
    key = "drop/drop/cell-peak-g"
    assert constraints(packsim.check(study.base, study.standards))[key] > 0  # screening fails it
    result = optimize(study)
    trials = optuna.load_study(study_name="ref", storage=result.storage).trials
    reference = trials[0]
    assert reference.params["insert.material"] == "eps-24"
    assert reference.user_attrs["fidelity"] == "fe" and "fe_load" in reference.user_attrs
    assert result.reference.design == study.base and not result.reference.feasible
    criterion, load = result.reference_shortfall
    assert criterion == key and load > 1
    fe, fast = reference.user_attrs["fe_load"], reference.user_attrs["fast_load"]
    assert load == pytest.approx(max(v for k, v in fe.items() if k.startswith(key + " @ ")))
    # Its FE / fast ratios correct the screening of every later trial with an EPS-24 insert.
    cases = [k for k in fast if k.startswith(key + " @ ")]
    later = [t for t in trials[1:] if "fast_load" in t.user_attrs
             and t.user_attrs["design"]["insert"]["material"] == "eps-24"]
    assert cases and later and all(t.user_attrs["fe_bias"][k] >= fe[k] / fast[k] - 1e-12
                                   for t in later for k in cases)
    assert f"reference         {result.reference.label} (fe): fails: {key} at {load:.2f}x" \
        in format_study(result)
    assert result.to_dict()["reference"]["load_over_limit"] == pytest.approx(load)


@pytest.mark.parametrize("fidelity", ["fast", "fe"])
def test_two_objectives_give_a_pareto_front_and_its_plot(tmp_path, fidelity):
    path = _study_files(tmp_path, name="pareto", objectives='["packaging_mass_kg", "co2e_kg"]',
                        sampler="nsga2", trials=16, fidelity=fidelity)
    path.write_text(path.read_text().replace("trials = 16", "trials = 16\nfe_checks = 4"))
    result = optimize(load_study(path))
    assert result.best
    assert all(c.fidelity == fidelity and c.feasible for c in result.best)
    for a in result.best:  # no member of the front dominates another
        for b in result.best:
            va, vb = list(a.objectives.values()), list(b.objectives.values())
            assert not (all(x <= y for x, y in zip(vb, va)) and vb != va)
    assert result.files["pareto-front"].stat().st_size > 0


def test_two_workers_on_one_storage_count_every_trial_once(tmp_path):
    path = _study_files(tmp_path, name="pair", trials=10)
    result = optimize(load_study(path), n_workers=2)
    stored = optuna.load_study(study_name="pair", storage=result.storage)
    finished = [t for t in stored.trials if t.state.is_finished()]
    assert len({t.number for t in finished}) == len(finished) >= 10
    assert not [t for t in stored.trials if t.state == optuna.trial.TrialState.RUNNING]


def _ask_all(url: str, n: int, out) -> None:
    study = optuna.load_study(study_name="queue", storage=_storage(url))
    out.put([study.ask().number for _ in range(n)])


def test_two_workers_never_take_the_same_queued_trial(tmp_path):
    """Queued trials (the base design is one) are handed out once: a worker reading a trial as
    waiting and marking it running must not interleave with another doing the same."""
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    study = optuna.create_study(study_name="queue", storage=_storage(url))
    for x in range(150):
        study.enqueue_trial({"x": x})
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    workers = [context.Process(target=_ask_all, args=(url, 100, out)) for _ in range(2)]
    for w in workers:
        w.start()
    taken = [n for _ in workers for n in out.get(timeout=120)]
    for w in workers:
        w.join()
    assert len(taken) == 200 and len(set(taken)) == 200


def test_a_worker_whose_trial_was_taken_for_dead_carries_on(tmp_path, monkeypatch):
    """When another worker fails a trial whose heartbeat came late, the worker that was running it
    cannot finish it (Optuna raises); it drops that result and goes on with the study."""
    original, calls = optuna.study.Study.optimize, []

    def late_once(self, func, n_trials=None, **kwargs):
        calls.append(n_trials)
        if len(calls) == 1:
            original(self, func, n_trials=1, **kwargs)
            raise optuna.exceptions.UpdateFinishedTrialError("Trial#1 has already finished")
        return original(self, func, n_trials=n_trials, **kwargs)

    monkeypatch.setattr(optuna.study.Study, "optimize", late_once)
    path = _study_files(tmp_path, name="late", trials=4)
    result = optimize(load_study(path))
    assert len(calls) == 2 and calls[1] == 3  # the second call asks only for what is missing
    stored = optuna.load_study(study_name="late", storage=result.storage).trials
    assert sum(t.state == optuna.trial.TrialState.COMPLETE for t in stored) >= 4


def test_a_killed_study_resumes_without_losing_or_repeating_a_trial(tmp_path):
    path = _study_files(tmp_path, name="killed", trials=400)
    storage = f"sqlite:///{tmp_path / 'out' / 'killed' / 'study.db'}"
    process = subprocess.Popen([sys.executable, "-m", "packsim.cli", "optimize", str(path)],
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    seen = 0
    for line in process.stderr:
        seen += line.startswith("trial ")
        if seen >= 5:
            break
    os.killpg(process.pid, signal.SIGKILL)  # no chance to clean up
    process.wait()
    before = optuna.load_study(study_name="killed", storage=storage).trials
    done = [t for t in before if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(done) >= 5
    time.sleep(9)  # past the heartbeat's grace period: the interrupted trial is now stale
    assert main(["optimize", str(path), "--trials", str(len(done) + 3)]) in (0, 1)
    after = optuna.load_study(study_name="killed", storage=storage).trials
    kept = {t.number: t.params for t in after if t.state == optuna.trial.TrialState.COMPLETE}
    assert all(kept[t.number] == t.params for t in done)  # every completed trial kept as it was
    assert not [t for t in after if t.state == optuna.trial.TrialState.RUNNING]


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")  # ask() plays the killed worker
def test_a_trial_killed_before_its_first_heartbeat_is_failed_at_the_next_start(tmp_path,
                                                                             monkeypatch):
    """Optuna's stale-trial check skips running trials without a heartbeat; a worker killed between
    taking a trial and its first heartbeat leaves one. The next start fails it once it is older
    than the grace period, and leaves alone a trial whose worker beats."""
    target = optuna.create_study(study_name="silent",
                                 storage=_storage(f"sqlite:///{tmp_path / 'study.db'}"))
    silent, beating, young = target.ask(), target.ask(), target.ask()
    target._storage.record_heartbeat(beating._trial_id)
    monkeypatch.setattr(optimization, "_GRACE_S", 0.5)
    time.sleep(0.6)
    target.ask()  # started within the grace period: may still be about to beat
    assert _fail_silent_trials(target) == [silent.number, young.number]
    states = {t.number: t.state for t in target.get_trials(deepcopy=False)}
    assert states == {0: optuna.trial.TrialState.FAIL, 1: optuna.trial.TrialState.RUNNING,
                      2: optuna.trial.TrialState.FAIL, 3: optuna.trial.TrialState.RUNNING}


def test_two_workers_join_one_study_through_postgresql(tmp_path):
    url = os.environ.get("PACKSIM_TEST_POSTGRES")
    if not url:
        pytest.skip("PACKSIM_TEST_POSTGRES not set (.ci/run starts a server and sets it)")
    path = _study_files(tmp_path, name="pg-pair", trials=12)
    try:
        optuna.delete_study(study_name="pg-pair", storage=url)  # left by an earlier run
    except KeyError:
        pass
    result = optimize(load_study(path), storage=url, n_workers=2)
    assert result.storage == url
    stored = optuna.load_study(study_name="pg-pair", storage=url)
    finished = [t for t in stored.trials if t.state.is_finished()]
    numbers = [t.number for t in stored.trials]
    assert numbers == list(range(len(numbers))) and len(set(numbers)) == len(numbers)
    # Each worker stops once 12 are finished; the other may be finishing one more at that moment.
    assert 12 <= len(finished) <= 13
    assert not [t for t in stored.trials if t.state == optuna.trial.TrialState.RUNNING]
    assert len({t.user_attrs.get("worker") for t in finished}) == 2  # both took part


def test_an_unreachable_storage_is_a_clear_error(tmp_path, capsys):
    path = _study_files(tmp_path, name="nowhere")
    code = main(["optimize", str(path), "--storage", "postgresql://u:secret@localhost:1/none"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot open it" in err and "secret" not in err


def test_ctrl_c_stops_a_study_cleanly_and_keeps_its_trials(tmp_path):
    path = _study_files(tmp_path, name="interrupted", trials=400)
    process = subprocess.Popen([sys.executable, "-m", "packsim.cli", "optimize", str(path)],
                               stderr=subprocess.PIPE, text=True)
    seen = 0
    for line in process.stderr:
        seen += line.startswith("trial ")
        if seen >= 4:
            break
    process.send_signal(signal.SIGINT)
    message = process.stderr.read()
    assert process.wait() == 130 and "run the same command to resume" in message
    storage = f"sqlite:///{tmp_path / 'out' / 'interrupted' / 'study.db'}"
    trials = optuna.load_study(study_name="interrupted", storage=storage).trials
    assert sum(t.state == optuna.trial.TrialState.COMPLETE for t in trials) >= 4
    assert not [t for t in trials if t.state == optuna.trial.TrialState.RUNNING]


CRATE_OR_BOX = '''
name = "crate-or-box-{name}"
design = "{design}"
objectives = ["co2e_per_trip_kg"]
standards = ["drop.toml"]
fidelity = "fast"
sampler = "random"
seed = 3
trials = 6

[trip]
drops_per_trip = {drops}
drop_height_m = 1.2
horizon = 50

[[variable]]
path = "container"
choices = [
  {{ type = "rigid", material = "pp", wall_thickness_m = "4 mm" }},
  {{ type = "rsc", board = "board-bc-61ect" }},
]
'''


@pytest.mark.parametrize("drops, winner", [(0, "rigid"), (80, "rsc")])
def test_co2e_per_trip_prefers_the_returnable_design_only_when_it_lives_enough_trips(
        tmp_path, drops, winner):
    # Reference design (b) in its returnable PP box, or the same insert in a single-use box,
    # against a user's drop specification they both pass when new. Calm trips: the crate lives
    # to the horizon and its CO2e per trip is far below the box's; 80 drops of 1.2 m a trip crush
    # its EPP within a trip or two, and the lighter single-use box wins.
    (tmp_path / "drop.toml").write_text(drop_standard_toml("drop", "1.2", ["bottom"],
                                                           criteria=("no-bottoming",)))
    design = REFERENCE_DESIGNS[1]
    path = tmp_path / f"study-{drops}.toml"
    path.write_text(CRATE_OR_BOX.format(name=drops, design=design, drops=drops))
    result = optimize(load_study(path))
    trials = optuna.load_study(study_name=f"crate-or-box-{drops}", storage=result.storage).trials
    assert {t.params["container"].count("rigid") for t in trials} == {0, 1}  # both were tried
    lives = {("rigid" if "rigid" in t.params["container"] else "rsc"): t.user_attrs["trips"]
             for t in trials}
    assert lives["rsc"] == 1  # single use
    assert lives["rigid"] == (50 if drops == 0 else 1)  # the horizon, or crushed in one trip
    limits = {t.user_attrs.get("life_limited_by") for t in trials if "rigid" in t.params["container"]}
    assert limits == ({None} if drops == 0 else {"drop drop no-bottoming 1.2 m on face-3"})
    best = result.best[0]
    assert best.design.container.type == winner
    assert best.design.returnable == (winner == "rigid")


def test_fe_bias_is_the_largest_fe_to_fast_ratio_and_corrects_the_screening():
    from types import SimpleNamespace

    from packsim.optimization import corrected, fe_bias

    trials = [SimpleNamespace(user_attrs={"fast_load": {"g": 0.8, "s": 0.5}, "fe_load": {"g": 1.0}}),
              SimpleNamespace(user_attrs={"fast_load": {"g": 0.5}, "fe_load": {"g": 0.75, "x": 2}}),
              SimpleNamespace(user_attrs={"fast_load": {"g": 0.9}})]  # screened only
    bias = fe_bias(trials)
    assert bias == pytest.approx({"g": 1.5})
    # Per kind of insert: the ribbed EPS insert's ratio does not screen the plain PE ones.
    pe = {"insert": {"material": "pe-33"}}
    eps = {"insert": {"material": "eps-16", "bearing_fraction": 0.2}}
    kinds = [SimpleNamespace(user_attrs={**t.user_attrs, "design": pe}) for t in trials]
    kinds.append(SimpleNamespace(user_attrs={"fast_load": {"g": 0.4}, "fe_load": {"g": 0.8},
                                             "design": eps}))
    assert [insert_kind(d) for d in (pe, eps)] == ["pe-33", "eps-16 relieved"]
    assert fe_bias(kinds, "pe-33") == pytest.approx({"g": 1.5})
    assert fe_bias(kinds, "eps-16 relieved") == pytest.approx({"g": 2.0})
    assert fe_bias(kinds, "epp-30") == {}
    # A design at 0.7 of the limit by the fast model is at 1.05 once corrected: it fails.
    assert corrected({"g": -0.3, "s": -0.5}, {"g": 0.7, "s": 0.5}, bias) == pytest.approx(
        {"g": 0.05, "s": -0.5})


def test_fe_bias_compares_the_fidelities_load_case_by_load_case():
    from types import SimpleNamespace

    from packsim.optimization import corrected, fe_bias

    # The fast model is pessimistic on the bottom (1.2 where FE gives 0.8) and right on the
    # side; FE alone drops on the corner, which screening never sees.
    checked = SimpleNamespace(user_attrs={
        "fast_load": {"g @ bottom": 1.2, "g @ side": 0.9},
        "fe_load": {"g @ bottom": 0.8, "g @ side": 0.9, "g @ corner": 0.95}})
    bias = fe_bias([checked])
    assert bias == pytest.approx({"g @ bottom": 2 / 3, "g @ side": 1.0})
    # Each case by its own ratio; a case FE has not seen (the top) by the criterion's largest.
    fast = {"g @ bottom": 1.35, "g @ side": 0.85, "g @ top": 0.5}
    assert corrected({"g": 0.35}, fast, bias) == pytest.approx({"g": -0.1})
    assert corrected({"g": 0.35}, {**fast, "g @ top": 0.97}, bias) == pytest.approx({"g": -0.03})
    # A ratio of the two fidelities' worst cases (0.95 / 1.2, of different drops) would have
    # let a design through whose side is at 1.2 by both: per case it fails.
    assert corrected({"g": 0.2}, {"g @ bottom": 1.0, "g @ side": 1.2}, bias)["g"] == \
        pytest.approx(0.2)


def test_once_fe_finds_the_fast_model_optimistic_screening_is_corrected(tmp_path):
    # From 0.25 m FE gives the base of light cells 104 g where the cushion model gives 92 g.
    path = _study_files(tmp_path, name="bias", fidelity="fe", trials=10, seed=4, height="0.25",
                        cell_mass_kg=0.1)
    path.write_text(path.read_text().replace("trials = 10", "trials = 10\nfe_checks = 3"))
    result = optimize(load_study(path))
    trials = optuna.load_study(study_name="bias", storage=result.storage).trials
    first_fe = next(t for t in trials if t.user_attrs.get("fidelity") == "fe")
    key = "drop/drop/cell-peak-g"
    cases = [k for k in first_fe.user_attrs["fast_load"] if k.startswith(key + " @ ")]
    assert len(cases) == 2  # the drops on the bottom and on the top, compared one by one
    ratios = {k: first_fe.user_attrs["fe_load"][k] / first_fe.user_attrs["fast_load"][k]
              for k in cases}
    assert max(ratios.values()) > 1.1  # FE is harsher here
    # Screening corrects the designs with the same kind of insert as the FE-checked one; a
    # foam FE has not checked is screened by the fast models as they are.
    kind = insert_kind(first_fe.user_attrs["design"])
    later = [t for t in trials if t.number > first_fe.number and "fast_load" in t.user_attrs]
    same = [t for t in later if insert_kind(t.user_attrs["design"]) == kind]
    other = [t for t in later if insert_kind(t.user_attrs["design"]) != kind]
    assert same and all(t.user_attrs["fe_bias"][k] >= r - 1e-12
                        for t in same for k, r in ratios.items())
    for t in same:
        load = max(t.user_attrs["fast_load"][k] * t.user_attrs["fe_bias"][k] for k in cases)
        if t.user_attrs["fidelity"] == "fe":
            assert load <= 1.0  # only designs passing the corrected screen went to FE
        else:
            assert t.constraints[key] == pytest.approx(load - 1.0)
            # Its verdict (and progress line) is the corrected screening's.
            assert (f"{key} (fast x FE bias)" in t.user_attrs["failed"]) == (load > 1.0)
            assert not any(n.startswith("drop drop cell-peak-g") for n in t.user_attrs["failed"])
    unchecked = [t for t in other if not any(
        "fe_load" in u.user_attrs and insert_kind(u.user_attrs["design"])
        == insert_kind(t.user_attrs["design"]) for u in trials if u.number < t.number)]
    assert unchecked and all("fe_bias" not in t.user_attrs for t in unchecked)
    for t in unchecked:
        if t.user_attrs["fidelity"] == "fast":
            assert t.constraints[key] == pytest.approx(
                max(t.user_attrs["fast_load"][k] for k in cases) - 1.0)
    # The summary says how optimistic the fast models were, per kind of insert FE checked, and
    # which design came closest.
    fe_trials = [t for t in trials if "fe_load" in t.user_attrs
                 and insert_kind(t.user_attrs["design"]) == kind]
    for k in cases:
        assert result.fe_bias[kind][k] == pytest.approx(max(
            t.user_attrs["fe_load"][k] / t.user_attrs["fast_load"][k] for t in fe_trials))
    assert set(result.fe_bias) == {insert_kind(t.user_attrs["design"]) for t in trials
                                   if "fe_load" in t.user_attrs}
    lo, hi = sorted(f"{result.fe_bias[kind][k]:.2f}" for k in cases)
    span = f"{hi}x" if lo == hi else f"{lo}-{hi}x"
    summary = format_study(result)
    assert f"FE / fast         {kind}: {key} {span} over 2 load cases" in summary
    assert not result.best  # in 10 trials (seed 4) FE confirms none
    worst = max(max(t.constraints.values()) for t in trials if t.number == result.closest.trial)
    assert worst == min(max(t.constraints.values()) for t in trials
                        if t.constraints and max(t.constraints.values()) > 0)
    criterion, load = result.shortfall
    assert load is not None and load > 1.0 and f"{criterion} at {load:.2f}x its limit" in summary
    # The study's HTML report says the same.
    from packsim.report import study_html

    page = study_html(result)
    assert f"{criterion} at {load:.2f}x its limit" in page and f"{key} {span}" in page
