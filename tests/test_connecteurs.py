"""Each connector parses its fixture, in the source's real format, into typed raw tables.

Where each format was checked is written in tests/fixtures/sources/README.md and in
the docstring of each connector module (territoires.sources.connecteurs.*); details
still uncertain are named there too. The fixtures are written by
tests/fixtures/sources/fabriquer.py.
"""

from __future__ import annotations

import csv
import gzip
import importlib
import re
import zipfile
from pathlib import Path

import duckdb
import pytest

from territoires.sources import SourceError, load_registry
from territoires.sources.connecteurs import charger
from territoires.sources.connecteurs import decp as decp_mod

F = Path(__file__).parent / "fixtures" / "sources"


@pytest.fixture()
def con():
    c = duckdb.connect()
    yield c
    c.close()


def types(con, table: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f"describe {table}").fetchall()}


def test_every_registered_connector_exists():
    reg = load_registry()
    for src in reg.values():
        if src.connecteur:
            module, _, fonction = src.connecteur.partition(":")
            assert src.table and src.table.startswith("raw."), src.id
            assert callable(getattr(importlib.import_module(f"territoires.sources.connecteurs.{module}"), fonction)), src.id
    # the two register files are read by territoires.members, not by a connector
    assert reg["anct-st-adherents"].connecteur is None and reg["anct-st-souscriptions"].connecteur is None


def test_anct_operateurs(con):
    assert charger(con, "anct-st-operateurs", F / "anct" / "operateurs-quotidien.csv") == 3
    t = types(con, "raw.anct_operateurs")
    assert t["siret"] == "VARCHAR" and t["services"] == "VARCHAR[]" and t["departements"] == "VARCHAR[]"
    megalis = con.execute("select nom, siret, services, departements from raw.anct_operateurs "
                          "where nom like 'Mégalis%'").fetchone()
    assert megalis == ("Mégalis Bretagne", "25350001100015", ["7", "12", "3"], ["22", "29", "35", "56"])
    # a quoted value holding ';', empty cells as NULL or empty lists, Corsican codes as text
    autre = con.execute("select nom, url, siret, services, departements from raw.anct_operateurs "
                        "where nom like 'Syndicat%'").fetchone()
    assert autre == ("Syndicat fictif; numérique « Corse »", None, None, [], ["2A", "2B"])


def test_anct_services(con):
    assert charger(con, "anct-st-services", F / "anct" / "services-quotidien.csv") == 3
    assert types(con, "raw.anct_services")["date_lancement"] == "DATE"
    rows = dict(con.execute("select id, date_lancement from raw.anct_services").fetchall())
    assert str(rows["7"]) == "2024-06-03" and rows["3"] is None
    # a description with a line break and a ';' inside quotes stays one value
    desc = con.execute("select description from raw.anct_services where id = '3'").fetchone()[0]
    assert desc == "Messagerie collaborative; agenda\net contacts"


def test_anct_services_older_export_without_new_columns(con, tmp_path):
    old = tmp_path / "services-quotidien.csv"
    old.write_bytes(b"id;nom;url;maturite;date_lancement;logo_url\r\n7;Visio;https://v.example.fr/;stable;;\r\n")
    assert charger(con, "anct-st-services", old) == 1
    assert con.execute("select type, nom_instance, description from raw.anct_services").fetchone() == (None, None, None)


def test_anct_deploiement(con):
    assert charger(con, "anct-st-deploiement", F / "anct" / "deploiement-quotidien.csv.gz") == 6
    t = types(con, "raw.anct_deploiement")
    assert (t["population"], t["active"], t["insee"], t["service_id"]) == ("BIGINT", "BOOLEAN", "VARCHAR", "VARCHAR")
    assert con.execute("select count(*) filter (where active), count(*) filter (where not active), "
                       "count(*) filter (where insee is null) from raw.anct_deploiement").fetchone() == (4, 2, 1)
    assert con.execute("select insee from raw.anct_deploiement where insee like '2A%'").fetchone() == ("2A004",)


