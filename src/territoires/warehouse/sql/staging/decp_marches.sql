-- Contracts of the fetched DECP (raw.decp_marches, read for the buyers of the build's scope
-- only; empty when not fetched), one row per contract: its key (uid, else buyer SIRET + id),
-- its buyer, and EVERY dataset one of its rows came from (sourceDataset, sorted).
-- The consolidated file keeps one copy of a contract published by several sources, per
-- titulaire row, chosen arbitrarily (decp-processing, unique(…, maintain_order=False)): a
-- contract is therefore counted once here, whatever its rows, and nothing depends on the
-- order of the rows (no first row, no any_value).
-- unique: marche
-- not_null: marche, acheteur_siret, acheteur_siren, sources
with source as (
    select * from raw.decp_marches where acheteur_siret is not null and source_dataset is not null
),
final as (
    select
        coalesce(uid, acheteur_siret || id_marche) as marche,
        acheteur_siret, left(acheteur_siret, 9) as acheteur_siren,
        min(acheteur_nom) as acheteur_nom,
        min(acheteur_commune_code) as acheteur_commune_code,
        min(acheteur_departement_code) as acheteur_departement_code,
        list_sort(list_distinct(list(source_dataset))) as sources,
        min(date_notification) as date_notification
    from source
    where coalesce(uid, id_marche) is not null
    group by all
)
select * from final
