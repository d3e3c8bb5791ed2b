"""Registres dans tous les formats lus, et registres cassés : chaque problème a son message,
sa ligne, et lues = acceptées + rejetées."""

from __future__ import annotations

import gzip
from datetime import date, datetime

import pytest

from adherents_fabrique import (
    ENTETE,
    comptes_justes,
    ecrire_csv,
    ecrire_xlsx,
    lignes_simples,
    mauvaise_cle,
    referentiel_mini,
    siren,
    siret,
    texte_csv,
)
from territoires.members.validation import Referentiel, Validateur, valider

AUJOURDHUI = date(2026, 12, 1)


def _valider(chemin, ref=None, **kw):
    kw.setdefault("aujourdhui", AUJOURDHUI)
    return valider(chemin, "megalis", ref if ref is not None else referentiel_mini(), **kw)


def _messages(r) -> list[str]:
    return [str(p) for b in r.bilans for p in b.problemes()]


# ------------------------------------------------------------------ formats
FORMATS_CSV = [
    pytest.param({"sep": ";", "encodage": "utf-8"}, id="utf8-pointvirgule"),
    pytest.param({"sep": ",", "encodage": "utf-8-sig"}, id="bom-virgule"),
    pytest.param({"sep": "\t", "encodage": "cp1252"}, id="cp1252-tabulation"),
    pytest.param({"sep": ";", "encodage": "latin-1"}, id="latin1"),
    pytest.param({"sep": ";", "encodage": "utf-8", "gz": True}, id="gzip"),
]


@pytest.mark.parametrize("options", FORMATS_CSV)
def test_csv_tous_formats_memes_adherents(tmp_path, options):
    chemin = ecrire_csv(tmp_path / ("r.csv.gz" if options.get("gz") else "r.csv"), lignes_simples(), **options)
    r = _valider(chemin)
    b = r.bilans[0]
    assert b.erreurs == [] and b.rejets == []
    assert (b.lues, b.acceptees, b.rejetees) == (3, 3, 0)
    assert [a.nom for a in r.adherents] == ["Commune fictive A", "Communauté de communes fictive B", "CCAS fictif de C"]
    assert [a.type for a in r.adherents] == ["commune", "epci", "ccas"]
    assert [a.ligne for a in r.adherents] == [2, 3, 4]
    assert r.adherents[0].date_adhesion == date(2021, 3, 15)
    assert r.adherents[2].date_adhesion == date(2022, 3, 15)
    assert r.adherents[0].services == ["actes", "parapheur"]
    assert r.adherents[1].services == ["marches_publics"]
    assert r.adherents[0].statut_rattachement == "insee" and r.adherents[0].code_territoire == "29019"
    assert {(x.identifiant, x.service) for x in r.abonnements} == {
        (siret(1), "actes"), (siret(1), "parapheur"), (siret(2), "marches_publics")}
    assert b.encodage in {"utf-8": ("utf-8",), "utf-8-sig": ("utf-8-sig",), "cp1252": ("cp1252",),
                          "latin-1": ("cp1252",)}[options["encodage"]]
    assert b.separateur == options["sep"]


def test_xlsx_dates_natives_numeros_de_serie_et_feuille_nommee(tmp_path):
    lignes = [
        ENTETE,
        [siret(1), "Commune fictive A", "Commune", "29019", datetime(2021, 3, 15), "Actes"],
        [float(siret(2)), "Communauté de communes fictive B", "CC", None, 44270, None],  # SIRET en nombre
        [siret(3), "CCAS fictif de C", "CCAS", 29232, "15/03/2021", None],  # code INSEE en nombre
    ]
    chemin = ecrire_xlsx(tmp_path / "r.xlsx", lignes, feuille="Adhérents", autres_feuilles=["Notice"])
    from territoires.members.schema import Correspondance

    r = _valider(chemin, correspondance=Correspondance(feuille="Adhérents"))
    b = r.bilans[0]
    assert b.erreurs == [] and b.rejets == [], _messages(r)
    assert [a.date_adhesion for a in r.adherents] == [date(2021, 3, 15)] * 3
    assert r.adherents[1].siret == siret(2)
    assert r.adherents[2].code_insee == "29232"
    # sans feuille nommée : la première (« Notice ») n'a pas les colonnes requises
    r2 = _valider(chemin)
    assert "colonne(s) requise(s) absente(s)" in _messages(r2)[0]


