-- Commune boundaries of the fetched Etalab contours (raw.contours_communes; empty when not
-- fetched: the embedded polygons then serve), one row per commune (arrondissements and
-- overseas collectivities aside).
-- unique: code
-- not_null: code, geometrie
with source as (select * from raw.contours_communes where code is not null and geom is not null),
final as (
    select code, ST_Multi(geom) as geometrie from source
    qualify row_number() over (partition by code order by nom) = 1
)
select * from final
