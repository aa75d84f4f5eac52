from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
GEOMETRIES = REPO / "geometries"
REFERENCE_DESIGNS = sorted(GEOMETRIES.glob("*.toml"))


@pytest.fixture(params=REFERENCE_DESIGNS, ids=lambda p: p.stem)
def reference_path(request) -> Path:
    return request.param