def test_xlsx_feuille_absente(tmp_path):
    from territoires.members.schema import Correspondance

    chemin = ecrire_xlsx(tmp_path / "r.xlsx", lignes_simples())
    r = _valider(chemin, correspondance=Correspondance(feuille="Inexistante"))
    assert "feuille 'Inexistante' absente (feuilles : Adhérents)" in _messages(r)[0]


def test_lignes_vides_sautees_et_comptees_numeros_justes(tmp_path):
    texte = texte_csv(lignes_simples())
    lignes = texte.split("\r\n")
    # une ligne vide avant l'en-tête, une au milieu, une ligne de séparateurs seuls
    contenu = "\r\n".join(["", lignes[0], lignes[1], "", ";;;;;", lignes[2], lignes[3]]) + "\r\n"
    chemin = tmp_path / "r.csv"
    chemin.write_text(contenu, encoding="utf-8")
    r = _valider(chemin)
    b = r.bilans[0]
    assert b.lignes_vides == 3
    assert [a.ligne for a in r.adherents] == [3, 6, 7]


def test_cellule_sur_plusieurs_lignes_garde_sa_premiere_ligne(tmp_path):
    lignes = lignes_simples()
    lignes[1][1] = "Commune fictive A\nsur deux lignes"
    chemin = ecrire_csv(tmp_path / "r.csv", lignes)
    r = _valider(chemin)
    assert [a.ligne for a in r.adherents] == [2, 4, 5]
    assert r.adherents[0].nom == "Commune fictive A sur deux lignes"  # fin de ligne → espace


# ------------------------------------------------------------------ cassés
def test_mauvaise_cle_siret(tmp_path):
    lignes = lignes_simples()
    lignes[2][0] = mauvaise_cle(siret(2))
    r = _valider(ecrire_csv(tmp_path / "r.csv", lignes))
    b = r.bilans[0]
    assert (b.lues, b.acceptees, b.rejetees) == (3, 2, 1)
    assert _messages(r) == [f"{tmp_path / 'r.csv'}:3: SIRET, « {lignes[2][0]} », clé de contrôle du SIRET invalide"]


def test_code_insee_inconnu(tmp_path):
    lignes = lignes_simples()
    lignes[1][3] = "29999"
    r = _valider(ecrire_csv(tmp_path / "r.csv", lignes))
    assert f"{tmp_path / 'r.csv'}:2: Code INSEE, « 29999 », code INSEE inconnu du référentiel des communes (COG)" \
        in _messages(r)
    assert comptes_justes(r.bilans[0]) and r.bilans[0].rejetees == 1


def test_commune_fusionnee_dit_qui_l_a_absorbee(tmp_path):
    lignes = [ENTETE, ["", "Ancienne commune fictive", "Commune", "29052", "", ""]]
    r = _valider(ecrire_csv(tmp_path / "r.csv", lignes))
    b = r.bilans[0]
    assert (b.acceptees, b.rejetees) == (1, 0)
    assert "2: Code INSEE, « 29052 », commune fusionnée dans Commune fictive D (29003)" in _messages(r)[0]
    a = r.adherents[0]
    assert (a.code_insee, a.code_territoire, a.statut_rattachement) == ("29052", "29003", "insee")


def test_commune_fusionnee_depuis_l_entrepot(tmp_path, fixture_warehouse):
    import territoires

    con = territoires.connect(fixture_warehouse)
    try:
        ref = Referentiel.depuis_entrepot(con)
        code, parent, nom_parent = con.execute(
            "select c.code, c.code_parent, p.nom from staging.communes c join staging.communes p "
            "on p.code = c.code_parent and p.type = 'COM' where c.type = 'COMD' and c.code like '29%' "
            "and c.code not in (select code from staging.communes where type = 'COM') order by c.code limit 1"
        ).fetchone()
    finally:
        con.close()
    lignes = [ENTETE, ["", "Commune déléguée (test)", "Commune", code, "", ""]]
    r = _valider(ecrire_csv(tmp_path / "r.csv", lignes), ref)
    assert f"commune fusionnée dans {nom_parent} ({parent})" in _messages(r)[0]
    assert r.adherents[0].code_territoire == parent


