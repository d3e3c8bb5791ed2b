"""Every commune of the warehouse, in one compact script for the site index: its search
finds any commune (not only the territories that have a page) by name or INSEE code, and
draws its card in the browser (``assets/recherche.js``): each criterion of the score met or
missed with its points, what would raise it, the commune against the communes of its size
band, where the mairie corrects its directory entry. The names of communes déléguées and
associées (marts.communes_deleguees) find the card of the commune they belong to.

Written as ``reports/communes.js`` (``window.TerritoiresCommunes = {…}``): a script, not
JSON, because a page opened from ``file://`` may not fetch a file beside it. Columns are
arrays of arrays, criteria a bit mask: about 60 bytes a commune (≈ 0.5 MB for the 7 907
communes of the four regions). Weights and labels are read from the warehouse (the
catalogue's ``[[score.critere]]``), so a change of weights reaches the card with the build.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from territoires.reports.donnees import a_table
from territoires.reports.publication import write_atomic

#: what a mairie can do to meet each criterion of the score (the card's « ce qui le ferait
#: progresser »); a criterion without an entry gets « Remplir le critère : <libellé> »
ACTIONS = {
    "site_declare": "déclarer le site internet de la mairie sur sa fiche de l'Annuaire (ou en ouvrir un)",
    "https": "servir le site en https:// (certificat gratuit chez la plupart des hébergeurs)",
    "site_domaine_maitrise": "placer le site sur un domaine propre à la commune ou sur une plateforme publique mutualisée (celle de l'opérateur, par exemple)",
    "extension_souveraine": "utiliser une extension française pour le site (.fr, .bzh, .paris…)",
    "email_declare": "déclarer une adresse électronique de la mairie sur sa fiche",
    "email_non_generique": "passer d'une messagerie grand public (wanadoo.fr, orange.fr, gmail.com…) à une adresse sur le domaine de la commune",
    "email_meme_domaine": "prendre l'adresse électronique sur le domaine du site (mairie@commune.fr)",
    "horaires_publies": "publier les horaires d'ouverture de la mairie sur sa fiche",
}

#: where a mairie corrects its entry (site, e-mail, opening hours) in the Annuaire de
#: l'administration, published by the DILA on service-public.fr
ANNUAIRE = "https://lannuaire.service-public.fr/"

NOM_FICHIER = "communes.js"


def criteres_score(con) -> list[list]:
    """The score's criteria in their order: ``[id, label, points, what a mairie can do]``
    (the card's and the printable fiche's)."""
    libelles = dict(con.execute("select critere, libelle from raw.indicateurs_criteres").fetchall()) \
        if a_table(con, "raw.indicateurs_criteres") else {}
    poids = con.execute("select critere, poids from raw.score_ponderations order by ordre").fetchall()
    return [[c, libelles.get(c, c.replace("_", " ")), int(w), ACTIONS.get(c, f"remplir le critère : {libelles.get(c, c)}")]
            for c, w in poids]


def lire(con) -> dict[str, Any]:
    """What the index of communes reads from the warehouse (criteria, size bands,
    départements, EPCI, one row per commune): read while the batch's pages run, then
    :func:`assembler` adds the links of this run."""
    criteres = criteres_score(con)
    cols = ", ".join(f"coalesce(p.{c}, false)" for c, _, _, _ in criteres)
    return {
        "criteres": criteres,
        "bandes": con.execute("select tranche_taille, libelle from marts.tranches_taille order by ordre").fetchall(),
        "departements": con.execute("select code, nom from marts.territoires where niveau = 'departement'").fetchall(),
        "epci": con.execute("select code, nom from marts.territoires where niveau = 'epci'").fetchall(),
        "lignes": con.execute(f"""
        select t.code, t.nom, t.code_departement, t.code_epci, t.population, p.tranche_taille,
               coalesce(p.fiche_mairie, false), p.score_presence, [{cols}]
        from marts.territoires t left join marts.presence_numerique p using (code)
        where t.niveau = 'commune' order by t.code""").fetchall(),
        "anciennes": anciennes(con),
    }


def anciennes(con) -> list[tuple[str, str, str, str]]:
    """The communes déléguées and associées whose name is not their commune's
    (marts.communes_deleguees): ``(name, its code, its commune's code, its type's label)``,
    by commune, déléguées first, names in French order; the card's and the printable fiche's."""
    if not a_table(con, "marts.communes_deleguees"):
        return []
    return con.execute("select nom, code, code_commune, libelle_type from marts.communes_deleguees "
                       "where nom <> nom_commune order by code_commune, type desc, strip_accents(lower(nom))").fetchall()


def assembler(lu: dict[str, Any], pages: dict[tuple[str, str], str] | None = None,
              imprimables: set[str] | frozenset[str] = frozenset(), *, lignes: bool = True) -> dict[str, Any]:
    """The compact index from what :func:`lire` read: criteria (id, label, points, action),
    size bands, départements, EPCI (name, page if any), then one row per commune
    (:func:`_lignes`; left out when not ``lignes``).

    ``pages``: ``{(niveau, code): path of its page}`` for links from the card;
    ``imprimables``: codes of the communes whose printable fiche exists (``commune/<code>.html``).
    """
    pages = pages or {}
    types: dict[str, int] = {}  # the mart's labels of communes déléguées and associées, in order met
    donnees = {
        "criteres": lu["criteres"],
        "bandes": [lib for _, lib in lu["bandes"]],
        "departements": {c: [n, pages.get(("departement", c), "")] for c, n in lu["departements"]},
        "epci": {code: [nom, pages.get(("epci", code), "")] for code, nom in lu["epci"]},
        "annuaire": ANNUAIRE,
        "colonnes": ["code", "nom", "departement", "epci", "population", "bande", "fiche", "score", "criteres", "imprimable"],
        "dossier_fiches": "commune/",
        # [name, its INSEE code, its commune's code, its type: an index in types_anciennes]
        "anciennes": [[nom, code, commune, types.setdefault(libelle, len(types))]
                      for nom, code, commune, libelle in lu.get("anciennes", [])],
        "types_anciennes": list(types),
    }
    if lignes:
        donnees["communes"] = _lignes(lu, imprimables)
    return donnees


def _lignes(lu: dict[str, Any], imprimables: set[str] | frozenset[str]) -> list[list]:
    """One row per commune::

        [code, nom, département, epci, population, bande, fiche (0/1), score or null, critères remplis (bits),
         fiche imprimable (0/1)]
    """
    rang_bande = {b: i for i, (b, _) in enumerate(lu["bandes"])}
    communes = []
    for code, nom, dep, ep, pop, bande, fiche, score, faits in lu["lignes"]:
        bits = sum(1 << i for i, ok in enumerate(faits or []) if ok) if fiche else 0
        communes.append([code, nom, dep, ep, pop, rang_bande.get(bande), 1 if fiche else 0,
                         score if fiche else None, bits, 1 if code in imprimables else 0])
    return communes


def index_communes(con, pages: dict[tuple[str, str], str] | None = None,
                   imprimables: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    """:func:`assembler` over :func:`lire`: the compact index in one call."""
    return assembler(lire(con), pages, imprimables)


def _json(valeur: Any) -> str:
    """JSON safe inside a script (no ``</script>``, no line separators)."""
    texte = json.dumps(valeur, ensure_ascii=False, separators=(",", ":"))
    return texte.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _script(texte: str) -> str:
    return f"/* territoires — toutes les communes, pour la recherche de l'index */\nwindow.TerritoiresCommunes = {texte};\n"


def script_communes(donnees: dict[str, Any]) -> str:
    """The index as a script: ``window.TerritoiresCommunes = {…};`` (safe inside a page)."""
    return _script(_json(donnees))


def preparer(reports_dir: Path, lu: dict[str, Any]) -> dict[str, Any]:
    """What :func:`ecrire` needs that the pages of a run do not change: the printable
    fiches on disk and the communes' rows, as JSON (the bulk of the script: 7,907 rows).
    The index's thread computes it while the pages run, when the run writes no fiche."""
    dossier = reports_dir / "commune"  # the printable fiches (reports.fiches.DOSSIER)
    imprimables = {n.removesuffix(".html") for n in os.listdir(dossier) if n.endswith(".html")} if dossier.is_dir() else set()
    return {"lignes": _json(_lignes(lu, imprimables))}


def ecrire(reports_dir: Path, lu: dict[str, Any] | None, pages: dict[tuple[str, str], str],
           pret: dict[str, Any] | None = None) -> Path | None:
    """Write ``reports/communes.js`` from what :func:`lire` read (and :func:`preparer`,
    read now when ``pret`` is not given); ``None`` when the warehouse could not be read
    (``lu`` is ``None``: the index still lists the pages)."""
    if lu is None:
        return None
    pret = pret or preparer(reports_dir, lu)
    # the rows are the last member: the object's text, its closing brace replaced by them
    tete = _json(assembler(lu, pages, lignes=False))
    path = reports_dir / NOM_FICHIER
    write_atomic(path, _script(f'{tete[:-1]},"communes":{pret["lignes"]}}}'))
    return path


__all__ = ["ACTIONS", "ANNUAIRE", "anciennes", "assembler", "criteres_score", "ecrire", "index_communes", "lire", "preparer", "script_communes"]