def test_anct_register_fixtures_are_in_the_real_format():
    """adherents / souscriptions: read by territoires.members; here only their format."""
    for nom, entete in [("adherents-quotidien.csv.gz", "operateur_id;organisation_siret;organisation_type;"
                         "organisation_nom;organisation_code_insee;role"),
                        ("souscriptions-quotidien.csv.gz", "operateur_id;service_id;organisation_siret;"
                         "organisation_type;organisation_nom;organisation_code_insee;date_creation")]:
        texte = gzip.decompress((F / "anct" / nom).read_bytes()).decode("utf-8")
        assert texte.split("\r\n")[0] == entete
        assert texte.endswith("\r\n")


def test_missing_column_is_named(con, tmp_path):
    bad = tmp_path / "operateurs-quotidien.csv"
    bad.write_text("id;nom\r\nx;y\r\n", encoding="utf-8")
    with pytest.raises(SourceError, match="colonne\\(s\\) manquante\\(s\\) : siret, services, departements"):
        charger(con, "anct-st-operateurs", bad)


def test_odf_observatory_any_separator_gives_the_same_rows(con, tmp_path):
    """The observatory's separator is not documented: the fixture (``,``) and the same rows
    with ``;`` load the same table; rows without a 9-digit SIREN are left out."""
    n = charger(con, "odf-observatoire", F / "odf" / "indicateurs-odater-organisations.csv")
    virgule = con.execute("select * from raw.odf_organisations order by siren").fetchall()
    assert n == 4 and [r[0] for r in virgule] == ["200068112", "212900013", "212900229", "222900013"]
    assert types(con, "raw.odf_organisations")["jeux_plateforme"] == "BIGINT"
    with open(F / "odf" / "indicateurs-odater-organisations.csv", encoding="utf-8", newline="") as f:
        lignes = list(csv.reader(f))
    pv = tmp_path / "odater.csv"
    with open(pv, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter=";").writerows(lignes)
    charger(con, "odf-observatoire", pv)
    assert con.execute("select * from raw.odf_organisations order by siren").fetchall() == virgule


