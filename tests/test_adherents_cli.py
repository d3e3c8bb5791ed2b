"""``territoires adherents validate | import | services`` : messages, comptes, codes de sortie,
imports jamais écrasés."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import pytest

from adherents_fabrique import ecrire_csv, lignes_simples, mauvaise_cle, siret
from territoires.cli import main


@pytest.fixture()
def home(tmp_path, monkeypatch):
    """Un projet vide (sans entrepôt) comme TERRITOIRES_HOME."""
    h = tmp_path / "projet"
    (h / "data" / "raw").mkdir(parents=True)
    (h / "territoires.toml").write_text("", encoding="utf-8")
    monkeypatch.setenv("TERRITOIRES_HOME", str(h))
    monkeypatch.chdir(h)
    return h


@pytest.fixture()
def home_avec_entrepot(home, fixture_warehouse):
    (home / "data" / "processed").mkdir(parents=True)
    (home / "data" / "processed" / "territoires.duckdb").symlink_to(fixture_warehouse)
    return home


def _registre(tmp_path, nom="registre.csv", lignes=None):
    return ecrire_csv(tmp_path / "exports" / nom, lignes or lignes_simples())


def test_validate_ok_sans_entrepot(home, tmp_path, capsys):
    chemin = _registre(tmp_path)
    assert main(["adherents", "validate", str(chemin), "--operateur", "megalis"]) == 0
    out = capsys.readouterr().out
    assert "entrepôt introuvable" in out and "forme seulement" in out
    assert out.strip().splitlines()[-1] == ("lues : 3 · acceptées : 3 · rejetées : 0 · avertissements : 0 · "
                                            "lignes vides : 0")


def test_validate_avec_entrepot_et_strict(home_avec_entrepot, tmp_path, capsys):
    lignes = lignes_simples()
    lignes[1][3] = "29999"                      # code INSEE inconnu
    lignes[2][0] = mauvaise_cle(siret(2))       # clé fausse
    chemin = _registre(tmp_path, lignes=lignes)
    assert main(["adherents", "validate", str(chemin), "--operateur", "megalis"]) == 0
    out = capsys.readouterr().out
    assert "entrepôt introuvable" not in out
    assert f"{chemin}:2: Code INSEE, « 29999 », code INSEE inconnu du référentiel des communes (COG)" in out
    assert f"{chemin}:3: SIRET, « {lignes[2][0]} », clé de contrôle du SIRET invalide" in out
    assert "lues : 3 · acceptées : 1 · rejetées : 2" in out
    assert main(["adherents", "validate", str(chemin), "--operateur", "megalis", "--strict"]) == 1
    assert "Refusé (--strict)" in capsys.readouterr().err


def test_validate_erreur_de_fichier_sans_trace(home, tmp_path, capsys):
    vide = tmp_path / "vide.csv"
    vide.write_bytes(b"")
    assert main(["adherents", "validate", str(vide), "--operateur", "recia"]) == 1
    captured = capsys.readouterr()
    assert f"{vide}: fichier vide (aucune ligne d'en-tête)" in captured.out
    assert "Traceback" not in captured.out + captured.err
    faux_xlsx = tmp_path / "faux.xlsx"
    faux_xlsx.write_bytes(b"PK\x03\x04pas un classeur")
    assert main(["adherents", "validate", str(faux_xlsx), "--operateur", "recia"]) == 1
    assert "classeur XLSX illisible" in capsys.readouterr().out


@pytest.mark.parametrize("code", ["inconnu", "../../x", "Megalis", ""])
def test_operateur_refuse(home, tmp_path, capsys, code):
    chemin = _registre(tmp_path)
    assert main(["adherents", "validate", str(chemin), "--operateur", code]) == 2
    err = capsys.readouterr().err
    assert "Erreur d'utilisation : opérateur inconnu" in err and "arnia, megalis, recia, maximilien" in err
    assert main(["adherents", "import", str(chemin), "--operateur", code]) == 2
    assert not (home / "data" / "raw" / "adherents").exists()


def test_fichier_absent(home, capsys):
    assert main(["adherents", "validate", "absent.csv", "--operateur", "megalis"]) == 2
    assert "absent.csv: fichier introuvable" in capsys.readouterr().err


def test_import_copie_les_octets_et_ne_remplace_jamais(home, tmp_path, capsys):
    chemin = _registre(tmp_path, nom="Export CRM (été).csv")
    octets = chemin.read_bytes()
    assert main(["adherents", "import", str(chemin), "--operateur", "megalis"]) == 0
    dossier = home / "data" / "raw" / "adherents" / "megalis"
    premiers = sorted(p.name for p in dossier.iterdir() if p.name != "imports.json")
    assert len(premiers) == 1 and premiers[0].endswith("-Export_CRM_ete_.csv")
    assert (dossier / premiers[0]).read_bytes() == octets
    assert (home / "data" / "raw" / "adherents" / "README.md").is_file()
    # même contenu : rien de copié
    assert main(["adherents", "import", str(chemin), "--operateur", "megalis"]) == 0
    assert "Déjà importé, contenu identique" in capsys.readouterr().out
    # contenu nouveau : un second fichier, le premier intact
    lignes = lignes_simples()
    lignes[1][1] = "Commune fictive A (nouveau nom)"
    ecrire_csv(chemin, lignes)
    assert main(["adherents", "import", str(chemin), "--operateur", "megalis"]) == 0
    fichiers = sorted(p.name for p in dossier.iterdir() if p.name != "imports.json")
    assert len(fichiers) == 2 and premiers[0] in fichiers
    assert (dossier / premiers[0]).read_bytes() == octets
    journal = json.loads((dossier / "imports.json").read_text(encoding="utf-8"))
    assert [e["fichier"] for e in journal] == fichiers
    for e in journal:
        assert e["sha256"] == hashlib.sha256((dossier / e["fichier"]).read_bytes()).hexdigest()


def test_import_meme_seconde_jamais_ecrase(home, tmp_path):
    from territoires.members.imports import importer

    adherents_dir = home / "data" / "raw" / "adherents"
    quand = datetime(2026, 12, 1, 8, 0, 0, tzinfo=timezone.utc)
    a = _registre(tmp_path, nom="r.csv")
    c1, _ = importer(a, "megalis", adherents_dir, quand=quand)
    a.write_bytes(a.read_bytes() + b"\r\n")
    c2, _ = importer(a, "megalis", adherents_dir, quand=quand)
    assert c1 != c2 and c1.name == "20261201T080000-r.csv" and c2.name == "20261201T080001-r.csv"
    assert c1.is_file() and c2.is_file()


def test_import_refuse_erreur_de_fichier_et_strict(home, tmp_path, capsys):
    sans_id = ecrire_csv(tmp_path / "x.csv", [["Nom"], ["Commune fictive A"]])
    assert main(["adherents", "import", str(sans_id), "--operateur", "arnia"]) == 1
    assert "Rien n'a été copié" in capsys.readouterr().err
    lignes = lignes_simples()
    lignes[1][0] = mauvaise_cle(siret(1))
    rejet = _registre(tmp_path, lignes=lignes)
    assert main(["adherents", "import", str(rejet), "--operateur", "arnia", "--strict"]) == 1
    assert not (home / "data" / "raw" / "adherents" / "arnia").exists()
    # sans --strict, un registre avec des rejets s'importe (les rejets iront dans marts.adherents_rejets)
    assert main(["adherents", "import", str(rejet), "--operateur", "arnia"]) == 0


def test_validate_avec_abonnements(home, tmp_path, capsys):
    reg = _registre(tmp_path)
    abo = ecrire_csv(tmp_path / "abo.csv", [["SIRET", "Service", "Date"], [siret(1), "Archivage", "2022-01-10"]])
    assert main(["adherents", "validate", str(reg), "--operateur", "megalis", "--abonnements", str(abo)]) == 0
    assert "lues : 4 · acceptées : 4" in capsys.readouterr().out


def test_services_et_inconnus(home, tmp_path, capsys):
    assert main(["adherents", "services"]) == 0
    out = capsys.readouterr().out
    assert "parapheur" in out and "signature" in out
    assert main(["adherents", "services", "--inconnus"]) == 0
    assert "Aucun service inconnu" in capsys.readouterr().out
    lignes = lignes_simples()
    lignes[1][5] = "Actes|Téléportation"
    main(["adherents", "import", str(_registre(tmp_path, lignes=lignes)), "--operateur", "megalis"])
    capsys.readouterr()
    assert main(["adherents", "services", "--inconnus"]) == 0
    out = capsys.readouterr().out
    assert "Téléportation" in out and "megalis" in out


def test_entrepot_sans_referentiel_avertit(home, tmp_path, capsys):
    import duckdb

    (home / "data" / "processed").mkdir(parents=True)
    duckdb.connect(str(home / "data" / "processed" / "territoires.duckdb")).close()
    assert main(["adherents", "validate", str(_registre(tmp_path)), "--operateur", "megalis"]) == 0
    out = capsys.readouterr().out
    assert "référentiel des communes illisible" in out and "lues : 3 · acceptées : 3" in out


def test_import_avec_abonnements_et_correspondance_invalide(home, tmp_path, capsys):
    reg = _registre(tmp_path)
    abo = ecrire_csv(tmp_path / "abo.csv", [["SIRET", "Service", "Date"], [siret(1), "Archivage", "2022-01-10"]])
    assert main(["adherents", "import", str(reg), "--operateur", "recia", "--abonnements", str(abo)]) == 0
    dossier = home / "data" / "raw" / "adherents" / "recia"
    assert sorted(p.name.split("-", 1)[1] for p in dossier.iterdir() if p.name != "imports.json") == \
        ["abo.csv", "registre.csv"]
    (dossier / "correspondance.toml").write_text("[colonnes\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["adherents", "validate", str(reg), "--operateur", "recia"]) == 1
    captured = capsys.readouterr()
    assert "fichier de correspondance illisible" in captured.err and "Traceback" not in captured.err


def test_validate_dit_comment_il_a_lu(home, tmp_path, capsys):
    lignes = [["SIRET", "Nom", "Parapheur", "Commentaire"], [siret(1), "Commune fictive É", "oui", "rien"]]
    chemin = ecrire_csv(tmp_path / "r.csv", lignes, sep="\t", encodage="cp1252")
    assert main(["adherents", "validate", str(chemin), "--operateur", "arnia"]) == 0
    out = capsys.readouterr().out
    assert (f"{chemin} : CSV, encodage cp1252, séparateur tabulation ; registre ; colonnes reconnues : "
            "SIRET → siret, Nom → nom, Parapheur → service:parapheur ; ignorées : Commentaire") in out


def test_import_occupe_quand_un_autre_ecrit(home, tmp_path, capsys):
    from territoires.cli import Verrou

    autre = Verrou(home)
    assert autre.prendre()
    try:
        assert main(["adherents", "import", str(_registre(tmp_path)), "--operateur", "megalis", "--sans-attendre"]) == 75
        assert "Occupé" in capsys.readouterr().err
        assert not (home / "data" / "raw" / "adherents" / "megalis").exists()
    finally:
        autre.rendre()
    assert main(["adherents", "import", str(_registre(tmp_path)), "--operateur", "megalis", "--sans-attendre"]) == 0


def test_registre_excel_windows_cp1252_lu_tel_qu_ecrit(home, tmp_path, capsys):
    """Un registre enregistré par Excel sous Windows (« CSV (séparateur : point-virgule) » :
    cp1252, CRLF, sans BOM) avec ’, œ et Œ dans les noms (fictifs) : lu tel qu'il est écrit."""
    from adherents_fabrique import ENTETE

    from territoires.members.validation import valider

    noms = ["Commune fictive de Cœur-d’Amont", "Syndicat fictif des Œuvres d’Aval"]
    lignes = [ENTETE,
              [siret(1), noms[0], "Commune", "29019", "15/03/2021", "Actes"],
              [siret(2), noms[1], "Œuvre d’intérêt fictive", "", "2021-09-01", ""]]
    octets = ("\r\n".join(";".join(ligne) for ligne in lignes) + "\r\n").encode("cp1252")
    assert all(o in octets for o in (0x92, 0x9C, 0x8C))  # ’ œ Œ : absents de Latin-1
    chemin = tmp_path / "exports" / "registre.csv"
    chemin.parent.mkdir()
    chemin.write_bytes(octets)
    assert main(["adherents", "validate", str(chemin), "--operateur", "megalis"]) == 0
    out = capsys.readouterr().out
    assert f"{chemin} : CSV, encodage cp1252, séparateur « ; »" in out
    assert "« Œuvre d’intérêt fictive », type d'entité non reconnu" in out
    assert "lues : 2 · acceptées : 2 · rejetées : 0" in out
    assert [a.nom for a in valider(chemin, "megalis").adherents] == noms


