-- Communes of the fetched ANCT DPNT (raw.dpnt_organisations; empty when not fetched), with
-- the criteria of the Référentiel de la présence numérique des territoires they meet, as
-- tested by the ANCT (criteria numbers from the published référentiel,
-- github.com/suitenumerique/st-home src/pages/conformite/referentiel.tsx): 1.3 site
-- reachable, 1.4 site served over HTTPS, 2.1 e-mail declared, 2.2 e-mail not on a generic
-- provider's domain.
-- unique: code
-- not_null: code, https_verifie, site_joignable, email_declare_verifie, email_non_generique_verifie
with source as (
    select * from raw.dpnt_organisations where type = 'commune' and code_insee is not null
),
final as (
    select
        code_insee as code, siret, siren,
        coalesce(rpnt, []) as rpnt,
        list_contains(coalesce(rpnt, []), '1.4') as https_verifie,
        list_contains(coalesce(rpnt, []), '1.3') as site_joignable,
        list_contains(coalesce(rpnt, []), '2.1') as email_declare_verifie,
        list_contains(coalesce(rpnt, []), '2.2') as email_non_generique_verifie
    from source
    qualify row_number() over (partition by code_insee order by siret) = 1
)
select * from final