def test_odf_observatory_missing_column_is_named(con, tmp_path):
    bad = tmp_path / "odater.csv"
    bad.write_text("siren,nom,ptf\r\n212900013,x,y\r\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"colonne\(s\) manquante\(s\) : url-ptf, nb-ptf"):
        charger(con, "odf-observatoire", bad)


def test_decp_filtered_by_region_by_default(con):
    n = charger(con, "decp-consolide", F / "decp" / "decp.parquet")
    assert n == con.execute("select count(*) from read_parquet(?) where acheteur_region_code in ('11','24','27','53')",
                            [str(F / "decp" / "decp.parquet")]).fetchone()[0]
    total = con.execute("select count(*) from read_parquet(?)", [str(F / "decp" / "decp.parquet")]).fetchone()[0]
    assert n < total, "Marseille's buyer (region 93) is left out"
    t = types(con, "raw.decp_marches")
    assert (t["acheteur_siret"], t["date_notification"]) == ("VARCHAR", "DATE")
    assert (t["donnees_actuelles"], t["marche_innovant"], t["titulaire_distance"]) == ("BOOLEAN", "BOOLEAN", "INTEGER")
    assert (t["considerations_sociales"], t["titulaire_categorie"]) == ("VARCHAR", "VARCHAR")
    assert "montant" not in t, "only the columns the models read are loaded"
    plateformes = dict(con.execute("select source_dataset, count(distinct acheteur_siret) from raw.decp_marches "
                                   "group by all").fetchall())
    assert plateformes == {"megalis_bretagne": 2, "arnia": 1, "atexo_maximilien": 1,
                           "decp_minef_marches-publics.info": 1}
    # decp-processing's encodings kept as they are: the list of considerations joined by ", "
    sociales = {v for (v,) in con.execute("select distinct considerations_sociales from raw.decp_marches").fetchall()}
    assert {"Clause sociale, Critère social", "Sans objet", None} <= sociales


def test_decp_pushdown_reads_only_the_columns_and_rows_asked(con):
    sql = decp_mod.requete_decp(con, F / "decp" / "decp.parquet", departements=["29"], sirets=["212900013"])
    plan = con.execute("explain " + sql).fetchall()[0][1]
    scan = re.sub(r"[│\s]+", "", plan[plan.index("READ_PARQUET"):])  # the plan box wraps long lines
    assert "Filters:" in scan and "acheteur_departement_code='29'" in scan, "filter pushed down to the scan"
    for colonne in ("titulaire_typeIdentifiant", "titulaire_id", "titulaire_nom", "montant", "objet", "codeCPV",
                    "modification_id"):
        assert colonne not in scan, f"{colonne}: columns the models do not read are not read"
    projection = scan[scan.index("Projections:"):scan.index("Filters:")]
    for colonne in decp_mod.COLONNES:
        assert colonne in projection, f"{colonne}: read from the file"
    con.execute(f"create table t as {sql}")
    assert con.execute("select distinct acheteur_siret from t").fetchall() == [("21290001300013",)]
    with pytest.raises(SourceError, match="invalide"):
        decp_mod.requete_decp(con, F / "decp" / "decp.parquet", sirets=["1' or 1=1 --"])


def test_decp_buyer_profile_dataset(con):
    assert charger(con, "decp-profil-megalis", F / "decp" / "profil-megalis.json") == 2
    assert charger(con, "decp-profil-megalis", F / "decp" / "profil-megalis.json") == 2, "reloading replaces"
    assert con.execute("select count(*), count(taille), min(format) from raw.decp_profils").fetchone() == (2, 1, "json")
    assert types(con, "raw.decp_profils")["modifie_le"] == "TIMESTAMP WITH TIME ZONE"


BANATIC_REEL = F / "banatic" / "perimetre-epci-a-fp.csv"


def _banatic_lignes() -> list[list[str]]:
    """The real slice's data rows, decoded in plain Python (cp1252, as its source says)."""
    texte = BANATIC_REEL.read_bytes().decode("cp1252")
    assert texte.endswith("\r\n") and "\n" not in texte.replace("\r\n", "")
    return [ligne.split(";") for ligne in texte.split("\r\n")[1:-1]]


def test_banatic_real_slice_loads_whole(con):
    """The real file's bytes (Windows-1252, CRLF): every row loaded, names as written."""
    lignes = _banatic_lignes()
    assert len(lignes) == 392
    assert charger(con, "banatic-perimetre-epci", BANATIC_REEL) == len(lignes)
    crozon = con.execute("select epci_siren, epci_nom, commune_insee, commune_siren, commune_population_municipale, "
                         "epci_population_municipale, millesime_population from raw.banatic_perimetre "
                         "where commune_insee = '29042'").fetchone()
    assert crozon == ("200066868", "CC Presqu'île de Crozon-Aulne maritime", "29042", "212900427", 7410, 22603,
                      "2025")
    noms = dict(con.execute("select commune_insee, commune_nom from raw.banatic_perimetre").fetchall())
    assert noms["02201"] == "Cœuvres-et-Valsery" and noms["02565"] == noms["51410"] == "Œuilly"
    assert noms["22237"] == "Val-d’Arguenon" and noms["59006"] == "L’Orée de Mormal"
    assert con.execute("select epci_nom from raw.banatic_perimetre where commune_insee = '42043'").fetchone() == (
        "Saint-Étienne Métropole",)
    # every row as Python reads the same bytes: no name altered, no row lost or added
    assert sorted(con.execute("select commune_insee, commune_nom, epci_siren, epci_nom "
                              "from raw.banatic_perimetre").fetchall()) == sorted(
        (r[9], r[11], r[1], r[2]) for r in lignes)
    textes = "".join(n + e for n, e in con.execute("select commune_nom, epci_nom from raw.banatic_perimetre").fetchall())
    assert not [c for c in textes if "\x80" <= c <= "\x9f" or c == "\ufffd"], "no C1 control character, no U+FFFD"
    assert {c for c in textes if c in "’Œœ"} == set("’Œœ")


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_banatic_utf8_variant_gives_the_same_rows(con, tmp_path, bom):
    charger(con, "banatic-perimetre-epci", BANATIC_REEL)
    attendu = sorted(con.execute("select * from raw.banatic_perimetre").fetchall())
    utf8 = tmp_path / "perimetre.csv"
    utf8.write_bytes(bom + BANATIC_REEL.read_bytes().decode("cp1252").encode("utf-8"))
    assert charger(con, "banatic-perimetre-epci", utf8) == 392
    assert sorted(con.execute("select * from raw.banatic_perimetre").fetchall()) == attendu


def test_unreadable_encoding_names_offset_and_never_says_download_again(con, tmp_path):
    """A byte cp1252 does not define: refused with the file, the offset and the reason,
    through the build's loader too, without the « download again » advice a new download
    cannot follow."""
    from serveur_local import ServeurLocal
    from territoires.sources.connecteurs import charger_telechargees
    from territoires.sources.telechargement import fetch

    octets = BANATIC_REEL.read_bytes()
    i = octets.index("Cœuvres".encode("cp1252")) + 1
    casse = octets[:i] + b"\x81" + octets[i + 1:]
    raw = tmp_path / "raw"
    with ServeurLocal() as s:
        fetch("banatic-perimetre-epci", raw, url=s.servir("/b", casse), progress=False)
    with pytest.raises(SourceError) as e:
        charger_telechargees(con, raw)
    msg = str(e.value)
    assert f"encodage illisible à l'octet {i} — octet 0x81, qui n'existe pas en Windows-1252" in msg
    assert "perimetre-epci-fp.csv" in msg and "signalez le fichier à son producteur" in msg
    assert "téléchargez-le à nouveau" not in msg and "télécharger à nouveau donnerait les mêmes octets" in msg


@pytest.mark.parametrize("source, fichier", [("anct-dpnt-json", "dpnt-quotidien.json.gz"),
                                             ("anct-dpnt-csv", "dpnt-quotidien.csv.gz")])
def test_dpnt_json_and_csv_load_the_same_table(con, source, fichier):
    assert charger(con, source, F / "dpnt" / fichier) == 4
    t = types(con, "raw.dpnt_organisations")
    assert (t["population"], t["rpnt"], t["code_insee"], t["siren"]) == ("BIGINT", "VARCHAR[]", "VARCHAR", "VARCHAR")
    rows = con.execute("select code_insee, siren, rpnt, epci_libelle from raw.dpnt_organisations order by siret").fetchall()
    assert rows[0] == ("29001", "212900013", ["1.1", "1.2", "2.1", "2.2"], "Métropole Fictive de Haute-Bretagne")
    assert rows[-1][0] is None and rows[-1][2] == [], "an EPCI: no INSEE code, no criteria"


def test_dpnt_json_and_csv_agree(con):
    charger(con, "anct-dpnt-json", F / "dpnt" / "dpnt-quotidien.json.gz")
    con.execute("create table j as from raw.dpnt_organisations")
    charger(con, "anct-dpnt-csv", F / "dpnt" / "dpnt-quotidien.csv.gz")
    assert con.execute("select count(*) from (from j except from raw.dpnt_organisations)").fetchone()[0] == 0


def _csv_reel(chemin: Path, sep: str = ",") -> list[dict]:
    """A real slice read in plain Python (UTF-8, CRLF)."""
    import csv
    import io

    octets = chemin.read_bytes()
    assert octets.endswith(b"\r\n") and b"\n" not in octets.replace(b"\r\n", b"")
    return list(csv.DictReader(io.StringIO(octets.decode("utf-8"), newline=""), delimiter=sep))


def test_cog_2025(con):
    """Real slices of INSEE's files (see the fixtures' README): every row loaded, as text."""
    for source, fichier in [("communes", "v_commune_2025.csv"), ("departements", "v_departement_2025.csv"),
                            ("regions", "v_region_2025.csv")]:
        assert charger(con, f"insee-cog-2025-{source}", F / "insee" / fichier) == len(_csv_reel(F / "insee" / fichier))
    assert set(types(con, "raw.cog_communes").values()) == {"VARCHAR"}
    assert con.execute("select com, reg, dep from raw.cog_communes where libelle = 'Ajaccio'").fetchone() == (
        "2A004", "94", "2A")
    assert con.execute("select distinct comparent from raw.cog_communes where typecom = 'ARM'").fetchall() == [
        ("75056",)]
    assert con.execute("select dep from raw.cog_departements where reg = '06'").fetchone() == ("976",)
    assert con.execute("select libelle from raw.cog_communes where com = '29076' and typecom = 'COM'").fetchone() == (
        "Milizac-Guipronvel",)
    assert con.execute("select count(*) from raw.cog_communes where typecom = 'COM' and dep = '29'").fetchone() == (
        sum(r["TYPECOM"] == "COM" and r["DEP"] == "29" for r in _csv_reel(F / "insee" / "v_commune_2025.csv")),)


def test_cog_change_file_carries_former_codes_forward(con):
    """Real events (INSEE's change file, sliced): merges of Finistère and a two-step merge
    in Maine-et-Loire."""
    fichier = F / "insee" / "v_mvt_commune_2025.csv"
    assert charger(con, "insee-cog-2025-mouvements", fichier) == len(_csv_reel(fichier))
    assert types(con, "raw.cog_mouvements")["date_eff"] == "DATE"
    passage = dict(con.execute("select code_ancien, code_actuel from raw.cog_passage").fetchall())
    assert passage["49051"] == "49080", "Brissarthe: into 49065 on 2016-12-15, 49065 into 49080 on 2019-01-01"
    assert passage["49065"] == "49080" and passage["49335"] == "49080"
    assert passage["29149"] == "29076", "Milizac into Milizac-Guipronvel (2017)"
    assert passage["29219"] == "29199" and passage["29283"] == "29046" and passage["14513"] == "50649"
    assert "29076" not in passage and "29042" not in passage and "49080" not in passage, \
        "communes that continue keep their code"


def test_populations_zip(con):
    """donnees_communes.csv is a real slice (populations de référence 2023); the other
    members are hand-made (see the fixtures' README)."""
    with zipfile.ZipFile(F / "populations" / "ensemble.zip") as zf:
        reel = zf.read("donnees_communes.csv")
    lignes = [ligne.split(";") for ligne in reel.decode("utf-8").split("\r\n")[1:-1]]
    pmun = {r[6]: int(r[8]) for r in lignes}
    assert charger(con, "insee-populations-2022", F / "populations" / "ensemble.zip") == len(lignes) + 2 + 3
    t = types(con, "raw.populations")
    assert (t["code_insee"], t["pmun"]) == ("VARCHAR", "BIGINT")
    pop = {c: (p, n, r) for c, p, n, r in con.execute(
        "select code_insee, pmun, niveau, reconstituee from raw.populations").fetchall()}
    for commune, prefixe, n in [("75056", "751", 20), ("69123", "6938", 9), ("13055", "132", 16)]:
        arr = [v for c, v in pmun.items() if c.startswith(prefixe)]
        assert len(arr) == n and pop[commune] == (sum(arr), "commune", True), f"{commune} rebuilt from its arrondissements"
    assert pop["75101"] == (15114, "arrondissement", False)
    assert pop["2A004"][0] == 76320 and pop["97101"][0] == 51055 and pop["29019"][0] == 142346
    assert all(pop[c][0] == v for c, v in pmun.items())
    assert pop["97501"][1] == "collectivite_outre_mer"
    assert not [c for c in pop if c.startswith("976")], "Mayotte is absent from the archive: nothing invented"


def test_populations_older_layout_dep_codcom_and_mayotte_apart(con, tmp_path):
    """Populations légales 2021 layout, as read by github.com/etalab/decoupage-administratif
    build/population.js: DEP + CODCOM (code = DEP[:2] + CODCOM), COM the name, spaces in
    numbers, Mayotte in its own file."""
    archive = tmp_path / "ensemble.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("donnees_communes.csv", "REG;Région;DEP;CODARR;CODCAN;CODCOM;COM;PMUN;PCAP;PTOT\r\n"
                    "53;Bretagne;29;2;08;001;Argol;1 021;28;1 049\r\n01;Guadeloupe;971;1;01;101;Les Abymes;53 514;1;54 586\r\n")
        zf.writestr("donnees_communes_mayotte.csv", "REG;Région;DEP;CODARR;CODCAN;CODCOM;COM;PMUN;PCAP;PTOT\r\n"
                    "06;Mayotte;976;1;01;601;Acoua;5 192;0;5 192\r\n")
    assert charger(con, "insee-populations-2022", archive) == 3
    assert dict(con.execute("select code_insee, pmun from raw.populations").fetchall()) == {
        "29001": 1021, "97101": 53514, "97601": 5192}


