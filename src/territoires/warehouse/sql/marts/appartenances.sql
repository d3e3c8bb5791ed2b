-- Commune × each territory containing it (epci, departement, region, operateur,
-- alliance). An EPCI that straddles the scope's border keeps its members outside it:
-- those rows have dans_perimetre = false and only their EPCI.
-- unique: code_commune, niveau, code
-- not_null: code_commune, niveau, code, dans_perimetre
-- references: niveau -> staging.niveaux(niveau)
with communes as (select * from intermediate.perimetre_communes),
-- the territories of marts.territoires (one row per territory of intermediate.territoires_bruts
-- whose level is declared), read before their maps are simplified: the links and the
-- indicators that read them do not wait for the geometry
territoires as (
    select b.niveau, b.code from intermediate.territoires_bruts b join staging.niveaux n using (niveau)
),
operateur_departements as (select * from staging.operateur_departements),
operateurs as (select * from staging.operateurs),
liens as (
    select code as code_commune, 'epci' as niveau, code_epci as code, dans_perimetre
    from communes where code_epci is not null
    union all
    select code, 'departement', code_departement, dans_perimetre from communes
    union all
    select code, 'region', code_region, dans_perimetre from communes
    union all
    select c.code, 'operateur', od.code_operateur, c.dans_perimetre
    from communes c join operateur_departements od using (code_departement)
    union all
    select distinct c.code, 'alliance', 'alliance', c.dans_perimetre
    from communes c
    join operateur_departements od using (code_departement)
    join operateurs o on o.code = od.code_operateur and o.alliance
),
final as (
    -- only links to territories that exist in this build's marts
    select l.* from liens l join territoires t using (niveau, code)
)
select * from final order by code_commune, niveau
