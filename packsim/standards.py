"""Shipping test standards encoded as data: load, validate and query ``standards/*.toml``.

A standard file (schema in ``standards/SCHEMA.md``) has an id, a title, a ``[references]`` table
and one ``[[test]]`` table per test, each of a ``kind``:

- ``drop``: a fixed ``height_m`` or a ``height_table`` by gross mass, and ``orientations``;
- ``stack``: the load of identical packages stacked to ``stack_height_m``;
- ``vehicle-stack``: the ASTM D4169 Schedule C load;
- ``limits``: quantity rules on the design itself (Wh per cell, masses, state of charge);
- ``fragility``: the shock level cells are proven to survive, and a safety factor;
- ``conditioning``: the atmosphere samples are conditioned in.

Every number is a table ``{ value, clause, source, confidence, note }``: the clause it comes from,
a key of ``[references]``, and HIGH / MED / LOW / UNCONFIRMED. Figures marked UNCONFIRMED are
provisional, and so is every verdict that uses them. Users add their own standard (a company
specification, or the purchased text of a procedure) as a file in the same schema.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from ._cited import CONFIDENCE_LEVELS, read_toml
from .errors import PacksimInputError, Problem, did_you_mean
from .units import INCH_M, LBF_N, parse_length

#: The standards shipped with packsim (the repository's top-level ``standards/`` folder).
STANDARDS_DIR = Path(__file__).resolve().parent.parent / "standards"


Confidence = Literal["HIGH", "MED", "LOW", "UNCONFIRMED"]
Criterion = Literal["cell-peak-g", "no-bottoming", "cells-apart", "container-intact",
                    "stack-strength", "stack-buckling"]


class StandardError(PacksimInputError):
    """A standard file is invalid, or a standard id is unknown."""

    what = "standard"


def _length(value: Any) -> Any:
    return parse_length(value) if isinstance(value, str) else value


class _Cited(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    clause: str = Field(min_length=1)
    source: str = Field(min_length=1)
    confidence: Confidence
    note: str = ""

    @property
    def provisional(self) -> bool:
        return self.confidence == "UNCONFIRMED"


class CitedLength(_Cited):
    """A length, m (or a string with a unit, e.g. ``"48 in"``)."""

    value: Annotated[float, BeforeValidator(_length), Field(gt=0, le=10)]


class CitedMass(_Cited):
    """A mass, kg."""

    value: Annotated[float, Field(gt=0, le=5000)]


class CitedNumber(_Cited):
    """A positive number in the unit its field name says."""

    value: Annotated[float, Field(gt=0)]


class CitedTemperature(_Cited):
    """A temperature, degrees Celsius."""

    value: Annotated[float, Field(ge=-80, le=150)]


class CitedPercent(_Cited):
    value: Annotated[float, Field(ge=0, le=100)]


class CitedCount(_Cited):
    value: Annotated[int, Field(ge=1)]


class CitedFlag(_Cited):
    value: bool


class CitedNames(_Cited):
    value: list[str] = Field(min_length=1)


class CitedTable(_Cited):
    """Rows ``[lower kg, upper kg, height m]`` by gross mass: lower inclusive, upper exclusive
    (the last row's upper bound inclusive)."""

    value: list[tuple[float, float, float]] = Field(min_length=1)

    @model_validator(mode="after")
    def _bands(self) -> CitedTable:
        rows = self.value
        for i, (lo, hi, height) in enumerate(rows):
            if not 0 <= lo < hi:
                raise ValueError(f"row {i}: expected 0 <= lower < upper kg, got [{lo}, {hi}]")
            if not 0 < height <= 10:
                raise ValueError(f"row {i}: expected a height in metres (0, 10], got {height}")
            if i and lo != rows[i - 1][1]:
                raise ValueError(f"row {i}: bands must follow each other ({rows[i - 1][1]} kg, got {lo})")
        return self


class CitedLevels(_Cited):
    """A value per assurance level, e.g. ``{ I = 10, II = 7, III = 5 }``."""

    value: dict[str, Annotated[float, Field(gt=0)]] = Field(min_length=1)


class _Test(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    clause: str = Field(min_length=1)
    criteria: tuple[Criterion, ...] = ()

    def cited(self) -> dict[str, _Cited]:
        """The test's cited values by field name."""
        return {name: getattr(self, name) for name in type(self).model_fields
                if isinstance(getattr(self, name), _Cited)}

    @property
    def provisional(self) -> bool:
        """Some figure of this test is UNCONFIRMED."""
        return any(c.provisional for c in self.cited().values())


class DropTest(_Test):
    """Drops from a fixed height or a height by gross mass, on the named orientations."""

    kind: Literal["drop"]
    height_m: CitedLength | None = None
    height_table: CitedTable | None = None
    extra_drop_m: CitedLength | None = None
    orientations: CitedNames
    samples: CitedCount | None = None
    temperature_c: CitedTemperature | None = None
    gross_mass_max_kg: CitedMass | None = None
    applies_to: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _one_height(self) -> DropTest:
        if (self.height_m is None) == (self.height_table is None):
            raise ValueError("give exactly one of height_m and height_table")
        return self

    def height_for(self, gross_mass_kg: float) -> float:
        """Drop height for a package of ``gross_mass_kg``, m.

        Raises
        ------
        ValueError
            If the mass is outside the table (the test does not apply).
        """
        if self.height_m is not None:
            return self.height_m.value
        rows = self.height_table.value
        for i, (lo, hi, height) in enumerate(rows):
            last = i == len(rows) - 1
            if lo <= gross_mass_kg < hi or (last and gross_mass_kg == hi):
                return height
        raise ValueError(f"a gross mass of {gross_mass_kg:.3g} kg is outside the drop-height table "
                         f"({rows[0][0]:g}-{rows[-1][1]:g} kg) of test {self.id!r}")


class StackTest(_Test):
    """UN-style stacking: the weight of identical packages stacked to a height."""

    kind: Literal["stack"]
    stack_height_m: CitedLength
    duration_h: CitedNumber | None = None
    samples: CitedCount | None = None


class VehicleStackTest(_Test):
    """ASTM D4169 Schedule C: L = Mf J (l w h / K) ((H - h) / h) F (inch-pound)."""

    kind: Literal["vehicle-stack"]
    density_lb_ft3: CitedNumber
    stack_height_in: CitedNumber
    assurance_factor: CitedLevels

    def load_n(self, dims_m: tuple[float, float, float], level: str = "II") -> float:
        """Top load on the bottom package of outer dimensions ``dims_m`` (l, w, h), N.

        With dimensions in inches, volume in cubic feet (K = 1728 in^3/ft^3) and J = 1 lbf/lb,
        the load in lbf is converted to newtons.
        """
        factors = self.assurance_factor.value
        if level not in factors:
            raise ValueError(f"unknown assurance level {level!r}{did_you_mean(level, factors)}; "
                             f"expected one of {', '.join(factors)}")
        l_in, w_in, h_in = (d / INCH_M for d in dims_m)
        rows_above = (self.stack_height_in.value - h_in) / h_in
        load_lbf = self.density_lb_ft3.value * (l_in * w_in * h_in / 1728.0) * rows_above * factors[level]
        return max(load_lbf, 0.0) * LBF_N


class LimitsTest(_Test):
    """Quantity rules on the design itself."""

    kind: Literal["limits"]
    cell_wh_max: CitedNumber | None = None
    battery_wh_max: CitedNumber | None = None
    gross_mass_max_kg: CitedMass | None = None
    net_mass_max_kg: CitedMass | None = None
    state_of_charge_max_pct: CitedPercent | None = None
    inner_packaging_required: CitedFlag | None = None


class FragilityTest(_Test):
    """The shock level cells are proven to survive, by cell mass, and a safety factor."""

    kind: Literal["fragility"]
    small_peak_g: CitedNumber
    small_duration_ms: CitedNumber
    large_peak_g: CitedNumber
    large_duration_ms: CitedNumber
    large_cell_mass_kg: CitedMass
    safety_factor: CitedNumber

    def proven_g(self, cell_mass_kg: float) -> float:
        """Shock level a cell of ``cell_mass_kg`` has survived (small or large cell), g."""
        large = cell_mass_kg > self.large_cell_mass_kg.value
        return (self.large_peak_g if large else self.small_peak_g).value

    def allowed_g(self, cell_mass_kg: float) -> float:
        """Peak acceleration a cell of ``cell_mass_kg`` may feel in a drop, g."""
        return self.proven_g(cell_mass_kg) / self.safety_factor.value


class ConditioningTest(_Test):
    """The atmosphere samples are conditioned in before testing."""

    kind: Literal["conditioning"]
    temperature_c: CitedTemperature
    relative_humidity_pct: CitedPercent | None = None
    duration_h: CitedNumber | None = None
    applies_to: tuple[str, ...] = ()


Test = Annotated[DropTest | StackTest | VehicleStackTest | LimitsTest | FragilityTest
                 | ConditioningTest, Field(discriminator="kind")]


class Reference(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    citation: str = Field(min_length=1)
    url: str = ""


class Standard(BaseModel):
    """One encoded standard: its tests, each figure with clause, source and confidence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    title: str = Field(min_length=1)
    scope: str = ""
    assurance_level: str | None = None
    references: dict[str, Reference] = Field(min_length=1)
    test: tuple[Test, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _sources_and_ids(self) -> Standard:
        problems = []
        ids = [t.id for t in self.test]
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            problems.append(f"test id {dup!r} is used more than once")
        for t in self.test:
            for name, cited in t.cited().items():
                if cited.source not in self.references:
                    problems.append(f"test {t.id!r} {name}.source = {cited.source!r} is not a key of "
                                    f"[references]{did_you_mean(cited.source, self.references)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def provisional(self) -> bool:
        return any(t.provisional for t in self.test)

    def tests_of(self, kind: str) -> list[Any]:
        return [t for t in self.test if t.kind == kind]

    def __getitem__(self, test_id: str) -> Any:
        for t in self.test:
            if t.id == test_id:
                return t
        raise KeyError(f"standard {self.id!r} has no test {test_id!r}{did_you_mean(test_id, [t.id for t in self.test])}")


def _problems(exc: ValidationError, file: str) -> list[Problem]:
    problems = []
    errors = exc.errors()
    for err in errors:
        if err["type"] == "too_short" and any(
                len(e["loc"]) > len(err["loc"]) and e["loc"][:len(err["loc"])] == err["loc"]
                for e in errors):
            continue  # a list emptied by its items' own errors: those are the news
        loc = [str(p) for p in err["loc"] if not (isinstance(p, str) and p in _KINDS)]
        field = ".".join(loc)
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "missing":
            message = "required key is missing"
        else:
            message = err["msg"].removeprefix("Value error, ")
            for prefix in ("Input should be ",):
                if message.startswith(prefix):
                    message = "expected " + message[len(prefix):]
        problems.append(Problem(field, err.get("input") if err["type"] != "missing" else None,
                                message, file))
    return problems


_KINDS = ("drop", "stack", "vehicle-stack", "limits", "fragility", "conditioning")


def load_standard(path: str | Path) -> Standard:
    """Read and validate a standard file (cached while the file is unchanged).

    Raises
    ------
    StandardError
        Listing every problem with the file and the key (unknown keys, missing citations,
        values out of range or in the wrong unit).
    """
    path = Path(path).resolve()
    stamp = path.stat().st_mtime_ns if path.is_file() else None
    return _load(path, stamp)


@cache
def _load(path: Path, stamp: int | None) -> Standard:
    data = read_toml(path, StandardError)
    try:
        return Standard.model_validate(data)
    except ValidationError as exc:
        raise StandardError(_problems(exc, str(path))) from None


@cache
def builtin_standards() -> dict[str, Path]:
    """Id -> file of every standard shipped in ``standards/``."""
    if not STANDARDS_DIR.is_dir():
        return {}
    return {load_standard(p).id: p for p in sorted(STANDARDS_DIR.glob("*.toml"))}


def get_standard(name: str | Path | Standard) -> Standard:
    """A standard by built-in id (``"un-6.1.5-pg2"``) or by the path of a standard file."""
    if isinstance(name, Standard):
        return name
    text = str(name)
    if text.endswith(".toml") or Path(text).is_file():
        return load_standard(text)
    known = builtin_standards()
    if text not in known:
        raise StandardError([Problem("standard", text, f"unknown standard{did_you_mean(text, known)}; "
                                     f"built in: {', '.join(known) or '(none found in ' + str(STANDARDS_DIR) + ')'}; "
                                     "or give the path of a standard file")])
    return load_standard(known[text])


__all__ = [
    "CONFIDENCE_LEVELS",
    "ConditioningTest",
    "DropTest",
    "FragilityTest",
    "LimitsTest",
    "Standard",
    "StandardError",
    "StackTest",
    "VehicleStackTest",
    "builtin_standards",
    "get_standard",
    "load_standard",
]
