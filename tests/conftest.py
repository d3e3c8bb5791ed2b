"""Shared fixtures: a real warehouse built from one département (Finistère, 29).

Finistère holds two island communes without an EPCI (Île-de-Sein, Ouessant) and EPCI
whose members reach into neighbouring départements, so the edge cases are real.
The fixture is built once per test session, in a temporary TERRITOIRES_HOME.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

FIXTURE_DEPARTEMENT = "29"

#: the longest test files, longest first (summed times of a full run, 2 cores, 2026-12-04:
#: 64, 60, 58, 47, 32, 32, 31, 29 s of 581 s): `make test` gives each worker a whole file
#: (--dist loadfile) in collection order, so these start first and the suite does not end
#: on one worker running a long file while the other waits. A file missing here only runs later.
LONGS_D_ABORD = ("test_browser.py", "test_chantiers.py", "test_sources_build.py", "test_fautes.py",
                 "test_reports.py", "test_warehouse.py", "test_scopes.py", "test_accessibilite.py")


def pytest_configure(config):  # noqa: ARG001 - pytest's hook signature
    """One machine-wide folder of decompressed embedded data (``TERRITOIRES_CACHE``) for this
    run, shared by its workers (set before they start, so they inherit it) and by every home
    the tests create; never the user's own ``~/.cache``."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        os.environ["TERRITOIRES_CACHE"] = tempfile.mkdtemp(prefix="territoires-cache-")


def pytest_unconfigure(config):  # noqa: ARG001 - pytest's hook signature
    if "PYTEST_XDIST_WORKER" not in os.environ:
        shutil.rmtree(os.environ.pop("TERRITOIRES_CACHE", ""), ignore_errors=True)


def pytest_collection_modifyitems(config, items):  # noqa: ARG001 - pytest's hook signature
    rang = {nom: i for i, nom in enumerate(LONGS_D_ABORD)}
    items.sort(key=lambda item: rang.get(item.path.name, len(rang)))  # stable: each file's order kept


@pytest.fixture(scope="session")
def fixture_home(tmp_path_factory) -> Path:
    """A TERRITOIRES_HOME whose warehouse holds département 29 only."""
    from territoires.warehouse.build import build

    home = tmp_path_factory.mktemp("home")
    # two models at once, whatever the machine's cores (test_warehouse compares it with one at a time)
    build(departements=(FIXTURE_DEPARTEMENT,), home=home, quiet=True, voies=2)
    return home


@pytest.fixture(scope="session")
def fixture_warehouse(fixture_home) -> Path:
    return fixture_home / "data" / "processed" / "territoires.duckdb"


@pytest.fixture(scope="session")
def site_home(tmp_path_factory, fixture_warehouse) -> Path:
    """A home of its own (its own reports/) reading the fixture warehouse."""
    home = tmp_path_factory.mktemp("site")
    (home / "data" / "processed").mkdir(parents=True)
    os.symlink(fixture_warehouse, home / "data" / "processed" / "territoires.duckdb")
    return home


@pytest.fixture(scope="session")
def batch(site_home):
    """The whole fixture site (26 pages), two workers, made once for the session: the
    page tests (reports, browser, accessibility, honest figures) read it, never change it
    (test_reports re-runs it last, leaving every page as it was)."""
    from territoires.reports import runner

    rapport = runner.run("all", jobs=2, quiet=True, home=site_home,
                         notebooks_dir=Path(__file__).resolve().parents[1] / "notebooks" / "reports")
    assert not rapport.echecs, rapport.echecs
    return site_home / "reports", rapport


@pytest.fixture()
def serveur():
    """A loopback HTTP server (tests/serveur_local.py): routes, scripted faults, counts."""
    from serveur_local import ServeurLocal

    with ServeurLocal() as s:
        yield s


@pytest.fixture()
def in_home(fixture_home, monkeypatch) -> Path:
    """Run a test with TERRITOIRES_HOME pointing at the fixture home."""
    monkeypatch.setenv("TERRITOIRES_HOME", str(fixture_home))
    monkeypatch.chdir(fixture_home)
    return fixture_home


@pytest.fixture()
def con(fixture_warehouse):
    import territoires

    c = territoires.connect(fixture_warehouse)
    yield c
    c.close()


# ── a home with a member register (a fictitious operator) ─────────────────────

#: the fixture's operator: plainly fictitious, so no figure is ever shown for a real one
OPERATEUR_FICTIF = "fictif"
SERVICES_FICTIFS = {"Actes": "actes", "Parapheur électronique": "parapheur", "Salle des marchés": "marches_publics",
                    "Archivage électronique": "archivage"}
ENTETE_FICTIF = ["SIRET", "SIREN", "Raison sociale", "Type de collectivité", "Code INSEE", "Date d'adhésion",
                 "Services souscrits"]


