-- Every territory of every level, with attributes and its exact polygon (coverage
-- union of its communes' clean polygons). Simplification happens in the mart.
-- A commune's polygon is not copied here (null at that level): it is its clean polygon,
-- kept once in intermediate.communes_nettes, where marts.territoires takes it.
-- The communes enter each union in code order: the polygon's bytes (its rings' starting
-- points) then do not depend on how DuckDB's threads happened to share the join.
-- Seconds of geometry for all of France: kept between builds, read back when its inputs are
-- the same (warehouse/cache.py).
-- materialisation: cache
-- unique: niveau, code
-- not_null: niveau, code, nom, nb_communes
with communes as (
    select pc.*, n.geometrie_nette
    from intermediate.perimetre_communes pc
    left join intermediate.communes_nettes n using (code)
),
operateurs as (select * from staging.operateurs),
operateur_departements as (
    -- an operator is in the build when its perimeter meets the scope
    select od.* from staging.operateur_departements od
    where od.code_departement in (select code_departement from raw.perimetre)
),
operateur_par_departement as (
    select code_departement, min(code_operateur) as code_operateur
    from operateur_departements group by 1
),
dans as (select * from communes where dans_perimetre),
niveau_commune as (
    select
        'commune' as niveau, c.code, c.nom, 'COM' as nature,
        c.code_epci, c.code_departement, c.code_region, o.code_operateur,
        [c.code_departement] as departements, [c.code_region] as regions, false as a_cheval,
        c.population, 1 as nb_communes, 1 as nb_communes_perimetre,
        (c.population is null)::int as nb_communes_sans_population,
        null::geometry as geometrie
    from dans c
    left join operateur_par_departement o using (code_departement)
),
epci_dep as (
    select code_epci, code_departement, code_region, sum(population) as pop
    from communes where code_epci is not null group by all
),
epci_principal as (
    select code_epci, arg_max(code_departement, pop) as code_departement,
           arg_max(code_region, pop) as code_region
    from epci_dep group by 1
),
niveau_epci as (
    select
        'epci' as niveau, e.code, e.nom, e.nature,
        e.code as code_epci, p.code_departement, p.code_region, o.code_operateur,
        list(distinct c.code_departement order by c.code_departement) as departements,
        list(distinct c.code_region order by c.code_region) as regions,
        count(distinct c.code_region) > 1 as a_cheval,
        sum(c.population) as population, count(*) as nb_communes,
        count(*) filter (where c.dans_perimetre) as nb_communes_perimetre,
        count(*) filter (where c.population is null) as nb_communes_sans_population,
        ST_CoverageUnion_Agg(c.geometrie_nette order by c.code) as geometrie
    from communes c
    join staging.epci e on e.code = c.code_epci
    join epci_principal p on p.code_epci = e.code
    left join operateur_par_departement o on o.code_departement = p.code_departement
    group by e.code, e.nom, e.nature, p.code_departement, p.code_region, o.code_operateur
),
niveau_departement as (
    select
        'departement' as niveau, d.code, d.nom, 'departement' as nature,
        null as code_epci, d.code as code_departement, d.code_region, o.code_operateur,
        [d.code] as departements, [d.code_region] as regions, false as a_cheval,
        sum(c.population) as population, count(*) as nb_communes, count(*) as nb_communes_perimetre,
        count(*) filter (where c.population is null) as nb_communes_sans_population,
        ST_CoverageUnion_Agg(c.geometrie_nette order by c.code) as geometrie
    from dans c
    join staging.departements d on d.code = c.code_departement
    left join operateur_par_departement o on o.code_departement = d.code
    group by all
),
niveau_region as (
    select
        'region' as niveau, r.code, r.nom, 'region' as nature,
        null as code_epci, null as code_departement, r.code as code_region,
        (select min(code) from operateurs where code_region = r.code) as code_operateur,
        list(distinct c.code_departement order by c.code_departement) as departements,
        [r.code] as regions, false as a_cheval,
        sum(c.population) as population, count(*) as nb_communes, count(*) as nb_communes_perimetre,
        count(*) filter (where c.population is null) as nb_communes_sans_population,
        ST_CoverageUnion_Agg(c.geometrie_nette order by c.code) as geometrie
    from dans c
    join staging.regions r on r.code = c.code_region
    group by r.code, r.nom
),
alliance_departements as (
    select distinct od.code_departement
    from operateur_departements od
    join operateurs o on o.code = od.code_operateur and o.alliance
),
-- operators and the alliance are groups of départements: one membership list, one aggregate
groupes as (
    select 'operateur' as niveau, o.code, o.nom, o.code_region, od.code_departement
    from operateur_departements od
    join operateurs o on o.code = od.code_operateur
    union all
    select 'alliance', 'alliance',
        (select 'Alliance ' || string_agg(nom, ', ' order by nom) from operateurs
          where alliance and code in (select code_operateur from operateur_departements)),
        null, code_departement
    from alliance_departements
),
niveau_groupe as (
    select
        g.niveau, g.code, any_value(g.nom) as nom, g.niveau as nature,
        null as code_epci, null as code_departement, any_value(g.code_region) as code_region,
        case when g.niveau = 'operateur' then g.code end as code_operateur,
        list(distinct c.code_departement order by c.code_departement) as departements,
        list(distinct c.code_region order by c.code_region) as regions,
        count(distinct c.code_region) > 1 as a_cheval,
        sum(c.population) as population, count(*) as nb_communes, count(*) as nb_communes_perimetre,
        count(*) filter (where c.population is null) as nb_communes_sans_population,
        ST_CoverageUnion_Agg(c.geometrie_nette order by c.code) as geometrie
    from dans c
    join groupes g on g.code_departement = c.code_departement
    group by g.niveau, g.code
),
final as (
    select * from niveau_commune
    union all by name select * from niveau_epci
    union all by name select * from niveau_departement
    union all by name select * from niveau_region
    union all by name select * from niveau_groupe
)
select * from final
