"""The alliance's domains on the pages (issue 20, item 4): « Cybersécurité », « Données
ouvertes », « Achats responsables » on every dashboard and « Les chantiers de l'alliance »
on the alliance page, without their sources (the session site: one sentence each, no
figure) and with them (a home where the open-data export, the DECP and the DPNT are
fetched through loopback, a fictitious register loaded and a probe journal written:
tests/chantiers_fabrique.py). Figures recounted here in plain Python from the journal's
rules and the register; findings as exact sentences; Chromium: maps drawn (the domains'
maps share the page's commune shapes), axe-core clean, the A4 fiche's page 1 unchanged.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from html import unescape
from pathlib import Path

import pytest

from territoires.indicators.domaines import domaines, lire
from territoires.indicators.load import CATALOGUE_FILE, DonneesError
from territoires.reports import retenir
from territoires.reports.retenir import Faits

NB = "\u202f"
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks" / "reports"


def _section(html: str, ident: str) -> str:
    m = re.search(rf'<section class="bloc" id="{ident}".*?</section>', html, re.S)
    assert m, ident
    return m.group(0)


def _autres(html: str, ident: str) -> str:
    """A domain section's part on the members that are not communes: from its heading to the next section."""
    m = re.search(rf'<section class="bloc" id="{ident}".*?(<h3>Autres adhérents.*?)(?=<section class="bloc"|$)', html, re.S)
    assert m, ident
    return m.group(1)


