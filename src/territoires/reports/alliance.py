"""Content of ``alliance.ipynb``: the four regions and their operators side by side.

::

    a = alliance.perimetre(regions, entrepot)   # checks the parameters (French errors)
    alliance.entete(a)                          # title, key figures, links to every page
    alliance.comparaison(a)                     # every indicator, region by region
    alliance.cartes(a)                          # maps of the regions, by EPCI
    alliance.tranches(a)                        # by commune size band
    alliance.chantiers(a)                       # the alliance's domains, operator by operator (.chantiers)
    alliance.sources_et_millesimes(a)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from territoires import charts, couleurs, formats, geo, niveaux
from territoires.reports import donnees, niveau as page_niveau, page, retenir, tableau_de_bord
from territoires.reports.donnees import ParametreInvalide, Territoire
from territoires.html import Bloc, brut, e, num, section
from territoires.html import table as table_html
from territoires.reports.page import catalogue, display, taux, tranches_taille, valeur
from territoires.indicators.domaines import domaines
from territoires.reports import adhesion as section_adhesion, chantiers as sections_chantiers, site

COULEURS_REGIONS = (couleurs.BLEU, couleurs.VERMILLON, couleurs.VERT, couleurs.POURPRE)


@dataclass
class Perimetre:
    """The alliance and the regions compared (each with its operator)."""

    alliance: Territoire
    regions: list[dict[str, Any]] = field(default_factory=list)  # code, nom, operateur, nom_operateur

    @property
    def con(self):
        return self.alliance.con

    def libelle(self, r: dict[str, Any]) -> str:
        return f"{r['nom']} ({r['nom_operateur']})" if r.get("nom_operateur") else r["nom"]


def perimetre(regions: Any = "", entrepot: str | None = "") -> Perimetre:
    """Check the parameters: ``regions`` = INSEE codes separated by commas ('' = all)."""
    page.nouvelle_page()
    a = donnees.alliance(entrepot or None)
    con = a.con
    known = con.execute(
        "select r.code, r.nom, r.code_operateur, o.nom from marts.territoires r "
        "left join marts.territoires o on o.niveau = 'operateur' and o.code = r.code_operateur "
        "where r.niveau = 'region' order by r.nom"
    ).fetchall()
    by_code = {c: {"code": c, "nom": n, "operateur": oc, "nom_operateur": on} for c, n, oc, on in known}
    if isinstance(regions, (int, float)):
        regions = str(int(regions))
    if not isinstance(regions, str):
        raise ParametreInvalide(f"regions « {regions} » invalide : codes INSEE séparés par des virgules, par exemple \"53,27\"")
    codes = [c.strip() for c in regions.split(",") if c.strip()]
    wrong = [c for c in codes if c not in by_code]
    if wrong:
        raise ParametreInvalide(
            f"région{'s' if len(wrong) > 1 else ''} inconnue{'s' if len(wrong) > 1 else ''} dans cet entrepôt : "
            + ", ".join(f"« {c} »" for c in wrong) + " ; régions possibles : "
            + ", ".join(f"{c} ({r['nom']})" for c, r in by_code.items())
        )
    chosen = [by_code[c] for c in codes] if codes else list(by_code.values())
    return Perimetre(alliance=a, regions=chosen)


def entete(p: Perimetre) -> None:
    con = p.con
    a = p.alliance
    cat = {c["indicateur"]: c for c in catalogue(con)}
    mine = taux(con, "alliance", "alliance")
    acc = page.a_accompagner(a)
    n_acc = sum(1 for r in acc if r["fiche"])
    base = mine.get("part_site", {}).get("denominateur") or a.nb_communes
    cards = [page.carte_chiffre(
        formats.entier(len(p.regions)), "Opérateurs publics de services numériques",
        e(", ".join(r["nom_operateur"] or r["nom"] for r in p.regions)))]
    for ind in page.CHIFFRES_CLES:
        if ind in cat:
            row = mine.get(ind)
            detail = ""
            if row and cat[ind]["unite"] == "%":
                detail = e(f"{formats.entier(row['numerateur'])} sur {formats.entier(row['denominateur'])} communes")
            elif row and row.get("denominateur"):
                detail = e(f"moyenne de {formats.entier(row['denominateur'] // 100)} communes")
            cards.append(page.carte_chiffre(valeur(cat[ind], row), cat[ind]["libelle"], detail))
    cards.append(page.carte_chiffre(
        formats.entier(n_acc), "Communes à accompagner",
        e(f"sans site déclaré ou avec une messagerie grand public : {formats.pourcent(n_acc / base if base else None)}"
          " des communes"), defavorable=True))
    sub = (f"{formats.entier(a.nb_communes)} communes · {formats.entier(a.population)} habitants "
           f"(population municipale {a.population_millesime}) · {formats.entier(len(a.departements))} départements")
    html = (
        '<nav class="ariane" aria-label="Fil d\'Ariane"><ol><li><a href="index.html">Toutes les pages</a></li>'
        '<li><span aria-current="page">Alliance</span></li></ol></nav>'
        f"<h1>{e(a.nom)}</h1>"
        f'<p class="sous-titre">{e(sub)}</p>'
        + retenir.section_html(retenir.phrases(_faits(a)))
        + '<p class="intro">Les quatre opérateurs publics de services numériques de l\'alliance, signée en novembre 2025, '
        "côte à côte : présence numérique des mairies d'après leur fiche dans l'Annuaire de l'administration.</p>"
        + page.sommaire([("territoires", "Territoires"), ("comparaison", "Comparaison"), ("cartes", "Cartes"),
                             ("tranches", "Par taille de commune"), ("chantiers", "Chantiers de l'alliance"),
                             ("sources", "Sources")])
        + f'<h2 class="visually-hidden" id="chiffres-cles">Chiffres clés</h2><ul class="chiffres" aria-labelledby="chiffres-cles">{"".join(cards)}</ul>'
        + f'<p class="note poids">{e("Score de présence numérique, de 0 à 100 par commune. " + page.texte_poids(con))}</p>'
        + page.note_base(a) + page.ligne_source(con)
    )
    display(Bloc(html, meta={"page_titre": "Alliance des opérateurs publics de services numériques — présence numérique des communes",
                             "page_description": "Les quatre régions et opérateurs de l'alliance comparés sur chaque indicateur."}))
    display(Bloc(section("Territoires de l'alliance", page.liste_territoires(a, donnees.enfants(a)),
                         ident="territoires")))


def _faits(a: Territoire) -> retenir.Faits:
    """The alliance's findings: its communes to support are in its key figures (the list
    is on each territory's page)."""
    f = retenir.faits(a)

    # the domains' figures are in « Les chantiers de l'alliance », one heading per domain
    f.ancres = {"accompagner": "chiffres-cles", "territoires": "comparaison",
                **{d.ancre: f"chantier-{d.ancre}" for d in domaines()}}
    return f


