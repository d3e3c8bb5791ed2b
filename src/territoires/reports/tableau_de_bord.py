"""Content of ``tableau_de_bord.ipynb``: one territory's dashboard, section by section.

Each public function displays one section (HTML blocks and figures) and is called by one
line of the notebook's one code cell, after the ``parameters`` cell (one cell, not one per
section: each cell is a round trip of messages between papermill and the kernel)::

    t = tableau_de_bord.territoire(niveau, code, entrepot)  # checks the parameters (French errors)
    tableau_de_bord.entete(t)                 # title, navigation, key figures
    tableau_de_bord.carte(t)                  # choropleth of its communes
    tableau_de_bord.adhesion(t)               # members, services used, non-members (.adhesion)
    tableau_de_bord.comparaison(t)            # against its parents and the alliance
    tableau_de_bord.tranches(t)               # by commune size band
    tableau_de_bord.communes_a_accompagner(t) # list + CSV for the field teams (.accompagner)
    tableau_de_bord.cybersecurite(t)          # the alliance's domains, one section each (.chantiers)
    tableau_de_bord.donnees_ouvertes(t)
    tableau_de_bord.achats_responsables(t)
    tableau_de_bord.sources_et_millesimes(t)  # sources, vintages, definitions

Shared figures, cache and HTML pieces live in :mod:`.page`, the map's classes in
:mod:`.categories`; nothing is computed here but presentation.
"""

from __future__ import annotations

from typing import Any

from territoires import charts, couleurs, formats, niveaux
from territoires.reports import adhesion as section_adhesion, chantiers, donnees, pairs, provenance, retenir, site
from territoires.reports import niveau as page_niveau
from territoires.reports.accompagner import communes_a_accompagner  # noqa: F401 - a section of the notebook
from territoires.reports.categories import email_label, oui_non, variantes_communes
from territoires.reports.donnees import Territoire
from territoires.html import Bloc, brut, e, num, section
from territoires.html import table as table_html
from territoires.reports.page import (CHIFFRES_CLES, a_accompagner, ariane, carte_chiffre, catalogue, comparables,
                                      court, display, evolutions, liste_territoires, nom_court, nouvelle_page,
                                      presence, sommaire, taux, texte_evolution, valeur)
from territoires.reports.page import geometrie_emise, ligne_source, note_base, renseigne, texte_poids, tranches_taille

#: indicators of the size-band chart
TRANCHES_GRAPHIQUE = ("part_site", "part_email_non_generique", "part_https")
#: a map's data table lists communes up to this many; above, it aggregates by sub-territory
MAX_COMMUNES_TABLE = 150


def territoire(niveau: Any, code: Any, entrepot: str | None = "") -> Territoire:
    """Check the parameters (level among the dashboard levels, code of that level)."""
    nouvelle_page()
    return donnees.territoire(niveau, code, entrepot or None, niveaux_admis=niveaux.TABLEAU)


# ── sections ─────────────────────────────────────────────────────────────────


def _sous_titre(t: Territoire) -> str:
    """The subtitle, as HTML: level, operator (a link), communes, inhabitants. An operator's
    page says its communes are its territory of action, not its members."""
    bits = [e(niveaux.libelle(t.niveau))]
    if t.niveau == "epci" and len(t.departements) > 1:
        bits.append("à cheval sur " + " et ".join(e(n) for _, n in donnees.noms_departements(t.con, t.departements)))
    elif t.niveau == "epci" and t.a_cheval:
        bits.append("à cheval sur plusieurs départements ou régions")
    ops = donnees.operateurs_de(t)
    if ops:
        bits.append("opérateur : " + ", ".join(f'<a href="{e(t.href("operateur", c))}">{e(n)}</a>' for c, n in ops))
    communes = f"{formats.entier(t.nb_communes)} commune{'s' if t.nb_communes > 1 else ''}"
    if t.niveau == "operateur":
        regions = donnees.noms(t.con, "region", t.regions or [t.code_region])
        communes = f"territoire d'action : {e(', '.join(n for _, n in regions))}, {communes} (adhérentes ou non)"
    bits.append(communes)
    bits.append(f"{formats.entier(t.population)} habitants (population municipale {e(t.population_millesime)})")
    return " · ".join(bits)


