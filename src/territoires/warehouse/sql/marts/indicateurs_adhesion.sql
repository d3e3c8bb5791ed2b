-- Second half of marts.indicateurs: membership and service adoption, in the same long
-- format and with the same sums as marts.indicateurs_presence. Only for the communes whose
-- operator's register is loaded (marts.adhesion_communes has no row for the others):
-- the criteria of catalogue.toml [criteres_adhesion], and one criterion per service of
-- the taxonomy, « service:<id> » (the member commune uses it, 0 or 1). Recomputed when a
-- register is imported; the presence half is not.
-- unique: niveau, code, tranche_taille, indicateur
-- not_null: niveau, code, tranche_taille, indicateur, numerateur, denominateur, population
-- references: niveau -> staging.niveaux(niveau)
with presence as (select * from marts.presence_numerique),
appartenances as (select * from marts.appartenances),
adhesion as (select * from marts.adhesion_communes),
catalogue as (
    select indicateur, numerateur, denominateur from marts.indicateurs_catalogue
    where numerateur in (select unnest(getvariable('criteres_adhesion')))
       or denominateur in (select unnest(getvariable('criteres_adhesion')))
       or numerateur like 'service:%'
),
valeurs_adhesion as (
    unpivot (
        select code, columns(c -> list_contains(getvariable('criteres_adhesion'), c))::integer
        from adhesion
    )
    on columns(* exclude (code)) into name critere value valeur
),
valeurs_services as (
    select a.code, 'service:' || s.service as critere,
           coalesce(a.adherente and list_contains(a.services, s.service), false)::integer as valeur
    from adhesion a cross join raw.services s
),
valeurs as (
    select * from valeurs_adhesion
    union all select * from valeurs_services
),
{{ controle_criteres(criteres = getvariable('criteres_adhesion'), table = marts.adhesion_communes) }}
{{ agregation_indicateurs }}
select * from final order by niveau, code, tranche_taille, indicateur
