-- The principal town hall of each commune in the fetched DILA Annuaire de l'administration
-- (raw.annuaire; empty when not fetched: the embedded directory entries then serve), one row
-- per commune: its website (the first listed), its e-mail addresses joined by ";" as the
-- embedded field holds them, its SIREN.
-- A record is a town hall of a commune when ANY of its pivot entries is `mairie` and lists
-- that commune (Saint-Barthélemy's council is `cg` then `mairie`). The principal one is
-- chosen by this rule, in order, never by an id:
--   1. not an annexe nor a mairie déléguée (name containing « annexe », « délégué(e) »):
--      those are kept apart (nb_secondaires) and never chosen;
--   2. the record's own code_insee_commune is the commune;
--   3. the record serves this commune alone (fewest communes in its mairie entries);
--   4. the most recently modified record, then the name.
-- A commune whose only town-hall records are annexes or mairies déléguées gets no row
-- (its embedded entry stays).
-- unique: code
-- not_null: code, id_annuaire, nom_annuaire, nb_secondaires
with source as (
    select * from raw.annuaire where len(codes_mairie) > 0
),
par_commune as (
    select unnest(codes_mairie) as code, id, nom, siren, sites, courriels, telephones, code_insee_commune,
           len(codes_mairie) as nb_communes, date_modification,
           regexp_matches(lower(strip_accents(nom)), '\bannexe\b|\bdelegue') as secondaire
    from source
),
classees as (
    select *,
           count(*) filter (where secondaire) over (partition by code) as nb_secondaires,
           row_number() over (
               partition by code
               order by secondaire, (code_insee_commune is not distinct from code) desc, nb_communes,
                        date_modification desc nulls last, nom
           ) as rang
    from par_commune
    where code is not null
),
final as (
    select
        code, id as id_annuaire, nom as nom_annuaire, siren,
        sites[1] as site,
        nullif(array_to_string(courriels, ';'), '') as email,
        telephones[1] as telephone,
        nb_secondaires
    from classees
    where rang = 1 and not secondaire
)
select * from final
