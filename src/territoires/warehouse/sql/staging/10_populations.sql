-- Legal populations fetched from INSEE (raw.populations; empty when not fetched: the
-- embedded populations then serve), one row per commune (Paris, Lyon and Marseille rebuilt
-- from their arrondissements by the connector), with the fetched source and its vintage.
-- unique: code
-- not_null: code, population, millesime, source_id
with source as (
    select * from raw.populations where niveau = 'commune' and pmun is not null
),
origine as (select id from raw.telechargees where table_cible = 'raw.populations'),
millesime as (
    select p.millesime from raw.provenance p join origine o on o.id = p.source_id where p.cle = 'population'
),
final as (
    select
        code_insee as code,
        pmun::bigint as population,
        coalesce((select millesime from millesime), 'inconnu') as millesime,
        (select id from origine) as source_id
    from source
)
select * from final
