"""Self-contained HTML reports of a compliance check, a drop or a study: figures first.

Every figure is drawn with matplotlib and embedded in the page (PNG, base64), so a report is one
file that opens anywhere. :func:`write_report` takes a :class:`ComplianceReport`, a
:class:`DropResult` (or the JSON of either) or a :class:`StudyResult`, and optionally the design,
which adds the design summary, the bill of materials and, for a check, the cushion curves of the
insert's pads with the design's operating points and the stack load against the box's strength.
"""

from __future__ import annotations

import html
import json
import re
from base64 import b64encode
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from . import cushion
from ._html import design_section, figure, page, png, pyplot, table
from .compliance import ComplianceReport
from .export import bill_of_materials

if TYPE_CHECKING:
    from .design import Design
    from .drop import DropResult
    from .optimization import StudyResult

_STATUS_CLASS = {"pass": "pass", "fail": "fail"}


def _figure(fig, caption: str) -> str:
    """A matplotlib figure on the page (100 dpi)."""
    return figure(png(fig, dpi=100), caption)


def _design_section(design: Design) -> str:
    return design_section(design, bill_of_materials(design))


# --- compliance --------------------------------------------------------------------------------


def _drop_heights(report: ComplianceReport) -> dict[int, float]:
    """Face number -> the highest drop height checked on it, m (from the rows' conditions)."""
    heights: dict[int, float] = {}
    for row in report.rows:
        match = re.match(r"([\d.]+) m on face-(\d)", row.condition)
        if row.test.startswith("drop") and match:
            face, h = int(match.group(2)), float(match.group(1))
            heights[face] = max(h, heights.get(face, 0.0))
    return heights


def _cushion_figure(design: Design, heights: dict[int, float]) -> str:
    """Cushion curves of the insert's distinct pads, with the design's operating points."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    material = design.insert.material
    pads = cushion.design_pads(design)
    drawn: dict[tuple[float, float], list[int]] = {}
    for face, h in sorted(heights.items()):
        drawn.setdefault((round(pads[face].thickness_m, 6), h), []).append(face)
    for i, ((t, h), faces) in enumerate(sorted(drawn.items())):
        static = [pads[f].static_stress_pa for f in faces]
        grid = np.geomspace(min(static) / 10, max(static) * 10, 60)
        curve = cushion.cushion_curve(material, t, h, grid)
        names = ", ".join(map(str, faces))
        ax.loglog(grid, curve, color=f"C{i}",
                  label=f"{t * 1e3:.0f} mm {material}, {h:g} m (faces {names})")
        for s in static:
            ax.plot(s, cushion.peak_g(material, s, t, h), "o", color=f"C{i}")
    ax.set_xlabel("static stress (Pa)")
    ax.set_ylabel("peak acceleration (g)")
    ax.set_title("cushion curves and the design's operating points")
    ax.legend(fontsize=7)
    ax.grid(True, which="both", lw=0.3)
    return _figure(fig, "cushion curves (fast model) with each pad's operating point")


def _stack_figure(report: ComplianceReport) -> str | None:
    rows = [r for r in report.rows if r.criterion == "stack-strength" and r.value is not None
            and r.limit is not None]
    if not rows:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 0.5 * len(rows) + 1.5))
    labels = [f"{r.standard} {r.test}" for r in rows]
    y = np.arange(len(rows))
    ax.barh(y - 0.2, [r.value for r in rows], height=0.4, color="C0", label="required")
    ax.barh(y + 0.2, [r.limit for r in rows], height=0.4, color="C2", label="available")
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel("N")
    ax.legend(fontsize=8)
    ax.set_title("stack load against the box's strength")
    return _figure(fig, "stacking: required against available strength")


def compliance_html(report: ComplianceReport | dict[str, Any], design: Design | None = None) -> str:
    """The HTML page of a compliance check (see the module doc)."""
    if isinstance(report, dict):
        report = ComplianceReport.from_dict(report)
    plt = pyplot()
    fig = report.plot_margins().figure
    figures = [_figure(fig, "margin of every row (red: failed, orange: provisional)")]
    if design is not None:
        heights = _drop_heights(report)
        if heights:
            figures.append(_cushion_figure(design, heights))
    stack = _stack_figure(report)
    if stack:
        figures.append(stack)
    plt.close("all")
    verdict = "PASS" if report.passed else "FAIL"
    rows = [[html.escape(r.standard), html.escape(r.test), html.escape(r.clause),
             html.escape(r.criterion), html.escape(r.condition), html.escape(r.requirement),
             html.escape(r.achieved),
             "" if r.margin is None else f"{100 * r.margin:.0f} %",
             f'<span class="{_STATUS_CLASS.get(r.status, "")}">{r.status}</span>'
             + (" *" if r.provisional else "")] for r in report.rows]
    sections = [
        f'<p class="verdict {verdict.lower()}">{verdict}</p>'
        f"<p>{len(report.failed_rows)} of {len(report.rows)} rows failed; fidelity "
        f"{report.fidelity}; standards {', '.join(map(html.escape, report.standards))}"
        + ("; * uses provisional (LOW or UNCONFIRMED) figures" if report.provisional else "")
        + "</p>",
        "<div>" + "".join(figures) + "</div>",
        "<h2>Verdict per clause</h2>",
        table(["standard", "test", "clause", "criterion", "condition", "requirement", "achieved",
                "margin", "status"], rows),
    ]
    if design is not None:
        sections.append(_design_section(design))
    return page(f"{report.design_name}: compliance", sections)


# --- drops -------------------------------------------------------------------------------------


def drop_html(result: DropResult | dict[str, Any], design: Design | None = None) -> str:
    """The HTML page of a drop simulation: the cells' pulses, energies and the peaks."""
    from .drop import plot_pulse

    data = result if isinstance(result, dict) else result.to_dict()
    if "cell_accel_g" not in data:
        raise ValueError("the drop result has no time histories (write it with histories)")
    view = SimpleNamespace(**{**data, **{k: np.asarray(data[k], float) for k in
                                         ("time_s", "cell_accel_g", "peak_g")}})
    plt = pyplot()
    pulse = _figure(plot_pulse(view).figure, "cell acceleration pulses (worst in red)")
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    energy = data["energy"]
    t_ms = np.asarray(energy["time_s"]) * 1e3
    for name in ("kinetic", "internal", "dissipated", "contact"):
        if name in energy:
            ax.plot(t_ms, energy[name], label=name)
    ax.set(xlabel="time after impact (ms)", ylabel="J", title="energy")
    ax.legend(fontsize=8)
    energies = _figure(fig, f"energy histories (balance error {data['energy_error']:.1e})")
    peaks = np.asarray(data["peak_g"], float)
    pulses = np.asarray(data["pulse_ms"], float)
    rows = [[f"cell-{i + 1:03d}", f"{p:.1f}", f"{w:.2f}"] for i, (p, w) in
            enumerate(zip(peaks, pulses))]
    inputs = data["inputs"]
    stats = data["stats"]
    sections = [
        f"<p>{inputs['height_m']:g} m drop on {html.escape(str(inputs['orientation']))}: "
        f"max peak <b>{data['max_peak_g']:.1f} g</b>; bottomed out: {data['bottomed_out']}; "
        f"filter {html.escape(data['filter'])}; {stats['dofs']} DOFs, {stats['steps']} steps of "
        f"{stats['dt_s'] * 1e6:.2f} us, {stats['wall_s']:.1f} s.</p>",
        "<div>" + pulse + energies + "</div>",
        "<h2>Peaks per cell</h2>", table(["cell", "peak g", "pulse ms"], rows),
    ]
    if design is not None:
        sections.append(_design_section(design))
    return page(f"{data['design_name']}: drop", sections)


