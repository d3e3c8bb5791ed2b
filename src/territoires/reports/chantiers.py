"""The alliance's domains (« chantiers »): one section per domain on every dashboard
(« Cybersécurité », « Données ouvertes », « Achats responsables ») and the alliance page's
« Les chantiers de l'alliance », the four operators side by side for their communes, then
for their other members (:func:`.chantiers_adherents.alliance`).

The domains, their indicators and sources are declared once, in ``catalogue.toml``
(``[domaines]``, read by :mod:`territoires.indicators.domaines`): a section shows the
domain's indicators that the catalogue holds (an indicator is catalogued only when its
source is loaded); when it holds none, the section is the domain's one sentence, never a
0 %. A section: key figures with their base; member and non-member communes side by side
(where a register is loaded); by size band (``marts.indicateurs``); a map of its communes;
the communes to support, with a CSV; the members that are not communes (EPCI, syndicats…:
:mod:`.chantiers_adherents`); its dated source line. Per-commune facts come from
``intermediate.faits_sources`` (the criteria of the fetched sources and the probe) or
``marts.presence_numerique``, by the criterion's family in the catalogue; the rates from
``marts.indicateurs``.
"""

from __future__ import annotations

from typing import Any

from territoires import charts, couleurs, formats, niveaux, tableurs
from territoires.html import Bloc, defilante, e, num, section
from territoires.html import table as table_html
from territoires.indicators.domaines import Domaine, domaines
from territoires.reports.donnees import Territoire
from territoires.reports.page import (carte_chiffre, catalogue, court, display, geometrie_emise, memo, renseigne, taux,
                                      tranches_taille)
from territoires.reports.chantiers_mesures import MAX_LISTE, a_accompagner, cellule, oui_non, pourcentage, val
from territoires.reports.publication import csv_data_uri
from territoires.reports import adhesion, chantiers_adherents, donnees, niveau as page_niveau

#: the map's classes of a commune fact: favourable, unfavourable, not measured
NON_MESUREE = "Non mesurée"


# ── data ────────────────────────────────────────────────────────────────────

def domaine(ident: str) -> Domaine:
    for d in domaines():
        if d.id == ident:
            return d
    raise ValueError(f"domaine « {ident} » inconnu ; domaines de catalogue.toml : "
                     + ", ".join(d.id for d in domaines()))


def indicateurs(con, d: Domaine) -> list[dict[str, Any]]:
    """The domain's indicators the catalogue holds (its source loaded), in declared order."""
    cat = {c["indicateur"]: c for c in catalogue(con)}
    return [cat[i] for i in d.indicateurs if i in cat and renseigne(cat[i])]


def _familles(con) -> dict[str, str]:
    return memo(("familles_criteres", id(con)), lambda: dict(con.execute(
        "select critere, famille from raw.indicateurs_criteres").fetchall()))


def _expr(con, critere: str) -> str:
    """SQL of a criterion's per-commune value as an integer (a yes/no fact is 0 or 1, a
    count stays a count), as the indicator models sum it (``f``: faits_sources, ``p``:
    presence_numerique); 0 for a member criterion, which has no per-commune fact here."""
    if critere == "commune":
        return "1"
    if critere == "score_maximum":
        return "case when p.fiche_mairie then 100 else 0 end"
    if not critere.isidentifier():
        raise ValueError(f"critère « {critere} » invalide")
    alias = {"sources": "f", "presence": "p"}.get(_familles(con).get(critere))
    return f'coalesce({alias}."{critere}"::integer, 0)' if alias else "0"


