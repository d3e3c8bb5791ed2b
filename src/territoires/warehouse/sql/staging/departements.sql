-- Départements (COG) with their region code.
-- unique: code
-- not_null: code, nom, code_region
with source as (
    select * from raw.departements
),
regions as (
    select * from staging.regions
),
renamed as (
    select
        d.id::integer as id_source,
        d.code::varchar as code,
        d.nom::varchar as nom,
        r.code as code_region
    from source d
    left join regions r on r.id_source = d.region_id::integer
),
final as (select * from renamed)
select * from final
