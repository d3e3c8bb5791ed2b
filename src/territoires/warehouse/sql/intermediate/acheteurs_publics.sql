-- Public buyers of the DECP fetched for the scope (every kind: communes, EPCI, hospitals,
-- social landlords…), one row per buyer SIRET: its contracts, those published through the
-- procurement platform of the operator of its département (operateurs.toml
-- decp_plateforme; null: platform unknown), since when. Empty when the DECP are not fetched.
-- Rule (staging.decp_marches): a contract is counted once; it is published through the
-- platform when ANY of its rows in the consolidated file comes from the platform's dataset.
-- Responsible purchasing (staging.decp_marches: current data of each contract, counted once):
-- nb_marches_actuels, and for each fact the contracts that inform it (…_renseignes) and
-- those where it holds; the distance to the nearest titulaire summed, averaged and its
-- median over the contracts that give it (km).
-- unique: acheteur_siret
-- not_null: acheteur_siret, acheteur_siren, nb_marches, nb_marches_plateforme, par_plateforme, nb_marches_actuels, nb_sociaux_renseignes, nb_sociaux, nb_environnementaux_renseignes, nb_environnementaux, nb_innovation_renseignee, nb_innovants, nb_distance_renseignee, distance_totale_km, nb_pme_renseignes, nb_pme
with marches as (select * from staging.decp_marches),
plateformes as (
    select od.code_departement, min(od.code_operateur) as code_operateur, min(o.decp_plateforme) as decp_plateforme
    from staging.operateur_departements od
    join staging.operateurs o on o.code = od.code_operateur
    group by od.code_departement
),
acheteurs as (
    select acheteur_siret, min(acheteur_siren) as acheteur_siren, min(acheteur_nom) as acheteur_nom,
           min(acheteur_commune_code) as acheteur_commune_code,
           min(acheteur_departement_code) as acheteur_departement_code
    from marches group by acheteur_siret
),
final as (
    select
        a.acheteur_siret, a.acheteur_siren, a.acheteur_nom, a.acheteur_commune_code, a.acheteur_departement_code,
        p.code_operateur, p.decp_plateforme,
        count(*)::bigint as nb_marches,
        count(*) filter (where list_contains(m.sources, p.decp_plateforme))::bigint as nb_marches_plateforme,
        count(*) filter (where list_contains(m.sources, p.decp_plateforme)) > 0 as par_plateforme,
        min(m.date_notification) as premiere_notification,
        max(m.date_notification) as derniere_notification,
        count(*) filter (where m.actuel)::bigint as nb_marches_actuels,
        count(m.clause_sociale) filter (where m.actuel)::bigint as nb_sociaux_renseignes,
        count(*) filter (where m.actuel and m.clause_sociale)::bigint as nb_sociaux,
        count(m.clause_environnementale) filter (where m.actuel)::bigint as nb_environnementaux_renseignes,
        count(*) filter (where m.actuel and m.clause_environnementale)::bigint as nb_environnementaux,
        count(m.innovant) filter (where m.actuel)::bigint as nb_innovation_renseignee,
        count(*) filter (where m.actuel and m.innovant)::bigint as nb_innovants,
        count(m.distance_km) filter (where m.actuel)::bigint as nb_distance_renseignee,
        coalesce(sum(m.distance_km) filter (where m.actuel), 0)::bigint as distance_totale_km,
        avg(m.distance_km) filter (where m.actuel) as distance_moyenne_km,
        median(m.distance_km) filter (where m.actuel) as distance_mediane_km,
        count(m.pme) filter (where m.actuel)::bigint as nb_pme_renseignes,
        count(*) filter (where m.actuel and m.pme)::bigint as nb_pme
    from acheteurs a
    join marches m using (acheteur_siret)
    left join plateformes p on p.code_departement = a.acheteur_departement_code
    group by all
)
select * from final
