"""DILA Annuaire de l'administration, Opendatasoft JSON export → ``raw.annuaire``.

The export (``…/api-lannuaire-administration/exports/json``) is one JSON list of
records. Several fields are JSON documents stored as strings, and e-mails are joined by
``;`` — as github.com/suitenumerique/st-home ``data/tasks/dumps.py`` (``dump_dila``)
reads them: ``pivot`` (``[{"type_service_local": "mairie", "code_insee_commune":
["29001"]}]``), ``site_internet`` and ``telephone`` (lists of ``{"valeur": …}``),
``adresse_courriel`` (``"a@x.fr;b@x.fr"``), null where empty. ``adresse`` and
``date_modification`` are kept as given (inner keys uncertain). A string that is not
valid JSON yields NULL for the parsed column, never an error for the whole file.

Every ``pivot`` entry is read, not only the first: a record may declare several roles
(the Conseil territorial de Saint-Barthélemy is ``cg`` then ``mairie``, the only one of
35 803 town-hall records in a capture of 6 August 2026, github.com/DamienGR/observatoire-web
``tests/fixtures/annuaire/``). ``types_service_local`` lists them all, ``codes_mairie``
the communes of the ``mairie`` entries. The registry's URL asks the export only for the
town-hall records and the fields read here (``select`` / ``where``); fields the export
did not send (``adresse_courriel``, ``telephone``… when not selected) load as NULL.
Which record is a commune's principal town hall is decided in
``staging/annuaire_mairies.sql``.
"""

from __future__ import annotations

from pathlib import Path

from territoires.sources.connecteurs import cles_json, compter, exiger, json_duckdb, preparer, texte

CHAMPS = ["id", "nom", "siret", "siren", "pivot", "code_insee_commune", "adresse_courriel", "site_internet",
          "telephone", "adresse", "url_service_public", "date_modification"]
REQUIS = ["id", "nom", "pivot", "site_internet"]


def _json(champ: str, forme: str) -> str:
    return f"case when json_valid({champ}) then from_json({champ}, '{forme}') end"


def charger_annuaire(con, path: Path) -> int:  # noqa: ANN001
    """The JSON export → ``raw.annuaire``: one row per service, with
    ``types_service_local`` (every pivot entry's type, in order), ``codes_insee`` (every
    entry's communes), ``codes_mairie`` (those of its ``mairie`` entries),
    ``code_insee_commune`` (the record's own field), ``courriels``, ``sites``,
    ``telephones`` (lists of text) parsed out of their JSON strings."""
    preparer(con)
    spec = ", ".join(f"\"{c}\": 'VARCHAR'" for c in CHAMPS)  # pivot is a reserved word
    pivot = _json('"pivot"', '[{"type_service_local":"VARCHAR","code_insee_commune":["VARCHAR"]}]')
    with texte(path) as lisible:
        rel = json_duckdb(lisible, f"format='array', columns={{{spec}}}")
        exiger(path, cles_json(con, lisible), REQUIS)
        _creer(con, rel, pivot)
    return compter(con, "raw.annuaire")


def _creer(con, rel: str, pivot: str) -> None:  # noqa: ANN001
    con.execute(f"""
        create or replace table raw.annuaire as
        with brut as (select * from {rel}),
        lu as (
            select *, {pivot} as pivot_l,
                   {_json('site_internet', '[{"valeur":"VARCHAR"}]')} as sites_l,
                   {_json('telephone', '[{"valeur":"VARCHAR"}]')} as telephones_l
            from brut
        )
        select id, nom, nullif(trim(siret), '') as siret, nullif(trim(siren), '') as siren,
               coalesce(list_transform(pivot_l, p -> p.type_service_local), []) as types_service_local,
               coalesce(flatten(list_transform(pivot_l, p -> p.code_insee_commune)), []) as codes_insee,
               coalesce(list_sort(list_distinct(flatten(list_transform(
                   list_filter(pivot_l, p -> p.type_service_local = 'mairie'), p -> p.code_insee_commune)))), [])
                   as codes_mairie,
               nullif(trim(code_insee_commune), '') as code_insee_commune,
               coalesce(list_filter(list_transform(string_split(adresse_courriel, ';'), x -> trim(x)), x -> x <> ''), [])
                   as courriels,
               coalesce(list_filter(list_transform(sites_l, s -> trim(s.valeur)), x -> x <> ''), []) as sites,
               coalesce(list_filter(list_transform(telephones_l, t -> trim(t.valeur)), x -> x <> ''), []) as telephones,
               case when json_valid(adresse) then adresse::json end as adresse,
               nullif(trim(url_service_public), '') as url_service_public,
               coalesce(try_cast(date_modification as timestamp),
                        try_strptime(date_modification, '%d/%m/%Y %H:%M:%S')) as date_modification
        from lu
    """)
