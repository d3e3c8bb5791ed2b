"""Chargement des registres importés dans ``raw`` : tables, comptes, dernier import retenu."""

from __future__ import annotations

import gzip
import hashlib

import duckdb

from adherents_fabrique import ecrire_csv, ecrire_xlsx, lignes_simples, mauvaise_cle, referentiel_mini, siret
from territoires.members.load import charger_taxonomie, fichiers_registres, load_raw


def _dossier(tmp_path):
    d = tmp_path / "adherents"
    lignes = lignes_simples()
    lignes.append([mauvaise_cle(siret(4)), "Entité fictive à clé fausse", "", "", "", ""])
    # megalis : un ancien import et un nouveau du même nom, plus un fichier d'abonnements
    ecrire_csv(d / "megalis" / "20250101T000000-registre.csv", lignes_simples()[:2])
    ecrire_csv(d / "megalis" / "20261201T080000-registre.csv", lignes)
    ecrire_csv(d / "megalis" / "20261201T080001-abonnements.csv",
               [["SIRET", "Service", "Date"], [siret(1), "Archivage", "2022-01-10"]])
    (d / "megalis" / "imports.json").write_text("[]", encoding="utf-8")
    # recia : un XLSX avec services en colonnes
    ecrire_xlsx(d / "recia" / "20261201T080000-export.xlsx",
                [["SIREN", "Nom", "Type", "ENT"], [siret(20)[:9], "Lycée fictif", "Lycée", "oui"]])
    # ANCT
    (d / "anct").mkdir(parents=True)
    with gzip.open(d / "anct" / "adherents-quotidien.csv.gz", "wt", encoding="utf-8", newline="") as f:
        f.write("operateur_id;organisation_siret;organisation_type;organisation_nom;organisation_code_insee;role\n")
        f.write(f"7;{siret(30)};commune;Commune fictive A;29019;adherent\n")
    (d / "anct" / "operateurs-quotidien.csv").write_text(
        "id;nom;nom_avec_article;url;siret;statut;services;departements\n"
        "7;Mégalis Bretagne;le syndicat;https://exemple.invalid;25351449100047;actif;12;29\n", encoding="utf-8")
    # un dossier au nom invalide est ignoré
    ecrire_csv(d / "..mauvais" / "x.csv", lignes_simples())
    return d


def test_fichiers_registres_dernier_import_et_empreintes(tmp_path):
    d = _dossier(tmp_path)
    fichiers = fichiers_registres(d)
    assert [f.nom for f in fichiers] == [
        "anct/adherents-quotidien.csv.gz", "anct/operateurs-quotidien.csv",
        "megalis/20261201T080001-abonnements.csv", "megalis/20261201T080000-registre.csv",
        "recia/20261201T080000-export.xlsx"]
    for f in fichiers:
        assert f.sha256 == hashlib.sha256(f.chemin.read_bytes()).hexdigest()
    assert fichiers_registres(tmp_path / "absent") == []


def test_load_raw(tmp_path):
    d = _dossier(tmp_path)
    con = duckdb.connect()
    taxonomie = charger_taxonomie(con)
    assert taxonomie["taxonomie-services"] == con.execute("select count(*) from raw.services").fetchone()[0] > 10
    assert taxonomie["types-entites"] == 11
    lignes = load_raw(con, d, referentiel_mini())
    assert lignes["registre-adherents:megalis/20261201T080000-registre.csv"] == 3
    adh = con.execute("select operateur, identifiant, type, statut_rattachement, code_territoire, ligne, sha256 "
                      "from raw.adherents order by operateur, fichier, ligne").fetchall()
    assert [(a[0], a[2]) for a in adh] == [("megalis", "commune"), ("megalis", "commune"), ("megalis", "epci"),
                                           ("megalis", "ccas"), ("recia", "lycee_college")]
    # l'adhérent ANCT est rattaché à megalis par le SIRET de l'opérateur
    assert adh[0][1] == siret(30)
    assert all(len(a[6]) == 64 for a in adh)
    assert con.execute("select typeof(date_adhesion) from raw.adherents limit 1").fetchone()[0] == "DATE"
    abo = con.execute("select operateur, service, date_debut::varchar from raw.abonnements "
                      "order by operateur, service").fetchall()
    assert ("megalis", "archivage", "2022-01-10") in abo and ("recia", "ent", None) in abo
    rej = con.execute("select operateur, fichier, ligne, colonne, raison from raw.adherents_rejets").fetchall()
    assert rej == [("megalis", "megalis/20261201T080000-registre.csv", 5, "SIRET",
                    "clé de contrôle du SIRET invalide")]
    # acceptées + rejetées = lues, fichier par fichier
    assert con.execute("select count(*) from raw.adherents where fichier like 'megalis/%registre%'").fetchone()[0] \
        + len(rej) == 4


