-- Contracts of the fetched DECP (raw.decp_marches, read for the buyers of the build's scope
-- only; empty when not fetched), one row per contract: its key (uid, else buyer SIRET + id),
-- its buyer, and EVERY dataset one of its rows came from (sourceDataset, sorted).
-- The consolidated file keeps one copy of a contract published by several sources, per
-- titulaire row, chosen arbitrarily (decp-processing, unique(…, maintain_order=False)): a
-- contract is therefore counted once here, whatever its rows, and nothing depends on the
-- order of the rows (no first row, no any_value).
-- Responsible purchasing, from the contract's CURRENT data only (rows with donneesActuelles
-- true: its latest modification; a file without that column counts every row), over all
-- its titulaire rows: `actuel` whether it has such rows; each fact null when no current row
-- informs it (the field is absent or empty), else
--   clause_sociale / clause_environnementale: some row lists a consideration (the value,
--     decp-processing's list joined by ", ", is neither « Sans objet » nor a « Pas de
--     considération … »);
--   innovant: some row says marcheInnovant true;
--   distance_km: the distance to its NEAREST titulaire (titulaire_distance, whole km);
--   pme: some titulaire is an SME (titulaire_categorie 'PME', SIRENE), known when the
--     category of at least one titulaire is.
-- unique: marche
-- not_null: marche, acheteur_siret, acheteur_siren, sources, actuel
with source as (
    select
        * exclude (considerations_sociales, considerations_environnementales),
        coalesce(donnees_actuelles, true) as ligne_actuelle,
        nullif(trim(considerations_sociales), '') as considerations_sociales,
        nullif(trim(considerations_environnementales), '') as considerations_environnementales
    from raw.decp_marches where acheteur_siret is not null and source_dataset is not null
),
final as (
    select
        coalesce(uid, acheteur_siret || id_marche) as marche,
        acheteur_siret, left(acheteur_siret, 9) as acheteur_siren,
        min(acheteur_nom) as acheteur_nom,
        min(acheteur_commune_code) as acheteur_commune_code,
        min(acheteur_departement_code) as acheteur_departement_code,
        list_sort(list_distinct(list(source_dataset))) as sources,
        min(date_notification) as date_notification,
        bool_or(ligne_actuelle) as actuel,
        bool_or(considerations_sociales not in ('Sans objet', 'Pas de considération sociale'))
            filter (where ligne_actuelle) as clause_sociale,
        bool_or(considerations_environnementales not in ('Sans objet', 'Pas de considération environnementale'))
            filter (where ligne_actuelle) as clause_environnementale,
        bool_or(marche_innovant) filter (where ligne_actuelle) as innovant,
        min(titulaire_distance) filter (where ligne_actuelle) as distance_km,
        bool_or(titulaire_categorie = 'PME') filter (where ligne_actuelle) as pme
    from source
    where coalesce(uid, id_marche) is not null
    group by all
)
select * from final
