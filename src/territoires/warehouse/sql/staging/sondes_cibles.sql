-- The probe's targets (raw.sondes_cibles; empty when the probe was not run): one row per
-- commune or member, as its latest campaign listed it, with the keys of its checks in
-- staging.sondes (cle_web: the URL probed, cle_mail: the mail domain).
-- unique: genre, operateur_cle, identifiant
-- not_null: genre, operateur_cle, identifiant, campagne
-- accepted_values: genre in (commune, adherent)
with source as (
    select *, coalesce(operateur, '') as operateur_cle from raw.sondes_cibles
    qualify row_number() over (partition by genre, coalesce(operateur, ''), identifiant order by campagne desc) = 1
),
final as (
    select genre, operateur, operateur_cle, identifiant, nom, code_commune, url, domaine_mail, cle_web, cle_mail,
           campagne
    from source
)
select * from final
