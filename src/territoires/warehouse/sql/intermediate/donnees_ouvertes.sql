-- Open data published by each organisation known by its SIREN, from data.gouv.fr's
-- organisations export (staging.datagouv_organisations: `business_number_id` is a SIRET,
-- its first 9 digits the SIREN) and OpenDataFrance's observatory (staging.odf_organisations),
-- one row per SIREN either lists; empty when neither is fetched. Read by
-- intermediate.faits_sources (communes) and marts.adherents_chantiers (the other members),
-- which add whether each source is fetched and the SIREN known.
-- odf_plateforme_opendata: the operator-declared open-data platform (operateurs.toml
-- plateforme_opendata, a domain) the observatory's platform is on (same host or a
-- sub-domain), where it publishes; null otherwise.
-- unique: siren
-- not_null: siren, opendata_organisation, opendata_publie, opendata_jeux, odf_publie, odf_publie_datagouv
with datagouv as (select * from staging.datagouv_organisations),
odf as (select * from staging.odf_organisations),
plateformes as (select plateforme_opendata from staging.operateurs where plateforme_opendata is not null),
chez_operateur as (
    select o.siren, min(p.plateforme_opendata) as plateforme_opendata
    from odf o
    join plateformes p on o.hote_plateforme = p.plateforme_opendata
                          or ends_with(o.hote_plateforme, '.' || p.plateforme_opendata)
    where o.publie
    group by o.siren
),
sirens as (select siren from datagouv union select siren from odf),
final as (
    select
        s.siren,
        d.siren is not null as opendata_organisation,
        coalesce(d.jeux > 0, false) as opendata_publie,
        coalesce(d.jeux, 0)::bigint as opendata_jeux,
        d.modifie_le as opendata_modifie_le,
        d.url as opendata_url,
        coalesce(o.publie, false) as odf_publie,
        coalesce(o.publie_datagouv, false) as odf_publie_datagouv,
        o.plateforme as odf_plateforme,
        c.plateforme_opendata as odf_plateforme_opendata
    from sirens s
    left join datagouv d using (siren)
    left join odf o using (siren)
    left join chez_operateur c using (siren)
)
select * from final
