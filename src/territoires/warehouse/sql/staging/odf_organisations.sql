-- Organisations known to publish open data by OpenDataFrance's « Observatoire open data des
-- territoires » (raw.odf_organisations; empty when it is not fetched), by SIREN: the
-- platform it publishes on (its address, host and name), its datasets there and on
-- data.gouv.fr. A SIREN listed twice keeps the sums and its first platform by address.
-- unique: siren
-- not_null: siren, jeux_plateforme, jeux_datagouv, publie, publie_datagouv
with source as (select * from raw.odf_organisations where siren is not null),
final as (
    select siren,
           min(url_plateforme) as url_plateforme,
           lower(regexp_extract(min(url_plateforme), '^[a-zA-Z]+://([^/:?#]+)', 1)) as hote_plateforme,
           min(plateforme) as plateforme,
           coalesce(sum(jeux_plateforme), 0)::bigint as jeux_plateforme,
           coalesce(sum(jeux_datagouv), 0)::bigint as jeux_datagouv,
           coalesce(sum(jeux_plateforme), 0) + coalesce(sum(jeux_datagouv), 0) > 0 as publie,
           coalesce(sum(jeux_datagouv), 0) > 0 as publie_datagouv
    from source
    group by siren
)
select * from final
