"""packsim: lighter, compliant shipping packages for lithium-ion cells.

The public API: design files and their validation, the material library and cell catalogue, and
the geometry and masses of a design.

>>> import packsim
>>> design = packsim.load_design("geometries/a-21700-eps-rsc.toml")  # doctest: +SKIP
>>> design.packaging_mass_kg  # doctest: +SKIP
"""

from ._cited import Cited, DataError
from .cells import Cell, catalogue, get_cell, load_cells
from .design import (
    CorrugatedBox,
    CustomCell,
    Design,
    Dividers,
    Insert,
    Product,
    RigidBox,
    load_design,
)
from .errors import DesignError, PacksimInputError, Problem
from .fefco import RscBlank, rsc_blank
from .geometry import Assembly, Part, build_assembly
from .materials import Material, get_material, library, load_materials

__version__ = "0.1.0"

__all__ = [
    "Assembly",
    "Cell",
    "Cited",
    "CorrugatedBox",
    "CustomCell",
    "DataError",
    "Design",
    "DesignError",
    "Dividers",
    "Insert",
    "Material",
    "PacksimInputError",
    "Part",
    "Problem",
    "Product",
    "RigidBox",
    "RscBlank",
    "build_assembly",
    "catalogue",
    "get_cell",
    "get_material",
    "library",
    "load_cells",
    "load_design",
    "load_materials",
    "rsc_blank",
    "__version__",
]
