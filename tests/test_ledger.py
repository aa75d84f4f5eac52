"""The reuse ledger: bad records are refused and change nothing, a killed batch leaves all or
none, concurrent writers lose nothing, the schema version is kept, and the command line."""

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import REFERENCE_DESIGNS
from helpers import well_cushioned

import packsim
from packsim import reuse
from packsim.cli import main
from packsim.reuse import ledger as ledger_module

DAY0 = dt.date(2026, 1, 5)
POSTGRES = os.environ.get("PACKSIM_TEST_POSTGRES")


@pytest.fixture
def ledger(tmp_path):
    with reuse.Ledger.create(tmp_path / "ledger.db") as led:
        design = well_cushioned()
        for serial in ("U-1", "U-2", "U-3"):
            led.register(serial, design, DAY0)
        led.record_trip("U-1", DAY0 + dt.timedelta(days=3), "A-B", [0.5, 0.8], 70.0)
        led.retire("U-3", DAY0 + dt.timedelta(days=1), "lost")
        yield led


@pytest.mark.parametrize("write, message", [
    (lambda led: led.record_trip("U-9", DAY0), "unknown unit"),
    (lambda led: led.record_trip("U-1", DAY0 - dt.timedelta(days=1)), "before the unit was commissioned"),
    (lambda led: led.record_trip("U-1", DAY0, drops_m=[0.4, -0.5]), "drop heights >= 0"),
    (lambda led: led.record_trip("U-3", DAY0 + dt.timedelta(days=5)), "a retired unit cannot ship"),
    (lambda led: led.record_trips([reuse.TripRecord("U-1", DAY0), reuse.TripRecord("U-7", DAY0)]),
     "trip 2.serial"),
    (lambda led: led.register("U-1", well_cushioned(), DAY0), "already registered"),
    (lambda led: led.inspect("U-3", DAY0 + dt.timedelta(days=9), True), "retired on"),
    (lambda led: led.repair("U-2", DAY0, "lid"), "expected one of"),
    (lambda led: led.retire("U-2", DAY0 - dt.timedelta(days=3), "worn"), "before the unit"),
])
def test_each_bad_record_is_refused_with_a_clear_message_and_changes_nothing(ledger, write, message):
    before = ledger.dump()
    with pytest.raises(reuse.LedgerError, match=message) as info:
        write(ledger)
    assert "ledger.db" in str(info.value)
    assert ledger.dump() == before


def test_several_problems_of_one_write_are_reported_together(ledger):
    with pytest.raises(reuse.LedgerError) as info:
        ledger.record_trip("U-3", DAY0 - dt.timedelta(days=2), drops_m=[-1.0], max_rh_pct=130)
    assert len(info.value.problems) == 4


def test_a_units_history_feeds_its_wear_and_forecast(ledger):
    ledger.repair("U-1", DAY0 + dt.timedelta(days=3), "insert")
    ledger.record_trip("U-1", DAY0 + dt.timedelta(days=9), "B-A", [0.3])
    ledger.inspect("U-1", DAY0 + dt.timedelta(days=10), False, "dented corner")
    unit = ledger.unit("U-1")
    assert unit.trips == 2 and unit.repairs == 1
    assert unit.last_inspection == (DAY0 + dt.timedelta(days=10), False)
    # The trip, then the insert replaced on its return, then the next trip.
    assert unit.history == (reuse.Trip((0.5, 0.8), 70.0), reuse.Repair("insert"), reuse.Trip((0.3,)))
    worn = reuse.degrade(unit.design(), unit.history)
    assert worn.part("insert").impacts == 1 and worn.part("container").trips == 2
    summary = ledger.fleet(lambda u: 1 if u.serial == "U-2" else 5, due_within=2)
    assert summary.units == 3 and summary.in_service == 2
    assert summary.retirements == {"lost": 1}
    assert summary.trips_per_unit == {"mean": 1.0, "min": 0, "max": 2}
    assert summary.due_for_inspection == [("U-2", 1)]


