-- Distance from commune buyers to their titulaires, per territory and commune size band, as
-- marts.indicateurs aggregates (commune, EPCI over all its member communes, the other levels
-- over the communes of the scope; tranche_taille 'ensemble' and each band, communes
-- 'ensemble' only): the current contracts of the communes as buyers
-- (intermediate.communes_acheteuses, staging.decp_marches: donneesActuelles, each contract
-- once) and, over those whose distance to the NEAREST titulaire is known (titulaire_distance,
-- whole km), its mean and median. The catalogue's distance_moyenne_titulaire is the same mean
-- (sums over communes). No row where a territory has no such contract; empty when the DECP
-- are not fetched.
-- unique: niveau, code, tranche_taille
-- not_null: niveau, code, tranche_taille, nb_marches_actuels, nb_marches_distance
-- references: niveau -> staging.niveaux(niveau)
with presence as (select code, tranche_taille, dans_perimetre from marts.presence_numerique),
membres as (
    select code as code_commune, 'commune' as niveau, code from presence where dans_perimetre
    union all
    select code_commune, niveau, code from marts.appartenances where niveau = 'epci' or dans_perimetre
),
marches as (
    select distinct ca.code as code_commune, m.marche, m.distance_km
    from intermediate.communes_acheteuses ca
    join staging.decp_marches m using (acheteur_siret)
    where m.actuel
),
detail as (
    select distinct mb.niveau, mb.code, p.tranche_taille, m.marche, m.distance_km
    from marches m
    join presence p on p.code = m.code_commune
    join membres mb on mb.code_commune = m.code_commune
),
-- a contract counted once per territory, and once per band
agregats as (
    select niveau, code, tranche_taille,
           count(*)::bigint as nb_marches_actuels, count(distance_km)::bigint as nb_marches_distance,
           avg(distance_km) as distance_moyenne_km, median(distance_km) as distance_mediane_km
    from detail where niveau <> 'commune'
    group by all
    union all
    select niveau, code, 'ensemble',
           count(*)::bigint, count(distance_km)::bigint, avg(distance_km), median(distance_km)
    from (select distinct niveau, code, marche, distance_km from detail)
    group by all
),
final as (select * from agregats where tranche_taille is not null)
select * from final order by niveau, code, tranche_taille
