-- The alliance's domains measured for the members that are not communes (EPCI, syndicats,
-- départements, CCAS, hospitals…: marts.adherents but the member communes, counted in
-- intermediate.faits_sources), one row per operator × member. The facts are named as the
-- criteria of intermediate.faits_sources, so the catalogue's indicators read both:
-- open data by the member's SIREN (intermediate.donnees_ouvertes: data.gouv.fr's export,
-- whose business_number_id is a SIRET, and the observatory): publishes, datasets, last
-- update, and publishes through its own operator's open-data platform; the probe's checks
-- of its website and mail domain (intermediate.sondes_faits, genre adherent); its purchases
-- in the DECP (achats_*: the contracts of every buyer SIRET of its SIREN, as a commune's).
-- A fact is false (0) where its source is not fetched, the member has no SIREN, or the
-- probe did not check it; `*_rapprochable`, `sonde_site`, `sonde_mail` say where it is measured.
-- Empty when no register is loaded.
-- unique: operateur, identifiant
-- not_null: operateur, identifiant, nom, type, opendata_rapprochable, opendata_organisation, opendata_publie, opendata_jeux, odf_rapprochable, odf_publie, odf_publie_datagouv, odf_operateur_rapprochable, odf_plateforme_operateur, sonde_site, sonde_https_valide, sonde_redirection_https, sonde_hsts, sonde_mail, sonde_mx, sonde_spf, sonde_dmarc_protege, sonde_dnssec, sonde_mx_etranger, achats_acheteur, achats_clause_sociale, achats_clause_environnementale, achats_marches_sociaux_renseignes, achats_marches_sociaux
with adherents as (select * from marts.adherents where not coalesce(commune_adherente, false)),
ouvertes as (select * from intermediate.donnees_ouvertes),
opendata_charge as (select count(*) > 0 as oui from staging.datagouv_organisations),
odf_charge as (select count(*) > 0 as oui from staging.odf_organisations),
operateurs as (select code, plateforme_opendata from staging.operateurs),
sondes as (select * from intermediate.sondes_faits where genre = 'adherent'),
-- its contracts in the DECP (current data, each once): every buyer SIRET of its SIREN
achats as (
    select acheteur_siren as siren,
           {{ sommes_achats }}
    from intermediate.acheteurs_publics
    group by acheteur_siren
),
final as (
    select
        m.operateur, m.nom_operateur, m.identifiant, m.siret, m.siren, m.nom, m.type, m.type_libelle,
        m.niveau_territoire, m.code_territoire, m.code_commune, m.nom_commune,
        o.opendata_url,
        {{ faits_ouverts_sonde(siren_connu = m.siren is not null, plateforme = p.plateforme_opendata) }},
        {{ faits_achats }}
    from adherents m
    left join ouvertes o using (siren)
    left join operateurs p on p.code = m.operateur
    left join sondes s on s.operateur_cle = m.operateur and s.identifiant = m.identifiant
    left join achats a using (siren)
)
select * from final order by operateur, nom, identifiant