def entete(t: Territoire) -> None:
    """Title, breadcrumb, 3–5 key figures compared with the parent and the alliance."""
    con = t.con
    cat = {c["indicateur"]: c for c in catalogue(con)}
    mine = taux(con, t.niveau, t.code)
    refs = comparables(t)[1:]
    ref_rates = {(n, c): taux(con, n, c) for n, c, _ in refs}
    n_acc = sum(1 for r in a_accompagner(t) if r["fiche"])
    base = mine.get("part_site", {}).get("denominateur") or t.nb_communes

    inds_rang = [cat[i] for i in CHIFFRES_CLES if i in cat] + [cat[i] for i in ("part_communes_adherentes",) if i in cat]
    rangs = pairs.classement(con, t.niveau, t.code, inds_rang)
    cards = []
    for ind in CHIFFRES_CLES:
        if ind not in cat:
            continue
        c = cat[ind]
        row = mine.get(ind)
        details = []
        if row and c["unite"] == "%" and row.get("denominateur"):
            details.append(f"{formats.entier(row['numerateur'])} sur {formats.entier(row['denominateur'])} communes")
        elif row and row.get("denominateur") and ind == "score_presence":
            details.append(f"moyenne de {formats.entier(row['denominateur'] // 100)} communes")
        if pairs.texte_rang(t.niveau, rangs.get(ind)):
            details.append(pairs.texte_rang(t.niveau, rangs.get(ind)))
        for n, code, nom in refs:
            details.append(f"{nom_court(n, nom)} : {valeur(c, ref_rates[(n, code)].get(ind))}")
        evolution = texte_evolution(c, evolutions(con, t.niveau, t.code).get(ind))
        if evolution:  # only where an earlier vintage exists: nothing is said otherwise
            details.append(evolution)
        cards.append(carte_chiffre(valeur(c, row), c["libelle"], "<br>".join(e(d) for d in details)))
    fiches = mine.get("part_site", {}).get("denominateur")
    part = n_acc / base if base else None
    cards.append(carte_chiffre(
        formats.entier(n_acc) if fiches else "–", "Communes à accompagner",
        e(f"sans site déclaré ou avec une messagerie grand public : {formats.pourcent(part)} des communes" if fiches
          else "la source n'a aucune fiche mairie pour ce territoire"),
        defavorable=True))
    entrees = [("carte", "Carte"), ("adhesion", "Adhésion"), ("comparaison", "Comparaison"),
               ("tranches", "Par taille de commune"),
               ("accompagner", "Communes à accompagner"), *chantiers.entrees_sommaire(), ("sources", "Sources")]
    if donnees.enfants(t):
        entrees.insert(0, ("territoires", "Territoires"))
    rang = pairs.section_rang(t, inds_rang, valeur)
    if rang is not None:
        entrees.insert(0, ("rang", "Rang"))
    titre = f"{t.nom} — présence numérique des communes"
    html = (
        ariane(t)
        + f"<h1>{e(t.nom)}</h1>"
        + f'<p class="sous-titre">{_sous_titre(t)}</p>'
        + retenir.section_html(retenir.phrases(retenir.faits(t)))
        + '<p class="intro">Présence numérique des mairies d\'après leur fiche dans l\'Annuaire de l\'administration : '
          "site internet, adresse électronique, horaires publiés. Les taux portent sur les communes ayant une fiche "
          "mairie dans les données.</p>"
        + sommaire(entrees)
        + f'<h2 class="visually-hidden" id="chiffres-cles">Chiffres clés</h2><ul class="chiffres" aria-labelledby="chiffres-cles">{"".join(cards)}</ul>'
        + f'<p class="note poids">{e("Score de présence numérique, de 0 à 100 par commune. " + texte_poids(con))}</p>'
        + note_base(t) + ligne_source(con)
    )
    display(Bloc(html, meta={"page_titre": titre,
                             "page_description": f"Tableau de bord de la présence numérique des communes {niveaux.devant_nom(t.niveau)}{t.nom}."}))
    if rang is not None:
        display(rang)
    nav = _navigation(t)
    if nav:
        display(Bloc(nav))


