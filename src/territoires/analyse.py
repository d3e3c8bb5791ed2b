"""Frames and maps for analysts: the warehouse's marts as polars DataFrames, territories
as GeoDataFrames with their CRS set, and the dashboards' own choropleth.

Re-exported at the top level of the package (``territoires.table`` …); every function
takes an optional DuckDB connection ``con`` and otherwise opens the warehouse of the
home read-only, then closes it. Codes are text (``"29"``, ``"2A004"``); counts come out
as integer columns (population included, whatever its type in the warehouse).

Examples::

    import territoires

    territoires.table("territoires", niveau="epci", regions="53")   # list column: membership
    territoires.table("indicateurs", niveau="departement", code=["29", "56"], indicateur="part_site")
    territoires.indicateurs("epci", region="53", forme="large")
    gdf = territoires.contours("commune", region="53")              # EPSG:4326, exact contours
    gdf.to_crs("EPSG:2154").area                                    # or crs="EPSG:2154" directly
    territoires.carte("commune", "score_presence", region="53")     # the dashboards' classes
    territoires.carte(gdf, "part_site")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from territoires import charts, formats, geo, niveaux
from territoires.historique import evolution as _evolution
from territoires.indicators import api
from territoires.indicators.api import verifier_territoire
from territoires.entrepot.litteraux import en_polars
from territoires.reports.categories import variantes_communes

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import plotly.graph_objects as go
    import polars as pl

#: DuckDB types read as integers whatever their width (HUGEINT reaches polars as Decimal)
_ENTIERS_LARGES = ("HUGEINT", "UHUGEINT")

#: commune-level indicators that the dashboards map by commune facts (score classes,
#: yes / no / no directory entry): indicator id → index in ``reports.categories.variantes_communes``
VARIANTES_COMMUNES = {"score_presence": 0, "part_site": 1, "part_email_non_generique": 2,
                      "part_https": 3, "part_horaires": 4}


from territoires.indicators.api import connexion_empruntee  # noqa: E402 - one way to borrow or open the warehouse


def tables(con=None) -> list[str]:
    """Names of the tables of the ``marts`` schema (what :func:`table` reads)."""
    with connexion_empruntee(con) as c:
        return [r[0] for r in c.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]


def _colonnes(con, nom: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' and table_name = ? order by ordinal_position", [nom]).fetchall()]


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def _selection(col: str, typ: str) -> str:
    """SQL of one output column: wide integers cast to BIGINT, geometry as WKB."""
    if typ in _ENTIERS_LARGES or (typ.startswith("DECIMAL") and typ.endswith(",0)")):
        return f"{_q(col)}::BIGINT as {_q(col)}"
    if typ.startswith("GEOMETRY"):
        return f"ST_AsWKB({_q(col)}) as {_q(col)}"
    return _q(col)


def table(nom: str, /, *, con=None, colonnes: Sequence[str] | None = None, geometrie: bool = False,
          **filtres: Any) -> "pl.DataFrame":
    """Any table of the ``marts`` schema as a polars DataFrame, optionally filtered.

    ``nom``: a table of ``marts`` (``"territoires"`` or ``"marts.territoires"``); an
    unknown name raises ``ValueError`` listing them. ``filtres``: ``colonne=valeur``
    (equality), ``colonne=[v1, v2]`` (membership), ``colonne=None`` (null); on a list
    column (``regions``, ``departements``) a single value means « contains ». Values are
    bound parameters, never pasted into SQL. ``colonnes``: the columns to keep.

    Geometry columns are left out unless ``geometrie=True`` (then as WKB bytes;
    :func:`contours` gives a GeoDataFrame). Wide integers (HUGEINT) come out as Int64.

    >>> table("territoires", niveau="departement", colonnes=["code", "nom", "population"])
    >>> table("indicateurs", niveau="epci", indicateur=["part_site", "part_https"], tranche_taille="ensemble")
    """
    nom_court = nom.removeprefix("marts.")
    with connexion_empruntee(con) as c:
        connues = tables(c)
        if nom_court not in connues:
            raise ValueError(f"table « {nom} » inconnue ; tables de marts : {', '.join(connues)}")
        types = dict(_colonnes(c, nom_court))
        demandees = list(colonnes) if colonnes is not None else [
            k for k, t in types.items() if geometrie or not t.startswith("GEOMETRY")]
        inconnues = [k for k in [*demandees, *filtres] if k not in types]
        if inconnues:
            raise ValueError(f"colonne(s) {', '.join(inconnues)} absente(s) de marts.{nom_court} ; "
                             f"colonnes : {', '.join(types)}")
        where, params = [], []
        for col, valeur in filtres.items():
            liste = types[col].endswith("[]")
            if valeur is None:
                where.append(f"{_q(col)} is null")
            elif isinstance(valeur, (list, tuple, set, frozenset)):
                valeurs = [str(v) if types[col].startswith("VARCHAR") else v for v in valeur]
                if liste:
                    where.append(f"len(list_intersect({_q(col)}, ?)) > 0")
                else:
                    where.append(f"list_contains(?, {_q(col)})")
                params.append(list(valeurs))
            else:
                valeur = str(valeur) if types[col].startswith("VARCHAR") else valeur
                where.append(f"list_contains({_q(col)}, ?)" if liste else f"{_q(col)} = ?")
                params.append(valeur)
        ordre = [k for k in ("niveau", "code", "tranche_taille", "indicateur", "code_commune", "id") if k in types]
        sql = (f"select {', '.join(_selection(k, types[k]) for k in demandees)} from marts.{_q(nom_court)}"
               + (f" where {' and '.join(where)}" if where else "")
               + (f" order by {', '.join(_q(k) for k in ordre)}" if ordre else ""))
        return entiers(en_polars(c, sql, params))


def entiers(df: "pl.DataFrame") -> "pl.DataFrame":
    """Decimal columns without a fractional part (DuckDB's HUGEINT) as Int64."""
    import polars as pl

    casts = [pl.col(n).cast(pl.Int64) for n, t in df.schema.items()
             if isinstance(t, pl.Decimal) and (t.scale or 0) == 0]
    return df.with_columns(casts) if casts else df


def indicateurs(niveau: str = "region", code: str | None = None, region: str | None = None, con=None, *,
                evolution: bool = False, **options: Any) -> "pl.DataFrame":
    """The indicators of :func:`territoires.indicators.api.indicateurs` (same arguments:
    ``tranches``, ``forme``, ``indicateurs``), integer counts guaranteed.

    ``evolution=True`` (long form only) adds, from ``marts.historique_indicateurs``, the
    previous vintage's rate and the change: columns ``millesime_precedent``,
    ``taux_precedent``, ``evolution`` (points of rate); null where there is no earlier
    vintage (see :mod:`territoires.historique`).

    >>> indicateurs("epci", region="53")                     # long: one row per EPCI × indicator
    >>> indicateurs("departement", forme="large")            # wide: one row per département
    """
    with connexion_empruntee(con) as c:
        df = entiers(api.indicateurs(niveau, code, region, con=c, **options))
        if not evolution:
            return df
        if options.get("forme", "longue") != "longue":
            raise ValueError("evolution=True demande la forme longue (forme=\"longue\")")

        evo = _evolution(c, niveau, code)
    import polars as pl

    if evo.is_empty():
        return df.with_columns(pl.lit(None, pl.Utf8).alias("millesime_precedent"),
                               pl.lit(None, pl.Float64).alias("taux_precedent"),
                               pl.lit(None, pl.Float64).alias("evolution"))
    evo = evo.select("niveau", "code", "tranche_taille", "indicateur", "millesime_precedent", "taux_precedent",
                     "evolution")
    return df.join(evo, on=["niveau", "code", "tranche_taille", "indicateur"], how="left")


def contours(niveau: str, region: str | None = None, codes: Sequence[str] | str | None = None, *,
             crs: Any = "EPSG:4326", simplifie: bool = False, con=None) -> "gpd.GeoDataFrame":
    """The territories of ``niveau`` as a GeoDataFrame, its CRS set.

    ``region``: those of one region (an EPCI straddling regions belongs to each);
    ``codes``: those codes only. Geometry is the exact contour (``geometrie``), or with
    ``simplifie=True`` the map geometry (``geometrie_carte``: coverage-simplified,
    neighbours still share edges). The warehouse stores longitude/latitude (WGS 84,
    ``EPSG:4326``); ``crs="EPSG:2154"`` gives Lambert-93, in metres, for areas and
    distances. Territories without a contour keep their row, with an empty geometry.

    Columns: ``niveau, code, nom, code_epci, code_departement, code_region, regions,
    population`` (Int64), ``population_millesime, nb_communes`` (Int64), ``geometry``.

    >>> contours("commune", region="53")
    >>> contours("epci", codes=["242900314"], crs="EPSG:2154").area / 1e6   # km²
    """
    import geopandas as gpd

    if niveau not in niveaux.NOMS:
        raise ValueError(f"niveau « {niveau} » inconnu ; choix : {', '.join(niveaux.NOMS)}")
    if isinstance(codes, str):
        codes = [codes]
    colonne = "geometrie_carte" if simplifie else "geometrie"
    with connexion_empruntee(con) as c:
        verifier_territoire(c, niveau, None, region)
        where, params = ["niveau = ?"], [niveau]
        if region is not None:
            where.append("list_contains(regions, ?)")
            params.append(str(region))
        if codes is not None:
            where.append("list_contains(?, code)")
            params.append([str(x) for x in codes])
        df = c.execute(
            f"""
            select niveau, code, nom, code_epci, code_departement, code_region, regions,
                   population::BIGINT as population, population_millesime, nb_communes::BIGINT as nb_communes,
                   ST_AsWKB({colonne}) as wkb
            from marts.territoires where {' and '.join(where)} order by code
            """, params).df()
    wkb = df.pop("wkb")
    for col in ("population", "nb_communes"):
        df[col] = df[col].astype("Int64")
    geometry = gpd.GeoSeries.from_wkb([None if w is None else bytes(w) for w in wkb], crs="EPSG:4326",
                                      index=df.index)
    gdf = gpd.GeoDataFrame(df, geometry=geometry, crs="EPSG:4326")
    if crs is not None and gdf.crs != crs:
        from pyproj import CRS

        if CRS.from_user_input(crs) != gdf.crs:
            gdf = gdf.to_crs(crs)
    return gdf


def _catalogue(con) -> dict[str, dict[str, Any]]:
    return {r["indicateur"]: r for r in api.catalogue(con).to_dicts()}


def variante_territoires(ind: dict[str, Any], valeurs: Sequence[float | None]) -> dict:
    """The map variant of a rate for whole territories (EPCI, départements…), styled as
    on the alliance page: the catalogue's short label, a sequential scale by polarity
    from 0 to 100 %, or a 0–100 score."""
    from territoires.reports.page import court  # paresseux : charge duckdb

    libelle = court(ind)
    if ind["unite"] == "%":
        return charts.variante(libelle, valeurs, [f"{libelle} : {formats.pourcent(x)}" for x in valeurs],
                               polarite=ind["polarite"], zmin=0, zmax=1)
    return charts.variante(libelle, [None if x is None else x * 100 for x in valeurs],
                           [f"Score : {formats.decimal(x * 100, 0) if x is not None else '–'}\u202f/\u202f100"
                            for x in valeurs],
                           polarite=ind["polarite"], zmin=0, zmax=100, unite="points")


def carte(niveau_ou_gdf: "str | gpd.GeoDataFrame", indicateur: str = "score_presence", *,
          region: str | None = None, codes: Sequence[str] | None = None, niveau: str | None = None,
          titre: str | None = None, hauteur: int = 560, con=None) -> "go.Figure":
    """The dashboards' choropleth of one indicator, as a plotly Figure (drawn inline by
    JupyterLab).

    ``niveau_ou_gdf``: a level (``"commune"``, ``"epci"``…, with ``region`` or ``codes``
    to narrow it), or a GeoDataFrame from :func:`contours` (its ``code`` and ``niveau``
    columns say which territories; any CRS). Values come from the warehouse, styled as
    the dashboards style them: by commune, the score in the dashboard's classes
    (``territoires.couleurs.CLASSES_POINTS``) and the yes / no / no directory entry categories of
    website, e-mail, HTTPS and opening hours (``reports.categories.variantes_communes``); for other
    levels and indicators, the rate in the classes of every map (``territoires.couleurs.CLASSES_TAUX``: the
    weakest class dark orange, the best blue, « donnée absente » grey and labelled).

    >>> carte("commune", "score_presence", region="53")
    >>> carte("epci", "part_site", region="53", titre="Sites des communes par EPCI")
    """
    import shapely

    with connexion_empruntee(con) as c:
        cat = _catalogue(c)
        if indicateur not in cat:
            raise ValueError(f"indicateur « {indicateur} » inconnu ; choix : {', '.join(cat)}")
        if isinstance(niveau_ou_gdf, str):
            niveau = niveau_ou_gdf
            gdf = contours(niveau, region, codes, simplifie=True, con=c)
        else:
            gdf = niveau_ou_gdf
            if "code" not in gdf.columns:
                raise ValueError("le GeoDataFrame doit avoir une colonne « code » (comme ceux de contours())")
            trouves = set(gdf["niveau"]) if "niveau" in gdf.columns else ({niveau} if niveau else set())
            if len(trouves) != 1:
                raise ValueError("un seul niveau par carte : passez niveau=… ou une colonne « niveau »")
            niveau = trouves.pop()
            if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
                gdf = gdf.to_crs("EPSG:4326")
        gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
        rows = [(str(code), shapely.to_wkb(g)) for code, g in zip(gdf["code"], gdf.geometry)]
        geoms = geo.from_wkb_rows(rows, niveaux.precision(niveau))
        noms_par_code = dict(zip(gdf["code"].astype(str), gdf["nom"] if "nom" in gdf.columns else gdf["code"]))
        noms = [noms_par_code.get(code) or code for code in geoms.ids]
        ind = cat[indicateur]
        if niveau == "commune" and indicateur in VARIANTES_COMMUNES:
            pres = {r["code"]: r for r in api.presence(con=c).to_dicts()}
            variante = variantes_communes(geoms.ids, pres, cat)[VARIANTES_COMMUNES[indicateur]]
        else:
            taux = {r["code"]: r["taux"] for r in api.indicateurs(niveau, con=c, indicateurs=[indicateur]).to_dicts()}
            variante = variante_territoires(ind, [taux.get(code) for code in geoms.ids])
    titre = titre or f"{ind['libelle']} — {len(geoms)} {niveau}{'s' if len(geoms) > 1 and not niveau.endswith('s') else ''}"
    graphique = charts.carte(geoms, noms, [variante], titre=titre, hauteur=hauteur,
                             alt=f"Carte de {ind['libelle'].lower()} par {niveau}.")
    fig = graphique.figure_plotly()
    fig.update_layout(title={"text": titre, "x": 0.01, "y": 0.99, "yanchor": "top"},
                      margin={"t": 40})
    return fig
