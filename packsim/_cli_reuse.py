"""``packsim reuse``: the reuse ledger and the remaining-life forecast on the command line."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import json
import os
from typing import Any

from ._arguments import argument, positive_int
from .design import load_design
from .errors import PacksimInputError, Problem
from .reuse.degradation import PARTS

DEFAULT_LEDGER = "reuse-ledger.db"


_date = argument(dt.date.fromisoformat, "a date as YYYY-MM-DD", lambda v: True, "")
_height = argument(float, "a drop height in m", lambda v: v >= 0, "a drop height >= 0 m")
_humidity = argument(float, "a relative humidity in %", lambda v: 0 <= v <= 100,
                      "a relative humidity in [0, 100] %")
_count = argument(int, "a whole number", lambda v: v >= 0, "a whole number >= 0")


def _ledger(args: argparse.Namespace, create: bool = False):
    from .reuse import Ledger

    return Ledger.create(args.ledger) if create else Ledger(args.ledger)


def _init(args: argparse.Namespace) -> int:
    with _ledger(args, create=True) as ledger:
        print(f"ledger {args.ledger}: schema version {ledger.schema_version}, "
              f"{len(ledger.serials())} units")
    return 0


def _register(args: argparse.Namespace) -> int:
    design = load_design(args.design)
    with _ledger(args) as ledger:
        ledger.register(args.serial, design, args.commissioned)
    print(f"registered {args.serial}: {design.name}, in service from {args.commissioned}")
    return 0


def _batch(path: str) -> list:
    """Trip records of a CSV file with columns serial, date, route, drops_m (heights separated
    by spaces), max_rh_pct; every bad line is reported."""
    from .reuse import LedgerError, TripRecord

    records, problems = [], []
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"serial", "date"} - set(reader.fieldnames or ())
        if missing:
            raise LedgerError([Problem("", sorted(missing), "missing CSV columns; expected "
                                       "serial, date, route, drops_m, max_rh_pct", path)])
        for line, row in enumerate(reader, start=2):
            try:
                drops = tuple(float(h) for h in (row.get("drops_m") or "").split())
                rh = float(row.get("max_rh_pct") or 50.0)
                shipped = dt.date.fromisoformat(row["date"] or "")
            except ValueError as exc:
                problems.append(Problem(f"line {line}", dict(row), f"{exc}", path))
                continue
            records.append(TripRecord(row["serial"], shipped, row.get("route") or "", drops, rh))
    if problems:
        raise LedgerError(problems)
    return records


def _trip(args: argparse.Namespace) -> int:
    from .reuse import TripRecord

    if args.batch:
        records = _batch(args.batch)
    elif args.serial and args.date:
        records = [TripRecord(args.serial, args.date, args.route, tuple(args.drop), args.rh)]
    else:
        raise PacksimInputError([Problem("", None, "give SERIAL and --date, or --batch FILE")])
    with _ledger(args) as ledger:
        ledger.record_trips(records)
    print(f"recorded {len(records)} trip{'s' if len(records) != 1 else ''}")
    return 0


def _inspect(args: argparse.Namespace) -> int:
    with _ledger(args) as ledger:
        ledger.inspect(args.serial, args.date, args.result == "pass", args.note)
    print(f"{args.serial}: inspection on {args.date}: {args.result}")
    return 0


def _repair(args: argparse.Namespace) -> int:
    with _ledger(args) as ledger:
        ledger.repair(args.serial, args.date, args.part, args.note)
    print(f"{args.serial}: {args.part} replaced on {args.date}")
    return 0


def _retire(args: argparse.Namespace) -> int:
    with _ledger(args) as ledger:
        ledger.retire(args.serial, args.date, args.cause)
    print(f"{args.serial}: retired on {args.date} ({args.cause})")
    return 0


def _remaining(standards: list[str]):
    """A unit's forecast trips left; a line on stderr per unit (a fleet takes a while). Units of
    one design with the same history (shipped alike, nothing recorded) share one forecast."""
    import sys

    from .reuse import forecast

    known: dict[tuple, int] = {}

    def remaining(unit) -> int:
        key = (unit.design_toml, unit.history)
        if key not in known:
            known[key] = forecast(unit.design(), standards, history=unit.history).trips
        print(f"forecast {unit.serial}: {known[key]} trips left", file=sys.stderr, flush=True)
        return known[key]

    return remaining


def _status(args: argparse.Namespace) -> int:
    from .compliance import DEFAULT_STANDARDS

    standards = args.standard or list(DEFAULT_STANDARDS)
    with _ledger(args) as ledger:
        if args.serial:
            unit = ledger.unit(args.serial)
            data = {**unit.to_dict(), "remaining_trips": _remaining(standards)(unit)
                    if unit.in_service else 0}
            print(json.dumps(data, indent=2) if args.json else _format_unit(data))
            return 0
        summary = ledger.fleet(_remaining(standards), args.due_within)
    data = summary.to_dict()
    print(json.dumps(data, indent=2) if args.json else _format_fleet(data, args.due_within))
    return 0


def _format_unit(data: dict[str, Any]) -> str:
    inspection = data["last_inspection"]
    return "\n".join([
        f"unit              {data['serial']} ({data['design']})",
        f"commissioned      {data['commissioned']}",
        f"trips             {data['trips']} (last {data['last_trip'] or '-'})",
        f"repairs           {data['repairs']}",
        "last inspection   " + ("-" if inspection is None else
                                f"{inspection['date']}: {'pass' if inspection['passed'] else 'fail'}"),
        "status            " + (f"retired {data['retired']} ({data['retire_cause']})"
                                if data["retired"] else "in service"),
        f"remaining trips   {data['remaining_trips']} (forecast, fast models)",
    ])


def _format_fleet(data: dict[str, Any], due_within: int) -> str:
    per = data["trips_per_unit"]
    lines = [
        f"units             {data['units']} ({data['in_service']} in service)",
        f"trips per unit    mean {per['mean']:.1f}, min {per['min']}, max {per['max']}",
        "retired           " + (", ".join(f"{n} {cause}" for cause, n in data["retirements"].items())
                                or "none"),
        f"due for inspection (forecast <= {due_within} trips left): "
        + (", ".join(f"{d['serial']} ({d['remaining_trips']})" for d in data["due_for_inspection"])
           or "none"),
    ]
    return "\n".join(lines)


def _forecast(args: argparse.Namespace) -> int:
    from .compliance import DEFAULT_STANDARDS
    from .reuse import TripProfile, forecast

    design = load_design(args.design)
    baseline = load_design(args.baseline) if args.baseline else None
    given = {"drops_per_trip": args.drops_per_trip, "drop_height_m": args.drop_height,
             "max_rh_pct": args.rh}
    profile = dataclasses.replace(TripProfile.default(),
                                  **{k: v for k, v in given.items() if v is not None})
    result = forecast(design, args.standard or list(DEFAULT_STANDARDS), profile,
                      baseline=baseline, horizon=args.horizon)
    data = result.to_dict()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    life = f"{'at least ' if data['censored'] else ''}{data['trips']}"
    row = data["failing_row"]
    lines = [
        f"design            {data['design']}",
        f"trip              {profile.drops_per_trip} drops of {profile.drop_height_m:g} m, "
        f"up to {profile.max_rh_pct:g} % RH",
        f"life              {life} trips ({data['checks']} checks)",
        "fails first       " + ("-" if row is None else
                                f"{row['name']}: {row['achieved']} ({row['requirement']})"),
        f"per trip          {data['mass_per_trip_kg']:.3f} kg, "
        f"{data['co2e_per_trip_kg']:.3f} kg CO2e",
    ]
    if baseline is not None:
        lines.append(f"single use        {data['baseline']}: {data['baseline_mass_per_trip_kg']:.3f}"
                     f" kg, {data['baseline_co2e_per_trip_kg']:.3f} kg CO2e per trip; break-even "
                     f"after {data['break_even_trips']} trips "
                     f"({'reached' if data['pays_off'] else 'not reached'})")
    print("\n".join(lines))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``packsim reuse`` and its commands to the ``packsim`` sub-commands."""
    reuse = sub.add_parser("reuse", help="returnable packaging: the reuse ledger and the "
                                         "remaining-life forecast")
    commands = reuse.add_subparsers(dest="reuse_command", required=True, metavar="COMMAND")
    ledger = argparse.ArgumentParser(add_help=False)
    ledger.add_argument("--ledger", default=os.environ.get("PACKSIM_LEDGER", DEFAULT_LEDGER),
                        metavar="PATH|URL", help="the ledger: a SQLite file or postgresql://... "
                        f"(default: $PACKSIM_LEDGER or {DEFAULT_LEDGER})")
    standards = argparse.ArgumentParser(add_help=False)
    standards.add_argument("--standard", action="append", metavar="ID|FILE",
                           help="standards the forecast checks (default: un-6.1.5-pg2, sp188)")
    on = argparse.ArgumentParser(add_help=False)
    on.add_argument("serial")
    on.add_argument("--date", type=_date, required=True, help="YYYY-MM-DD")
    on.add_argument("--note", default="")

    cmd = commands.add_parser("init", parents=[ledger], help="create a ledger")
    cmd.set_defaults(run=_init)
    cmd = commands.add_parser("register", parents=[ledger], help="add a unit of a design")
    cmd.add_argument("serial")
    cmd.add_argument("design", help="design file (TOML)")
    cmd.add_argument("--commissioned", type=_date, default=dt.date.today(), help="YYYY-MM-DD "
                     "(default: today)")
    cmd.set_defaults(run=_register)
    cmd = commands.add_parser("trip", parents=[ledger], help="record a trip, or a batch of "
                              "trips from a CSV file (all or none)")
    cmd.add_argument("serial", nargs="?")
    cmd.add_argument("--date", type=_date, help="shipping date, YYYY-MM-DD")
    cmd.add_argument("--route", default="")
    cmd.add_argument("--drop", type=_height, action="append", default=[], metavar="M",
                     help="height of a recorded drop, m; repeat for several")
    cmd.add_argument("--rh", type=_humidity, default=50.0, metavar="PCT",
                     help="highest relative humidity on the trip, %% (default 50)")
    cmd.add_argument("--batch", metavar="CSV", help="columns serial, date, route, drops_m "
                     "(heights separated by spaces), max_rh_pct")
    cmd.set_defaults(run=_trip)
    cmd = commands.add_parser("inspect", parents=[ledger, on], help="record an inspection")
    cmd.add_argument("--result", choices=("pass", "fail"), required=True)
    cmd.set_defaults(run=_inspect)
    cmd = commands.add_parser("repair", parents=[ledger, on], help="record a replaced part")
    cmd.add_argument("--part", choices=PARTS, required=True)
    cmd.set_defaults(run=_repair)
    cmd = commands.add_parser("retire", parents=[ledger], help="take a unit out of service")
    cmd.add_argument("serial")
    cmd.add_argument("--date", type=_date, required=True, help="YYYY-MM-DD")
    cmd.add_argument("--cause", required=True)
    cmd.set_defaults(run=_retire)
    cmd = commands.add_parser("status", parents=[ledger, standards],
                              help="the fleet summary, or one unit's record")
    cmd.add_argument("serial", nargs="?")
    cmd.add_argument("--due-within", type=_count, default=2, metavar="N",
                     help="units with at most N forecast trips left are due for inspection")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(run=_status)
    cmd = commands.add_parser("forecast", parents=[standards],
                              help="how many trips a design keeps passing, and its cost per trip")
    cmd.add_argument("design", help="design file (TOML)")
    cmd.add_argument("--drops-per-trip", type=_count, metavar="N")
    cmd.add_argument("--drop-height", type=_height, metavar="M")
    cmd.add_argument("--rh", type=_humidity, metavar="PCT")
    cmd.add_argument("--baseline", metavar="DESIGN", help="a single-use design to compare with")
    cmd.add_argument("--horizon", type=positive_int, default=1000, metavar="N")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(run=_forecast)