@pytest.mark.parametrize("niveau, n", [("communes", 3), ("epci", 1), ("departements", 2), ("regions", 1)])
def test_contours(con, niveau, n):
    assert charger(con, f"etalab-contours-2025-{niveau}-1000m", F / "contours" / f"{niveau}-1000m.geojson.gz") == n
    t = types(con, f"raw.contours_{niveau}")
    assert t["code"] == "VARCHAR" and t["geom"].startswith("GEOMETRY")
    if niveau == "communes":
        rows = {c: (p, e) for c, p, e in con.execute("select code, plm, epci from raw.contours_communes").fetchall()}
        assert rows["75056"] == (True, "200054781") and rows["29001"] == (False, "242900314")
        assert con.execute("select epci from raw.contours_communes where code = '29083'").fetchone() == (None,)
    if niveau == "departements":
        assert con.execute("select region from raw.contours_departements where code = '2A'").fetchone() == ("94",)


def test_banatic_groupements_xlsx(con, tmp_path):
    """BANATIC's XLSX export (hand-made in the real layout, fixtures README): read by name,
    SIRENs stored as numbers written back on 9 digits, dates as DATE; a sheet without the
    member columns is refused naming them."""
    assert charger(con, "banatic-groupements", F / "banatic" / "banatic-export-france.xlsx") == 6
    t = types(con, "raw.banatic_groupements")
    assert (t["groupement_siren"], t["membre_siren"], t["date_effet"]) == ("VARCHAR", "VARCHAR", "DATE")
    crozon = con.execute("select groupement_siren, nature_juridique, membre_siren, categorie_membre, departement, "
                         "date_effet::varchar from raw.banatic_groupements where membre_nom = 'Crozon'").fetchone()
    assert crozon == ("200099990", "CC", "212900427", "commune", "29 - Finistère", "2026-01-01")
    import xlsxwriter

    bad = tmp_path / "banatic.xlsx"
    wb = xlsxwriter.Workbook(str(bad))
    wb.add_worksheet().write_row(0, 0, ["N° SIREN", "Nom du groupement", "Nature juridique"])
    wb.close()
    with pytest.raises(SourceError, match="colonne\\(s\\) manquante\\(s\\) : Siren membre, Nom membre"):
        charger(con, "banatic-groupements", bad)