def _navigation(t: Territoire) -> str:
    groupes = donnees.enfants(t)
    if not groupes:
        return ""
    return section("Territoires de " + t.nom, liste_territoires(t, groupes), ident="territoires")


# ── map ──────────────────────────────────────────────────────────────────────


def carte(t: Territoire) -> None:
    """Choropleth of the territory's communes; an indicator selector; a data table."""
    con = t.con
    geoms = page_niveau.geometrie_communes(con, t.niveau, t.code)
    ctx = None
    if t.niveau in page_niveau.AVEC_CONTEXTE and geoms.bbox:
        ctx = page_niveau.contexte(con, t.niveau, t.code, geoms)
    pres = presence(t)
    cat = {c["indicateur"]: c for c in catalogue(con)}
    noms = [pres.get(c, {}).get("nom") or c for c in geoms.ids]
    variantes = variantes_communes(geoms.ids, pres, cat)
    mine = taux(con, t.niveau, t.code)
    hors = t.nb_communes - len(geoms)
    note = ""
    if hors > 0:
        note = (f'<p class="note">{formats.entier(hors)} commune{"s" if hors > 1 else ""} de ce territoire '
                f"hors du périmètre des quatre régions ou sans contour n'{'apparaissent' if hors > 1 else 'apparaît'} pas sur la carte.</p>")
    if ctx is not None and len(ctx):
        note += '<p class="note">Les communes voisines, hors du territoire, sont en gris clair.</p>'
    intro = ("Choisissez l'indicateur affiché ; survolez une commune pour voir son nom et sa valeur, ou ouvrez la "
             "carte interactive pour zoomer. Le score de présence numérique va de 0 à 100. Le tableau de données "
             "sous la carte donne chaque valeur.")
    display(Bloc(section("Carte des communes", note, ident="carte", intro=intro)))
    alt = (f"Carte des {formats.entier(len(geoms))} communes {niveaux.devant_nom(t.niveau)}{t.nom}, colorées selon l'indicateur choisi. "
           f"Score moyen : {valeur(cat.get('score_presence', {}), mine.get('score_presence'))} ; "
           f"communes avec un site déclaré : {valeur({}, mine.get('part_site'))}.")
    hauteur = 560 if t.niveau in ("region", "operateur") else 520
    geometrie_emise(geoms)  # the domains' maps below refer to these shapes (.chantiers)
    display(charts.carte(geoms, noms, variantes, titre=f"Communes {niveaux.devant_nom(t.niveau)}{t.nom}", alt=alt,
                         donnees_html=_table_carte(t, geoms.ids, pres, cat), contexte=ctx, hauteur=hauteur))
    display(Bloc(ligne_source(con)))


def _table_carte(t: Territoire, ids: list[str], pres: dict, cat: dict) -> str:
    """Text alternative of the map: the communes (small territories) or the sub-territories."""
    if len(ids) <= MAX_COMMUNES_TABLE:
        index = site.relatif(t.page, "index.html")
        rows = []
        for c in sorted(ids, key=lambda c: (pres.get(c, {}).get("nom") or c)):
            r = pres.get(c)
            s = (r or {}).get("score_presence")
            nom = (r or {}).get("nom") or c
            # a commune of the perimeter has its card in the site index (criteria, points, peers)
            cellule = brut(f'<a href="{e(index)}#commune-{e(c)}">{e(nom)}</a>') if (r or {}).get("dans_perimetre") else nom
            rows.append([cellule, num(formats.entier(s) if s is not None else "–"),
                         oui_non(r, "site_declare"), email_label(r), oui_non(r, "https"),
                         oui_non(r, "horaires_publies")])
        return table_html([niveaux.libelle("commune"), "Score /100", "Site déclaré", "Adresse électronique", "HTTPS", "Horaires publiés"],
                          rows, legende=f"Indicateurs des communes {niveaux.devant_nom(t.niveau)}{t.nom} (chaque nom ouvre la fiche de la commune)",
                          numeriques=[1])
    return table_par_sous_territoire(t, niveaux.get(t.niveau).sous_niveau, cat)


