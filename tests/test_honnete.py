"""Honest figures on the pages (issue 10, items 3, 5, 6, 11): an indicator the source does
not inform is never 0 %; the headline base, the list and its CSV agree; the score shows
its weights; breadcrumbs do not nest a département in another; peers and rank shown."""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from pathlib import Path

import pytest


EPCI_POHER = "242900744"  # over Côtes-d'Armor and Finistère


@pytest.fixture(scope="module")
def pages(batch) -> Path:
    """The fixture site (conftest.batch: every page of the Finistère slice, made once)."""
    return batch[0]


def _texte(path: Path) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")))


def test_the_catalogue_decides_from_the_data_which_indicator_the_source_does_not_inform(con):
    renseigne = dict(con.execute("select indicateur, renseigne from marts.indicateurs_catalogue").fetchall())
    assert renseigne["part_accessibilite"] is False  # « NAC » on every entry: the source's default
    assert renseigne["part_site"] is True and renseigne["score_presence"] is True


def test_no_page_shows_zero_percent_for_an_uninformed_criterion(pages):
    vues = 0
    for path in [pages / "alliance.html", pages / "departement" / "29.html"]:
        body = path.read_text(encoding="utf-8")
        for m in re.finditer(r"<tr>(?:(?!</tr>).)*accessibilit(?:(?!</tr>).)*</tr>", body, flags=re.S):
            ligne = unescape(re.sub(r"<[^>]+>", " ", m.group(0)))
            assert "0,0" not in ligne and "non renseigné dans la source" in ligne, ligne
            vues += 1
    assert vues  # the alliance's table of every indicator holds it


def test_headline_base_list_and_csv_of_a_page_agree(pages):
    body = (pages / "departement" / "29.html").read_text(encoding="utf-8")
    texte = _texte(pages / "departement" / "29.html")
    base = int(re.search(r"Les taux portent sur les (\d+) communes", texte).group(1))
    n_carte = int(re.search(r'<span class="valeur">(\d+)</span><span class="libelle">Communes à accompagner', body).group(1))
    intro = re.search(r"(\d+) communes sur (\d+) n'ont pas de site", texte)
    bouton = re.search(r"Télécharger la liste \(CSV, (\d+) à accompagner(?:, plus (\d+) sans fiche)?", texte)
    assert (int(intro.group(1)), int(intro.group(2))) == (n_carte, base)
    assert int(bouton.group(1)) == n_carte
    lignes = list(csv.DictReader(io.StringIO((pages / "departement" / "29-communes.csv").read_text(encoding="utf-8-sig")),
                                 delimiter=";"))
    assert len(lignes) == n_carte + int(bouton.group(2) or 0)
    toutes = (pages / "departement" / "29-toutes-communes.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(toutes) - 1 == int(re.search(r"Toutes les communes du territoire \(CSV, (\d+) communes", texte).group(1))
    # the list is by priority: lowest score first
    scores = [int(x) for x in re.findall(r'<td class="num secondaire"[^>]*>(\d+)</td>', body.split('id="liste-communes"')[1])]
    assert scores == sorted(scores) or not scores


def test_the_score_shows_its_weights_and_every_key_rate_its_base(pages):
    texte = _texte(pages / "departement" / "29.html")
    assert "Poids : site internet déclaré 20" in texte and "(sur 100)" in texte
    assert re.search(r"moyenne de \d+ communes", texte)
    assert re.search(r"Source : fiches mairie de l'Annuaire de l'administration \(DILA\), date d'extraction inconnue", texte)


def test_an_epci_over_two_departements_gets_them_side_by_side_in_its_breadcrumb(pages):
    body = (pages / "epci" / f"{EPCI_POHER}.html").read_text(encoding="utf-8")
    ariane = re.search(r'<nav class="ariane".*?</nav>', body, flags=re.S).group(0)
    crumbs = re.findall(r"<li>(.*?)</li>", ariane)
    assert any("Finistère" in c and "Côtes-d&#x27;Armor" in c for c in crumbs), crumbs
    # its rates count the 4 communes outside the fixture's scope, and its map draws them: said where the base is
    texte = _texte(pages / "epci" / f"{EPCI_POHER}.html")
    assert "Les taux portent sur les 11 communes" in texte
    assert "4 d'entre elles sont hors des régions de l'entrepôt : comptées dans les taux et dessinées sur la carte" in texte
    carte = body[body.index('id="carte"'):]
    carte = carte[:carte.index("</figure>")]
    assert len(set(re.findall(r'"(22\d{3})"', carte))) == 4, "les 4 communes des Côtes-d'Armor sur la carte"


def test_pages_open_with_findings_and_show_their_rank(pages):
    epci = _texte(pages / "epci" / f"{EPCI_POHER}.html")
    assert "Ce qu'il faut retenir" in epci and "Rang parmi les territoires comparables" in epci
    assert re.search(r"se classe \d+(er|e) sur les \d+ EPCI de l'alliance", epci)
    assert re.search(r"Rang : \d+(er|e) sur \d+ EPCI \((premier|deuxième|troisième|dernier) quart\)", epci)
    assert "Ce qu'il faut retenir" in _texte(pages / "alliance.html")


def test_a_territory_without_any_directory_entry_says_so_plainly(monkeypatch):
    """Paris (75056) has no directory entry in the embedded source: no « 0 des 1 »."""
    from types import SimpleNamespace

    from territoires.reports import page
    from territoires.reports.tableau_de_bord import _intro_tranches

    paris = SimpleNamespace(con=None, niveau="departement", code="75", nb_communes=1)
    monkeypatch.setattr(page, "taux", lambda *a, **k: {})
    monkeypatch.setattr(page, "sans_fiche", lambda t: [{"nom": "Paris", "code": "75056", "fiche": False}])
    assert unescape(page.note_base(paris)) == (
        '<p class="note base">L\'Annuaire de l\'administration ne contient aucune fiche mairie pour la commune de ce '
        "territoire : la source n'a rien pour lui, aucun taux n'est calculé.</p>")
    assert _intro_tranches(0, 1, "2017") == "La commune a au moins 3\u202f500 habitants (population municipale 2017)."
    assert _intro_tranches(0, 12, "2017") == "Aucune des 12 communes n'a moins de 3\u202f500 habitants (population municipale 2017)."


def test_sources_link_to_their_producers_not_to_a_package_page(pages):
    body = (pages / "departement" / "29.html").read_text(encoding="utf-8")
    sources = body.split('id="sources"')[1]
    assert 'href="https://www.insee.fr/' in sources and 'href="https://lannuaire.service-public.fr/"' in sources
    assert "pypi.org" not in sources
