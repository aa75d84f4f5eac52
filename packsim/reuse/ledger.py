"""The reuse ledger: a fleet's returnable packaging units, their trips, inspections, repairs and
retirement, in SQLite (a file, the default) or PostgreSQL, with the same schema.

Every write is one transaction that first checks every record it carries: a bad record (unknown
unit, trip dated before commissioning or after retirement, negative drop height, ...) refuses the
whole write with every problem listed, and the ledger is left as it was. A batch of trips is one
transaction: a process killed while recording it leaves all of it or none. SQLite writers take the
database lock when their transaction begins (``BEGIN IMMEDIATE``) and wait for each other;
PostgreSQL writers lock the unit's row.

The schema version is stored in the ledger (table ``meta``); opening an older ledger applies the
pending migrations in one transaction; a ledger from a newer packsim is refused.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .._database import missing_driver, shown_url, sqlite_transactions
from ..errors import PacksimInputError, Problem, did_you_mean
from .degradation import PARTS, Repair, Trip

if TYPE_CHECKING:
    from ..design import Design

#: Version of the schema this packsim writes.
SCHEMA_VERSION = 1

_metadata = sa.MetaData()
_meta = sa.Table("meta", _metadata, sa.Column("key", sa.String(64), primary_key=True),
                 sa.Column("value", sa.String(256), nullable=False))
_units = sa.Table(
    "units", _metadata,
    sa.Column("serial", sa.String(128), primary_key=True),
    sa.Column("design_name", sa.String(256), nullable=False),
    sa.Column("design_toml", sa.Text, nullable=False),
    sa.Column("commissioned", sa.Date, nullable=False),
    sa.Column("retired", sa.Date),
    sa.Column("retire_cause", sa.String(256)),
)
_trips = sa.Table(
    "trips", _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("serial", sa.String(128), sa.ForeignKey("units.serial"), nullable=False, index=True),
    sa.Column("shipped", sa.Date, nullable=False),
    sa.Column("route", sa.String(256), nullable=False, default=""),
    sa.Column("max_rh_pct", sa.Float, nullable=False, default=50.0),
)
_drops = sa.Table(
    "drops", _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("trip_id", sa.Integer, sa.ForeignKey("trips.id"), nullable=False, index=True),
    sa.Column("height_m", sa.Float, nullable=False),
)
_inspections = sa.Table(
    "inspections", _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("serial", sa.String(128), sa.ForeignKey("units.serial"), nullable=False, index=True),
    sa.Column("on", sa.Date, nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("note", sa.Text, nullable=False, default=""),
)
_repairs = sa.Table(
    "repairs", _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("serial", sa.String(128), sa.ForeignKey("units.serial"), nullable=False, index=True),
    sa.Column("on", sa.Date, nullable=False),
    sa.Column("part", sa.String(32), nullable=False),
    sa.Column("note", sa.Text, nullable=False, default=""),
)

# Schema changes, in order: MIGRATIONS[k] takes a ledger from version k to k + 1.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    lambda conn: _metadata.create_all(conn),
)


class LedgerError(PacksimInputError):
    """A record the ledger refuses, or a ledger it cannot open. Nothing was written."""

    what = "reuse ledger"


@dataclass(frozen=True)
class TripRecord:
    """One trip of one unit, as recorded.

    Attributes
    ----------
    serial : str
    shipped : datetime.date
    route : str
    drops_m : tuple of float
        Heights of the drops recorded on the trip (e.g. by a shock logger), m.
    max_rh_pct : float
        Highest relative humidity on the trip, %.
    """

    serial: str
    shipped: dt.date
    route: str = ""
    drops_m: tuple[float, ...] = ()
    max_rh_pct: float = 50.0


@dataclass(frozen=True)
class UnitStatus:
    """A unit's record: what it is, its trips, its last inspection and whether it is retired."""

    serial: str
    design_name: str
    commissioned: dt.date
    trips: int
    last_trip: dt.date | None
    last_inspection: tuple[dt.date, bool] | None
    repairs: int
    retired: dt.date | None
    retire_cause: str | None
    history: tuple[Trip | Repair, ...] = field(repr=False, default=())
    design_toml: str = field(repr=False, default="")

    @property
    def in_service(self) -> bool:
        return self.retired is None

    def design(self) -> Design:
        """The unit's design, as registered."""
        import tomllib

        from ..design import Design

        return Design.from_dict(tomllib.loads(self.design_toml), source=f"ledger unit {self.serial}")

    def to_dict(self) -> dict[str, Any]:
        return {"serial": self.serial, "design": self.design_name,
                "commissioned": self.commissioned.isoformat(), "trips": self.trips,
                "last_trip": self.last_trip and self.last_trip.isoformat(),
                "last_inspection": None if self.last_inspection is None else {
                    "date": self.last_inspection[0].isoformat(), "passed": self.last_inspection[1]},
                "repairs": self.repairs, "retired": self.retired and self.retired.isoformat(),
                "retire_cause": self.retire_cause}