def test_load_raw_sans_registre(tmp_path):
    con = duckdb.connect()
    load_raw(con, tmp_path / "rien", referentiel_mini())
    for t in ("adherents", "abonnements", "adherents_rejets"):
        con.execute(f"select * from raw.{t}")
    assert con.execute("select count(*) from raw.adherents").fetchone()[0] == 0


def test_correspondance_invalide_devient_un_rejet_de_fichier(tmp_path):
    d = tmp_path / "adherents"
    ecrire_csv(d / "arnia" / "r.csv", lignes_simples())
    (d / "arnia" / "correspondance.toml").write_text("[colonnes\n", encoding="utf-8")
    con = duckdb.connect()
    load_raw(con, d, referentiel_mini())
    (raison,) = con.execute("select raison from raw.adherents_rejets").fetchone()
    assert "fichier de correspondance illisible" in raison


def test_un_import_anterieur_reste_selectionnable(tmp_path):
    import pytest

    d = _dossier(tmp_path)
    choix = {"megalis/registre.csv": "20250101T000000-registre.csv"}
    noms = [f.nom for f in fichiers_registres(d, choix)]
    assert "megalis/20250101T000000-registre.csv" in noms and "megalis/20261201T080000-registre.csv" not in noms
    con = duckdb.connect()
    load_raw(con, d, referentiel_mini(), selection=choix)
    assert con.execute("select count(*) from raw.adherents where operateur = 'megalis' "
                       "and fichier like '%registre%'").fetchone()[0] == 1
    with pytest.raises(FileNotFoundError, match="import choisi introuvable"):
        fichiers_registres(d, {"megalis/registre.csv": "../recia/x.csv"})


def test_dossiers_ignores_sont_signales(tmp_path):
    d = tmp_path / "adherents"
    ecrire_csv(d / "Mauvais Nom" / "r.csv", lignes_simples())
    ecrire_csv(d / "inconnu" / "r.csv", lignes_simples())
    ecrire_csv(d / "arnia" / "r.csv", lignes_simples())
    from territoires import operateurs

    assert [f.operateur for f in fichiers_registres(d, operateurs_file=operateurs.PAQUET)] == ["arnia"]
    assert [f.operateur for f in fichiers_registres(d)] == ["arnia", "inconnu"]  # motif seul
    con = duckdb.connect()
    load_raw(con, d, referentiel_mini())
    rej = con.execute("select fichier, ligne, raison, niveau from raw.adherents_rejets order by fichier").fetchall()
    assert [(f, l, n) for f, l, _, n in rej] == [("Mauvais Nom/", None, "erreur"), ("inconnu/", None, "erreur")]
    assert "nom de dossier invalide" in rej[0][2] and "absent du fichier des opérateurs" in rej[1][2]
    assert con.execute("select count(*) from raw.adherents").fetchone()[0] == 3


def test_temporaires_et_fichiers_annexes_jamais_lus(tmp_path):
    d = tmp_path / "adherents"
    ecrire_csv(d / "arnia" / "20261201T080000-r.csv", lignes_simples())
    ecrire_csv(d / "arnia" / ".import.tmp-123-r.csv", lignes_simples())   # import interrompu
    (d / "arnia" / "imports.json").write_text("[]", encoding="utf-8")
    (d / "arnia" / "correspondance.toml").write_text("", encoding="utf-8")
    (d / "README.md").write_text("x", encoding="utf-8")
    assert [f.nom for f in fichiers_registres(d)] == ["arnia/20261201T080000-r.csv"]


