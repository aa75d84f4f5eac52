"""Check a design against encoded shipping standards: one verdict row per clause and criterion.

:func:`check` turns every test of every standard into what it needs: the quantity rules are read
off the design (fidelity ``geometry``, first and cheap); drops become cushion-model drops
(``fast``) or finite-element drops (``fe``) at each required height and orientation; stacks
become the stack load against the derated box compression strength (and, in ``fe``, against the
package's linear buckling load). Simulations shared by several standards run once.

Each row says what is required, what was achieved, the margin (the fraction of the limit left:
positive passes), which fidelity gave it, and whether a provisional (UNCONFIRMED) figure was used.

The fast fidelity models a drop on a face as the package contents decelerating on that face's
pad of the insert (:mod:`packsim.cushion`); edge and corner drops take the most severe of the
faces that meet there, since the one-degree-of-freedom model knows only flat impacts.
"""

from __future__ import annotations

import math
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from xml.etree import ElementTree

import numpy as np

from . import _json, cushion
from .foam import FoamLaw
from .materials import get_material
from .orientation import Orientation, parse_orientation, resolve_orientations
from .temperature import design_conditioning, library_at
from .stacking import StackingConditions, derating, design_bct_n, stack_load_n
from .standards import (
    ConditioningTest,
    DropTest,
    FragilityTest,
    LimitsTest,
    Standard,
    StackTest,
    VehicleStackTest,
    get_standard,
)

if TYPE_CHECKING:
    from .design import Design

Fidelity = Literal["fast", "fe"]
Status = Literal["pass", "fail", "not-evaluated"]

#: Standards checked when none are named.
DEFAULT_STANDARDS = ("un-6.1.5-pg2", "sp188")
#: The fragility basis used when no ``fragility`` test is among the standards checked.
DEFAULT_FRAGILITY = ("un-38.3-t4", "fragility")


@dataclass(frozen=True)
class Row:
    """One criterion of one test of one standard.

    Attributes
    ----------
    standard, test, clause, criterion : str
    requirement, achieved : str
        In words, with units.
    limit, value : float or None
        The numbers compared (same unit), when there are numbers.
    margin : float or None
        Fraction of the limit left (1 - value / limit for an upper limit); negative fails.
    status : str
        ``pass``, ``fail`` or ``not-evaluated`` (with the reason in ``detail``).
    fidelity : str
        ``geometry``, ``fast`` or ``fe``.
    provisional : bool
        An UNCONFIRMED figure was used.
    detail : str
        Where it happened, and how it was computed.
    condition : str
        The load case, e.g. ``1.2 m on corner-2-3-5`` (empty for rules on the design).
    """

    standard: str
    test: str
    clause: str
    criterion: str
    requirement: str
    achieved: str
    limit: float | None
    value: float | None
    margin: float | None
    status: Status
    fidelity: str
    provisional: bool
    detail: str = ""
    condition: str = ""

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.standard, self.test, self.criterion, self.condition) if p)


def _upper(value: float, limit: float) -> tuple[float, Status]:
    margin = 1.0 - value / limit if limit > 0 else -math.inf
    return margin, "pass" if value <= limit else "fail"


