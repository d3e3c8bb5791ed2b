-- Facts about each commune of the perimeter drawn from the fetched official sources, beside
-- the declared ones of marts.presence_numerique (criteria of catalogue.toml
-- [criteres_sources]): the ANCT's own tests of the town hall's website and e-mail (DPNT,
-- RPNT criteria 1.3, 1.4, 2.2) and the commune as a public buyer in the DECP, publishing
-- through its operator's procurement platform or not (operateurs.toml decp_plateforme), and
-- its actual use of the Suite territoriale's services (ANCT deploiement).
-- A buyer is the commune when its SIREN is the commune's by a fetched reference (BANATIC,
-- DPNT, DILA); without one, a buyer located in the commune whose SIREN follows the
-- communes' pattern (21 + département…) is presumed to be it.
-- Every fact is false where the source is not fetched, does not list the commune, or (DECP)
-- where the operator's platform is unknown; the indicators built on them are catalogued
-- only where their denominator holds somewhere (marts/indicateurs_catalogue).
-- unique: code
-- not_null: code, anct_deploiement, anct_service_actif, dpnt_commune, dpnt_https, dpnt_site_joignable, dpnt_email_non_generique, decp_acheteur, decp_acheteur_plateforme, decp_marches, decp_marches_plateforme
with communes as (select code, code_departement from intermediate.perimetre_communes),
dpnt as (select * from staging.dpnt_communes),
sirens as (
    select distinct siren, code from (
        select siren, code from staging.banatic_perimetre
        union all select siren, code from staging.dpnt_communes
        union all select siren, code from staging.annuaire_mairies
    ) where siren is not null
),
-- buyers whose operator's platform is known (intermediate.acheteurs_publics)
acheteurs as (select * from intermediate.acheteurs_publics where decp_plateforme is not null),
par_siren as (
    select s.code, a.nb_marches, a.nb_marches_plateforme
    from sirens s join acheteurs a on a.acheteur_siren = s.siren
),
presumes as (
    select c.code, a.nb_marches, a.nb_marches_plateforme
    from communes c
    join acheteurs a on a.acheteur_commune_code = c.code and starts_with(a.acheteur_siren, '21' || left(c.code, 2))
    where c.code not in (select code from sirens)
),
par_commune as (
    select code, sum(nb_marches)::bigint as marches, sum(nb_marches_plateforme)::bigint as marches_plateforme
    from (select * from par_siren union all select * from presumes)
    group by code
),
final as (
    select
        c.code,
        u.code is not null as anct_deploiement,
        coalesce(u.nb_services_actifs > 0, false) as anct_service_actif,
        d.code is not null as dpnt_commune,
        coalesce(d.https_verifie, false) as dpnt_https,
        coalesce(d.site_joignable, false) as dpnt_site_joignable,
        coalesce(d.email_non_generique_verifie, false) as dpnt_email_non_generique,
        coalesce(a.marches > 0, false) as decp_acheteur,
        coalesce(a.marches_plateforme > 0, false) as decp_acheteur_plateforme,
        coalesce(a.marches, 0) as decp_marches,
        coalesce(a.marches_plateforme, 0) as decp_marches_plateforme
    from communes c
    left join dpnt d using (code)
    left join par_commune a using (code)
    left join staging.anct_deploiement u using (code)
)
select * from final
