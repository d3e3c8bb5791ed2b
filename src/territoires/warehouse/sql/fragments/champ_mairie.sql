-- Fragment shared by intermediate.presence_sites and presence_emails: the town hall's
-- field of the parameter `champ` (site, email) for each commune of the perimeter, taken
-- from the fetched DILA directory (staging.annuaire_mairies) when it lists the town hall,
-- else from the embedded one (staging.communes.mairie_<champ>); then, in the CTE
-- `nettoye`, as the column of the parameter `nom`: trimmed (spaces, no-break spaces,
-- BOM), lower case, empty → null.
communes as (
    select p.code, case when a.code is not null then a.{{ champ }} else c.mairie_{{ champ }} end as mairie_{{ champ }}
    from intermediate.perimetre_communes p
    left join staging.communes c on c.code = p.code and c.type = 'COM'
    left join staging.annuaire_mairies a on a.code = p.code
),
nettoye as (
    select
        code,
        mairie_{{ champ }},
        nullif(lower(regexp_replace(mairie_{{ champ }}, '^[\s\x{00A0}\x{202F}\x{FEFF}]+|[\s\x{00A0}\x{202F}\x{FEFF}]+$', '', 'g')), '') as {{ nom }}
    from communes
),
