-- Fragment shared by marts.indicateurs_presence, _adhesion and _sources (the three parts
-- of marts.indicateurs), written where a model names it between double braces.
-- It expects the CTEs `presence` (marts.presence_numerique), `appartenances`
-- (marts.appartenances), `catalogue` (indicateur, numerateur, denominateur: the part's
-- indicators), `valeurs` (code, critere, valeur: each commune's integer per criterion) and
-- `controle` (a row calling error() when a declared criterion has no column), and ends
-- with the CTE `final`.
-- Each commune contributes integers: num (the numerator's value, counted only where the
-- denominator holds) and den (the denominator's value).
-- Membership: an EPCI is aggregated over ALL its member communes (out-of-scope members
-- of a straddling EPCI included); commune, departement, region, operateur and alliance
-- over the communes of the scope only (marts.appartenances.dans_perimetre).
par_commune as (
    select
        c.indicateur,
        d.code as code_commune,
        case when d.valeur > 0 then n.valeur else 0 end::bigint as num,
        d.valeur::bigint as den,
        p.tranche_taille, p.population, p.dans_perimetre
    from catalogue c
    join valeurs d on d.critere = c.denominateur and (select count(erreur) from controle) = 0
    join valeurs n on n.critere = c.numerateur and n.code = d.code
    join presence p on p.code = d.code
),
-- the territories made of several communes (a commune is only itself: `communes` below)
membres as (
    select code_commune, niveau, code from appartenances where niveau = 'epci' or dans_perimetre
),
detail as (
    select m.niveau, m.code, v.tranche_taille, v.indicateur, v.num, v.den, v.population
    from par_commune v
    join membres m on m.code_commune = v.code_commune
),
-- sums by size band first (one pass over the detail), then the whole of each territory
-- from those sums (exact: integers). A commune's population × value is a bigint (at most
-- a few hundred million; DuckDB stops on an overflow, never wraps); their sums are int128
par_tranche as (
    select
        niveau, code, tranche_taille, indicateur,
        sum(num) as numerateur,
        sum(den) as denominateur,
        sum(population * num) as pop_num,
        sum(population * den) as pop_den,
        sum(population) filter (where den > 0) as population
    from detail
    group by niveau, code, tranche_taille, indicateur
),
agregats as (
    select
        niveau, code, tranche_taille, indicateur, numerateur::bigint as numerateur,
        denominateur::bigint as denominateur, pop_num, pop_den, coalesce(population, 0)::bigint as population
    from par_tranche
    union all
    select
        niveau, code, 'ensemble', indicateur, sum(numerateur)::bigint, sum(denominateur)::bigint,
        sum(pop_num), sum(pop_den), coalesce(sum(population), 0)::bigint
    from par_tranche
    group by niveau, code, indicateur
    union all
    -- a commune of the scope is only a whole, of its own values: nothing to sum
    select
        'commune', code_commune, 'ensemble', indicateur, num, den,
        population * num, population * den,
        coalesce(case when den > 0 then population end, 0)::bigint
    from par_commune
    where dans_perimetre
),
final as (
    select
        niveau, code, tranche_taille, indicateur, numerateur, denominateur,
        case when denominateur > 0 then numerateur::double / denominateur end as taux,
        case when pop_den > 0 then pop_num::double / pop_den::double end as taux_pondere,
        population
    from agregats
    where tranche_taille is not null
)
