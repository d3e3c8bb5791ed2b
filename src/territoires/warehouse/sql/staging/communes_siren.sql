-- The SIREN ↔ INSEE code of the communes, by the fetched references that give both (empty
-- when none is fetched): the BANATIC perimeter CSV, then the ANCT DPNT, then the DILA
-- directory's town halls. A SIREN two references map to different communes takes the
-- first reference's, in this order (source says which).
-- unique: siren
-- not_null: siren, code, source
with rapprochements as (
    select siren, code, 1 as rang, 'banatic-perimetre-epci' as source from staging.banatic_perimetre
    union all select siren, code, 2, 'dpnt' from staging.dpnt_communes
    union all select siren, code, 3, 'dila-annuaire' from staging.annuaire_mairies
),
final as (
    select siren, code, source
    from rapprochements
    where siren is not null and code is not null
    qualify row_number() over (partition by siren order by rang, code) = 1
)
select * from final