def test_registre_ni_utf8_ni_cp1252_refuse_avec_la_position(home, tmp_path, capsys):
    chemin = tmp_path / "registre.csv"
    chemin.write_bytes("SIRET;Nom\r\n".encode("cp1252") + siret(1).encode() + b";Commune fictive \x9d\r\n")
    assert chemin.read_bytes().index(b"\x9d") == 42
    assert main(["adherents", "validate", str(chemin), "--operateur", "megalis"]) == 1
    sortie = capsys.readouterr()
    assert f"{chemin}: encodage illisible à l'octet 42 — octet 0x9D, qui n'existe pas en Windows-1252" in sortie.out
    assert "enregistrez-le au format « CSV UTF-8 »" in sortie.out and "Traceback" not in sortie.out + sortie.err


def test_services_noms_dit_la_regle_et_les_ambigus(home, tmp_path, capsys):
    """Un registre qui écrit « Télétransmission actes » : reconnu (règle « normalisé »), pas
    « inconnu » ; un nom qui mène à deux services après normalisation est signalé, pas deviné."""
    (home / "data" / "raw" / "adherents" / "megalis").mkdir(parents=True)
    (home / "data" / "raw" / "adherents" / "megalis" / "correspondance.toml").write_text(
        '[services]\n"Pack signature" = "certificats"\n"Packs de signatures" = "parapheur"\n', encoding="utf-8")
    lignes = lignes_simples()
    lignes[1][5] = "Télétransmission actes|Parapheur|Pack signatures|Télétransmission des actes"
    assert main(["adherents", "import", str(_registre(tmp_path, lignes=lignes)), "--operateur", "megalis"]) == 0
    out = capsys.readouterr().out
    assert "Télétransmission actes" not in out  # aucun avertissement « inconnu » pour lui
    assert "nom de service ambigu" in out and "certificats et parapheur" in out
    assert main(["adherents", "services", "--noms"]) == 0
    out = capsys.readouterr().out
    def ligne(nom):
        trouvees = [x for x in out.splitlines() if x.startswith("megalis") and f"  {nom}  " in x]
        assert len(trouvees) == 1, (nom, out)
        return trouvees[0]

    lignes_sortie = {n: ligne(n) for n in ("Télétransmission actes", "Télétransmission des actes", "Parapheur",
                                             "Pack signatures")}
    assert "actes" in lignes_sortie["Télétransmission actes"] and "normalisé" in lignes_sortie["Télétransmission actes"]
    assert "correspondance" in lignes_sortie["Télétransmission des actes"]
    assert "exact" in lignes_sortie["Parapheur"]
    assert "ambigu : certificats ou parapheur" in lignes_sortie["Pack signatures"]
    assert main(["adherents", "services", "--inconnus"]) == 0
    out = capsys.readouterr().out
    assert "Pack signatures" in out and "ambigu" in out and "Télétransmission actes" not in out