def test_doublons_citent_la_premiere_ligne(tmp_path):
    lignes = lignes_simples()
    lignes.append(list(lignes[1]))
    lignes.append([siret(1)[:9] and siret(1), "Même SIRET autrement écrit", "Commune", "", "", ""])
    lignes[-1][0] = f"{siret(1)[:3]} {siret(1)[3:]}"
    r = _valider(ecrire_csv(tmp_path / "r.csv", lignes))
    msgs = _messages(r)
    assert f"{tmp_path / 'r.csv'}:5: SIRET, « {siret(1)} », doublon de la ligne 2" in msgs
    assert f"{tmp_path / 'r.csv'}:6: SIRET, « {siret(1)} », doublon de la ligne 2" in msgs
    b = r.bilans[0]
    assert (b.lues, b.acceptees, b.rejetees) == (5, 3, 2)


def test_colonne_requise_absente_une_erreur_de_fichier(tmp_path):
    lignes = [["Raison sociale", "Commentaire"], ["Commune fictive A", "rien"]]
    r = _valider(ecrire_csv(tmp_path / "r.csv", lignes))
    b = r.bilans[0]
    assert len(b.erreurs) == 1 and b.lues == 0
    msg = str(b.erreurs[0])
    assert msg.startswith(f"{tmp_path / 'r.csv'}: colonne(s) requise(s) absente(s) : un identifiant (SIRET, SIREN")
    assert "colonnes trouvées (ligne 1) : « Raison sociale », « Commentaire »" in msg


def test_fichier_vide_et_en_tete_seul(tmp_path):
    vide = tmp_path / "vide.csv"
    vide.write_bytes(b"")
    assert _messages(_valider(vide)) == [f"{vide}: fichier vide (aucune ligne d'en-tête)"]
    blancs = tmp_path / "blancs.csv"
    blancs.write_bytes(b"\r\n  \r\n;;\r\n")
    assert _messages(_valider(blancs)) == [f"{blancs}: fichier vide (aucune ligne d'en-tête)"]
    entete = ecrire_csv(tmp_path / "entete.csv", [ENTETE, []])
    r = _valider(entete)
    assert _messages(r) == [f"{entete}: en-tête seul (ligne 1), aucune ligne de données"]
    assert r.bilans[0].lues == 0


def test_mauvais_separateur(tmp_path):
    # séparateur imposé « , » alors que le fichier est en « ; »
    from territoires.members.schema import Correspondance

    chemin = ecrire_csv(tmp_path / "r.csv", lignes_simples(), sep=";")
    r = _valider(chemin, correspondance=Correspondance(separateur=","))
    msg = _messages(r)[0]
    assert "ne forme qu'une colonne avec le séparateur « , » et contient « ; » : mauvais séparateur" in msg
    # en-tête en « , », lignes en « ; »
    texte = ",".join(ENTETE) + "\r\n" + texte_csv(lignes_simples()[1:], ";")
    chemin2 = tmp_path / "r2.csv"
    chemin2.write_text(texte, encoding="utf-8")
    r2 = _valider(chemin2)
    b = r2.bilans[0]
    assert (b.lues, b.rejetees) == (3, 3)
    assert "une seule colonne contenant « ; » alors que l'en-tête est séparé par « , » : mauvais séparateur" \
        in str(b.rejets[0])
    assert str(b.rejets[0]).startswith(f"{chemin2}:2: (ligne), ")


