"""« Ce qu'il faut retenir »: one test per rule, with fixture figures and the exact
sentence expected (issue 10, item 1); then the block on a real page of the fixture."""

from __future__ import annotations

from territoires.reports import retenir
from territoires.reports.retenir import Faits

NB = "\u202f"


def _faits(**kw) -> Faits:
    base = dict(niveau="departement", nom="Finistère", communes=277, fiches=277)
    base.update(kw)
    return Faits(**base)


def test_rule_rank_on_the_score():
    f = _faits(rangs={"score_presence": {"rang": 3, "sur": 26, "taux": 0.874, "base": 277}})
    p = retenir.regle_rang_score(f)
    assert p.texte == (f"Avec un score de présence numérique de 87{NB}/{NB}100 (moyenne de 277 communes), ce département "
                       "se classe 3e sur les 26 départements de l'alliance, dans le premier quart.")
    assert p.ancre == "rang"
    # too few communes, too few peers, no figure: nothing said
    assert retenir.regle_rang_score(_faits(rangs={"score_presence": {"rang": 1, "sur": 26, "taux": 0.9, "base": 4}})) is None
    assert retenir.regle_rang_score(_faits(rangs={"score_presence": {"rang": 1, "sur": 2, "taux": 0.9, "base": 40}})) is None
    assert retenir.regle_rang_score(_faits()) is None
    assert retenir.regle_rang_score(_faits(niveau="alliance", rangs=f.rangs)) is None


def test_rule_rank_on_adoption_only_with_a_register():
    f = _faits(niveau="epci", rangs={"part_communes_adherentes": {"rang": 1, "sur": 308, "taux": 0.5, "numerateur": 10,
                                                                   "base": 20}})
    assert retenir.regle_rang_adoption(f).texte == (
        f"50,0{NB}% des communes adhèrent à leur opérateur (10 sur 20) : cet EPCI se classe 1er sur les 308 EPCI "
        "de l'alliance dont le registre est chargé.")
    assert retenir.regle_rang_adoption(_faits(rangs={})) is None  # no register loaded: no row, no sentence


def test_rule_largest_gap_to_the_parent():
    f = _faits(parent={"nom": "Bretagne (région)", "ancre": "comparaison"}, ecarts=[
        {"libelle": "Communes avec un site internet déclaré", "taux": 0.939, "numerateur": 260, "base": 277,
         "taux_parent": 0.887},
        {"libelle": "Communes dont le site est déclaré en HTTPS", "taux": 0.881, "numerateur": 244, "base": 277,
         "taux_parent": 0.95},
        {"libelle": "Communes avec un critère absent", "taux": None, "numerateur": 0, "base": 277, "taux_parent": 0.1},
    ])
    p = retenir.regle_ecart_parent(f)
    assert p.texte == (f"Plus grand écart comparé à Bretagne (région) : communes dont le site est déclaré en HTTPS, "
                       f"88,1{NB}% (244 sur 277 communes) contre 95,0{NB}%, soit 6,9 points de moins.")
    assert p.ancre == "comparaison"
    assert retenir.regle_ecart_parent(_faits(parent=None, ecarts=f.ecarts)) is None
    petit = [dict(x, base=4) for x in f.ecarts]
    assert retenir.regle_ecart_parent(_faits(parent=f.parent, ecarts=petit)) is None


def test_rule_gap_says_the_alliance_as_readers_do():
    f = _faits(niveau="region", parent={"nom": retenir.designation("alliance", "Alliance")}, ecarts=[
        {"libelle": "Communes avec un site internet déclaré", "taux": 0.5, "numerateur": 5, "base": 10,
         "taux_parent": 0.4}])
    assert retenir.regle_ecart_parent(f).texte.startswith("Plus grand écart comparé à l'alliance : ")