def registre_fictif(communes: list[str], epci: str) -> tuple[list[list[str]], dict[str, dict]]:
    """A register of fictitious members attached to the fixture's communes: every third
    commune is a member (« Commune adhérente fictive n° … »), its services and date by rule;
    plus an EPCI, a CCAS, an unattached hospital, and three bad lines (wrong checksum,
    unknown INSEE code, duplicate). Returns the rows and, per member commune, what the
    tests expect (computed here in plain Python)."""
    from adherents_fabrique import mauvaise_cle, siret

    rows = [ENTETE_FICTIF]
    membres: dict[str, dict] = {}
    noms = list(SERVICES_FICTIFS)
    for k, code in enumerate(communes):
        if k % 3:
            continue
        i = k // 3
        services = [noms[j] for j in range(len(noms)) if (i + j) % (j + 2) == 0]
        annee = 2014 + i % 9
        rows.append([siret(k + 1), "", f"Commune adhérente fictive n° {k}", "Commune", code, f"15/03/{annee}",
                     "|".join(services)])
        membres[code] = {"services": sorted(SERVICES_FICTIFS[s] for s in services), "annee": annee}
    rows.append(["", epci, "Intercommunalité fictive", "Communauté de communes", "", "2019-01-01", "Actes"])
    rows.append([siret(6001), "", "CCAS fictif", "CCAS", communes[1], "2020-06-30", "Parapheur électronique"])
    rows.append([siret(6002), "", "Hôpital fictif sans commune", "Centre hospitalier", "", "2021-02-01", ""])
    rows.append([mauvaise_cle(siret(6003)), "", "Clé fausse fictive", "Commune", communes[2], "2020-01-01", ""])
    rows.append([siret(6004), "", "Code inconnu fictif", "Commune", "29999", "2020-01-01", ""])
    # hostile names, kept verbatim as data: escaped in HTML, neutralised in spreadsheets
    rows.append([siret(6005), "", "<script>alert('adhérent')</script> fictif", "Syndicat", communes[4], "2020-01-01", ""])
    rows.append([siret(6006), "", '=HYPERLINK("http://exemple.invalid","fictif")', "Syndicat", communes[5],
                 "2020-01-01", ""])
    rows.append(list(rows[1]))  # a duplicate of the first member
    return rows, membres


@pytest.fixture(scope="session")
def fixture_adherents(tmp_path_factory, fixture_warehouse):
    """A home whose operator for Finistère is fictitious and has a register loaded:
    ``(home, membres)``, ``membres`` = what the register says of each member commune."""
    import duckdb
    from adherents_fabrique import ecrire_csv

    from territoires import operateurs
    from territoires.warehouse.build import build

    home = tmp_path_factory.mktemp("adherents")
    texte = operateurs.PAQUET.read_text(encoding="utf-8")
    texte = texte.replace('code = "megalis"', f'code = "{OPERATEUR_FICTIF}"').replace(
        'nom = "Mégalis Bretagne"', 'nom = "Opérateur fictif de test"')
    (home / "operateurs.toml").write_text(texte, encoding="utf-8")
    con = duckdb.connect(str(fixture_warehouse), read_only=True)
    try:
        communes = [c for (c,) in con.execute(
            "select code from marts.territoires where niveau = 'commune' order by code").fetchall()]
        epci = con.execute("select code from marts.territoires where niveau = 'epci' order by code").fetchone()[0]
    finally:
        con.close()
    rows, membres = registre_fictif(communes, epci)
    ecrire_csv(home / "data" / "raw" / "adherents" / OPERATEUR_FICTIF / "registre-fictif.csv", rows)
    build(departements=(FIXTURE_DEPARTEMENT,), home=home, quiet=True)
    return home, membres


# ── Suite territoriale exports imported under an operator (issue 22) ─────────

def _home_importe(tmp_path_factory, fixture_home, fixture_adherents, nom: str, export_lignes, operateur: str):
    """A copy of the fixture home with the fictitious operator, an ANCT-format ``adherents``
    export imported through the CLI (``territoires adherents import … --operateur``), built."""
    import shutil

    from adherents_fabrique import export_anct_adherents

    from territoires import cli
    from territoires.warehouse.build import build

    home = tmp_path_factory.mktemp(nom)
    shutil.copytree(fixture_home / "data", home / "data")
    shutil.copy(fixture_adherents[0] / "operateurs.toml", home / "operateurs.toml")
    export = export_anct_adherents(tmp_path_factory.mktemp(f"{nom}-export") / "adherents-quotidien.csv.gz",
                                   export_lignes)
    ancien = os.environ.get("TERRITOIRES_HOME")
    os.environ["TERRITOIRES_HOME"] = str(home)
    try:
        assert cli.main(["adherents", "import", str(export), "--operateur", operateur]) == 0
    finally:
        if ancien is None:
            del os.environ["TERRITOIRES_HOME"]
        else:
            os.environ["TERRITOIRES_HOME"] = ancien
    build(departements=(FIXTURE_DEPARTEMENT,), home=home, quiet=True)
    return home


@pytest.fixture(scope="session")
def fixture_export_anct(tmp_path_factory, fixture_home, fixture_adherents):
    """An ANCT ``adherents`` export of one operator id that no SIRET relates (one commune of
    Finistère in four), imported with ``--operateur fictif``: ``(home, codes des membres)``."""
    import duckdb
    from adherents_fabrique import OPERATEUR_ANCT_FICTIF

    con = duckdb.connect(str(fixture_home / "data" / "processed" / "territoires.duckdb"), read_only=True)
    try:
        communes = [c for (c,) in con.execute(
            "select code from marts.territoires where niveau = 'commune' order by code").fetchall()]
    finally:
        con.close()
    membres = communes[::4]
    home = _home_importe(tmp_path_factory, fixture_home, fixture_adherents, "export-anct",
                         [(OPERATEUR_ANCT_FICTIF, c) for c in membres], OPERATEUR_FICTIF)
    return home, membres


@pytest.fixture(scope="session")
def fixture_registre_hors_territoire(tmp_path_factory, fixture_home, fixture_adherents):
    """A register loaded for the fictitious operator of Finistère that attaches no line to a
    commune of its territory (communes of Côte-d'Or, another operator's): the home, built."""
    from adherents_fabrique import OPERATEUR_ANCT_FICTIF

    return _home_importe(tmp_path_factory, fixture_home, fixture_adherents, "hors-territoire",
                         [(OPERATEUR_ANCT_FICTIF, f"21{k:03d}") for k in range(1, 41)], OPERATEUR_FICTIF)
