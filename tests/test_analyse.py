"""The analysts' API: frames and maps from the package (territoires.table, contours, carte…)."""

from __future__ import annotations

import subprocess
import sys

import polars as pl
import pytest

import territoires
from territoires import couleurs
from territoires.reports import tableau_de_bord


def test_import_is_light():
    code = ("import sys, territoires; heavy = [m for m in ('polars', 'geopandas', 'plotly', 'duckdb', 'pandas') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    for name in ("table", "indicateurs", "contours", "carte", "connect", "notebooks_dir"):
        assert name in territoires.__all__ and callable(getattr(territoires, name))
        assert getattr(territoires, name).__doc__


def test_table_returns_typed_polars_frames(con):
    df = territoires.table("territoires", con=con, niveau="commune")
    assert isinstance(df, pl.DataFrame)
    assert df.height == con.execute("select count(*) from marts.territoires where niveau = 'commune'").fetchone()[0]
    assert df.schema["population"] in (pl.Int32, pl.Int64)  # not Decimal(38, 0) from a HUGEINT
    assert df.schema["code"] == pl.String
    assert "geometrie" not in df.columns  # geometry only on request
    assert territoires.table("territoires", con=con, niveau="region", geometrie=True).schema["geometrie"] == pl.Binary
    for nom in ("indicateurs", "marts.sources", "appartenances", "indicateurs_catalogue"):
        assert territoires.table(nom, con=con).height > 0


def test_table_filters_are_bound_equality_membership_and_list_contains(con):
    deux = territoires.table("territoires", con=con, niveau="epci", code=["242900314", "200067072"], colonnes=["code"])
    assert set(deux["code"]) <= {"242900314", "200067072"} and deux.height >= 1
    epci = territoires.table("territoires", con=con, niveau="epci", regions="53")
    assert epci.height == con.execute(
        "select count(*) from marts.territoires where niveau = 'epci' and list_contains(regions, '53')").fetchone()[0]
    # a value is a parameter, not SQL
    assert territoires.table("territoires", con=con, nom="x' or '1'='1").height == 0
    ind = territoires.table("indicateurs", con=con, niveau="departement", code=29, indicateur="part_site",
                            tranche_taille="ensemble")
    assert ind.height == 1 and ind.schema["numerateur"] == pl.Int64


def test_table_errors_are_french_and_list_the_choices(con):
    with pytest.raises(ValueError, match="tables de marts : .*indicateurs.*territoires"):
        territoires.table("communes", con=con)
    with pytest.raises(ValueError, match="colonne\\(s\\) pays absente\\(s\\) de marts.territoires"):
        territoires.table("territoires", con=con, pays="FR")


def test_indicateurs_delegates_with_integer_counts(con):
    from territoires.indicators import api

    mine = territoires.indicateurs("epci", region="53", con=con)
    assert mine.equals(api.indicateurs("epci", region="53", con=con))
    assert mine.schema["population"] == pl.Int64
    large = territoires.indicateurs("departement", con=con, forme="large")
    assert large.height == 1 and "part_site" in large.columns


def test_contours_one_row_per_commune_with_crs(con):
    gdf = territoires.contours("commune", region="53", con=con)
    n = con.execute("select count(*) from marts.territoires where niveau = 'commune'").fetchone()[0]
    assert len(gdf) == n == gdf["code"].nunique()
    assert gdf.crs.to_epsg() == 4326
    assert str(gdf["population"].dtype) == "Int64"
    x0, y0, x1, y1 = gdf.total_bounds
    assert -6 < x0 < x1 < -3 and 47 < y0 < y1 < 49  # Finistère, in degrees
    l93 = territoires.contours("commune", region="53", crs="EPSG:2154", con=con)
    assert l93.crs.to_epsg() == 2154
    x0, y0, x1, y1 = l93.total_bounds
    assert 90_000 < x0 < x1 < 300_000 and 6_700_000 < y0 < y1 < 6_900_000  # metres
    area_km2 = territoires.contours("departement", codes="29", crs="EPSG:2154", con=con).area.sum() / 1e6
    assert 6_500 < area_km2 < 7_100  # Finistère: about 6,733 km²
    simple = territoires.contours("commune", region="53", simplifie=True, con=con)
    assert simple.geometry.apply(lambda g: len(g.wkb)).sum() < gdf.geometry.apply(lambda g: len(g.wkb)).sum()


def test_contours_errors(con):
    with pytest.raises(ValueError, match="niveau « canton » inconnu"):
        territoires.contours("canton", con=con)
    with pytest.raises(ValueError, match="région « 84 » absente"):
        territoires.contours("commune", region="84", con=con)


def _dashboard_map(fixture_warehouse, monkeypatch):
    """The commune map of département 29's dashboard, as the dashboard draws it."""
    shown = []
    monkeypatch.setattr(tableau_de_bord, "display", lambda *objs: shown.extend(objs))
    t = tableau_de_bord.territoire("departement", "29", str(fixture_warehouse))
    tableau_de_bord.carte(t)
    (graphique,) = [o for o in shown if getattr(o, "est_carte", False)]
    return graphique.figure_plotly()


def test_carte_uses_the_dashboard_classes_colours_and_labels(con, fixture_warehouse, monkeypatch):
    import plotly.graph_objects as go

    dash = _dashboard_map(fixture_warehouse, monkeypatch)
    main = [tr for tr in dash.data if tr.name != "alentours"][0]
    by_code = dict(zip(main.locations, main.z))
    buttons = dash.layout.updatemenus[0].buttons
    for k, indicateur in enumerate(("score_presence", "part_site", "part_email_non_generique")):
        fig = territoires.carte("commune", indicateur, region="53", con=con)
        assert isinstance(fig, go.Figure)
        (trace,) = fig.data
        args = buttons[k].args[0]
        dash_z = dict(zip(main.locations, args["z"][0]))
        assert dict(zip(trace.locations, trace.z)) == {c: dash_z[c] for c in trace.locations}
        assert [list(s) for s in trace.colorscale] == [list(s) for s in args["colorscale"][0]]
        assert list(trace.colorbar.ticktext) == list(args["colorbar"]["ticktext"])
        assert (trace.zmin, trace.zmax) == (args["zmin"], args["zmax"])
    score = territoires.carte("commune", "score_presence", region="53", con=con).data[0]
    assert dict(zip(score.locations, score.z)) == {c: by_code[c] for c in score.locations}
    assert list(score.colorbar.ticktext)[:len(couleurs.CLASSES_POINTS)] == [lab for _, lab in couleurs.CLASSES_POINTS]


def test_carte_of_a_geodataframe_and_of_a_level(con):
    gdf = territoires.contours("epci", region="53", crs="EPSG:2154", con=con)
    fig = territoires.carte(gdf, "part_site", con=con)
    (trace,) = fig.data
    assert len(trace.locations) == len(gdf)
    # rates binned on the classes of every map (percentages), then « donnée absente »
    assert list(trace.colorbar.ticktext) == [lab for _, lab in couleurs.CLASSES_TAUX] + ["Donnée absente"]
    assert trace.colorscale[0][1] == couleurs.CLASSES[0]  # the weakest class, the most visible
    webmail = territoires.carte("epci", "part_webmail_grand_public", region="53", con=con).data[0]
    assert webmail.colorscale[-3][1] == couleurs.CLASSES[0]  # more is worse: the highest class is the weakest
    assert fig.layout.separators == ",\u202f"  # French number format
    with pytest.raises(ValueError, match="indicateur « nope » inconnu"):
        territoires.carte("epci", "nope", con=con)


def test_indicateurs_evolution_without_history_is_empty_not_an_error(con):
    df = territoires.indicateurs("departement", con=con, evolution=True)
    assert {"millesime_precedent", "taux_precedent", "evolution"} <= set(df.columns)
    assert df["evolution"].null_count() == df.height
    with pytest.raises(ValueError, match="forme longue"):
        territoires.indicateurs("departement", con=con, evolution=True, forme="large")