def table_par_sous_territoire(t: Territoire, sub: str, cat: dict) -> str:
    con = t.con
    codes = [c for c, _ in dict(donnees.enfants(t)).get(sub, [])]
    if not codes:
        return ""
    rows_by_code = page_niveau.large(con, sub)
    inds = [i for i in ("score_presence", "part_site", "part_email_non_generique", "part_https", "part_horaires") if i in cat]
    rows = []
    for c in codes:
        r = rows_by_code.get(c)
        if not r:
            continue
        fiches = (taux(con, sub, c).get("part_site") or {}).get("denominateur")  # the base of its rates
        rows.append([brut(f'<a href="{e(t.href(sub, c))}">{e(r["nom"])}</a>'), num(formats.entier(fiches))]
                    + [num(valeur(cat[i], {"taux": r.get(i)})) for i in inds])
    rows.sort(key=lambda row: row[0])
    return table_html([niveaux.libelle(sub), "Communes avec fiche"] + [court(cat[i]) for i in inds], rows,
                      legende=f"Indicateurs par {niveaux.libelle(sub).lower()}", numeriques=range(1, len(inds) + 2))


# ── members ──────────────────────────────────────────────────────────────────

def adhesion(t: Territoire) -> None:
    """Who is a member of the territory's operator, which services they use, who is not;
    one plain sentence when no register is loaded."""
    # the site has an adoption page for the alliance and each operator
    lien = (site.relatif(t.page, site.chemin_page(t.niveau, t.code, "adoption"))
            if t.niveau in niveaux.ADOPTION else None)
    section_adhesion.section_adhesion(t, lien_adoption=lien)


# ── comparison ────────────────────────────────────────────────────────────────

def comparaison(t: Territoire) -> None:
    """The territory against its parents and the alliance, for every dashboard indicator."""
    con = t.con
    cat = [c for c in catalogue(con) if c.get("tableau")]
    refs = comparables(t)
    rates = {(n, c): taux(con, n, c) for n, c, _ in refs}
    pct = [c for c in cat if c["unite"] == "%" and renseigne(c)]  # an uninformed indicator is never a bar
    series = []
    for i, (n, c, nom) in enumerate(refs):
        series.append({"nom": nom_court(n, nom), "valeurs": [(rates[(n, c)].get(x["indicateur"]) or {}).get("taux") for x in pct],
                       "couleur": [couleurs.BLEU, couleurs.VERMILLON, couleurs.VERT, couleurs.POURPRE][i % 4]
                       if n != "alliance" else couleurs.GRIS})
    rows = []
    for x in cat:
        rows.append([x["libelle"]] + [num(valeur(x, rates[(n, c)].get(x["indicateur"]))) for n, c, _ in refs])
    def base(n: str, c: str) -> str:
        b = (rates[(n, c)].get("part_site") or {}).get("denominateur")
        return f" ({formats.entier(b)} communes)" if b else ""

    heads = ["Indicateur"] + [nom_court(n, nom) + base(n, c) for n, c, nom in refs]
    table = table_html(heads, rows, legende=f"{t.nom} comparé à "
                       + ", ".join("l'alliance" if n == "alliance" else nom for n, _, nom in refs[1:]),
                       numeriques=range(1, len(refs)))
    intro = ("Chaque barre est la part des communes ayant une fiche mairie qui remplissent le critère. "
             + ("Le territoire est comparé " + ("à son département, à sa région et " if t.niveau == "epci" else
                                                "à sa région et " if t.niveau == "departement" else "")
                + "à l'ensemble de l'alliance."))
    display(Bloc(section("Comparaison", "", ident="comparaison", intro=intro)))
    alt = f"Graphique en barres comparant {t.nom} à " + ", ".join(nom_court(n, nom) for n, _, nom in refs[1:]) + \
          " sur " + str(len(pct)) + " indicateurs. " + "; ".join(
              f"{x['libelle_court']} : {valeur(x, rates[(refs[0][0], refs[0][1])].get(x['indicateur']))}" for x in pct) + "."
    display(charts.barres([x["libelle"] for x in pct], series, titre=f"{t.nom} et ses territoires de référence",
                          alt=alt, donnees_html=table))
    display(Bloc(ligne_source(con)))


# ── size bands ────────────────────────────────────────────────────────────────

