"""ANCT DPNT (Données de la présence numérique des territoires), json.gz or csv.gz.

Written by github.com/suitenumerique/st-home ``data/tasks/sync.py``: a JSON list of
objects (``json.dump(separators=(",", ":"))``, non-ASCII escaped, then ``gzip -9``) with
keys ``type, siret, siren, libelle, population, code_insee, code_postal, epci_libelle,
epci_siren, epci_siret, epci_population, departement_code_insee, departement_siret,
region_code_insee, region_siret, adresse_messagerie, site_internet, telephone, rpnt,
service_public_url``; ``rpnt`` is the list of RPNT criteria met (``"1.1"``, ``"2.1"``…).
The CSV holds the same keys, ``;``-separated, ``rpnt`` joined by ``,``, None as "".
Both load into ``raw.dpnt_organisations`` with the same types.
"""

from __future__ import annotations

from pathlib import Path

from territoires.sources.connecteurs import (cles_json, colonnes, compter, csv_duckdb, exiger, json_duckdb, preparer,
                                             texte, vide_null)

TEXTES = ["type", "siret", "siren", "libelle", "code_insee", "code_postal", "epci_libelle", "epci_siren",
          "epci_siret", "departement_code_insee", "departement_siret", "region_code_insee", "region_siret",
          "adresse_messagerie", "site_internet", "telephone", "service_public_url"]
ENTIERS = ["population", "epci_population"]
ORDRE = ["type", "siret", "siren", "libelle", "population", "code_insee", "code_postal", "epci_libelle",
         "epci_siren", "epci_siret", "epci_population", "departement_code_insee", "departement_siret",
         "region_code_insee", "region_siret", "adresse_messagerie", "site_internet", "telephone", "rpnt",
         "service_public_url"]
REQUISES = ["type", "siret", "siren", "code_insee", "population"]


def charger_json(con, path: Path) -> int:  # noqa: ANN001
    """``dpnt-quotidien.json.gz`` → ``raw.dpnt_organisations``."""
    preparer(con)
    types = {**{c: "VARCHAR" for c in TEXTES}, **{c: "VARCHAR" for c in ENTIERS}, "rpnt": "VARCHAR[]"}
    spec = ", ".join(f"{c}: '{types[c]}'" for c in ORDRE)
    with texte(path) as lisible:
        rel = json_duckdb(lisible, f"format='array', columns={{{spec}}}")
        exiger(path, cles_json(con, lisible), REQUISES)
        select = ", ".join(
            [f"nullif(trim({c}), '') as {c}" for c in TEXTES]
            + [f"try_cast({c} as bigint) as {c}" for c in ENTIERS]
            + ["coalesce(rpnt, []) as rpnt"]
        )
        con.execute(f"create or replace table raw.dpnt_organisations as select {select} from {rel}")
    return compter(con, "raw.dpnt_organisations")


def charger_csv(con, path: Path) -> int:  # noqa: ANN001
    """``dpnt-quotidien.csv.gz`` → ``raw.dpnt_organisations`` (same table as the JSON)."""
    preparer(con)
    with texte(path) as lisible:
        rel = csv_duckdb(lisible, "delim=';', quote='\"', escape='\"', header=true, all_varchar=true")
        cols = colonnes(con, rel)
        exiger(path, cols, REQUISES)
        select = ", ".join(
            [(vide_null(c) if c in cols else "null") + f" as {c}" for c in TEXTES]
            + [(f"try_cast({vide_null(c)} as bigint)" if c in cols else "null") + f" as {c}" for c in ENTIERS]
            + ["list_filter(list_transform(string_split(coalesce(rpnt, ''), ','), x -> trim(x)), x -> x <> '') as rpnt"
               if "rpnt" in cols else "[]::varchar[] as rpnt"]
        )
        con.execute(f"create or replace table raw.dpnt_organisations as select {select} from {rel}")
    return compter(con, "raw.dpnt_organisations")
