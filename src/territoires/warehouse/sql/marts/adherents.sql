-- The operators' members, one row per operator × member: identifiers, name, type (one
-- list: raw.types_entites), territory it is attached to and how (statut_rattachement:
-- insee, siren_epci, siren_reference, siren_presume, non_rattache), membership date, the
-- file and line it comes from, the number of services of the taxonomy it uses.
-- Unattached members are kept and counted, never dropped.
-- unique: operateur, identifiant
-- not_null: operateur, identifiant, nom, type, statut_rattachement, fichier, ligne, nb_services
with adherents as (select * from intermediate.adherents),
operateurs as (select code, nom from staging.operateurs),
services as (
    select operateur, identifiant, count(*) filter (where connu) as nb_services,
           list(service order by service) filter (where connu) as services,
           list(service order by service) filter (where not connu) as services_inconnus
    from intermediate.abonnements group by all
),
communes as (select code, nom, population from staging.communes where type = 'COM'),
final as (
    select
        a.operateur, o.nom as nom_operateur, a.identifiant, a.siret, a.siren, a.nom,
        a.type, a.type_libelle, a.type_source, a.date_adhesion,
        a.statut_rattachement, a.niveau_territoire, a.code_territoire,
        a.code_commune, c.nom as nom_commune, a.code_epci, a.code_departement, a.code_region,
        a.commune_adherente, a.epci_adherent,
        case when a.commune_adherente then c.population end as population,
        coalesce(s.nb_services, 0)::integer as nb_services,
        coalesce(s.services, []) as services,
        coalesce(s.services_inconnus, []) as services_inconnus,
        a.fichier, a.ligne, a.sha256, a.fichiers
    from adherents a
    left join operateurs o on o.code = a.operateur
    left join services s using (operateur, identifiant)
    left join communes c on c.code = a.code_commune
)
select * from final order by operateur, nom, identifiant
