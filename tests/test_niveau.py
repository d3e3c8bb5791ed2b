"""Page data by level (:mod:`territoires.reports.niveau`): each page's slice of its level's
figures is what the page computed alone, row for row, and a changed warehouse is read anew."""

from __future__ import annotations

import pytest

from territoires import niveaux
from territoires.indicators import api
from territoires.reports import niveau, page


def _codes(con, n: str) -> list[str]:
    return [c for (c,) in con.execute("select code from marts.territoires where niveau = ? order by code", [n]).fetchall()]


@pytest.mark.parametrize("tranches", [False, True])
def test_each_territory_s_slice_is_its_own_query(con, tranches):
    vus = 0
    for n in niveaux.TABLEAU:
        for code in _codes(con, n):
            seul = api.indicateurs(n, code, con=con, tranches=tranches).to_dicts()
            assert niveau.taux(con, n, code, tranches) == seul, (n, code)
            vus += bool(seul)
    assert vus >= 10  # the fixture's département, region, alliance, EPCI: real rows compared


def test_the_wide_table_and_the_catalogue_are_the_api_s(con):
    for n in ("departement", "epci"):
        assert niveau.large(con, n) == {r["code"]: r for r in api.indicateurs(n, con=con, forme="large").to_dicts()}
    assert niveau.catalogue(con) == api.catalogue(con).to_dicts()
    assert niveau.tranches_taille(con) == api.tranches_taille(con).to_dicts()


def test_an_unknown_territory_is_refused_as_the_api_refuses_it(con):
    with pytest.raises(ValueError, match="territoire inconnu"):
        niveau.taux(con, "departement", "2A")


def test_a_page_changing_what_it_got_changes_nothing_for_the_next(con):
    page.nouvelle_page()
    page.catalogue(con)[0]["libelle"] = "changé"
    page.tranches_taille(con)[0]["libelle"] = "changée"
    page.nouvelle_page()
    assert page.catalogue(con)[0]["libelle"] == api.catalogue(con).to_dicts()[0]["libelle"]
    assert page.tranches_taille(con)[0]["libelle"] == api.tranches_taille(con).to_dicts()[0]["libelle"]


def test_another_warehouse_is_read_anew(con, fixture_warehouse, tmp_path):
    import shutil

    import duckdb

    avant = niveau.taux(con, "departement", "29")
    copie = tmp_path / "autre.duckdb"
    shutil.copy(fixture_warehouse, copie)
    with duckdb.connect(str(copie)) as autre:
        autre.execute("create table main.i as select * replace (0.5 as taux) from marts.indicateurs")
        autre.execute("drop view marts.indicateurs")  # the mart is a view: a table of other rates in its place
        autre.execute("create table marts.indicateurs as from main.i")
        apres = niveau.taux(autre, "departement", "29")
        assert apres and {r["taux"] for r in apres} == {0.5}
        assert {r["taux"] for r in avant} != {0.5}
    assert niveau.taux(con, "departement", "29") == avant  # back to the first: read from it again


def test_the_pages_below_are_what_each_page_asked_for_alone(con):
    """:func:`donnees.enfants`, sliced from its levels' lists, against the per-page queries it replaced."""
    from territoires.reports import donnees

    def q(sql: str, params: list) -> list[tuple[str, str]]:
        return con.execute("select code, nom from marts.territoires where " + sql, params).fetchall()

    vus = 0
    for n in niveaux.TABLEAU:
        for code in _codes(con, n):
            t = donnees.territoire(n, code, con.execute("pragma database_list").fetchone()[2])
            deps, regions = t.departements, t.regions or [t.code_region]
            seul = {
                "alliance": [("operateur", q("niveau = 'operateur' order by nom", [])),
                             ("region", q("niveau = 'region' order by nom", []))],
                "operateur": [("region", q("niveau = 'region' and list_contains(?, code) order by nom", [regions]))],
                "departement": [("epci", q("niveau = 'epci' and list_contains(departements, ?) order by nom", [code]))],
            }.get(n, [])
            if n in ("operateur", "region"):
                seul += [("departement", q("niveau = 'departement' and list_contains(?, code) order by code", [deps])),
                         ("epci", q("niveau = 'epci' and list_has_any(departements, ?) order by nom", [deps]))]
            assert donnees.enfants(t) == seul, (n, code)
            assert donnees.noms(t.con, "departement", deps) == q(
                "niveau = 'departement' and list_contains(?, code) order by code", [deps])
            vus += sum(len(v) for _, v in seul)
    assert vus >= 20


