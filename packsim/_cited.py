"""Load data files whose every number carries its source and confidence (see data/SCHEMA.md)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from importlib import resources
from typing import Any, TypeVar

from .errors import PacksimInputError, Problem, did_you_mean

CONFIDENCE_LEVELS = ("HIGH", "MED", "LOW", "UNCONFIRMED")

T = TypeVar("T")


class DataError(PacksimInputError):
    """A materials, cells or standards data file is invalid."""

    what = "data file"


@dataclass(frozen=True)
class Cited:
    """A value from a data file with its provenance.

    Attributes
    ----------
    value : float, str or bool
        The value, in SI units for physical quantities.
    source : str
        Key of the reference in the file's ``[references]`` table.
    citation : str
        The full citation of that reference.
    confidence : str
        One of ``HIGH``, ``MED``, ``LOW``, ``UNCONFIRMED``.
    note : str
        How the value was derived from the source, if not read directly.
    """

    value: float | str | bool
    source: str
    citation: str
    confidence: str
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "source": self.source,
            "citation": self.citation,
            "confidence": self.confidence,
            "note": self.note,
        }


def read_toml(path: Path, error: type[PacksimInputError]) -> dict[str, Any]:
    """Read a TOML file, turning a missing file or a syntax error into ``error``."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise error([Problem("", None, "file not found", str(path))]) from None
    except IsADirectoryError:
        raise error([Problem("", None, "is a directory, expected a TOML file", str(path))]) from None
    except tomllib.TOMLDecodeError as exc:
        raise error([Problem("", None, f"not valid TOML: {exc}", str(path))]) from None


def load_cited_entries(path: Path, section: str) -> dict[str, dict[str, Any]]:
    """Load ``[section.<id>]`` entries of a cited data file.

    Value tables (``{value, source, confidence, note}``) become :class:`Cited`; plain strings stay
    strings. Every problem in the file (unknown reference, missing source, bad confidence) is
    reported together in one :class:`DataError`.

    Returns
    -------
    dict
        ``{entry_id: {field: Cited | str}}``.
    """
    raw = read_toml(path, DataError)
    refs = raw.get("references", {})
    problems: list[Problem] = []
    entries: dict[str, dict[str, Any]] = {}
    for entry_id, table in raw.get(section, {}).items():
        entry: dict[str, Any] = {}
        for name, item in table.items():
            where = f"{section}.{entry_id}.{name}"
            if not isinstance(item, dict):
                entry[name] = item
                continue
            missing = [k for k in ("value", "source", "confidence") if k not in item]
            if missing:
                problems.append(Problem(where, item, f"missing {', '.join(missing)}", str(path)))
                continue
            if item["source"] not in refs:
                problems.append(
                    Problem(where, item["source"], "source must be a key of [references]", str(path))
                )
                continue
            if item["confidence"] not in CONFIDENCE_LEVELS:
                problems.append(
                    Problem(
                        where, item["confidence"], f"expected one of {CONFIDENCE_LEVELS}", str(path)
                    )
                )
                continue
            ref = refs[item["source"]]
            citation = ref.get("citation", "")
            if ref.get("url"):
                citation = f"{citation} <{ref['url']}>"
            entry[name] = Cited(
                value=item["value"],
                source=item["source"],
                citation=citation,
                confidence=item["confidence"],
                note=item.get("note", ""),
            )
        entries[entry_id] = entry
    if problems:
        raise DataError(problems)
    return entries


def split_cited(entry: dict[str, Any]) -> tuple[dict[str, Any], tuple[tuple[str, Cited], ...]]:
    """Split an entry into plain values and their provenance."""
    cited = tuple((name, item) for name, item in entry.items() if isinstance(item, Cited))
    return {name: item.value for name, item in cited}, cited


class CitedRecord:
    """Mixin for frozen dataclasses with a ``provenance`` field of ``(name, Cited)`` pairs."""

    id: str
    provenance: tuple[tuple[str, Cited], ...]

    def source(self, name: str) -> Cited:
        """Provenance of one value, e.g. ``record.source("density_kg_m3").citation``."""
        for key, cited in self.provenance:
            if key == name:
                return cited
        raise KeyError(f"{self.id!r} has no cited value {name!r}")

    def to_dict(self) -> dict[str, Any]:
        """Values and their provenance as plain data."""
        out: dict[str, Any] = {
            f.name: getattr(self, f.name)
            for f in fields(self)  # type: ignore[arg-type]
            if f.name != "provenance" and getattr(self, f.name) is not None
        }
        out["sources"] = {key: cited.to_dict() for key, cited in self.provenance}
        return out


def load_packaged(filename: str, loader: Callable[[Path], T]) -> T:
    """Run ``loader`` on a data file shipped inside the package (``packsim/data/``)."""
    with resources.as_file(resources.files("packsim") / "data" / filename) as path:
        return loader(path)


def lookup(table: Mapping[str, T], key: str, what: str) -> T:
    """``table[key]``, or a ``KeyError`` naming the closest keys and all known ones."""
    try:
        return table[key]
    except KeyError:
        raise KeyError(
            f"unknown {what} {key!r}{did_you_mean(key, table)}; known: {', '.join(sorted(table))}"
        ) from None
