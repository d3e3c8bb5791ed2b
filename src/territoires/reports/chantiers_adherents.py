"""The alliance's domains measured for the members that are not communes (EPCI, syndicats,
départements, CCAS…), inside each domain's section of a dashboard and, operator by operator,
on the alliance page's « Les chantiers de l'alliance » (:mod:`.chantiers`): one computation
(:func:`autres`, :func:`constat`, :func:`totaux`) and one CSV (:func:`lien_csv`) for both.

The members are those of the page's operator(s) located in the territory, as the
membership section lists them (:func:`.adhesion.membres`); their facts come from
``marts.adherents_chantiers``, whose columns are named as the criteria of the catalogue's
indicators, so a domain indicator measures a member with the very criterion it measures a
commune with (open data by the member's SIREN, the probe's checks of its site and mail
domain, its contracts in the DECP). A domain none of whose criteria is matched to members says so; where no register
is loaded nothing is shown here (the section's comparison sentence says it), never a 0.
"""

from __future__ import annotations

from typing import Any

from territoires import formats, niveaux, tableurs
from territoires.html import defilante, e, num
from territoires.html import table as table_html
from territoires.indicators.domaines import Domaine
from territoires.reports import adhesion
from territoires.reports.chantiers_mesures import MAX_LISTE, a_accompagner, cellule, pourcentage, val
from territoires.reports.donnees import Territoire
from territoires.reports.page import court, memo
from territoires.reports.publication import csv_data_uri

#: what the list shows of a member beside its criteria, when the domain measures its criterion:
#: ``{criterion: [(column of marts.adherents_chantiers, heading)]}``
DETAILS = {"opendata_publie": [("opendata_jeux", "Jeux sur data.gouv.fr"),
                               ("opendata_modifie_le", "Dernière mise à jour (data.gouv.fr)")]}

QUI = "adhérents autres que les communes (EPCI, syndicats, départements…)"


def _colonnes(con) -> set[str]:
    return memo(("colonnes_adherents_chantiers", id(con)), lambda: {c for (c,) in con.execute(
        "select column_name from duckdb_columns() where schema_name = 'marts' "
        "and table_name = 'adherents_chantiers'").fetchall()})


