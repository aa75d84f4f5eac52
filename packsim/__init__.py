"""packsim: lighter, compliant shipping packages for lithium-ion cells.

The public API: design files and their validation, the material library and cell catalogue, the
geometry and masses of a design, stacking loads and box compression strength, the static
compression and the drop of a whole package by finite elements, drop orientations by ISTA face
numbering, the crushable-foam law with the one-degree-of-freedom cushion model
(``packsim.cushion``), and shipping test standards as data with the compliance check
(``packsim.check``; ``packsim.testing.assert_compliant`` for CI), optimisation studies
(``packsim.optimize``), returnable packaging: wear per trip and remaining life
(``packsim.reuse``), supplier files (``packsim.export_design``) and HTML reports
(``packsim.write_report``).

>>> import packsim
>>> design = packsim.load_design("geometries/a-21700-eps-rsc.toml")  # doctest: +SKIP
>>> design.packaging_mass_kg  # doctest: +SKIP
"""

from . import cushion, reuse
from ._cited import Cited, DataError
from .cells import Cell, catalogue, get_cell, load_cells
from .compliance import ComplianceReport, Row, check
from .compression import CompressionResult, Peak, simulate_compression
from .drop import DropResult, plot_pulse, simulate_drop
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
from .foam import FoamLaw
from .geometry import Assembly, Part, build_assembly
from .materials import Material, get_material, library, load_materials
from .export import BomLine, bill_of_materials, export_design
from .optimization import Candidate, StudyResult, optimize, study_result
from .report import write_report
from .orientation import Orientation, OrientationError, all_orientations, parse_orientation
from .standards import Standard, StandardError, builtin_standards, get_standard, load_standard
from .study import Study, StudyError, Variable, load_study
from .temperature import Conditioning, conditioning, material_at
from .stacking import (
    Derating,
    StackingConditions,
    derating,
    design_bct_n,
    mckee_bct_n,
    mckee_full_bct_n,
    required_bct_n,
    stack_load_n,
)

__version__ = "0.1.0"

__all__ = [
    "Assembly",
    "Cell",
    "Cited",
    "CompressionResult",
    "ComplianceReport",
    "Derating",
    "Row",
    "Standard",
    "StandardError",
    "builtin_standards",
    "check",
    "get_standard",
    "load_standard",
    "DropResult",
    "Orientation",
    "OrientationError",
    "all_orientations",
    "parse_orientation",
    "plot_pulse",
    "simulate_drop",
    "Peak",
    "StackingConditions",
    "derating",
    "design_bct_n",
    "mckee_bct_n",
    "mckee_full_bct_n",
    "required_bct_n",
    "simulate_compression",
    "stack_load_n",
    "CorrugatedBox",
    "CustomCell",
    "DataError",
    "Design",
    "DesignError",
    "Dividers",
    "FoamLaw",
    "Insert",
    "Material",
    "PacksimInputError",
    "Part",
    "Problem",
    "Product",
    "RigidBox",
    "RscBlank",
    "build_assembly",
    "cushion",
    "reuse",
    "catalogue",
    "get_cell",
    "get_material",
    "library",
    "load_cells",
    "load_design",
    "load_materials",
    "material_at",
    "optimize",
    "study_result",
    "export_design",
    "bill_of_materials",
    "BomLine",
    "write_report",
    "load_study",
    "Study",
    "StudyError",
    "StudyResult",
    "Candidate",
    "Variable",
    "conditioning",
    "Conditioning",
    "rsc_blank",
    "__version__",
]