def test_each_territory_s_communes_are_its_own_query(con):
    """Without a run's file (a notebook alone, a run of one page): each territory's own query."""
    vus = 0
    for n in niveaux.TABLEAU:
        for code in _codes(con, n):
            seul = api.presence(niveau=n, code=code, con=con).select(niveau.COLONNES_COMMUNES)
            assert niveau.communes(con, n, code).equals(seul), (n, code)
            accompagner = api.communes_a_accompagner(n, code, con=con).select(
                niveau.COLONNES_COMMUNES_A_ACCOMPAGNER)
            assert niveau.communes(con, n, code, a_accompagner=True).equals(accompagner), (n, code)
            vus += seul.height + accompagner.height
    assert vus >= 500  # Finistère's communes, in each of their territories


# ── the run's page data on disk (reports/niveau_disque.py) ─────────────────────

@pytest.fixture
def sur_disque(con, tmp_path, monkeypatch):
    """Run caches under ``tmp_path`` (never beside the shared fixture warehouse), and this
    connection's level data forgotten before and after."""
    from territoires.reports import niveau_disque

    monkeypatch.setattr(niveau_disque, "racine", lambda entrepot: tmp_path / "pages")
    niveau._ENTREPOT["con"] = None
    yield niveau_disque
    niveau._ENTREPOT["con"] = None


def _empreinte(con) -> str:
    return con.execute("select fingerprint from meta.build").fetchone()[0]


def test_the_run_s_files_are_what_each_level_computes_and_kernels_read_them(con, sur_disque):
    from territoires import geo

    voulus = niveau.genres_du_run(["region", "departement", "epci"])
    assert ("geometrie", "epci") in voulus and ("large", "departement") in voulus and ("taux", "alliance") in voulus
    d = sur_disque.dossier(con.execute("pragma database_list").fetchone()[2], _empreinte(con))
    sur_disque.ouvrir(d, voulus)
    niveau.preparer(con, d, voulus)
    assert not (d / sur_disque.EN_COURS).exists()  # kernels no longer wait
    for genre, n in voulus:
        assert sur_disque.lire(d, genre, n).equals(niveau.GENRES[genre](con, n)), (genre, n)
    # a kernel reads the files, not the warehouse: a planted value shows through
    faux = niveau.GENRES["taux"](con, "departement").with_columns(taux=0.25)
    sur_disque.ecrire(d, "taux", "departement", faux)
    assert {r["taux"] for r in niveau.taux(con, "departement", "29")} == {0.25}
    # the map's communes and their faint neighbours: each territory's slice is its own query
    vus = voisins = 0
    for n in ("region", "departement", "epci"):
        for code in _codes(con, n):
            seul = geo.communes(con, n, code)
            assert niveau.geometrie_communes(con, n, code) == seul, (n, code)
            # a page's communes: its slice of its level's file, as the page alone queries them
            assert niveau.communes(con, n, code).equals(
                api.presence(niveau=n, code=code, con=con).select(niveau.COLONNES_COMMUNES)), (n, code)
            assert niveau.communes(con, n, code, a_accompagner=True).equals(
                api.communes_a_accompagner(n, code, con=con).select(niveau.COLONNES_COMMUNES_A_ACCOMPAGNER)), (n, code)
            vus += len(seul)
            if n in niveau.AVEC_CONTEXTE and seul.bbox:
                autour = geo.contexte(con, n, code, vue=geo.cadre(seul.bbox))
                assert niveau.contexte(con, n, code, seul) == autour, (n, code)
                voisins += len(autour)
    assert vus >= 500 and voisins >= 20


