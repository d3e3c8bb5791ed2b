-- Public buyers of the scope in the fetched DECP (every kind), one row per buyer SIRET:
-- contracts, those published through its operator's procurement platform, and whether it
-- is a member of that operator in a loaded register (SIRET, or SIREN of the register).
-- Empty when the DECP are not fetched: no figure is then shown.
-- unique: acheteur_siret
-- not_null: acheteur_siret, acheteur_siren, nb_marches, nb_marches_plateforme, par_plateforme, adherent
with acheteurs as (select * from intermediate.acheteurs_publics),
adherents as (select operateur, siret, siren from marts.adherents),
final as (
    select
        a.*,
        exists (select 1 from adherents m where m.operateur = a.code_operateur
                and (m.siret = a.acheteur_siret or m.siren = a.acheteur_siren)) as adherent
    from acheteurs a
)
select * from final order by acheteur_siret
