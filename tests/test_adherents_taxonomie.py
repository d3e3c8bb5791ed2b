"""Fichiers de données des adhérents : types d'entités, services, correspondances — cohérents,
sourcés, sans variante ambiguë."""

from __future__ import annotations

from collections import defaultdict

from territoires.members.taxonomie import FAMILLES, FICHIERS, lire_donnees, taxonomie
from territoires.members.texte import cle

TYPES = ["commune", "epci", "departement", "region", "syndicat", "ccas", "etablissement_sante", "lycee_college",
         "bailleur_social", "sem", "autre_public"]


def test_types_la_liste_unique():
    rows = lire_donnees(FICHIERS["types_entites"])
    assert [r["type"] for r in rows] == TYPES
    assert all(r["libelle"] and r["origine"] for r in rows)


def test_aucune_variante_ambigue():
    vu = defaultdict(set)
    for r in lire_donnees(FICHIERS["types_entites"]):
        for v in [r["type"], r["libelle"], *r["variantes"].split("|")]:
            if cle(v):
                vu[cle(v)].add(r["type"])
    ambigues = {k: v for k, v in vu.items() if len(v) > 1}
    assert ambigues == {}


def test_services_et_correspondances_coherents():
    t = taxonomie()
    services = lire_donnees(FICHIERS["services"])
    assert len({r["service"] for r in services}) == len(services)
    assert {r["famille"] for r in services} <= set(FAMILLES)
    assert all(r["libelle"] and r["origine"] for r in services)
    operateurs = {"*", "arnia", "megalis", "recia", "maximilien", "anct"}
    cles = defaultdict(set)
    for r in lire_donnees(FICHIERS["services_correspondances"]):
        assert r["service"] in t.services and r["operateur"] in operateurs and r["origine"], r
        cles[(r["operateur"], cle(r["nom_source"]))].add(r["service"])
    assert {k: v for k, v in cles.items() if len(v) > 1} == {}


def test_variantes_courantes():
    t = taxonomie()
    attendus = {"Communauté de communes": "epci", "Communauté de communes du Pays fictif": "epci", "CC": "epci",
                "CA": "epci", "Métropole": "epci", "SIVU": "syndicat", "SIVOM": "syndicat",
                "Syndicat mixte": "syndicat", "Centre communal d'action sociale": "ccas", "Hôpital": "etablissement_sante",
                "CH": "etablissement_sante", "EHPAD": "etablissement_sante", "Mairie": "commune",
                "Conseil départemental du Finistère": "departement", "Lycée fictif": "lycee_college"}
    assert {k: t.type_entite(k) for k in attendus} == attendus
    assert t.type_entite("Objet non identifié") is None
    assert t.service("@ctes", "megalis") == "actes"
    assert t.service("NetO'Centre", "recia") == "ent"
    assert t.service("NetO'Centre", "megalis") is None   # nom propre à un opérateur
    assert t.service("parapheur", "arnia") == "parapheur"  # identifiant de la taxonomie lui-même


# ── noms de services tels que les opérateurs les écrivent (issue 22, point 12) ──

def test_cle_normalisee_articles_pluriels_accents_casse():
    from territoires.members.texte import cle_normalisee

    attendu = cle_normalisee("Télétransmission des actes")
    assert attendu == "teletransmissionacte"
    for variante in ("Télétransmission actes", "TELETRANSMISSION DES ACTES", "télétransmission de l'acte",
                     "Télétransmission d’actes", "Télétransmission aux actes", "teletransmission-actes"):
        assert cle_normalisee(variante) == attendu, variante
    assert cle_normalisee("Réseaux") == cle_normalisee("réseau") == "reseau"
    assert cle_normalisee("PES") == "pes" and cle_normalisee("SIG") == "sig"  # mots courts : s gardé
    assert cle_normalisee("Salle à manger") == "sallemanger"  # « à » est un article ici
    assert cle_normalisee(None) == "" and cle_normalisee("Les des") == ""


def test_resolution_dit_la_regle():
    t = taxonomie()
    r = t.resoudre("Télétransmission actes", "megalis")
    assert (r.service, r.regle) == ("actes", "normalisé")
    assert (t.resoudre("Télétransmission des actes", "megalis").regle) == "correspondance"
    assert (t.resoudre("parapheur", "megalis").service, t.resoudre("parapheur", "megalis").regle) == (
        "parapheur", "exact")
    assert t.resoudre("Parapheurs électroniques", "arnia").service == "parapheur"
    assert t.resoudre("Téléportation", "megalis") == type(r)(None)
    # propre à un opérateur, même normalisé
    assert t.resoudre("Neto centre", "recia").service == "ent" and t.resoudre("Neto centre", "megalis").service is None
    # les noms propres au registre (correspondance.toml) comptent aussi, normalisés
    assert t.resoudre("Packs de dématérialisation", "megalis", {"Pack dématérialisation": "actes"}).service == "actes"


def test_nom_normalise_ambigu_non_devine():
    t = taxonomie()
    extra = {"Pack signature": "certificats", "Packs de signatures": "parapheur"}
    r = t.resoudre("Pack signatures", "megalis", extra)
    assert r.service is None and r.ambigu and r.candidats == ("certificats", "parapheur")


def test_aucun_nom_normalise_ambigu_dans_le_paquet():
    t = taxonomie()
    for op in ("*", "arnia", "megalis", "recia", "maximilien", "anct"):
        assert {k: v for k, v in t._normalises(op, None).items() if len(v) > 1} == {}, op
