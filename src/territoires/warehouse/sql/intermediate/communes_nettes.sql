-- Commune polygons made into a clean coverage (no overlaps, no slivers) so that
-- coverage union and coverage simplification hold. The embedded polygons overlap
-- slightly in places; cleaning moves shared edges by at most a few metres.
-- Cleaning runs once per land mass that shares borders: mainland France (so borders
-- between regions are clean too), Corsica, and each overseas region on its own —
-- islands share no edge with the mainland, and cleaning them apart is much faster.
-- Seconds of geometry for all of France: kept between builds, read back when its inputs are
-- the same (warehouse/cache.py).
-- The polygons are those of the communes of intermediate.perimetre_communes: Etalab's
-- fetched boundaries (staging.contours_communes) where they cover the whole scope, else
-- the embedded ones (staging.contours_embarques, a view: only these communes' are parsed).
-- A commune without a polygon has no row (the build warns, naming it); marts.ecarts_sources
-- lists the communes a fetched file lacks.
-- materialisation: cache
-- unique: code
-- not_null: code, geometrie_nette
with perimetre as (select code, code_region from intermediate.perimetre_communes),
embarquees as (select code, geometrie from staging.contours_embarques where type = 'COM'),
-- fetched boundaries replace the embedded ones only when they cover every commune of the
-- scope's départements: two sets of boundaries are never mixed (a partial file would leave
-- gaps and overlaps between neighbours)
contours as (
    select code, geometrie from staging.contours_communes
    where not exists (
        select 1 from staging.communes e
        where e.type = 'COM' and e.code_departement in (select code_departement from raw.perimetre)
          and e.code not in (select code from staging.contours_communes)
    )
),
communes as (
    select
        p.code, coalesce(k.geometrie, e.geometrie) as geometrie,
        case when p.code_region in ('01', '02', '03', '04', '06', '94') then p.code_region
             else 'metropole' end as bloc
    from perimetre p
    left join contours k using (code)
    left join embarquees e using (code)
    where coalesce(k.geometrie, e.geometrie) is not null
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
