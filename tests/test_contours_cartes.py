"""Etalab's pre-simplified contours draw the maps of the levels they cover (issue 21):
a real slice of « regions-1000m.geojson » (tests/fixtures/sources/README.md), fetched
through the real `territoires fetch` path, gives region 02's map polygon as published,
while its exact polygon stays the union of its communes and the levels not fetched keep
their computed simplification."""

from __future__ import annotations

import gzip
import json

import duckdb
import pytest
import shapely
from sources_fabrique import F, telecharger_fixtures

SOURCE = "etalab-contours-2025-regions-1000m"


@pytest.fixture(scope="module")
def martinique(tmp_path_factory):
    from territoires.entrepot.connexion import load_spatial
    from territoires.warehouse.build import build

    home = tmp_path_factory.mktemp("contours")
    reel = (F / "contours" / "regions-1000m-extrait.geojson").read_bytes()
    telecharger_fixtures(home / "data" / "raw", ids=[SOURCE], contenus={SOURCE: gzip.compress(reel, mtime=0)})
    build(departements=("972",), home=home, quiet=True)
    c = duckdb.connect(str(home / "data" / "processed" / "territoires.duckdb"), read_only=True)
    load_spatial(c)
    yield c, reel
    c.close()


def _wkb(con, niveau: str, colonne: str):
    (wkb,) = con.execute(f"select ST_AsWKB({colonne}) from marts.territoires where niveau = ?", [niveau]).fetchone()
    return shapely.from_wkb(bytes(wkb))


def test_fetched_generalised_contours_draw_their_level(martinique):
    con, reel = martinique
    publie = next(f for f in json.loads(reel)["features"] if f["properties"]["code"] == "02")
    attendu = shapely.multipolygons([shapely.from_geojson(json.dumps(publie["geometry"]))])
    assert shapely.equals_exact(_wkb(con, "region", "geometrie_carte"), attendu, tolerance=0)
    # the exact polygon is still the union of the communes, as the département's
    assert shapely.equals(_wkb(con, "region", "geometrie"), _wkb(con, "departement", "geometrie"))
    # the département (no file fetched) keeps its computed simplification
    dep = _wkb(con, "departement", "geometrie_carte")
    assert not shapely.equals_exact(dep, attendu, tolerance=1e-9)
    assert shapely.get_num_coordinates(dep) <= shapely.get_num_coordinates(_wkb(con, "departement", "geometrie"))
