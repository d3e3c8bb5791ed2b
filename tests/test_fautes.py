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


# ── 2. interrupts: within two seconds, nothing left behind ───────────────────

def _env_sans_home() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "TERRITOIRES_HOME"}


def _home_copie(fixture_warehouse: Path, home: Path) -> Path:
    (home / "data" / "processed").mkdir(parents=True)
    (home / "territoires.toml").write_text("#\n")
    shutil.copy(fixture_warehouse, home / "data" / "processed" / "territoires.duckdb")
    return home


def _attendre(condition, delai: float, proc: subprocess.Popen) -> None:
    fin = time.monotonic() + delai
    while not condition():
        assert proc.poll() is None, f"the command ended before it could be stopped: {proc.communicate()}"
        assert time.monotonic() < fin, "the command never reached the point where it is stopped"
        time.sleep(0.02)


def _vivants(pids: list[int]) -> list[int]:
    return [p for p in pids if interruptions.pid_vivant(p) and not interruptions._zombie(p)]


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_a_build_within_two_seconds_leaving_no_temporary(fixture_warehouse, tmp_path, signum, status):
    home = _home_copie(fixture_warehouse, tmp_path / "home")
    wh = home / "data" / "processed" / "territoires.duckdb"
    avant = wh.read_bytes()
    proc = subprocess.Popen([sys.executable, "-m", "territoires.cli", "-q", "build", "--departements", "29", "--force"],
                            cwd=home, env=_env_sans_home(), stderr=subprocess.PIPE, text=True)
    # well into the build: the temporary warehouse exists and DuckDB is at work
    _attendre(lambda: any(p.stat().st_size > 1 << 20 for p in wh.parent.glob(".territoires.duckdb.tmp-*")), 60, proc)
    enfants = interruptions.descendants(proc.pid)
    t0 = time.monotonic()
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    duree = time.monotonic() - t0
    assert proc.returncode == status, err
    assert duree < 2.0, f"stopped after {duree:.1f} s"
    assert err.strip().splitlines()[-1].endswith("l'entrepôt précédent est intact.")
    assert wh.read_bytes() == avant
    assert not _temporaires(wh.parent)
    assert not _vivants(enfants)


def test_a_stale_temporary_of_a_dead_process_is_removed_by_the_next_build(fixture_warehouse, tmp_path):
    home = _home_copie(fixture_warehouse, tmp_path / "home")
    mort = subprocess.Popen(["true"])
    mort.wait()  # a process that no longer exists
    processed = home / "data" / "processed"
    stale = [processed / f".territoires.duckdb.tmp-{mort.pid}", processed / f".territoires.duckdb.tmp-{mort.pid}.wal",
             home / "reports" / "region" / f".53.html.tmp-{mort.pid}-0a1b2c3d"]
    vivant = processed / f".territoires.duckdb.tmp-{os.getpid()}"  # this process is alive: kept
    for p in [*stale, vivant]:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x" * 1000)
    res = subprocess.run([sys.executable, "-m", "territoires.cli", "build", "--departements", "29"],
                         cwd=home, env=_env_sans_home(), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert not any(p.exists() for p in stale)
    assert vivant.exists()
    assert f"Nettoyage : 3 fichiers temporaires laissés par un processus arrêté (pid {mort.pid}) supprimés" in res.stderr


@pytest.mark.parametrize("signum, status, nom", [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "SIGINT")])
def test_a_signal_stops_a_report_within_two_seconds_leaving_no_process_and_no_temporary(
        fixture_warehouse, tmp_path, signum, status, nom):
    home = _home_with(fixture_warehouse, tmp_path / "home")
    reports = home / "reports"
    proc = subprocess.Popen([sys.executable, "-m", "territoires.cli", "-q", "report", "--scope", "all", "--jobs", "2"],
                            cwd=home, env=_env_sans_home(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def noyaux_au_travail() -> bool:  # both workers have a kernel, a page is under way
        kernels = [p for p in interruptions.descendants(proc.pid)
                   if b"ipykernel" in Path(f"/proc/{p}/cmdline").read_bytes()] if Path("/proc").is_dir() else []
        return len(kernels) >= 2 and bool(_temporaires(reports))

    _attendre(noyaux_au_travail, 120, proc)
    enfants = interruptions.descendants(proc.pid)
    t0 = time.monotonic()
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    duree = time.monotonic() - t0
    assert proc.returncode == status, err
    assert duree < 2.0, f"stopped after {duree:.1f} s"
    assert "les pages déjà écrites sont complètes" in err.strip().splitlines()[-1]
    time.sleep(0.2)  # orphans are reaped by init
    assert not _vivants(enfants), [Path(f"/proc/{p}/cmdline").read_bytes() for p in _vivants(enfants)]
    assert not _temporaires(reports)
    manifest = json.loads((reports / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["derniere_execution"]["interrompue"] == nom
    assert {p["statut"] for p in manifest["pages"]} <= {"ok", "echec", "interrompue"}
    assert any(p["statut"] == "interrompue" for p in manifest["pages"])