def test_a_cache_of_another_build_is_never_read(con, sur_disque):
    chemin = con.execute("pragma database_list").fetchone()[2]
    faux = niveau.GENRES["taux"](con, "departement").with_columns(taux=0.25)
    autre = sur_disque.dossier(chemin, "une autre construction")
    autre.mkdir(parents=True)
    sur_disque.ecrire(autre, "taux", "departement", faux)
    assert autre != sur_disque.dossier(chemin, _empreinte(con))
    assert {r["taux"] for r in niveau.taux(con, "departement", "29")} != {0.25}
    assert niveau.taux(con, "departement", "29") == api.indicateurs("departement", "29", con=con).to_dicts()


def test_a_kernel_waits_only_for_a_file_a_live_run_announced(con, sur_disque):
    import subprocess
    import threading

    d = sur_disque.dossier(con.execute("pragma database_list").fetchone()[2], _empreinte(con))
    sur_disque.ouvrir(d, [("taux", "region")])
    assert sur_disque.lire(d, "taux", "epci") is None  # not announced: computed at once
    df = niveau.GENRES["taux"](con, "region")
    threading.Timer(0.2, sur_disque.ecrire, (d, "taux", "region", df)).start()
    assert sur_disque.lire(d, "taux", "region").equals(df)  # announced: waited for
    (d / "taux-region.parquet").unlink()
    fini = subprocess.Popen(["true"])
    fini.wait()
    (d / sur_disque.EN_COURS).write_text('{"pid": %d, "fichiers": ["taux-region.parquet"]}' % fini.pid)
    assert sur_disque.lire(d, "taux", "region") is None  # its writer is gone: no wait


def test_the_runner_writes_what_its_pages_read_then_removes_it(con, fixture_warehouse, sur_disque):
    from territoires.reports import runner, site

    pages = [p for p in site.pages(con, "all") if p.notebook == "tableau_de_bord.ipynb"]
    donnees = runner._DonneesNiveaux(fixture_warehouse, _empreinte(con), pages)
    assert donnees.dossier == sur_disque.dossier(con.execute("pragma database_list").fetchone()[2], _empreinte(con))
    donnees.lancer()
    donnees.fil.join()
    assert not (donnees.dossier / sur_disque.EN_COURS).exists()
    for genre, n in donnees.voulus:  # a kernel would read each of them
        assert sur_disque.lire(donnees.dossier, genre, n).equals(niveau.GENRES[genre](con, n)), (genre, n)
    assert {n for _, n in donnees.voulus} >= {p.niveau for p in pages}
    donnees.finir()
    assert not donnees.dossier.exists()


def test_a_kernel_that_waited_in_vain_does_not_wait_again_for_the_same_run(con, sur_disque, monkeypatch):
    """A writer alive but stuck (or far behind): the first file is waited for ATTENTE_S, the
    others of that run not at all (the page computes them), so a page never waits ATTENTE_S
    once per file."""
    import os
    import time

    monkeypatch.setattr(sur_disque, "ATTENTE_S", 0.3)
    monkeypatch.setattr(sur_disque, "_ABANDONNES", set())
    d = sur_disque.dossier(con.execute("pragma database_list").fetchone()[2], _empreinte(con))
    sur_disque.ouvrir(d, [("taux", "region"), ("taux", "departement"), ("large", "region")])
    (d / sur_disque.EN_COURS).write_text(  # this process is the writer: alive, never writing
        '{"pid": %d, "fichiers": ["taux-region.parquet", "taux-departement.parquet", "large-region.parquet"]}'
        % os.getpid())
    t = time.monotonic()
    assert sur_disque.lire(d, "taux", "region") is None
    assert time.monotonic() - t >= 0.3  # waited, as long as allowed
    t = time.monotonic()
    assert sur_disque.lire(d, "taux", "departement") is None
    assert sur_disque.lire(d, "large", "region") is None
    assert time.monotonic() - t < 0.2  # not again
    # a file written later is still read
    df = niveau.GENRES["taux"](con, "region")
    sur_disque.ecrire(d, "taux", "region", df)
    assert sur_disque.lire(d, "taux", "region").equals(df)
