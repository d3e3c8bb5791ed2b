"""Etalab administrative boundaries (GeoJSON FeatureCollection, gzip) → ``raw.contours_*``.

Properties per github.com/etalab/contours-administratifs ``build.js`` (the 2023 build; the
2025 files are assumed to keep them): communes ``code, nom, departement, region`` and,
when they apply, ``epci``, ``plm`` (Paris, Lyon, Marseille), ``commune`` (the parent of an
arrondissement), ``collectiviteOutremer``; EPCI ``code, nom``; départements ``code, nom,
region``; régions ``code, nom``. Read with DuckDB spatial's ``ST_Read`` (GDAL) through
``/vsigzip/``, streamed feature by feature — the 5 m communes file is hundreds of MB.
A file served already decompressed (no gzip magic) is read as plain GeoJSON; like every
text source, it is read through :func:`territoires.sources.connecteurs.texte` (UTF-8, else
cp1252 transcoded).
"""

from __future__ import annotations

from pathlib import Path

from territoires.sources.connecteurs import colonnes, compter, exiger, preparer, texte
from territoires.entrepot.litteraux import litteral

PROPRIETES = {
    "communes": ["code", "nom", "departement", "region", "epci", "plm", "commune", "collectiviteOutremer"],
    "epci": ["code", "nom"],
    "departements": ["code", "nom", "region"],
    "regions": ["code", "nom"],
}


def _charger(con, path: Path, niveau: str) -> int:  # noqa: ANN001
    from territoires.entrepot.connexion import load_spatial  # paresseux : charge duckdb

    load_spatial(con)
    preparer(con, spatial=True)
    path = Path(path)
    with texte(path) as lisible:
        rel = f"ST_Read({litteral(('/vsigzip/' if lisible.gzip else '') + str(lisible.chemin.absolute()))})"
        return _creer(con, path, rel, niveau)


def _creer(con, path: Path, rel: str, niveau: str) -> int:  # noqa: ANN001
    cols = colonnes(con, rel)
    exiger(path, cols, ["code", "nom"])
    select = []
    for p in PROPRIETES[niveau]:
        nom = "collectivite_outre_mer" if p == "collectiviteOutremer" else p
        if p == "plm":
            select.append("coalesce(try_cast(\"plm\" as boolean), false) as plm" if p in cols else "false as plm")
        else:
            select.append(f"cast(\"{p}\" as varchar) as {nom}" if p in cols else f"cast(null as varchar) as {nom}")
    geom = next(c for c in cols if c.lower() in ("geom", "geometry", "wkb_geometry"))
    table = f"raw.contours_{niveau}"
    con.execute(f"create or replace table {table} as select {', '.join(select)}, \"{geom}\" as geom from {rel}")
    return compter(con, table)


def charger_communes(con, path: Path) -> int:  # noqa: ANN001
    """``communes-<g>.geojson.gz`` → ``raw.contours_communes``."""
    return _charger(con, path, "communes")


def charger_epci(con, path: Path) -> int:  # noqa: ANN001
    """``epci-<g>.geojson.gz`` → ``raw.contours_epci``."""
    return _charger(con, path, "epci")


def charger_departements(con, path: Path) -> int:  # noqa: ANN001
    """``departements-<g>.geojson.gz`` → ``raw.contours_departements``."""
    return _charger(con, path, "departements")


def charger_regions(con, path: Path) -> int:  # noqa: ANN001
    """``regions-<g>.geojson.gz`` → ``raw.contours_regions``."""
    return _charger(con, path, "regions")
