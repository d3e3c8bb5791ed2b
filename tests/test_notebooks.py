"""Every committed notebook runs from its own folder, as JupyterLab runs it.

JupyterLab starts a kernel in the notebook's folder and sets no ``TERRITOIRES_HOME``:
the home must be found by walking up to the project's marker. Each notebook is copied
into a project home (``territoires.toml`` marker, the fixture warehouse, ``notebooks/``
laid out as in the repository), then executed with its own folder as working directory
and ``TERRITOIRES_HOME`` unset.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import papermill as pm
import pytest

REPO = Path(__file__).parents[1]
NOTEBOOKS = sorted(p.relative_to(REPO / "notebooks") for p in (REPO / "notebooks").rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)

#: parameters fitting the fixture warehouse (département 29 only); notebooks not listed
#: run with their defaults
PARAMETRES: dict[str, dict] = {
    "exploration/01-decouvrir-l-entrepot.ipynb": {"departement": "29"},
    "exploration/03-comparer-des-territoires.ipynb": {"region": "53"},
    "reports/tableau_de_bord.ipynb": {"niveau": "departement", "code": "29"},
}


@pytest.fixture(scope="module")
def projet(fixture_warehouse, tmp_path_factory) -> Path:
    """A project home as ``territoires init`` makes it, holding the fixture warehouse."""
    home = tmp_path_factory.mktemp("projet")
    (home / "territoires.toml").write_text("# projet territoires (tests)\n", encoding="utf-8")
    (home / "data" / "processed").mkdir(parents=True)
    (home / "data" / "raw").mkdir(parents=True)
    (home / "data" / "processed" / "territoires.duckdb").symlink_to(fixture_warehouse)
    shutil.copytree(REPO / "notebooks", home / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return home


def test_every_committed_notebook_is_listed():
    assert {"exploration/01-decouvrir-l-entrepot.ipynb", "reports/tableau_de_bord.ipynb",
            "reports/alliance.ipynb"} <= {p.as_posix() for p in NOTEBOOKS}


def test_committed_notebooks_have_no_outputs():
    import nbformat

    for rel in NOTEBOOKS:
        nb = nbformat.read(REPO / "notebooks" / rel, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{rel}: sorties enregistrées"


@pytest.mark.parametrize("rel", NOTEBOOKS, ids=[p.as_posix() for p in NOTEBOOKS])
def test_notebook_runs_from_its_own_folder_without_territoires_home(rel, projet, tmp_path, monkeypatch):
    monkeypatch.delenv("TERRITOIRES_HOME", raising=False)
    notebook = projet / "notebooks" / rel
    monkeypatch.chdir(notebook.parent)  # the kernel inherits it too, as in JupyterLab
    from territoires.config import find_home

    assert find_home()[0] == projet.resolve()  # found by walking up to the marker
    out = tmp_path / notebook.name
    params = PARAMETRES.get(rel.as_posix(), {})
    nb = pm.execute_notebook(str(notebook), str(out), parameters=params, kernel_name="python3",
                             progress_bar=False, cwd=str(notebook.parent))
    assert nb.metadata.papermill.parameters == params
    assert "TERRITOIRES_HOME" not in os.environ
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("output_type") == "error"]
    assert not errors
    if rel.name.startswith("03-"):  # built on the public API: a map and the exports
        assert any("application/vnd.plotly.v1+json" in o.get("data", {})
                   for c in nb.cells if c.cell_type == "code" for o in c.outputs)
        exports = projet / "data" / "processed" / "exports"
        assert (exports / "comparaison-epci-53-part_site.gpkg").is_file()
        import geopandas as gpd

        assert gpd.read_parquet(exports / "comparaison-epci-53-part_site.parquet").crs.to_epsg() == 2154
    # nothing written beside the notebook: the home was found above it, not created here
    assert not (notebook.parent / "data").exists()
    assert not (notebook.parent / "reports").exists()


def test_members_notebook_goes_from_register_to_maps(fixture_adherents, tmp_path, monkeypatch):
    """The second exploration notebook on a home with a (fictitious) register: tables,
    indicators, the geopandas map and the dashboards' map, from its own folder."""
    home, _ = fixture_adherents
    projet = tmp_path / "projet"
    (projet / "data" / "processed").mkdir(parents=True)
    (projet / "territoires.toml").write_text("", encoding="utf-8")
    (projet / "data" / "processed" / "territoires.duckdb").symlink_to(home / "data" / "processed" / "territoires.duckdb")
    dossier = projet / "notebooks" / "exploration"
    dossier.mkdir(parents=True)
    shutil.copy(REPO / "notebooks" / "exploration" / "02-adherents-et-adoption.ipynb", dossier)
    monkeypatch.delenv("TERRITOIRES_HOME", raising=False)
    monkeypatch.chdir(dossier)
    nb = pm.execute_notebook(str(dossier / "02-adherents-et-adoption.ipynb"), str(tmp_path / "out.ipynb"),
                             parameters={"operateur": "fictif"}, kernel_name="python3", progress_bar=False,
                             cwd=str(dossier))
    sorties = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in sorties if o.get("output_type") == "error"]
    texte = "".join(o.get("text", "") for o in sorties)
    assert "registre-fictif.csv" in texte and "non_rattache" in texte and "ligne(s) refusée(s)" in texte
    assert any("image/png" in o.get("data", {}) for o in sorties)  # the geopandas map
    assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in sorties)  # the dashboards' map
