-- The public buyers of the DECP that are communes (intermediate.acheteurs_publics), one row
-- per buyer SIRET and commune: the buyer is the commune when its SIREN is the commune's by
-- a fetched reference (staging.communes_siren: BANATIC, DPNT, DILA; rapprochement 'siren');
-- without one for that commune, a buyer located in the commune whose SIREN follows the
-- communes' pattern (21 + département…) is presumed to be it ('presume').
-- Read by intermediate.faits_sources (criteria per commune) and marts.achats_distances.
-- unique: acheteur_siret, code
-- not_null: acheteur_siret, code, rapprochement
-- accepted_values: rapprochement in (siren, presume)
with communes as (select code from intermediate.perimetre_communes),
sirens as (select siren, code from staging.communes_siren),
acheteurs as (select acheteur_siret, acheteur_siren, acheteur_commune_code from intermediate.acheteurs_publics),
final as (
    select a.acheteur_siret, s.code, 'siren' as rapprochement
    from sirens s join acheteurs a on a.acheteur_siren = s.siren
    union all
    select a.acheteur_siret, c.code, 'presume'
    from communes c
    join acheteurs a on a.acheteur_commune_code = c.code and starts_with(a.acheteur_siren, '21' || left(c.code, 2))
    where c.code not in (select code from sirens)
)
select * from final
