-- EPCI à fiscalité propre; the SIREN is the code.
-- unique: code
-- not_null: code, nom, nature
with source as (
    select * from raw.epci
),
renamed as (
    select
        id::integer as id_source,
        code::varchar as code,
        nom::varchar as nom,
        type::varchar as nature   -- CC, CA, CU, ME (métropole)
    from source
),
final as (select * from renamed)
select * from final
