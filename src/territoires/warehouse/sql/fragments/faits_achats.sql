-- Fragment shared by intermediate.faits_sources and marts.adherents_chantiers: the
-- responsible-purchasing facts (achats_*) of an entity, from the sums of the fragment
-- sommes_achats (alias `a`, null where it bought nothing: then false or 0), in a select list.
coalesce(a.actuels > 0, false) as achats_acheteur,
coalesce(a.sociaux > 0, false) as achats_clause_sociale,
coalesce(a.environnementaux > 0, false) as achats_clause_environnementale,
coalesce(a.sociaux_renseignes, 0) as achats_marches_sociaux_renseignes,
coalesce(a.sociaux, 0) as achats_marches_sociaux,
coalesce(a.environnementaux_renseignes, 0) as achats_marches_environnementaux_renseignes,
coalesce(a.environnementaux, 0) as achats_marches_environnementaux,
coalesce(a.innovation_renseignee, 0) as achats_marches_innovation_renseignee,
coalesce(a.innovants, 0) as achats_marches_innovants,
coalesce(a.distance_renseignee, 0) as achats_marches_distance,
coalesce(a.distance_km, 0) as achats_distance_km,
coalesce(a.pme_renseignes, 0) as achats_marches_pme_renseignes,
coalesce(a.pme, 0) as achats_marches_pme