# ── exports de la Suite territoriale importés chez un opérateur (issue 22, point 6) ──

def _codes_finistere(n):
    return [f"29{k:03d}" for k in range(1, n + 1)]


def test_export_anct_d_un_seul_operateur_va_a_l_operateur_dit(home, tmp_path, capsys):
    """200 communes, un operateur_id qu'aucun SIRET ne relie : importé avec --operateur arnia,
    il est à ARNia (l'utilisateur l'a dit), et la correspondance est gardée et listée."""
    from adherents_fabrique import OPERATEUR_ANCT_FICTIF, export_anct_adherents

    export = export_anct_adherents(tmp_path / "adherents-quotidien.csv.gz",
                                   [(OPERATEUR_ANCT_FICTIF, c) for c in _codes_finistere(200)])
    assert main(["adherents", "import", str(export), "--operateur", "arnia"]) == 0
    out = capsys.readouterr().out
    assert "lues : 200 · acceptées : 200" in out
    assert f"{OPERATEUR_ANCT_FICTIF} (200 lignes) → arnia (--operateur (seul identifiant du fichier))" in out
    journal = json.loads((home / "data" / "raw" / "adherents" / "arnia" / "imports.json").read_text(encoding="utf-8"))
    assert journal[-1]["operateurs_anct"] == {OPERATEUR_ANCT_FICTIF: {
        "operateur": "arnia", "regle": "--operateur (seul identifiant du fichier)", "lignes": 200}}
    assert main(["adherents"]) == 0  # la liste : les registres et l'attribution de chaque identifiant
    out = capsys.readouterr().out
    assert "arnia/" in out and "adherents-quotidien.csv.gz" in out
    ligne = [x for x in out.splitlines() if OPERATEUR_ANCT_FICTIF in x]
    assert len(ligne) == 1 and "arnia" in ligne[0] and "seul identifiant" in ligne[0] and "200" in ligne[0]
    assert main(["adherents", "liste"]) == 0 and OPERATEUR_ANCT_FICTIF in capsys.readouterr().out


