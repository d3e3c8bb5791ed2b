-- Members of the operators' registers (raw.adherents: read, validated and attached to a
-- territory by territoires.members during the build), one row per operator × member.
-- A member listed twice for one operator (its own register and the ANCT export) is kept
-- once, from the operator's own register first; `fichiers` lists every file naming it.
-- `commune_adherente`: a commune that is itself a member (counted in coverage);
-- other entities (EPCI, syndicats, hospitals…) carry the commune of their seat when known.
-- unique: operateur, identifiant
-- not_null: operateur, identifiant, nom, type, statut_rattachement, fichier, ligne
-- accepted_values: statut_rattachement in (insee, siren_epci, siren_reference, siren_presume, non_rattache)
-- references: type -> raw.types_entites(type)
with source as (select * from raw.adherents),
types as (select * from raw.types_entites),
communes as (
    select code, nom, code_departement, code_region, code_epci from staging.communes where type = 'COM'
),
epci as (
    select code, code_departement, code_region from intermediate.territoires_bruts where niveau = 'epci'
),
noms as (
    -- (a grouped list, not a window over the whole partition: 5 times faster)
    select operateur, identifiant,
           list(fichier || ':' || ligne order by starts_with(fichier, 'anct/'), fichier, ligne) as fichiers
    from source
    group by all
),
classes as (
    select
        s.*, n.fichiers,
        row_number() over (partition by s.operateur, s.identifiant
                           order by starts_with(s.fichier, 'anct/'), s.fichier, s.ligne) as rang
    from source s join noms n using (operateur, identifiant)
),
final as (
    select
        a.operateur, a.identifiant, a.siret, a.siren, a.nom, a.type, t.libelle as type_libelle, a.type_source,
        a.code_insee, a.date_adhesion, a.statut_rattachement, a.niveau_territoire, a.code_territoire,
        case when a.niveau_territoire = 'commune' then a.code_territoire end as code_commune,
        case when a.niveau_territoire = 'commune' then c.code_epci
             when a.niveau_territoire = 'epci' then a.code_territoire end as code_epci,
        coalesce(c.code_departement, e.code_departement) as code_departement,
        coalesce(c.code_region, e.code_region) as code_region,
        a.type = 'commune' and a.niveau_territoire = 'commune' as commune_adherente,
        a.type = 'epci' and a.niveau_territoire = 'epci' as epci_adherent,
        a.fichier, a.ligne, a.sha256, a.fichiers
    from classes a
    left join types t on t.type = a.type
    -- (equality keys: a condition on the left side alone would make a nested-loop join)
    left join communes c on c.code = case when a.niveau_territoire = 'commune' then a.code_territoire end
    left join epci e on e.code = case when a.niveau_territoire = 'epci' then a.code_territoire end
    where a.rang = 1
)
select * from final
