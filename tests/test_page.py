"""A notebook executed by papermill outside the repository becomes the same page as
``territoires report`` makes: ``territoires page CARNET.ipynb -o page.html``."""

from __future__ import annotations


import papermill as pm

import territoires
from territoires.cli import main


def test_papermill_from_any_folder_then_territoires_page(fixture_home, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TERRITOIRES_HOME", str(fixture_home))
    monkeypatch.chdir(tmp_path)  # outside the repository and the home
    notebook = territoires.notebooks_dir() / "reports" / "tableau_de_bord.ipynb"
    out = tmp_path / "sortie.ipynb"
    pm.execute_notebook(str(notebook), str(out), parameters={"niveau": "departement", "code": "29"},
                        kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    page = tmp_path / "departement-29.html"
    assert main(["page", str(out), "-o", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert "Finistère" in html and "<script" in html
    assert "tableau.territoire(" not in html  # no code cells
    assert "data:text/csv" in html  # self-contained: the CSV download inline
    assert f"Page : {page}" in capsys.readouterr().out


def test_page_refuses_a_notebook_that_was_not_executed(tmp_path, capsys):
    notebook = territoires.notebooks_dir() / "reports" / "tableau_de_bord.ipynb"
    assert main(["page", str(notebook), "-o", str(tmp_path / "p.html")]) == 1
    assert "carnet non exécuté" in capsys.readouterr().err
    assert not (tmp_path / "p.html").exists()