# --- studies -----------------------------------------------------------------------------------


def study_html(result: StudyResult) -> str:
    """The HTML page of an optimisation study: history, Pareto front, importances, best designs."""
    figures = []
    for key, path in sorted(result.files.items()):
        if Path(path).suffix == ".png":
            figures.append(figure(b64encode(Path(path).read_bytes()).decode(), key))
    best = [[c.trial, html.escape(c.fidelity)] + [f"{c.objectives[o]:.4g}" for o in
                                                  result.objectives] for c in result.best]
    sections = [
        f"<p>{result.trials} trials; storage {html.escape(result.storage)}.</p>",
        "<div>" + "".join(figures) + "</div>",
        "<h2>Best designs</h2>",
        table(["trial", "fidelity", *result.objectives], best) if best else
        "<p>No design is confirmed yet.</p>",
    ]
    findings = result.findings()
    if findings:
        sections += ["<h2>Findings</h2>", table(["", "finding"], [
            [html.escape(label), html.escape(text)] for label, text in findings])]
    if result.best:
        sections.append(_design_section(result.best[0].design))
    return page(f"{result.name}: study", sections)


def write_report(subject: Any, path: str | Path, design: Design | None = None) -> Path:
    """Write the HTML report of ``subject`` (a ComplianceReport, DropResult, StudyResult, or the
    JSON data of a check or a drop) to ``path``."""
    from .drop import DropResult
    from .optimization import StudyResult

    if isinstance(subject, StudyResult):
        page = study_html(subject)
    elif isinstance(subject, DropResult) or isinstance(subject, dict) and "cell_accel_g" in subject:
        page = drop_html(subject, design)
    elif isinstance(subject, ComplianceReport) or isinstance(subject, dict) and "rows" in subject:
        page = compliance_html(subject, design)
    else:
        raise TypeError(f"no report for {type(subject).__name__}")
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path


def load_subject(path: str | Path) -> dict[str, Any]:
    """The JSON of a check (``packsim check --json``) or a drop (``packsim drop --save``)."""
    return json.loads(Path(path).read_text())