@dataclass(frozen=True, eq=False)
class ComplianceReport:
    """The verdict of :func:`check`.

    Attributes
    ----------
    design_name : str
    standards : tuple of str
    fidelity : str
    rows : tuple of Row
    wall_s : float
    """

    design_name: str
    standards: tuple[str, ...]
    fidelity: str
    rows: tuple[Row, ...]
    wall_s: float
    inputs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComplianceReport:
        """The report back from :meth:`to_dict` (or its JSON, e.g. ``packsim check --json``)."""
        return cls(data["design_name"], tuple(data["standards"]), data["fidelity"],
                   tuple(Row(**row) for row in data["rows"]), data.get("wall_s", 0.0),
                   dict(data.get("inputs", {})))

    @property
    def passed(self) -> bool:
        """No row failed (rows that could not be evaluated are listed, not failed)."""
        return all(r.status != "fail" for r in self.rows)

    @property
    def failed_rows(self) -> list[Row]:
        return [r for r in self.rows if r.status == "fail"]

    @property
    def worst_margin(self) -> float | None:
        margins = [r.margin for r in self.rows if r.margin is not None]
        return min(margins) if margins else None

    @property
    def worst_row(self) -> Row | None:
        rows = [r for r in self.rows if r.margin is not None]
        return min(rows, key=lambda r: r.margin) if rows else None

    @property
    def provisional(self) -> bool:
        return any(r.provisional for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "design_name": self.design_name, "standards": list(self.standards),
            "fidelity": self.fidelity, "passed": self.passed, "worst_margin": self.worst_margin,
            "provisional": self.provisional, "wall_s": self.wall_s, "inputs": dict(self.inputs),
            "rows": [asdict(r) for r in self.rows],
        }

    def to_json(self) -> str:
        return _json.dumps(self.to_dict())

    def to_markdown(self) -> str:
        """The verdict table as Markdown (one row per criterion)."""
        lines = [
            f"**{self.design_name}**: {'PASS' if self.passed else 'FAIL'} "
            f"({len(self.failed_rows)} of {len(self.rows)} rows failed; fidelity {self.fidelity}"
            + ("; uses provisional figures" if self.provisional else "") + ")",
            "",
            "| standard | test | clause | criterion | required | achieved | margin | verdict | fidelity |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in self.rows:
            margin = "" if r.margin is None else f"{r.margin:+.0%}"
            verdict = r.status.upper() + (" (provisional)" if r.provisional else "")
            lines.append(f"| {r.standard} | {r.test} | {r.clause} | {r.criterion} | {r.requirement} "
                         f"| {r.achieved} | {margin} | {verdict} | {r.fidelity} |")
        return "\n".join(lines)

    def to_junit(self, path: str | Path | None = None) -> str:
        """JUnit XML: one test suite per standard, one test case per row (failures and skips
        marked), so that a CI system lists every clause. Written to ``path`` if given."""
        root = ElementTree.Element("testsuites", name=f"packsim check {self.design_name}")
        for standard in self.standards:
            rows = [r for r in self.rows if r.standard == standard]
            suite = ElementTree.SubElement(
                root, "testsuite", name=standard, tests=str(len(rows)),
                failures=str(sum(r.status == "fail" for r in rows)),
                skipped=str(sum(r.status == "not-evaluated" for r in rows)))
            for r in rows:
                title = " ".join(p for p in (r.criterion, r.condition) if p)
                case = ElementTree.SubElement(suite, "testcase", classname=f"{standard}.{r.test}",
                                              name=f"{title} [{r.clause}]")
                text = f"required {r.requirement}; achieved {r.achieved}. {r.detail}".strip()
                if r.status == "fail":
                    ElementTree.SubElement(case, "failure", message=f"{r.criterion}: {r.achieved} "
                                           f"(required {r.requirement})").text = text
                elif r.status == "not-evaluated":
                    ElementTree.SubElement(case, "skipped", message=r.detail)
                else:
                    ElementTree.SubElement(case, "system-out").text = text
        xml = ElementTree.tostring(root, encoding="unicode")
        if path is not None:
            Path(path).write_text(xml)
        return xml

    def plot_margins(self, ax=None):
        """Horizontal bars of every row's margin (red: failed); returns the Axes."""
        import matplotlib.pyplot as plt

        rows = [r for r in self.rows if r.margin is not None]
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 0.3 * len(rows) + 1.2))
        labels = [r.name for r in rows]
        margins = [max(r.margin, -1.0) for r in rows]
        colours = ["C3" if r.status == "fail" else ("C1" if r.provisional else "C2") for r in rows]
        ax.barh(range(len(rows)), margins, color=colours)
        ax.set_yticks(range(len(rows)), labels, fontsize=8)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_xlabel("margin (fraction of the limit left; orange: provisional)")
        ax.invert_yaxis()
        ax.set_title(f"{self.design_name}: {'PASS' if self.passed else 'FAIL'}")
        return ax


# --- the fast drop model ---------------------------------------------------------------------


@dataclass(frozen=True)
class _DropOutcome:
    peak_g: float
    max_strain: float
    bottomed_out: bool
    densification: float
    where: str
    clearance: dict[str, Any] | None = None
    crush: tuple[float, float] | None = None  # container crush strain and the board's onset


