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
