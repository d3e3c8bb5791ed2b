-- Facts about each commune of the perimeter drawn from the fetched official sources, beside
-- the declared ones of marts.presence_numerique (criteria of catalogue.toml
-- [criteres_sources]): the ANCT's own tests of the town hall's website and e-mail (DPNT,
-- RPNT criteria 1.3, 1.4, 2.2) and the commune as a public buyer in the DECP, publishing
-- through its operator's procurement platform or not (operateurs.toml decp_plateforme), and
-- its actual use of the Suite territoriale's services (ANCT deploiement), whether it
-- publishes open data on data.gouv.fr (organisations export, matched by SIREN: only where a
-- fetched reference gives the commune's SIREN and the export is fetched), and the checks of
-- its website and mail domain by the cybersecurity probe (`territoires sonde`,
-- staging.sondes: the latest check of the URL and domain its latest campaign listed).
-- OpenDataFrance's « Observatoire open data des territoires » (odf_*, staging.odf_organisations,
-- matched by the same SIREN): publishes open data somewhere by the observatory, the platform
-- it uses, publishes on data.gouv.fr by the observatory (compared with the organisations export
-- in marts.ecarts_sources), and publishes through its operator's open-data platform (the
-- host of its platform on the operator's domain, operateurs.toml plateforme_opendata; the
-- operator of its département): counted only where the operator declares a platform.
-- A buyer is the commune by intermediate.communes_acheteuses (its SIREN by a fetched
-- reference, else presumed from its place and SIREN pattern).
-- Responsible purchasing (achats_*): the commune's contracts in the DECP, current data only,
-- each counted once (staging.decp_marches, intermediate.acheteurs_publics), whatever the
-- operator's platform: buyer with at least one current contract, with at least one social /
-- environmental consideration, and the counts of contracts summed by the indicators
-- (those informing each fact, those where it holds; km to the nearest titulaire).
-- Every fact is false (0) where the source is not fetched, does not list the commune, or
-- (DECP platform) where the operator's platform is unknown; the indicators built on them are
-- catalogued only where their denominator holds somewhere (marts/indicateurs_catalogue).
-- unique: code
-- not_null: code, anct_deploiement, anct_service_actif, dpnt_commune, dpnt_https, dpnt_site_joignable, dpnt_email_non_generique, decp_acheteur, decp_acheteur_plateforme, decp_marches, decp_marches_plateforme, opendata_rapprochable, opendata_organisation, opendata_publie, opendata_jeux, odf_rapprochable, odf_publie, odf_publie_datagouv, odf_operateur_rapprochable, odf_plateforme_operateur, sonde_site, sonde_https_valide, sonde_redirection_https, sonde_hsts, sonde_mail, sonde_mx, sonde_spf, sonde_dmarc_protege, sonde_dnssec, sonde_mx_etranger, achats_acheteur, achats_clause_sociale, achats_clause_environnementale, achats_marches_sociaux_renseignes, achats_marches_sociaux, achats_marches_environnementaux_renseignes, achats_marches_environnementaux, achats_marches_innovation_renseignee, achats_marches_innovants, achats_marches_distance, achats_distance_km, achats_marches_pme_renseignes, achats_marches_pme
with communes as (select code, code_departement from intermediate.perimetre_communes),
dpnt as (select * from staging.dpnt_communes),
sirens as (select siren, code from staging.communes_siren),
-- every buyer that is a commune (intermediate.communes_acheteuses); the platform facts only
-- where its operator's platform is known
acheteurs as (
    select ca.code, a.*, a.decp_plateforme is not null as plateforme_connue
    from intermediate.communes_acheteuses ca
    join intermediate.acheteurs_publics a using (acheteur_siret)
),
-- open data (intermediate.donnees_ouvertes) by the commune's SIREN from a fetched reference,
-- counted only where that source is fetched
siren_commune as (select code, min(siren) as siren from sirens group by code),
ouvertes as (
    select s.code, o.*
    from siren_commune s
    join intermediate.donnees_ouvertes o using (siren)
),
opendata_charge as (select count(*) > 0 as oui from staging.datagouv_organisations),
-- the observatory, and the open-data platform of the operator of each département
odf_charge as (select count(*) > 0 as oui from staging.odf_organisations),
plateformes_opendata as (
    select od.code_departement, min(o.plateforme_opendata) as plateforme_opendata
    from staging.operateur_departements od
    join staging.operateurs o on o.code = od.code_operateur
    group by od.code_departement
),
-- the probe's checks of each commune (intermediate.sondes_faits)
sonde_communes as (select identifiant as code, * exclude (identifiant) from intermediate.sondes_faits
                   where genre = 'commune'),
par_commune as (
    select code,
           sum(nb_marches) filter (where plateforme_connue)::bigint as marches,
           sum(nb_marches_plateforme) filter (where plateforme_connue)::bigint as marches_plateforme,
           {{ sommes_achats }}
    from acheteurs
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
        coalesce(a.marches_plateforme, 0) as decp_marches_plateforme,
        {{ faits_achats }},
        {{ faits_ouverts_sonde(siren_connu = sc.code is not null, plateforme = po.plateforme_opendata) }}
    from communes c
    left join dpnt d using (code)
    left join par_commune a using (code)
    left join sonde_communes s using (code)
    left join staging.anct_deploiement u using (code)
    left join siren_commune sc using (code)
    left join ouvertes o using (code)
    left join plateformes_opendata po on po.code_departement = c.code_departement
)
select * from final