def test_the_schema_version_is_recorded_and_a_newer_one_is_refused(tmp_path):
    path = tmp_path / "ledger.db"
    reuse.Ledger.create(path).close()
    with reuse.Ledger(path) as led:
        assert led.schema_version == reuse.SCHEMA_VERSION
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE meta SET value = '99' WHERE key = 'schema_version'"))
    engine.dispose()
    with pytest.raises(reuse.LedgerError, match="newer packsim"):
        reuse.Ledger(path)
    with pytest.raises(reuse.LedgerError, match="no ledger here"):
        reuse.Ledger(tmp_path / "missing.db")


def test_opening_an_older_ledger_applies_the_pending_migrations_in_order(tmp_path, monkeypatch):
    path = tmp_path / "ledger.db"
    reuse.Ledger.create(path).close()
    applied = []
    added = sa.Table("notes", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))

    def to_v2(conn):
        applied.append(2)
        added.create(conn)

    monkeypatch.setattr(ledger_module, "MIGRATIONS", (*ledger_module.MIGRATIONS, to_v2))
    monkeypatch.setattr(ledger_module, "SCHEMA_VERSION", 2)
    with reuse.Ledger(path) as led:
        assert led.schema_version == 2 and applied == [2]
        assert sa.inspect(led.engine).has_table("notes")
    with reuse.Ledger(path):
        assert applied == [2]  # not again


_WRITER = textwrap.dedent("""
    import datetime as dt, sys
    from packsim import reuse
    url, serial, n, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "batch"
    records = [reuse.TripRecord(serial, dt.date(2026, 2, 1) + dt.timedelta(days=i % 300),
                                "route", (0.3, 0.6)) for i in range(n)]
    with reuse.Ledger(url) as ledger:
        if batch:
            print("writing", flush=True)
            ledger.record_trips(records)
        else:
            for r in records:
                ledger.record_trips([r])
    print("done", flush=True)
""")


def _writer(url: str, serial: str, n: int, batch: bool) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _WRITER, url, serial, str(n),
                             "batch" if batch else "single"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_process_killed_while_recording_a_batch_leaves_all_of_it_or_none(ledger, tmp_path):
    before = ledger.trip_count()
    url = ledger.url
    journal = Path(url.removeprefix("sqlite:///") + "-journal")
    writer = _writer(url, "U-2", 20_000, batch=True)
    assert writer.stdout.readline().strip() == "writing"
    deadline = time.monotonic() + 60
    while not journal.exists() and writer.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    assert writer.poll() is None, "the batch finished before it could be interrupted"
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    with reuse.Ledger(url) as after:
        assert after.trip_count() in (before, before + 20_000)
        with after.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


def _concurrent_writers_lose_nothing(url: str, serials: tuple[str, str]) -> None:
    with reuse.Ledger(url) as led:
        before = led.trip_count()
    writers = [_writer(url, s, 60, batch=False) for s in serials]
    for w in writers:
        out, err = w.communicate(timeout=300)
        assert w.returncode == 0, err
    with reuse.Ledger(url) as led:
        assert led.trip_count() == before + 120
        assert sum(led.unit(s).trips for s in set(serials)) >= 120


def test_two_processes_recording_trips_at_once_lose_none(ledger):
    _concurrent_writers_lose_nothing(ledger.url, ("U-1", "U-2"))


@pytest.mark.skipif(not POSTGRES, reason="set PACKSIM_TEST_POSTGRES to a PostgreSQL URL")
def test_the_same_ledger_on_postgresql(tmp_path):
    try:
        with reuse.Ledger.create(POSTGRES) as led:
            led.register("P-1", well_cushioned(), DAY0)
            led.register("P-2", well_cushioned(), DAY0)
            before = led.dump()
            with pytest.raises(reuse.LedgerError, match="unknown unit"):
                led.record_trips([reuse.TripRecord("P-1", DAY0), reuse.TripRecord("P-9", DAY0)])
            assert led.dump() == before
        _concurrent_writers_lose_nothing(POSTGRES, ("P-1", "P-1"))
    finally:
        engine = sa.create_engine(POSTGRES)
        ledger_module._metadata.drop_all(engine)
        engine.dispose()