def test_rule_size_band_that_lags_most():
    f = _faits(score_ensemble=0.87, tranches=[
        {"libelle": "moins de 500 hab.", "taux": 0.71, "base": 45},
        {"libelle": "de 500 à 999 hab.", "taux": 0.84, "base": 80},
        {"libelle": "50 000 hab. ou plus", "taux": 0.60, "base": 1},  # one commune: not a band to speak of
    ])
    p = retenir.regle_tranche(f)
    assert p.texte == (f"Les communes de moins de 500 hab. ont le score le plus bas : 71{NB}/{NB}100 (moyenne de "
                       f"45 communes), contre 87{NB}/{NB}100 pour l'ensemble du territoire.")
    assert p.ancre == "tranches"
    assert retenir.regle_tranche(_faits(score_ensemble=0.87, tranches=f.tranches[:1])) is None


def test_rule_communes_to_support_and_the_most_common_reason():
    f = _faits(accompagner={"n": 77, "base": 277, "motifs": {"messagerie grand public": 60,
                                                             "pas de site internet déclaré": 17}})
    p = retenir.regle_accompagner(f)
    assert p.texte == (f"77 communes sur 277 sont à accompagner (27,8{NB}%) ; motif le plus fréquent : "
                       "messagerie grand public (60 communes).")
    assert p.ancre == "accompagner"
    assert retenir.regle_accompagner(_faits(accompagner={"n": 1, "base": 3, "motifs": {}})) is None


def test_rule_service_whose_adoption_varies_most_for_an_operator():
    f = _faits(niveau="operateur", nom="Mégalis Bretagne", services=[
        {"libelle": "Actes", "territoires": [{"nom": "Finistère", "taux": 0.8, "base": 100},
                                             {"nom": "Morbihan", "taux": 0.7, "base": 90}]},
        {"libelle": "Parapheur électronique", "territoires": [{"nom": "Finistère", "taux": 0.58, "base": 100},
                                                              {"nom": "Morbihan", "taux": 0.12, "base": 40},
                                                              {"nom": "Côtes-d'Armor", "taux": 0.0, "base": 3}]},
    ])
    p = retenir.regle_service(f)
    assert p.texte == (f"Le service « Parapheur électronique » est le plus inégalement adopté : de 12,0{NB}% des "
                       f"communes adhérentes (Morbihan, 40 communes) à 58,0{NB}% (Finistère, 100 communes).")
    assert p.ancre == "adhesion"
    assert retenir.regle_service(_faits(services=f.services)) is None  # a département: not this rule


def test_a_territory_the_source_knows_nothing_about_gets_one_plain_sentence():
    f = _faits(niveau="departement", nom="Paris", communes=1, fiches=0,
               accompagner={"n": 0, "base": 0, "motifs": {}})
    assert [p.texte for p in retenir.phrases(f)] == [
        "L'Annuaire de l'administration, source de ces indicateurs, ne contient aucune fiche mairie pour la commune "
        "de ce département : aucun indicateur de présence numérique ne peut être calculé ici."]


def test_at_most_five_sentences_in_rule_order():
    f = _faits(rangs={"score_presence": {"rang": 3, "sur": 26, "taux": 0.874, "base": 277},
                      "part_communes_adherentes": {"rang": 1, "sur": 26, "taux": 0.5, "base": 20, "numerateur": 10}},
               parent={"nom": "Bretagne (région)"},
               ecarts=[{"libelle": "Site", "taux": 0.9, "numerateur": 9, "base": 10, "taux_parent": 0.5}],
               score_ensemble=0.87, tranches=[{"libelle": "moins de 500 hab.", "taux": 0.71, "base": 45},
                                              {"libelle": "de 500 à 999 hab.", "taux": 0.84, "base": 80}],
               accompagner={"n": 7, "base": 277, "motifs": {"x": 7}})
    f.enfants = {"niveau_pluriel": "EPCI", "liste": [{"nom": "A", "taux": 0.5, "base": 10},
                                                     {"nom": "B", "taux": 0.6, "base": 10}]}
    assert [p.regle for p in retenir.phrases(f)] == ["rang_score", "rang_adoption", "ecart_parent", "accompagner",
                                                     "tranche"]  # the sixth (enfant) is dropped


