"""A printable fiche per commune, ``reports/commune/<code>.html``: the page a mayor brings to
the council (A4, page 1 complete). Its place on a small map, its score and each criterion
with its points, what would raise it, its rank among the communes of its size in its
département and in the alliance, its operator and membership (when a register is loaded),
the checks of the ANCT's DPNT and of the probe (when loaded), links to its EPCI's and
département's pages, and where the mairie corrects its directory entry.

No notebook and no kernel per commune: a few set-based queries over the whole level (one
per fact family: communes with score and ranks, membership, checks, map outlines), then
one Jinja render per commune (``templates/territoires/fiche_commune.html.j2``, the frame
of every page), each written atomically. The map is a plain inline SVG (the
département's outline, the EPCI's, the commune filled): no script, it prints as is.
The index card (``recherche.js``) stays the fast preview and links here.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from territoires import formats, noms, paquet
from territoires.reports import communes as index_communes
from territoires.reports import site
from territoires.reports.donnees import a_table
from territoires.entrepot.connexion import connect
from territoires.geo import avec_spatial
from territoires.html import e
from territoires.reports.index import _environnement
from territoires.reports.page import ligne_source
from territoires.reports.publication import write_atomic

DOSSIER = "commune"
#: the scope word of ``territoires report --scope`` for the fiches (also part of ``all``)
PORTEE = "communes"
#: below this many communes of the same size band, no rank (as the card)
MIN_COMPARAISON = 5


def chemin_fiche(code: str) -> str:
    """Path of a commune's fiche, relative to ``reports/`` (a code that cannot be a file
    name raises :class:`territoires.noms.NomInvalide`)."""
    noms.verifier("territoire", code)
    return f"{DOSSIER}/{code}.html"


def separer(portee: str) -> tuple[bool, str]:
    """``(fiches wanted, scope left for the dashboards)``: ``communes`` is the fiches alone,
    ``all`` the dashboards and the fiches."""
    parts = [p.strip() for p in portee.split(",") if p.strip()]
    fiches = any(p in (PORTEE, "all") for p in parts)
    return fiches, ",".join(p for p in parts if p != PORTEE)


# ── the map: inline SVG outlines ────────────────────────────────────────────

_NOMBRE = re.compile(r"(-?\d+\.\d+)")


def _arrondi(svg: str, decimales: int = 3) -> str:
    """Every decimal number of ``svg`` to ``decimales`` places, trailing zeros dropped
    (``ST_AsSVG`` ignores its precision argument). Split then joined: a callback per match
    cost 40 % more (France: 2.4 million numbers); the format made once: a nested one,
    ``f"{x:.{decimales}f}"``, is built again for each number (2.6 times slower)."""
    parts = _NOMBRE.split(svg)  # text, number, text, number, …, text
    forme = f"%.{decimales}f"
    parts[1::2] = [(forme % float(x)).rstrip("0").rstrip(".") for x in parts[1::2]]
    return "".join(parts)


def _contours(con, niveau: str, tolerance: float) -> dict[str, tuple[str, tuple[float, float, float, float]]]:
    """``{code: (SVG path in lon / -lat, bbox)}`` for one level, simplified for a small map."""
    rows = con.execute(f"""
        with g as (select code, ST_SimplifyPreserveTopology(geometrie_carte, {tolerance}) as g
                   from marts.territoires where niveau = '{niveau}' and geometrie_carte is not null)
        select code, ST_AsSVG(g, false, 3), ST_XMin(g), ST_YMin(g), ST_XMax(g), ST_YMax(g) from g
        where not ST_IsEmpty(g)""").fetchall()
    return {code: (_arrondi(svg), (x0, y0, x1, y1)) for code, svg, x0, y0, x1, y1 in rows}


#: a commune whose outline spans less than this share of the small map (its larger side)
#: is also ringed: an island or a small commune would otherwise be a speck, or nothing
PETITE = 0.04

#: the mark of that ring in the SVG (the caption then says the commune is ringed)
REPERE = 'class="repere"'


def carte_svg(nom: str, commune: tuple | None, departement: tuple | None, epci: tuple | None) -> str:
    """The small map: département (pale), EPCI (outlined), commune (filled, and ringed when
    too small to be seen: :data:`PETITE`); ``""`` when the commune has no outline.
    Coordinates stay in degrees; longitudes are shrunk by cos(latitude) so that shapes
    keep their proportions."""
    import math

    if not commune:
        return ""
    cadre = (departement or epci or commune)[1]
    x0, y0, x1, y1 = cadre
    for autre in (commune[1], (epci or commune)[1]):
        x0, y0, x1, y1 = min(x0, autre[0]), min(y0, autre[1]), max(x1, autre[2]), max(y1, autre[3])
    k = math.cos(math.radians((y0 + y1) / 2))
    cote = max((x1 - x0) * k, y1 - y0)
    cx0, cy0, cx1, cy1 = commune[1]
    anneau = max((cx1 - cx0) * k, cy1 - cy0) < PETITE * cote
    marge = 0.03 * max(x1 - x0, y1 - y0)
    x0, y0, x1, y1 = x0 - marge, y0 - marge, x1 + marge, y1 + marge
    if anneau:  # the whole ring inside the frame
        r, cx, cy = 0.05 * cote, (cx0 + cx1) / 2, (cy0 + cy1) / 2
        x0, x1 = min(x0, cx - 1.2 * r / k), max(x1, cx + 1.2 * r / k)
        y0, y1 = min(y0, cy - 1.2 * r), max(y1, cy + 1.2 * r)
    vb = f"{x0 * k:.3f} {-y1:.3f} {(x1 - x0) * k:.3f} {y1 - y0:.3f}"
    parts = [f'<svg class="carte-fiche" viewBox="{vb}" role="img" aria-labelledby="carte-titre" '
             f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="carte-titre">Situation de {_e(nom)} dans son département</title>',
             f'<g transform="scale({k:.5f},1)" stroke-linejoin="round">']
    if departement:
        parts.append(f'<path d="{departement[0]}" fill="#eef1f4" stroke="#6b7683" stroke-width="1.2" '
                     'vector-effect="non-scaling-stroke"/>')
    if epci:
        parts.append(f'<path d="{epci[0]}" fill="#d6e4f0" stroke="#0a4f8f" stroke-width="1.2" '
                     'vector-effect="non-scaling-stroke"/>')
    parts.append(f'<path d="{commune[0]}" fill="#b35806" stroke="#5a2c03" stroke-width="1" '
                 'vector-effect="non-scaling-stroke"/>')
    parts.append("</g>")
    if anneau:  # outside the scaled group, so that it stays round; a white halo under it
        cercle = f'cx="{cx * k:.4f}" cy="{-cy:.4f}" r="{r:.4f}" fill="none" vector-effect="non-scaling-stroke"'
        parts.append(f'<g {REPERE}><circle {cercle} stroke="#fff" stroke-width="5"/>'
                     f'<circle {cercle} stroke="#b35806" stroke-width="2.5"/></g>')
    parts.append("</svg>")
    return "".join(parts)


def _e(s: Any) -> str:
    return e(s)


# ── the facts, one query per family ─────────────────────────────────────────

@dataclass
class Contexte:
    """What every fiche of a run shares."""

    criteres: list[list]          # [id, label, points, action]
    bandes: dict[str, str]
    departements: dict[str, str]
    epci: dict[str, str]
    operateurs: dict[str, str]
    registres: dict[str, int]     # operator → communes matched by its loaded register
    services: dict[str, str]
    dpnt: bool                    # DPNT loaded (some commune is in it)
    sonde: bool                   # probe run (some site or mail domain checked)
    libelles: dict[str, str]


def _contexte(con) -> Contexte:
    d_crit = index_communes.criteres_score(con)  # the same criteria, weights and actions as the card
    bandes = dict(con.execute("select tranche_taille, libelle from marts.tranches_taille").fetchall())
    terr = con.execute("select niveau, code, nom from marts.territoires where niveau in ('departement', 'epci', 'operateur')").fetchall()
    par = {n: {} for n in ("departement", "epci", "operateur")}
    for niveau, code, nom in terr:
        par[niveau][code] = nom
    registres: dict[str, int] = {}
    if a_table(con, "marts.registres"):
        for op, n in con.execute("select operateur, sum(coalesce(acceptees, 0)) from marts.registres group by 1").fetchall():
            registres[op] = int(n or 0)
    services = dict(con.execute("select service, libelle from marts.services").fetchall()) if a_table(con, "marts.services") else {}
    dpnt = sonde = False
    if a_table(con, "intermediate.faits_sources"):
        dpnt, sonde = con.execute("select coalesce(bool_or(dpnt_commune), false), "
                                  "coalesce(bool_or(sonde_site or sonde_mail), false) from intermediate.faits_sources").fetchone()
    libelles = dict(con.execute("select critere, libelle from raw.indicateurs_criteres").fetchall()) \
        if a_table(con, "raw.indicateurs_criteres") else {}
    return Contexte(d_crit, bandes, par["departement"], par["epci"], par["operateur"], registres, services,
                    bool(dpnt), bool(sonde), libelles)


def _communes(con, ctx: Contexte, codes: list[str] | None) -> list[dict[str, Any]]:
    """Every commune with its score, criteria and ranks (size band × département, size band
    × alliance: every commune of the warehouse, as the card compares)."""
    cols = ", ".join(f'coalesce(p."{c[0]}", false) as "c_{c[0]}"' for c in ctx.criteres)
    filtre = ""
    if codes is not None:
        filtre = "where code in (" + ", ".join(f"'{noms.verifier('territoire', c)}'" for c in codes) + ")"
    rows = con.execute(f"""
        with b as (
            select t.code, t.nom, t.code_departement as dep, t.code_epci as epci, t.code_operateur as op,
                   t.population, p.tranche_taille as bande, coalesce(p.fiche_mairie, false) as fiche,
                   case when p.fiche_mairie then p.score_presence end as score, {cols}
            from marts.territoires t left join marts.presence_numerique p using (code)
            where t.niveau = 'commune'),
        r as (
            select *,
                count(score) over (partition by dep, bande) as n_dep,
                avg(score) over (partition by dep, bande) as moy_dep,
                case when score is not null then rank() over (partition by dep, bande, score is null order by score desc) end as rang_dep,
                case when score is not null then rank() over (partition by dep, bande, score is null order by score) - 1 end as bas_dep,
                count(score) over (partition by bande) as n_all,
                avg(score) over (partition by bande) as moy_all,
                case when score is not null then rank() over (partition by bande, score is null order by score desc) end as rang_all,
                case when score is not null then rank() over (partition by bande, score is null order by score) - 1 end as bas_all,
                count(score) over (partition by dep, bande, score) - 1 as eg_dep,
                count(score) over (partition by bande, score) - 1 as eg_all
            from b)
        select * from r {filtre} order by code""")
    noms_cols = [d[0] for d in rows.description]
    return [dict(zip(noms_cols, r)) for r in rows.fetchall()]


def _adhesions(con) -> dict[str, dict[str, Any]]:
    if not a_table(con, "marts.adhesion_communes"):
        return {}
    rows = con.execute("""select code, code_operateur, adherente, date_adhesion, epci_adherent, departement_adherent,
                                 services from marts.adhesion_communes""").fetchall()
    return {r[0]: {"operateur": r[1], "adherente": r[2], "date": r[3], "epci_adherent": r[4],
                   "departement_adherent": r[5], "services": list(r[6] or [])} for r in rows}


_DPNT = ("dpnt_https", "dpnt_site_joignable", "dpnt_email_non_generique")
_SONDE_SITE = ("sonde_https_valide", "sonde_redirection_https", "sonde_hsts")
_SONDE_MAIL = ("sonde_mx", "sonde_spf", "sonde_dmarc_protege", "sonde_dnssec", "sonde_mx_etranger")


def _controles(con) -> dict[str, dict[str, Any]]:
    if not a_table(con, "intermediate.faits_sources"):
        return {}
    cols = ("dpnt_commune", *_DPNT, "sonde_site", *_SONDE_SITE, "sonde_mail", *_SONDE_MAIL)
    rows = con.execute(f"select code, {', '.join(cols)} from intermediate.faits_sources").fetchall()
    return {r[0]: dict(zip(cols, r[1:])) for r in rows}


def _sondes_dates(con) -> dict[str, Any]:
    if not a_table(con, "marts.sondes"):
        return {}
    return dict(con.execute("select code_commune, max(verifie_le) from marts.sondes "
                            "where code_commune is not null group by 1").fetchall())


# ── one fiche ───────────────────────────────────────────────────────────────

def _rang(c: dict[str, Any], ou: str, suffixe: str) -> str | None:
    """« Dans le département Finistère : 4e sur 9, à égalité avec 5 autres (score moyen
    90 / 100 ; 0 % ont un score plus bas) »; below 5 communes of its size, why there is no
    rank (as the card, which shows none); ``None`` without a score."""
    n = c[f"n_{suffixe}"]
    if c["score"] is None or not n:
        return None
    if n < MIN_COMPARAISON:
        if n == 1:
            return f"{ou} : seule commune de sa taille, pas de classement"
        return f"{ou} : {formats.entier(n)} communes de sa taille seulement, trop peu pour un classement ({MIN_COMPARAISON} au moins)"
    rang, eg, bas = c[f"rang_{suffixe}"], c[f"eg_{suffixe}"], c[f"bas_{suffixe}"]
    texte = f"{ou} : {'1re' if rang == 1 else f'{rang}e'} sur {formats.entier(n)}"
    if eg > 0:
        texte += f", à égalité avec {formats.entier(eg)} autre{'s' if eg > 1 else ''}"
    return texte + f" (score moyen {round(c[f'moy_{suffixe}'])}\u202f/\u202f100 ; {round(100 * bas / n)}\u202f% ont un score plus bas)"


def contexte_page(c: dict[str, Any], ctx: Contexte, adh: dict | None, ctrl: dict | None, sonde_le: Any,
                  liens: dict[tuple[str, str], str], carte: str, contour: tuple[str, str] | None = None,
                  anciennes: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """Everything the template shows for commune ``c`` (plain data, escaped by Jinja);
    its code is checked by the caller (:func:`fiches`, through :func:`chemin_fiche`).
    ``contour``: its row of marts.ecarts_sources when its embedded outline is older than its
    commune nouvelle (the two values, said under the map); ``anciennes``: its communes déléguées
    and associées whose name is not its own, ``(type, name)`` (marts.communes_deleguees)."""
    rel = lambda cible: _relatif(cible) if cible else ""  # noqa: E731
    bande = ctx.bandes.get(c["bande"] or "", "")
    criteres, manques = [], []
    for ident, libelle, points, action in ctx.criteres:
        ok = bool(c[f"c_{ident}"]) and c["fiche"]
        criteres.append({"libelle": libelle[:1].upper() + libelle[1:], "ok": ok, "points": points if ok else 0, "max": points})
        if not ok:
            manques.append({"points": points, "action": action})
    manques.sort(key=lambda m: -m["points"])
    dep_nom = ctx.departements.get(c["dep"] or "", c["dep"] or "")
    rangs = [r for r in (_rang(c, f"Dans le département {dep_nom}", "dep"),
                         # the alliance line only when it says more than the département's
                         _rang(c, "Dans l'alliance", "all") if c["n_all"] != c["n_dep"] else None) if r]
    # operator and membership: say what is known, never a 0 for a missing register
    op = (adh or {}).get("operateur") or c["op"]
    op_nom = ctx.operateurs.get(op or "", "")
    if not op:
        adhesion = "Aucun opérateur de l'alliance n'est rattaché à cette commune dans les données."
        services: list[str] = []
    elif op not in ctx.registres:
        adhesion = "Aucun registre d'adhérents de l'opérateur n'est chargé : adhésion et services non connus ici."
        services = []
    elif ctx.registres[op] == 0:
        adhesion = ("Le registre d'adhérents de l'opérateur est chargé mais n'a été rapproché d'aucune "
                    "commune : adhésion et services non connus ici.")
        services = []
    elif adh and adh.get("adherente"):
        quand = f" depuis le {adh['date']:%d/%m/%Y}" if hasattr(adh.get("date"), "strftime") else ""
        adhesion = f"Commune adhérente{quand}, d'après le registre d'adhérents de l'opérateur."
        services = [ctx.services.get(s, s) for s in adh.get("services") or []] or \
            ["aucun des services recensés n'est rattaché à la commune dans le registre"]
    else:
        par = []
        if adh and adh.get("epci_adherent"):
            par.append("son EPCI est adhérent")
        if adh and adh.get("departement_adherent"):
            par.append("son département est adhérent")
        adhesion = ("Commune non adhérente d'après le registre d'adhérents de l'opérateur"
                    + (f" ({', '.join(par)})" if par else "") + ".")
        services = []
    controles = []
    if ctrl is not None:
        if ctx.dpnt:
            if ctrl.get("dpnt_commune"):
                lignes = [(ctx.libelles.get(k, k), bool(ctrl.get(k))) for k in _DPNT]
                controles.append({"titre": "Tests de l'ANCT (données de présence numérique, DPNT)", "lignes": lignes, "note": ""})
            else:
                controles.append({"titre": "Tests de l'ANCT (données de présence numérique, DPNT)", "lignes": [],
                                  "note": "La commune n'apparaît pas dans les données de l'ANCT chargées."})
        if ctx.sonde:
            lignes = []
            if ctrl.get("sonde_site"):
                lignes += [(ctx.libelles.get(k, k), bool(ctrl.get(k))) for k in _SONDE_SITE]
            if ctrl.get("sonde_mail"):
                lignes += [(ctx.libelles.get(k, k), bool(ctrl.get(k))) for k in _SONDE_MAIL]
            date = f" (contrôle du {sonde_le:%d/%m/%Y})" if hasattr(sonde_le, "strftime") else ""
            controles.append({"titre": f"Contrôles de la sonde de cybersécurité{date}", "lignes": lignes,
                              "note": "" if lignes else "Ni le site ni la messagerie de la commune n'ont été contrôlés par la sonde."})
    return {
        "code": c["code"], "nom": c["nom"], "population": formats.entier(c["population"]) if c["population"] is not None else "",
        "bande": bande, "fiche": c["fiche"], "score": c["score"],
        "departement": {"nom": dep_nom, "lien": rel(liens.get(("departement", c["dep"])))},
        "epci": {"nom": ctx.epci.get(c["epci"] or "", ""), "lien": rel(liens.get(("epci", c["epci"])))} if c["epci"] else None,
        "criteres": criteres, "manques": manques, "rangs": rangs,
        "operateur": {"nom": op_nom, "lien": rel(liens.get(("operateur", op)))} if op_nom else None,
        "adhesion": adhesion, "services": services, "controles": controles,
        "sources_absentes": [s for s, ok in (("données de présence numérique de l'ANCT (DPNT)", ctx.dpnt),
                                             ("sonde de cybersécurité", ctx.sonde)) if not ok],
        "carte": carte, "carte_entouree": REPERE in carte, "annuaire": index_communes.ANNUAIRE,
        "anciennes": _anciennes(anciennes or []),
        "contour": (f"Contour : les contours embarqués sont antérieurs à la commune nouvelle ; {contour[0]} ; "
                    f"{contour[1]}.") if contour else "",
        "carte_lien": rel("index.html") + f"#commune-{c['code']}",
    }


def _anciennes(anciennes: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``[(« Communes déléguées », « Pléven, Pluduno »), …]``: the names grouped by type, in order."""
    par_type: dict[str, list[str]] = {}
    for libelle, nom in anciennes:
        par_type.setdefault(libelle, []).append(nom)
    return [(_pluriel(libelle, len(noms)), ", ".join(noms)) for libelle, noms in par_type.items()]