@dataclass(frozen=True)
class FleetSummary:
    """The fleet at a glance.

    Attributes
    ----------
    units, in_service : int
    trips_per_unit : dict
        ``mean``, ``min`` and ``max`` trips of the units in service (0 without units).
    retirements : dict of str to int
        Retired units by cause.
    due_for_inspection : list of (serial, remaining trips)
        Units in service whose forecast remaining life is at most the threshold, fewest first.
    """

    units: int
    in_service: int
    trips_per_unit: dict[str, float]
    retirements: dict[str, int]
    due_for_inspection: list[tuple[str, int]]

    def to_dict(self) -> dict[str, Any]:
        return {"units": self.units, "in_service": self.in_service,
                "trips_per_unit": self.trips_per_unit, "retirements": self.retirements,
                "due_for_inspection": [{"serial": s, "remaining_trips": n}
                                       for s, n in self.due_for_inspection]}


def _url(location: str | Path) -> str:
    text = str(location)
    return text if "://" in text else f"sqlite:///{Path(text).resolve()}"


def _engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    engine = sa.create_engine(url, connect_args={"timeout": 60})

    @sa.event.listens_for(engine, "connect")
    def _foreign_keys(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    # Writers take the write lock at the start: two writers queue instead of deadlocking.
    sqlite_transactions(engine, lambda conn: conn.get_execution_options().get("write", False))
    return engine


class Ledger:
    """A reuse ledger at ``location``: a file path (SQLite) or a database URL
    (``postgresql://user@host/db``). :meth:`create` makes a new one; the constructor opens an
    existing one (migrating an older schema)."""

    def __init__(self, location: str | Path, _create: bool = False):
        self.url = _url(location)
        if not self.url.startswith(("sqlite:", "postgresql:", "postgresql+")):
            raise LedgerError([Problem("ledger", self._shown(), "expected a SQLite file path or "
                                       "a postgresql://user@host/db URL")])
        if self.url.startswith("sqlite") and not _create:
            path = Path(self.url.removeprefix("sqlite:///"))
            if not path.exists():
                raise LedgerError([Problem("", str(location), "no ledger here; create one with "
                                           "'packsim reuse init'", str(location))])
        try:
            self.engine = _engine(self.url)
            with self.engine.connect() as conn:
                conn.execution_options(write=True)
                with conn.begin():
                    self._migrate(conn)
        except ModuleNotFoundError as exc:
            raise LedgerError([Problem("", None, missing_driver(exc), self._shown())]) from None
        except (sa.exc.DatabaseError, sa.exc.ArgumentError) as exc:  # e.g. not a database file
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise LedgerError([Problem("", None, f"cannot open the ledger: {reason}",
                                       self._shown())]) from None

    @classmethod
    def create(cls, location: str | Path) -> Ledger:
        """Create a ledger at ``location`` (or open it, if it already is one)."""
        return cls(location, _create=True)

    def _shown(self) -> str:
        """The ledger for a message: a SQLite file as its path."""
        return self.url.removeprefix("sqlite:///") if self.url.startswith("sqlite:///") \
            else shown_url(self.url)

    def _migrate(self, conn: Connection) -> None:
        inspector = sa.inspect(conn)
        version = 0
        if inspector.has_table("meta"):
            row = conn.execute(sa.select(_meta.c.value).where(_meta.c.key == "schema_version"))
            version = int(row.scalar_one())
        elif set(inspector.get_table_names()) & set(_metadata.tables):
            raise LedgerError([Problem("", None, "holds tables named like a ledger's but no schema "
                                       "version: not a packsim reuse ledger", self._shown())])
        if version > SCHEMA_VERSION:
            raise LedgerError([Problem("meta.schema_version", version,
                                       f"written by a newer packsim; this one reads up to "
                                       f"version {SCHEMA_VERSION}", self._shown())])
        for step in MIGRATIONS[version:]:
            step(conn)
        if version == 0:
            conn.execute(_meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
        elif version < SCHEMA_VERSION:
            conn.execute(_meta.update().where(_meta.c.key == "schema_version")
                         .values(value=str(SCHEMA_VERSION)))

    @property
    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(_meta.c.value)
                                    .where(_meta.c.key == "schema_version")).scalar_one())

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- reading -------------------------------------------------------------------------

    def _unit_rows(self, conn: Connection, serials: Iterable[str], lock: bool = False) -> dict:
        query = sa.select(_units).where(_units.c.serial.in_(sorted(set(serials))))
        if lock:
            query = query.with_for_update()
        return {r.serial: r for r in conn.execute(query)}

    def serials(self) -> list[str]:
        """Serial numbers of every unit, retired ones included."""
        with self.engine.connect() as conn:
            return _serials(conn)

    def unit(self, serial: str) -> UnitStatus:
        """A unit's status and history (trips with their drops and humidity, and repairs)."""
        with self.engine.connect() as conn:
            row = self._unit_rows(conn, [serial]).get(serial)
            if row is None:
                raise LedgerError([Problem("serial", serial, "unknown unit"
                                           + _hint(serial, _serials(conn)))])
            trips = conn.execute(sa.select(_trips).where(_trips.c.serial == serial)
                                 .order_by(_trips.c.shipped, _trips.c.id)).all()
            drops: dict[int, list[float]] = {}
            if trips:
                for d in conn.execute(sa.select(_drops).where(
                        _drops.c.trip_id.in_([t.id for t in trips])).order_by(_drops.c.id)):
                    drops.setdefault(d.trip_id, []).append(d.height_m)
            repairs = conn.execute(sa.select(_repairs).where(_repairs.c.serial == serial)
                                   .order_by(_repairs.c.on, _repairs.c.id)).all()
            last = conn.execute(sa.select(_inspections).where(_inspections.c.serial == serial)
                                .order_by(_inspections.c.on.desc(), _inspections.c.id.desc())
                                .limit(1)).first()
        # A repair on the day of a trip counts after it (the part was replaced on return).
        events = sorted([(t.shipped, 0, t.id, Trip(tuple(drops.get(t.id, ())), t.max_rh_pct))
                         for t in trips]
                        + [(r.on, 1, r.id, Repair(r.part)) for r in repairs],
                        key=lambda e: e[:3])
        return UnitStatus(
            serial=row.serial, design_name=row.design_name, commissioned=row.commissioned,
            trips=len(trips), last_trip=trips[-1].shipped if trips else None,
            last_inspection=None if last is None else (last.on, bool(last.passed)),
            repairs=len(repairs), retired=row.retired, retire_cause=row.retire_cause,
            history=tuple(e[3] for e in events), design_toml=row.design_toml)

    def trip_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(_trips)).scalar_one())

    def dump(self) -> dict[str, list[tuple]]:
        """Every row of every table, in key order (to compare two states of a ledger)."""
        with self.engine.connect() as conn:
            return {t.name: [tuple(r) for r in conn.execute(
                sa.select(t).order_by(*t.primary_key.columns))] for t in _metadata.sorted_tables}

    # --- writing -------------------------------------------------------------------------

    def _write(self, check: Callable[[Connection], list[Problem]],
               write: Callable[[Connection], None]) -> None:
        with self.engine.connect() as conn:
            conn.execution_options(write=True)
            with conn.begin():
                problems = check(conn)
                if problems:  # raising inside the block rolls the transaction back
                    raise LedgerError([replace(p, file=self._shown()) for p in problems])
                write(conn)

    def register(self, serial: str, design: Design, commissioned: dt.date) -> None:
        """Add a unit of ``design`` (a Design) put into service on ``commissioned``."""
        serial = str(serial).strip()

        def check(conn: Connection) -> list[Problem]:
            if not serial:
                return [Problem("serial", serial, "expected a non-empty serial number")]
            if self._unit_rows(conn, [serial]):
                return [Problem("serial", serial, "already registered")]
            return []

        self._write(check, lambda conn: conn.execute(_units.insert().values(
            serial=serial, design_name=design.name, design_toml=design.to_toml(),
            commissioned=_date(commissioned))))

    def record_trips(self, records: Sequence[TripRecord]) -> None:
        """Record a batch of trips: all of them, or, if any is bad, none (every problem listed)."""
        records = list(records)

        def check(conn: Connection) -> list[Problem]:
            units = self._unit_rows(conn, [r.serial for r in records], lock=True)
            known = None
            problems = []
            for i, r in enumerate(records):
                where = f"trip {i + 1}." if len(records) > 1 else "trip."
                unit = units.get(r.serial)
                if unit is None:
                    known = _serials(conn) if known is None else known
                problems += _lifecycle(unit, r.serial, r.shipped, "shipped", where,
                                       "a retired unit cannot ship", known)
                bad = [h for h in r.drops_m if not (isinstance(h, int | float) and h >= 0
                                                     and math.isfinite(h))]
                if bad:
                    problems.append(Problem(f"{where}.drops_m", bad, "expected drop heights "
                                            ">= 0 m"))
                if not 0 <= r.max_rh_pct <= 100:
                    problems.append(Problem(f"{where}.max_rh_pct", r.max_rh_pct,
                                            "expected a relative humidity in [0, 100] %"))
            return problems

        def write(conn: Connection) -> None:
            for r in records:
                trip_id = conn.execute(_trips.insert().values(
                    serial=r.serial, shipped=_date(r.shipped), route=r.route,
                    max_rh_pct=float(r.max_rh_pct))).inserted_primary_key[0]
                if r.drops_m:
                    conn.execute(_drops.insert(), [{"trip_id": trip_id, "height_m": float(h)}
                                                   for h in r.drops_m])

        self._write(check, write)

    def record_trip(self, serial: str, shipped: dt.date, route: str = "",
                    drops_m: Sequence[float] = (), max_rh_pct: float = 50.0) -> None:
        """Record one trip (see :meth:`record_trips`)."""
        self.record_trips([TripRecord(serial, shipped, route, tuple(drops_m), max_rh_pct)])

    def _unit_event(self, serial: str, on: dt.date, what: str,
                    extra: Callable[[Any], list[Problem]] = lambda unit: []):
        def check(conn: Connection) -> list[Problem]:
            unit = self._unit_rows(conn, [serial], lock=True).get(serial)
            known = _serials(conn) if unit is None else None
            lifecycle = _lifecycle(unit, serial, on, what, "", "nothing more can be recorded "
                                   "for it", known, date_field="date")
            return lifecycle if unit is None else extra(unit) + lifecycle
        return check

    def inspect(self, serial: str, on: dt.date, passed: bool, note: str = "") -> None:
        """Record an inspection of a unit and its result."""
        self._write(self._unit_event(serial, on, "inspected"),
                    lambda conn: conn.execute(_inspections.insert().values(
                        serial=serial, on=_date(on), passed=bool(passed), note=note)))

    def repair(self, serial: str, on: dt.date, part: str, note: str = "") -> None:
        """Record that ``part`` (container, insert or dividers) of a unit was replaced."""
        def part_known(_unit) -> list[Problem]:
            return [] if part in PARTS else [Problem("part", part, f"expected one of {PARTS}")]

        self._write(self._unit_event(serial, on, "repaired", part_known),
                    lambda conn: conn.execute(_repairs.insert().values(
                        serial=serial, on=_date(on), part=part, note=note)))

    def retire(self, serial: str, on: dt.date, cause: str) -> None:
        """Take a unit out of service for ``cause`` (e.g. 'failed inspection', 'lost')."""
        def cause_given(_unit) -> list[Problem]:
            return [] if cause.strip() else [Problem("cause", cause, "expected a cause")]

        self._write(self._unit_event(serial, on, "retired", cause_given),
                    lambda conn: conn.execute(_units.update().where(_units.c.serial == serial)
                                              .values(retired=_date(on), retire_cause=cause)))

    # --- the fleet -----------------------------------------------------------------------

    def fleet(self, remaining: Callable[[UnitStatus], int] | None = None,
              due_within: int = 2) -> FleetSummary:
        """Units in service, trips per unit, retirements by cause and, given ``remaining``
        (a unit's forecast remaining trips), the units due for inspection (``<= due_within``)."""
        units = [self.unit(s) for s in self.serials()]
        active = [u for u in units if u.in_service]
        trips = [u.trips for u in active]
        per_unit = ({"mean": sum(trips) / len(trips), "min": min(trips), "max": max(trips)}
                    if trips else {"mean": 0.0, "min": 0, "max": 0})
        due = []
        if remaining is not None:
            due = sorted(((u.serial, remaining(u)) for u in active), key=lambda d: (d[1], d[0]))
            due = [d for d in due if d[1] <= due_within]
        return FleetSummary(len(units), len(active), per_unit,
                            dict(Counter(u.retire_cause for u in units if not u.in_service)), due)


