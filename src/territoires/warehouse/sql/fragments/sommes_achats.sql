-- Fragment shared by intermediate.faits_sources (per commune) and marts.adherents_chantiers
-- (per member's SIREN): the sums, in an aggregation over rows of intermediate.acheteurs_publics,
-- of the contracts that inform each responsible-purchasing fact and of those where it holds
-- (current data only, each contract once: see that model).
sum(nb_marches_actuels)::bigint as actuels,
sum(nb_sociaux_renseignes)::bigint as sociaux_renseignes, sum(nb_sociaux)::bigint as sociaux,
sum(nb_environnementaux_renseignes)::bigint as environnementaux_renseignes,
sum(nb_environnementaux)::bigint as environnementaux,
sum(nb_innovation_renseignee)::bigint as innovation_renseignee, sum(nb_innovants)::bigint as innovants,
sum(nb_distance_renseignee)::bigint as distance_renseignee, sum(distance_totale_km)::bigint as distance_km,
sum(nb_pme_renseignes)::bigint as pme_renseignes, sum(nb_pme)::bigint as pme
