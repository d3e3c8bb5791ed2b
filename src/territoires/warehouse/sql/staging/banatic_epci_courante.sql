-- Current EPCI membership of each commune by BANATIC's pre-generated export (raw.banatic_groupements;
-- empty when not fetched): the members of category « commune » of the groupements whose
-- nature juridique is an EPCI à fiscalité propre (CC, CA, CU, METRO, MET69, as st-home reads
-- the same export), the commune found by its SIREN (staging.communes_siren; a member whose
-- SIREN no fetched reference maps is left out). A commune listed by two such EPCI keeps the
-- latest « Date d'effet » (then the lower SIREN: a fault of the file, seen in nb_epci).
-- unique: code
-- not_null: code, siren, code_epci, nb_epci
with membres as (
    select * from raw.banatic_groupements
    where categorie_membre = 'commune' and nature_juridique in ('CC', 'CA', 'CU', 'METRO', 'MET69')
      and membre_siren is not null and groupement_siren is not null
),
final as (
    select
        s.code, m.membre_siren as siren, m.groupement_siren as code_epci, m.groupement_nom as nom_epci,
        m.nature_juridique, m.date_effet,
        count(*) over (partition by s.code) as nb_epci
    from membres m
    join staging.communes_siren s on s.siren = m.membre_siren
    qualify row_number() over (partition by s.code order by m.date_effet desc nulls last, m.groupement_siren) = 1
)
select * from final
