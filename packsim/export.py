"""What a design sends to its suppliers: meshes, flat drawings, a bill of materials and a
one-page specification sheet.

``export_design(design, out_dir)`` writes, in millimetres:

- every packaging part as STL and 3MF (watertight solids; trimesh), each in its own frame from
  its lower corner, and the whole assembly with its cells, in place, as GLB;
- for a corrugated box, its FEFCO 0201 blank as DXF (cut and crease lines on their own layers);
- for each foam layer (trays, lid), its cutting profile as DXF (outline and cavities);
- the bill of materials as CSV and JSON;
- ``spec.html``: one self-contained page with rendered views of the assembly and of each part,
  the bill of materials and the drawings' sizes.
"""

from __future__ import annotations

import csv
import html
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ._html import STYLE, design_section, figure, page, png, pyplot
from .dieline import write_blank_dxf, write_profile_dxf
from .materials import library

if TYPE_CHECKING:
    from .design import Design
    from .geometry import Part

_MM = 1e3


@dataclass(frozen=True)
class BomLine:
    """One line of the bill of materials: identical packaging parts grouped.

    Attributes
    ----------
    part : str
        Part name (``insert-tray`` for trays 1..n when they are identical).
    role : str
        ``container``, ``insert`` or ``divider``.
    material, material_name : str
    quantity : int
    length_mm, width_mm, height_mm : float
        Outer size of one part, mm.
    unit_mass_kg, mass_kg : float
        Of one part, and of the line (quantity x unit), kg.
    co2e_kg : float
        Of the line, kg CO2e.
    """

    part: str
    role: str
    material: str
    material_name: str
    quantity: int
    length_mm: float
    width_mm: float
    height_mm: float
    unit_mass_kg: float
    mass_kg: float
    co2e_kg: float


def _kind(part_name: str) -> str:
    """The part's name without its number: ``insert-tray`` for ``insert-tray-2``."""
    return re.sub(r"-\d+$", "", part_name)


def bill_of_materials(design: Design) -> list[BomLine]:
    """The packaging parts of ``design`` (cells are the product, not listed), identical parts
    grouped; the masses add up to ``design.packaging_mass_kg``."""
    groups: dict[tuple, list[Part]] = {}
    for p in design.geometry.packaging_parts:
        size = tuple(np.round(p.mesh.extents * _MM, 3))
        key = (p.role, p.material, size, round(p.mass_kg, 12))
        groups.setdefault(key, []).append(p)
    lines = []
    for (role, material, size, _), parts in groups.items():
        name = parts[0].name if len(parts) == 1 else _kind(parts[0].name)
        lines.append(BomLine(
            part=name, role=role, material=material, material_name=library()[material].name,
            quantity=len(parts), length_mm=float(size[0]), width_mm=float(size[1]),
            height_mm=float(size[2]), unit_mass_kg=parts[0].mass_kg,
            mass_kg=sum(p.mass_kg for p in parts), co2e_kg=sum(p.co2e_kg for p in parts)))
    return lines