def _rates(p: Perimetre) -> dict[str, dict[str, Any]]:
    out = {r["code"]: taux(p.con, "region", r["code"]) for r in p.regions}
    out["alliance"] = taux(p.con, "alliance", "alliance")
    return out


def _entete(r: dict[str, Any]) -> str:
    op = f'<br><span class="note">{e(r["nom_operateur"])}</span>' if r.get("nom_operateur") else ""
    return f"{e(r['nom'])}{op}"


def comparaison(p: Perimetre) -> None:
    """Every indicator, region by region (with the operator), and the alliance."""
    con = p.con
    cat = catalogue(con)
    rates = _rates(p)
    cols = [(r["code"], p.libelle(r)) for r in p.regions] + [("alliance", niveaux.libelle("alliance"))]
    rows = []
    for c in cat:
        rows.append([brut(f"<strong>{e(c['libelle'])}</strong>" if c.get("tableau") else e(c["libelle"]))]
                    + [num(valeur(c, rates[k].get(c["indicateur"]))) for k, _ in cols])
    def base(k: str) -> str:  # every rate shows its base: communes with a directory entry
        b = (rates[k].get("part_site") or {}).get("denominateur")
        return f'<br><span class="note">{formats.entier(b)} communes</span>' if b else ""

    heads = (["Indicateur"] + [brut(_entete(r) + base(r["code"])) for r in p.regions]
             + [brut(niveaux.libelle("alliance") + base("alliance"))])
    table = table_html(heads, rows, classe="comparatif",
                       legende="Tous les indicateurs, par région et opérateur (en gras : ceux des tableaux de bord)",
                       numeriques=range(1, len(cols) + 1))
    pct = [c for c in cat if c.get("tableau") and c["unite"] == "%" and page.renseigne(c)]
    series = [{"nom": lbl, "valeurs": [(rates[k].get(c["indicateur"]) or {}).get("taux") for c in pct],
               "couleur": COULEURS_REGIONS[i % 4] if k != "alliance" else couleurs.GRIS}
              for i, (k, lbl) in enumerate(cols)]
    display(Bloc(section("Comparaison des régions", table, ident="comparaison",
                         intro="Chaque taux porte sur les communes ayant une fiche mairie ; le score va de 0 à 100.")))
    alt = "Graphique en barres comparant les régions de l'alliance sur " + str(len(pct)) + " indicateurs. " + "; ".join(
        f"{c['libelle_court']} : " + ", ".join(f"{lbl} {valeur(c, rates[k].get(c['indicateur']))}" for k, lbl in cols[:-1])
        for c in pct) + "."
    display(charts.barres([c["libelle"] for c in pct], series, titre="Les régions côte à côte", alt=alt,
                          donnees_html=""))
    display(Bloc(page.ligne_source(con)))