def communes(t: Territoire, inds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per commune of ``t``: code, name, population, member (None: no register), and per
    indicator ``(numerator, denominator)`` (``(1, 1)``, ``(0, 1)``, ``(0, 0)`` for a yes/no fact)."""
    con = t.con
    cols = []
    for k, c in enumerate(inds):
        n, d = _expr(con, c["numerateur"]), _expr(con, c["denominateur"])
        cols.append(f"{d} as d{k}, case when {d} > 0 then {n} else 0 end as n{k}")

    def compute():
        rows = con.execute(
            f"select p.code, p.nom, p.population, a.adherente{''.join(', ' + c for c in cols)} "
            "from marts.presence_numerique p left join intermediate.faits_sources f using (code) "
            f"left join marts.adhesion_communes a using (code) where p.code in {adhesion.COMMUNES_DU_TERRITOIRE} "
            "order by p.code", [t.niveau, t.code]).fetchall()
        out = []
        for r in rows:
            out.append({"code": r[0], "nom": r[1], "population": r[2], "adherente": r[3],
                        "faits": [(int(r[5 + 2 * k]), int(r[4 + 2 * k])) for k in range(len(inds))]})
        return out
    return memo(("chantier_communes", id(con), t.niveau, t.code, tuple(c["indicateur"] for c in inds)), compute)


def par_adhesion(rows: list[dict[str, Any]], inds: list[dict[str, Any]]) -> dict[bool, list[tuple[int, int]]] | None:
    """``{adherente: [(numerator, base) per indicator]}``; None when no register covers the territory."""
    if not any(r["adherente"] is not None for r in rows):
        return None
    out = {True: [(0, 0)] * len(inds), False: [(0, 0)] * len(inds)}
    for r in rows:
        if r["adherente"] is None:
            continue
        out[r["adherente"]] = [(n + fn, d + fd) for (n, d), (fn, fd) in zip(out[r["adherente"]], r["faits"])]
    return out


def ligne_source(con, inds: list[dict[str, Any]]) -> str:
    """The dated source line of a domain: each vintage its indicators cite, and the build date."""
    vus: list[str] = []
    for c in inds:
        for m in (c.get("millesime") or "").split(" ; "):
            if m and m not in vus:
                vus.append(m)
    build = donnees.construction(con)["construit_le"]
    quand = build.strftime("%d/%m/%Y") if hasattr(build, "strftime") else str(build)
    return f'<p class="note source">{e("Source : " + " ; ".join(vus) + f" ; calculé le {quand}.")}</p>'


def _libelles_criteres(con) -> dict[str, str]:
    return memo(("libelles_criteres", id(con)), lambda: dict(con.execute(
        "select critere, libelle from raw.indicateurs_criteres").fetchall()))


# ── a dashboard's section ───────────────────────────────────────────────────

def entrees_sommaire() -> list[tuple[str, str]]:
    """The table of contents' entries of the domains' sections."""
    return [(d.ancre, d.titre) for d in domaines()]


def section_domaine(t: Territoire, ident: str) -> None:
    """One domain's section of a dashboard; its one sentence when its sources are not loaded."""
    d = domaine(ident)
    con = t.con
    inds = indicateurs(con, d)
    mine = taux(con, t.niveau, t.code)
    inds = [c for c in inds if (mine.get(c["indicateur"]) or {}).get("denominateur")]
    if not indicateurs(con, d):
        display(Bloc(section(d.titre, f"<p>{e(d.absente)}</p>", ident=d.ancre)))
        return
    if not inds:
        display(Bloc(section(d.titre, "<p>Les sources de ce domaine ne mesurent aucune commune de ce territoire : "
                                      "aucun chiffre n'est montré ici (ni zéro, ni estimation).</p>"
                             + chantiers_adherents.bloc(t, d, indicateurs(con, d))
                             + ligne_source(con, indicateurs(con, d)), ident=d.ancre)))
        return
    rows = communes(t, inds)
    body = (_chiffres(t, inds, mine, rows) + _non_mesures(d, indicateurs(con, d))
            + _adherentes(t, d, inds, rows, mine) + _tranches(t, d, inds))
    display(Bloc(section(d.titre, body, ident=d.ancre, intro=e(d.intro))))
    parts = [k for k, c in enumerate(inds) if pourcentage(c)]  # the map and the list: shares only
    if parts:
        sous = [{**r, "faits": [r["faits"][k] for k in parts]} for r in rows]
        _carte(t, d, [inds[k] for k in parts], sous)
        display(Bloc(_liste(t, d, [inds[k] for k in parts], sous) + chantiers_adherents.bloc(t, d, indicateurs(con, d))
                     + ligne_source(con, inds)))
    else:
        display(Bloc(chantiers_adherents.bloc(t, d, indicateurs(con, d)) + ligne_source(con, inds)))


def _chiffres(t: Territoire, inds: list[dict[str, Any]], mine: dict, rows: list[dict[str, Any]]) -> str:
    libelles = _libelles_criteres(t.con)
    cards = []
    for k, c in enumerate(inds):
        r = mine[c["indicateur"]]
        n, d = r["numerateur"], r["denominateur"]
        if all(oui_non(*x["faits"][k]) for x in rows):  # a yes/no fact: its base counts communes
            base = f"{formats.entier(n)} sur {formats.entier(d)} commune{'s' if d > 1 else ''} mesurée{'s' if d > 1 else ''}"
        else:  # counts (contracts…): the base says what it counts
            base = (f"{formats.entier(n)} sur {formats.entier(d)}" if pourcentage(c) else f"sur {formats.entier(d)}") \
                + f" ({libelles.get(c['denominateur'], c['denominateur'])})"
        texte = formats.pourcent(r["taux"]) if pourcentage(c) else f"{formats.decimal(r['taux'], 1)} {c['unite']}"
        cards.append(carte_chiffre(texte, c["libelle"], e(base), defavorable=c.get("polarite") == "baisse_favorable"))
    return f'<ul class="chiffres">{"".join(cards)}</ul>'


def _non_mesures(d: Domaine, presents: list[dict[str, Any]]) -> str:
    """One sentence naming the domain's indicators whose source is not loaded (never a 0 %)."""
    ids = {c["indicateur"] for c in presents}
    absents = [court for i, court in zip(d.indicateurs, d.courts) if i not in ids]
    if not absents:
        return ""
    return (f'<p class="note">Non mesuré{"s" if len(absents) > 1 else ""} ici, faute de source chargée '
            f"(sonde non lancée ou fichier non téléchargé) : {e(', '.join(absents))}.</p>")


def _adherentes(t: Territoire, d: Domaine, inds: list[dict[str, Any]], rows: list[dict[str, Any]], mine: dict) -> str:
    split = par_adhesion(rows, inds)
    if split is None:
        autres = "" if adhesion.membres(t) else f", ni de mesure des {chantiers_adherents.QUI}"
        return ('<p class="note">Aucun registre d\'adhérents n\'est chargé pour ce territoire : pas de comparaison '
                f"entre communes adhérentes et non adhérentes{e(autres)}.</p>")
    lignes = []
    for k, c in enumerate(inds):
        r = mine[c["indicateur"]]
        lignes.append([court(c), num(val(c, r["numerateur"], r["denominateur"])),  # short: read on a phone
                       num(val(c, *split[True][k])), num(val(c, *split[False][k]))])
    return table_html(["Indicateur", "Toutes les communes", "Adhérentes", "Non adhérentes"], lignes,
                      legende=f"{d.titre} : communes adhérentes et non adhérentes à leur opérateur, {t.nom}",
                      numeriques=[1, 2, 3])


def _tranches(t: Territoire, d: Domaine, inds: list[dict[str, Any]]) -> str:
    rates = taux(t.con, t.niveau, t.code, tranches=True)
    lignes = []
    for b in tranches_taille(t.con):
        vals = [rates.get((b["tranche_taille"], c["indicateur"])) or {} for c in inds]
        if not any(v.get("denominateur") for v in vals):
            continue
        lignes.append([b["libelle"]] + [num(val(c, v.get("numerateur") or 0, v.get("denominateur") or 0))
                                        for c, v in zip(inds, vals)])
    if not lignes:
        return ""
    return table_html(["Taille de commune"] + [court(c) for c in inds], lignes,
                      legende=f"{d.titre} par taille de commune, {t.nom}", numeriques=range(1, len(inds) + 1))


def _carte(t: Territoire, d: Domaine, inds: list[dict[str, Any]], rows: list[dict[str, Any]]) -> None:
    geoms = page_niveau.geometrie_communes(t.con, t.niveau, t.code)
    if not len(geoms):
        return
    par_code = {r["code"]: r for r in rows}
    noms = [(par_code.get(c) or {}).get("nom") or c for c in geoms.ids]
    vides = {"faits": [(0, 0)] * len(inds)}
    variantes = []
    for k, c in enumerate(inds):
        faits_k = [(par_code.get(code) or vides)["faits"][k] for code in geoms.ids]
        if all(oui_non(n, d) for n, d in faits_k):  # a yes/no fact: three classes
            bon, mauvais = ((couleurs.OUI, couleurs.NON) if c.get("polarite") != "baisse_favorable"
                            else (couleurs.NON, couleurs.OUI))
            variantes.append(charts.variante(court(c), [2 if not d else (0 if n else 1) for n, d in faits_k],
                                             categories_=[("Oui", bon), ("Non", mauvais), (NON_MESUREE, couleurs.INCONNU)]))
        else:  # counts (contracts…): the commune's own rate
            variantes.append(charts.variante(court(c), [n / d if d else None for n, d in faits_k],
                                             polarite=c.get("polarite"), zmin=0, zmax=1))
    premier = inds[0]
    alt = (f"Carte des communes {niveaux.devant_nom(t.niveau)}{t.nom} : {d.titre.lower()}, "
           f"commune par commune ; d'abord « {premier['libelle']} ». Le tableau de la section donne les taux.")
    display(charts.carte(geoms, noms, variantes, titre=f"{d.titre} : les communes {niveaux.devant_nom(t.niveau)}{t.nom}",
                         alt=alt, hauteur=480, partagee=geometrie_emise(geoms)))


def _liste(t: Territoire, d: Domaine, inds: list[dict[str, Any]], rows: list[dict[str, Any]]) -> str:
    acc = a_accompagner(rows, inds)
    slug = f"{d.ancre}-{t.niveau}-{t.code}"
    titre = f"<h3>Communes à accompagner : {e(d.liste)} ({formats.entier(len(acc))})</h3>"
    if not acc:
        return titre + "<p>Aucune : chaque commune mesurée remplit chaque critère.</p>"

    csv = tableurs.csv_texte(
        ["code_commune", "commune", "population", "adherente"] + [c["indicateur"] for c in inds] + ["motifs"],
        ([r["code"], r["nom"], r["population"], "" if r["adherente"] is None else ("oui" if r["adherente"] else "non")]
         + [cellule(n, d) for n, d in r["faits"]] + [" ; ".join(r["motifs"])] for r in acc))
    lien = (f'<p class="telechargements"><a class="telecharger" href="{csv_data_uri(csv)}" '
            f'download="{e(slug)}.csv">Télécharger la liste (CSV, {formats.entier(len(acc))} '
            f"commune{'s' if len(acc) > 1 else ''}, critère par critère)</a></p>")
    montrees = acc[:MAX_LISTE]
    adh = any(r["adherente"] is not None for r in acc)
    heads = ["Commune", "Population"] + (["Adhérente"] if adh else []) + ["Critères manqués"]
    lignes = [[r["nom"], num(formats.entier(r["population"]))]
              + ([("oui" if r["adherente"] else "non") if r["adherente"] is not None else "–"] if adh else [])
              + [" ; ".join(r["motifs"])] for r in montrees]
    legende = f"{d.titre} : communes à accompagner, {t.nom}"
    table = table_html(heads, lignes, legende=legende, numeriques=[1], enveloppe=False)
    note = (f'<p class="note">Les {formats.entier(MAX_LISTE)} premières sont affichées (le plus de critères manqués, '
            "puis la population la plus grande) ; le fichier CSV les liste toutes.</p>") if len(acc) > MAX_LISTE else ""
    return (titre + lien + f'<div class="table-defil{" haute" if len(lignes) > 25 else ""}" {defilante(legende)}>'
            f"{table}</div>" + note)


# ── the figures of « Ce qu'il faut retenir » ───────────────────────────────

def faits(t: Territoire) -> list[dict[str, Any]]:
    """Per domain indicator measured in ``t``: its rate and base, and among member and
    non-member communes (where a register is loaded), for :mod:`.retenir` — shares whose
    base counts communes (a yes/no fact each), as its sentences say « communes mesurées »."""
    out = []
    mine = taux(t.con, t.niveau, t.code)
    for d in domaines():
        inds = [c for c in indicateurs(t.con, d) if (mine.get(c["indicateur"]) or {}).get("denominateur")
                and pourcentage(c)]  # the findings say shares
        if not inds:
            continue
        rows = communes(t, inds)
        split = par_adhesion(rows, inds)
        for k, c in enumerate(inds):
            if not all(oui_non(*r["faits"][k]) for r in rows):  # a base of contracts, not of communes
                continue
            r = mine[c["indicateur"]]
            x = {"indicateur": c["indicateur"], "domaine": d.titre, "ancre": d.ancre, "libelle": c["libelle"],
                 "polarite": c["polarite"], "taux": r["taux"], "numerateur": r["numerateur"], "base": r["denominateur"]}
            if split is not None:
                (na, ba), (nn, bn) = split[True][k], split[False][k]
                x.update(taux_adherentes=na / ba if ba else None, base_adherentes=ba,
                         taux_non_adherentes=nn / bn if bn else None, base_non_adherentes=bn)
            out.append(x)
    return out


# ── the alliance page ───────────────────────────────────────────────────────

def chantiers_alliance(con, alliance: Territoire) -> None:
    """« Les chantiers de l'alliance »: each domain's indicators, operator by operator, for
    the communes, then for the other members (:func:`.chantiers_adherents.alliance`)."""
    cols = [("operateur", c, n) for c, n in adhesion.operateurs(alliance)] + [
        ("alliance", "alliance", niveaux.libelle("alliance"))]
    parts = []
    for d in domaines():
        inds = indicateurs(con, d)
        parts.append(f'<h3 id="chantier-{e(d.ancre)}">{e(d.titre)}</h3>')
        if not inds:
            parts.append(f"<p>{e(d.absente)}</p>")
            continue
        rates = {(n, c): taux(con, n, c) for n, c, _ in cols}
        lignes = []
        for c in inds:
            cells = []
            for n, code, _ in cols:
                r = rates[(n, code)].get(c["indicateur"]) or {}
                cells.append(num(val(c, r["numerateur"], r["denominateur"]) if r.get("denominateur") else "non mesuré"))
            lignes.append([court(c)] + cells)  # the short label: the members' table below has the same rows
        parts.append("<h4>Communes</h4>" + table_html(
            ["Indicateur"] + [nom for _, _, nom in cols], lignes,
            legende=f"{d.titre}, communes, opérateur par opérateur ({chantiers_adherents.BASES})",
            numeriques=range(1, len(cols) + 1)))
        parts.append(chantiers_adherents.alliance(alliance, d, inds) + ligne_source(con, inds))
    intro = ("Les domaines de la déclaration de l'alliance (novembre 2025) mesurés opérateur par opérateur : d'abord "
             "les communes de chaque territoire d'action, adhérentes ou non, puis les autres adhérents inscrits au "
             "registre de chaque opérateur. L'intelligence artificielle n'a pas encore de mesure ouverte.")
    sans = chantiers_adherents.sans_registre(alliance) if any(indicateurs(con, d) for d in domaines()) else ""
    body = (f'<p class="note">{e(sans)}</p>' if sans else "") + "".join(parts)
    display(Bloc(section("Les chantiers de l'alliance", body, ident="chantiers", intro=e(intro))))


__all__ = ["section_domaine", "chantiers_alliance", "faits", "entrees_sommaire", "par_adhesion",
           "communes", "indicateurs", "domaine"]
