"""Finite elements on structured hexahedral grids: elasticity, geometric stiffness, solvers.

Packages are boxes of boxes, so packsim meshes them on a tensor-product grid of axis-aligned
hexahedra. On such a grid every element matrix is a weighted sum of nine precomputed matrices and
the sparsity pattern is known in closed form, which makes assembly a handful of array operations
(see ``shared/reference/perf-notes.md`` for why the generic assembler is not used on the hot path).
"""

from .grid import StructuredGrid
from .hex8 import isotropic_voigt

__all__ = ["StructuredGrid", "isotropic_voigt"]
