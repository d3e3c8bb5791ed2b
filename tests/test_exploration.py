"""The analysts' starting notebook runs end to end on the fixture warehouse."""

from __future__ import annotations

from pathlib import Path

import papermill as pm

NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "exploration" / "01-decouvrir-l-entrepot.ipynb"


def test_parameters_are_declared():
    params = pm.inspect_notebook(str(NOTEBOOK))
    assert set(params) == {"entrepot", "departement"}
    assert params["departement"]["inferred_type_name"] == "str"


def test_exploration_notebook_runs(fixture_warehouse, tmp_path):
    out = tmp_path / "out.ipynb"
    nb = pm.execute_notebook(
        str(NOTEBOOK), str(out),
        parameters={"entrepot": str(fixture_warehouse), "departement": "29"},
        kernel_name="python3", progress_bar=False, cwd=str(tmp_path),
    )
    assert nb.metadata.papermill.parameters["departement"] == "29"
    texts = [o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert any("277 communes" in t for t in texts)
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, "the commune map was drawn"
