-- Operators (OPSN) declared in territoires/data/operateurs.toml.
-- unique: code
-- not_null: code, nom, code_region
with source as (
    select * from raw.operateurs
),
renamed as (
    select
        code::varchar as code,
        nom::varchar as nom,
        nom_long::varchar as nom_long,
        region::varchar as code_region,
        nullif(site, '') as site,
        nullif(siret, '') as siret,
        alliance::boolean as alliance,
        nullif(decp_plateforme, '') as decp_plateforme,   -- sourceDataset of its platform in the DECP
        lower(nullif(trim(plateforme_opendata), '')) as plateforme_opendata,   -- domain of its open-data platform
        departements::varchar[] as departements
    from source
),
final as (select * from renamed)
select * from final