def test_un_import_ne_fait_revalider_que_son_operateur(tmp_path, monkeypatch):
    """Le cache des registres validés : un nouveau registre chez recia fait revalider recia
    seul ; megalis et l'ANCT sont relus tels quels, et les tables sont celles d'une
    validation complète. Le référentiel n'est lu que s'il faut valider."""
    from territoires.members import load as membres

    d = _dossier(tmp_path)
    cache = tmp_path / "cache"
    valides: list[str] = []
    lectures: list[int] = []
    vraie = membres._valider_operateur
    monkeypatch.setattr(membres, "_valider_operateur",
                        lambda dossier, operateur, *a: (valides.append(operateur), vraie(dossier, operateur, *a)))

    def referentiel():
        lectures.append(1)
        return referentiel_mini()

    def tables(con):
        return {t: con.execute(f"select * from raw.{t} order by all").fetchall()
                for t in ("adherents", "abonnements", "adherents_rejets")}

    con = duckdb.connect()
    premier = load_raw(con, d, referentiel, cache=cache, cle_cache="v1")
    assert sorted(valides) == ["anct", "megalis", "recia"] and lectures == [1]
    assert len(list(cache.iterdir())) == 3

    valides.clear()
    assert load_raw(con, d, referentiel, cache=cache, cle_cache="v1") == premier
    assert valides == [] and lectures == [1]  # nothing validated, the reference not even read

    ecrire_xlsx(d / "recia" / "20261202T080000-export.xlsx",
                [["SIREN", "Nom", "Type", "ENT"], [siret(21)[:9], "Collège fictif", "Collège", "oui"]])
    load_raw(con, d, referentiel, cache=cache, cle_cache="v1")
    assert valides == ["recia"]
    attendu = duckdb.connect()
    load_raw(attendu, d, referentiel_mini())  # no cache: everything validated again
    assert tables(con) == tables(attendu)
    assert len(list(cache.iterdir())) == 3  # recia's previous result is gone

    valides.clear()
    load_raw(con, d, referentiel, cache=cache, cle_cache="v2")  # new code or communes: all again
    assert sorted(valides) == ["anct", "megalis", "recia"]


def test_exports_anct_jamais_sous_un_operateur_sans_page(tmp_path):
    """Issue 22 : un export de la Suite territoriale d'un seul operateur_id importé chez ARNia va
    à ARNia ; un export de plusieurs identifiants sans correspondance est une erreur de fichier
    qui les nomme ; dans l'export national, l'opérateur non suivi est rejeté ligne à ligne."""
    from adherents_fabrique import OPERATEUR_ANCT_FICTIF, OPERATEUR_ANCT_FICTIF_2, export_anct_adherents

    d = _dossier(tmp_path)
    export_anct_adherents(d / "arnia" / "20261201T080000-adherents-quotidien.csv.gz",
                          [(OPERATEUR_ANCT_FICTIF, "29019"), (OPERATEUR_ANCT_FICTIF, "29232")])
    export_anct_adherents(d / "recia" / "20261201T080000-mixte.csv.gz",
                          [(OPERATEUR_ANCT_FICTIF, "29019"), (OPERATEUR_ANCT_FICTIF_2, "29232"),
                           (OPERATEUR_ANCT_FICTIF_2, "29003")])
    with gzip.open(d / "anct" / "adherents-quotidien.csv.gz", "at", encoding="utf-8", newline="") as f:
        f.write(f"{OPERATEUR_ANCT_FICTIF_2};{siret(31)};commune;Commune fictive D;29003;adherent\n")
    con = duckdb.connect()
    charger_taxonomie(con)
    load_raw(con, d, referentiel_mini())
    ops = dict(con.execute("select fichier, list(distinct operateur) from raw.adherents group by 1").fetchall())
    assert ops["arnia/20261201T080000-adherents-quotidien.csv.gz"] == ["arnia"]
    assert ops["anct/adherents-quotidien.csv.gz"] == ["megalis"]
    assert "recia/20261201T080000-mixte.csv.gz" not in ops
    assert con.execute("select count(*) from raw.adherents where operateur like 'anct%'").fetchone()[0] == 0
    erreur, = con.execute("select raison from raw.adherents_rejets where fichier like 'recia/%mixte%' "
                          "and niveau = 'erreur'").fetchone()
    assert f"{OPERATEUR_ANCT_FICTIF_2} (2 lignes), {OPERATEUR_ANCT_FICTIF} (1 ligne)" in erreur
    assert "recia/correspondance.toml" in erreur
    (ligne, raison), = con.execute("select ligne, raison from raw.adherents_rejets where fichier = "
                                   "'anct/adherents-quotidien.csv.gz'").fetchall()
    assert ligne == 3 and "absent d'operateurs.toml" in raison


def test_une_correspondance_modifiee_change_l_empreinte_du_build(tmp_path):
    """Ajouter [operateurs_anct] (ou toute correspondance) dans correspondance.toml fait relire
    les registres au build suivant : l'empreinte de l'étape et celle du build changent."""
    from territoires import operateurs
    from territoires.sources import load_registry
    from territoires.warehouse.build import _fingerprint
    from territoires.members.etapes import etape_adherents

    d = _dossier(tmp_path)
    avant = (etape_adherents(d, (), operateurs.PAQUET).empreinte,
             _fingerprint(load_registry(), [], [], adherents_dir=d))
    (d / "megalis" / "correspondance.toml").write_text('[operateurs_anct]\n"7" = "megalis"\n', encoding="utf-8")
    apres = (etape_adherents(d, (), operateurs.PAQUET).empreinte,
             _fingerprint(load_registry(), [], [], adherents_dir=d))
    assert avant[0] != apres[0] and avant[1] != apres[1]
