-- The member registers loaded, per operator and file: sha256 of the original bytes, import
-- date, lines accepted (a member, or a subscription of a subscriptions file) and rejected
-- (marts.adherents_rejets): lues = acceptees + rejetees. `erreur_fichier`: the file could not
-- be read at all (its reason is in marts.adherents_rejets). An alliance operator without a
-- row here has no register loaded: pages say so, never 0 %.
-- unique: operateur, fichier
-- not_null: operateur, fichier, sha256, lues, acceptees, rejetees, erreur_fichier
with source as (select * from raw.registres),
acceptees as (
    select fichier, count(distinct ligne) as n from (
        select fichier, ligne from raw.adherents
        union all select fichier, ligne from raw.abonnements
    ) group by fichier
),
rejets as (
    select fichier,
           count(distinct ligne) filter (where niveau = 'rejet') as n,
           count(*) filter (where niveau = 'erreur') > 0 as erreur
    from raw.adherents_rejets group by fichier
),
final as (
    select r.operateur, o.nom as nom_operateur, r.fichier, r.sha256, r.importe_le,
           coalesce(a.n, 0) + coalesce(j.n, 0) as lues,
           coalesce(a.n, 0) as acceptees, coalesce(j.n, 0) as rejetees,
           coalesce(j.erreur, false) as erreur_fichier
    from source r
    left join staging.operateurs o on o.code = r.operateur
    left join acceptees a on a.fichier = r.fichier
    left join rejets j on j.fichier = r.fichier
)
select * from final order by operateur, fichier
