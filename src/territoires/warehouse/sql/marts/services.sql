-- The common service taxonomy (territoires/members/services.csv) with, per service, how
-- many members of each operator use it; and the operators' own names mapped to it.
-- unique: service
-- not_null: service, libelle, famille, origine, nb_adherents
with services as (select * from raw.services),
correspondances as (select * from raw.services_correspondances),
usage as (
    select service, count(*) as nb_adherents, list(distinct operateur order by operateur) as operateurs
    from intermediate.abonnements where connu group by service
),
noms as (
    select service, list(operateur || ' : ' || nom_source order by operateur, nom_source) as noms_operateurs
    from correspondances group by service
),
final as (
    select s.service, s.libelle, s.famille, s.origine,
           coalesce(u.nb_adherents, 0) as nb_adherents, coalesce(u.operateurs, []) as operateurs,
           coalesce(n.noms_operateurs, []) as noms_operateurs
    from services s
    left join usage u using (service)
    left join noms n using (service)
)
select * from final order by famille, service
