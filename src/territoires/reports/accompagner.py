"""Section « Communes à accompagner »: the communes without a declared website or using a
consumer webmail, listed (or counted by EPCI for a large territory), with a CSV.
"""

from __future__ import annotations

from typing import Any

from territoires import formats, niveaux, tableurs
from territoires.reports.donnees import Territoire
from territoires.html import Bloc, brut, defilante, e, num, section
from territoires.html import table as table_html
from territoires.reports.page import a_accompagner, display, presence_communes, taux
from territoires.reports.publication import csv_data_uri
from territoires.indicators import api


def _csv(rows: list[dict[str, Any]]) -> str:
    # through the one spreadsheet writer: a cell from the directory is never a formula
    return tableurs.csv_texte(
        ["code_commune", "commune", "epci", "departement", "population", "score_presence", "motifs",
         "site_internet", "adresse_electronique", "telephone"],
        ([r["code"], r["nom"], r.get("nom_epci") or "", r.get("code_departement") or "", r.get("population"),
          r.get("score_presence"), " ; ".join(r["motifs"]), r.get("mairie_site") or "", r.get("mairie_email") or "",
          r.get("mairie_telephone") or ""] for r in rows))


def _oui(v: Any) -> str:
    return "" if v is None else ("oui" if v else "non")


def csv_toutes(t: Territoire) -> tuple[str, int]:
    """Every commune of the territory with its criteria and score (not only those to
    support), by priority like the list: lowest score first, then largest population."""
    rows = presence_communes(t).to_dicts()
    rows.sort(key=lambda r: (r.get("score_presence") is not None, r.get("score_presence") or 0,
                             -(r.get("population") or 0), r["code"]))
    cols = ["site_declare", "https", "site_domaine_maitrise", "extension_souveraine", "email_non_generique",
            "email_webmail_grand_public", "email_meme_domaine", "horaires_publies"]
    texte = tableurs.csv_texte(
        ["code_commune", "commune", "code_epci", "departement", "population", "fiche_mairie", "score_presence"] + cols
        + ["site_internet", "adresse_electronique"],
        ([r["code"], r["nom"], r.get("code_epci") or "", r.get("code_departement") or "", r.get("population"),
          _oui(r.get("fiche_mairie")), r.get("score_presence")] + [_oui(r.get(c)) for c in cols]
         + [r.get("mairie_site") or "", r.get("mairie_email") or ""] for r in rows))
    return texte, len(rows)


#: above this many communes to act on, the page lists them by EPCI (full list in the CSV)
MAX_LISTE = 300


def _motif(r: dict[str, Any]) -> str:
    return " ; ".join(m[0].upper() + m[1:] if i == 0 else m for i, m in enumerate(r["motifs"]))