class _Simulations:
    """Runs each drop once per (height, orientation) in a check; FE results also across checks."""

    def __init__(self, design: Design, fidelity: Fidelity, mesh_size_m: float | None,
                 progress: Callable[[str], None] | None = None):
        self.design = design
        self.fidelity = fidelity
        self.mesh_size_m = mesh_size_m
        self.progress = progress
        self._drops: dict[tuple[float, str, float | None], _DropOutcome] = {}
        self._pads: dict[int, cushion.Pad] | None = None

    def drop(self, height_m: float, orientation: Orientation,
             temperature_c: float | None = None) -> _DropOutcome:
        key = (round(height_m, 6), orientation.name, temperature_c)
        if key not in self._drops:
            run = self._fe_drop if self.fidelity == "fe" else self._fast_drop
            self._drops[key] = run(height_m, orientation, temperature_c)
        return self._drops[key]

    def _fast_drop(self, height_m: float, orientation: Orientation,
                   temperature_c: float | None) -> _DropOutcome:
        law = FoamLaw.of(library_at(temperature_c)[self.design.insert.material])
        if self._pads is None:
            self._pads = cushion.design_pads(self.design)
        worst = None
        for face in orientation.faces:
            pad = self._pads[face]
            response = cushion.drop(law, pad.static_stress_pa, pad.thickness_m, height_m)
            if worst is None or response.peak_g > worst[1].peak_g:
                worst = (face, response)
        face, r = worst
        return _DropOutcome(r.peak_g, r.max_strain, r.bottomed_out, law.densification_strain,
                            f"pad of face {face}")

    def _fe_drop(self, height_m: float, orientation: Orientation,
                 temperature_c: float | None) -> _DropOutcome:
        canonical = _canonical(orientation, _mirror_planes(self.design))
        same = "" if canonical == orientation else f" (as its mirror image {canonical.name})"
        cold = "" if temperature_c is None else f" at {temperature_c:g} C"
        request = ("drop", self.design, round(height_m, 6), canonical.name, self.mesh_size_m,
                   temperature_c)
        return self._timed(f"FE drop {height_m:g} m on {orientation.name}{same}{cold}", request)

    def buckling_factor(self, load_n: float) -> float | None:
        request = ("buckling", self.design, round(load_n, 6), self.mesh_size_m)
        return self._timed(f"FE buckling under {load_n:.0f} N", request)

    def _timed(self, what: str, request: tuple) -> Any:
        if request in _FE_RESULTS:
            _FE_RESULTS.move_to_end(request)
            return _FE_RESULTS[request]
        result, wall_s = _simulate(request)
        _remember(request, result)
        if self.progress is not None:
            self.progress(f"{what}: {wall_s:.1f} s")
        return result


class _Planner(_Simulations):
    """Goes through a check without simulating: records the FE simulations it would need and
    answers each with a stand-in (its rows are thrown away)."""

    _STAND_IN = _DropOutcome(0.0, 0.0, False, 1.0, "planned",
                             {"initial_gap_m": 1.0, "clearance_m": 1.0, "between": "planned"})

    def __init__(self, design: Design, mesh_size_m: float | None):
        super().__init__(design, "fe", mesh_size_m)
        self.requests: dict[tuple, str] = {}

    def _timed(self, what: str, request: tuple) -> Any:
        if request not in _FE_RESULTS:
            self.requests.setdefault(request, what)
        return None if request[0] == "buckling" else self._STAND_IN


def _mirror_planes(design: Design) -> tuple[bool, bool]:
    """Whether the package is its own mirror image across the x and the y mid-plane."""
    lay = design.layout
    outer = design.outer_dims_m
    out = []
    for axis, centres in ((0, lay.cell_x_m), (1, lay.cell_y_m)):
        centred = math.isclose(lay.insert_origin_m[axis] + lay.insert_dims_m[axis] / 2,
                               outer[axis] / 2, abs_tol=1e-9)
        out.append(centred and np.allclose(np.sort(outer[axis] - centres), np.sort(centres), atol=1e-9))
    return out[0], out[1]


def _canonical(orientation: Orientation, planes: tuple[bool, bool]) -> Orientation:
    """The first, by faces, of the orientations a mirror-symmetric package cannot tell apart
    from ``orientation`` (faces 5 and 6 swap across x, 2 and 4 across y): they give the same
    worst cell, so one FE drop stands for all."""
    swaps = [{5: 6, 6: 5}] if planes[0] else []
    swaps += [{2: 4, 4: 2}] if planes[1] else []
    images = {orientation.faces}
    for swap in swaps:
        images |= {tuple(sorted(swap.get(f, f) for f in faces)) for faces in images}
    return Orientation(min(images))


