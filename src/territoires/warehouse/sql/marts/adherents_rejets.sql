-- Every register line that was not accepted (and every file-level error: ligne null),
-- with the column, the value and the reason in French: nothing is dropped silently.
-- niveau: « rejet » (the line is not a member), « erreur » (the whole file is unreadable).
-- not_null: operateur, fichier, raison, niveau
-- accepted_values: niveau in (rejet, erreur)
with source as (select * from raw.adherents_rejets),
final as (
    select operateur, fichier, ligne, colonne, valeur, raison, niveau from source
)
select * from final order by operateur, fichier, ligne nulls first
