-- The indicator catalogue, from territoires/indicators/catalogue.toml: id, French label,
-- one-sentence definition, unit, polarity, source ids (registry), vintage text built from
-- raw.provenance (never invented: "inconnu" where the source does not date its data),
-- formula (generated from the criteria and, for the score, from its weights), order.
-- Each indicator's taux = sum(numerateur) / sum(denominateur) over the communes of a
-- territory; for score_presence the numerator is the sum of the communes' scores and the
-- denominator 100 × the number of communes with a directory entry, so taux = mean score / 100.
-- unique: indicateur
-- not_null: indicateur, libelle, libelle_court, definition, unite, polarite, sources, millesime, formule, ordre, numerateur, denominateur, renseigne
-- renseigne: whether the source informs the indicator at all. Decided here, once, from the
-- data: a criterion read from a field that holds one and the same value on every directory
-- entry of the warehouse (the source's default, e.g. accessibility « NAC » everywhere in
-- the embedded directory) is « non renseigné dans la source »; pages then show those words,
-- never 0 %, and keep it out of charts and findings (territoires.reports.page.valeur).
-- accepted_values: polarite in (hausse_favorable, baisse_favorable)
-- Membership indicators (criteria of [criteres_adhesion], one pair per service) are listed
-- only when some register is loaded: the catalogue says what this warehouse computes.
-- Indicators of fetched sources (criteria of [criteres_sources]) are listed only when their
-- denominator holds for some commune: a source not fetched shows no indicator, never a 0.
with registres as (select count(*) > 0 as charge from intermediate.adhesion_communes where registre_charge),
adhesion as (select critere from raw.indicateurs_criteres where famille = 'adhesion'),
criteres_sources as (select critere from raw.indicateurs_criteres where famille = 'sources'),
sources_presentes as (select critere from intermediate.criteres_sources_presents),
declares as (
    select * from raw.indicateurs_catalogue
    where ((select charge from registres)
           or not (numerateur in (select critere from adhesion) or denominateur in (select critere from adhesion)))
      and (denominateur not in (select critere from criteres_sources)
           or denominateur in (select critere from sources_presentes))
),
-- two indicators per service of the taxonomy: among member communes, among all communes
services as (select * from raw.services),
par_service as (
    select
        'adoption_' || s.service || v.suffixe as indicateur,
        1000 + 2 * (row_number() over (order by s.famille, s.service))::integer + v.rang as ordre,
        v.prefixe || s.libelle as libelle,
        s.libelle as libelle_court,
        v.definition || ' « ' || s.libelle || ' » d''après le registre de l''opérateur.' as definition,
        '%' as unite, 'hausse_favorable' as polarite,
        'service:' || s.service as numerateur, v.denominateur,
        ['registres-adherents', 'taxonomie-services'] as sources,
        ['registres-adherents.registres', 'taxonomie-services.liste'] as millesimes,
        false as tableau,
        'communes adhérentes utilisant [' || s.libelle || '] / ' || v.base as formule
    from services s
    cross join (values
        ('', 0, 'Adhérentes utilisant : ', 'Part des communes adhérentes qui utilisent le service',
         'commune_adherente', 'communes adhérentes'),
        ('_communes', 1, 'Communes utilisant : ', 'Part de toutes les communes du territoire qui utilisent le service',
         'commune_registre', 'communes du territoire')
    ) as v(suffixe, rang, prefixe, definition, denominateur, base)
    where (select charge from registres)
),
catalogue as (
    select indicateur, ordre, libelle, libelle_court, definition, unite, polarite, numerateur, denominateur,
           sources, millesimes, tableau, formule
    from declares
    union all by name
    select * from par_service
),
criteres as (
    select critere, libelle from raw.indicateurs_criteres
    union all select 'service:' || service, 'commune adhérente utilisant « ' || libelle || ' »' from raw.services
),
ponderations as (select * from raw.score_ponderations),
renseignement as (
    select 'accessibilite_renseignee' as critere,
           count(distinct upper(mairie_accessibilite)) filter (where fiche_mairie) > 1
           or count(mairie_accessibilite_details) filter (where fiche_mairie) > 0 as renseigne
    from marts.presence_numerique
),
-- a source republished in place (DPNT, DECP…) is dated by its download: the vintage
-- folder recorded in raw.telechargees replaces the registry's « date du téléchargement »,
-- the download that filled the same table counting (DPNT fetched as CSV dates the JSON's key)
-- the probe (territoires sonde) is dated by its checks: the day, or the first and last days
sonde as (
    select strftime(min(verifie_le), '%Y-%m-%d')
           || case when min(verifie_le)::date < max(verifie_le)::date
                   then ' au ' || strftime(max(verifie_le), '%Y-%m-%d') else '' end as millesime
    from staging.sondes having count(*) > 0
),
provenance as (
    select p.source_id, p.cle,
           coalesce(any_value(t.millesime), case when p.source_id = 'sonde-cybersecurite' then (select millesime from sonde) end,
                    p.millesime) as millesime
    from raw.provenance p
    left join raw.sources_tables st on st.source_id = p.source_id
    left join raw.telechargees t on t.table_cible = st.table_cible and t.empreinte = 'variable'
    group by p.source_id, p.cle, p.millesime
),
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
        c.tableau,
        coalesce(r.renseigne, true) as renseigne
    from catalogue c
    left join millesimes m using (indicateur)
    left join criteres n on n.critere = c.numerateur
    left join criteres d on d.critere = c.denominateur
    left join ponderations p on p.critere = c.numerateur
    left join renseignement r on r.critere = c.numerateur
)
select * from final order by ordre
