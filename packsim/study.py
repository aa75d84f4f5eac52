"""Optimisation study files: what may change in a design, what to minimise, what it must pass.

A study file (TOML, see ``studies/``) names a base design, the variables as dotted design paths
with ranges or choices, one or two objectives, the standards every design must pass, the
fidelity policy, the sampler, its seed and the trial budget::

    name = "a-lightest"
    design = "../geometries/a-21700-eps-rsc.toml"   # relative to the study file
    objectives = ["packaging_mass_kg"]             # and/or "co2e_kg", or per trip (below)
    standards = ["un-6.1.5-pg2", "sp188"]
    fidelity = "fe"                                # screen fast, confirm by FE
    fe_checks = 8                                  # at most this many FE checks
    trials = 60

    [changes]                                      # applied to the base design first
    "product.state_of_charge_pct" = 30

    [[variable]]
    path = "insert.bottom_thickness_m"
    low = "10 mm"
    high = "60 mm"
    step = "1 mm"

    [[variable]]
    path = "insert.ribs"                           # whole-number bounds: whole numbers drawn
    low = 3
    high = 8

    [[variable]]
    path = "insert.material"
    choices = ["eps-16", "eps-24", "eps-32"]

With ``mass_per_trip_kg`` or ``co2e_per_trip_kg`` each design's life comes from the reuse
forecast of the trip in an optional ``[trip]`` table (drops_per_trip, drop_height_m, max_rh_pct,
horizon).

Every mistake is reported together in one :class:`StudyError` naming the file and the field;
a variable whose path or range the base design cannot take is caught when the file is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from ._cited import read_toml
from .design import Design, _to_float, load_design
from .errors import PacksimInputError, Problem
from .reuse import TripProfile
from .standards import StandardError, get_standard

#: What a study can minimise, kg: design properties, and the same per trip over the life the
#: reuse forecast predicts (:func:`packsim.reuse.forecast`; a single-use design makes one trip).
OBJECTIVES = ("packaging_mass_kg", "co2e_kg", "mass_per_trip_kg", "co2e_per_trip_kg")

_Number = Annotated[float, BeforeValidator(_to_float)]


class StudyError(PacksimInputError):
    """A study file is invalid. Lists every problem found."""

    what = "study"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Variable(_Model):
    """One design value the search may change.

    Attributes
    ----------
    path : str
        Dotted design path, e.g. ``insert.bottom_thickness_m``.
    low, high : float
        Range of a numeric variable (lengths in metres or with a unit, ``"10 mm"``).
    step : float, optional
        Grid of a numeric variable (e.g. ``"1 mm"``: what a converter can cut).
    log : bool
        Sample the range on a log scale.
    integer : bool
        Draw whole numbers (counts such as ``insert.ribs``). Set when ``low``, ``high`` and any
        ``step`` are written as whole numbers (``3``, not ``3.0`` or ``"3 mm"``).
    choices : list, optional
        The values of a categorical variable (material ids, board grades, counts), or tables of
        a design section (e.g. whole containers: a returnable box against a single-use one).
    """

    path: str = Field(min_length=1)
    low: _Number | None = None
    high: _Number | None = None
    step: _Number | None = Field(default=None, gt=0)
    log: bool = False
    integer: bool = False
    choices: list[str | int | float | dict[str, Any]] | None = Field(default=None, min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _whole_number_bounds(cls, data: Any) -> Any:
        if isinstance(data, dict) and "integer" not in data:
            bounds = [data[k] for k in ("low", "high", "step") if data.get(k) is not None]
            whole = bool(bounds) and all(type(b) is int for b in bounds)
            data = {**data, "integer": whole}
        return data

    @model_validator(mode="after")
    def _range_or_choices(self) -> Variable:
        if self.choices is not None:
            if self.low is not None or self.high is not None or self.step is not None:
                raise ValueError("give either choices or low/high (and step), not both")
        elif self.low is None or self.high is None:
            raise ValueError("a variable needs low and high, or choices")
        elif not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        elif self.log and (self.low <= 0 or self.step is not None):
            raise ValueError("log scale needs low > 0 and no step")
        elif self.integer and any(x is not None and x != int(x) for x in (self.low, self.high, self.step)):
            raise ValueError("an integer variable needs whole-number low, high and step")
        return self

    @property
    def values_to_check(self) -> list[Any]:
        """The extreme values a base design must accept."""
        if self.choices is not None:
            return list(self.choices)
        return [int(self.low), int(self.high)] if self.integer else [self.low, self.high]


class _TripFile(_Model):
    drops_per_trip: int = Field(ge=0, le=10_000)
    drop_height_m: _Number = Field(ge=0, le=100)
    max_rh_pct: _Number = Field(default=50.0, ge=0, le=100)
    horizon: int = Field(default=1000, ge=1, le=100_000)


class _StudyFile(_Model):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    description: str = ""
    design: str = Field(min_length=1)
    changes: dict[str, Any] = Field(default_factory=dict)
    variable: list[Variable] = Field(min_length=1)
    objectives: list[Literal[OBJECTIVES]] = Field(min_length=1, max_length=2)
    standards: list[str] = Field(default_factory=lambda: ["un-6.1.5-pg2", "sp188"], min_length=1)
    fidelity: Literal["fast", "fe"] = "fe"
    fe_checks: int = Field(default=10, ge=0, le=10_000)
    mesh_size_m: _Number | None = Field(default=None, gt=0, le=0.1)
    sampler: Literal["tpe", "nsga2", "random"] | None = None
    seed: int = 0
    trials: int = Field(default=50, ge=1, le=100_000)
    trip: _TripFile | None = None


@dataclass(frozen=True)
class Study:
    """A validated study.

    Attributes
    ----------
    name : str
        Study name (the Optuna study name in the storage).
    path : Path or None
        The study file.
    base : Design
        The base design with the study's ``changes`` applied.
    variables : tuple of Variable
    objectives : tuple of str
        One or two of :data:`OBJECTIVES`, minimised.
    standards : tuple of str
        Standard ids or files every design must pass.
    fidelity : str
        ``fe``: promising designs that pass the fast screening are confirmed by finite elements,
        and only FE-confirmed designs are reported best; ``fast``: the fast check only.
    fe_checks : int
        Most FE checks the study runs (each takes about a minute for the reference designs);
        once spent, trials are screened only.
    mesh_size_m : float or None
        Element size of the FE checks, m.
    sampler : str
        ``tpe`` (constrained TPE, one objective), ``nsga2`` (constrained NSGA-II, two objectives)
        or ``random``.
    seed : int
    trials : int
        Completed trials to reach (a resumed study counts those it has).
    output_dir : Path
        Where the SQLite storage, the best design, reports and figures go.
    trip_profile : TripProfile
        The trip the per-trip objectives' forecast repeats (table ``[trip]``: drops_per_trip,
        drop_height_m, max_rh_pct; default :meth:`TripProfile.default`). The forecast uses the
        fast models, whatever the fidelity policy.
    horizon : int
        Longest life the forecast looks for, trips (``trip.horizon``).
    """

    name: str
    path: Path | None
    base: Design
    variables: tuple[Variable, ...]
    objectives: tuple[str, ...]
    standards: tuple[str, ...]
    fidelity: str
    fe_checks: int
    mesh_size_m: float | None
    sampler: str
    seed: int
    trials: int
    output_dir: Path
    description: str = ""
    trip_profile: TripProfile = field(default_factory=TripProfile.default)
    horizon: int = 1000


def _problems(exc: ValidationError, file: str) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        field = ".".join(loc)
        message = err["msg"]
        if message.startswith("Input should be "):
            message = "expected " + message[len("Input should be "):]
        message = message.removeprefix("Value error, ")
        if err["type"] == "missing":
            message = "required field is missing"
        elif err["type"] == "string_pattern_mismatch":
            message = "expected letters, digits, '.', '_' or '-' (it names the study's files)"
        elif err["type"] == "extra_forbidden":
            message = "unknown field"
        out.append(Problem(field, err.get("input"), message, file))
    return out


def study_from_dict(data: dict[str, Any], path: str | Path | None = None,
                    output_dir: str | Path | None = None) -> Study:
    """Validate study data (as read from a study file at ``path``).

    Relative design and standard paths are taken from the study file's folder; the output folder
    defaults to ``<that folder>/out/<name>``.
    """
    file = str(path) if path is not None else None
    where = Path(path).parent if path is not None else Path.cwd()
    try:
        spec = _StudyFile.model_validate(data)
    except ValidationError as exc:
        raise StudyError(_problems(exc, file)) from None
    problems: list[Problem] = []
    design_path = where / spec.design
    base = None
    try:
        base = load_design(design_path)
        if spec.changes:
            base = base.replace(spec.changes)
    except PacksimInputError as exc:
        field = "design" if base is None else "changes"
        problems += [Problem(f"{field}: {p.field}" if p.field else field, p.value, p.expected, file)
                     for p in exc.problems]
    standards = []
    for i, name in enumerate(spec.standards):
        ref = str(where / name) if name.endswith(".toml") else name
        try:
            get_standard(ref)
            standards.append(ref)
        except (StandardError, KeyError) as exc:
            problems.append(Problem(f"standards.{i}", name, str(exc).strip("'\""), file))
    paths = [v.path for v in spec.variable]
    for i, var in enumerate(spec.variable):
        if paths.count(var.path) > 1:
            problems.append(Problem(f"variable.{i}.path", var.path, "each path once", file))
        if base is None:
            continue
        for value in var.values_to_check:
            try:
                base.replace({var.path: value})
            except PacksimInputError as exc:
                reason = "; ".join(p.describe(show_file=False) for p in exc.problems)
                problems.append(Problem(f"variable.{i}", var.path,
                                        f"the base design cannot take {value!r}: {reason}", file))
                break
    sampler = spec.sampler or ("tpe" if len(spec.objectives) == 1 else "nsga2")
    if sampler == "tpe" and len(spec.objectives) > 1:
        problems.append(Problem("sampler", sampler, "tpe here is for one objective; use nsga2 "
                                "(or random) for two", file))
    if problems:
        raise StudyError(problems)
    out = Path(output_dir) if output_dir is not None else where / "out" / spec.name
    return Study(name=spec.name, path=Path(path) if path is not None else None, base=base,
                 variables=tuple(spec.variable), objectives=tuple(spec.objectives),
                 standards=tuple(standards), fidelity=spec.fidelity, fe_checks=spec.fe_checks,
                 mesh_size_m=spec.mesh_size_m, sampler=sampler, seed=spec.seed,
                 trials=spec.trials, output_dir=out, description=spec.description,
                 **({} if spec.trip is None else {
                     "trip_profile": TripProfile(spec.trip.drops_per_trip, spec.trip.drop_height_m,
                                                 spec.trip.max_rh_pct),
                     "horizon": spec.trip.horizon}))


def load_study(path: str | Path, output_dir: str | Path | None = None) -> Study:
    """Read and validate a study file (see the module doc), reporting every problem at once."""
    return study_from_dict(read_toml(Path(path), StudyError), path, output_dir)
