"""data.gouv.fr: the organisations export (« Catalogue des données de data.gouv.fr »).

Written by udata (github.com/opendatateam/udata at 25b5a2d, ``udata/core/csv.py`` and
``udata/core/organization/csv.py``): ``csv.writer(quoting=QUOTE_NONNUMERIC,
delimiter=";", quotechar='"')`` into a UTF-8 file (``dataset/tasks.py``,
``export_csv_for_model``), CRLF line ends (the csv module's default); columns ``id, name,
acronym, slug, url, description, logo, badges, created_at, last_modified,
business_number_id, members_count, downloads`` then ``metric.<key>`` for each of
``Organization.__metrics_keys__`` — where ``dataservices`` is listed twice, so the real
header holds ``metric.dataservices`` twice (DuckDB names the second one
``metric.dataservices_1``). ``business_number_id`` is the organisation's SIRET (checked
by udata's ``check_siret``), empty for most; ``badges`` the badge kinds joined by ``,``
(``public-service``, ``certified``…); dates ISO 8601. ``/api/1/site/organizations.csv``
redirects to the latest export.
"""

from __future__ import annotations

from pathlib import Path

from territoires.sources.connecteurs import (colonnes, compter, csv_duckdb, entier, exiger, ou_null, preparer, texte,
                                             vide_null)

REQUISES = ["id", "name", "business_number_id", "metric.datasets"]


def charger_organisations(con, path: Path) -> int:  # noqa: ANN001
    """The organisations export → ``raw.datagouv_organisations`` (one row per organisation
    with a SIRET: the others cannot be matched to a collectivité)."""
    preparer(con)
    with texte(path) as lisible:
        _charger(con, path, csv_duckdb(lisible, "delim=';', quote='\"', escape='\"', header=true, all_varchar=true, "
                                                "max_line_size=100000000"))
    return compter(con, "raw.datagouv_organisations")


def _charger(con, path: Path, rel: str) -> None:  # noqa: ANN001
    cols = colonnes(con, rel)
    exiger(path, cols, REQUISES)
    siret = f"regexp_replace(coalesce({vide_null('business_number_id')}, ''), '[^0-9]', '', 'g')"
    con.execute(f"""
        create or replace table raw.datagouv_organisations as
        select {vide_null('id')} as id, {vide_null('name')} as nom,
               {siret} as siret, left({siret}, 9) as siren,
               list_filter(string_split(coalesce({ou_null('badges', cols)}, ''), ','), b -> b <> '') as badges,
               {entier('"metric.datasets"')} as jeux,
               try_cast({ou_null('last_modified', cols, vide_null('last_modified'))} as timestamp) as modifie_le,
               {ou_null('url', cols, vide_null('url'))} as url
        from {rel}
        where length({siret}) = 14
    """)
