-- Commune polygons made into a clean coverage (no overlaps, no slivers) so that
-- coverage union and coverage simplification hold. The embedded polygons overlap
-- slightly in places; cleaning moves shared edges by at most a few metres.
-- The whole scope is cleaned at once so borders between regions are clean too.
-- unique: code
-- not_null: code, geometrie_nette
with communes as (
    select code, geometrie from intermediate.perimetre_communes where geometrie is not null
),
lists as (
    select list(geometrie order by code) as geoms, list(code order by code) as codes from communes
),
cleaned as (
    select ST_CoverageClean(geoms) as coverage from lists where len(codes) > 0
),
positions as (
    select unnest(codes) as code, generate_subscripts(codes, 1) as i from lists
),
parts as (
    select unnest(ST_Dump(coverage)) as part from cleaned
),
final as (
    select p.code, ST_Multi(ST_Collect(list(parts.part.geom))) as geometrie_nette
    from parts
    join positions p on p.i = parts.part.path[1]
    group by p.code
)
select * from final
