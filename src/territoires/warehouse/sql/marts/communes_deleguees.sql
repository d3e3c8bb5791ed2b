-- The communes déléguées and associées of the embedded commune list (COG 2025), each with
-- the commune it now belongs to: names that residents and field teams still use
-- (Saint-Launeuc in Merdrignac, Kernével in Rosporden). The site's search finds them and
-- opens the card of their commune. Communes of marts.territoires only; a commune déléguée
-- that is its commune's chef-lieu shares its code (chef_lieu), and often its name.
-- unique: code, type
-- not_null: code, type, libelle_type, nom, code_commune, nom_commune, chef_lieu
-- accepted_values: type in (COMD, COMA)
-- references: code_commune -> marts.territoires(code)
with communes as (select code, nom from marts.territoires where niveau = 'commune'),
final as (
    select
        d.code, d.type,
        case d.type when 'COMD' then 'commune déléguée' else 'commune associée' end as libelle_type,
        d.nom, c.code as code_commune, c.nom as nom_commune,
        d.code = c.code as chef_lieu
    from staging.communes d
    join communes c on c.code = d.code_parent
    where d.type in ('COMD', 'COMA')
)
select * from final order by code_commune, code, type