def test_the_reuse_commands(tmp_path, capsys):
    db = str(tmp_path / "fleet.db")
    design = str(REFERENCE_DESIGNS[1])
    assert main(["reuse", "init", "--ledger", db]) == 0
    assert main(["reuse", "register", "B-1", design, "--commissioned", "2026-01-01",
                 "--ledger", db]) == 0
    batch = tmp_path / "trips.csv"
    batch.write_text("serial,date,route,drops_m,max_rh_pct\n"
                     "B-1,2026-02-01,Lyon,0.5 0.8,70\nB-1,2026-03-01,Lyon,,50\n")
    assert main(["reuse", "trip", "--batch", str(batch), "--ledger", db]) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("serial,date,drops_m\nB-1,2026-04-01,0.5\nB-2,2026-04-01,\nB-1,someday,\n")
    capsys.readouterr()
    assert main(["reuse", "trip", "--batch", str(bad), "--ledger", db]) == 2
    err = capsys.readouterr().err
    assert "line 4" in err and "Traceback" not in err
    assert main(["reuse", "inspect", "B-1", "--date", "2026-03-02", "--result", "pass",
                 "--ledger", db]) == 0
    assert main(["reuse", "retire", "B-1", "--date", "2026-03-03", "--cause", "cracked",
                 "--ledger", db]) == 0
    assert main(["reuse", "trip", "B-1", "--date", "2026-03-04", "--ledger", db]) == 2
    assert "retired" in capsys.readouterr().err
    assert main(["reuse", "status", "--json", "--ledger", db]) == 0
    status = capsys.readouterr().out
    assert '"in_service": 0' in status and '"cracked": 1' in status
    with reuse.Ledger(db) as led:
        assert led.unit("B-1").trips == 2
    assert main(["reuse", "forecast", design, "--baseline", str(REFERENCE_DESIGNS[0])]) == 0
    assert "break-even" in capsys.readouterr().out
    assert main(["reuse", "status", "--ledger", str(tmp_path / "none.db")]) == 2
    assert "packsim reuse init" in capsys.readouterr().err


def test_fleet_status_forecasts_each_distinct_history_once(tmp_path, capsys, monkeypatch):
    db = str(tmp_path / "fleet.db")
    design = str(REFERENCE_DESIGNS[1])
    assert main(["reuse", "init", "--ledger", db]) == 0
    for serial in ("B-1", "B-2", "B-3"):
        assert main(["reuse", "register", serial, design, "--commissioned", "2026-01-01",
                     "--ledger", db]) == 0
    batch = tmp_path / "trips.csv"
    batch.write_text("serial,date,route,drops_m,max_rh_pct\nB-1,2026-02-01,Lyon,,50\n"
                     "B-2,2026-02-01,Lyon,,50\nB-3,2026-02-01,Lyon,1.2 1.2,50\n")
    assert main(["reuse", "trip", "--batch", str(batch), "--ledger", db]) == 0
    histories, original = [], reuse.forecast

    def counted(design, standards, profile=None, history=(), **kwargs):
        histories.append(history)
        return original(design, standards, profile, history=history, **kwargs)

    monkeypatch.setattr(packsim.reuse, "forecast", counted)
    capsys.readouterr()
    assert main(["reuse", "status", "--json", "--ledger", db]) == 0
    captured = capsys.readouterr()
    assert len(histories) == 2  # B-1 and B-2 were shipped alike
    lines = [line for line in captured.err.splitlines() if line.startswith("forecast ")]
    assert [line.split(":")[0] for line in lines] == ["forecast B-1", "forecast B-2", "forecast B-3"]
    assert lines[0].split(":")[1] == lines[1].split(":")[1]
    assert '"in_service": 3' in captured.out


def test_packsim_reuse_is_in_the_public_api():
    assert packsim.reuse.forecast is reuse.forecast


@pytest.mark.parametrize("url, message", [
    ("postgresql://packsim:secret@localhost:1/none", "cannot open the ledger"),
    ("mysql://someone@localhost/fleet", "expected a SQLite file path or a postgresql"),
])
def test_a_ledger_that_cannot_be_opened_is_a_clear_error(url, message, capsys):
    assert main(["reuse", "status", "--ledger", url]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and "secret" not in err


def test_a_file_that_is_not_a_ledger_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "trips.csv").write_text("serial,date\n")
    assert main(["reuse", "status", "--ledger", str(tmp_path / "trips.csv")]) == 2
    assert "file is not a database" in capsys.readouterr().err

