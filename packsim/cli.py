"""The ``packsim`` command. User mistakes print a clear message and exit with status 2."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__, _cli_reuse
from ._cited import CONFIDENCE_LEVELS
from .cells import catalogue
from .design import load_design
from .errors import PacksimInputError, Problem
from .materials import library
from ._arguments import positive_float, positive_int, temperature_c

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # the shell convention for Ctrl-C


def _mm(values: Sequence[float]) -> str:
    return " x ".join(f"{v * 1e3:.1f}" for v in values) + " mm"


def _relief(relief: dict[str, Any] | None) -> str:
    if not relief:
        return ""
    return (f", {relief['ribs']} ribs per face bearing {relief['bearing_fraction']:.0%} of it, "
            f"grooves {relief['groove_depth_ratio']:.0%} of the pad deep")


def format_info(info: dict[str, Any]) -> str:
    """The ``packsim info`` table for a design summary (see :meth:`packsim.Design.summary`)."""
    lines = [
        f"design            {info['name']}",
        f"container         {info['container']}",
        f"outer dimensions  {_mm(info['outer_dims_m'])}",
        f"inner dimensions  {_mm(info['inner_dims_m'])}",
        f"insert            {_mm(info['insert_dims_m'])}" + _relief(info.get("insert_relief")),
        f"cells             {info['n_cells']} x {info['cell']} "
        f"({info['cell_wh']:.1f} Wh each, {info['total_wh']:.1f} Wh in all)",
        "",
        f"{'part':<18}{'material':<24}{'qty':>5}{'mass kg':>11}{'CO2e kg':>10}",
    ]
    for name, part in info["parts"].items():
        lines.append(
            f"{name:<18}{part['material']:<24}{part.get('quantity', 1):>5}"
            f"{part['mass_kg']:>11.3f}{part['co2e_kg']:>10.3f}"
        )
    lines += [
        "",
        f"packaging mass    {info['packaging_mass_kg']:.3f} kg",
        f"gross mass        {info['gross_mass_kg']:.3f} kg",
        f"packaging CO2e    {info['packaging_co2e_kg']:.3f} kg",
        "centre of mass    " + ", ".join(f"{v * 1e3:.1f}" for v in info["center_of_mass_m"]) + " mm",
    ]
    return "\n".join(lines)


def _info(args: argparse.Namespace) -> int:
    design = load_design(args.design)
    info = design.summary()
    print(json.dumps(info, indent=2) if args.json else format_info(info))
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from .export import export_design

    design = load_design(args.design)
    files = export_design(design, args.out)
    for path in sorted(files.values()):
        print(f"{path.stat().st_size:>10}  {path}")
    return EXIT_OK


def _weakest(record: Any) -> str:
    """The lowest confidence mark among a record's values."""
    marks = [cited.confidence for _, cited in record.provenance]
    return max(marks, key=CONFIDENCE_LEVELS.index) if marks else "-"


def format_compression(result: dict[str, Any]) -> str:
    """The ``packsim compress`` report for :meth:`CompressionResult.to_dict` data."""
    lines = [
        f"design            {result['design_name']}",
        f"platen load       {result['load_n']:.1f} N"
        + (f" (stack {result['inputs']['stack_height_m']:g} m)"
           if result["inputs"].get("stack_height_m") else ""),
        f"deflection        {result['deflection_m'] * 1e3:.4f} mm",
        f"stiffness         {result['stiffness_n_per_m'] / 1e6:.2f} kN/mm",
        f"floor reaction    {result['reaction_n']:.1f} N",
    ]
    if result["bct_mckee_n"] is not None:
        lines.append(f"McKee BCT         {result['bct_mckee_n']:.1f} N "
                     f"({result['bct_mckee_n'] / max(result['load_n'], 1e-12):.2f} x load, lab value)")
    if result["buckling_factor"] is not None:
        lines.append(f"buckling          {result['buckling_load_n']:.4g} N "
                     f"({result['buckling_factor']:.3g} x load, linear)")
    lines += ["", f"{'part':<12}{'max von Mises kPa':>20}{'max strain':>14}   where (mm)"]
    for part, peak in result["max_von_mises_pa"].items():
        strain = result["max_strain"][part]["value"]
        lines.append(f"{part:<12}{peak['value'] / 1e3:>20.2f}{strain:>14.2e}   {_at_mm(peak)}")
    lines += ["", f"{result['dofs']} DOFs, {result['wall_s']['total']:.2f} s"]
    return "\n".join(lines)


