-- First half of marts.indicateurs: the presence indicators (the criteria of
-- catalogue.toml [criteres], from the directory), for every territory, in long format:
-- one row per niveau × code × tranche_taille × indicateur. tranche_taille = 'ensemble' for
-- all the territory's communes, else a band of marts.tranches_taille (a band without any
-- commune in the territory has no row; the commune level has only 'ensemble').
-- Each commune contributes integers: numerateur (0/1, or its score 0-100) and
-- denominateur (0/1, or 100 for the score); a numerator counts only where the
-- denominator does. Sums are exact (bigint), never rounded or capped:
--   taux         = numerateur / denominateur (null when denominateur = 0)
--   taux_pondere = Σ population × numerateur / Σ population × denominateur
--   population   = population of the communes counted in the denominator
-- A commune without population (null in the source) counts in 'ensemble' but in no band,
-- and weighs nothing in taux_pondere.
-- It reads the catalogue from raw (not marts.indicateurs_catalogue, which changes with the
-- registers), so importing a register leaves this half as it is.
-- unique: niveau, code, tranche_taille, indicateur
-- not_null: niveau, code, tranche_taille, indicateur, numerateur, denominateur, population
-- references: niveau -> staging.niveaux(niveau)
with presence as (select * from marts.presence_numerique),
appartenances as (select * from marts.appartenances),
catalogue as (
    -- neither a membership nor a fetched source's criterion (the other two parts)
    select indicateur, numerateur, denominateur from raw.indicateurs_catalogue
    where numerateur not in (select critere from raw.indicateurs_criteres where famille <> 'presence')
      and denominateur not in (select critere from raw.indicateurs_criteres where famille <> 'presence')
),
-- every criterion of catalogue.toml [criteres] (variable `criteres`, set by the build when
-- it loads the catalogue) as an integer per commune; three are computed here:
-- commune (1 each), score_presence (0 without a directory entry), score_maximum (100
-- with a directory entry, else 0)
base as (
    select
        * replace (coalesce(score_presence, 0) as score_presence),
        1 as commune,
        case when fiche_mairie then 100 else 0 end as score_maximum
    from presence
),
valeurs as (
    unpivot (
        select code, columns(c -> list_contains(getvariable('criteres'), c))::integer
        from base
    )
    on columns(* exclude (code)) into name critere value valeur
),
-- (commune and score_maximum are computed above, not columns)
{{ controle_criteres(criteres = list_filter(getvariable('criteres'), c -> c not in ('commune', 'score_maximum')),
                     table = marts.presence_numerique) }}
{{ agregation_indicateurs }}
select * from final order by niveau, code, tranche_taille, indicateur