def communes_a_accompagner(t: Territoire) -> None:
    """Communes without a declared website or using a consumer webmail, with a CSV.

    Up to :data:`MAX_LISTE` communes, the page lists them; above (a region), it counts
    them by EPCI with a link to each EPCI's page, and the CSV holds the full list.
    """
    rows = a_accompagner(t)
    avec_fiche = [r for r in rows if r["fiche"]]
    sans_fiche = [r for r in rows if not r["fiche"]]
    if not rows:
        toutes, n_toutes = csv_toutes(t)
        display(Bloc(section("Communes à accompagner", "<p>Toutes les communes ont un site déclaré et une adresse "
                                                        "électronique hors messagerie grand public.</p>"
                             f'<p class="telechargements"><a class="telecharger" href="{csv_data_uri(toutes)}" '
                             f'download="toutes-les-communes-{e(t.niveau)}-{e(t.code)}.csv">Toutes les communes du '
                             f"territoire (CSV, {formats.entier(n_toutes)} communes, critère par critère)</a></p>",
                             ident="accompagner")))
        return
    slug = f"{t.niveau}-{t.code}"
    n = len(avec_fiche)
    # the button counts what the list counts; the communes without an entry are said apart
    compte = f"{formats.entier(n)} à accompagner" + (
        f", plus {formats.entier(len(sans_fiche))} sans fiche mairie à vérifier" if sans_fiche else "")
    toutes, n_toutes = csv_toutes(t)
    lien = (f'<p class="telechargements"><a class="telecharger" href="{csv_data_uri(_csv(rows))}" '
            f'download="communes-a-accompagner-{e(slug)}.csv">Télécharger la liste (CSV, {compte})</a> '
            f'<a class="telecharger" href="{csv_data_uri(toutes)}" download="toutes-les-communes-{e(slug)}.csv">'
            f"Toutes les communes du territoire (CSV, {formats.entier(n_toutes)} communes, critère par critère)</a></p>")
    base = int(taux(t.con, t.niveau, t.code).get("part_site", {}).get("denominateur") or 0)
    if not base:  # the source has nothing for this territory: said plainly, no « 0 sur 0 »
        noms = ", ".join(f"{e(r['nom'])} ({e(r['code'])})" for r in sans_fiche)
        display(Bloc(section("Communes à accompagner", lien + "<p>L'Annuaire de l'administration, source de ces "
                             "indicateurs, n'a aucune fiche mairie pour ce territoire : rien ne permet de dire quelles "
                             f"communes accompagner. À vérifier : {noms}.</p>", ident="accompagner")))
        return
    intro = (f"{formats.entier(n)} commune{'s' if n > 1 else ''} sur {formats.entier(base)} "
             f"n'{'ont' if n > 1 else 'a'} pas de site internet déclaré ou utilise{'nt' if n > 1 else ''} une messagerie "
             "grand public (adresse de la mairie chez wanadoo.fr, orange.fr, gmail.com…). ")
    epci_col = t.niveau != "epci"
    if n > MAX_LISTE:
        intro += "Elles sont comptées ici par EPCI ; la liste détaillée est sur la page de chaque EPCI et dans le fichier CSV."
        groupes: dict[str, dict[str, Any]] = {}
        for r in avec_fiche:
            g = groupes.setdefault(r.get("code_epci") or "", {"nom": r.get("nom_epci") or "Sans EPCI", "n": 0,
                                                              "site": 0, "webmail": 0})
            g["n"] += 1
            g["site"] += any(m.startswith("pas de site") for m in r["motifs"])
            g["webmail"] += any(m.startswith("messagerie") for m in r["motifs"])
        lignes = []
        for code, g in sorted(groupes.items(), key=lambda kv: kv[1]["nom"]):
            nom = brut(f'<a href="{e(t.href("epci", code))}">{e(g["nom"])}</a>') if code else g["nom"]
            lignes.append([nom, num(formats.entier(g["n"])), num(formats.entier(g["site"])), num(formats.entier(g["webmail"]))])
        table = table_html([niveaux.libelle("epci"), "Communes à accompagner", "dont sans site déclaré", "dont messagerie grand public"],
                           lignes, legende=f"Communes à accompagner par EPCI, {t.nom}", numeriques=[1, 2, 3],
                           enveloppe=False)
        cible = "liste-epci"
    else:
        intro += ("Classées par priorité : le score le plus bas d'abord, puis la population la plus grande ; "
                  "le fichier CSV ajoute le site et le téléphone.")
        heads = [niveaux.libelle("commune")] + ([niveaux.libelle("epci")] if epci_col else []) + ["Population", "Score /100", "Motif", "Adresse électronique"]
        lignes = []
        for r in avec_fiche:  # by priority (territoires.indicators.api.communes_a_accompagner)
            lignes.append([r["nom"]] + ([r.get("nom_epci") or "–"] if epci_col else [])
                          + [num(formats.entier(r.get("population"))),
                             num(formats.entier(r["score_presence"]) if r.get("score_presence") is not None else "–"),
                             _motif(r), r.get("mairie_email") or "–"])
        table = table_html(heads, lignes, legende=f"Communes à accompagner, {t.nom}",
                           numeriques=[i for i, h in enumerate(heads) if h in ("Population", "Score /100")],
                           enveloppe=False, secondaires=[i for i, h in enumerate(heads) if h in (niveaux.libelle("epci"), "Score /100")])
        cible = "liste-communes"
    filtre = ""
    if len(lignes) > 15:
        filtre = (f'<div class="filtre"><label for="filtre-{cible}">Filtrer la liste</label>'
                  f'<input id="filtre-{cible}" type="search" data-filtre="{cible}" data-compte="compte-{cible}" '
                  f'autocomplete="off"><span id="compte-{cible}" class="note" aria-live="polite"></span></div>')
    haute = " haute" if len(lignes) > 25 else ""
    body = lien + filtre + f'<div id="{cible}" class="table-defil{haute}" {defilante(f"Communes à accompagner, {t.nom}")}>{table}</div>'
    if sans_fiche:
        noms = ", ".join(f"{e(r['nom'])} ({e(r['code'])})" for r in sans_fiche)
        body += f'<p class="note">Sans fiche mairie dans les données (à vérifier, non comptées ci-dessus) : {noms}.</p>'
    display(Bloc(section("Communes à accompagner", body, ident="accompagner", intro=e(intro))))
