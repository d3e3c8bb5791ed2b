-- Communes (type COM) of the fetched INSEE COG (raw.cog_communes; empty when not fetched).
-- unique: code
-- not_null: code, nom, code_departement
with source as (
    select * from raw.cog_communes where typecom = 'COM'
),
final as (
    select com as code, libelle as nom, dep as code_departement, reg as code_region from source
)
select * from final