def test_every_sentence_of_a_fixture_page_links_to_an_anchor_of_that_page(in_home, con):
    """The largest EPCI of the fixture: sentences from the warehouse, each linking to a section of the page."""
    import re

    from territoires.reports import donnees, page

    code = con.execute("select code from marts.territoires where niveau = 'epci' and list_contains(departements, '29') "
                       "order by nb_communes desc, code limit 1").fetchone()[0]
    page.nouvelle_page()
    t = donnees.territoire("epci", code, None)
    phrases = retenir.phrases(retenir.faits(t))
    assert 3 <= len(phrases) <= 5, phrases
    assert {p.ancre for p in phrases} <= {"rang", "comparaison", "tranches", "accompagner", "adhesion"}
    html = retenir.section_html(phrases)
    assert html.count("<li>") == len(phrases) and 'id="retenir"' in html
    assert all(re.search(r"\d", p.texte) for p in phrases)


def test_an_operator_with_a_register_gets_its_service_sentence_from_the_warehouse(fixture_adherents, monkeypatch):
    """The fictitious operator's register: figures from the marts, the rule's exact words."""
    from territoires.reports import donnees, page

    home, _ = fixture_adherents
    monkeypatch.setenv("TERRITOIRES_HOME", str(home))
    page.nouvelle_page()
    t = donnees.territoire("operateur", "fictif", str(home / "data" / "processed" / "territoires.duckdb"))
    f = retenir.faits(t)
    assert f.services and all(s["territoires"] for s in f.services)
    # one département in the fixture: no spread to speak of, so no sentence (never a made-up one)
    assert retenir.regle_service(f) is None
    f.services[0]["territoires"].append({"nom": "Département témoin", "taux": 0.0, "base": 10})
    p = retenir.regle_service(f)
    assert p is not None and p.texte.startswith("Le service « ") and "(Département témoin, 10 communes)" in p.texte


def test_rule_territory_one_level_down_that_lags_most():
    f = _faits(niveau="region", nom="Bretagne", score_ensemble=0.82, enfants={"niveau_pluriel": "départements", "liste": [
        {"nom": "Finistère", "taux": 0.84, "base": 277}, {"nom": "Morbihan", "taux": 0.76, "base": 249},
        {"nom": "Territoire minuscule", "taux": 0.10, "base": 3}]})
    p = retenir.regle_enfant(f)
    assert p.texte == (f"Parmi les 2 départements, Morbihan a le score le plus bas : 76{NB}/{NB}100 (moyenne de "
                       f"249 communes), contre 82{NB}/{NB}100 pour cette région.")
    assert p.ancre == "territoires"
    assert retenir.regle_enfant(_faits(score_ensemble=0.82, enfants={"niveau_pluriel": "EPCI", "liste": [
        {"nom": "A", "taux": 0.9, "base": 10}]})) is None


def test_rule_adoption_against_the_parent_when_there_are_no_peers_to_rank_among():
    f = _faits(niveau="operateur", parent={"nom": "l'alliance"},
               adoption={"taux": 1 / 3, "numerateur": 93, "base": 279, "taux_parent": 0.3})
    p = retenir.regle_adoption(f)
    assert p.texte == f"33,3{NB}% des communes adhèrent à leur opérateur (93 sur 279), contre 30,0{NB}% pour l'alliance."
    assert p.ancre == "adhesion"
    # ranked already: not said twice
    f.rangs = {"part_communes_adherentes": {"rang": 1, "sur": 4, "taux": 1 / 3, "base": 279, "numerateur": 93}}
    assert retenir.regle_adoption(f) is None
    assert retenir.regle_adoption(_faits(adoption={"taux": 0.5, "numerateur": 2, "base": 4})) is None
