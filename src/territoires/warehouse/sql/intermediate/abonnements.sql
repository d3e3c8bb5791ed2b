-- Subscriptions: member × service of the common taxonomy (raw.services), the earliest
-- date when a service is named twice (a joined cell and a column, or two files).
-- Names not in the taxonomy are kept as « inconnu:<name> » (connu = false) and listed by
-- `territoires adherents services --inconnus`.
-- unique: operateur, identifiant, service
-- not_null: operateur, identifiant, service, connu
with source as (select * from raw.abonnements),
adherents as (select operateur, identifiant from intermediate.adherents),
services as (select * from raw.services),
final as (
    select
        a.operateur, a.identifiant, a.service,
        min(a.date_debut) as date_debut,
        string_agg(distinct a.service_source, ' | ' order by a.service_source) as noms_source,
        any_value(s.libelle) as libelle_service, any_value(s.famille) as famille,
        any_value(s.service) is not null as connu,
        min(a.fichier || ':' || a.ligne) as premiere_mention
    from source a
    join adherents m using (operateur, identifiant)
    left join services s on s.service = a.service
    group by a.operateur, a.identifiant, a.service
)
select * from final