def _at_mm(peak: dict[str, Any]) -> str:
    """Where a peak occurs (``Peak.to_dict`` data), in whole millimetres."""
    return ", ".join(f"{v * 1e3:.0f}" for v in peak["at_m"])


def _compress(args: argparse.Namespace) -> int:
    from .compression import simulate_compression

    design = load_design(args.design)
    result = simulate_compression(design, load_n=args.load, stack_height_m=args.stack_height,
                                  mesh_size_m=args.mesh_size, buckling=not args.no_buckling)
    if args.vtu:
        result.to_vtu(args.vtu)
    print(result.to_json() if args.json else format_compression(result.to_dict()))
    return EXIT_OK


def format_drop(result: dict[str, Any]) -> str:
    """The ``packsim drop`` report for :meth:`DropResult.to_dict` data."""
    inputs, stats = result["inputs"], result["stats"]
    peaks, pulses = result["peak_g"], result["pulse_ms"]
    worst = max(range(len(peaks)), key=peaks.__getitem__) if peaks else None
    strain, stress = result["max_foam_strain"], result["max_container_stress_pa"]
    compression = result["max_cushion_compression"]

    lines = [
        f"design            {result['design_name']}",
        f"drop              {inputs['height_m']:g} m on {inputs['orientation']} "
        f"({inputs['impact_velocity_m_s']:.2f} m/s)",
        f"filter            {result['filter']}",
    ]
    if inputs.get("temperature_c") is not None:
        lines += [f"materials at      {inputs['temperature_c']:g} C: {basis}"
                  for basis in inputs["materials_at_temperature"]]
    if worst is not None:
        lines.append(f"max peak          {peaks[worst]:.1f} g at cell-{worst + 1:03d} "
                     f"(pulse {pulses[worst]:.2f} ms)")
    lines += [
        f"compression       {compression['value']:.3f} of the gap, {compression['between']}"
        + ("  BOTTOMED OUT" if result["bottomed_out"] else ""),
        f"foam strain       {strain['value']:.3f} at {_at_mm(strain)} mm (largest in an element)",
        f"container stress  {stress['value'] / 1e6:.2f} MPa (von Mises) at {_at_mm(stress)} mm",
        f"rebound           {result['rebound_velocity_m_s']:.2f} m/s",
        f"energy balance    {result['energy_error']:.2e} of the impact energy",
        "",
        f"{'cell':<10}{'peak g':>10}{'pulse ms':>10}",
        *(f"cell-{i + 1:03d}  {g:>10.1f}{p:>10.2f}" for i, (g, p) in enumerate(zip(peaks, pulses))),
        "",
        f"{stats['dofs']} DOFs, {stats['steps']} steps of {stats['dt_s'] * 1e6:.2f} us, "
        f"{stats['wall_s']:.1f} s" + ("" if stats["turned_round"] else
                                      "  (stopped before the package turned round)"),
    ]
    return "\n".join(lines)


@contextlib.contextmanager
def _progress_bar(label: str, unit: str):
    """A progress bar on stderr for simulated time; yields ``advance(t_s, limit_s)``.

    The drop usually ends (everything has turned round) well before its time limit, so the bar
    shows simulated milliseconds against that limit and closes when the run returns.
    """
    from tqdm import tqdm

    bar = tqdm(desc=label, unit=unit, file=sys.stderr, leave=False, disable=not sys.stderr.isatty(),
               bar_format="{desc}: {n:.1f} {unit} simulated [{elapsed}]")

    def advance(t_s: float, limit_s: float) -> None:
        bar.n = t_s * 1e3
        bar.refresh()

    try:
        yield advance
    finally:
        bar.close()


