"""The example notebook runs clean, top to bottom."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

STUDIES = Path(__file__).resolve().parent.parent / "studies"


def test_the_example_notebook_runs_clean():
    notebook = nbformat.read(STUDIES / "example.ipynb", as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(STUDIES)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert "trials; best" in text and "break-even after" in text
    assert "spec.html" in str([o.get("data", {}) for o in outputs])