def _pluriel(libelle: str, n: int) -> str:
    """« Commune déléguée » / « Communes déléguées »."""
    mots = libelle.split()
    if n > 1:
        mots = [m + "s" for m in mots]
    return " ".join(mots)[:1].upper() + " ".join(mots)[1:]


@lru_cache(maxsize=None)
def _relatif(cible: str) -> str:
    """From a fiche to ``cible``: every fiche is in ``commune/``, the same for all of them
    (``posixpath.relpath`` four times a fiche cost a sixth of rendering)."""
    return site.relatif(f"{DOSSIER}/fiche.html", cible)


# ── the run ─────────────────────────────────────────────────────────────────

@dataclass
class Resultat:
    n: int
    duree_s: float
    octets: int


def fiches(con, liens: dict[tuple[str, str], str], codes: list[str] | None = None) -> Iterator[tuple[str, str]]:
    """``(path relative to reports/, HTML)`` for every commune (or ``codes``)."""
    from datetime import datetime

    ctx = _contexte(con)
    rows = _communes(con, ctx, codes)
    adh, ctrl, sondes = _adhesions(con), _controles(con), _sondes_dates(con)
    anciennes: dict[str, list[tuple[str, str]]] = {}
    for nom, _, commune, libelle in index_communes.anciennes(con):  # as the card names them
        anciennes.setdefault(commune, []).append((libelle, nom))
    contours = {code: (a, b) for code, a, b in con.execute(
        "select code, valeur_a, valeur_b from marts.ecarts_sources where sujet = 'contour_commune_nouvelle'").fetchall()} \
        if a_table(con, "marts.ecarts_sources") else {}

    avec_spatial(con)
    geo_c = _contours(con, "commune", 0.0005)
    geo_d = _contours(con, "departement", 0.004)
    geo_e = _contours(con, "epci", 0.002)
    from markupsafe import Markup

    source = Markup(ligne_source(con))  # the dashboards' dated source line (escaped there)
    gabarit = _gabarit()
    date = datetime.now().strftime("%d/%m/%Y")
    for c in rows:
        path = chemin_fiche(c["code"])
        carte = carte_svg(c["nom"], geo_c.get(c["code"]), geo_d.get(c["dep"] or ""), geo_e.get(c["epci"] or ""))
        f = contexte_page(c, ctx, adh.get(c["code"]), ctrl.get(c["code"]), sondes.get(c["code"]), liens, carte,
                          contours.get(c["code"]), anciennes.get(c["code"]))
        page = {"titre": f"{c['nom']} ({c['code']}) — fiche de présence numérique",
                "description": f"Présence numérique de la commune de {c['nom']} : score, critères, rang, adhésion.",
                "racine": "../", "assets": "../assets/", "single_file": False, "version": paquet.__version__}
        yield path, gabarit.render(t=page, f=f, date=date, source=source)


