-- One row per loaded source: producer, vintage, licence, URL, sha256, rows, load time,
-- and whether it is embedded, fetched (data/raw/<producteur>/<id>/<millesime>/), a file
-- of this repository, an imported register or the probe's journals (territoires sonde), with
-- its path and what it serves.
-- unique: id
-- not_null: id, producteur, titre, licence, millesime, lignes, charge_le, etat
-- accepted_values: etat in (embarquée, téléchargée, fichier du dépôt, registre importé, sonde exécutée)
with source as (select * from raw.sources),
final as (
    select
        id, producer as producteur, title as titre, licence, url,
        package_version as version_paquet, vintage as millesime,
        vintages as millesimes_detail, sha256, rows as lignes, loaded_at as charge_le,
        etat, chemin, usage
    from source
)
select * from final order by id