def test_dates(tmp_path):
    lignes = [ENTETE,
              [siret(1), "A", "Commune", "", "31/02/2021", ""],
              [siret(2), "B", "Commune", "", "15-03-2021", ""],
              [siret(3), "C", "Commune", "", "1er mars 2021", ""],
              [siret(4), "D", "Commune", "", "15/03/2031", ""],
              [siret(5), "E", "Commune", "", "hier", ""],
              [siret(6), "F", "Commune", "", "2021-03-15T00:00:00", ""]]
    r = _valider(ecrire_csv(tmp_path / "r.csv", lignes))
    msgs = _messages(r)
    assert f"{tmp_path / 'r.csv'}:2: Date d'adhésion, « 31/02/2021 », date impossible : le 31 du mois 02 " \
           "n'existe pas en 2021" in msgs
    assert any(m.startswith(f"{tmp_path / 'r.csv'}:5: Date d'adhésion, « 15/03/2031 », date future") for m in msgs)
    assert any(":6: Date d'adhésion, « hier », date illisible" in m for m in msgs)
    assert {a.nom: a.date_adhesion for a in r.adherents} == {
        "B": date(2021, 3, 15), "C": date(2021, 3, 1), "D": date(2031, 3, 15), "F": date(2021, 3, 15)}
    b = r.bilans[0]
    assert (b.lues, b.acceptees, b.rejetees) == (6, 4, 2)


def test_injection_html_et_formule_gardees_telles_quelles(tmp_path):
    lignes = lignes_simples()
    lignes[1][1] = "<script>alert('x')</script> Commune fictive A"
    lignes[2][1] = '=HYPERLINK("http://exemple.invalid";"clic")'
    lignes[3][1] = "CCAS\x00 fictif\x1b de C\u200b"
    r = _valider(ecrire_csv(tmp_path / "r.csv", lignes))
    noms = [a.nom for a in r.adherents]
    assert noms == ["<script>alert('x')</script> Commune fictive A", '=HYPERLINK("http://exemple.invalid";"clic")',
                    "CCAS fictif de C"]
    assert r.bilans[0].acceptees == 3


def test_types_normalises(tmp_path):
    types = ["CC", "CA", "Métropole", "SIVU", "SIVOM", "Syndicat mixte", "Centre communal d'action sociale",
             "Hôpital", "CH", "EHPAD", "Lycée", "OPH", "SEM", "Conseil départemental", "Région", "Objet inconnu"]
    lignes = [ENTETE] + [[siret(10 + i), f"Entité fictive {i}", t, "", "", ""] for i, t in enumerate(types)]
    r = _valider(ecrire_csv(tmp_path / "r.csv", lignes))
    assert [a.type for a in r.adherents] == [
        "epci", "epci", "epci", "syndicat", "syndicat", "syndicat", "ccas", "etablissement_sante",
        "etablissement_sante", "etablissement_sante", "lycee_college", "bailleur_social", "sem", "departement",
        "region", "autre_public"]
    assert r.adherents[-1].type_source == "Objet inconnu"
    assert any("type d'entité non reconnu, classé autre_public" in m for m in _messages(r))


def test_rattachements(tmp_path):
    ref = referentiel_mini()
    lignes = [["SIREN", "Code INSEE", "Nom"],
              [siren(900), "", "EPCI fictif"],                 # SIREN d'EPCI
              ["", "29019", "Commune fictive A"],              # code INSEE
              [siren(901), "", "Commune fictive C"],           # SIREN de commune d'après la référence
              ["212202220", "", "Commune fictive P"],          # motif 21… : présumé, signalé
              [siren(902), "", "Organisme fictif"]]            # rien : gardé, non rattaché
    r = _valider(ecrire_csv(tmp_path / "r.csv", lignes), ref)
    assert [(a.statut_rattachement, a.code_territoire, a.niveau_territoire, a.type) for a in r.adherents] == [
        ("siren_epci", siren(900), "epci", "epci"), ("insee", "29019", "commune", "commune"),
        ("siren_reference", "29232", "commune", "commune"), ("siren_presume", "22222", "commune", "commune"),
        ("non_rattache", None, None, "autre_public")]
    assert any(":5: SIREN, « 212202220 », rattachement présumé à Commune fictive P (22222)" in m
               for m in _messages(r))


def test_siren_et_siret_incoherents(tmp_path):
    lignes = [["SIRET", "SIREN", "Nom"], [siret(1), siren(2), "A"]]
    r = _valider(ecrire_csv(tmp_path / "r.csv", lignes))
    assert f"SIREN différent des 9 premiers chiffres du SIRET {siret(1)}" in _messages(r)[0]