def _date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise LedgerError([Problem("date", value, "expected a date as YYYY-MM-DD")]) from None


def _lifecycle(unit: Any, serial: str, on: dt.date | str, what: str, where: str,
               after_retirement: str, serials: list[str] | None,
               date_field: str | None = None) -> list[Problem]:
    """The problems of recording what happened to ``serial`` on ``on`` (``what``: shipped,
    inspected, ...): an unknown unit (``serials``: the known ones), a date before it was
    commissioned, a unit retired already. Fields are prefixed with ``where``."""
    if unit is None:
        return [Problem(f"{where}serial", serial, "unknown unit" + _hint(serial, serials or []))]
    problems = []
    day = _date(on)
    if day < unit.commissioned:
        problems.append(Problem(f"{where}{date_field or what}", day.isoformat(),
                                f"{what} before the unit was commissioned "
                                f"({unit.commissioned.isoformat()})"))
    if unit.retired is not None:
        problems.append(Problem(f"{where}serial", serial, f"retired on "
                                f"{unit.retired.isoformat()} ({unit.retire_cause}); "
                                f"{after_retirement}"))
    return problems


def _hint(serial: str, serials: list[str]) -> str:
    return did_you_mean(serial, serials)


def _serials(conn: Connection) -> list[str]:
    return list(conn.execute(sa.select(_units.c.serial).order_by(_units.c.serial)).scalars())
