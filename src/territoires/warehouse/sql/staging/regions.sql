-- Régions (COG) as typed rows.
-- unique: code
-- not_null: code, nom
with source as (
    select * from raw.regions
),
renamed as (
    select
        id::integer as id_source,
        code::varchar as code,
        nom::varchar as nom
    from source
),
final as (select * from renamed)
select * from final
