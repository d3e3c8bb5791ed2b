-- Subscriptions, member × service of the common taxonomy, with the territory of the
-- member: what an operator's field team filters on.
-- unique: operateur, identifiant, service
-- not_null: operateur, identifiant, service, connu
with abonnements as (select * from intermediate.abonnements),
adherents as (select * from intermediate.adherents),
final as (
    select
        b.operateur, b.identifiant, a.nom, a.type, b.service, b.libelle_service, b.famille, b.connu,
        b.date_debut, b.noms_source, a.code_commune, a.code_epci, a.code_departement, a.code_region,
        b.premiere_mention
    from abonnements b
    join adherents a using (operateur, identifiant)
)
select * from final order by operateur, service, identifiant
