-- Membership facts of every commune of the perimeter towards its own operator (the
-- operator of its département): whether that operator's register gives figures, whether the
-- commune, its EPCI or its département is a member, since when, and which services of
-- the taxonomy the commune uses. Where no register of the operator is loaded, the facts
-- are null: no register is no information, never « not a member ».
-- `registre_charge` is THE decision every page and indicator reads: at least one accepted
-- member of the operator is attached to a commune of its territory (itself, or through its
-- EPCI). A register loaded but matching nothing there (a file of another operator, a
-- column misread, every line rejected) gives no figure either: the pages say « registre
-- importé le … : aucune ligne rattachée », never « 0 sur N » beside an imported register.
-- unique: code
-- not_null: code, registre_charge
with communes as (select code, code_departement, code_epci from intermediate.perimetre_communes),
operateurs as (select code_departement, min(code_operateur) as code_operateur
               from staging.operateur_departements group by 1),
adherents as (select * from intermediate.adherents),
territoire as (select c.code, c.code_epci, o.code_operateur from communes c join operateurs o using (code_departement)),
registres as (
    select distinct a.operateur from adherents a
    join territoire t on t.code = a.code_commune and t.code_operateur = a.operateur
    union
    select distinct a.operateur from adherents a
    join territoire t on t.code_epci = a.code_epci and t.code_operateur = a.operateur
),
membres as (
    select operateur, code_commune, min(date_adhesion) as date_adhesion, list(identifiant) as identifiants
    from adherents where commune_adherente group by all
),
epci_membres as (select distinct operateur, code_territoire as code_epci from adherents where epci_adherent),
dep_membres as (
    -- a département council as a member: type departement attached to its seat commune
    select distinct operateur, code_departement from adherents where type = 'departement'
),
services_communes as (
    select m.operateur, m.code_commune, list(distinct b.service order by b.service) as services
    from adherents m
    join intermediate.abonnements b using (operateur, identifiant)
    where m.commune_adherente and b.connu
    group by all
),
final as (
    select
        c.code, o.code_operateur,
        r.operateur is not null as registre_charge,
        case when r.operateur is not null then m.code_commune is not null end as adherente,
        m.date_adhesion,
        case when r.operateur is not null then e.code_epci is not null end as epci_adherent,
        case when r.operateur is not null then d.code_departement is not null end as departement_adherent,
        case when m.code_commune is not null then coalesce(s.services, []) end as services,
        case when m.code_commune is not null then len(coalesce(s.services, [])) end as nb_services
    from communes c
    left join operateurs o using (code_departement)
    left join registres r on r.operateur = o.code_operateur
    left join membres m on m.operateur = o.code_operateur and m.code_commune = c.code
    left join epci_membres e on e.operateur = o.code_operateur and e.code_epci = c.code_epci
    left join dep_membres d on d.operateur = o.code_operateur and d.code_departement = c.code_departement
    left join services_communes s on s.operateur = o.code_operateur and s.code_commune = c.code
)
select * from final