# Finite-element results are kept per request (kind, design, load case): designs are frozen and
# hashable, so repeated checks of one design (several standards, a report after a study) simulate
# once. Least recently used first out.
_FE_RESULTS: OrderedDict[tuple, Any] = OrderedDict()
_FE_RESULTS_MAX = 256


def _remember(request: tuple, result: Any) -> None:
    _FE_RESULTS[request] = result
    while len(_FE_RESULTS) > _FE_RESULTS_MAX:
        _FE_RESULTS.popitem(last=False)


def _simulate(request: tuple) -> tuple[Any, float]:
    """Run one FE request; returns its result and wall time, s. Module level: pool workers call it."""
    start = time.perf_counter()
    if request[0] == "drop":
        result: Any = _fe_drop(*request[1:])
    else:
        result = _buckling_factor(*request[1:])
    return result, time.perf_counter() - start


def _fe_drop(design: Design, height_m: float, orientation: str, mesh_size_m: float | None,
             temperature_c: float | None) -> _DropOutcome:
    from .drop import simulate_drop

    r = simulate_drop(design, height_m, orientation, mesh_size_m=mesh_size_m,
                      temperature_c=temperature_c, stored_energy=False)
    lib = library_at(temperature_c)
    law = FoamLaw.of(lib[design.insert.material])
    cell = int(r.peak_g.argmax()) if r.peak_g.size else 0
    crush = None
    if r.max_container_crush is not None:
        board = FoamLaw.board(lib[design.container.material])
        crush = (r.max_container_crush.value, board.densification_strain)
    return _DropOutcome(r.max_peak_g, r.max_cushion_compression["value"], r.bottomed_out,
                        law.densification_strain, f"cell-{cell + 1:03d}", r.min_clearance, crush)


def _buckling_factor(design: Design, load_n: float, mesh_size_m: float | None) -> float | None:
    from .compression import simulate_compression

    return simulate_compression(design, load_n=load_n, mesh_size_m=mesh_size_m).buckling_factor


def _run_in_parallel(requests: dict[tuple, str], workers: int,
                     progress: Callable[[str], None] | None) -> None:
    """Run the FE ``requests`` (request -> description) on ``workers`` processes into the cache,
    corners and edges first (the longest impacts), reporting each as it finishes."""
    order = sorted(requests, key=lambda r: -len(parse_orientation(r[3]).faces) if r[0] == "drop" else 0)
    # Fork: the workers inherit the loaded modules and compiled kernels instead of importing them.
    context = get_context("fork") if "fork" in get_all_start_methods() else None
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(_simulate, r): r for r in order}
        try:
            for future in as_completed(futures):
                request = futures[future]
                result, wall_s = future.result()
                _remember(request, result)
                if progress is not None:
                    progress(f"{requests[request]}: {wall_s:.1f} s")
        except BaseException:
            for future in futures:
                future.cancel()
            raise


# --- rows per test kind ----------------------------------------------------------------------


def _limit_rows(std: Standard, test: LimitsTest, design: Design) -> list[Row]:
    rows = []
    cell = design.cell

    def add(criterion: str, cited, value: float | None, unit: str, what: str, detail: str = ""):
        if value is None:
            rows.append(Row(std.id, test.id, cited.clause, criterion, f"<= {cited.value:g} {unit}",
                            "not stated", cited.value, None, None, "fail", "geometry",
                            cited.provisional, detail))
            return
        margin, status = _upper(value, cited.value)
        rows.append(Row(std.id, test.id, cited.clause, criterion, f"<= {cited.value:g} {unit}",
                        f"{value:.4g} {unit} ({what})", cited.value, value, margin, status,
                        "geometry", cited.provisional, detail))

    if test.cell_wh_max is not None:
        add("cell-energy", test.cell_wh_max, cell.energy_wh, "Wh", f"{cell.id}")
    if test.battery_wh_max is not None:
        rows.append(Row(std.id, test.id, test.battery_wh_max.clause, "battery-energy",
                        f"<= {test.battery_wh_max.value:g} Wh", "no batteries (cells only)",
                        None, None, None, "pass", "geometry", test.battery_wh_max.provisional,
                        "the design ships cells; a battery limit does not apply"))
    if test.gross_mass_max_kg is not None:
        add("gross-mass", test.gross_mass_max_kg, design.gross_mass_kg, "kg", "package")
    if test.net_mass_max_kg is not None:
        add("net-mass", test.net_mass_max_kg, design.cells_mass_kg, "kg", "cells")
    if test.state_of_charge_max_pct is not None:
        add("state-of-charge", test.state_of_charge_max_pct, design.product.state_of_charge_pct,
            "%", "declared", "declare it as product.state_of_charge_pct in the design file")
    if test.inner_packaging_required is not None:
        cited = test.inner_packaging_required
        rows.append(Row(std.id, test.id, cited.clause, "inner-packaging",
                        "each cell completely enclosed", "each cell in its own insert pocket, lid closed",
                        None, None, None, "pass", "geometry", cited.provisional,
                        f"pocket clearance {design.insert.clearance_m * 1e3:.1f} mm; the insert is "
                        "non-conductive foam (short-circuit protection of terminals is not modelled)"))
    return rows