def _drop(args: argparse.Namespace) -> int:
    from .drop import plot_pulse, simulate_drop
    from .orientation import parse_orientation

    orientation = parse_orientation(args.orientation)  # a bad name fails before any work
    design = load_design(args.design)
    with _progress_bar(f"drop {orientation.name}", "ms") as advance:
        result = simulate_drop(design, args.height, orientation, mesh_size_m=args.mesh_size,
                               temperature_c=args.temperature, progress=advance)
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        ax = plot_pulse(result)
        ax.figure.savefig(args.plot, dpi=150, bbox_inches="tight")
    if args.save:
        Path(args.save).write_text(result.to_json())
    print(result.to_json(histories=False) if args.json else format_drop(result.to_dict(False)))
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from .report import load_subject, write_report

    source = Path(args.source)
    design = load_design(args.design) if args.design else None
    if source.suffix == ".toml":
        from .optimization import study_result

        if _is_design_file(source):
            raise PacksimInputError([Problem("", str(source), (
                "a design file; report on its check instead: "
                f"'packsim check {source} --json report.json', then 'packsim report report.json "
                f"--out {args.out} --design {source}'"), str(source))])
        subject: Any = study_result(source)
    else:
        try:
            subject = load_subject(source)
        except (ValueError, UnicodeDecodeError):
            raise PacksimInputError([Problem("", str(source), "expected the JSON of 'packsim check "
                                             "--json' or 'packsim drop --save', or a study file",
                                             str(source))]) from None
        if not isinstance(subject, dict) or not ({"rows", "cell_accel_g"} & set(subject)):
            raise PacksimInputError([Problem("", str(source), "neither a compliance report nor a "
                                             "drop result with its time histories", str(source))])
    print(write_report(subject, args.out, design))
    return EXIT_OK


