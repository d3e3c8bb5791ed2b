-- Organisations publishing on data.gouv.fr with a SIRET (raw.datagouv_organisations; empty
-- when the export is not fetched), by SIREN: a collectivité may hold several organisations
-- (a service, a library): their datasets add up, the latest modification wins.
-- unique: siren
-- not_null: siren, nb_organisations, jeux
with source as (select * from raw.datagouv_organisations where siren is not null),
final as (
    select siren,
           count(*)::bigint as nb_organisations,
           coalesce(sum(jeux), 0)::bigint as jeux,
           max(modifie_le) as modifie_le,
           string_agg(nom, ' ; ' order by nom) as noms,
           min(url) as url
    from source
    group by siren
)
select * from final