def _container_tags(design: Design) -> set[str]:
    """What a test's ``applies_to`` may name for this container: its material's kind and family,
    and ``plastic`` for solid (moulded) boxes."""
    m = get_material(design.container.material)
    return {m.kind, m.family} | ({"plastic"} if m.kind == "solid" else set())


def _drop_rows(std: Standard, test: DropTest, design: Design, sims: _Simulations,
               allowed_g: float, fragility_note: str, fragility_provisional: bool) -> list[Row]:
    tags = _container_tags(design)
    if test.applies_to and not tags & set(test.applies_to):
        kind = get_material(design.container.material).kind
        return [Row(std.id, test.id, test.clause, "applies", f"containers of {', '.join(test.applies_to)}",
                    f"container is {kind}", None, None, None, "pass", "geometry",
                    False, "test does not apply to this container")]
    mass = design.gross_mass_kg
    try:
        height = test.height_for(mass)
    except ValueError as exc:
        return [Row(std.id, test.id, test.clause, "scope", "gross mass within the test's table",
                    f"{mass:.3g} kg", None, mass, None, "fail", "geometry", test.provisional, str(exc))]
    cited_height = test.height_m or test.height_table
    orientations = resolve_orientations(test.orientations.value, design.outer_dims_m)
    if sims.fidelity == "fast":
        # The fast model knows flat impacts only, and takes an edge or corner drop as the worst
        # face meeting there: the faces involved cover them all.
        faces = sorted({f for o in orientations for f in o.faces})
        orientations = [Orientation((f,)) for f in faces]
    heights = [height] + ([test.extra_drop_m.value] if test.extra_drop_m is not None else [])
    provisional = test.provisional
    temperature = None if test.temperature_c is None else float(test.temperature_c.value)
    if temperature is not None:
        states = design_conditioning(design, temperature)
        provisional = provisional or any(c.provisional for c in states)
        fragility_note += f"; materials at {temperature:g} C: " + "; ".join(c.basis for c in states)
    evaluated = sims.fidelity == "fe"
    whats = {"cells-apart": "cells kept clear of each other and of the walls",
             "container-intact": "container not crushed through"}
    # Peak g and bottoming rows per load case, then the FE-only criteria, each over all cases.
    rows: list[Row] = []
    later: dict[str, list[Row]] = {c: [] for c in whats if c in test.criteria}
    for h in heights:
        for o in orientations:
            out = sims.drop(h, o, temperature)
            where = f"{h:g} m on {o.name}" + ("" if temperature is None else f" at {temperature:g} C")
            if "cell-peak-g" in test.criteria:
                margin, status = _upper(out.peak_g, allowed_g)
                rows.append(Row(std.id, test.id, cited_height.clause, "cell-peak-g",
                                f"<= {allowed_g:.0f} g", f"{out.peak_g:.0f} g, {where} ({out.where})",
                                allowed_g, out.peak_g, margin, status, sims.fidelity,
                                provisional or fragility_provisional, fragility_note, where))
            if "no-bottoming" in test.criteria:
                margin, status = _upper(out.max_strain, out.densification)
                rows.append(Row(std.id, test.id, cited_height.clause, "no-bottoming",
                                f"cushion compression <= {out.densification:.2f} (densification onset)",
                                f"{out.max_strain:.2f}, {where}", out.densification, out.max_strain, margin,
                                status, sims.fidelity, provisional, condition=where))
            if not evaluated:
                continue
            if "cells-apart" in later:
                c = out.clearance
                gap, left = c["initial_gap_m"], c["clearance_m"]
                later["cells-apart"].append(Row(
                    std.id, test.id, test.clause, "cells-apart", whats["cells-apart"],
                    f"{left * 1e3:.1f} mm of {gap * 1e3:.1f} mm left ({c['between']})",
                    gap, gap - left, left / gap, "pass" if left > 0 else "fail", "fe",
                    provisional, "translations of the rigid cells against their "
                    "neighbours and the container's mean motion", where))
            if "container-intact" in later:
                if out.crush is None:
                    later["container-intact"].append(Row(
                        std.id, test.id, test.clause, "container-intact", whats["container-intact"],
                        "not evaluated", None, None, None, "not-evaluated", "fe", provisional,
                        "no strength data for rigid (plastic) containers", where))
                else:
                    strain, onset = out.crush
                    margin, status = _upper(strain, onset)
                    later["container-intact"].append(Row(
                        std.id, test.id, test.clause, "container-intact",
                        f"board crush strain <= {onset:.2f} (folds packed solid)",
                        f"{strain:.3f}", onset, strain, margin, status, "fe", provisional,
                        "board crushes at ECT / caliper (packsim/data/fe.toml)", where))
    for criterion, found in later.items():
        if not evaluated:
            found.append(Row(std.id, test.id, test.clause, criterion, whats[criterion],
                             "not evaluated", None, None, None, "not-evaluated", sims.fidelity,
                             provisional, f"{criterion} needs the finite-element drop: fidelity='fe'"))
        rows += found
    return rows


