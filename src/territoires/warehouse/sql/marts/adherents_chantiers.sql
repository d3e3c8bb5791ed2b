-- The alliance's domains measured for the members that are not communes (EPCI, syndicats,
-- départements, CCAS, hospitals…: marts.adherents but the member communes, counted in
-- intermediate.faits_sources), one row per operator × member. The facts are named as the
-- criteria of intermediate.faits_sources, so the catalogue's indicators read both:
-- open data by the member's SIREN (intermediate.donnees_ouvertes: data.gouv.fr's export,
-- whose business_number_id is a SIRET, and the observatory): publishes, datasets, last
-- update, and publishes through its own operator's open-data platform; the probe's checks
-- of its website and mail domain (intermediate.sondes_faits, genre adherent).
-- A fact is false (0) where its source is not fetched, the member has no SIREN, or the
-- probe did not check it; `*_rapprochable`, `sonde_site`, `sonde_mail` say where it is measured.
-- Empty when no register is loaded.
-- unique: operateur, identifiant
-- not_null: operateur, identifiant, nom, type, opendata_rapprochable, opendata_organisation, opendata_publie, opendata_jeux, odf_rapprochable, odf_publie, odf_publie_datagouv, odf_operateur_rapprochable, odf_plateforme_operateur, sonde_site, sonde_https_valide, sonde_redirection_https, sonde_hsts, sonde_mail, sonde_mx, sonde_spf, sonde_dmarc_protege, sonde_dnssec, sonde_mx_etranger
with adherents as (select * from marts.adherents where not coalesce(commune_adherente, false)),
ouvertes as (select * from intermediate.donnees_ouvertes),
opendata_charge as (select count(*) > 0 as oui from staging.datagouv_organisations),
odf_charge as (select count(*) > 0 as oui from staging.odf_organisations),
operateurs as (select code, plateforme_opendata from staging.operateurs),
sondes as (select * from intermediate.sondes_faits where genre = 'adherent'),
final as (
    select
        a.operateur, a.nom_operateur, a.identifiant, a.siret, a.siren, a.nom, a.type, a.type_libelle,
        a.niveau_territoire, a.code_territoire, a.code_commune, a.nom_commune,
        (a.siren is not null and (select oui from opendata_charge)) as opendata_rapprochable,
        coalesce(o.opendata_organisation, false) as opendata_organisation,
        coalesce(o.opendata_publie, false) as opendata_publie,
        coalesce(o.opendata_jeux, 0) as opendata_jeux,
        o.opendata_modifie_le,
        o.opendata_url,
        (a.siren is not null and (select oui from odf_charge)) as odf_rapprochable,
        coalesce(o.odf_publie, false) as odf_publie,
        coalesce(o.odf_publie_datagouv, false) as odf_publie_datagouv,
        o.odf_plateforme,
        (a.siren is not null and (select oui from odf_charge) and p.plateforme_opendata is not null)
            as odf_operateur_rapprochable,
        coalesce(o.odf_plateforme_opendata = p.plateforme_opendata, false) as odf_plateforme_operateur,
        coalesce(s.sonde_site, false) as sonde_site,
        coalesce(s.sonde_https_valide, false) as sonde_https_valide,
        coalesce(s.sonde_redirection_https, false) as sonde_redirection_https,
        coalesce(s.sonde_hsts, false) as sonde_hsts,
        coalesce(s.sonde_mail, false) as sonde_mail,
        coalesce(s.sonde_mx, false) as sonde_mx,
        coalesce(s.sonde_spf, false) as sonde_spf,
        coalesce(s.sonde_dmarc_protege, false) as sonde_dmarc_protege,
        coalesce(s.sonde_dnssec, false) as sonde_dnssec,
        coalesce(s.sonde_mx_etranger, false) as sonde_mx_etranger
    from adherents a
    left join ouvertes o using (siren)
    left join operateurs p on p.code = a.operateur
    left join sondes s on s.operateur_cle = a.operateur and s.identifiant = a.identifiant
)
select * from final order by operateur, nom, identifiant
