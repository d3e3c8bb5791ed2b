-- The indicator catalogue, from territoires/indicators/catalogue.toml: id, French label,
-- one-sentence definition, unit, polarity, source ids (registry), vintage text built from
-- raw.provenance (never invented: "inconnu" where the source does not date its data),
-- formula (generated from the criteria and, for the score, from its weights), order.
-- Each indicator's taux = sum(numerateur) / sum(denominateur) over the communes of a
-- territory; for score_presence the numerator is the sum of the communes' scores and the
-- denominator 100 × the number of communes with a directory entry, so taux = mean score / 100.
-- unique: indicateur
-- not_null: indicateur, libelle, libelle_court, definition, unite, polarite, sources, millesime, formule, ordre, numerateur, denominateur
-- accepted_values: polarite in (hausse_favorable, baisse_favorable)
with catalogue as (select * from raw.indicateurs_catalogue),
criteres as (select * from raw.indicateurs_criteres),
ponderations as (select * from raw.score_ponderations),
provenance as (select * from raw.provenance),
libelles as (select * from raw.millesimes_libelles),
millesimes as (
    select
        c.indicateur,
        string_agg(l.libelle || ' : ' || coalesce(p.millesime, 'inconnu'), ' ; ' order by m.i) as millesime
    from catalogue c,
         unnest(c.millesimes) with ordinality as m(cle, i)
    join libelles l on l.cle = m.cle
    left join provenance p on p.source_id || '.' || p.cle = m.cle
    group by c.indicateur
),
formule_score as (
    select
        'score de la commune = '
        || string_agg(p.poids::varchar || ' × [' || cr.libelle || ']', ' + ' order by p.ordre)
        || ' (1 si le critère est rempli, 0 sinon ; total des poids : ' || sum(p.poids)::varchar
        || ') ; taux = somme des scores / (100 × communes ayant une fiche mairie)' as formule
    from ponderations p
    join criteres cr using (critere)
),
final as (
    select
        c.indicateur,
        c.libelle,
        c.libelle_court,
        c.definition,
        c.unite,
        c.polarite,
        c.sources,
        m.millesime,
        coalesce(
            c.formule,
            case when c.numerateur = 'score_presence' then (select formule from formule_score) end,
            'communes [' || n.libelle || '] / communes [' || d.libelle || ']'
        ) as formule,
        c.ordre,
        c.numerateur,
        c.denominateur,
        p.poids as poids_score,
        c.tableau
    from catalogue c
    left join millesimes m using (indicateur)
    left join criteres n on n.critere = c.numerateur
    left join criteres d on d.critere = c.denominateur
    left join ponderations p on p.critere = c.numerateur
)
select * from final order by ordre