def _stack_rows(std: Standard, test: StackTest | VehicleStackTest, design: Design,
                sims: _Simulations, level: str) -> list[Row]:
    if isinstance(test, StackTest):
        load = stack_load_n(design, test.stack_height_m.value)
        how = f"{test.stack_height_m.value:g} m stack of identical packages"
        days = (test.duration_h.value if test.duration_h is not None else 24.0) / 24.0
        clause = test.stack_height_m.clause
    else:
        load = test.load_n(design.outer_dims_m, level)
        how = f"Schedule C, assurance level {level}"
        days = 1.0
        clause = test.clause
    rows = []
    if "stack-strength" in test.criteria:
        bct = design_bct_n(design)
        if bct is None:
            rows.append(Row(std.id, test.id, clause, "stack-strength", f"carry {load:.0f} N",
                            "no closed-form strength for a rigid box", load, None, None,
                            "not-evaluated", sims.fidelity, test.provisional,
                            "rigid containers are judged by buckling in the fe fidelity"))
        else:
            factor = derating(StackingConditions(storage_days=days)).factor
            strength = bct * factor
            margin, status = _upper(load, strength)
            rows.append(Row(std.id, test.id, clause, "stack-strength",
                            f"load <= derated BCT {strength:.0f} N", f"{load:.0f} N ({how})",
                            strength, load, margin, status, "fast", test.provisional,
                            f"McKee BCT {bct:.0f} N x {factor:.2f} for {days:g} days under load "
                            "(Fibre Box Association, packsim/data/stacking.toml)", how))
    if "stack-buckling" in test.criteria:
        if sims.fidelity == "fe":
            factor = sims.buckling_factor(load)
            value = 1.0 / factor if factor else math.inf
            margin, status = _upper(value, 1.0)
            rows.append(Row(std.id, test.id, clause, "stack-buckling", "buckling load >= stack load",
                            f"buckling factor {factor:.3g}" if factor else "no buckling mode found",
                            1.0, value, margin, status, "fe", test.provisional, condition=how))
        else:
            rows.append(Row(std.id, test.id, clause, "stack-buckling", "buckling load >= stack load",
                            "not evaluated", None, None, None, "not-evaluated", "fast",
                            test.provisional, "linear buckling needs fidelity='fe'"))
    return rows


def _conditioning_rows(std: Standard, test: ConditioningTest, design: Design) -> list[Row]:
    """Conditioning is a precondition, not a criterion: say which data stand for it."""
    if test.applies_to and not _container_tags(design) & set(test.applies_to):
        return []
    t = test.temperature_c
    rh = test.relative_humidity_pct
    atmosphere = f"{t.value:g} C" + (f" / {rh.value:g} % RH" if rh is not None else "")
    standard_lab = t.value == 23 and (rh is None or rh.value == 50)
    return [Row(std.id, test.id, t.clause, "conditioning", f"samples conditioned at {atmosphere}",
                "board data for 23 C / 50 % RH" if standard_lab else "room-temperature data",
                None, None, None, "pass" if standard_lab else "not-evaluated", "geometry",
                test.provisional, "the material library's board values (ECT, McKee BCT) are lab "
                "values at 23 C / 50 % RH; other atmospheres need their own data or the stacking "
                "derating for humidity (packsim.derating)")]