def test_export_anct_de_plusieurs_operateurs_sans_correspondance_refuse(home, tmp_path, capsys):
    from adherents_fabrique import OPERATEUR_ANCT_FICTIF, OPERATEUR_ANCT_FICTIF_2, export_anct_adherents

    codes = _codes_finistere(200)
    export = export_anct_adherents(tmp_path / "adherents-quotidien.csv.gz",
                                   [(OPERATEUR_ANCT_FICTIF if k < 150 else OPERATEUR_ANCT_FICTIF_2, c)
                                    for k, c in enumerate(codes)])
    assert main(["adherents", "import", str(export), "--operateur", "arnia"]) == 1
    sortie = capsys.readouterr()
    assert "Import refusé" in sortie.err and "Rien n'a été copié" in sortie.err
    assert f"{OPERATEUR_ANCT_FICTIF} (150 lignes), {OPERATEUR_ANCT_FICTIF_2} (50 lignes)" in sortie.out
    assert "2 opérateurs de la Suite territoriale" in sortie.out
    assert "data/raw/adherents/arnia/correspondance.toml" in sortie.out and "[operateurs_anct]" in sortie.out
    assert not (home / "data" / "raw" / "adherents" / "arnia").exists() or not any(
        p.name.endswith(".csv.gz") for p in (home / "data" / "raw" / "adherents" / "arnia").iterdir())
    # la correspondance écrite comme le message le dit : accepté, chaque identifiant à son opérateur
    dossier = home / "data" / "raw" / "adherents" / "arnia"
    dossier.mkdir(parents=True, exist_ok=True)
    (dossier / "correspondance.toml").write_text(
        f'[operateurs_anct]\n"{OPERATEUR_ANCT_FICTIF}" = "arnia"\n"{OPERATEUR_ANCT_FICTIF_2}" = "megalis"\n',
        encoding="utf-8")
    assert main(["adherents", "import", str(export), "--operateur", "arnia"]) == 0
    out = capsys.readouterr().out
    assert "lues : 200 · acceptées : 200" in out
    assert f"{OPERATEUR_ANCT_FICTIF_2} (50 lignes) → megalis (correspondance.toml)" in out
    # une correspondance vers un opérateur inconnu : refusée, avec les codes possibles
    (dossier / "correspondance.toml").write_text(f'[operateurs_anct]\n"{OPERATEUR_ANCT_FICTIF}" = "inconnu"\n',
                                                 encoding="utf-8")
    assert main(["adherents", "validate", str(export), "--operateur", "arnia"]) == 1
    assert "opérateur absent d'operateurs.toml" in capsys.readouterr().out