def tranches(t: Territoire) -> None:
    """Indicators by commune size band: small communes are where help is needed."""
    con = t.con
    cat = {c["indicateur"]: c for c in catalogue(con)}
    bandes = tranches_taille(con)
    rates = taux(con, t.niveau, t.code, tranches=True)
    presentes = [b for b in bandes if (b["tranche_taille"], "part_fiche_mairie") in rates
                 and (rates[(b["tranche_taille"], "part_fiche_mairie")].get("denominateur") or 0) > 0]
    if not presentes:
        display(Bloc(section("Par taille de commune", "<p>Aucune donnée par tranche de taille.</p>", ident="tranches")))
        return
    inds = [i for i in TRANCHES_GRAPHIQUE if i in cat]
    series = [{"nom": court(cat[i]), "couleur": (couleurs.BLEU, couleurs.VERMILLON, couleurs.VERT)[k % 3],
               "valeurs": [(rates.get((b["tranche_taille"], i)) or {}).get("taux") for b in presentes]}
              for k, i in enumerate(inds)]
    cols = [i for i in ("score_presence", "part_site", "part_email_non_generique", "part_https", "part_horaires") if i in cat]
    rows = []
    for b in presentes:
        n = rates[(b["tranche_taille"], "part_fiche_mairie")]["denominateur"]
        rows.append([b["libelle"], num(formats.entier(n))]
                    + [num(valeur(cat[i], rates.get((b["tranche_taille"], i)))) for i in cols])
    total = rates.get(("ensemble", "part_fiche_mairie"), {}).get("denominateur")
    rows.append([brut("<strong>Ensemble</strong>"), num(formats.entier(total))]
                + [num(valeur(cat[i], rates.get(("ensemble", i)))) for i in cols])
    table = table_html(["Taille de commune", "Communes"] + [court(cat[i]) for i in cols], rows,
                       legende=f"Indicateurs par taille de commune, {t.nom}", numeriques=range(1, len(cols) + 2))
    petites = sum(rates[(b["tranche_taille"], "part_fiche_mairie")]["denominateur"] for b in presentes
                  if (b.get("max") or 10**9) < 3500)
    intro = _intro_tranches(petites, total or 0, t.population_millesime)
    display(Bloc(section("Par taille de commune", "", ident="tranches", intro=intro)))
    alt = "Graphique en barres des indicateurs par tranche de taille de commune : " + "; ".join(
        f"{b['libelle']} : site {valeur({}, rates.get((b['tranche_taille'], 'part_site')))}" for b in presentes) + "."
    display(charts.barres([b["libelle"] for b in presentes], series, titre="Selon la taille des communes", alt=alt,
                          donnees_html=table, decimales=0))
    display(Bloc(ligne_source(con)))


def _intro_tranches(petites: int, total: int, millesime: str) -> str:
    """« 120 des 277 communes ont moins de 3 500 habitants », said plainly at 0 and 1."""
    pop = f"(population municipale {e(millesime)})"
    if total == 1:
        return f"La commune a {'moins de' if petites else 'au moins'} 3\u202f500 habitants {pop}."
    if petites == 0:
        return f"Aucune des {formats.entier(total)} communes n'a moins de 3\u202f500 habitants {pop}."
    return (f"{formats.entier(petites)} des {formats.entier(total)} communes "
            f"{'ont' if petites > 1 else 'a'} moins de 3\u202f500 habitants {pop}.")


# ── the alliance's domains (catalogue.toml [domaines], .chantiers) ────────────

def cybersecurite(t: Territoire) -> None:
    """« Cybersécurité »: the probe's checks and the ANCT's, or the sentence saying none ran."""
    chantiers.section_domaine(t, "cybersecurite")


def donnees_ouvertes(t: Territoire) -> None:
    """« Données ouvertes »: communes publishing on data.gouv.fr, or the sentence saying the export is missing."""
    chantiers.section_domaine(t, "donnees_ouvertes")


def achats_responsables(t: Territoire) -> None:
    """« Achats responsables »: the communes' public contracts (DECP), or the sentence saying they are missing."""
    chantiers.section_domaine(t, "achats_responsables")


def sources_et_millesimes(t: Territoire) -> None:
    """Sources with their vintages, the official ones fetched or not, indicator definitions
    (:mod:`.provenance`)."""
    provenance.section_sources(t)