def mesurables(con, inds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The shares among ``inds`` whose numerator and base are facts of the members' mart."""
    cols = _colonnes(con)
    return [c for c in inds if pourcentage(c) and c["numerateur"] in cols and c["denominateur"] in cols]


def autres(t: Territoire, inds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The non-commune members of ``t`` (:func:`.adhesion.membres`): identifier, name, type,
    seat, open-data details, and per indicator ``(numerator, base)``: ``(0, 0)`` unmeasured."""
    con = t.con
    cles = {(m["operateur"], m["identifiant"]) for m in adhesion.membres(t)}
    details = [col for c in inds for col, _ in DETAILS.get(c["numerateur"], [])]
    cols = "".join(f', "{c["denominateur"]}"::integer, "{c["numerateur"]}"::integer' for c in inds)

    def compute():
        rows = con.execute(
            "select operateur, nom_operateur, identifiant, siren, nom, type_libelle, nom_commune"
            + "".join(f', "{x}"' for x in details) + cols
            + " from marts.adherents_chantiers order by nom, identifiant").fetchall()
        out = []
        for r in rows:
            if (r[0], r[2]) not in cles:
                continue
            k = 7 + len(details)
            faits = [(r[k + 2 * i + 1] if r[k + 2 * i] else 0, r[k + 2 * i]) for i in range(len(inds))]
            out.append({"operateur": r[0], "nom_operateur": r[1], "code": r[2], "siren": r[3], "nom": r[4],
                        "type": r[5], "commune": r[6], "details": list(r[7:k]), "faits": faits})
        return out
    return memo(("chantier_autres", id(con), t.niveau, t.code, tuple(c["indicateur"] for c in inds)), compute)


def constat(t: Territoire, mes: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """The non-commune members of ``t`` measured by one of ``mes`` (:func:`mesurables`) at
    least, or ``([], sentence)``: the one sentence saying why there is no figure."""
    if not mes:
        return [], f"Ce domaine n'est mesuré que pour les communes : ses sources ne sont pas rapprochées des {QUI}."
    rows = autres(t, mes)
    if not rows:
        return [], ("Les registres chargés ne comptent, dans ce territoire, aucun adhérent autre qu'une commune "
                    "(EPCI, syndicat, département…) : rien à mesurer ici.")
    mesures = [r for r in rows if any(dd for _, dd in r["faits"])]
    if not mesures:
        de = niveaux.du("alliance") if t.niveau == "alliance" else "de ce territoire"
        return [], (f"Aucun des {formats.entier(len(rows))} {QUI} {de} n'est mesuré ici (SIREN inconnu, "
                    "absent des sources, ou site et messagerie non contrôlés) : aucun chiffre n'est montré (ni zéro, "
                    "ni estimation).")
    return mesures, ""


def totaux(mesures: list[dict[str, Any]], n_inds: int) -> list[tuple[int, int]]:
    """``(numerator, base)`` per indicator, summed over the members ``mesures``."""
    return [(sum(r["faits"][k][0] for r in mesures), sum(r["faits"][k][1] for r in mesures)) for k in range(n_inds)]


def bloc(t: Territoire, d: Domaine, inds: list[dict[str, Any]]) -> str:
    """The members that are not communes in a domain's section: their rates and those to
    support, with a CSV; one sentence when none is there or none is measured."""
    if not adhesion.membres(t):
        return ""  # no register, or none of its members here: the section's sentence says so
    titre = f"<h3>Autres adhérents : {e(d.titre.lower())}</h3>"
    mes = mesurables(t.con, inds)
    mesures, phrase = constat(t, mes)
    if phrase:
        return titre + f"<p>{e(phrase)}</p>"
    lignes = [[court(c), num(val(c, n, b))] for c, (n, b) in zip(mes, totaux(mesures, len(mes))) if b]
    chiffres = table_html(["Indicateur", "Autres adhérents mesurés"], lignes,
                          legende=f"{d.titre} : {QUI}, {t.nom}", numeriques=[1])
    return titre + chiffres + _pour_les_communes(inds, mes) + _liste(t, d, mes, mesures)


def _pour_les_communes(inds: list[dict[str, Any]], mes: list[dict[str, Any]]) -> str:
    """The note naming the domain's indicators measured for the communes only (never a 0 % for the members)."""
    seuls = [court(c) for c in inds if c not in mes]
    if not seuls:
        return ""
    return (f'<p class="note">Mesuré{"s" if len(seuls) > 1 else ""} pour les communes seulement : '
            f"{e(', '.join(seuls))}.</p>")


def _ordre(mesures: list[dict[str, Any]], inds: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """The measured members, those to support first (:func:`.a_accompagner`), and their missed criteria."""
    acc = a_accompagner(mesures, inds)
    motifs = {r["code"]: r["motifs"] for r in acc}
    return acc + [r for r in mesures if r["code"] not in motifs], motifs


def lien_csv(t: Territoire, d: Domaine, inds: list[dict[str, Any]], mesures: list[dict[str, Any]]) -> str:
    """The link to the CSV of the measured members, criterion by criterion, those to support first."""
    ordre, motifs = _ordre(mesures, inds)
    csv = tableurs.csv_texte(
        ["operateur", "identifiant", "siren", "adherent", "type", "commune_siege"] + [c["indicateur"] for c in inds]
        + [col for c in inds for col, _ in DETAILS.get(c["numerateur"], [])] + ["motifs"],
        ([r["operateur"], r["code"], r["siren"], r["nom"], r["type"], r["commune"]]
         + [cellule(n, dd) for n, dd in r["faits"]] + r["details"] + [" ; ".join(motifs.get(r["code"], []))]
         for r in ordre))
    slug = f"{d.ancre}-autres-adherents-{t.niveau}-{t.code}"
    return (f'<p class="telechargements"><a class="telecharger" href="{csv_data_uri(csv)}" '
            f'download="{e(slug)}.csv">Télécharger les autres adhérents mesurés (CSV, {formats.entier(len(ordre))} '
            f"adhérent{'s' if len(ordre) > 1 else ''}, critère par critère)</a></p>")


def _liste(t: Territoire, d: Domaine, inds: list[dict[str, Any]], mesures: list[dict[str, Any]]) -> str:
    ordre, motifs = _ordre(mesures, inds)
    entetes = [h for c in inds for _, h in DETAILS.get(c["numerateur"], [])]
    sous_titre = f"<h4>Autres adhérents à accompagner ({formats.entier(len(motifs))} sur {formats.entier(len(mesures))} mesurés)</h4>"
    if not motifs:
        return sous_titre + "<p>Aucun : chaque adhérent mesuré remplit chaque critère.</p>"
    plusieurs = len({r["operateur"] for r in ordre}) > 1

    def detail(x: Any) -> str:
        return "–" if x is None else (x.strftime("%d/%m/%Y") if hasattr(x, "strftime") else formats.entier(x))
    heads = ["Adhérent", "Type"] + ([niveaux.get("operateur").libelle] if plusieurs else []) + entetes + ["Critères manqués"]
    lignes = [[r["nom"], r["type"] or "–"] + ([r["nom_operateur"]] if plusieurs else [])
              + [num(detail(x)) for x in r["details"]] + [" ; ".join(motifs.get(r["code"], [])) or "aucun"]
              for r in ordre[:MAX_LISTE]]
    legende = f"{d.titre} : autres adhérents mesurés, ceux à accompagner d'abord, {t.nom}"
    table = table_html(heads, lignes, legende=legende, enveloppe=False, secondaires=[1])  # the type: not on a phone
    note = (f'<p class="note">Les {formats.entier(MAX_LISTE)} premiers sont affichés ; le fichier CSV les liste '
            "tous.</p>") if len(ordre) > MAX_LISTE else ""
    return (sous_titre + lien_csv(t, d, inds, mesures) + f'<div class="table-defil{" haute" if len(lignes) > 25 else ""}" '
            f"{defilante(legende)}>{table}</div>" + note)


# ── the alliance page ───────────────────────────────────────────────────────

#: the heading of the members' tables on the alliance page
TITRE_ALLIANCE = "Autres adhérents (EPCI, syndicats, départements…)"
#: what the alliance page's tables give in parentheses (a base of entities, or of contracts)
BASES = "entre parenthèses : nombre concerné / base mesurée"


def sans_registre(t: Territoire) -> str:
    """The alliance page's one sentence when no operator has a register loaded ('' otherwise)."""
    if any(adhesion.registres(t.con, [c for c, _ in adhesion.operateurs(t)]).values()):
        return ""
    return (f"Aucun registre d'adhérents n'est chargé : les {QUI} ne sont pas mesurés ici "
            "(ni zéro, ni estimation) ; seules les communes le sont.")


def alliance(t: Territoire, d: Domaine, inds: list[dict[str, Any]]) -> str:
    """A domain on the alliance page for the members that are not communes: each indicator
    over each operator's members, then the alliance's; bases « n mesurés »; a CSV of every
    member measured; the one sentence of :func:`constat` when nothing is measured. ''
    without any register (:func:`sans_registre` says it once for the page)."""
    if sans_registre(t):
        return ""
    titre = f"<h4>{e(TITRE_ALLIANCE)}</h4>"
    mes = mesurables(t.con, inds)
    mesures, phrase = constat(t, mes)
    if phrase:
        return titre + f"<p>{e(phrase)}</p>"
    ops = adhesion.operateurs(t)
    regs = adhesion.registres(t.con, [c for c, _ in ops])
    groupes = [[r for r in mesures if r["operateur"] == c] if regs[c] else None for c, _ in ops] + [mesures]
    rows = autres(t, mes)
    nb = [sum(r["operateur"] == c for r in rows) for c, _ in ops] + [len(rows)]

    def compte(g: list[dict[str, Any]] | None, n: int) -> str:
        if g is None:
            return "pas de registre"
        return num(f"{formats.entier(len(g))} / {formats.entier(n)}") if n else "aucun au registre"
    lignes = [["Adhérents mesurés / inscrits au registre"] + [compte(g, n) for g, n in zip(groupes, nb)]]
    sommes = [totaux(g, len(mes)) if g is not None else None for g in groupes]
    for k, c in enumerate(mes):
        lignes.append([court(c)] + [("pas de registre" if s is None else num(val(c, *s[k]) if s[k][1] else "non mesuré"))
                                    for s in sommes])
    table = table_html(["Indicateur"] + [nom for _, nom in ops] + [niveaux.libelle("alliance")], lignes,
                       legende=f"{d.titre}, autres adhérents, opérateur par opérateur ({BASES})",
                       numeriques=range(1, len(ops) + 2))
    return titre + table + _pour_les_communes(inds, mes) + lien_csv(t, d, mes, mesures)


__all__ = ["bloc", "alliance", "sans_registre", "autres", "mesurables", "constat", "totaux", "lien_csv",
           "DETAILS", "TITRE_ALLIANCE", "BASES"]