def _texte(fragment: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _ligne(fragment: str, libelle: str) -> list[str]:
    """The cells of the table row whose header is ``libelle``."""
    for tr in re.findall(r"<tr>.*?</tr>", fragment, re.S):
        cells = [_texte(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
        if cells and cells[0] == libelle:
            return cells
    raise AssertionError(f"ligne « {libelle} » absente")


# ── the declaration ─────────────────────────────────────────────────────────

def test_the_domains_are_declared_once_in_the_catalogue():
    assert [d.titre for d in domaines()] == ["Cybersécurité", "Données ouvertes", "Achats responsables"]
    assert [d.ancre for d in domaines()] == ["cybersecurite", "donnees-ouvertes", "achats-responsables"]
    cyber, ouvertes, achats = domaines()
    assert cyber.indicateurs[0] == "part_https_valide_sonde" and "part_mx_etranger_sonde" in cyber.indicateurs
    assert ouvertes.indicateurs == ("part_donnees_ouvertes", "part_donnees_ouvertes_observatoire",
                                    "part_plateforme_opendata_operateur")
    assert ouvertes.sources == ("datagouv-organisations", "odf-observatoire")
    assert "part_acheteurs_plateforme_operateur" in achats.indicateurs


def test_a_domain_naming_an_unknown_indicator_is_refused_with_the_file(tmp_path):
    texte = CATALOGUE_FILE.read_text(encoding="utf-8")
    faux = tmp_path / "catalogue.toml"
    faux.write_text(texte.replace('indicateurs = ["part_donnees_ouvertes", ', 'indicateurs = ["part_inventee", '),
                    encoding="utf-8")
    with pytest.raises(DonneesError, match=r"catalogue\.toml : \[domaines\.donnees_ouvertes\] : indicateur\(s\) "
                                           r"\['part_inventee'\] absent\(s\)"):
        lire(faux)
    faux.write_text(texte.replace('titre = "Achats responsables"\n', ""), encoding="utf-8")
    with pytest.raises(DonneesError, match=r"\[domaines\.achats_responsables\] : champ\(s\) manquant\(s\) \['titre'\]"):
        lire(faux)


def test_count_criteria_are_summed_and_judged_like_yes_no_facts():
    """A domain indicator may count (contracts with a social clause over contracts): the
    sections sum numerators and bases per side, and a commune is to support when part of
    its base misses the criterion (or, « baisse favorable », when any of it meets it)."""
    from territoires.reports.chantiers import par_adhesion
    from territoires.reports.chantiers_mesures import a_accompagner

    inds = [{"indicateur": "part_clauses", "libelle_court": "clauses sociales", "polarite": "hausse_favorable"},
            {"indicateur": "part_etranger", "libelle_court": "messagerie étrangère", "polarite": "baisse_favorable"}]
    rows = [{"code": "29001", "nom": "A", "population": 10, "adherente": True, "faits": [(3, 5), (0, 1)]},
            {"code": "29002", "nom": "B", "population": 20, "adherente": False, "faits": [(4, 4), (1, 1)]},
            {"code": "29003", "nom": "C", "population": 30, "adherente": True, "faits": [(0, 0), (0, 0)]},
            {"code": "29004", "nom": "D", "population": 40, "adherente": None, "faits": [(2, 2), (0, 1)]}]
    assert par_adhesion(rows, inds) == {True: [(3, 5), (0, 1)], False: [(4, 4), (1, 1)]}
    assert par_adhesion([dict(r, adherente=None) for r in rows], inds) is None  # no register: no split
    assert [(r["code"], r["motifs"]) for r in a_accompagner(rows, inds)] == [
        ("29002", ["Messagerie étrangère"]), ("29001", ["Clauses sociales"])]


def test_a_mean_with_its_unit_is_shown_as_such_never_as_a_share():
    """A domain indicator in km (a mean distance to the titulaire) reads « 12,5 km (4) »
    in the tables; shares keep « 46,6 % (129 / 277) »; nothing measured is « – »."""
    from territoires.reports.chantiers_mesures import pourcentage
    from territoires.reports.chantiers_mesures import val as _val

    km = {"indicateur": "distance_moyenne_titulaire", "unite": "km", "polarite": "baisse_favorable"}
    part = {"indicateur": "part_dmarc_sonde", "unite": "%"}
    assert _val(km, 50, 4) == "12,5 km (4)" and not pourcentage(km)
    assert _val(part, 129, 277) == f"46,6{NB}% (129 / 277)" and pourcentage(part)
    assert _val(km, 0, 0) == _val(part, 0, 0) == "–"


# ── findings: exact sentences ───────────────────────────────────────────────

def _faits(**kw) -> Faits:
    return Faits(**{"niveau": "departement", "nom": "Finistère", "communes": 277, "fiches": 277, **kw})


DMARC = {"domaine": "Cybersécurité", "ancre": "cybersecurite", "polarite": "hausse_favorable",
         "libelle": "Communes dont le domaine de messagerie est protégé par DMARC (sonde)", "taux": 129 / 277,
         "numerateur": 129, "base": 277, "taux_adherentes": 33 / 93, "base_adherentes": 93,
         "taux_non_adherentes": 96 / 184, "base_non_adherentes": 184}
ETRANGER = {"domaine": "Cybersécurité", "ancre": "cybersecurite", "polarite": "baisse_favorable",
            "libelle": "Communes dont la messagerie est chez un fournisseur étranger (sonde)", "taux": 0.62,
            "numerateur": 62, "base": 100}
OUVERTES = {"domaine": "Données ouvertes", "ancre": "donnees-ouvertes", "polarite": "hausse_favorable",
            "libelle": "Communes publiant des données ouvertes sur data.gouv.fr", "taux": 1 / 276, "numerateur": 1,
            "base": 276}


def test_rule_weakest_domain_indicator():
    p = retenir.regle_chantier_faible(_faits(chantiers=[DMARC, OUVERTES]))
    assert p.texte == ("Données ouvertes, point le plus faible : communes publiant des données ouvertes sur data.gouv.fr, "
                       f"0,4{NB}% (1 sur 276 communes mesurées).")
    assert p.ancre == "donnees-ouvertes"
    # a « baisse favorable » indicator counts its complement: 62 % at a foreign webmail is 38 % favourable
    assert retenir.regle_chantier_faible(_faits(chantiers=[DMARC, ETRANGER])).texte == (
        "Cybersécurité, point le plus faible : communes dont la messagerie est chez un fournisseur étranger (sonde), "
        f"62,0{NB}% (62 sur 100 communes mesurées).")
    # too small a base, nothing measured, or nothing below one half: nothing said
    assert retenir.regle_chantier_faible(_faits(chantiers=[dict(OUVERTES, base=4, numerateur=0, taux=0.0)])) is None
    assert retenir.regle_chantier_faible(_faits()) is None
    assert retenir.regle_chantier_faible(_faits(chantiers=[dict(ETRANGER, taux=0.2, numerateur=20)])) is None


def test_rule_members_against_non_members_on_a_domain():
    p = retenir.regle_chantier_adhesion(_faits(chantiers=[DMARC, OUVERTES]))
    assert p.texte == (
        "Cybersécurité, plus grand écart entre adhérentes et non adhérentes : communes dont le domaine de messagerie "
        f"est protégé par DMARC (sonde), 35,5{NB}% des communes adhérentes mesurées (93) contre 52,2{NB}% des non "
        "adhérentes (184), soit 16,7 points de moins.")
    assert p.ancre == "cybersecurite"
    # under 5 points, or a side under 5 communes, or no register: nothing said
    assert retenir.regle_chantier_adhesion(_faits(chantiers=[dict(DMARC, taux_adherentes=0.5, taux_non_adherentes=0.46)])) is None
    assert retenir.regle_chantier_adhesion(_faits(chantiers=[dict(DMARC, base_adherentes=4)])) is None
    assert retenir.regle_chantier_adhesion(_faits(chantiers=[OUVERTES])) is None


OBSERVATOIRE = {"indicateur": "part_donnees_ouvertes_observatoire", "domaine": "Données ouvertes",
                "ancre": "donnees-ouvertes", "polarite": "hausse_favorable", "taux": 12 / 276, "numerateur": 12,
                "base": 276, "libelle": "Communes publiant des données ouvertes d'après l'Observatoire open data des territoires"}
PLATEFORME = {"indicateur": "part_plateforme_opendata_operateur", "domaine": "Données ouvertes",
              "ancre": "donnees-ouvertes", "polarite": "hausse_favorable", "taux": 5 / 276, "numerateur": 5, "base": 276,
              "libelle": "Communes publiant par la plateforme de données ouvertes de leur opérateur"}


def test_rule_open_data_by_the_observatory():
    """Issue 20: of the communes the observatory finds publishing, how many through their
    operator's platform and how many data.gouv.fr finds under their SIRET, on one base."""
    dg = dict(OUVERTES, indicateur="part_donnees_ouvertes", numerateur=3, taux=3 / 276, base=276)
    p = retenir.regle_chantier_observatoire(_faits(chantiers=[dg, OBSERVATOIRE, PLATEFORME]))
    assert p.texte == ("Données ouvertes, d'après l'Observatoire open data des territoires : 12 des 276 communes "
                       f"mesurées publient des données ouvertes, dont 5 par la plateforme de leur opérateur (41,7{NB}%) ; "
                       "data.gouv.fr en compte 3 publiant sous leur propre SIRET.")
    assert (p.ancre, p.regle) == ("donnees-ouvertes", "chantier_observatoire")
    # an operator without a platform for part of the communes (another base): that clause is left out
    p = retenir.regle_chantier_observatoire(_faits(chantiers=[dg, OBSERVATOIRE, dict(PLATEFORME, base=200)]))
    assert p.texte.endswith("12 des 276 communes mesurées publient des données ouvertes ; data.gouv.fr en compte 3 "
                            "publiant sous leur propre SIRET.")
    assert retenir.regle_chantier_observatoire(_faits(chantiers=[OBSERVATOIRE, PLATEFORME])).texte.endswith(
        f"dont 5 par la plateforme de leur opérateur (41,7{NB}%).")
    # nothing to compare, fewer than 5 publishing communes, or no observatory: nothing said
    assert retenir.regle_chantier_observatoire(_faits(chantiers=[OBSERVATOIRE])) is None
    assert retenir.regle_chantier_observatoire(_faits(chantiers=[dict(OBSERVATOIRE, numerateur=4), PLATEFORME])) is None
    assert retenir.regle_chantier_observatoire(_faits(chantiers=[dg, PLATEFORME])) is None
    # said after the weakest domain indicator, before the members' gap
    ordre = [p.regle for p in retenir.phrases(_faits(chantiers=[dict(DMARC, taux=0.3), OBSERVATOIRE, PLATEFORME]))]
    assert ordre == ["chantier_faible", "chantier_observatoire", "chantier_adhesion"]


# ── without the sources: the session site ──────────────────────────────────

@pytest.fixture(scope="module")
def pages(batch) -> Path:
    return batch[0]


@pytest.mark.parametrize("page", ["departement/29.html", "epci/242900314.html", "operateur/megalis.html"])
def test_without_their_sources_each_section_is_one_sentence_and_no_figure(pages, page):
    html = (pages / page).read_text(encoding="utf-8")
    for d in domaines():
        s = _section(html, d.ancre)
        assert _texte(s) == f"{d.titre} {d.absente}"
        assert "%" not in _texte(s)
    assert "#meme:" not in html  # no domain map


def test_without_their_sources_the_alliance_page_says_so_per_domain(pages):
    s = _texte(_section((pages / "alliance.html").read_text(encoding="utf-8"), "chantiers"))
    assert s.startswith("Les chantiers de l'alliance ")
    for d in domaines():
        assert f"{d.titre} {d.absente}" in s
    assert "%" not in s


# ── with the sources ────────────────────────────────────────────────────────

@pytest.fixture(scope="module")
def site_chantiers(tmp_path_factory, fixture_warehouse):
    """The home with every domain's source (chantiers_fabrique), its département, one
    EPCI, its operator and alliance pages: ``(home, reports)``."""
    from chantiers_fabrique import home_chantiers

    from territoires.reports import runner

    home = home_chantiers(tmp_path_factory.mktemp("chantiers"), fixture_warehouse, "29")
    rapport = runner.run("departement:29,epci:242900314,operateur:fictif,alliance", jobs=1, quiet=True, home=home,
                         notebooks_dir=NOTEBOOKS)
    assert not rapport.echecs, rapport.echecs
    return home, home / "reports"


def _recompte(home: Path) -> dict:
    """From the journal and the register alone: per commune with a mail domain, whether it
    is a member and whether its DMARC policy protects it (quarantine or reject)."""
    from chantiers_fabrique import resultat_mail
    from conftest import registre_fictif

    from territoires.sonde.journal import lire as lire_journal

    (journal,) = (home / "data" / "processed" / "sondes").glob("*.jsonl")
    lignes = lire_journal(journal)
    mail = {l["cle"]: l["resultat"] for l in lignes if l["type"] == "controle" and l["objet"] == "mail"}
    domaines_tries = sorted(mail)
    assert all(mail[d] == resultat_mail(k) for k, d in enumerate(domaines_tries))  # the rule, as written
    cibles = [l for l in lignes if l["type"] == "cible" and l["genre"] == "commune" and l["cle_mail"]]
    return {"cibles": cibles, "mail": mail}


def test_sections_show_members_against_non_members_as_recounted(site_chantiers, fixture_warehouse):
    import duckdb
    from conftest import registre_fictif

    home, reports = site_chantiers
    r = _recompte(home)
    with duckdb.connect(str(fixture_warehouse), read_only=True) as c:
        communes = [x for (x,) in c.execute("select code from marts.territoires where niveau = 'commune' order by code").fetchall()]
    _, membres = registre_fictif(communes, "")
    compte = {True: [0, 0], False: [0, 0]}
    for l in r["cibles"]:
        res = r["mail"][l["cle_mail"]]
        cote = compte[l["identifiant"] in membres]
        cote[0] += res["dmarc"] in ("quarantine", "reject")
        cote[1] += 1
    html = (reports / "departement" / "29.html").read_text(encoding="utf-8")
    s = _section(html, "cybersecurite")
    n = compte[True][0] + compte[False][0]
    d = compte[True][1] + compte[False][1]

    def pct(a: int, b: int) -> str:
        return f"{a / b * 100:.1f}".replace(".", ",") + f" % ({a} / {b})"  # _texte: a narrow space is a space
    assert _ligne(s, "DMARC protégé") == ["DMARC protégé", pct(n, d),
        pct(*compte[True]), pct(*compte[False])]
    assert "Source : sonde de cybersécurité (date des contrôles) : 2026-11-30" in _texte(html)
    assert "Observatoire open data des territoires (OpenDataFrance, édition 2022)" in _texte(html)  # fetched here
    # the finding at the top of the page says the same figures
    retenu = _texte(_section(html, "retenir"))
    assert (f"{pct(*compte[True]).split(' (')[0]} des communes adhérentes mesurées ({compte[True][1]}) contre "
            f"{pct(*compte[False]).split(' (')[0]} des non adhérentes ({compte[False][1]})") in retenu


def test_the_list_to_support_and_its_csv_agree_with_the_journal(site_chantiers):
    home, reports = site_chantiers
    html = (reports / "departement" / "29.html").read_text(encoding="utf-8")
    # the page's exporter writes each CSV beside the page (the link keeps its download name)
    m = re.search(r'href="([^"]+\.csv)" download="cybersecurite-departement-29\.csv"', html)
    texte = (reports / "departement" / m.group(1)).read_text(encoding="utf-8-sig")
    lignes = list(csv.DictReader(io.StringIO(texte), delimiter=";"))
    r = _recompte(home)
    # a commune whose mail domain has no DMARC protection is on the list, with « non » in that column
    sans_dmarc = {l["identifiant"] for l in r["cibles"] if r["mail"][l["cle_mail"]]["dmarc"] not in ("quarantine", "reject")}
    par_code = {x["code_commune"]: x for x in lignes}
    assert sans_dmarc <= set(par_code) and all(par_code[c]["part_dmarc_sonde"] == "non" for c in sans_dmarc)
    assert all("DMARC protégé" in par_code[c]["motifs"] for c in sans_dmarc)
    # the most criteria missed first
    manques = [len(x["motifs"].split(" ; ")) for x in lignes]
    assert manques == sorted(manques, reverse=True)
    assert f"({len(lignes)})</h3>" in html


def _attendus_membres(home: Path) -> dict[str, dict]:
    """Per non-commune member of the fictitious register (its SIRET, or the EPCI's SIREN),
    recounted from the files served (chantiers_fabrique.organisations_membres) and the probe's
    journal alone: open data by the first 9 digits of data.gouv.fr's business_number_id and by
    the observatory's SIREN; the probe's conclusions on the member's site and mail domain."""
    from urllib.parse import urlsplit

    import pyarrow.parquet as pq
    from adherents_fabrique import siret
    from chantiers_fabrique import decp_membres, organisations_membres
    from test_sources_build import _compte, _marches_actuels

    from territoires.sonde.journal import lire as lire_journal

    servis = organisations_membres()
    marches = _marches_actuels([r for r in pq.read_table(io.BytesIO(decp_membres())).to_pylist()
                                if r["acheteur_departement_code"] == "29"]).values()
    jeux: dict[str, int] = {}
    modifie: dict[str, str] = {}
    for r in csv.DictReader(io.StringIO(servis["datagouv-organisations"].decode("utf-8")), delimiter=";"):
        if len(r["business_number_id"]) == 14:
            s = r["business_number_id"][:9]
            jeux[s] = jeux.get(s, 0) + int(r["metric.datasets"])
            modifie[s] = max(modifie.get(s, ""), r["last_modified"])
    obs = {r["siren"]: r for r in csv.DictReader(io.StringIO(servis["odf-observatoire"].decode("utf-8")))}
    (journal,) = (home / "data" / "processed" / "sondes").glob("*.jsonl")
    lignes = lire_journal(journal)
    res = {(l["objet"], l["cle"]): l["resultat"] for l in lignes if l["type"] == "controle"}
    cibles = {l["identifiant"]: l for l in lignes if l["type"] == "cible" and l["genre"] == "adherent"}
    with __import__("duckdb").connect(str(home / "data" / "processed" / "territoires.duckdb"), read_only=True) as c:
        epci = c.execute("select code from marts.territoires where niveau = 'epci' order by code").fetchone()[0]
    out = {}
    for ident in (epci, siret(6001), siret(6002), siret(6005), siret(6006)):
        siren = ident[:9]
        o = obs.get(siren) or {}
        publie_odf = int(o.get("nb-ptf") or 0) + int(o.get("nb-datagouv") or 0) > 0
        hote = urlsplit(o.get("url-ptf") or "").hostname or ""
        w = res.get(("web", (cibles.get(ident) or {}).get("cle_web")))
        m = res.get(("mail", (cibles.get(ident) or {}).get("cle_mail")))
        out[ident] = {
            "opendata_publie": jeux.get(siren, 0) > 0, "opendata_jeux": jeux.get(siren, 0),
            "opendata_modifie_le": modifie.get(siren) or None,
            "odf_publie": publie_odf,
            "odf_plateforme_operateur": publie_odf and (hote == "megalis.bretagne.bzh"
                                                        or hote.endswith(".megalis.bretagne.bzh")),
            "sonde_site": w is not None, "sonde_https_valide": bool(w and w["https_joignable"] and w["certificat_valide"]),
            "sonde_mail": m is not None, "sonde_spf": bool(m and m["spf"]),
            "sonde_dmarc_protege": bool(m and m["dmarc"] in ("quarantine", "reject")),
            "sonde_mx_etranger": bool(m and "google" in m["mx_principal"]),
        }
        achats = [x for x in marches if x["acheteur"][:9] == siren]
        out[ident].update(achats_acheteur=bool(achats), achats_clause_sociale=any(x["sociale"] for x in achats),
                          achats_clause_environnementale=any(x["environnementale"] for x in achats))
        for fait, col in (("sociale", "achats_marches_sociaux"), ("environnementale", "achats_marches_environnementaux"),
                          ("pme", "achats_marches_pme")):
            out[ident][col], out[ident][col + "_renseignes"] = _compte(achats, fait)
    return out


def test_non_commune_members_open_data_and_probe_recounted_from_the_files(site_chantiers):
    """Issue 20: the members that are not communes (an EPCI, a CCAS, two syndicats, a
    hospital without commune) matched by SIREN to data.gouv.fr's export and the observatory,
    and checked by the probe: marts.adherents_chantiers equals the recount from the files."""
    import duckdb

    home, _ = site_chantiers
    attendus = _attendus_membres(home)
    colonnes = list(next(iter(attendus.values())))
    with duckdb.connect(str(home / "data" / "processed" / "territoires.duckdb"), read_only=True) as c:
        rows = c.execute(f"select identifiant, opendata_rapprochable, odf_rapprochable, {', '.join(colonnes)} "
                         "from marts.adherents_chantiers where operateur = 'fictif'").fetchall()
    got = {r[0]: dict(zip(colonnes, r[3:])) for r in rows}
    for x in got.values():
        if x["opendata_modifie_le"] is not None:
            x["opendata_modifie_le"] = x["opendata_modifie_le"].isoformat()
    assert got == attendus
    assert all(r[1] and r[2] for r in rows)  # every one has a SIREN, both files are fetched
    # the fixture covers each case: publishes or not, on the operator's platform or another, probed or not
    assert {x["opendata_publie"] for x in attendus.values()} == {True, False}
    assert {x["odf_plateforme_operateur"] for x in attendus.values()} == {True, False}
    assert {x["sonde_site"] for x in attendus.values()} == {True, False}
    assert {x["achats_acheteur"] for x in attendus.values()} == {True, False}


def test_sections_list_the_non_commune_members_with_their_csv(site_chantiers):
    """The domain sections show the members that are not communes: their rates, those to
    support first, datasets and last update for open data, a CSV; the hospital without a
    commune is on the operator's page, not on the département's."""
    from adherents_fabrique import siret

    home, reports = site_chantiers
    attendus = _attendus_membres(home)
    html = (reports / "departement" / "29.html").read_text(encoding="utf-8")
    s = _autres(html, "donnees-ouvertes")
    ici = {k: v for k, v in attendus.items() if k != siret(6002)}

    def pct(crit: str, membres: dict) -> str:
        n, d = sum(x[crit] for x in membres.values()), len(membres)
        return f"{n / d * 100:.1f}".replace(".", ",") + f" % ({n} / {d})"
    assert _ligne(s, "Données ouvertes")[1:] == [pct("opendata_publie", ici)]
    assert _ligne(s, "Données ouvertes (observatoire)")[1:] == [pct("odf_publie", ici)]
    assert _ligne(s, "Plateforme open data de l'opérateur")[1:] == [pct("odf_plateforme_operateur", ici)]
    m = re.search(r'href="([^"]+\.csv)" download="donnees-ouvertes-autres-adherents-departement-29\.csv"', html)
    lignes = list(csv.DictReader(io.StringIO((reports / "departement" / m.group(1)).read_text(encoding="utf-8-sig")),
                                 delimiter=";"))
    assert {x["identifiant"] for x in lignes} == set(ici)
    for x in lignes:
        a = ici[x["identifiant"]]
        assert x["part_donnees_ouvertes"] == ("oui" if a["opendata_publie"] else "non")
        assert x["opendata_jeux"] == str(a["opendata_jeux"])
        assert bool(x["opendata_modifie_le"]) == bool(a["opendata_modifie_le"])
        assert (x["motifs"] == "") == (a["opendata_publie"] and a["odf_publie"] and a["odf_plateforme_operateur"])
    motifs = [bool(x["motifs"]) for x in lignes]
    assert motifs == sorted(motifs, reverse=True)  # those to support first
    assert "&lt;script&gt;alert" in s and "<script>alert" not in s  # a hostile name stays text
    texte = _texte(s)
    assert "CCAS fictif CCAS / CIAS 3 15/09/2026" in texte  # datasets and last update
    # the hospital has no commune: on its operator's page only
    assert "Hôpital fictif sans commune" not in texte
    assert "Hôpital fictif sans commune" in _texte(_autres((reports / "operateur" / "fictif.html").read_text(
        encoding="utf-8"), "donnees-ouvertes"))
    # an EPCI whose communes hold only member communes: one sentence per section, no figure
    epci = (reports / "epci" / "242900314.html").read_text(encoding="utf-8")
    for d in domaines():
        assert _texte(_autres(epci, d.ancre)).startswith(
            f"Autres adhérents : {d.titre.lower()} Les registres chargés ne comptent, dans ce territoire, aucun "
            "adhérent autre qu'une commune (EPCI, syndicat, département…) : rien à mesurer ici. Source :")
    # the probe's checks of the members in the cybersecurity section
    cyber = _autres(html, "cybersecurite")
    sondes = {k: v for k, v in ici.items() if v["sonde_site"]}
    assert _ligne(cyber, "DMARC protégé")[-1] == pct("sonde_dmarc_protege", sondes)
    # purchasing: the members that buy (the CCAS), its contracts with a social clause
    achats = _autres(html, "achats-responsables")
    acheteurs = {k: v for k, v in ici.items() if v["achats_acheteur"]}
    assert _ligne(achats, "Clause sociale (acheteurs)")[-1] == pct("achats_clause_sociale", acheteurs)
    n, d = (sum(v[k] for v in acheteurs.values()) for k in ("achats_marches_sociaux", "achats_marches_sociaux_renseignes"))
    assert _ligne(achats, "Clause sociale (marchés)")[-1] == f"{n / d * 100:.1f}".replace(".", ",") + f" % ({n} / {d})"
    assert "CCAS fictif" in _texte(achats)


def test_the_findings_read_the_observatory_as_the_marts_count_it(site_chantiers):
    """The observatory's figures reach « Ce qu'il faut retenir » as marts.indicateurs counts
    them; the fixture's two publishing communes are under the rule's minimum: nothing said."""
    import duckdb

    from territoires.reports import chantiers, donnees

    home, reports = site_chantiers
    entrepot = home / "data" / "processed" / "territoires.duckdb"
    t = donnees.territoire("departement", "29", str(entrepot))
    par = {x["indicateur"]: x for x in chantiers.faits(t)}
    with duckdb.connect(str(entrepot), read_only=True) as c:
        for i in (retenir.OBSERVATOIRE, retenir.PLATEFORME_OPERATEUR, retenir.DATAGOUV):
            attendu = c.execute("select numerateur, denominateur from marts.indicateurs where niveau = 'departement' "
                                "and code = '29' and tranche_taille = 'ensemble' and indicateur = ?", [i]).fetchone()
            assert (par[i]["numerateur"], par[i]["base"]) == attendu, i
    assert par[retenir.OBSERVATOIRE]["numerateur"] < retenir.BASE_MIN
    assert retenir.regle_chantier_observatoire(retenir.Faits("departement", "Finistère", chantiers=list(par.values()))) is None
    retenu = _texte(_section((reports / "departement" / "29.html").read_text(encoding="utf-8"), "retenir"))
    assert "d'après l'Observatoire open data des territoires" not in retenu


def test_the_alliance_page_puts_the_operators_side_by_side(site_chantiers):
    import duckdb

    home, reports = site_chantiers
    s = _section((reports / "alliance.html").read_text(encoding="utf-8"), "chantiers")
    with duckdb.connect(str(home / "data" / "processed" / "territoires.duckdb"), read_only=True) as c:
        n, d = c.execute("select numerateur, denominateur from marts.indicateurs where niveau = 'operateur' "
                         "and code = 'fictif' and tranche_taille = 'ensemble' and indicateur = 'part_donnees_ouvertes'"
                         ).fetchone()
    ligne = _ligne(s, "Données ouvertes")  # the short label, as the members' table below
    assert ligne[1] == f"{n / d * 100:.1f}".replace(".", ",") + f" % ({n} / {d})"
    assert [h for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', s)][:3] == [
        "Indicateur", "Opérateur fictif de test", "Alliance"]
    for d_ in domaines():
        assert f'id="chantier-{d_.ancre}"' in s and d_.absente not in s
    assert "Source : organisations de data.gouv.fr (date du téléchargement)" in _texte(s)


def _autres_alliance(html: str) -> dict[str, str]:
    """Per domain anchor, the alliance page's part on the members that are not communes."""
    s = _section(html, "chantiers")
    parts = {d.ancre: s.split(f'id="chantier-{d.ancre}"')[1].split("<h3")[0].partition("<h4>Autres adhérents")
             for d in domaines()}
    return {k: p[1] + p[2] for k, p in parts.items()}


def test_the_alliance_page_measures_the_other_members_as_recounted(site_chantiers):
    """Issue 20: the alliance page puts each operator's members that are not communes side by
    side on the three domains; its figures and CSV equal the recount from the files served
    and the probe's journal; its labels never say « communes »."""
    from adherents_fabrique import siret

    home, reports = site_chantiers
    attendus = _attendus_membres(home)  # the five, the hospital without a commune included
    html = (reports / "alliance.html").read_text(encoding="utf-8")
    parts = _autres_alliance(html)

    def deux(crit: str, base: str | None) -> list[str]:  # the operator's column, then the alliance's
        membres = [x for x in attendus.values() if base is None or x[base]]
        n = sum(x[crit] for x in membres)
        return [f"{n / len(membres) * 100:.1f}".replace(".", ",") + f" % ({n} / {len(membres)})"] * 2
    cyber, ouvertes, achats = (parts[d.ancre] for d in domaines())
    sondes = sum(x["sonde_site"] or x["sonde_mail"] for x in attendus.values())
    assert _ligne(cyber, "Adhérents mesurés / inscrits au registre")[1:] == [f"{sondes} / 5"] * 2
    assert _ligne(cyber, "HTTPS valide (sonde)")[1:] == deux("sonde_https_valide", "sonde_site")
    assert _ligne(cyber, "DMARC protégé")[1:] == deux("sonde_dmarc_protege", "sonde_mail")
    assert _ligne(ouvertes, "Adhérents mesurés / inscrits au registre")[1:] == ["5 / 5"] * 2
    assert _ligne(ouvertes, "Données ouvertes")[1:] == deux("opendata_publie", None)
    assert _ligne(ouvertes, "Données ouvertes (observatoire)")[1:] == deux("odf_publie", None)
    assert _ligne(achats, "Clause sociale (acheteurs)")[1:] == deux("achats_clause_sociale", "achats_acheteur")
    assert _ligne(achats, "Clause environnementale (acheteurs)")[1:] == deux("achats_clause_environnementale",
                                                                           "achats_acheteur")
    # what is not measured for the members is named, never shown as 0 %
    assert "Mesurés pour les communes seulement : Distance au titulaire, Plateforme de marchés." in _texte(achats)
    assert "Mesuré pour les communes seulement : HTTPS vérifié (ANCT)." in _texte(cyber)
    for part in parts.values():  # a member's table never says « communes »
        assert not [h for h in re.findall(r'<th scope="row">(.*?)</th>', part) if "commune" in h.lower()]
    m = re.search(r'href="([^"]+\.csv)" download="donnees-ouvertes-autres-adherents-alliance-alliance\.csv"', html)
    lignes = list(csv.DictReader(io.StringIO((reports / m.group(1)).read_text(encoding="utf-8-sig")), delimiter=";"))
    assert {x["identifiant"]: x["part_donnees_ouvertes"] for x in lignes} == {
        k: "oui" if v["opendata_publie"] else "non" for k, v in attendus.items()}
    assert siret(6002) in {x["identifiant"] for x in lignes}  # the hospital without a commune is the alliance's too


def test_an_operator_without_a_register_says_so_in_its_column(site_chantiers, monkeypatch):
    """Beside an operator whose register is loaded, one without reads « pas de registre » in
    every row of the members' table, never 0 %, and the alliance's column counts the other."""
    from territoires.reports import adhesion, chantiers, chantiers_adherents, donnees

    home, _ = site_chantiers
    a = donnees.alliance(str(home / "data" / "processed" / "territoires.duckdb"))
    ops = adhesion.operateurs(a)
    monkeypatch.setattr(adhesion, "operateurs", lambda t: ops + [("sans-registre", "Opérateur fictif sans registre")])
    d = chantiers.domaine("donnees_ouvertes")
    part = chantiers_adherents.alliance(a, d, chantiers.indicateurs(a.con, d))
    for libelle in ("Adhérents mesurés / inscrits au registre", "Données ouvertes", "Plateforme open data de l'opérateur"):
        _, fictif, autre, alliance = _ligne(part, libelle)
        assert (autre, alliance) == ("pas de registre", fictif) and fictif != "pas de registre"


@pytest.fixture(scope="module")
def site_sans_observatoire(tmp_path_factory, fixture_warehouse) -> Path:
    """Each domain stands alone: the probe run and data.gouv.fr's export fetched, but not the
    observatory, no DECP and no register: département 29's and the alliance's pages; its ``reports``."""
    from chantiers_fabrique import ecrire_journal
    from sources_fabrique import telecharger_fixtures

    from territoires.reports import runner
    from territoires.warehouse.build import build

    home = tmp_path_factory.mktemp("sans-observatoire")
    ecrire_journal(home, fixture_warehouse)
    telecharger_fixtures(home / "data" / "raw", ["datagouv-organisations", "banatic-perimetre-epci"])
    build(departements=("29",), home=home, quiet=True)
    rapport = runner.run("departement:29,alliance", jobs=1, quiet=True, home=home, notebooks_dir=NOTEBOOKS)
    assert not rapport.echecs, rapport.echecs
    return home / "reports"


def test_without_the_observatory_or_a_register_each_domain_says_what_it_lacks(site_sans_observatoire):
    """The cybersecurity section has its figures and says there is no member comparison
    nor other members measured; open data shows data.gouv.fr's share and names the
    observatory's two indicators as not measured (never 0 %); purchasing is its sentence."""
    html = (site_sans_observatoire / "departement" / "29.html").read_text(encoding="utf-8")
    cyber = _texte(_section(html, "cybersecurite"))
    assert "Communes dont le site répond en HTTPS avec un certificat valide (sonde)" in cyber
    assert ("Aucun registre d'adhérents n'est chargé pour ce territoire : pas de comparaison entre communes "
            "adhérentes et non adhérentes, ni de mesure des adhérents autres que les communes (EPCI, syndicats, "
            "départements…).") in cyber
    assert "Autres adhérents" not in html
    assert "Communes dont le site répond en HTTPS (vérifié par l'ANCT)" not in cyber  # the DPNT is not fetched
    assert ("Non mesuré ici, faute de source chargée (sonde non lancée ou fichier non téléchargé) : "
            "HTTPS vérifié (ANCT).") in cyber
    ouvertes = _texte(_section(html, "donnees-ouvertes"))
    assert "Communes publiant des données ouvertes sur data.gouv.fr" in ouvertes
    assert ("Non mesurés ici, faute de source chargée (sonde non lancée ou fichier non téléchargé) : "
            "données ouvertes (observatoire), plateforme open data de l'opérateur.") in ouvertes
    suite = _texte(html.split('id="donnees-ouvertes"')[1].split('<section class="bloc"')[0])
    assert "Source : organisations de data.gouv.fr (date du téléchargement)" in suite
    assert "Observatoire open data des territoires (OpenDataFrance, édition" not in suite  # its vintage: not loaded
    d = domaines()[2]
    assert _texte(_section(html, d.ancre)) == f"{d.titre} {d.absente}"
    assert html.count("#meme:zone:") == 2  # two domain maps, on the shapes of the page's map


SANS_REGISTRE = ("Aucun registre d'adhérents n'est chargé : les adhérents autres que les communes (EPCI, syndicats, "
                 "départements…) ne sont pas mesurés ici (ni zéro, ni estimation) ; seules les communes le sont.")


def test_without_a_register_the_alliance_page_says_once_the_other_members_are_not_measured(site_sans_observatoire):
    section = _section((site_sans_observatoire / "alliance.html").read_text(encoding="utf-8"), "chantiers")
    s = _texte(section)
    assert s.count(SANS_REGISTRE) == 1 and "Autres adhérents" not in s
    assert "%" in _ligne(section, "HTTPS valide (sonde)")[1]  # the communes are measured


@pytest.fixture(scope="module")
def site_sans_rapprochement(tmp_path_factory, fixture_adherents, fixture_warehouse) -> Path:
    """A register loaded and the probe run over the communes only (none of the register's
    other members checked), no other source: the alliance's page; its ``reports``."""
    import shutil

    from chantiers_fabrique import ecrire_journal

    from territoires.reports import runner
    from territoires.warehouse.build import build

    home = tmp_path_factory.mktemp("sans-rapprochement")
    shutil.copytree(fixture_adherents[0] / "data" / "raw", home / "data" / "raw")
    shutil.copy(fixture_adherents[0] / "operateurs.toml", home / "operateurs.toml")
    ecrire_journal(home, fixture_warehouse)
    build(departements=("29",), home=home, quiet=True)
    rapport = runner.run("alliance", jobs=1, quiet=True, home=home, notebooks_dir=NOTEBOOKS)
    assert not rapport.echecs, rapport.echecs
    return home / "reports"


def test_a_register_none_of_whose_other_members_is_measured_is_one_sentence(site_sans_rapprochement):
    html = (site_sans_rapprochement / "alliance.html").read_text(encoding="utf-8")
    parts = _autres_alliance(html)
    assert _texte(parts["cybersecurite"]) == (
        "Autres adhérents (EPCI, syndicats, départements…) Aucun des 5 adhérents autres que les communes (EPCI, syndicats, "
        "départements…) de l'alliance n'est mesuré ici (SIREN inconnu, absent des sources, ou site et messagerie "
        "non contrôlés) : aucun chiffre n'est montré (ni zéro, ni estimation). Source : sonde de cybersécurité (date "
        "des contrôles) : 2026-11-30 ; liste des opérateurs de messagerie (MX) : 2026-12 ; calculé le "
        + _texte(html).split("calculé le ")[1].split(".")[0] + ".")
    assert SANS_REGISTRE not in _texte(html)
    assert parts["donnees-ouvertes"] == parts["achats-responsables"] == ""  # their sources not fetched: their sentence


# ── in Chromium ─────────────────────────────────────────────────────────────

@pytest.fixture()
def browser(tmp_path):
    from test_browser import CHROMIUM, Chromium

    if CHROMIUM is None:
        pytest.skip("chromium absent")
    b = Chromium(tmp_path / "profil", width=1280)
    for domain in ("Runtime", "Log", "Page", "Network"):
        b.send(f"{domain}.enable")
    b.send("Network.emulateNetworkConditions", offline=True, latency=0, downloadThroughput=-1, uploadThroughput=-1)
    yield b
    b.close()


def _capture(b, path: Path, ident: str, largeur: int) -> None:
    """A screenshot of a section and what follows it up to the next section."""
    b.send("Emulation.setDeviceMetricsOverride", width=largeur, height=900, deviceScaleFactor=1, mobile=largeur < 600)
    b.eval("new Promise(r => setTimeout(r, 300))")
    y0, y1 = b.eval(f"""(function () {{ var s = document.getElementById({json.dumps(ident)}), fin = s, n = s;
      while ((n = n.nextElementSibling) && !n.matches('section.bloc')) fin = n;
      return [s.getBoundingClientRect().top + scrollY, fin.getBoundingClientRect().bottom + scrollY]; }})()""")
    data = b.send("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                  clip={"x": 0, "y": y0, "width": largeur, "height": min(y1 - y0, 8000), "scale": 1})["data"]
    path.write_bytes(base64.b64decode(data))
    assert b.eval("document.documentElement.scrollWidth") <= largeur  # nothing wider than the screen


def _options_carte(b, ancre: str) -> list[str]:
    """The indicators offered by the map that follows a domain's section (none: one indicator)."""
    return b.eval("(function () { var f = document.querySelector('section#" + ancre + " ~ figure.carte');"
                  " var i = Array.from(document.querySelectorAll('figure.graphique')).indexOf(f) + 1;"
                  " var s = document.querySelector('#figure-' + i + ' .selecteur select');"
                  " return s ? Array.from(s.options).map(o => o.text) : []; })()")


@pytest.mark.browser
def test_without_the_observatory_in_chromium(site_sans_observatoire, browser):
    """data.gouv.fr's export without the observatory: the open-data map offers its one
    indicator, the page draws without error, axe-core finds nothing serious (nor on the
    alliance page without a register)."""
    from test_accessibilite import _ouvrir, axe

    _ouvrir(browser, site_sans_observatoire / "alliance.html")  # without a register: axe-clean too
    assert not browser.errors(), browser.errors()
    assert not [v for v in axe(browser) if v["impact"] in ("serious", "critical")]
    browser.events.clear()  # axe itself asks for the CSS, which file:// refuses: not the page's error
    _ouvrir(browser, site_sans_observatoire / "departement" / "29.html")
    assert not browser.errors(), browser.errors()
    assert _options_carte(browser, "donnees-ouvertes") == []  # one indicator: no choice offered
    carte = browser.eval("document.querySelector('section#donnees-ouvertes ~ figure.carte').outerHTML")
    assert "« Communes publiant des données ouvertes sur data.gouv.fr »" in unescape(carte)
    assert "observatoire" not in unescape(carte).lower()
    assert browser.eval("document.querySelector('section#donnees-ouvertes ~ figure.carte')"
                        ".querySelectorAll('.trace svg.apercu path').length") >= 270  # drawn
    graves = [v for v in axe(browser) if v["impact"] in ("serious", "critical")]
    assert not graves, json.dumps(graves, ensure_ascii=False, indent=1)
    assert not [u for u in browser.requests() if not u.startswith(("file:", "data:"))]


@pytest.mark.browser
def test_sections_in_chromium_with_their_maps_axe_clean_and_screenshots(site_chantiers, browser, tmp_path):
    from test_accessibilite import _ouvrir, axe

    _, reports = site_chantiers
    for page in ("departement/29.html", "alliance.html", "epci/242900314.html", "operateur/fictif.html"):
        _ouvrir(browser, reports / page)
        assert not browser.errors(), (page, browser.errors())
        graves = [v for v in axe(browser) if v["impact"] in ("serious", "critical")]
        assert not graves, (page, json.dumps(graves, ensure_ascii=False, indent=1))
        browser.events.clear()  # axe itself asks for the CSS, which file:// refuses: not the page's error
    _ouvrir(browser, reports / "departement" / "29.html")
    # every map drawn, the domains' ones from the shapes of the page's first map
    chemins = browser.eval("Array.from(document.querySelectorAll('figure.carte')).map(f => "
                           "f.querySelectorAll('.trace svg.apercu path').length)")
    assert len(chemins) == 4 and min(chemins) >= 270 and len(set(chemins)) == 1, chemins
    select = "document.querySelector('#figure-' + (Array.from(document.querySelectorAll('figure.graphique')).indexOf(" \
             "document.querySelector('section#cybersecurite ~ figure.carte')) + 1) + ' .selecteur select')"
    options = browser.eval(f"Array.from({select}.options).map(o => o.text)")
    assert options[:2] == ["HTTPS valide (sonde)", "Redirection HTTPS"] and len(options) == 8, options
    # the observatory loaded: its two indicators colour the open-data map too
    assert _options_carte(browser, "donnees-ouvertes") == [
        "Données ouvertes", "Données ouvertes (observatoire)", "Plateforme open data de l'opérateur"]
    _capture(browser, tmp_path / "cybersecurite-1280.png", "cybersecurite", 1280)
    _capture(browser, tmp_path / "donnees-ouvertes-485.png", "donnees-ouvertes", 485)
    # the interactive map of a domain (plotly), from the shared shapes too
    browser.send("Emulation.clearDeviceMetricsOverride")
    assert browser.eval("""new Promise(function (resolve) {
      var fig = document.querySelectorAll('figure.carte')[1], t0 = performance.now();
      fig.querySelector('button.interactif').click();
      (function check() {
        var n = fig.querySelectorAll('.trace path.choroplethlocation').length;
        if (n > 0 || performance.now() - t0 > 20000) { resolve(n); return; }
        setTimeout(check, 10);
      })();
    })""") >= 270
    assert not browser.errors(), browser.errors()
    assert not [u for u in browser.requests() if not u.startswith(("file:", "data:"))]
    print(f"\ncaptures : {tmp_path}")


@pytest.mark.browser
def test_the_a4_fiche_keeps_its_first_page_with_the_domains_measured(site_chantiers, browser, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    from test_accessibilite import _ouvrir

    _, reports = site_chantiers
    _ouvrir(browser, reports / "departement" / "29.html")
    pdf = base64.b64decode(browser.send("Page.printToPDF", preferCSSPageSize=True, printBackground=True)["data"])
    page1 = " ".join(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    for attendu in ("Finistère", "Score de présence numérique", "Communes à accompagner", "Carte des communes",
                    "Légende : Score de présence numérique"):
        assert attendu in page1, (attendu, page1[:800])
    for d in domaines():  # the domains come after, never on the fiche's first page
        assert f"{d.titre} : les communes" not in page1