def ecrire(reports_dir: Path, warehouse: Path, liens: dict[tuple[str, str], str],
           codes: list[str] | None = None, arret=None, con=None) -> Resultat:
    """Write every fiche under ``reports/commune/``; return how many, how long, how big.
    ``arret`` (a :class:`threading.Event` set from another thread): stop between two
    fiches, those written being whole; ``con``: a connection to ``warehouse`` the caller
    opened (and closes: another thread may interrupt its query), else one of its own."""
    t0 = time.perf_counter()
    n = octets = 0
    propre = con is None
    if propre:
        con = connect(warehouse)
    # resolved once, not per fiche (half the cost of writing them): each name in it is a
    # checked code (chemin_fiche), and os.replace puts the fiche in place of any link so named
    dossier = noms.dans_dossier(reports_dir, DOSSIER)
    try:
        for rel, html in fiches(con, liens, codes):
            if arret is not None and arret.is_set():
                break
            data = html.encode("utf-8")
            write_atomic(dossier / rel.rpartition("/")[2], data)
            n += 1
            octets += len(data)
    finally:
        if propre:
            con.close()
    return Resultat(n, round(time.perf_counter() - t0, 2), octets)


def _gabarit():
    return _environnement(dicts=True).get_template("fiche_commune.html.j2")


__all__ = ["DOSSIER", "PORTEE", "Resultat", "carte_svg", "chemin_fiche", "contexte_page", "ecrire", "fiches", "separer"]
