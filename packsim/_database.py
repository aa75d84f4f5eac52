"""Database URLs in messages, shared by the study storage and the reuse ledger."""

from __future__ import annotations


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
