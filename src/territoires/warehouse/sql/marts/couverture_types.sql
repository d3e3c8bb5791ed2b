-- Membership coverage by entity type, per operator whose register is loaded: the members
-- of each type, and, where the warehouse can count the eligible entities of the
-- operator's territory of action (its départements, within the build's scope), how many
-- of them are members: communes (COG), EPCI (those with a commune there), départements,
-- regions. Other types (syndicats, CCAS, schools…) have no reference count here:
-- `eligibles` and `taux` stay null, never 0. An operator without a register has no row.
-- unique: operateur, type
-- not_null: operateur, nom_operateur, type, type_libelle, adherents
-- references: type -> raw.types_entites(type)
-- (the operators whose register gives figures: intermediate.adhesion_communes decides)
with registres as (select distinct code_operateur as operateur from intermediate.adhesion_communes where registre_charge),
operateurs as (select code as operateur, nom as nom_operateur from staging.operateurs),
types as (select type, libelle as type_libelle from raw.types_entites),
adherents as (select * from intermediate.adherents where operateur in (select operateur from registres)),
territoire as (
    select od.code_operateur as operateur, p.code, p.code_epci, p.code_departement, p.code_region
    from staging.operateur_departements od
    join intermediate.perimetre_communes p using (code_departement)
    where p.dans_perimetre and od.code_operateur in (select operateur from registres)
),
-- one row per operator × eligible type × entity of its territory
eligibles as (
    select distinct operateur, 'commune' as type, code as entite from territoire
    union all select distinct operateur, 'epci', code_epci from territoire where code_epci is not null
    union all select distinct operateur, 'departement', code_departement from territoire
    union all select distinct operateur, 'region', code_region from territoire
),
-- the entity of the territory each member stands for, by its type
membres as (
    select operateur, type,
           case type when 'commune' then code_commune when 'epci' then code_epci
                     when 'departement' then code_departement when 'region' then code_region end as entite
    from adherents
),
comptes as (
    select r.operateur, t.type,
           (select count(*) from adherents a where a.operateur = r.operateur and a.type = t.type) as adherents,
           (select count(*) from eligibles e where e.operateur = r.operateur and e.type = t.type) as n_eligibles,
           (select count(distinct m.entite) from membres m join eligibles e using (operateur, type, entite)
             where m.operateur = r.operateur and m.type = t.type) as couverts,
           t.type in ('commune', 'epci', 'departement', 'region') as denombrable
    from registres r cross join types t
),
final as (
    select
        c.operateur, o.nom_operateur, c.type, t.type_libelle,
        c.adherents::bigint as adherents,
        case when c.denombrable then c.couverts end::bigint as couverts,
        case when c.denombrable then c.n_eligibles end::bigint as eligibles,
        case when c.denombrable and c.n_eligibles > 0 then c.couverts::double / c.n_eligibles end as taux,
        case c.type when 'commune' then 'communes du territoire d''action (COG)'
                    when 'epci' then 'EPCI ayant une commune dans le territoire d''action'
                    when 'departement' then 'départements du territoire d''action'
                    when 'region' then 'régions du territoire d''action'
        end as base
    from comptes c
    join operateurs o using (operateur)
    join types t using (type)
    where c.adherents > 0 or c.denombrable
)
select * from final order by operateur, eligibles is null, type
