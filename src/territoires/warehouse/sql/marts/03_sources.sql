-- One row per loaded source: producer, vintage, licence, URL, sha256, rows, load time.
-- unique: id
-- not_null: id, producteur, titre, licence, millesime, lignes, charge_le
with source as (select * from raw.sources),
final as (
    select
        id, producer as producteur, title as titre, licence, url,
        package_version as version_paquet, vintage as millesime,
        vintages as millesimes_detail, sha256, rows as lignes, loaded_at as charge_le
    from source
)
select * from final order by id