# ------------------------------------------------------------------ services
def test_services_en_colonnes(tmp_path):
    lignes = [["SIRET", "Nom", "Parapheur", "Actes", "Archivage électronique", "Service maison"],
              [siret(1), "A", "oui", "15/03/2021", "non", "x"],
              [siret(2), "B", "X", "", "1", "peut-être"]]
    r = _valider(ecrire_csv(tmp_path / "r.csv", lignes))
    abo = {(a.identifiant, a.service): a.date_debut for a in r.abonnements}
    assert abo == {(siret(1), "parapheur"): None, (siret(1), "actes"): date(2021, 3, 15),
                   (siret(2), "parapheur"): None, (siret(2), "archivage"): None}
    # « Service maison » n'est pas un service connu : colonne ignorée
    assert r.bilans[0].acceptees == 2


def test_services_inconnus_gardes_et_listes(tmp_path):
    lignes = [["SIRET", "Nom", "Services"], [siret(1), "A", "Actes; Téléportation ; Parapheur"]]
    r = _valider(ecrire_csv(tmp_path / "r.csv", lignes))
    assert r.adherents[0].services == ["actes", "inconnu:Téléportation", "parapheur"]
    assert r.bilans[0].services_inconnus == {"Téléportation": 1}
    assert any("service inconnu de la taxonomie" in m for m in _messages(r))


def test_fichier_abonnements_separe(tmp_path):
    reg = ecrire_csv(tmp_path / "r.csv", lignes_simples())
    abo = ecrire_csv(tmp_path / "abo.csv", [
        ["SIRET", "Service", "Date de souscription"],
        [siret(1), "Archivage", "2022-01-10"],
        [siret(3), "Open data", "10/01/2022"],
        [siret(1), "Archivage", "2022-01-10"],        # doublon
        [siret(50), "Actes", ""],                      # adhérent absent du registre
    ])
    r = _valider(reg, abonnements=abo)
    b = r.bilans[1]
    assert b.genre == "abonnements"
    assert (b.lues, b.acceptees, b.rejetees) == (4, 2, 2)
    msgs = _messages(r)
    assert f"{abo}:4: Service, « Archivage », doublon de la ligne 2 (même adhérent, même service)" in msgs
    assert f"{abo}:5: SIRET, « {siret(50)} », adhérent absent du registre de l'opérateur" in msgs
    assert (siret(3), "open_data", date(2022, 1, 10)) in {(a.identifiant, a.service, a.date_debut)
                                                            for a in r.abonnements}


def test_fichier_de_correspondance(tmp_path):
    from territoires.members.schema import lire_correspondance

    corr = tmp_path / "correspondance.toml"
    corr.write_text("""
[colonnes]
"N° d'immatriculation" = "siret"
"Structure adhérente" = "nom"
"Dématérialisation (O/N)" = "service:actes"
"Type" = "ignorer"
[services]
"Pack sérénité" = "cybersecurite"
[lecture]
separateur = "|"
""", encoding="utf-8")
    lignes = [["N° d'immatriculation", "Structure adhérente", "Type", "Dématérialisation (O/N)", "Services"],
              [siret(1), "Commune fictive A", "n'importe quoi", "O", "Pack sérénité"]]
    chemin = ecrire_csv(tmp_path / "r.csv", lignes, sep="|")
    r = _valider(chemin, correspondance=lire_correspondance(corr))
    assert r.bilans[0].rejets == [] and r.bilans[0].erreurs == []
    a = r.adherents[0]
    assert a.siret == siret(1) and a.nom == "Commune fictive A" and a.type_source is None
    assert sorted(a.services) == ["actes", "cybersecurite"]


def test_correspondance_invalide_message_clair(tmp_path):
    from territoires.members.schema import CorrespondanceError, lire_correspondance

    corr = tmp_path / "correspondance.toml"
    corr.write_text('[colonnes]\n"X" = "champ_qui_n_existe_pas"\n', encoding="utf-8")
    with pytest.raises(CorrespondanceError, match="champ inconnu 'champ_qui_n_existe_pas'"):
        lire_correspondance(corr)