def cartes(p: Perimetre) -> None:
    """One map per region, by EPCI, one colour scale for all; an indicator selector."""
    con = p.con
    cat = [c for c in catalogue(con) if c.get("tableau")]
    df = page_niveau.large(con, "epci")
    panneaux, par_variante = [], [[] for _ in cat]
    lignes = []
    for r in p.regions:
        codes = [c for (c,) in con.execute(
            "select code from marts.territoires where niveau = 'epci' and list_contains(regions, ?) order by code",
            [r["code"]]).fetchall()]
        g = geo.territoires(con, "epci", codes, precision=3)
        noms = [(df.get(c) or {}).get("nom") or c for c in g.ids]
        panneaux.append((p.libelle(r), g, noms))
        for k, c in enumerate(cat):
            vals = [(df.get(code) or {}).get(c["indicateur"]) for code in g.ids]
            if c["unite"] == "%":
                v = charts.variante(page.court(c), vals,
                                    [f"{page.court(c)} : {formats.pourcent(x)}" for x in vals],
                                    polarite=c["polarite"], zmin=0, zmax=1)
            else:
                v = charts.variante(page.court(c), [None if x is None else x * 100 for x in vals],
                                    [f"Score : {formats.decimal(x * 100, 0) if x is not None else '–'}\u202f/\u202f100" for x in vals],
                                    polarite=c["polarite"], zmin=0, zmax=100, unite="points")
            par_variante[k].append(v)
        site_rate = {code: (df.get(code) or {}).get("part_site") for code in g.ids}
        worst = sorted((x, code) for code, x in site_rate.items() if x is not None)[:3]
        lignes.append([p.libelle(r), num(formats.entier(len(g))),
                       ", ".join(f"{(df.get(code) or {}).get('nom')} ({formats.pourcent(x)})" for x, code in worst)])
    table = table_html([niveaux.libelle("region"), niveaux.libelle("epci"), "EPCI où la part de communes avec un site est la plus faible"], lignes,
                       legende="Les EPCI des régions de l'alliance", numeriques=[1])
    display(Bloc(section("Cartes des régions", "", ident="cartes",
                         intro="Chaque région par EPCI, sur une même échelle de couleurs. Chaque carte renvoie, "
                               "par son tableau de données, aux pages des EPCI.")))
    alt = ("Quatre cartes des régions de l'alliance, chaque EPCI coloré selon l'indicateur choisi ; "
           "le tableau de données liste les EPCI les moins équipés de chaque région.")
    display(charts.cartes_multiples(panneaux, par_variante, titre="Les régions par EPCI", alt=alt, donnees_html=table,
                                    hauteur=820 if len(panneaux) > 2 else 480))
    display(Bloc(page.ligne_source(con)))


def tranches(p: Perimetre) -> None:
    """Share of communes with a website by size band, region by region."""
    con = p.con
    bandes = tranches_taille(con)
    rates = {r["code"]: taux(con, "region", r["code"], tranches=True) for r in p.regions}
    rates["alliance"] = taux(con, "alliance", "alliance", tranches=True)
    cols = [(r["code"], p.libelle(r)) for r in p.regions] + [("alliance", niveaux.libelle("alliance"))]
    presentes = [b for b in bandes if any((rates[k].get((b["tranche_taille"], "part_site")) or {}).get("denominateur")
                                          for k, _ in cols)]
    series = [{"nom": lbl, "valeurs": [(rates[k].get((b["tranche_taille"], "part_site")) or {}).get("taux") for b in presentes],
               "couleur": COULEURS_REGIONS[i % 4] if k != "alliance" else couleurs.GRIS}
              for i, (k, lbl) in enumerate(cols)]
    rows = [[b["libelle"]] + [num(
        f"{formats.pourcent((rates[k].get((b['tranche_taille'], 'part_site')) or {}).get('taux'))} "
        f"({formats.entier((rates[k].get((b['tranche_taille'], 'part_site')) or {}).get('denominateur'))})")
        for k, _ in cols] for b in presentes]
    table = table_html(["Taille de commune"] + [lbl for _, lbl in cols], rows,
                       legende="Communes avec un site internet déclaré, par taille (entre parenthèses : communes)",
                       numeriques=range(1, len(cols) + 1))
    display(Bloc(section("Par taille de commune", "", ident="tranches",
                         intro="Les petites communes ont moins souvent un site : c'est là que l'accompagnement porte.")))
    alt = "Graphique en barres de la part des communes avec un site internet, par taille de commune et par région."
    display(charts.barres([b["libelle"] for b in presentes], series, titre="Communes avec un site internet déclaré",
                          alt=alt, donnees_html=table, decimales=0))
    display(Bloc(page.ligne_source(con)))


def adhesion(p: Perimetre) -> None:
    """Members of the operators of the alliance (the registers loaded, or the sentence
    saying none is), with a link to the adoption page."""
    section_adhesion.section_adhesion(p.alliance, lien_adoption=site.relatif(
        p.alliance.page, site.chemin_page("alliance", "alliance", "adoption")))


def chantiers(p: Perimetre) -> None:
    """« Les chantiers de l'alliance »: cybersecurity, open data, responsible purchasing,
    the operators side by side (or each domain's sentence when its source is missing)."""
    sections_chantiers.chantiers_alliance(p.con, p.alliance)


def sources_et_millesimes(p: Perimetre) -> None:
    tableau_de_bord.sources_et_millesimes(p.alliance)