def test_export_anct_que_le_siret_donne_a_un_autre_operateur_refuse(home, tmp_path, capsys):
    """L'export des opérateurs (déposé dans anct/) relie l'identifiant à Mégalis par son SIRET :
    importé avec --operateur arnia, le fichier est refusé en disant quoi faire."""
    from adherents_fabrique import OPERATEUR_ANCT_FICTIF, export_anct_adherents

    from territoires import operateurs

    siret_megalis = operateurs.par_siret(operateurs.PAQUET)
    siret_megalis = next(s for s, c in siret_megalis.items() if c == "megalis")
    anct = home / "data" / "raw" / "adherents" / "anct"
    anct.mkdir(parents=True)
    (anct / "operateurs-quotidien.csv").write_text(
        "id;nom;nom_avec_article;url;siret;statut;services;departements\r\n"
        f"{OPERATEUR_ANCT_FICTIF};Opérateur fictif;l'opérateur fictif;;{siret_megalis};partenaire;;29\r\n",
        encoding="utf-8")
    export = export_anct_adherents(tmp_path / "adherents-quotidien.csv.gz",
                                   [(OPERATEUR_ANCT_FICTIF, c) for c in _codes_finistere(3)])
    assert main(["adherents", "import", str(export), "--operateur", "arnia"]) == 1
    out = capsys.readouterr().out
    assert "celui de « megalis »" in out and "--operateur megalis" in out
    assert main(["adherents", "import", str(export), "--operateur", "megalis"]) == 0
    assert "→ megalis (SIRET" in capsys.readouterr().out
