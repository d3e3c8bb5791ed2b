"""When things go wrong (issue 13): a failed page keeps the previous one, interrupts stop
within two seconds and leave nothing behind, names from data never leave their folder,
URLs from data are linked only when http(s), spreadsheet cells are inert, the command
line speaks French, a full disk loses nothing.

Each test works at the level users touch (the ``territoires`` command) on the fixture
warehouse (département 29), with its own TERRITOIRES_HOME.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from territoires import cli, interruptions

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks" / "reports"
DEP = "29"  # the Finistère page: it has a CSV of communes to support


def _home_with(fixture_warehouse: Path, home: Path) -> Path:
    """A TERRITOIRES_HOME of its own (its own reports/) reading the fixture warehouse."""
    target = home / "data" / "processed"
    target.mkdir(parents=True, exist_ok=True)
    os.symlink(fixture_warehouse, target / "territoires.duckdb")
    (home / "territoires.toml").write_text("#\n")
    return home


def _carnets(tmp_path: Path, cellule: str | None = None) -> Path:
    """A copy of the report notebooks; ``cellule`` runs early on the Finistère page only."""
    carnets = tmp_path / "carnets"
    if carnets.exists():
        shutil.rmtree(carnets)
    shutil.copytree(NOTEBOOKS, carnets)
    if cellule:
        nb = nbformat.read(carnets / "tableau_de_bord.ipynb", as_version=4)
        body = "\n".join("    " + line for line in cellule.splitlines())
        nb.cells.insert(4, nbformat.v4.new_code_cell(f'if code == "{DEP}":\n{body}'))
        nbformat.write(nb, carnets / "tableau_de_bord.ipynb")
    return carnets


def _fichiers(reports: Path) -> dict[str, bytes]:
    """Every file of the site except the index and the manifest (rewritten each run)."""
    return {str(p.relative_to(reports)): p.read_bytes() for p in sorted(reports.rglob("*"))
            if p.is_file() and p.name not in ("index.html", "manifest.json")}


def _temporaires(*dossiers: Path) -> list[Path]:
    return [p for d in dossiers for p in d.rglob(".*") if interruptions.MOTIF_TEMPORAIRE.match(p.name)]


# ── 1. a page swaps in only when complete ────────────────────────────────────

@pytest.mark.parametrize("cas, cellule, options, raison", [
    ("carnet en erreur", 'raise RuntimeError("panne simulée")', [], "RuntimeError : panne simulée"),
    ("cellule trop longue", "import time\ntime.sleep(60)", ["--timeout", "4.5"], "délai dépassé"),
])
def test_a_failed_update_keeps_the_previous_page_byte_identical_and_linked(
        tmp_path, fixture_warehouse, monkeypatch, capsys, cas, cellule, options, raison):
    home = _home_with(fixture_warehouse, tmp_path / "home")
    monkeypatch.setenv("TERRITOIRES_HOME", str(home))
    reports = home / "reports"
    scope = f"departement:{DEP}"
    assert cli.main(["report", "--quiet", "--scope", scope, "--jobs", "1", "--carnets", str(_carnets(tmp_path))]) == 0
    avant = _fichiers(reports)
    assert f"departement/{DEP}.html" in avant and f"notebooks/departement/{DEP}.ipynb" in avant
    assert any(k.endswith(".csv") for k in avant)

    t0 = time.monotonic()
    code = cli.main(["report", "--quiet", "--scope", scope, "--jobs", "1", "--force",
                     "--carnets", str(_carnets(tmp_path, cellule)), *options])
    assert code == 1, cas
    assert time.monotonic() - t0 < 40  # the cell over the limit was stopped
    err = capsys.readouterr().err
    assert raison in err and "reste en ligne" in err
    apres = _fichiers(reports)
    audit = f"notebooks/departement/{DEP}.echec.ipynb"
    garde = apres.pop(audit, None)  # the failed notebook, kept for audit beside the good one
    assert garde or cas == "cellule trop longue"  # (papermill saves no notebook after a timeout)
    assert apres == avant  # every previous file byte-identical
    assert not _temporaires(reports)

    manifest = json.loads((reports / "manifest.json").read_text(encoding="utf-8"))
    entree = {p["portee"]: p for p in manifest["pages"]}[scope]
    assert entree["statut"] == "echec" and raison in entree["erreur"]
    assert entree["conservee"]["page"] == f"departement/{DEP}.html"
    assert entree["conservee"]["age_s"] >= 0 and entree["conservee"]["du"]
    assert entree.get("carnet_echec") == (audit if garde else None)
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert f'href="departement/{DEP}.html"' in index
    assert "la mise à jour a échoué" in index and "page du " in index


def test_timeout_takes_a_decimal_number_of_seconds_and_papermill_gets_an_int():
    from territoires.reports.travailleur import secondes_papermill

    assert cli.parser().parse_args(["report", "--timeout", "0.2"]).timeout == 0.2
    assert cli.parser().parse_args(["report", "--timeout", "0,5"]).timeout == 0.5
    assert secondes_papermill(0.2) == 1 and isinstance(secondes_papermill(0.2), int)
    assert secondes_papermill(900) == 900 and secondes_papermill(None) is None