def test_annuaire(con):
    assert charger(con, "dila-annuaire", F / "annuaire" / "api-lannuaire-administration.json") == 3
    argol = con.execute("select types_service_local, codes_insee, courriels, sites, telephones, siret "
                        "from raw.annuaire where nom = 'Mairie - Argol'").fetchone()
    assert argol == (["mairie"], ["29001"], ["mairie@argol.fr", "secretariat@argol.fr"], ["https://www.argol.fr"],
                     ["02 98 27 75 30"], "21290001300013")
    sein = con.execute("select codes_insee, courriels, sites, telephones from raw.annuaire "
                       "where nom like '%Sein'").fetchone()
    assert sein == (["29083"], [], [], [])


def test_annuaire_bad_json_string_is_null_not_an_error(con, tmp_path):
    f = tmp_path / "a.json"
    f.write_text('[{"id": "x", "nom": "Mairie - X", "pivot": "{pas du json", "adresse_courriel": "a@x.fr ; ;b@x.fr",'
                 ' "site_internet": null}]', encoding="utf-8")
    assert charger(con, "dila-annuaire", f) == 1
    assert con.execute("select codes_insee, courriels, types_service_local, codes_mairie from raw.annuaire"
                       ).fetchone() == ([], ["a@x.fr", "b@x.fr"], [], [])


