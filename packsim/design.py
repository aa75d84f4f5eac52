"""The design of a cell shipping package: product, cushioning insert, dividers, outer container.

A :class:`Design` is frozen and hashable; :meth:`Design.replace` makes a validated variant, which is
how the optimiser explores designs. Design files are TOML; lengths are metres, or strings with an
explicit unit (``"30 mm"``). Every mistake in a file is reported together in one
:class:`~packsim.errors.DesignError`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

import tomli_w
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ._cited import read_toml
from .cells import Cell, catalogue
from .errors import _MISSING, DesignError, Problem, did_you_mean
from .materials import library
from .units import parse_length

if TYPE_CHECKING:
    from .geometry import Assembly, Part
    from .layout import Layout


# --- field types -------------------------------------------------------------------------------


def _to_float(value: Any) -> Any:
    if isinstance(value, bool):
        return value  # strict float validation then rejects it
    if isinstance(value, int):
        return float(value)
    if isinstance(value, str):
        try:
            return parse_length(value)
        except ValueError as exc:
            raise PydanticCustomError("length", str(exc)) from None
    return value


def _length(high: float, *, allow_zero: bool = False) -> Any:
    """A length in metres within (0, high], or [0, high] with ``allow_zero``.

    The upper bound catches absurd values, typically millimetres written as metres.
    """

    def check(value: float) -> float:
        if value < 0 or (value == 0 and not allow_zero):
            bound = ">= 0" if allow_zero else "> 0"
            raise PydanticCustomError("length_range", f"expected a length {bound} m")
        if value > high:
            hint = ""
            if value * 1e-3 <= high:
                hint = f" (a value in mm? write \"{value:g} mm\")"
            raise PydanticCustomError("length_range", f"expected a length <= {high:g} m{hint}")
        return value

    return Annotated[float, BeforeValidator(_to_float), AfterValidator(check)]


def _positive(high: float, unit: str) -> Any:
    def check(value: float) -> float:
        if not 0 < value <= high:
            raise PydanticCustomError("range", f"expected a number in (0, {high:g}] {unit}")
        return value

    return Annotated[float, BeforeValidator(lambda v: float(v) if type(v) is int else v),
                     AfterValidator(check)]


def _between(low: float, high: float) -> Any:
    """A plain number within [low, high]."""

    def check(value: float) -> float:
        if not low <= value <= high:
            raise PydanticCustomError("range", f"expected a number in [{low:g}, {high:g}]")
        return value

    return Annotated[float, BeforeValidator(lambda v: float(v) if type(v) is int else v),
                     AfterValidator(check)]


def _material_id(*kinds: str) -> Any:
    def check(material_id: str) -> str:
        lib = library()
        if material_id not in lib:
            choices = sorted(m for m, mat in lib.items() if mat.kind in kinds)
            raise PydanticCustomError(
                "unknown_material",
                f"unknown material{did_you_mean(material_id, choices)}; "
                f"expected one of: {', '.join(choices)}",
            )
        kind = lib[material_id].kind
        if kind not in kinds:
            raise PydanticCustomError(
                "material_kind",
                f"is a {kind} material; expected a {' or '.join(kinds)} material here",
            )
        return material_id

    return Annotated[str, AfterValidator(check)]


def _cell_id(cell_id: str) -> str:
    cat = catalogue()
    if cell_id not in cat:
        raise PydanticCustomError(
            "unknown_cell",
            f"unknown cell{did_you_mean(cell_id, cat)}; expected one of: {', '.join(sorted(cat))}",
        )
    return cell_id


def _count(high: int) -> Any:
    return Annotated[int, Field(ge=1, le=high)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


# --- parts -------------------------------------------------------------------------------------


class CustomCell(_Model):
    """A cell given by its data instead of a catalogue id (SI units, see :class:`~packsim.Cell`)."""

    name: str = "custom cell"
    format: Literal["cylindrical", "prismatic", "pouch"]
    chemistry: str = ""
    diameter_m: _length(0.5) | None = None
    length_m: _length(2.0) | None = None
    thickness_m: _length(0.5) | None = None
    height_m: _length(2.0)
    mass_kg: _positive(200.0, "kg")
    nominal_voltage_v: _positive(1000.0, "V")
    capacity_ah: _positive(2000.0, "Ah")
    energy_wh: _positive(1e5, "Wh")
    fragility_g: _positive(1e4, "g")

    @model_validator(mode="after")
    def _dimensions_match_format(self) -> CustomCell:
        needed = ("diameter_m",) if self.format == "cylindrical" else ("length_m", "thickness_m")
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise PydanticCustomError(
                "cell_dimensions",
                f"a {self.format} cell needs {' and '.join(missing)}",
            )
        return self

    def to_cell(self) -> Cell:
        """This cell as a :class:`~packsim.Cell` (without cited provenance: the data are the user's)."""
        return Cell(id="custom", **self.model_dump())


class Product(_Model):
    """The cells and how they are laid out: ``rows`` along y, ``columns`` along x, ``layers`` up z.

    ``spacing_m`` is the gap between neighbouring cells of a layer and ``layer_gap_m`` the gap
    between layers; the insert's foam (and any dividers) fills them.
    """

    cell: Annotated[str, AfterValidator(_cell_id)] | None = None
    custom_cell: CustomCell | None = None
    rows: _count(1000)
    columns: _count(1000)
    layers: _count(100) = 1
    orientation: Literal["upright", "flat"] = "upright"
    spacing_m: _length(0.5, allow_zero=True)
    layer_gap_m: _length(0.5, allow_zero=True) = 0.0
    #: State of charge the cells are shipped at, % (air transport limits it); None if not stated.
    state_of_charge_pct: Annotated[float, Field(ge=0, le=100)] | None = None

    @model_validator(mode="after")
    def _one_cell_source(self) -> Product:
        if (self.cell is None) == (self.custom_cell is None):
            raise PydanticCustomError(
                "cell_source", "give exactly one of product.cell (catalogue id) or product.custom_cell"
            )
        if self.orientation == "flat" and self.cell_spec.format == "cylindrical":
            raise PydanticCustomError(
                "orientation", "cylindrical cells are packed upright; expected orientation 'upright'"
            )
        return self

    @property
    def cell_spec(self) -> Cell:
        """The cell, from the catalogue or the custom data."""
        if self.custom_cell is not None:
            return self.custom_cell.to_cell()
        return catalogue()[self.cell]

    @property
    def n_cells(self) -> int:
        return self.rows * self.columns * self.layers

    @property
    def envelope_m(self) -> tuple[float, float, float]:
        """Bounding box of one cell as packed (x, y, z), m."""
        return self.cell_spec.envelope_m(self.orientation)


class Insert(_Model):
    """Foam cushioning insert: one tray per layer of cells with a pocket per cell, and a lid.

    Thicknesses are foam thicknesses between a pocket and the outside of the insert; the pockets
    are ``clearance_m`` larger than the cell on every side (and above it).

    With ``bearing_fraction`` below 1 the outside of the insert is relieved: each of its six faces
    is cut into ``ribs`` parallel ribs, the outer two flush with the face's edges, that together
    cover ``bearing_fraction`` of the face; the grooves between them are ``groove_depth_ratio`` of
    that face's pad deep. Ribs run along y on the bottom and the top and stand upright on the
    sides. A smaller bearing area raises the static stress on the foam: it is how a light product
    is brought down to the low part of its cushion curve (ASTM D1596 practice, see
    shared/reference/standards.md s4.5).
    """

    material: _material_id("foam")
    bottom_thickness_m: _length(0.5)
    top_thickness_m: _length(0.5)
    side_thickness_m: _length(0.5)
    clearance_m: _length(0.05, allow_zero=True) = 0.0005
    bearing_fraction: _between(0.1, 1.0) = 1.0
    groove_depth_ratio: _between(0.1, 0.9) = 0.75
    ribs: Annotated[int, Field(ge=2, le=50)] = 3

    @property
    def relieved(self) -> bool:
        """Whether the insert's faces are cut into ribs."""
        return self.bearing_fraction < 1.0

    @model_serializer(mode="wrap")
    def _omit_unused_relief(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A plain insert's design file (and a supplier's copy of it) should not list ribs and
        # grooves it does not have; values set on purpose are kept, so the file reads back equal.
        data = handler(self)
        if not self.relieved:
            for name in ("bearing_fraction", "groove_depth_ratio", "ribs"):
                if data.get(name) == type(self).model_fields[name].default:
                    data.pop(name)
        return data


class Dividers(_Model):
    """Sheets between layers of cells (e.g. corrugated pads), one between each pair of layers.

    A divider lies inside the layer gap, so ``product.layer_gap_m`` must be at least its thickness.
    """

    material: _material_id("board", "solid")
    thickness_m: _length(0.05)


class _Container(_Model):
    inner_length_m: _length(5.0) | None = None
    inner_width_m: _length(5.0) | None = None
    inner_height_m: _length(5.0) | None = None
    #: The container comes back to be used again (default: rigid boxes do, corrugated ones not).
    returnable: bool | None = None

    @property
    def explicit_inner_dims_m(self) -> tuple[float | None, float | None, float | None]:
        return (self.inner_length_m, self.inner_width_m, self.inner_height_m)


class CorrugatedBox(_Container):
    """Corrugated fibreboard box, FEFCO style 0201 (regular slotted container).

    Inner dimensions default to a snug fit around the insert.
    """

    type: Literal["rsc"]
    style: Literal["0201"] = "0201"
    board: _material_id("board")

    @property
    def material(self) -> str:
        return self.board


class RigidBox(_Container):
    """Rigid returnable box (e.g. injection-moulded PP) with a uniform wall, lid included."""

    type: Literal["rigid"]
    material: _material_id("solid")
    wall_thickness_m: _length(0.05)


Container = Annotated[Union[CorrugatedBox, RigidBox], Field(discriminator="type")]

_SECTIONS: dict[str, type[_Model]] = {
    "product": Product,
    "insert": Insert,
    "dividers": Dividers,
}


# --- the design --------------------------------------------------------------------------------


class Design(_Model):
    """A battery-cell shipping package. Frozen and hashable.

    Build one with :func:`load_design` or :meth:`Design.from_dict`; both report every mistake at
    once in a :class:`~packsim.DesignError`. Derived quantities (dimensions, masses, centre of
    mass) are properties; the geometry behind the masses is built once per design.
    """

    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    product: Product
    insert: Insert
    dividers: Dividers | None = None
    container: Container

    # -- construction and serialisation ---------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str | Path | None = None) -> Design:
        """Validate a design dictionary (as read from TOML).

        Parameters
        ----------
        data : mapping
            The design as nested dictionaries.
        source : str or Path, optional
            The file the data came from; named in every problem reported.

        Raises
        ------
        DesignError
            Listing every problem found, each with file, field, value and what was expected.
        """
        file = str(source) if source is not None else None
        if not isinstance(data, Mapping):
            raise DesignError([Problem("", data, "expected a table of design fields", file)])
        try:
            design = cls.model_validate(dict(data))
        except ValidationError as exc:
            problems = _problems_from(exc, data, file)
            problems += _cross_problems(*_sections_where_valid(data), file)
            raise DesignError(problems) from None
        problems = _cross_problems(design.product, design.insert, design.dividers,
                                   design.container, file)
        if problems:
            raise DesignError(problems)
        return design

    def __getstate__(self) -> dict[str, Any]:
        # Worker processes rebuild the geometry rather than receive megabytes of meshes.
        state = super().__getstate__()
        state["__dict__"] = {k: v for k, v in state["__dict__"].items()
                             if k not in ("geometry", "layout")}
        return state

    def to_dict(self) -> dict[str, Any]:
        """The design as plain nested dictionaries (SI floats), the inverse of :meth:`from_dict`."""
        return self.model_dump(exclude_none=True)

    def to_toml(self) -> str:
        """The design as a TOML design file; :func:`load_design` reads it back to an equal design."""
        return tomli_w.dumps(self.to_dict())

    def save(self, path: str | Path) -> Path:
        """Write the design file atomically (a crash never leaves a half-written file)."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(self.to_toml(), encoding="utf-8")
        tmp.replace(path)
        return path

    def replace(self, changes: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Design:
        """A validated variant of this design.

        Parameters
        ----------
        changes : mapping, optional
            Dotted paths to new values, e.g. ``{"insert.bottom_thickness_m": 0.02}``; a path to a
            table replaces the table (``{"container": {...}}``), and ``None`` removes an optional
            table (``{"dividers": None}``).
        **kwargs
            More changes; dotted paths need the mapping form or ``**{"a.b": v}``.

        Raises
        ------
        DesignError
            If a path does not exist or the variant is invalid.
        """
        data = copy.deepcopy(self.to_dict())
        problems = []
        for path, value in {**(changes or {}), **kwargs}.items():
            *parents, leaf = path.split(".")
            node: Any = data
            model: Any = type(self)
            for depth, key in enumerate(parents):
                model = _submodel(model, key, node.get(key))
                where = ".".join(parents[: depth + 1])
                if model is None and not isinstance(node.get(key), dict):
                    problems.append(Problem(path, value, f"{where!r} is not a table of a design"))
                    break
                if not isinstance(node.get(key), dict):
                    problems.append(Problem(
                        path, value, f"this design has no {where!r} table; give the whole table"))
                    break
                node = node[key]
            else:
                fields = _model_fields(model)
                if leaf not in fields:
                    problems.append(Problem(
                        path, value, f"no such design field{did_you_mean(leaf, fields)}"
                    ))
                elif value is None:
                    node.pop(leaf, None)
                else:
                    node[leaf] = value
        if problems:
            raise DesignError(problems)
        return type(self).from_dict(data)

    # -- derived quantities ---------------------------------------------------------------------

    @property
    def cell(self) -> Cell:
        """The cell packed in this design."""
        return self.product.cell_spec

    @property
    def n_cells(self) -> int:
        """Number of cells in the package."""
        return self.product.n_cells

    @property
    def total_wh(self) -> float:
        """Nominal energy of all cells, Wh."""
        return self.n_cells * self.cell.energy_wh

    @property
    def insert_dims_m(self) -> tuple[float, float, float]:
        """Outer dimensions (x, y, z) of the insert with its lid and any dividers, m."""
        return _insert_dims(self.product, self.insert)

    @property
    def inner_dims_m(self) -> tuple[float, float, float]:
        """Inner dimensions of the container (explicit, or a snug fit round the insert), m."""
        fit = self.insert_dims_m
        return tuple(
            fit[i] if given is None else given
            for i, given in enumerate(self.container.explicit_inner_dims_m)
        )

    @property
    def wall_thicknesses_m(self) -> tuple[float, float]:
        """Container wall thickness at the sides and at top/bottom, m.

        A corrugated RSC has one board layer at the sides and two (inner and outer flaps) at top and
        bottom.
        """
        if isinstance(self.container, CorrugatedBox):
            t = library()[self.container.board].caliper_m
            return (t, 2.0 * t)
        w = self.container.wall_thickness_m
        return (w, w)

    @property
    def outer_dims_m(self) -> tuple[float, float, float]:
        """Outer dimensions (length x, width y, height z) of the closed package, m."""
        side, cap = self.wall_thicknesses_m
        x, y, z = self.inner_dims_m
        return (x + 2 * side, y + 2 * side, z + 2 * cap)

    @cached_property
    def layout(self) -> Layout:
        """Positions of the trays, pockets, cells, dividers and lid (see :mod:`packsim.layout`)."""
        from .layout import layout

        return layout(self)

    @cached_property
    def geometry(self) -> Assembly:
        """Watertight solids of every part in one assembly frame (built once per design)."""
        from .geometry import build_assembly

        return build_assembly(self)

    @property
    def parts(self) -> dict[str, Part]:
        """Every part by name (cells individually), with material, mass and solid."""
        return {part.name: part for part in self.geometry.parts}

    @property
    def packaging_mass_kg(self) -> float:
        """Mass of the packaging alone (container, insert, dividers), kg."""
        return self.geometry.packaging_mass_kg

    @property
    def returnable(self) -> bool:
        """The package comes back for another trip: ``container.returnable``, by default true for
        rigid boxes and false for corrugated ones (single use)."""
        explicit = self.container.returnable
        return explicit if explicit is not None else self.container.type == "rigid"

    @property
    def cells_mass_kg(self) -> float:
        """Mass of all cells, kg."""
        return self.n_cells * self.cell.mass_kg

    @property
    def gross_mass_kg(self) -> float:
        """Mass of the filled package, kg."""
        return self.packaging_mass_kg + self.cells_mass_kg

    @property
    def center_of_mass_m(self) -> tuple[float, float, float]:
        """Centre of mass of the filled package in the assembly frame, m."""
        return self.geometry.center_of_mass_m

    @property
    def co2e_kg(self) -> float:
        """Cradle-to-gate carbon footprint of the packaging, kg CO2e."""
        return self.geometry.packaging_co2e_kg

    def summary(self) -> dict[str, Any]:
        """Dimensions, masses, cell count and energy as plain data (the ``packsim info`` output)."""
        return self.geometry.summary()


# --- layout ------------------------------------------------------------------------------------


def _insert_dims(product: Product, insert: Insert) -> tuple[float, float, float]:
    ex, ey, ez = product.envelope_m
    c = insert.clearance_m
    x = 2 * insert.side_thickness_m + 2 * c + product.columns * ex + (product.columns - 1) * product.spacing_m
    y = 2 * insert.side_thickness_m + 2 * c + product.rows * ey + (product.rows - 1) * product.spacing_m
    z = (insert.bottom_thickness_m + insert.top_thickness_m
         + product.layers * (ez + c) + (product.layers - 1) * product.layer_gap_m)
    return (x, y, z)


# --- validation helpers ------------------------------------------------------------------------


def _cross_problems(
    product: Product | None,
    insert: Insert | None,
    dividers: Dividers | None,
    container: CorrugatedBox | RigidBox | None,
    file: str | None,
) -> list[Problem]:
    """Checks that involve several sections; each runs only if its sections are valid."""
    problems = []
    if product is not None and product.layers > 1:
        divider_t = dividers.thickness_m if dividers is not None else 0.0
        if dividers is None and product.layer_gap_m <= 0:
            problems.append(Problem(
                "product.layer_gap_m", product.layer_gap_m,
                "expected > 0 with several layers, so cells of adjacent layers cannot touch "
                "(or add [dividers])", file))
        elif product.layer_gap_m < divider_t:
            problems.append(Problem(
                "product.layer_gap_m", product.layer_gap_m,
                f"expected >= dividers.thickness_m = {divider_t:g} m: dividers lie in the layer gap",
                file))
    if product is not None and dividers is not None and product.layers == 1:
        problems.append(Problem("dividers", dividers.model_dump(),
                                "dividers lie between layers; expected product.layers >= 2", file))
    if product is not None and insert is not None:
        web = product.spacing_m - 2 * insert.clearance_m
        if web <= 0 and product.n_cells > 1:
            problems.append(Problem(
                "product.spacing_m", product.spacing_m,
                f"expected > 2 x insert.clearance_m = {2 * insert.clearance_m:g} m, so that foam "
                "separates neighbouring cells", file))
        if insert.relieved:
            problems += _rib_problems(_insert_dims(product, insert), insert, file)
        if container is not None:
            needed = _insert_dims(product, insert)
            for axis, given, need in zip(("length", "width", "height"),
                                         container.explicit_inner_dims_m, needed):
                if given is not None and given < need:
                    problems.append(Problem(
                        f"container.inner_{axis}_m", given,
                        f"cells and insert do not fit: expected >= {need:.4g} m "
                        f"(insert {' x '.join(f'{d:.4g}' for d in needed)} m)", file))
    return problems


#: Narrowest rib or groove of a relieved insert: a packsim policy, so that both can be cut (and the
#: finite-element grids keep them: see fem.mesh.GROOVE_SNAP).
_MIN_RIB_M = 0.005


def _rib_problems(dims: tuple[float, float, float], insert: Insert, file: str | None) -> list[Problem]:
    from .layout import rib_widths

    f, n = insert.bearing_fraction, insert.ribs
    narrowest = min(dims[:2])
    rib, groove = rib_widths(narrowest, n, f)
    if min(rib, groove) >= _MIN_RIB_M:
        return []
    return [Problem("insert.ribs", n,
                    f"ribs {rib * 1e3:.1f} mm and grooves {groove * 1e3:.1f} mm wide on the "
                    f"insert's {narrowest * 1e3:.0f} mm side; expected both >= "
                    f"{_MIN_RIB_M * 1e3:g} mm (fewer ribs, or a bearing_fraction nearer 0.5)", file)]


def _sections_where_valid(data: Mapping[str, Any]) -> tuple[Any, Any, Any, Any]:
    """Each section validated on its own (``None`` where invalid), for the cross-section checks."""
    out = []
    for name in ("product", "insert", "dividers", "container"):
        raw = data.get(name)
        model = _container_model(raw) if name == "container" else _SECTIONS[name]
        try:
            out.append(model.model_validate(raw) if raw is not None and model else None)
        except ValidationError:
            out.append(None)
    return tuple(out)


_CONTAINER_TYPES: dict[str, type[_Container]] = {"rsc": CorrugatedBox, "rigid": RigidBox}


def _container_model(raw: Any) -> type[_Container] | None:
    return _CONTAINER_TYPES.get(raw.get("type")) if isinstance(raw, dict) else None


def _submodel(model: Any, key: str, raw: Any) -> Any:
    """The model class of field ``key`` of ``model`` (resolving the container union by its type)."""
    if model is Design and key == "container":
        return _container_model(raw)
    field = getattr(model, "model_fields", {}).get(key)
    if field is None:
        return None
    for candidate in (field.annotation, *getattr(field.annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _model_fields(model: Any) -> list[str]:
    return list(getattr(model, "model_fields", {}))


class _Table:
    def __repr__(self) -> str:
        return "{...}"


def _problems_from(exc: ValidationError, data: Mapping[str, Any], file: str | None) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = list(err["loc"])
        if loc[:1] == ["container"] and len(loc) > 1 and loc[1] in _CONTAINER_TYPES:
            del loc[1]  # pydantic names the union member; users know the table, not the class
        field = ".".join(str(p) for p in loc)
        value = err.get("input", _MISSING)
        kind = err["type"]
        if kind == "missing":
            problems.append(Problem(field, _MISSING, "required field is missing", file))
        elif kind == "extra_forbidden":
            model: Any = Design
            raw: Any = data
            for key in loc[:-1]:
                raw_child = raw.get(key) if isinstance(raw, dict) else None
                model = _submodel(model, str(key), raw_child)
                raw = raw_child
            allowed = _model_fields(model)
            problems.append(Problem(
                field, value,
                f"unknown field{did_you_mean(str(loc[-1]), allowed)}; "
                f"expected one of: {', '.join(allowed)}", file))
        elif kind == "union_tag_invalid":
            problems.append(Problem(f"{field}.type", err["ctx"]["tag"],
                                    f"expected one of {err['ctx']['expected_tags']}", file))
        elif kind == "union_tag_not_found":
            problems.append(Problem(f"{field}.type", _MISSING,
                                    "required: 'rsc' (corrugated box) or 'rigid' (returnable box)",
                                    file))
        else:
            message = err["msg"]
            for prefix in ("Input should be ", "Value error, "):
                if message.startswith(prefix):
                    message = "expected " + message[len(prefix):]
            shown = _Table() if isinstance(value, dict) else value
            problems.append(Problem(field, shown, message, file))
    return problems


def load_design(path: str | Path) -> Design:
    """Read and validate a design file.

    Parameters
    ----------
    path : str or Path
        A TOML design file (see ``geometries/`` for examples).

    Returns
    -------
    Design

    Raises
    ------
    DesignError
        Listing every problem in the file (missing file and TOML syntax errors included).
    """
    data = read_toml(Path(path), DesignError)
    return Design.from_dict(data, source=path)
