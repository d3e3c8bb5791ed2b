-- Every commune-like entity (types COM, ARM, COMD, COMA, SRM), typed.
-- Only type COM forms the level "commune"; ARM (arrondissements of Paris, Lyon,
-- Marseille), COMD (communes déléguées), COMA (associées) and SRM (secteurs) stay here
-- with their parent, never counted twice.
-- Their boundaries are typed in staging.contours_embarques (a view: parsed only for the
-- communes of the scope, by intermediate.perimetre_communes).
-- Names with their article, decided here only: the embedded list stores the name without
-- it (« Relecq-Kerhuon ») and the COG's type of name (TNCC, column type_nom) says which
-- one it takes: 2 Le, 3 La, 4 Les, 5 L', 6 Aux, 7 Las, 8 Los (tests/test_noms.py).
-- unique: code, type
-- not_null: code, type, nom
-- accepted_values: type in (COM, ARM, COMD, COMA, SRM)
with source as (
    select * from raw.communes
),
departements as (select * from staging.departements),
epci as (select * from staging.epci),
parents as (select id, code, departement_id from raw.communes),
renamed as (
    select
        c.id::integer as id_source,
        c.code::varchar as code,
        c.type::varchar as type,
        (case c.type_nom::varchar when '2' then 'Le ' when '3' then 'La ' when '4' then 'Les ' when '5' then 'L'''
             when '6' then 'Aux ' when '7' then 'Las ' when '8' then 'Los ' else '' end || c.nom)::varchar as nom,
        c.population_municipale::bigint as population,
        p.code as code_parent,
        coalesce(d.code, dp.code) as code_departement,
        coalesce(d.code_region, dp.code_region) as code_region,
        e.code as code_epci,
        nullif(trim(c.mairie_site), '') as mairie_site,
        nullif(trim(c.mairie_email), '') as mairie_email,
        nullif(trim(c.mairie_telephone), '') as mairie_telephone,
        nullif(trim(c.mairie_adresse), '') as mairie_adresse,
        nullif(nullif(trim(c.mairie_horaires), ''), '[]') as mairie_horaires,
        nullif(trim(c.mairie_accessibilite), '') as mairie_accessibilite,
        nullif(trim(c.mairie_accessibilite_details), '') as mairie_accessibilite_details,
        case when c.mairie_localisation is null then null
             else ST_GeomFromHEXEWKB(c.mairie_localisation) end as mairie_localisation
    from source c
    left join parents p on p.id = c.commune_parent_id
    left join departements d on d.id_source = c.departement_id::integer
    left join departements dp on dp.id_source = p.departement_id::integer
    left join epci e on e.id_source = c.epci_id::integer
),
final as (select * from renamed)
select * from final
