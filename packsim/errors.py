"""User-facing errors: one exception that lists every problem found in an input."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One mistake in an input file.

    Attributes
    ----------
    field : str
        Dotted path of the offending field, e.g. ``"insert.material"``; ``""`` for the whole file.
    value : Any
        What the file gave (``None`` when the field is missing).
    expected : str
        What was expected instead, in words a user can act on.
    file : str or None
        The file the value came from, when there is one.
    """

    field: str
    value: Any
    expected: str
    file: str | None = None

    def __str__(self) -> str:
        return self.describe(show_file=True)

    def describe(self, show_file: bool = True) -> str:
        """The problem as one line, optionally prefixed with its file."""
        where = f"{self.file}: " if self.file and show_file else ""
        if not self.field:
            return f"{where}{self.expected}"
        shown = "(missing)" if self.value is _MISSING else repr(self.value)
        return f"{where}{self.field} = {shown}: {self.expected}"


class _Missing:
    def __repr__(self) -> str:
        return "(missing)"


_MISSING = _Missing()


class PacksimInputError(ValueError):
    """Base class of errors caused by a user's input; carries every problem found at once."""

    what = "input"

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        super().__init__(self._message())

    def __reduce__(self):
        # Rebuilt from its problems, not its message, when it comes back from a worker process.
        return type(self), (self.problems,)

    def _message(self) -> str:
        files = {p.file for p in self.problems if p.file}
        where = f" {next(iter(files))}" if len(files) == 1 else ""
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in {self.what}{where}:"
        show_file = len(files) > 1
        return "\n".join([head, *(f"  - {p.describe(show_file)}" for p in self.problems)])


class DesignError(PacksimInputError):
    """A design file or design dictionary is invalid. Lists every problem found."""

    what = "design"


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A ``" (did you mean 'x'?)"`` hint naming the closest matches (ties included), or ``""``."""
    close = difflib.get_close_matches(str(name), list(choices), n=3, cutoff=0.6)
    if not close:
        return ""
    best = difflib.SequenceMatcher(None, str(name), close[0]).ratio()
    tied = [repr(c) for c in close
            if difflib.SequenceMatcher(None, str(name), c).ratio() >= best - 1e-9]
    options = tied[0] if len(tied) == 1 else ", ".join(tied[:-1]) + " or " + tied[-1]
    return f" (did you mean {options}?)"
