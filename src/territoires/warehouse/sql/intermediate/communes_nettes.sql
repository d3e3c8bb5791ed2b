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
-- The embedded outlines are older than the embedded commune list (COG 2025): a commune
-- nouvelle created since has the outline of its chef-lieu alone, and the list makes its
-- other members communes déléguées without an outline of their own (Saint-Launeuc in
-- Merdrignac; Pierrefitte-sur-Seine in Saint-Denis). Their land is then a hole
-- among the embedded outlines, white on every map. Such a hole joins the commune nouvelle
-- when it borders it (within 50 m: the embedded outlines are not a clean coverage) and no
-- other commune nouvelle lacking a part: `zone_ajoutee_km2` says how much was added;
-- `deleguees_sans_contour` names the communes déléguées concerned, completed or not
-- (marts.ecarts_sources lists them). The neighbourhood searched is every embedded outline
-- within about 10 km, whatever the scope, so that a commune is drawn the same in every
-- build. A hole bordering no such commune stays one (Llívia, Spain's enclave in the
-- Pyrénées-Orientales). A commune nouvelle with no outline at all but whose communes
-- déléguées all have one is drawn as their union (`deleguees_unies` names them). Fetched
-- outlines, when used, are current: nothing is added to them.
-- materialisation: cache
-- unique: code
-- not_null: code, geometrie_nette
with perimetre as (select code, code_region from intermediate.perimetre_communes),
-- (what has an outline is known without parsing it: the outlines parsed are those of the
-- scope, of the communes nouvelles concerned and, when the scope holds one, of its neighbours)
avec_contour as (select code from staging.contours_embarques where type = 'COM' and a_contour),
-- a commune nouvelle without any outline whose communes déléguées all have one (Orée d'Anjou,
-- Conques-en-Rouergue): the union of theirs
unies as materialized (
    select d.code_parent as code, ST_Union_Agg(g.geometrie) as geometrie,
           string_agg(d.nom, ', ' order by strip_accents(lower(d.nom))) as deleguees_unies
    from staging.communes d
    left join staging.contours_embarques g on g.code = d.code and g.type = 'COMD' and g.a_contour
    where d.type = 'COMD' and d.code_parent not in (select code from avec_contour)
      and d.code_parent in (select code from staging.communes where type = 'COM')
    group by d.code_parent
    having count(*) = count(g.geometrie)
),
toutes_embarquees as (
    select code, geometrie from staging.contours_embarques where type = 'COM' and a_contour
    union all
    select code, geometrie from unies
),
-- the communes déléguées (not the chef-lieu, which shares its commune's code) without an
-- outline, by commune nouvelle: all of France's (about 40), so that a hole two of them border
-- is seen as such whatever the scope
incompletes as materialized (
    select d.code_parent as code, any_value(e.geometrie) as geometrie,
           string_agg(d.nom, ', ' order by strip_accents(lower(d.nom))) as deleguees_sans_contour
    from staging.communes d
    join toutes_embarquees e on e.code = d.code_parent
    where d.type = 'COMD' and d.code <> d.code_parent
      and not exists (select 1 from staging.contours_embarques g
                      where g.code = d.code and g.type = 'COMD' and g.a_contour)
    group by d.code_parent
),
-- the neighbourhood of those of the scope: every embedded outline within about 10 km
voisinages as (
    select i.code, any_value(i.geometrie) as geometrie, ST_Union_Agg(e.geometrie) as union_voisins
    from incompletes i
    join toutes_embarquees e
      on ST_Intersects(ST_Envelope(e.geometrie), ST_Buffer(ST_Envelope(i.geometrie), 0.1))
    where i.code in (select code from perimetre)
    group by i.code
),
-- the holes of each neighbourhood's union that border its commune (over 0.05 km²: the
-- slivers between outlines that do not quite meet are left to the cleaning below)
trous as (
    select v.code, t.trou
    from voisinages v,
         lateral (select ST_MakePolygon(ST_InteriorRingN(d.part.geom, r.n)) as trou
                  from (select unnest(ST_Dump(v.union_voisins)) as part) d,
                       range(1, ST_NumInteriorRings(d.part.geom) + 1) r(n)) t
    where ST_Area_Spheroid(ST_FlipCoordinates(t.trou)) > 50000
      and ST_DWithin(t.trou, v.geometrie, 0.0005)
),
-- the communes without any outline that have a town hall's location: a hole holding it is theirs
mairies_sans_contour as materialized (
    select mairie_localisation from staging.communes
    where type = 'COM' and mairie_localisation is not null
      and code not in (select code from avec_contour) and code not in (select code from unies)
),
ajouts as (
    select t.code, ST_Union_Agg(t.trou) as zone, sum(ST_Area_Spheroid(ST_FlipCoordinates(t.trou))) / 1e6 as km2
    from trous t
    -- a hole bordering another commune nouvelle lacking a part is not said to be this one's
    where not exists (select 1 from incompletes i where i.code <> t.code and ST_DWithin(t.trou, i.geometrie, 0.0005))
      and not exists (select 1 from mairies_sans_contour m where ST_Intersects(m.mairie_localisation, t.trou))
    group by t.code
),
embarquees as (
    select e.code, case when a.zone is null then e.geometrie else ST_Union(e.geometrie, a.zone) end as geometrie,
           i.deleguees_sans_contour, a.km2 as zone_ajoutee_km2, u.deleguees_unies
    from toutes_embarquees e
    join perimetre p using (code)
    left join incompletes i using (code)
    left join ajouts a using (code)
    left join unies u using (code)
),
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
        case when k.geometrie is null then e.deleguees_sans_contour end as deleguees_sans_contour,
        case when k.geometrie is null then e.zone_ajoutee_km2 end as zone_ajoutee_km2,
        case when k.geometrie is null then e.deleguees_unies end as deleguees_unies,
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
nettes as (
    select p.code, ST_Multi(ST_Collect(list(parts.part.geom order by parts.part.path))) as geometrie_nette
    from parts
    join positions p on p.bloc = parts.bloc and p.i = parts.part.path[1]
    group by p.code
),
final as (
    select n.code, n.geometrie_nette, c.deleguees_sans_contour, c.zone_ajoutee_km2, c.deleguees_unies
    from nettes n join communes c using (code)
)
select * from final