def test_annuaire_real_town_hall_records_every_pivot_entry(con):
    """Ten records captured verbatim from the export (fixtures README): Saint-Barthélemy's
    council, `cg` then `mairie`, is a town hall of 97701; a mairie déléguée serving two
    communes lists both; fields the capture did not select load as NULL."""
    assert charger(con, "dila-annuaire", F / "annuaire" / "mairies-export-dila.json") == 10
    sb = con.execute("select types_service_local, codes_mairie, code_insee_commune, sites, courriels "
                     "from raw.annuaire where nom = 'Conseil territorial de Saint-Barthélemy'").fetchone()
    assert sb == (["cg", "mairie"], ["97701"], "97701",
                  ["https://www.comstbarth.fr", "https://www.comstbarth.fr/Demande-de-rendez-vous"], [])
    assert con.execute("select codes_mairie from raw.annuaire where nom = 'Mairie déléguée - Coudreceau'"
                       ).fetchone() == (["28112", "28236"],)
    assert con.execute("select count(*) from raw.annuaire where date_modification is null").fetchone() == (10,), \
        "the capture did not select date_modification"


def test_annuaire_registry_url_requests_only_what_is_read():
    """The export is asked for the town-hall records and the connector's fields only."""
    from urllib.parse import parse_qs, urlsplit

    from territoires.sources.connecteurs.annuaire import CHAMPS

    q = parse_qs(urlsplit(load_registry()["dila-annuaire"].url).query)
    assert q["select"] == [",".join(CHAMPS)]
    assert q["where"] == ['pivot like "mairie"']


