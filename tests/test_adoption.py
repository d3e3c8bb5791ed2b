"""Member registers in the warehouse: marts, adoption indicators recomputed in plain Python,
the rebuild after an import, and what a territory without a register shows (nothing)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict

import duckdb
import pytest
from conftest import OPERATEUR_FICTIF


@pytest.fixture(scope="module")
def adh(fixture_adherents):
    home, membres = fixture_adherents
    con = duckdb.connect(str(home / "data" / "processed" / "territoires.duckdb"), read_only=True)
    yield con, membres
    con.close()


def test_every_line_is_accepted_or_rejected_with_its_reason(adh):
    con, membres = adh
    (lues, acceptees, rejetees, erreur), = con.execute(
        "select lues, acceptees, rejetees, erreur_fichier from marts.registres where operateur = ?",
        [OPERATEUR_FICTIF]).fetchall()
    assert lues == acceptees + rejetees and not erreur
    assert acceptees == len(membres) + 5 and rejetees == 3  # + EPCI, CCAS, hospital, two hostile names
    raisons = [r for (r,) in con.execute("select raison from marts.adherents_rejets order by ligne").fetchall()]
    assert len(raisons) == 3 and any("29999" in r or "inconnu" in r for r in raisons)
    assert con.execute("select count(*) from marts.adherents where statut_rattachement = 'non_rattache'"
                       ).fetchone()[0] == 1  # the hospital: kept and counted, never dropped
    assert con.execute("select count(*) from marts.adherents where epci_adherent").fetchone()[0] == 1
    sha = con.execute("select sha256 from marts.sources where id like 'registre:%'").fetchone()[0]
    assert len(sha) == 64


def _attendu(con, membres):
    """Part of member communes and adoption of « actes » per EPCI and for the département,
    recomputed from the register rows and marts.appartenances, in plain Python."""
    app = con.execute("select niveau, code, code_commune from marts.appartenances "
                      "where niveau = 'epci' or dans_perimetre").fetchall()
    par_territoire = defaultdict(list)
    for niveau, code, commune in app:
        par_territoire[(niveau, code)].append(commune)
    out = {}
    for key, communes in par_territoire.items():
        m = [c for c in communes if c in membres]
        actes = [c for c in m if "actes" in membres[c]["services"]]
        out[key] = (len(m), len(communes), len(actes))
    return out


def test_adoption_indicators_match_a_plain_python_recount(adh):
    con, membres = adh
    attendu = _attendu(con, membres)
    rows = con.execute(
        "select niveau, code, indicateur, numerateur, denominateur from marts.indicateurs "
        "where tranche_taille = 'ensemble' and indicateur in ('part_communes_adherentes', 'adoption_actes') "
        "and niveau <> 'commune'").fetchall()
    got = {(n, c, i): (num, den) for n, c, i, num, den in rows}
    assert attendu and len(got) == 2 * len(attendu)
    for (niveau, code), (m, total, actes) in attendu.items():
        assert got[(niveau, code, "part_communes_adherentes")] == (m, total), (niveau, code)
        assert got[(niveau, code, "adoption_actes")] == (actes, m), (niveau, code)
    dep = attendu[("departement", "29")]
    assert dep[0] == len(membres) and dep[1] == 277


def test_coverage_by_entity_type_where_an_eligible_count_exists(adh):
    """Communes and EPCI: members of the territory / entities of the territory (the
    fixture's slice: Finistère), recounted here; types without a reference count (CCAS,
    syndicats, hospital) give their members and no rate, never 0 %."""
    con, membres = adh
    communes = [c for (c,) in con.execute("select code from intermediate.perimetre_communes "
                                           "where dans_perimetre").fetchall()]
    epci = {e for (e,) in con.execute("select distinct code_epci from intermediate.perimetre_communes "
                                       "where dans_perimetre and code_epci is not null").fetchall()}
    rows = {t: (a, c, n, taux) for t, a, c, n, taux in con.execute(
        "select type, adherents, couverts, eligibles, taux from marts.couverture_types where operateur = ?",
        [OPERATEUR_FICTIF]).fetchall()}
    assert rows["commune"][:3] == (len(membres), len(membres), len(communes) == 277 and 277)
    assert rows["commune"][3] == pytest.approx(len(membres) / 277)
    assert rows["epci"] == (1, 1, len(epci), pytest.approx(1 / len(epci)))  # the fictitious EPCI member
    assert rows["departement"] == (0, 0, 1, 0.0) and rows["region"] == (0, 0, 1, 0.0)
    assert rows["ccas"] == (1, None, None, None)  # no reference count: no rate
    assert rows["syndicat"][0] == 2 and rows["syndicat"][1:] == (None, None, None)
    assert rows["etablissement_sante"] == (1, None, None, None)  # kept though unattached


def test_adoption_over_time_is_cumulative(adh):
    con, membres = adh
    rows = con.execute("select annee, nouvelles, cumul from marts.adoption_annuelle "
                       "where niveau = 'departement' and code = '29' order by annee").fetchall()
    par_an = defaultdict(int)
    for m in membres.values():
        par_an[m["annee"]] += 1
    assert [(a, n) for a, n, _ in rows] == sorted(par_an.items())
    assert rows[-1][2] == len(membres)


def test_no_register_no_adoption_figure(con):
    """The plain fixture (Mégalis, no register loaded): no adoption row at all, never 0 %."""
    assert con.execute("select count(*) from marts.adhesion_communes").fetchone()[0] == 0
    assert con.execute("select count(*) from marts.indicateurs where indicateur like 'adoption_%' "
                       "or indicateur = 'part_communes_adherentes'").fetchone()[0] == 0
    assert con.execute("select count(*) from marts.registres").fetchone()[0] == 0


def test_importing_a_register_does_not_recompute_geometry(fixture_home, fixture_adherents, tmp_path):
    """The CLI import then a rebuild: the member tables are new, the geometry is reused."""
    import shutil

    from adherents_fabrique import ecrire_csv, siret

    from territoires import cli
    from territoires.warehouse.build import build

    home = tmp_path / "home"
    shutil.copytree(fixture_home / "data", home / "data")
    shutil.copy(fixture_adherents[0] / "operateurs.toml", home / "operateurs.toml")  # the fictitious operator
    registre = ecrire_csv(tmp_path / "export-crm.csv", [
        ["SIRET", "Raison sociale", "Type de collectivité", "Code INSEE", "Date d'adhésion", "Services souscrits"],
        [siret(1), "Commune adhérente fictive", "Commune", "29019", "15/03/2021", "Actes"],
    ])
    import os

    os.environ["TERRITOIRES_HOME"] = str(home)
    try:
        assert cli.main(["adherents", "import", str(registre), "--operateur", OPERATEUR_FICTIF]) == 0
    finally:
        del os.environ["TERRITOIRES_HOME"]
    result = build(departements=("29",), home=home, quiet=True)
    # the operators changed (a fictitious one): territoires_bruts is rebuilt, but the cleaned
    # communes and their presence facts are reused
    assert {"intermediate.communes_nettes", "marts.presence_numerique", "raw.communes"} <= set(result.reprises)
    again = tmp_path / "encore.csv"
    shutil.copy(registre, again)
    os.environ["TERRITOIRES_HOME"] = str(home)
    try:
        assert cli.main(["adherents", "import", str(again), "--operateur", OPERATEUR_FICTIF]) == 0
    finally:
        del os.environ["TERRITOIRES_HOME"]
    # a second register: rebuilt in a process of its own, as `territoires build` would be
    code = ("import json, sys; from territoires.warehouse.build import build; "
            "r = build(departements=('29',), home=sys.argv[1], quiet=True); "
            "print(json.dumps({'reprises': sorted(r.reprises), 'chemin': str(r.path), "
            "'lourds': [m for m in ('pandas', 'pyarrow', 'numpy') if m in sys.modules]}))")
    sortie = subprocess.run([sys.executable, "-c", code, str(home)], capture_output=True, text=True, check=True)
    result = json.loads(sortie.stdout.splitlines()[-1])
    reprises = set(result["reprises"])
    assert {"intermediate.communes_nettes", "intermediate.territoires_bruts", "marts.territoires"} <= reprises
    # nor the presence half of the indicators, nor the taxonomy: only the membership half
    assert {"marts.indicateurs_presence", "raw.services", "raw.types_entites"} <= reprises
    # nor the official sources' steps, fetched or not (none is, here)
    assert {"raw.anct_operateurs", "raw.cog_regions", "raw.populations", "marts.indicateurs_sources"} <= reprises
    assert not {"marts.indicateurs_adhesion", "marts.indicateurs", "raw.adherents"} & reprises
    # no bound parameter and no pyarrow on that path: DuckDB would import pandas (a third of
    # a second of the 1.5 s budget, benchmarks/run.py)
    assert result["lourds"] == []
    con = duckdb.connect(result["chemin"], read_only=True)
    try:
        assert con.execute("select count(*) from marts.adherents").fetchone()[0] == 1  # same member twice: once
        assert con.execute("select numerateur, denominateur from marts.indicateurs where niveau = 'departement' "
                           "and indicateur = 'part_communes_adherentes' and tranche_taille = 'ensemble'"
                           ).fetchone() == (1, 277)
    finally:
        con.close()


def test_catalogue_cites_loaded_sources_and_lists_each_service(adh):
    con, _ = adh
    ids = {r[0] for r in con.execute("select id from marts.sources").fetchall()}
    cat = con.execute("select indicateur, sources from marts.indicateurs_catalogue").fetchall()
    assert all(set(s) <= ids for _, s in cat)
    services = [s for (s,) in con.execute("select service from marts.services").fetchall()]
    noms = {i for i, _ in cat}
    assert {f"adoption_{s}" for s in services} | {f"adoption_{s}_communes" for s in services} <= noms
    assert {"part_communes_adherentes", "services_par_adherente", "score_presence_adherentes"} <= noms


# ── pages ─────────────────────────────────────────────────────────────────────

@pytest.fixture(scope="module")
def site_adherents(fixture_adherents):
    from territoires.reports import runner

    home, _ = fixture_adherents
    rapport = runner.run("departement:29,operateur:fictif,alliance,adoption:*", jobs=2, quiet=True, home=home)
    assert not rapport.echecs, rapport.echecs
    return home / "reports"


def test_pages_with_a_register_show_members_and_the_adoption_page(site_adherents):
    dep = (site_adherents / "departement" / "29.html").read_text(encoding="utf-8")
    assert "Adhésion aux services de l&#x27;opérateur" in dep or "Adhésion aux services de l'opérateur" in dep
    assert "Communes adhérentes" in dep and "Communes non adhérentes" in dep and "adhérente fictive" in dep
    assert "<script>alert(" not in dep and "&lt;script&gt;alert(" in dep  # a register's name is data, escaped
    assert "registre-fictif.csv, importé le" in dep  # the figure's source and date
    op = (site_adherents / "operateur" / "fictif.html").read_text(encoding="utf-8")
    assert 'href="../adoption/operateur/fictif.html"' in op
    adoption = (site_adherents / "adoption" / "operateur" / "fictif.html").read_text(encoding="utf-8")
    assert "adoption des services" in adoption and "Chronologie" in adoption and "côte à côte" in adoption
    assert "registre non chargé" in adoption  # the other operators of the alliance, without figures
    assert "Adhérents par type d&#x27;entité" in adoption or "Adhérents par type d'entité" in adoption
    assert "pas de dénombrement de référence" in adoption  # the CCAS: a count, no rate
    index = (site_adherents / "index.html").read_text(encoding="utf-8")
    assert 'href="adoption/operateur/fictif.html"' in index and 'href="adoption/alliance.html"' in index


def test_member_csv_neutralises_formulas(site_adherents):
    import base64
    import re

    dep = (site_adherents / "departement" / "29.html").read_text(encoding="utf-8")
    csvs = [p.read_text(encoding="utf-8-sig") for p in (site_adherents / "departement").glob("29-*.csv")]
    membres = [c for c in csvs if "identifiant" in c.splitlines()[0]]
    assert membres, [c.splitlines()[0] for c in csvs]
    assert "'=HYPERLINK(" in membres[0] and "\n=HYPERLINK" not in membres[0]
    assert not re.search(r"(^|;)=HYPERLINK", membres[0], re.M)
    del base64, dep


def test_pages_without_register_say_so(fixture_home, tmp_path):
    """The plain fixture (Mégalis, no register): one plain sentence, no adoption figure."""
    import os

    from territoires.reports import runner

    home = tmp_path / "home"
    (home / "data" / "processed").mkdir(parents=True)
    os.symlink(fixture_home / "data" / "processed" / "territoires.duckdb",
               home / "data" / "processed" / "territoires.duckdb")
    rapport = runner.run("departement:29,adoption:operateur:megalis", jobs=1, quiet=True, home=home)
    assert not rapport.echecs, rapport.echecs
    for page in ("departement/29.html", "adoption/operateur/megalis.html"):
        html = (home / "reports" / page).read_text(encoding="utf-8")
        assert "Aucun registre d&#x27;adhérents n&#x27;est chargé pour Mégalis Bretagne" in html, page
    dep = (home / "reports" / "departement" / "29.html").read_text(encoding="utf-8")
    assert "Communes adhérentes" not in dep and "non adhérente" not in dep
    adoption = (home / "reports" / "adoption" / "operateur" / "megalis.html").read_text(encoding="utf-8")
    assert "registre non chargé" in adoption and '<ul class="chiffres">' not in adoption and "0,0" not in adoption


def test_an_operator_page_never_presents_a_non_member_as_the_operators(site_adherents):
    op = (site_adherents / "operateur" / "fictif.html").read_text(encoding="utf-8")
    assert "territoire d&#x27;action" in op or "territoire d'action" in op
    assert "Communes de l&#x27;opérateur" not in op and "Communes de l'opérateur" not in op
    assert "Adhérentes et non adhérentes, indicateur par indicateur" in op  # side by side on every indicator
    import re

    a, n = (int(x) for x in re.search(r"Adhérentes \((\d+)\).*?Non adhérentes \((\d+)\)", op, re.S).groups())
    assert a + n == 277  # the same communes as the rest of the page
    dep = (site_adherents / "departement" / "29.html").read_text(encoding="utf-8")
    crumbs = re.search(r'<nav class="ariane".*?</nav>', dep, re.S).group(0)
    assert "operateur/" not in crumbs  # an operator is not a parent in the breadcrumb…
    assert 'opérateur : <a href="../operateur/fictif.html">' in dep  # …it is named beside the title


# ── an ANCT-format export imported under an operator (issue 22, point 6) ───────

@pytest.fixture(scope="module")
def site_export_anct(fixture_export_anct):
    from territoires.reports import runner

    home, membres = fixture_export_anct
    rapport = runner.run("operateur:fictif,adoption:operateur:fictif", jobs=2, quiet=True, home=home)
    assert not rapport.echecs, rapport.echecs
    return home, membres


def test_anct_export_imported_with_operateur_gives_that_operator_its_members(site_export_anct):
    home, membres = site_export_anct
    con = duckdb.connect(str(home / "data" / "processed" / "territoires.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*) from marts.adherents where operateur like 'anct:%'").fetchone()[0] == 0
        rows = con.execute("select operateur, code_commune from marts.adherents order by code_commune").fetchall()
        assert rows == [(OPERATEUR_FICTIF, c) for c in sorted(membres)]
        assert con.execute(
            "select numerateur, denominateur from marts.indicateurs where niveau = 'operateur' and code = ? "
            "and indicateur = 'part_communes_adherentes' and tranche_taille = 'ensemble'",
            [OPERATEUR_FICTIF]).fetchone() == (len(membres), 277)
    finally:
        con.close()
    reports = home / "reports"
    op = (reports / "operateur" / "fictif.html").read_text(encoding="utf-8")
    adoption = (reports / "adoption" / "operateur" / "fictif.html").read_text(encoding="utf-8")
    for html in (op, adoption):
        assert f"{len(membres)} sur 277 communes" in html
        assert "adherents-quotidien.csv.gz, importé le" in html
        assert "Aucun registre" not in html and "aucune ligne rattachée" not in html
    assert "Commune fictive n° 0 de l&#x27;export" in op or "Commune fictive n° 0 de l'export" in op


@pytest.fixture(scope="module")
def site_hors_territoire(fixture_registre_hors_territoire):
    from territoires.reports import runner

    home = fixture_registre_hors_territoire
    rapport = runner.run("departement:29,operateur:fictif,adoption:operateur:fictif", jobs=2, quiet=True, home=home)
    assert not rapport.echecs, rapport.echecs
    return home


def test_a_register_that_matches_nothing_is_said_never_zero(site_hors_territoire):
    import re

    """A register loaded for the operator whose lines attach to no commune of its territory:
    no adoption figure at all, and every page says so in one sentence naming the import."""
    home = site_hors_territoire
    con = duckdb.connect(str(home / "data" / "processed" / "territoires.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*) from marts.registres where operateur = ?", [OPERATEUR_FICTIF]
                           ).fetchone()[0] == 1
        assert con.execute("select count(*) from marts.adhesion_communes").fetchone()[0] == 0
        assert con.execute("select count(*) from marts.indicateurs where indicateur like 'adoption_%' "
                           "or indicateur like 'part_communes_%adherent%'").fetchone()[0] == 0
        assert con.execute("select count(*) from marts.couverture_types").fetchone()[0] == 0
    finally:
        con.close()
    for page in ("departement/29.html", "operateur/fictif.html", "adoption/operateur/fictif.html"):
        html = (home / "reports" / page).read_text(encoding="utf-8").replace("&#x27;", "'")
        assert "Registre des adhérents importé le" in html and "pour Opérateur fictif de test (" in html, page
        assert "aucune ligne rattachée à une commune du territoire — voir territoires adherents validate" in html, page
        # no membership figure: neither the cards nor the lists of non-members (the operators'
        # side-by-side table keeps its column, with « – » and the sentence in its row)
        sans_table = html.replace('class="num">Communes adhérentes</th>', "").replace(
            'data-libelle="Communes adhérentes"', "")  # its name before each value, on a phone
        assert "Communes adhérentes" not in sans_table and "non adhérente" not in html, page
        assert "adhèrent" not in html, page  # « À retenir » states no membership rate either
        section = re.search(r'id="adhesion".*?</section>', html, re.S)
        assert section is None or not re.search(r"\d+ sur \d", section.group(0)), page
