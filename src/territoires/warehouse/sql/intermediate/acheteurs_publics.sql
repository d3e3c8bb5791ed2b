-- Public buyers of the DECP fetched for the scope (every kind: communes, EPCI, hospitals,
-- social landlords…), one row per buyer SIRET: its contracts, those published through the
-- procurement platform of the operator of its département (operateurs.toml
-- decp_plateforme; null: platform unknown), since when. Empty when the DECP are not fetched.
-- unique: acheteur_siret
-- not_null: acheteur_siret, acheteur_siren, nb_marches, nb_marches_plateforme, par_plateforme
with acheteurs as (select * from staging.decp_acheteurs),
plateformes as (
    select od.code_departement, min(od.code_operateur) as code_operateur, min(o.decp_plateforme) as decp_plateforme
    from staging.operateur_departements od
    join staging.operateurs o on o.code = od.code_operateur
    group by od.code_departement
),
final as (
    select
        a.acheteur_siret,
        any_value(a.acheteur_siren) as acheteur_siren,
        any_value(a.acheteur_nom) as acheteur_nom,
        any_value(a.acheteur_commune_code) as acheteur_commune_code,
        any_value(a.acheteur_departement_code) as acheteur_departement_code,
        p.code_operateur, p.decp_plateforme,
        sum(a.nb_marches)::bigint as nb_marches,
        coalesce(sum(a.nb_marches) filter (where a.source_dataset = p.decp_plateforme), 0)::bigint
            as nb_marches_plateforme,
        coalesce(sum(a.nb_marches) filter (where a.source_dataset = p.decp_plateforme), 0) > 0 as par_plateforme,
        min(a.premiere_notification) as premiere_notification,
        max(a.derniere_notification) as derniere_notification
    from acheteurs a
    left join plateformes p on p.code_departement = a.acheteur_departement_code
    group by a.acheteur_siret, p.code_operateur, p.decp_plateforme
)
select * from final