# ------------------------------------------------------------------ ANCT
ANCT_ADHERENTS = "operateur_id;organisation_siret;organisation_type;organisation_nom;organisation_code_insee;role\n"
ANCT_SOUSCRIPTIONS = ("operateur_id;service_id;organisation_siret;organisation_type;organisation_nom;"
                      "organisation_code_insee;date_creation\n")


def test_exports_anct(tmp_path):
    # format : colonnes des exports publics de la Suite territoriale (issue « sources », n° 9),
    # « ; », UTF-8, gzip ; les valeurs sont fictives
    adh = tmp_path / "adherents-quotidien.csv.gz"
    with gzip.open(adh, "wt", encoding="utf-8", newline="") as f:
        f.write(ANCT_ADHERENTS)
        f.write(f"7;{siret(1)};commune;Commune fictive A;29019;adherent\n")
        f.write(f"7;{siret(2)};epci;EPCI fictif;;adherent\n")
        f.write(f"8;{siret(3)};commune;Commune fictive C;29232;adherent\n")
    sous = tmp_path / "souscriptions-quotidien.csv.gz"
    with gzip.open(sous, "wt", encoding="utf-8", newline="") as f:
        f.write(ANCT_SOUSCRIPTIONS)
        f.write(f"7;12;{siret(1)};commune;Commune fictive A;29019;2024-05-02\n")
        f.write(f"8;13;{siret(3)};commune;Commune fictive C;29232;2024-05-03\n")
    v = Validateur("anct", referentiel_mini(), operateurs_anct={"7": "megalis"},
                   services_anct={"12": "Parapheur", "13": "Service ANCT fictif"}, aujourdhui=AUJOURDHUI)
    adherents, abonnements = [], []
    b1 = v.fichier(adh, sur_adherent=adherents.append)
    b2 = v.fichier(sous, sur_abonnement=abonnements.append)
    assert (b1.genre, b2.genre) == ("registre", "abonnements")
    # l'opérateur 8 n'est pas suivi (aucun SIRET d'operateurs.toml) : ses lignes sont rejetées
    # avec leur raison, jamais rangées sous un opérateur « anct:8 » qu'aucune page ne montre
    assert (b1.lues, b1.acceptees, b1.rejetees, b2.lues, b2.acceptees, b2.rejetees) == (3, 2, 1, 2, 1, 1)
    assert [a.operateur for a in adherents] == ["megalis", "megalis"]
    assert [a.type for a in adherents] == ["commune", "epci"]
    assert [(x.operateur, x.service, x.date_debut) for x in abonnements] == [("megalis", "parapheur", date(2024, 5, 2))]
    assert [(p.ligne, p.colonne, p.valeur) for p in b1.rejets] == [(4, "operateur_id", "8")]
    assert "absent d'operateurs.toml" in b1.rejets[0].raison
    assert "→ megalis (SIRET" in b1.description() and "8 (1 ligne) → aucun opérateur suivi" in b1.description()


def test_comptes_toujours_justes_sur_un_registre_melange(tmp_path):
    lignes = lignes_simples() + [
        [mauvaise_cle(siret(4)), "X", "", "", "", ""],
        ["", "Y", "", "", "", ""],
        [siret(5), "Z", "", "99999", "", ""],
        [siret(6), "W", "", "", "30/02/2020", "Truc"],
        [siret(7), "V", "Commune", "1001", "", ""],
    ]
    r = _valider(ecrire_csv(tmp_path / "r.csv", lignes))
    b = r.bilans[0]
    assert comptes_justes(b) and b.lues == 8 and b.rejetees == 4
    assert any("01001" in str(p) for p in b.avertissements)


def test_reference_siren_insee_des_communes(tmp_path):
    # un extrait de référence (forme BANATIC / DPNT : SIREN et code INSEE), valeurs fictives
    ref_csv = ecrire_csv(tmp_path / "reference.csv", [["siren", "insee", "nom"], [siren(950), "29019", "x"],
                                                      ["123", "29019", "ligne invalide ignorée"]])
    ref = referentiel_mini()
    assert ref.ajouter_sirens_communes(ref_csv) == 1
    r = _valider(ecrire_csv(tmp_path / "r.csv", [["SIREN", "Nom"], [siren(950), "Commune fictive A"]]), ref)
    a = r.adherents[0]
    assert (a.statut_rattachement, a.code_territoire, a.type) == ("siren_reference", "29019", "commune")


