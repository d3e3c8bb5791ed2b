-- Public buyers of the fetched DECP (raw.decp_marches, read for the buyers of the build's
-- scope only; empty when not fetched), one row per buyer SIRET and dataset the contracts
-- came from (sourceDataset: the operator's platform, or another publisher).
-- unique: acheteur_siret, source_dataset
-- not_null: acheteur_siret, source_dataset, nb_marches
with source as (
    select * from raw.decp_marches where acheteur_siret is not null and source_dataset is not null
),
final as (
    select
        acheteur_siret, left(acheteur_siret, 9) as acheteur_siren,
        any_value(acheteur_nom) as acheteur_nom,
        any_value(acheteur_commune_code) as acheteur_commune_code,
        any_value(acheteur_departement_code) as acheteur_departement_code,
        source_dataset,
        count(distinct uid)::bigint as nb_marches,
        min(date_notification) as premiere_notification,
        max(date_notification) as derniere_notification
    from source
    group by acheteur_siret, source_dataset
)
select * from final
