-- Each operator's perimeter, one row per département (empty list = whole region).
-- unique: code_operateur, code_departement
-- not_null: code_operateur, code_departement
with operateurs as (select * from staging.operateurs),
departements as (select * from staging.departements),
final as (
    select o.code as code_operateur, d.code as code_departement
    from operateurs o
    join departements d
      on (len(o.departements) = 0 and d.code_region = o.code_region)
      or list_contains(o.departements, d.code)
)
select * from final
