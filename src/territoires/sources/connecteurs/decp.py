"""DECP consolidées (parquet) and the buyer-profile datasets of the operators' platforms.

``decp.parquet`` is written by polars in github.com/ColinMaudry/decp-processing; its
columns are documented in that repository's ``reference/schema_base.json``: one row per
contract × titulaire (``uid`` repeated), ``acheteur_id`` the buyer's SIRET (text),
``dateNotification`` a date, ``montant`` a number, ``acheteur_departement_code`` /
``acheteur_region_code`` the buyer's place, ``sourceDataset`` the code of the dataset
the contract came from (``megalis_bretagne``, ``arnia``, ``atexo_maximilien``…, listed in
``reference/source_datasets.json``). A contract published by several sources is kept
once per titulaire row by ``unique(subset=[uid, titulaire_id, titulaire_typeIdentifiant,
dateNotification], maintain_order=False)`` (``src/tasks/transform.py``,
``concat_parquet_files``): which source's copy survives is arbitrary, and two titulaire
rows of one contract may keep different sources. The models therefore count a contract
once and attribute it by a stated rule (staging/decp_marches.sql). The file holds
every French contract: it is read with DuckDB's parquet reader, only the columns below, filtered by the buyer's region,
département or SIRET so that row groups are skipped on their statistics — never loaded
whole into memory.

A buyer-profile dataset is fetched as its data.gouv.fr API description (JSON: title,
resources with url, format, size, dates), loaded into ``raw.decp_profils``; the contracts
themselves come from the consolidated file, by ``sourceDataset``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from territoires.config import ALLIANCE_REGIONS
from territoires.sources.connecteurs import colonnes, compter, exiger, json_duckdb, preparer, texte
from territoires.sources.erreurs import SourceError
from territoires.entrepot.litteraux import litteral

#: parquet column → raw column, and the type it is loaded as: only what the models read
#: (staging/decp_marches.sql); the others (amounts, CPV, titulaires' names…) are never
#: read from the file. A contract is one row per titulaire and per modification (``uid``
#: repeated; ``donneesActuelles`` true on the rows of its latest modification,
#: ``src/tasks/transform.py`` sort_modifications). Responsible purchasing, as decp-processing
#: writes it (``reference/schema_base.json``, ``src/tasks/clean.py``): the considerations are
#: text, the list of values joined by ", " (« Clause sociale, Critère social »), « Sans
#: objet » when there is none; ``marcheInnovant`` a boolean; ``titulaire_distance`` the
#: buyer–titulaire distance in whole km (Int16, null when either is not geocoded);
#: ``titulaire_categorie`` the titulaire's SIRENE company category (PME, ETI, GE; null
#: when not found). A column missing from an older file is read as null.
COLONNES = {
    "uid": ("uid", "varchar"),
    "id": ("id_marche", "varchar"),
    "acheteur_id": ("acheteur_siret", "varchar"),
    "acheteur_nom": ("acheteur_nom", "varchar"),
    "acheteur_commune_code": ("acheteur_commune_code", "varchar"),
    "acheteur_departement_code": ("acheteur_departement_code", "varchar"),
    "sourceDataset": ("source_dataset", "varchar"),
    "dateNotification": ("date_notification", "date"),
    "donneesActuelles": ("donnees_actuelles", "boolean"),
    "considerationsSociales": ("considerations_sociales", "varchar"),
    "considerationsEnvironnementales": ("considerations_environnementales", "varchar"),
    "marcheInnovant": ("marche_innovant", "boolean"),
    "titulaire_distance": ("titulaire_distance", "integer"),
    "titulaire_categorie": ("titulaire_categorie", "varchar"),
}
REQUISES = ["uid", "acheteur_id", "sourceDataset", "dateNotification"]


def _liste(valeurs: Iterable[str]) -> str:
    return ", ".join(litteral(v) for v in valeurs)


def requete_decp(
    con,  # noqa: ANN001
    path: Path,
    *,
    regions: Iterable[str] | None = ALLIANCE_REGIONS,
    departements: Iterable[str] | None = None,
    sirets: Iterable[str] | None = None,
) -> str:
    """The SELECT reading ``path``: only the known columns, filtered (pushed down)."""
    rel = f"read_parquet({litteral(path)})"
    cols = colonnes(con, rel)
    exiger(path, cols, REQUISES)
    select = ", ".join(
        (f'cast("{src}" as {typ}) as {dst}' if src in cols else f"cast(null as {typ}) as {dst}")
        for src, (dst, typ) in COLONNES.items()
    )
    filtres = []
    if departements:
        filtres.append(f'cast("acheteur_departement_code" as varchar) in ({_liste(departements)})')
    elif regions:
        filtres.append(f'cast("acheteur_region_code" as varchar) in ({_liste(regions)})')
    if sirets:
        sirets = list(sirets)
        bad = [s for s in sirets if not (s.isdigit() and len(s) in (9, 14))]
        if bad:
            raise SourceError(f"SIREN/SIRET invalide(s) pour filtrer les DECP : {', '.join(bad[:5])}")
        sirens = [s for s in sirets if len(s) == 9]
        complets = [s for s in sirets if len(s) == 14]
        ou = []
        if complets:
            ou.append(f'cast("acheteur_id" as varchar) in ({_liste(complets)})')
        if sirens:
            ou.append(f'left(cast("acheteur_id" as varchar), 9) in ({_liste(sirens)})')
        filtres.append("(" + " or ".join(ou) + ")")
    where = f" where {' and '.join(filtres)}" if filtres else ""
    return f"select {select} from {rel}{where}"


def charger_decp(
    con,  # noqa: ANN001
    path: Path,
    *,
    regions: Iterable[str] | None = ALLIANCE_REGIONS,
    departements: Iterable[str] | None = None,
    sirets: Iterable[str] | None = None,
) -> int:
    """``decp.parquet`` → ``raw.decp_marches``: contracts of buyers in ``regions`` (the
    alliance's by default), or in ``departements``, optionally only the buyers ``sirets``
    (SIRET, or SIREN for every establishment). ``regions=None`` and no other filter
    reads all France (still streamed, column by column)."""
    preparer(con)
    sql = requete_decp(con, path, regions=regions, departements=departements, sirets=sirets)
    con.execute(f"create or replace table raw.decp_marches as {sql}")
    return compter(con, "raw.decp_marches")


def charger_profil(con, path: Path) -> int:  # noqa: ANN001
    """A data.gouv.fr dataset description (API v1 JSON) → rows of ``raw.decp_profils``,
    one per resource; the rows of that dataset are replaced, the others kept."""
    preparer(con)
    with texte(path) as lisible:
        return _inserer_profil(con, path, json_duckdb(
            lisible, "format='auto', columns={id: 'varchar', title: 'varchar', "
            "resources: 'struct(id varchar, title varchar, format varchar, url varchar, filesize bigint, "
            "created_at varchar, last_modified varchar)[]'}"))


def _inserer_profil(con, path: Path, rel: str) -> int:  # noqa: ANN001
    con.execute("""
        create table if not exists raw.decp_profils (
            dataset_id varchar, dataset_titre varchar, ressource_id varchar, titre varchar, format varchar,
            url varchar, taille bigint, cree_le timestamptz, modifie_le timestamptz)
    """)
    ids = [r[0] for r in con.execute(f"select id from {rel}").fetchall()]
    if len(ids) != 1 or not ids[0]:
        raise SourceError(f"{path}: description de jeu de données data.gouv.fr attendue (un objet avec « id »)")
    con.execute(f"delete from raw.decp_profils where dataset_id = {litteral(ids[0])}")
    con.execute(f"""
        insert into raw.decp_profils
        select id, title, r.id, r.title, lower(r.format), r.url, r.filesize,
               try_cast(r.created_at as timestamptz), try_cast(r.last_modified as timestamptz)
        from (select id, title, unnest(resources) as r from {rel})
    """)
    return con.execute(f"select count(*) from raw.decp_profils where dataset_id = {litteral(ids[0])}").fetchone()[0]
