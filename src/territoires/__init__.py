"""territoires — observatoire open data des opérateurs publics de services numériques.

Nothing runs at import, and nothing heavy is imported (polars, geopandas and plotly load
on first use). Analysts start with::

    import territoires

    territoires.table("territoires", niveau="region")          # any mart → polars DataFrame
    territoires.indicateurs("epci", region="53")              # indicators, long format
    gdf = territoires.contours("commune", region="53")        # GeoDataFrame, EPSG:4326
    territoires.carte("epci", indicateur="part_site", region="53")   # the dashboards' map

    con = territoires.connect()          # read-only DuckDB connection, spatial loaded
    con.sql("from marts.territoires where niveau = 'region'").pl()

The home (warehouse, notebooks, reports) is found as git finds a repository: see
:mod:`territoires.config`; ``territoires init DOSSIER`` creates one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import geopandas
    import plotly.graph_objects
    import polars

from territoires.config import settings
from territoires.paquet import __version__, notebooks_dir

__all__ = ["connect", "table", "indicateurs", "contours", "carte", "notebooks_dir", "__version__"]


def connect(path=None, *, read_only: bool = True, spatial: bool = True, threads: int | None = None,
            cached: bool = False):
    """Open the warehouse (read-only by default, spatial loaded), the home's when ``path``
    is not given (:func:`territoires.config.settings`): see
    :func:`territoires.entrepot.connexion.connect`."""
    from territoires.entrepot.connexion import connect as _connect  # paresseux : charge duckdb

    return _connect(path if path is not None else settings().warehouse, read_only=read_only, spatial=spatial,
                    threads=threads, cached=cached)


def table(nom: str, /, *, con=None, colonnes: list[str] | None = None, geometrie: bool = False,
          **filtres: Any) -> "polars.DataFrame":
    """Any table of the ``marts`` schema as a polars DataFrame; see :func:`territoires.analyse.table`.

    >>> territoires.table("territoires", niveau="departement", code=["29", "56"])
    >>> territoires.table("indicateurs", niveau="epci", indicateur="part_site")
    >>> territoires.table("territoires", niveau="commune", nom="Brest")   # « nom » is a column too
    """
    # paresseux : la racine, importée avant tout module, ne tire pas le code des pages
    from territoires.analyse import table as _table

    return _table(nom, con=con, colonnes=colonnes, geometrie=geometrie, **filtres)


def indicateurs(niveau: str = "region", code: str | None = None, region: str | None = None, con=None,
                **options: Any) -> "polars.DataFrame":
    """Indicators of the territories of a level; see :func:`territoires.analyse.indicateurs`
    (``forme="large"``, ``tranches=True``, ``evolution=True``…).

    >>> territoires.indicateurs("departement", region="53", forme="large")
    """
    # paresseux : la racine, importée avant tout module, ne tire pas le code des pages
    from territoires.analyse import indicateurs as _indicateurs

    return _indicateurs(niveau, code, region, con, **options)


def contours(niveau: str, region: str | None = None, codes: list[str] | str | None = None, *,
             crs: Any = "EPSG:4326", simplifie: bool = False, con=None) -> "geopandas.GeoDataFrame":
    """Territories of a level as a GeoDataFrame with its CRS set; see :func:`territoires.analyse.contours`.

    >>> gdf = territoires.contours("commune", region="53")               # EPSG:4326
    >>> territoires.contours("epci", codes=["242900314"], crs="EPSG:2154").area  # m², Lambert-93
    """
    # paresseux : la racine, importée avant tout module, ne tire pas le code des pages
    from territoires.analyse import contours as _contours

    return _contours(niveau, region, codes, crs=crs, simplifie=simplifie, con=con)


def carte(niveau_ou_gdf: Any, indicateur: str = "score_presence", **options: Any) -> "plotly.graph_objects.Figure":
    """The dashboards' choropleth (same classes, colours, French labels); see
    :func:`territoires.analyse.carte`.

    >>> territoires.carte("commune", "score_presence", region="53")
    >>> territoires.carte(gdf, "part_site")     # a GeoDataFrame from contours()
    """
    # paresseux : la racine, importée avant tout module, ne tire pas le code des pages
    from territoires.analyse import carte as _carte

    return _carte(niveau_ou_gdf, indicateur, **options)
