-- Membership over time: for every territory whose operator's register is loaded, member
-- communes by year of membership (nouvelles) and cumulated (cumul), over the communes of
-- the territory (communes). annee is null for members whose register gives no date.
-- unique: niveau, code, annee
-- not_null: niveau, code, nouvelles, cumul, communes
with faits as (select * from intermediate.adhesion_communes where registre_charge),
appartenances as (
    select code_commune, niveau, code from marts.appartenances where niveau = 'epci' or dans_perimetre
),
base as (
    select a.niveau, a.code, f.adherente, year(f.date_adhesion) as annee
    from faits f join appartenances a on a.code_commune = f.code
),
communes as (select niveau, code, count(*) as communes from base group by all),
par_an as (
    select niveau, code, annee, count(*) as nouvelles
    from base where adherente group by all
),
final as (
    select
        p.niveau, p.code, p.annee, p.nouvelles,
        (sum(p.nouvelles) over (partition by p.niveau, p.code order by p.annee nulls last
                                rows between unbounded preceding and current row))::bigint as cumul,
        c.communes
    from par_an p join communes c using (niveau, code)
)
select * from final order by niveau, code, annee nulls last