def _write_bom(lines: list[BomLine], out: Path, design: Design) -> dict[str, Path]:
    rows = [asdict(line) for line in lines]
    csv_path, json_path = out / "bom.csv", out / "bom.json"
    with open(csv_path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    json_path.write_text(json.dumps({
        "design": design.name, "packaging_mass_kg": design.packaging_mass_kg,
        "packaging_co2e_kg": design.co2e_kg, "lines": rows}, indent=2))
    return {"bom.csv": csv_path, "bom.json": json_path}


def _write_meshes(design: Design, out: Path) -> dict[str, Path]:
    import trimesh

    files = {}
    for p in design.geometry.packaging_parts:
        # Each part in its own frame, from its lower corner: what a supplier machines, and
        # STL's float32 coordinates stay small next to the part (volumes within 1e-7).
        mesh = p.mesh.copy()
        mesh.apply_translation(-p.mesh.bounds[0])
        mesh.apply_scale(_MM)
        for ext in ("stl", "3mf"):
            path = out / f"{p.name}.{ext}"
            mesh.export(path, file_type=ext)
            files[path.name] = path
    scene = trimesh.Scene()
    for p in design.geometry.parts:
        mesh = p.mesh.copy()
        mesh.apply_scale(_MM)
        scene.add_geometry(mesh, node_name=p.name, geom_name=p.name)
    path = out / "assembly.glb"
    scene.export(path, file_type="glb")
    files[path.name] = path
    return files


def _write_drawings(design: Design, out: Path) -> dict[str, Path]:
    files = {}
    blank = design.geometry.blank
    if blank is not None:
        path = write_blank_dxf(blank, out / "container-blank.dxf", design.name)
        files[path.name] = path
    lay = design.layout
    x0, y0, _ = lay.insert_origin_m
    ex, ey, _ = lay.envelope_m
    c = design.insert.clearance_m
    size = lay.insert_dims_m[:2]
    centres = lay.cell_xy_m - (x0, y0)
    half = (ex / 2 + c, ey / 2 + c)
    round_ = design.cell.format == "cylindrical"
    material = design.insert.material
    grooves = np.array(lay.grooves_m).reshape(-1, 2, 3)

    def relief(z0: float, z1: float) -> tuple[np.ndarray, str]:
        """Plans of the grooves that cut the layer between z0 and z1, and their note."""
        cut = grooves[(grooves[:, 0, 2] < z1) & (grooves[:, 1, 2] > z0)]
        if not len(cut):
            return np.zeros((0, 4)), ""
        plans = np.column_stack([cut[:, 0, :2] - (x0, y0), cut[:, 1, :2] - (x0, y0)])
        ins = design.insert
        r = ins.groove_depth_ratio
        return plans, (f"; relief grooves (GROOVE): {r * ins.bottom_thickness_m * _MM:.1f} mm deep "
                       f"in the bottom, {r * ins.top_thickness_m * _MM:.1f} mm in the top, "
                       f"{r * ins.side_thickness_m * _MM:.1f} mm into the sides over the full height")

    for i, tray in enumerate(lay.trays):
        depth = tray.top_m - tray.cell_bottom_m if tray.floor_m > 0 else tray.top_m - tray.bottom_m
        plans, grooved = relief(tray.bottom_m, tray.top_m)
        note = (f"{design.name} insert-tray-{i + 1}: {material}, "
                f"{(tray.top_m - tray.bottom_m) * _MM:.1f} mm thick, cavities "
                f"{depth * _MM:.1f} mm deep" + (" (through)" if tray.floor_m <= 0 else "") + grooved)
        path = write_profile_dxf(size, centres, half, round_, out / f"insert-tray-{i + 1}.dxf",
                                 note, plans)
        files[path.name] = path
    z0, z1 = lay.lid_m
    plans, grooved = relief(z0, z1)
    note = f"{design.name} insert-lid: {material}, {(z1 - z0) * _MM:.1f} mm thick" + grooved
    path = write_profile_dxf(size, np.zeros((0, 2)), half, round_, out / "insert-lid.dxf", note,
                             plans)
    files[path.name] = path
    return files


#: Elevation and azimuth of the rendered views, degrees.
_VIEW = (30.0, -60.0)


def _render(parts: list[Part], title: str) -> str:
    """A PNG (base64) of ``parts``, shaded, in an isometric view."""
    import trimesh
    from matplotlib.colors import LightSource, to_rgb
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    colours = {"container": "#c8a26b", "insert": "#9ecae1", "divider": "#bdbdbd",
               "cell": "#737373"}
    fig = pyplot().figure(figsize=(4.0, 3.2), dpi=110)
    ax = fig.add_subplot(projection="3d")
    low = np.min([p.mesh.bounds[0] for p in parts], axis=0) * _MM
    high = np.max([p.mesh.bounds[1] for p in parts], axis=0) * _MM
    light = LightSource(azdeg=225, altdeg=45)
    elev, azim = np.radians(_VIEW)
    towards_eye = np.array([np.cos(elev) * np.cos(azim), np.cos(elev) * np.sin(azim), np.sin(elev)])
    triangles, shaded = [], []
    for p in parts:
        # Matplotlib paints triangles back to front by their mean depth, within one collection
        # only (collections are painted whole): all parts go into one. Long triangles are
        # misordered, so faces turned away are dropped (they are hidden on a closed part) and the
        # rest split to a tenth of the part's size. Edges in the face colour hide the seams that
        # antialiasing leaves between neighbouring triangles.
        vertices, faces = trimesh.remesh.subdivide_to_size(p.mesh.vertices, p.mesh.faces,
                                                           max_edge=p.mesh.scale / 10)
        mesh = trimesh.Trimesh(vertices, faces, process=False)
        front = mesh.face_normals @ towards_eye > 0
        brightness = 0.45 + 0.55 * light.shade_normals(mesh.face_normals[front], fraction=1.0)
        triangles.append(mesh.triangles[front] * _MM)
        shaded.append(np.clip(to_rgb(colours[p.role]) * brightness[:, None], 0.0, 1.0))
    colour = np.concatenate(shaded)
    ax.add_collection3d(Poly3DCollection(np.concatenate(triangles), facecolors=colour,
                                         edgecolors=colour, linewidths=0.3))
    ax.set(xlim=(low[0], high[0]), ylim=(low[1], high[1]), zlim=(low[2], high[2]))
    ax.set_box_aspect(high - low)
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)
    ax.view_init(elev=_VIEW[0], azim=_VIEW[1])
    return png(fig)


def _spec_sheet(design: Design, lines: list[BomLine], files: dict[str, Path], out: Path) -> Path:
    geometry = design.geometry
    # The box and the lid hide the rest: the assembly is shown without them.
    inside = [p for p in geometry.parts if p.role != "container" and p.name != "insert-lid"]
    views = [("assembly (box and lid off)", _render(inside, "assembly, box and lid off"))]
    seen = set()
    for p in geometry.packaging_parts:
        key = _kind(p.name)
        if key not in seen:
            seen.add(key)
            size = " x ".join(f"{v * _MM:.0f}" for v in p.mesh.extents)
            views.append((f"{p.name}: {size} mm", _render([p], p.name)))
    figures = "".join(figure(b64, name) for name, b64 in views)
    listed = "".join(f"<li>{html.escape(name)}</li>" for name in sorted(files))
    sections = [f"<div>{figures}</div>", design_section(design, lines),
                f"<h2>Files</h2><ul>{listed}</ul>"]
    text = page(f"{design.name}: specification", sections, STYLE + "figure img { width: 18em; }")
    path = out / "spec.html"
    path.write_text(text, encoding="utf-8")
    return path


def export_design(design: Design, out_dir: str | Path) -> dict[str, Path]:
    """Write the supplier files of ``design`` into ``out_dir`` (created if needed).

    Returns
    -------
    dict of str to Path
        Every file written, by file name.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lines = bill_of_materials(design)
    files: dict[str, Path] = {}
    files.update(_write_meshes(design, out))
    files.update(_write_drawings(design, out))
    files.update(_write_bom(lines, out, design))
    files["spec.html"] = _spec_sheet(design, lines, files, out)
    return files