def _fragility(standards: list[Standard], design: Design) -> tuple[float, str, bool]:
    tests = [t for s in standards for t in s.tests_of("fragility")]
    test: FragilityTest = tests[0] if tests else get_standard(DEFAULT_FRAGILITY[0])[DEFAULT_FRAGILITY[1]]
    cell = design.cell
    level = test.proven_g(cell.mass_kg)
    basis = min(level, cell.fragility_g) if cell.fragility_g else level
    allowed = basis / test.safety_factor.value
    note = (f"limit = {basis:.0f} g ({'UN 38.3 T.4 level' if basis == level else 'cell fragility'} "
            f"for a {cell.mass_kg * 1e3:.0f} g cell) / safety factor {test.safety_factor.value:g}")
    return allowed, note, test.provisional


def check(design: Design, standards: tuple[str | Path | Standard, ...] | list = DEFAULT_STANDARDS,
          fidelity: Fidelity = "fast", mesh_size_m: float | None = None,
          assurance_level: str | None = None,
          progress: Callable[[str], None] | None = None,
          workers: int | None = None) -> ComplianceReport:
    """Check ``design`` against ``standards`` (built-in ids or standard files).

    Parameters
    ----------
    design : Design
    standards : str, Path, Standard or a sequence of them
        E.g. ``("un-6.1.5-pg2", "sp188")``, ``"sp188"`` or ``"path/to/company-spec.toml"``.
    fidelity : {"fast", "fe"}
        Cushion model and closed forms, or finite-element drops and buckling.
    mesh_size_m : float, optional
        Element size of the FE simulations, m.
    assurance_level : str, optional
        ASTM D4169 assurance level (default: the standard file's, else II).
    progress : callable, optional
        Called with a line of text after each finite-element simulation (they take seconds).
    workers : int, optional
        Processes for the finite-element simulations, which are independent (default: one per
        CPU; 1 runs them in this process, e.g. inside an optimisation worker).

    Returns
    -------
    ComplianceReport
    """
    start = time.perf_counter()
    if fidelity not in ("fast", "fe"):
        raise ValueError(f"fidelity must be 'fast' or 'fe', got {fidelity!r}")
    if isinstance(standards, str | Path | Standard):
        standards = (standards,)  # one standard named on its own
    loaded = [get_standard(s) for s in standards]
    if fidelity == "fe":
        planner = _Planner(design, mesh_size_m)
        _rows(design, loaded, planner, assurance_level)
        workers = min(workers or os.cpu_count() or 1, len(planner.requests))
        if workers > 1:
            _run_in_parallel(planner.requests, workers, progress)
    rows = _rows(design, loaded, _Simulations(design, fidelity, mesh_size_m, progress),
                 assurance_level)
    return ComplianceReport(design_name=design.name, standards=tuple(s.id for s in loaded),
                            fidelity=fidelity, rows=tuple(rows),
                            wall_s=time.perf_counter() - start,
                            inputs={"mesh_size_m": mesh_size_m, "assurance_level": assurance_level,
                                    "allowed_g": _fragility(loaded, design)[0]})


def _rows(design: Design, loaded: list[Standard], sims: _Simulations,
          assurance_level: str | None) -> list[Row]:
    """The verdict rows of ``design`` under the ``loaded`` standards, in their order."""
    allowed_g, fragility_note, fragility_provisional = _fragility(loaded, design)
    rows: list[Row] = []
    # The design's own rules first: they are free.
    for std in loaded:
        for test in std.tests_of("limits"):
            rows += _limit_rows(std, test, design)
    for std in loaded:
        level = assurance_level or std.assurance_level or "II"
        for test in std.test:
            if isinstance(test, DropTest):
                rows += _drop_rows(std, test, design, sims, allowed_g, fragility_note,
                                   fragility_provisional)
            elif isinstance(test, StackTest | VehicleStackTest):
                rows += _stack_rows(std, test, design, sims, level)
            elif isinstance(test, ConditioningTest):
                rows += _conditioning_rows(std, test, design)
    return rows