def _is_design_file(path: Path) -> bool:
    """Whether ``path`` reads as a design file (a product, and nothing of a study)."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False  # the study loader reports it
    return "product" in data and not {"objectives", "variable", "design"} & set(data)


EXIT_FAIL = 1


def format_check(report) -> str:
    """The ``packsim check`` report: failures first, then a line per row."""
    lines = [f"design            {report.design_name}",
             f"standards         {', '.join(report.standards)}",
             f"fidelity          {report.fidelity}",
             f"verdict           {'PASS' if report.passed else 'FAIL'}"
             + (f" ({len(report.failed_rows)} of {len(report.rows)} rows failed)" if not report.passed else "")
             + ("; uses provisional (UNCONFIRMED) figures" if report.provisional else "")]
    worst = report.worst_row
    if worst is not None:
        lines.append(f"worst margin      {worst.margin:+.0%}: {worst.name}")
    lines += ["", f"{'verdict':<14}{'margin':>8}  {'standard':<14}{'test':<14}{'criterion':<18}achieved (required)"]
    order = {"fail": 0, "not-evaluated": 2, "pass": 1}
    for r in sorted(report.rows, key=lambda r: order[r.status]):
        margin = "" if r.margin is None else f"{r.margin:+.0%}"
        mark = r.status.upper() + ("*" if r.provisional else "")
        lines.append(f"{mark:<14}{margin:>8}  {r.standard:<14}{r.test:<14}{r.criterion:<18}"
                     f"{r.achieved} ({r.requirement}) [{r.clause}]")
    lines += ["", "* provisional: the row uses a figure marked UNCONFIRMED in its standard file",
              f"{report.wall_s:.2f} s"]
    return "\n".join(lines)


def _check(args: argparse.Namespace) -> int:
    from .compliance import DEFAULT_STANDARDS, check
    from .standards import get_standard

    standards = [get_standard(s) for s in (args.standard or DEFAULT_STANDARDS)]  # fail early
    design = load_design(args.design)
    def line(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    report = check(design, standards, fidelity=args.fidelity, mesh_size_m=args.mesh_size,
                   assurance_level=args.assurance_level, progress=line, workers=args.workers)
    if args.json:
        Path(args.json).write_text(report.to_json())
    if args.junit:
        report.to_junit(args.junit)
    if args.markdown:
        Path(args.markdown).write_text(report.to_markdown())
    print(format_check(report))
    return EXIT_OK if report.passed else EXIT_FAIL


def _standards(args: argparse.Namespace) -> int:
    from .standards import builtin_standards, get_standard

    names = [n for n in args.id if n != "show"]
    if len(names) > 1:
        raise PacksimInputError([Problem("standards", " ".join(args.id), "expected 'show ID'")])
    if names:
        std = get_standard(names[0])
        lines = [f"{std.id}: {std.title}", std.scope, ""]
        for t in std.test:
            lines.append(f"[{t.id}] {t.kind}: {t.title} ({t.clause})")
            for name, c in t.cited().items():
                flag = "  PROVISIONAL" if c.provisional else ""
                lines.append(f"    {name} = {c.value!r}  [{c.clause}; {c.source}, {c.confidence}]{flag}")
                if c.note:
                    lines.append(f"        note: {c.note}")
            if t.criteria:
                lines.append(f"    criteria: {', '.join(t.criteria)}")
        lines += ["", "references:"]
        lines += [f"  {k}: {r.citation}" + (f" <{r.url}>" if r.url else "") for k, r in std.references.items()]
        print("\n".join(lines))
        return EXIT_OK
    for sid, path in builtin_standards().items():
        std = get_standard(path)
        kinds = ", ".join(f"{t.id} ({t.kind})" for t in std.test)
        flag = "  [some figures provisional]" if std.provisional else ""
        print(f"{sid:<14}{std.title}{flag}\n{'':<14}tests: {kinds}")
    print("\nshow one with its citations: packsim standards show ID")
    return EXIT_OK


def _catalogue_rows(records: dict[str, Any], columns: Sequence[tuple[str, str, str]]) -> str:
    """A text table: one row per record, ``columns`` of (attribute, title, format spec)."""
    titles = ["id", *(title for _, title, _ in columns), "weakest value"]
    rows = []
    for rid, record in records.items():
        row = [rid]
        for attr, _, fmt in columns:
            value = getattr(record, attr)
            row.append("-" if value is None else format(value, fmt))
        rows.append([*row, _weakest(record)])
    widths = [max(len(r[i]) for r in [titles, *rows]) for i in range(len(titles))]
    lines = []
    for r in [titles, *rows]:
        first = f"{r[0]:<{widths[0]}}"
        lines.append(first + "".join(f"  {text:>{w}}" for text, w in zip(r[1:], widths[1:])))
    return "\n".join(lines)


_MATERIAL_COLUMNS = [
    ("kind", "kind", ""), ("family", "family", ""), ("density_kg_m3", "kg/m3", ".1f"),
    ("youngs_modulus_pa", "E Pa", ".3g"), ("plateau_stress_pa", "plateau Pa", ".3g"),
    ("gas_pressure_pa", "+ cell gas Pa", ".3g"),
    ("ect_n_per_m", "ECT N/m", ".0f"), ("caliper_m", "caliper m", ".4f"),
    ("co2e_kg_per_kg", "CO2e/kg", ".2f"),
]
_CELL_COLUMNS = [
    ("format", "format", ""), ("chemistry", "chem", ""), ("mass_kg", "mass kg", ".3f"),
    ("energy_wh", "Wh", ".1f"), ("fragility_g", "fragility g", ".0f"),
]


def _optimize(args: argparse.Namespace) -> int:
    from .optimization import optimize
    from .study import load_study

    study = load_study(args.study, output_dir=args.out)

    def line(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    try:
        result = optimize(study, n_trials=args.trials, storage=args.storage,
                          n_workers=args.workers, progress=line)
    except KeyboardInterrupt:
        print(f"packsim: interrupted; finished trials are kept in "
              f"{args.storage or study.output_dir / 'study.db'}: run the same command to resume",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    print(format_study(result))
    return EXIT_OK if result.best else EXIT_FAIL


def format_study(result) -> str:
    """The ``packsim optimize`` summary."""
    lines = [f"study             {result.name} ({result.trials} trials finished)",
             f"storage           {result.storage}"]
    if not result.best:
        lines.append("best              no design passed every check yet: widen the ranges or run "
                     "more trials")
    findings = result.findings()
    first = ("closest", "reference")
    lines += [f"{label:<17} {text}" for label, text in findings if label in first]
    lines += [f"best              {c.label} ({c.fidelity}-confirmed)" for c in result.best]
    lines += [f"{label:<17} {text}" for label, text in findings if label not in first]
    if result.screened != result.best:
        lines += [f"screened          {c.label} (passes the fast check; not FE-checked)"
                  for c in result.screened]
    lines += [f"{key:<17} {path}" for key, path in result.files.items()]
    return "\n".join(lines)


def _listing(args: argparse.Namespace) -> int:
    """``packsim materials`` / ``packsim cells``: a table, or every value with its source."""
    records = library() if args.command == "materials" else catalogue()
    if args.json:
        print(json.dumps({rid: r.to_dict() for rid, r in records.items()}, indent=2))
        return EXIT_OK
    columns = _MATERIAL_COLUMNS if args.command == "materials" else _CELL_COLUMNS
    print(_catalogue_rows(records, columns))
    print(f"\nsources and confidence of every value: packsim {args.command} --json")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="packsim",
        description="Simulate, check and optimise shipping packages for lithium-ion cells.",
    )
    parser.add_argument("--version", action="version", version=f"packsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    info = sub.add_parser("info", help="dimensions, masses, cells and energy of a design")
    info.add_argument("design", help="design file (TOML)")
    info.add_argument("--json", action="store_true", help="print a JSON object instead of a table")
    info.set_defaults(run=_info)
    rep = sub.add_parser("report", help="a self-contained HTML report of a check, a drop or a study")
    rep.add_argument("source", help="JSON of 'packsim check --json' or 'packsim drop --save', or a "
                                    "study file (TOML)")
    rep.add_argument("--out", required=True, metavar="HTML", help="the report file")
    rep.add_argument("--design", metavar="DESIGN", help="the design checked or dropped: adds its "
                                                        "summary, bill of materials, cushion curves")
    rep.set_defaults(run=_report)
    export = sub.add_parser("export", help="supplier files: meshes (STL, 3MF, GLB), the box blank "
                                            "and foam profiles (DXF), bill of materials, spec sheet")
    export.add_argument("design", help="design file (TOML)")
    export.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    export.set_defaults(run=_export)
    _cli_reuse.add_parser(sub)
    compress = sub.add_parser("compress", help="static compression (stacking) by finite elements")
    compress.add_argument("design", help="design file (TOML)")
    load = compress.add_mutually_exclusive_group()
    load.add_argument("--stack-height", type=positive_float, metavar="M",
                      help="stack height including this package, m (default 3.0, UN 6.1.5.6)")
    load.add_argument("--load", type=positive_float, metavar="N", help="platen load, N")
    compress.add_argument("--mesh-size", type=positive_float, metavar="M",
                          help="largest element edge, m")
    compress.add_argument("--no-buckling", action="store_true", help="skip the buckling analysis")
    compress.add_argument("--vtu", metavar="PATH", help="write mesh and fields for ParaView")
    compress.add_argument("--json", action="store_true", help="print a JSON object")
    compress.set_defaults(run=_compress)
    drop = sub.add_parser("drop", help="drop test by explicit finite elements: peak g of every cell")
    drop.add_argument("design", help="design file (TOML)")
    drop.add_argument("--height", type=positive_float, default=1.2, metavar="M",
                      help="drop height, m (default 1.2, UN 6.1.5.3 packing group II)")
    drop.add_argument("--orientation", default="bottom", metavar="NAME",
                      help="face (bottom, face-3), edge (edge-2-3) or corner (corner-2-3-5) by "
                           "ISTA face numbering (default bottom)")
    drop.add_argument("--mesh-size", type=positive_float, metavar="M",
                      help="largest element edge, m")
    drop.add_argument("--temperature", type=temperature_c, metavar="C",
                      help="temperature of the package, C (e.g. -18 for the UN drop of plastics; "
                           "default: the material library's 23 C values)")
    drop.add_argument("--plot", metavar="PATH", help="save the cells' acceleration pulses (PNG, PDF)")
    drop.add_argument("--json", action="store_true", help="print a JSON object (no time histories)")
    drop.add_argument("--save", metavar="PATH", help="write the whole result as JSON, with its time "
                                                     "histories (for packsim report)")
    drop.set_defaults(run=_drop)
    chk = sub.add_parser("check", help="check a design against shipping standards (exit 1 if any row fails)")
    chk.add_argument("design", help="design file (TOML)")
    chk.add_argument("--standard", action="append", metavar="ID|FILE",
                     help="built-in standard id or a standard file; repeat for several "
                          "(default: un-6.1.5-pg2 and sp188)")
    chk.add_argument("--fidelity", choices=("fast", "fe"), default="fast",
                     help="fast: cushion model and closed forms (default); fe: finite elements")
    chk.add_argument("--assurance-level", choices=("I", "II", "III"), help="ASTM D4169 level")
    chk.add_argument("--mesh-size", type=positive_float, metavar="M", help="FE element size, m")
    chk.add_argument("--workers", type=positive_int, metavar="K",
                     help="processes for the FE simulations (default: one per CPU)")
    chk.add_argument("--json", metavar="PATH", help="write the report as JSON")
    chk.add_argument("--junit", metavar="PATH", help="write JUnit XML (one test case per row)")
    chk.add_argument("--markdown", metavar="PATH", help="write the verdict table as Markdown")
    chk.set_defaults(run=_check)
    opt = sub.add_parser("optimize", help="find the lightest design that passes its standards "
                                          "(an Optuna study; run again to resume)",
                         epilog="exit status: 0 a design is FE-confirmed (or, for a fast study, "
                                "passes), 1 none is, 2 bad input, 130 interrupted")
    opt.add_argument("study", help="study file (TOML, see studies/)")
    opt.add_argument("--trials", type=positive_int, metavar="N",
                     help="finished trials to reach, counting earlier runs (default: the file's)")
    opt.add_argument("--storage", metavar="URL",
                     help="Optuna storage, e.g. postgresql://user@host/db (default: SQLite in "
                          "the output folder)")
    opt.add_argument("--workers", type=positive_int, default=1, metavar="K",
                     help="worker processes on this machine")
    opt.add_argument("--out", metavar="DIR", help="output folder (default: studies/out/NAME)")
    opt.set_defaults(run=_optimize)
    stds = sub.add_parser("standards", help="list the encoded standards, or show one with citations")
    stds.add_argument("id", nargs="*", metavar="show ID",
                      help="'show ID' (or just ID): one standard, by id or file, with its citations")
    stds.set_defaults(run=_standards)
    for name, text in (("materials", "the material library"), ("cells", "the cell catalogue")):
        listing = sub.add_parser(name, help=f"list {text} with key values")
        listing.add_argument("--json", action="store_true",
                             help="every value with its source and confidence, as JSON")
        listing.set_defaults(run=_listing)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    if getattr(args, "command", None) == "compress" and args.load is None and args.stack_height is None:
        args.stack_height = 3.0
    try:
        return args.run(args)
    except PacksimInputError as exc:
        print(f"packsim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # e.g. an output path in a folder that does not exist
        print(f"packsim: error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
