-- Every indicator of the catalogue for every territory, in long format: one row per
-- niveau × code × tranche_taille × indicateur. tranche_taille = 'ensemble' for all the
-- territory's communes, else a band of marts.tranches_taille (a band without any commune
-- in the territory has no row; the commune level has only 'ensemble').
-- Each commune contributes integers: numerateur (0/1, or its score 0-100) and
-- denominateur (0/1, or 100 for the score); a numerator counts only where the
-- denominator does. Sums are exact (bigint), never rounded or capped:
--   taux         = numerateur / denominateur (null when denominateur = 0)
--   taux_pondere = Σ population × numerateur / Σ population × denominateur
--   population   = population of the communes counted in the denominator
-- A commune without population (null in the source) counts in 'ensemble' but in no band,
-- and weighs nothing in taux_pondere.
-- Membership: an EPCI is aggregated over ALL its member communes (out-of-scope members
-- of a straddling EPCI included); commune, departement, region, operateur and alliance
-- over the communes of the scope only (marts.appartenances.dans_perimetre).
-- unique: niveau, code, tranche_taille, indicateur
-- not_null: niveau, code, tranche_taille, indicateur, numerateur, denominateur, population
-- references: niveau -> staging.niveaux(niveau)
with presence as (select * from marts.presence_numerique),
catalogue as (select indicateur, numerateur, denominateur from marts.indicateurs_catalogue),
appartenances as (select * from marts.appartenances),
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
valeurs_presence as (
    unpivot (
        select code, columns(c -> list_contains(getvariable('criteres'), c))::integer
        from base
    )
    on columns(* exclude (code)) into name critere value valeur
),
-- membership criteria (catalogue.toml [criteres_adhesion]), only for the communes whose
-- operator's register is loaded (marts.adhesion_communes has no row for the others)
adhesion as (select * from marts.adhesion_communes),
valeurs_adhesion as (
    unpivot (
        select code, columns(c -> list_contains(getvariable('criteres_adhesion'), c))::integer
        from adhesion
    )
    on columns(* exclude (code)) into name critere value valeur
),
-- one criterion per service of the taxonomy: the member commune uses it (0 or 1)
valeurs_services as (
    select a.code, 'service:' || s.service as critere,
           coalesce(a.adherente and list_contains(a.services, s.service), false)::integer as valeur
    from adhesion a cross join raw.services s
),
-- facts from the fetched official sources (catalogue.toml [criteres_sources]): false
-- where a source is not fetched; their indicators are catalogued only where they hold
faits_sources as (select * from intermediate.faits_sources),
valeurs_sources as (
    unpivot (
        select code, columns(c -> list_contains(getvariable('criteres_sources'), c))::integer
        from faits_sources
    )
    on columns(* exclude (code)) into name critere value valeur
),
valeurs as (
    select * from valeurs_presence
    union all select * from valeurs_adhesion
    union all select * from valeurs_services
    union all select * from valeurs_sources
),
controle as (
    -- a declared criterion without its column stops the build
    select error('catalogue.toml : critère(s) sans colonne dans marts.presence_numerique, '
                 || 'marts.adhesion_communes ou intermediate.faits_sources : ' || string_agg(c, ', ')) as erreur
    from (select unnest(getvariable('criteres') || getvariable('criteres_adhesion')
                        || getvariable('criteres_sources')) as c)
    where c not in ('commune', 'score_maximum')
      and c not in (select column_name from duckdb_columns()
                    where (schema_name = 'marts' and table_name in ('presence_numerique', 'adhesion_communes'))
                       or (schema_name = 'intermediate' and table_name = 'faits_sources'))
    having count(*) > 0
),
par_commune as (
    select
        c.indicateur,
        d.code as code_commune,
        case when d.valeur > 0 then n.valeur else 0 end::bigint as num,
        d.valeur::bigint as den
    from catalogue c
    join valeurs d on d.critere = c.denominateur and (select count(erreur) from controle) = 0
    join valeurs n on n.critere = c.numerateur and n.code = d.code
),
membres as (
    select code as code_commune, 'commune' as niveau, code from presence where dans_perimetre
    union all
    select code_commune, niveau, code from appartenances where niveau = 'epci' or dans_perimetre
),
detail as (
    select m.niveau, m.code, p.tranche_taille, v.indicateur, v.num, v.den, p.population
    from par_commune v
    join presence p on p.code = v.code_commune
    join membres m on m.code_commune = v.code_commune
),
agregats as (
    select
        niveau, code,
        case when grouping(tranche_taille) = 1 then 'ensemble' else tranche_taille end as tranche_taille,
        indicateur,
        sum(num)::bigint as numerateur,
        sum(den)::bigint as denominateur,
        sum(population::hugeint * num) as pop_num,
        sum(population::hugeint * den) as pop_den,
        coalesce(sum(population) filter (where den > 0), 0)::bigint as population
    from detail
    group by grouping sets ((niveau, code, indicateur), (niveau, code, indicateur, tranche_taille))
),
final as (
    select
        niveau, code, tranche_taille, indicateur, numerateur, denominateur,
        case when denominateur > 0 then numerateur::double / denominateur end as taux,
        case when pop_den > 0 then pop_num::double / pop_den::double end as taux_pondere,
        population
    from agregats
    where (niveau <> 'commune' or tranche_taille = 'ensemble') and tranche_taille is not null
)
select * from final order by niveau, code, tranche_taille, indicateur