def test_registre_modele_du_paquet_est_valide():
    from importlib import resources

    chemin = resources.files("territoires.members").joinpath("modele_registre.csv")
    r = _valider(chemin)
    assert r.bilans[0].rejets == [] and r.bilans[0].erreurs == [] and r.bilans[0].acceptees == 2


def test_genre_du_fichier_d_apres_l_en_tete():
    from territoires.members.schema import reconnaitre

    def genre(entetes):
        return reconnaitre(entetes, "megalis").genre

    assert genre(["SIRET", "Service", "Date"]) == "abonnements"
    assert genre(["operateur_id", "service_id", "organisation_siret", "organisation_type", "organisation_nom",
                  "organisation_code_insee", "date_creation"]) == "abonnements"
    assert genre(["SIRET", "Nom", "Type", "Service"]) == "registre"          # service municipal du contact
    assert genre(["SIRET", "Nom", "Services souscrits"]) == "registre"
    assert genre(["SIRET", "Nom", "Parapheur", "Service"]) == "registre"


def test_doublon_dans_un_autre_fichier_cite_ce_fichier(tmp_path):
    v = Validateur("megalis", referentiel_mini(), aujourdhui=AUJOURDHUI)
    a = ecrire_csv(tmp_path / "communes.csv", lignes_simples())
    b = ecrire_csv(tmp_path / "autres.csv", [ENTETE, [siret(3), "CCAS fictif de C", "CCAS", "", "", ""]])
    v.fichier(a, nom="communes.csv")
    bilan = v.fichier(b, nom="autres.csv")
    assert [str(p) for p in bilan.rejets] == [f"autres.csv:2: SIRET, « {siret(3)} », doublon de communes.csv:4"]


@pytest.mark.parametrize("moteur", ["calamine", "openpyxl"])
def test_xlsx_les_deux_moteurs_memes_lignes(tmp_path, monkeypatch, moteur):
    import sys

    if moteur == "openpyxl":
        monkeypatch.setitem(sys.modules, "python_calamine", None)  # import impossible : repli openpyxl
    lignes = [[], [], ENTETE, [], [siret(1), "Commune fictive A", "Commune", "29019", datetime(2021, 3, 15), "Actes"],
              [siret(2), "EPCI fictif", "CC", None, 44270, None]]
    chemin = ecrire_xlsx(tmp_path / "r.xlsx", lignes)
    r = _valider(chemin)
    b = r.bilans[0]
    assert (b.lues, b.acceptees, b.lignes_vides) == (2, 2, 3)
    assert [a.ligne for a in r.adherents] == [5, 6]
    assert [a.date_adhesion for a in r.adherents] == [date(2021, 3, 15)] * 2
    from territoires.lecture import ouvrir

    with ouvrir(chemin) as lecteur:
        assert lecteur.moteur == moteur and lecteur.ligne_entete == 3


def test_type_absent_deduit_ou_signale(tmp_path):
    from territoires.members.identifiants import siren_commune_presume

    commune = siren_commune_presume("29019")
    lignes = [["SIRET", "Code INSEE", "Nom"],
              [siret_avec_cle_test(commune), "29019", "Commune fictive A"],
              [siret(5), "29232", "Organisme fictif"]]
    r = _valider(ecrire_csv(tmp_path / "r.csv", lignes))
    assert [a.type for a in r.adherents] == ["commune", "autre_public"]
    msgs = _messages(r)
    assert any(":2: type, «  », type d'entité absent, déduit du SIREN (21… : commune)" in m for m in msgs)
    assert any(":3: type, «  », type d'entité absent, classé autre_public" in m for m in msgs)


def siret_avec_cle_test(siren9: str) -> str:
    from territoires.members.identifiants import siret_avec_cle

    return siret_avec_cle(siren9 + "0001")
