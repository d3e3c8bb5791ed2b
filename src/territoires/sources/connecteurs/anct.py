"""ANCT Suite territoriale exports: operators, services, actual use (``deploiement``).

Format read from the publisher's own export code (github.com/suitenumerique/st-deploycenter,
``src/backend/core/tasks/datagouv.py``): ``csv.DictWriter(delimiter=";")``, UTF-8, header,
QUOTE_MINIMAL (a ``;`` or a line break inside a value is quoted), CRLF line ends, None
written as an empty cell; ``deploiement`` is gzip-compressed. Operator ids are UUIDs,
service ids integers (kept as text: they are identifiers). The ``services`` export gained
``description``, ``type`` and ``nom_instance`` over time: absent, they load as NULL.

The ``adherents`` and ``souscriptions`` exports are read by :mod:`territoires.members`.
"""

from __future__ import annotations

from pathlib import Path

from territoires.encodages import Lisible
from territoires.sources.connecteurs import colonnes, compter, csv_duckdb, exiger, ou_null, preparer, texte, vide_null


def _csv(lisible: Lisible) -> str:
    return csv_duckdb(lisible, "delim=';', quote='\"', escape='\"', header=true, all_varchar=true")


def _liste(nom: str) -> str:
    """``"7,12,3"`` → ``['7', '12', '3']``; an empty cell → ``[]``."""
    return f"list_filter(list_transform(string_split(coalesce(\"{nom}\", ''), ','), x -> trim(x)), x -> x <> '')"


def charger_operateurs(con, path: Path) -> int:  # noqa: ANN001
    """``operateurs-quotidien.csv`` → ``raw.anct_operateurs`` (one row per operator;
    ``services`` and ``departements`` as lists of text codes)."""
    preparer(con)
    with texte(path) as lisible:
        rel = _csv(lisible)
        cols = colonnes(con, rel)
        exiger(path, cols, ["id", "nom", "siret", "services", "departements"])
        con.execute(f"""
            create or replace table raw.anct_operateurs as
            select "id" as id, "nom" as nom,
                   {ou_null('nom_avec_article', cols, vide_null('nom_avec_article'))} as nom_avec_article,
                   {ou_null('url', cols, vide_null('url'))} as url,
                   {vide_null('siret')} as siret,
                   {ou_null('statut', cols, vide_null('statut'))} as statut,
                   {_liste('services')} as services,
                   {_liste('departements')} as departements
            from {rel}
        """)
    return compter(con, "raw.anct_operateurs")


def charger_services(con, path: Path) -> int:  # noqa: ANN001
    """``services-quotidien.csv`` → ``raw.anct_services`` (``date_lancement`` DATE)."""
    preparer(con)
    with texte(path) as lisible:
        rel = _csv(lisible)
        cols = colonnes(con, rel)
        exiger(path, cols, ["id", "nom", "url", "maturite", "date_lancement"])
        optionnelles = {c: ou_null(c, cols, vide_null(c)) for c in ("description", "type", "nom_instance", "logo_url")}
        con.execute(f"""
            create or replace table raw.anct_services as
            select "id" as id, "nom" as nom, {optionnelles['description']} as description,
                   {vide_null('url')} as url, {optionnelles['type']} as type,
                   {optionnelles['nom_instance']} as nom_instance, {vide_null('maturite')} as maturite,
                   try_cast({vide_null('date_lancement')} as date) as date_lancement,
                   {optionnelles['logo_url']} as logo_url
            from {rel}
        """)
    return compter(con, "raw.anct_services")


def charger_deploiement(con, path: Path) -> int:  # noqa: ANN001
    """``deploiement-quotidien.csv.gz`` → ``raw.anct_deploiement``: one row per
    organisation × service, ``active`` true when the organisation actually uses it."""
    preparer(con)
    with texte(path) as lisible:
        rel = _csv(lisible)
        cols = colonnes(con, rel)
        exiger(path, cols, ["type", "siret", "insee", "population", "service", "active"])
        con.execute(f"""
            create or replace table raw.anct_deploiement as
            select {vide_null('type')} as type, {vide_null('siret')} as siret, {vide_null('insee')} as insee,
                   try_cast({vide_null('population')} as bigint) as population,
                   {vide_null('service')} as service_id,
                   case trim("active") when '1' then true when '0' then false end as active
            from {rel}
        """)
    return compter(con, "raw.anct_deploiement")
