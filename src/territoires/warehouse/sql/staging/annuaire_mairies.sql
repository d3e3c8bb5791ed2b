-- The town halls of the fetched DILA Annuaire de l'administration (raw.annuaire; empty when
-- not fetched: the embedded directory entries then serve), one row per commune: its
-- website (the first listed), its e-mail addresses joined by ";" as the embedded field
-- holds them, its SIREN. A commune listed by several town-hall entries keeps the first by id.
-- unique: code
-- not_null: code, id_annuaire
with source as (
    select * from raw.annuaire where type_service_local = 'mairie'
),
par_commune as (
    select unnest(codes_insee) as code, id, siren, sites, courriels, telephones from source
),
final as (
    select
        code, id as id_annuaire, siren,
        sites[1] as site,
        nullif(array_to_string(courriels, ';'), '') as email,
        telephones[1] as telephone
    from par_commune
    where code is not null
    qualify row_number() over (partition by code order by id) = 1
)
select * from final
