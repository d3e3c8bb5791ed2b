-- Commune polygons made into a clean coverage (no overlaps, no slivers) so that
-- coverage union and coverage simplification hold. The embedded polygons overlap
-- slightly in places; cleaning moves shared edges by at most a few metres.
-- Cleaning runs once per land mass that shares borders: mainland France (so borders
-- between regions are clean too), Corsica, and each overseas region on its own —
-- islands share no edge with the mainland, and cleaning them apart is much faster.
-- Seconds of geometry for all of France: kept between builds, read back when its inputs are
-- the same (warehouse/cache.py).
-- materialisation: cache
-- unique: code
-- not_null: code, geometrie_nette
with communes as (
    select
        code, geometrie,
        case when code_region in ('01', '02', '03', '04', '06', '94') then code_region
             else 'metropole' end as bloc
    from intermediate.perimetre_communes
    where geometrie is not null
),
lists as (
    select bloc, list(geometrie order by code) as geoms, list(code order by code) as codes
    from communes group by bloc
),
cleaned as (
    select bloc, ST_CoverageClean(geoms) as coverage from lists
),
positions as (
    select bloc, unnest(codes) as code, generate_subscripts(codes, 1) as i from lists
),
parts as (
    select bloc, unnest(ST_Dump(coverage)) as part from cleaned
),
final as (
    select p.code, ST_Multi(ST_Collect(list(parts.part.geom order by parts.part.path))) as geometrie_nette
    from parts
    join positions p on p.bloc = parts.bloc and p.i = parts.part.path[1]
    group by p.code
)
select * from final
