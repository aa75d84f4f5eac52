"""Helpers for gating a packaging design in a test suite (pytest or any runner).

>>> from packsim.testing import assert_compliant
>>> def test_our_package_passes_un_and_sp188():          # doctest: +SKIP
...     assert_compliant("geometries/our-package.toml", ("un-6.1.5-pg2", "sp188"))
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .compliance import DEFAULT_STANDARDS, ComplianceReport, Fidelity, check
from .design import load_design

if TYPE_CHECKING:
    from .design import Design


class ComplianceError(AssertionError):
    """A design failed some rows of a compliance check; the report is attached."""

    def __init__(self, report: ComplianceReport):
        self.report = report
        failed = "\n".join(f"  - {r.name}: {r.achieved} (required {r.requirement}) [{r.clause}]"
                           for r in report.failed_rows)
        super().__init__(f"{report.design_name} fails {len(report.failed_rows)} of "
                         f"{len(report.rows)} rows:\n{failed}")


def assert_compliant(design: Design | str | Path, standards=DEFAULT_STANDARDS,
                     fidelity: Fidelity = "fast", min_margin: float = 0.0,
                     allow_provisional: bool = True, **options) -> ComplianceReport:
    """Check ``design`` (a Design or a design file) and raise if any row fails.

    Parameters
    ----------
    design : Design, str or Path
    standards : sequence of str or Path
        Built-in standard ids or standard files.
    fidelity : {"fast", "fe"}
    min_margin : float
        Also fail rows whose margin is below this (e.g. 0.1 to demand 10 % headroom).
    allow_provisional : bool
        ``False`` also fails when a verdict rests on UNCONFIRMED figures.
    **options
        Passed to :func:`packsim.check` (``mesh_size_m``, ``assurance_level``).

    Returns
    -------
    ComplianceReport
        When the design passes.

    Raises
    ------
    ComplianceError
        Listing every failed row.
    """
    if not hasattr(design, "product"):
        design = load_design(design)
    report = check(design, standards, fidelity=fidelity, **options)
    short = [r for r in report.rows if r.margin is not None and r.margin < min_margin and r.status == "pass"]
    if short or report.failed_rows:
        from dataclasses import replace

        rows = tuple(replace(r, status="fail") if r in short else r for r in report.rows)
        report = replace(report, rows=rows)
        raise ComplianceError(report)
    if not allow_provisional and report.provisional:
        raise AssertionError(f"{report.design_name} passes, but on provisional (UNCONFIRMED) figures: "
                             + ", ".join(r.name for r in report.rows if r.provisional))
    return report
