-- EPCI à fiscalité propre; the SIREN is the code.
-- Names as readers know them, decided here only: the embedded list prefixes every name
-- with its legal form, doubling it where the official name already says it
-- (« Communauté de communes Communauté Lesneven Côte des Légendes », « Communauté
-- d'agglomération Lannion-Trégor Communauté », « Communauté urbaine Le Mans Métropole »):
-- the prefix is dropped when the rest names a « Communauté », a « Métropole » or an
-- « Agglomération » (« Lorient Agglomération », « Cœur d'Essonne Agglomération »)
-- (tests/test_noms.py).
-- unique: code
-- not_null: code, nom, nature
with source as (
    select * from raw.epci
),
renamed as (
    select
        id::integer as id_source,
        code::varchar as code,
        case when regexp_matches(nom, '^(Communauté de communes|Communauté d''agglomération|Communauté urbaine)'
                                         || '.*[ (''-]([Cc]ommunauté|[Mm]étropole|[Aa]gglomération|[Aa]gglo)([ ,)-]|$)')
             then regexp_replace(nom, '^(Communauté de communes|Communauté d''agglomération|Communauté urbaine) ', '')
             else nom end::varchar as nom,
        type::varchar as nature   -- CC, CA, CU, ME (métropole)
    from source
),
final as (select * from renamed)
select * from final
