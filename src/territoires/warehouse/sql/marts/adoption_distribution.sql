-- How many services of the taxonomy each member commune uses, by territory: the
-- distribution behind « services par commune adhérente » (only where a register is loaded).
-- unique: niveau, code, nb_services
-- not_null: niveau, code, nb_services, communes
with faits as (select * from intermediate.adhesion_communes where registre_charge and adherente),
appartenances as (
    select code_commune, niveau, code from marts.appartenances where niveau = 'epci' or dans_perimetre
),
final as (
    select a.niveau, a.code, f.nb_services, count(*) as communes
    from faits f join appartenances a on a.code_commune = f.code
    group by all
)
select * from final order by niveau, code, nb_services
