"""``territoires export``: the indicators of a level as CSV, Excel, Parquet or GeoPackage.

What is written
---------------
- ``--niveau commune`` (default form ``large``): one row per commune of the scope with its
  facts (``marts.presence_numerique``: raw directory values beside derived ones, score).
- other levels (default form ``large``): one row per territory, and per indicator ``X``
  the columns ``X`` (taux), ``X_numerateur``, ``X_denominateur``, ``X_pondere``.
- ``forme="longue"``: ``marts.indicateurs`` rows (one per territory × indicator [× size
  band]), each carrying its label, unit, sources and vintage.

Numbers are written as computed: integers as integers, rates as full-precision doubles
(never rounded; spreadsheets only *display* them with a percent format).

Sources and vintages travel with the data
-----------------------------------------
- CSV: a companion ``<name>.sources.csv`` (same format): one row per indicator × source,
  with the indicator's definition, formula and vintage and the source's producer, licence,
  URL, vintage and sha256. The long form also has ``sources`` and ``millesime`` columns.
- Excel: sheets ``donnees``, ``indicateurs`` (catalogue) and ``sources``.
- Parquet: file metadata keys ``territoires:catalogue`` and ``territoires:sources`` (JSON),
  ``territoires:millesime`` and ``territoires:description``.
- GeoPackage: the data layer with geometry (EPSG:4326, exact commune-coverage polygons)
  plus attribute-only layers ``indicateurs_catalogue`` and ``sources``.

French spreadsheet conventions for CSV: ``;`` separator, UTF-8 with BOM, decimal comma,
CRLF line ends, booleans ``oui``/``non``, lists joined with `` ; ``. Territory codes are
text (``01001``): open the CSV through the import dialog (column as text) or use the xlsx,
where codes are stored as text.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from territoires.config import settings
from territoires import tableurs
from territoires.indicators import api

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

FORMATS = ("csv", "xlsx", "parquet", "gpkg")
EPSG = 4326


def chemin_par_defaut(processed_dir: Path, niveau: str, fmt: str, region: str | None, forme: str) -> Path:
    """``data/processed/exports/presence_numerique_<niveau>[_<region>][_longue].<fmt>``."""
    name = f"presence_numerique_{niveau}" + (f"_{region}" if region else "") + ("_longue" if forme == "longue" else "")
    return processed_dir / "exports" / f"{name}.{fmt}"


def _donnees(con, niveau: str, region: str | None, forme: str, tranches: bool) -> "pl.DataFrame":
    if forme == "longue":
        return api.indicateurs(niveau, region=region, con=con, tranches=tranches, forme="longue")
    if niveau == "commune":
        return api.presence(region=region, con=con)
    return api.indicateurs(niveau, region=region, con=con, tranches=tranches, forme="large")


def _metadonnees(con) -> tuple["pl.DataFrame", "pl.DataFrame", "pl.DataFrame"]:
    """(catalogue, sources, indicator × source companion table)."""
    cat = api.catalogue(con).select(
        "indicateur", "ordre", "libelle", "definition", "unite", "polarite", "formule",
        "numerateur", "denominateur", "poids_score", "sources", "millesime",
    )
    src = api.sources(con).select(
        "id", "producteur", "titre", "licence", "url", "version_paquet", "millesime",
        "millesimes_detail", "sha256", "lignes", "charge_le",
    )
    compagnon = (
        cat.explode("sources").rename({"sources": "source", "millesime": "millesime_indicateur"})
        .join(src.rename({"id": "source", "millesime": "millesime_source"}), on="source", how="left")
        .sort(["ordre", "source"])
    )
    return cat, src, compagnon


def _a_plat(df: "pl.DataFrame", *, booleens_texte: bool) -> "pl.DataFrame":
    """Lists → text joined with " ; ", datetimes → ISO text, booleans → oui/non (CSV)."""
    import polars as pl

    exprs = []
    for name, dtype in df.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.List):
            exprs.append(col.cast(pl.List(pl.String)).list.join(" ; ").alias(name))
        elif dtype == pl.Boolean and booleens_texte:
            exprs.append(pl.when(col).then(pl.lit("oui")).when(~col).then(pl.lit("non")).alias(name))
        elif isinstance(dtype, pl.Datetime):
            exprs.append(col.dt.strftime("%Y-%m-%dT%H:%M:%S").alias(name))
        elif dtype == pl.Int128:
            exprs.append(col.cast(pl.Int64).alias(name))
        elif dtype == pl.Null:
            exprs.append(col.cast(pl.String).alias(name))
        else:
            exprs.append(col)
    return df.select(exprs)


def ecrire_csv(df: "pl.DataFrame", path: Path) -> None:
    """CSV for French Excel/LibreOffice: ``;``, UTF-8 BOM, decimal comma, CRLF; text
    cells that a spreadsheet would read as formulas made inert (:mod:`territoires.tableurs`)."""
    tableurs.ecrire_csv(_a_plat(df, booleens_texte=True), path)


def _geometries(con, niveau: str, codes: list[str]):
    import shapely

    rows = con.execute(
        "select code, ST_AsWKB(geometrie) from marts.territoires where niveau = ? "
        "and code in (select unnest(?::varchar[]))",
        [niveau, codes],
    ).fetchall()
    by_code = {c: (shapely.from_wkb(bytes(w)) if w is not None else None) for c, w in rows}
    return [by_code.get(c) for c in codes]


def _ecrire(con, df, cat, src, compagnon, path: Path, fmt: str, niveau: str, description: str) -> list[Path]:
    written = [path]
    if fmt == "csv":
        ecrire_csv(df, path)
        comp = path.with_name(path.name.removesuffix(".csv") + ".sources.csv")
        ecrire_csv(compagnon, comp)
        written.append(comp)
    elif fmt == "xlsx":
        # rates shown as percentages (the cell keeps the full value); the per-commune
        # facts table has no rate (its score_presence is in points)
        taux = [] if "score_presence" in df.columns and "fiche_mairie" in df.columns else [
            c for c in df.columns
            if c in set(cat["indicateur"]) or c.endswith("_pondere") or c in ("taux", "taux_pondere")
        ]
        # strings stay strings, text cells starting with = + - @ are made inert
        tableurs.ecrire_xlsx([
            ("donnees", _a_plat(df, booleens_texte=False),
             {"column_formats": {c: "0.0%" for c in taux} or None, "float_precision": 6, "autofit": False,
              "freeze_panes": (1, 0)}),
            ("indicateurs", _a_plat(cat, booleens_texte=False), {"autofit": False}),
            ("sources", _a_plat(src, booleens_texte=False), {"autofit": False}),
        ], path)
    elif fmt == "parquet":
        df.write_parquet(path, metadata={
            "territoires:description": description,
            "territoires:catalogue": json.dumps(cat.to_dicts(), ensure_ascii=False, default=str),
            "territoires:sources": json.dumps(src.to_dicts(), ensure_ascii=False, default=str),
            "territoires:millesime": " | ".join(f"{r['indicateur']} : {r['millesime']}" for r in cat.to_dicts()),
        })
    elif fmt == "gpkg":
        import geopandas as gpd
        import pyogrio

        plat = _a_plat(df, booleens_texte=False)
        geoms = _geometries(con, niveau, plat["code"].to_list())
        gdf = gpd.GeoDataFrame(plat.to_pandas(), geometry=geoms, crs=f"EPSG:{EPSG}")
        layer = path.stem
        gdf.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
        for name, table in (("indicateurs_catalogue", cat), ("sources", src)):
            pyogrio.write_dataframe(_a_plat(table, booleens_texte=False).to_pandas(), path,
                                    layer=name, driver="GPKG")
    return written


def exporter(
    niveau: str = "commune",
    fmt: str = "csv",
    region: str | None = None,
    output: str | os.PathLike | None = None,
    con=None,
    *,
    forme: str = "large",
    tranches: bool = False,
    home: str | os.PathLike | None = None,
) -> list[Path]:
    """Write the indicators of ``niveau`` (optionally of one ``region``) as ``fmt`` (csv,
    xlsx, parquet, gpkg) to ``output`` (default under ``data/processed/exports/``).
    Returns the written paths (data file first, then any companion)."""
    if fmt not in FORMATS:
        raise ValueError(f"format « {fmt} » inconnu ; choix : {', '.join(FORMATS)}")
    if forme not in api.FORMES:
        raise ValueError(f"forme « {forme} » inconnue ; choix : {', '.join(api.FORMES)}")
    if fmt == "gpkg" and forme == "longue":
        raise ValueError("le GeoPackage s'écrit en forme large (une géométrie par territoire)")
    # the analysts' entry point: without ``output``, the home (``home``, else found) says where
    path = Path(output) if output else chemin_par_defaut(settings(home).processed_dir, niveau, fmt, region, forme)
    if path.suffix.lower() != f".{fmt}":
        raise ValueError(f"{path}: l'extension du fichier doit être .{fmt}")
    with api.connexion_empruntee(con) as c:
        api.verifier_territoire(c, niveau, None, region)
        df = _donnees(c, niveau, region, forme, tranches)
        if df.height == 0:
            raise ValueError(f"aucune ligne à exporter (niveau {niveau}, région {region or 'toutes'})")
        cat, src, compagnon = _metadonnees(c)
        description = (
            f"territoires {niveau} {'région ' + region if region else 'périmètre complet'} — "
            "présence numérique des mairies ; sources et millésimes : voir territoires:catalogue"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        # written in a private folder next to the target, then moved in: a failure leaves
        # no half-written file under the final name
        work = Path(tempfile.mkdtemp(prefix=f".export.tmp-{os.getpid()}-", dir=path.parent))
        try:
            written = _ecrire(c, df, cat, src, compagnon, work / path.name, fmt, niveau, description)
            final = []
            for p in written:
                os.replace(p, path.parent / p.name)
                final.append(path.parent / p.name)
        except OSError as exc:
            raise OSError(f"{path}: écriture impossible ({exc})") from exc
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return final
