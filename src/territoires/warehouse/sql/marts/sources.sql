-- One row per loaded source: producer, vintage, licence, URL, sha256, rows, load time,
-- and whether it is embedded, fetched (data/raw/<producteur>/<id>/<millesime>/), a file
-- of this repository, an imported register or the probe's journals (territoires sonde), with
-- its path and what it serves; for a fetched source, when its copy was downloaded and, when
-- refreshing it fails, since when and why (raw.fraicheur, from data/raw/etat-telechargements.json).
-- unique: id
-- not_null: id, producteur, titre, licence, millesime, lignes, charge_le, etat
-- accepted_values: etat in (embarquée, téléchargée, fichier du dépôt, registre importé, sonde exécutée)
with source as (select * from raw.sources),
fraicheur as (select * from raw.fraicheur),
final as (
    select
        s.id, s.producer as producteur, s.title as titre, s.licence, s.url,
        s.package_version as version_paquet, s.vintage as millesime,
        s.vintages as millesimes_detail, s.sha256, s.rows as lignes, s.loaded_at as charge_le,
        s.etat, s.chemin, s.usage,
        try_cast(f.rafraichi_le as timestamp) as rafraichi_le,
        try_cast(f.echec_depuis as timestamp) as echec_depuis,
        f.erreur as erreur_telechargement
    from source s
    left join fraicheur f on f.id = s.id and s.etat = 'téléchargée'
)
select * from final order by id
