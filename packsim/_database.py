"""Database helpers shared by the study storage and the reuse ledger: URLs in messages, and real
transactions on SQLite."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine


def shown_url(url: str) -> str:
    """The URL for a message, its password masked."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can parse: nothing to mask
        return url


def missing_driver(exc: ModuleNotFoundError) -> str:
    """What to do when a database's driver module is missing."""
    return (f"its database driver is not installed ({exc.name}); for PostgreSQL: "
            "pip install 'packsim[postgres]'")


def sqlite_transactions(engine: Engine, immediate: Callable[[Connection], bool]) -> None:
    """Make every transaction on a SQLite ``engine`` a real one, begun by SQLAlchemy.

    Python's sqlite3 driver defers BEGIN to the first write, so a read and the write that depends
    on it run in separate transactions: two processes can both read a row as free and both take it.
    Here the driver's own transaction handling is off and each transaction begins with ``BEGIN
    IMMEDIATE`` (the write lock, so writers queue behind each other for the connection's busy
    timeout instead of failing) when ``immediate(connection)`` is true, else with ``BEGIN``.
    Connections the engine already holds are closed so that all of them follow this.
    """
    from sqlalchemy import event

    def driver_autocommit(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None

    def begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate(conn) else "BEGIN")

    event.listen(engine, "connect", driver_autocommit)
    event.listen(engine, "begin", begin)
    engine.dispose()
