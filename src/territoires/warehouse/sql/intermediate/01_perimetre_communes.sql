-- Communes (type COM) of the build scope, plus the members outside it of every EPCI
-- that has at least one commune inside: an EPCI keeps all its member communes.
-- unique: code
-- not_null: code, nom, code_departement, code_region, dans_perimetre
-- population may be null: the embedded file has none for 18 communes (Mayotte, and
-- Hauts-Talican created after the population vintage); it is never replaced by 0.
with communes as (
    select * from staging.communes where type = 'COM'
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
        code, nom, population, code_epci, code_departement, code_region, geometrie,
        code_departement in (select code_departement from scope) as dans_perimetre
    from communes
    where code_departement in (select code_departement from scope)
       or code_epci in (select code_epci from epci_in_scope)
)
select * from final
