-- EPCI membership of each commune by the fetched BANATIC perimeter (raw.banatic_perimetre;
-- empty when not fetched), with the commune's SIREN (the SIREN ↔ INSEE mapping).
-- unique: code
-- not_null: code, code_epci
with source as (select * from raw.banatic_perimetre where commune_insee is not null),
final as (
    select commune_insee as code, commune_siren as siren, epci_siren as code_epci, epci_nom as nom_epci,
           commune_population_municipale as population, millesime_population
    from source
    qualify row_number() over (partition by commune_insee order by epci_siren) = 1
)
select * from final
