-- Legal populations fetched from INSEE (raw.populations, source insee-populations-2022;
-- empty when not fetched: the embedded populations then serve), one row per commune
-- (Paris, Lyon and Marseille rebuilt from their arrondissements by the connector), with
-- the source and its vintage (registry). Reads no list of downloads, so that fetching
-- another source does not recompute what populations feed.
-- unique: code
-- not_null: code, population, millesime, source_id
with source as (
    select * from raw.populations where niveau = 'commune' and pmun is not null
),
millesime as (
    select millesime from raw.provenance where source_id = 'insee-populations-2022' and cle = 'population'
),
final as (
    select
        code_insee as code,
        pmun::bigint as population,
        coalesce((select millesime from millesime), 'inconnu') as millesime,
        'insee-populations-2022' as source_id
    from source
)
select * from final