def test_every_connector_names_its_table():
    """The registry declares each source's raw table once; every ``[[table]]`` entry is the
    table of some source, and a registry entry naming a connector without a table is refused."""
    from territoires.sources import load_tables

    reg = load_registry()
    assert all(s.table for s in reg.values() if s.connecteur)
    assert set(load_tables()) <= {s.table for s in reg.values() if s.table}


def test_a_connector_without_its_table_is_refused(tmp_path):
    from territoires.sources import REGISTRY_PATH

    texte = REGISTRY_PATH.read_text(encoding="utf-8").replace('table = "raw.banatic_perimetre"\n', "", 1)
    (tmp_path / "registry.toml").write_text(texte, encoding="utf-8")
    with pytest.raises(SourceError, match="banatic-perimetre-epci.*champ « table » manquant"):
        load_registry(tmp_path / "registry.toml")


def test_fetched_sources_are_loaded_with_their_provenance(con, tmp_path):
    """What a build calls: every fetched source loaded, one provenance row each."""
    from serveur_local import ServeurLocal
    from territoires.sources.connecteurs import charger_telechargees
    from territoires.sources.telechargement import fetch

    raw = tmp_path / "raw"
    with ServeurLocal() as s:
        for sid, fichier in [("anct-st-deploiement", "anct/deploiement-quotidien.csv.gz"),
                             ("anct-dpnt-json", "dpnt/dpnt-quotidien.json.gz"),
                             ("anct-dpnt-csv", "dpnt/dpnt-quotidien.csv.gz")]:
            fetch(sid, raw, url=s.servir(f"/{sid}", (F / fichier).read_bytes()), progress=False)
    lignes = {r["id"]: r for r in charger_telechargees(con, raw)}
    assert set(lignes) == {"anct-st-deploiement", "anct-dpnt-json", "anct-dpnt-csv"}
    assert lignes["anct-st-deploiement"]["lignes"] == 6 and lignes["anct-st-deploiement"]["empreinte"] == "variable"
    assert len(lignes["anct-dpnt-json"]["sha256"]) == 64
    # DPNT fetched twice (JSON and CSV): the first in registry order fills the table, the other is reported
    assert lignes["anct-dpnt-json"]["table"] == "raw.dpnt_organisations" and lignes["anct-dpnt-csv"]["table"] is None
    assert compter_lignes(con, "raw.dpnt_organisations") == 4


def compter_lignes(con, table: str) -> int:
    return con.execute(f"select count(*) from {table}").fetchone()[0]


