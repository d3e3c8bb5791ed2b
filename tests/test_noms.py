"""Names as readers know them, decided once in the staging models (issue 10, item 5):
EPCI without a doubled legal form, communes with their article."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import territoires.warehouse
from territoires.entrepot.connexion import load_spatial


SQL = Path(territoires.warehouse.__file__).parent / "sql" / "staging"


def _staging(nom_fichier: str) -> str:
    return (SQL / nom_fichier).read_text(encoding="utf-8")


@pytest.mark.parametrize("brut, attendu", [
    ("Communauté de communes Communauté Lesneven Côte des Légendes", "Communauté Lesneven Côte des Légendes"),
    ("Communauté d'agglomération Lannion-Trégor Communauté", "Lannion-Trégor Communauté"),
    ("Communauté urbaine Le Mans Métropole", "Le Mans Métropole"),
    ("Communauté de communes Loudéac Communauté - Bretagne Centre", "Loudéac Communauté - Bretagne Centre"),
    ("Communauté d'agglomération Quimperlé Communauté", "Quimperlé Communauté"),
    ("Communauté de communes Poher communauté", "Poher communauté"),
    ("Communauté d'agglomération Lorient Agglomération", "Lorient Agglomération"),
    ("Communauté d'agglomération Cœur d'Essonne Agglomération", "Cœur d'Essonne Agglomération"),
    ("Communauté d'agglomération Golfe du Morbihan - Vannes Agglomération", "Golfe du Morbihan - Vannes Agglomération"),
    # a name that does not repeat its form keeps it
    ("Communauté de communes du Pays de Landerneau-Daoulas", "Communauté de communes du Pays de Landerneau-Daoulas"),
    ("Communauté d'agglomération du Pays de Saint-Malo", "Communauté d'agglomération du Pays de Saint-Malo"),
    ("Communauté d'agglomération Paris - Vallée de la Marne", "Communauté d'agglomération Paris - Vallée de la Marne"),
    ("Brest Métropole", "Brest Métropole"),
    # « Communautés » or a word that merely begins the same is not the form repeated
    ("Communauté de communes des Communautés unies", "Communauté de communes des Communautés unies"),
])
def test_epci_names_lose_a_doubled_legal_form(brut, attendu):
    con = duckdb.connect()
    con.execute("create schema raw; create table raw.epci (id integer, code varchar, nom varchar, type varchar)")
    con.execute("insert into raw.epci values (1, '242900793', ?, 'CC')", [brut])
    assert con.execute(_staging("epci.sql")).fetchone()[2] == attendu


@pytest.mark.parametrize("type_nom, brut, attendu", [
    ("0", "Brest", "Brest"), ("1", "Ambérieu-en-Bugey", "Ambérieu-en-Bugey"),
    ("2", "Relecq-Kerhuon", "Le Relecq-Kerhuon"), ("3", "Forêt-Fouesnant", "La Forêt-Fouesnant"),
    ("4", "Abymes", "Les Abymes"), ("5", "Hôpital-Camfrout", "L'Hôpital-Camfrout"),
    ("6", "Marais", "Aux Marais"), ("7", "Exemple", "Las Exemple"), ("8", "Masos", "Los Masos"),
])
def test_commune_names_get_their_article_from_the_cog_type_of_name(type_nom, brut, attendu):
    con = duckdb.connect()
    load_spatial(con)
    con.execute("create schema raw; create schema staging")
    con.execute("create table raw.communes as select * from (values (1, '29235', 'COM', ?, ?, 100, 0, 1, null, null, "
                "null::varchar, '', '', '', null::varchar, '[]', '', '', '')) t(id, code, type, nom, type_nom, population_municipale, "
                "population_cap, departement_id, commune_parent_id, epci_id, geometry, mairie_adresse, "
                "mairie_accessibilite, mairie_accessibilite_details, mairie_localisation, mairie_horaires, "
                "mairie_email, mairie_telephone, mairie_site)", [brut, type_nom])
    con.execute("create table staging.departements as select 1 as id_source, '29' as code, '53' as code_region")
    con.execute("create table staging.epci as select 1 as id_source, '242900314' as code")
    assert con.execute(_staging("communes.sql")).fetchone()[3] == attendu


def test_the_warehouse_shows_the_names_readers_know(con):
    noms = dict(con.execute("select code, nom from marts.territoires where code in ('29235', '242900793', '29084')"
                            ).fetchall())
    assert noms["29235"] == "Le Relecq-Kerhuon"
    assert noms["242900793"] == "Communauté Lesneven Côte des Légendes"
    assert not con.execute("select count(*) from marts.territoires where nom like 'Communauté de communes Communauté%'"
                           " or nom like 'Communauté d''agglomération %Communauté'").fetchone()[0]
