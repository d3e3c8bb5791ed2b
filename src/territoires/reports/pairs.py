"""Rank and peers: where a territory stands among the territories of its level (the 308
EPCI, 26 départements, 4 regions, 4 operators of the alliance) on the score and the
headline rates, its quarter, and the median of the territories of similar population.

Figures only (:func:`classement`) and one section (:func:`section_rang`); the sentences
of « Ce qu'il faut retenir » read the same figures (:mod:`.retenir`).
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from territoires import formats, niveaux
from territoires.html import Bloc, e, num, section
from territoires.html import table as table_html

#: how many territories of similar population a territory is compared with (fewer if the
#: level has fewer)
VOISINS_POPULATION = 10


def classement(con, niveau: str, code: str, indicateurs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``{indicateur: {rang, sur, taux, base, numerateur, quart, similaires, mediane_similaires}}``.

    Peers: the territories of the same level with a value (denominator above 0). Rank 1 is
    the best by the indicator's polarity; ties share the better rank. ``similaires``: the
    :data:`VOISINS_POPULATION` peers closest in population (ratio, not difference)."""
    from territoires.reports.page import memo  # paresseux : charge duckdb

    ids = [i["indicateur"] for i in indicateurs]
    if niveau not in niveaux.RANG or not ids:
        return {}
    # read by the findings, the key figures and the rank section of one page: once
    return memo(("classement", id(con), niveau, code, tuple(ids)), lambda: _classement(con, niveau, code, indicateurs))


def _classement(con, niveau: str, code: str, indicateurs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    from territoires.reports.niveau import partage  # paresseux : charge duckdb
    from territoires.reports.page import memo  # paresseux : charge duckdb

    ids = [i["indicateur"] for i in indicateurs]
    # the level's peers, read (and grouped by indicator) once for all its pages
    pop, par_indicateur = partage(con, ("pairs", niveau, tuple(ids)), lambda: _pairs(con, niveau, ids))
    if code not in pop:
        return {}
    # the level's territories closest in population, sorted once per page (which asks two sets
    # of indicators): each indicator takes the first of them that it measures
    proches = memo(("proches", id(con), niveau, code), lambda: _proches(con, niveau, code))

    out: dict[str, dict[str, Any]] = {}
    for ind in indicateurs:
        vals = par_indicateur.get(ind["indicateur"], {})
        if code not in vals:
            continue
        hausse = ind.get("polarite", "hausse_favorable") != "baisse_favorable"
        x = vals[code][6]
        meilleurs = sum(1 for r in vals.values() if (r[6] > x if hausse else r[6] < x))
        sur = len(vals)
        autres = [c for c in proches if c in vals and c != code][:VOISINS_POPULATION]
        out[ind["indicateur"]] = {
            "rang": meilleurs + 1, "sur": sur, "taux": x, "base": int(vals[code][5]),
            "numerateur": int(vals[code][4] or 0),
            "similaires": [(c, vals[c][1]) for c in autres],
            "mediane_similaires": statistics.median(vals[c][6] for c in autres) if autres else None,
        }
    return out


def _proches(con, niveau: str, code: str) -> list[str]:
    """The level's territories by population closest to ``code``'s (ratio, not difference)."""
    from territoires.reports.niveau import partage  # paresseux : charge duckdb

    pop = partage(con, ("populations", niveau), lambda: dict(con.execute(
        "select code, coalesce(population, 0) from marts.territoires where niveau = ?", [niveau]).fetchall()))
    mine = pop[code]
    return sorted(pop, key=lambda c: (abs(math.log((pop[c] or 1) / (mine or 1))), c))


def _pairs(con, niveau: str, ids: list[str]) -> tuple[dict[str, tuple], dict[str, dict[str, tuple]]]:
    """A level's peers: ``({code: (nom, population)}, {indicateur: {code: row}})``, the
    territories with a value (denominator above 0) of any of ``ids``."""
    rows = con.execute(
        "select i.code, t.nom, t.population, i.indicateur, i.numerateur, i.denominateur, i.taux "
        "from marts.indicateurs i join marts.territoires t on t.niveau = i.niveau and t.code = i.code "
        "where i.niveau = ? and i.tranche_taille = 'ensemble' and list_contains(?, i.indicateur) "
        "and i.denominateur > 0 and i.taux is not null",
        [niveau, ids]).fetchall()
    par_indicateur: dict[str, dict[str, tuple]] = {}
    for r in rows:
        par_indicateur.setdefault(r[3], {})[r[0]] = r
    return {r[0]: (r[1], r[2] or 0) for r in rows}, par_indicateur


def rang(n: int) -> str:
    """A rank in words: « 1er », « 5e »."""
    return "1er" if n == 1 else f"{n}e"


def quart(rang: int, sur: int) -> str:
    """« premier quart » … « dernier quart » of a ranking (rank 1 = best)."""
    q = min(4, max(1, math.ceil(4 * rang / sur)))
    return ("premier quart", "deuxième quart", "troisième quart", "dernier quart")[q - 1]


def texte_rang(niveau: str, r: dict[str, Any] | None) -> str:
    """« Rang : 5e sur 10 départements (deuxième quart) », or "" (too few peers)."""
    if not r or r["sur"] < 3:
        return ""
    pairs = niveaux.pluriel(niveau) if niveau in niveaux.RANG else ""
    return f"Rang : {rang(r['rang'])} sur {formats.entier(r['sur'])} {pairs} ({quart(r['rang'], r['sur'])})"


def _base(ind: dict[str, Any], r: dict[str, Any]) -> str:
    n = r["base"] // 100 if ind.get("unite") != "%" else r["base"]  # the score's base is 100 × communes
    return f"{formats.entier(n)} commune{'s' if n > 1 else ''}"


def section_rang(t, indicateurs: list[dict[str, Any]], valeur) -> Bloc | None:
    """The section « Rang parmi les territoires comparables », or None (too few peers)."""
    rangs = classement(t.con, t.niveau, t.code, indicateurs)
    rangs = {k: v for k, v in rangs.items() if v["sur"] >= 3}
    if not rangs:
        return None
    rows = []
    similaires: list[tuple[str, str]] = []
    for ind in indicateurs:
        r = rangs.get(ind["indicateur"])
        if not r:
            continue
        similaires = similaires or r["similaires"]
        rows.append([ind["libelle"], num(valeur(ind, r)), num(_base(ind, r)),
                     num(f"{rang(r['rang'])} sur {formats.entier(r['sur'])}"), quart(r["rang"], r["sur"]),
                     num(valeur(ind, {"taux": r["mediane_similaires"]}))])
    pairs = niveaux.pairs(t.niveau) if t.niveau in niveaux.RANG else niveaux.libelle_pluriel(t.niveau)
    table = table_html(["Indicateur", "Valeur", "Base", "Rang", "Quart", "Médiane des territoires de population comparable"],
                       rows, legende=f"Rang parmi les {pairs}", numeriques=[1, 2, 3, 5])
    noms = ", ".join(n for _, n in similaires)
    intro = (f"Rang 1 : la meilleure valeur parmi les {pairs} ayant des données. Territoires de population comparable "
             f"({formats.entier(len(similaires))}, les plus proches en nombre d'habitants) : {noms}.")
    return Bloc(section("Rang parmi les territoires comparables", table, ident="rang", intro=e(intro)))
