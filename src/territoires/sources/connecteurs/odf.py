"""OpenDataFrance: the « Observatoire open data des territoires » (ODATER), its export of
the organisations (collectivités…) known to publish open data.

Published on data.gouv.fr (dataset « Données de l'Observatoire open data des territoires »,
resource ``indicateurs-odater-organisations-<date>.csv``, republished in place at each
edition). No committed copy of the file was found; its columns are known from the code that
reads it (github.com/dataforgoodfr/13_eclaireur_public, which keeps ``siren, url-ptf,
url-datagouv, id-datagouv, merge, ptf``, and R scripts renaming ``url-ptf, nb-ptf,
url-datagouv, nb-datagouv, id-datagouv, id-ods, pop-insee``): ``siren`` the organisation's
SIREN, ``url-ptf`` the address of the open-data platform it publishes on and ``nb-ptf`` the
datasets there, ``url-datagouv`` / ``nb-datagouv`` its data.gouv.fr organisation and
datasets, ``ptf`` the platform. The separator is not documented: DuckDB's sniffer detects
it; only ``siren``, ``url-ptf`` and ``nb-ptf`` are required.
"""

from __future__ import annotations

from pathlib import Path

from territoires.sources.connecteurs import colonnes, compter, csv_duckdb, entier, exiger, ou_null, preparer, texte, \
    vide_null

REQUISES = ["siren", "url-ptf", "nb-ptf"]


def charger_organisations(con, path: Path) -> int:  # noqa: ANN001
    """The observatory's organisations → ``raw.odf_organisations`` (one row per organisation
    with a SIREN: the others cannot be matched to a collectivité)."""
    preparer(con)
    with texte(path) as lisible:
        _charger(con, path, csv_duckdb(lisible, "header=true, all_varchar=true, auto_detect=true"))
    return compter(con, "raw.odf_organisations")


def _charger(con, path: Path, rel: str) -> None:  # noqa: ANN001
    cols = colonnes(con, rel)
    exiger(path, cols, REQUISES)
    siren = "regexp_replace(coalesce(\"siren\", ''), '[^0-9]', '', 'g')"
    con.execute(f"""
        create or replace table raw.odf_organisations as
        select {siren} as siren, {ou_null('nom', cols, vide_null('nom'))} as nom,
               {ou_null('type', cols, vide_null('type'))} as type,
               {vide_null('url-ptf')} as url_plateforme,
               {entier('"nb-ptf"')} as jeux_plateforme,
               {ou_null('url-datagouv', cols, vide_null('url-datagouv'))} as url_datagouv,
               {ou_null('nb-datagouv', cols, entier('"nb-datagouv"'))} as jeux_datagouv,
               {ou_null('ptf', cols, vide_null('ptf'))} as plateforme
        from {rel}
        where length({siren}) = 9
    """)