#: a fixture for each connector of a ``.gz`` source
FIXTURE_GZ = {
    "anct:charger_deploiement": "anct/deploiement-quotidien.csv.gz",
    "dpnt:charger_json": "dpnt/dpnt-quotidien.json.gz",
    "dpnt:charger_csv": "dpnt/dpnt-quotidien.csv.gz",
    "contours:charger_communes": "contours/communes-1000m.geojson.gz",
    "contours:charger_epci": "contours/epci-1000m.geojson.gz",
    "contours:charger_departements": "contours/departements-1000m.geojson.gz",
    "contours:charger_regions": "contours/regions-1000m.geojson.gz",
}
SOURCES_GZ = sorted((s.id, s.connecteur) for s in load_registry().values() if s.connecteur and s.file.endswith(".gz"))


def test_every_gz_source_has_a_fixture():
    assert {c for _, c in SOURCES_GZ} == set(FIXTURE_GZ)


@pytest.mark.parametrize("source, connecteur", SOURCES_GZ)
def test_every_gz_source_accepts_a_file_served_decompressed(con, tmp_path, source, connecteur):
    """A server (or a proxy) that decompresses on the fly leaves plain bytes behind a
    ``.gz`` name: read as they are, the same rows as the compressed file."""
    from serveur_local import ServeurLocal
    from territoires.sources.connecteurs import charger_telechargees
    from territoires.sources.telechargement import fetch

    reg = load_registry()
    gz = (F / FIXTURE_GZ[connecteur]).read_bytes()
    assert gz[:2] == b"\x1f\x8b"
    table = reg[source].table
    n = charger(con, source, F / FIXTURE_GZ[connecteur])
    attendu = sorted(map(str, con.execute(f"select * from {table}").fetchall()))
    con.execute(f"drop table {table}")
    raw = tmp_path / "raw"
    with ServeurLocal() as s:
        fetch(source, raw, url=s.servir("/f", gzip.decompress(gz)), progress=False, accepter_nouvelle_empreinte=True)
    (ligne,) = charger_telechargees(con, raw)
    assert ligne["chemin"].endswith(".gz") and ligne["lignes"] == n > 0
    assert sorted(map(str, con.execute(f"select * from {table}").fetchall())) == attendu


def test_json_documents_above_duckdbs_default_object_size(con, tmp_path):
    """A data.gouv.fr dataset description larger than DuckDB's 16 MiB default object size
    (a long description, thousands of resources) loads whole."""
    import json

    from territoires.sources.connecteurs import TAILLE_OBJET_JSON

    ds = json.loads((F / "decp" / "profil-megalis.json").read_text(encoding="utf-8"))
    n = 40_000
    ds["resources"] = [{**ds["resources"][0], "id": f"r{i}", "title": f"decp-{i}.json",
                        "description": "Données essentielles de la commande publique " * 8} for i in range(n)]
    f = tmp_path / "profil.json"
    f.write_text(json.dumps(ds, ensure_ascii=False), encoding="utf-8")
    assert 16 * 1024 * 1024 < f.stat().st_size < TAILLE_OBJET_JSON
    with pytest.raises(duckdb.Error, match="maximum_object_size"):
        con.execute(f"select id from read_json('{f}', format='auto')").fetchall()
    assert charger(con, "decp-profil-megalis", f) == n


@pytest.mark.parametrize("compresse", [True, False])
def test_contours_real_regions_slice(con, tmp_path, compresse):
    """Three whole features of a real Etalab « regions-1000m.geojson » (copy committed in
    sebprunier/sanson, see the fixtures' README), its head and tail kept: served gzip as
    the publisher does, or already decompressed."""
    reel = (F / "contours" / "regions-1000m-extrait.geojson").read_bytes()
    f = tmp_path / "regions-1000m.geojson.gz"
    f.write_bytes(gzip.compress(reel, mtime=0) if compresse else reel)
    assert charger(con, "etalab-contours-2025-regions-1000m", f) == 3
    rows = con.execute("select code, nom, ST_GeometryType(geom), ST_NumGeometries(geom), ST_IsValid(geom) "
                       "from raw.contours_regions order by code").fetchall()
    assert rows == [("02", "Martinique", "POLYGON", 1, True), ("06", "Mayotte", "MULTIPOLYGON", 2, True),
                    ("989", "Île de Clipperton", "POLYGON", 1, True)]
