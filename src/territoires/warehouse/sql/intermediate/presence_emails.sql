-- The town hall's e-mail field as declared in its directory entry, parsed, one row per
-- commune of the perimeter. The field may hold several addresses (separated by ";", ",", "/",
-- spaces, "et"…), upper case, spaces, a "mailto:" prefix or angle brackets: every part is
-- checked and the first well-formed address (in the field's order) is the commune's
-- address. Its domain is decoded from IDNA to Unicode and classed from
-- territoires/indicators/messageries.csv (raw.classement_messageries); the identifying
-- domain follows the same rule as for websites (intermediate.presence_sites).
-- unique: code
-- not_null: code, email_declare, email_valide, nb_emails, classe_email, email_classe_par_liste
-- accepted_values: classe_email in (domaine_propre, plateforme_publique, webmail_grand_public, fournisseur_partage, invalide, sans_email)
-- A town hall listed by the fetched DILA directory (staging.annuaire_mairies) takes its
-- entry from there, else from the embedded one (sql/fragments/champ_mairie.sql).
with
{{ champ_mairie(champ = email, nom = champ) }}
liste as (select * from raw.classement_messageries),
morceaux as (
    select code, string_split_regex(champ, '[;,/\s\x{00A0}]+') as parts
    from nettoye where champ is not null
),
candidats as (
    select
        code,
        unnest(parts) as brut,
        generate_subscripts(parts, 1) as rang
    from morceaux
),
verifies as (
    select
        code, rang,
        -- angle brackets, parentheses and quotes dropped, then "mailto:" and trailing dots
        regexp_replace(regexp_replace(regexp_replace(brut, '[<>()"'']', '', 'g'), '^mailto:', ''), '\.+$', '') as adresse
    from candidats
),
domaines as (
    select
        *,
        regexp_full_match(adresse, '[a-z0-9!#$%&''*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&''*+/=?^_`{|}~-]+)*@[^@\s]+') as forme_ok,
        regexp_extract(adresse, '@([^@]+)$', 1) as domaine_brut
    from verifies
),
-- each distinct host through the Python functions once (France: 34,482 addresses, about
-- 15,600 hosts), materialised so the filters below do not call them again
hotes_idna as materialized (
    select domaine_brut, tn_idna_unicode(domaine_brut) as domaine, tn_idna_ascii(domaine_brut) as domaine_ascii
    from (select distinct domaine_brut from domaines where domaine_brut is not null)
),
idna as (
    select d.*, h.domaine, h.domaine_ascii
    from domaines d
    left join hotes_idna h using (domaine_brut)
),
valides as (
    select
        code, rang, domaine,
        split_part(adresse, '@', 1) || '@' || domaine as adresse
    from idna
    where forme_ok
      and length(domaine_ascii) <= 253
      and regexp_full_match(domaine_ascii, '([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63}|xn--[a-z0-9-]{1,59})')
),
par_commune as (
    select
        code,
        -- in the field's order: sorted once per commune by the rank, cheaper than an
        -- ordered aggregate
        list_transform(list_sort(list({'rang': rang, 'adresse': adresse})), x -> x.adresse) as adresses,
        arg_min(domaine, rang) as email_domaine_complet
    from valides
    group by code
),
appariement as (
    select code, tn_entree_liste(email_domaine_complet, (select list(domaine) from liste)) as entree
    from par_commune
),
assemble as (
    select
        n.code, n.mairie_email, n.champ,
        coalesce(p.adresses, []::varchar[]) as adresses,
        p.email_domaine_complet,
        a.entree, l.classe as classe_liste, l.libelle as fournisseur, l.commune_titulaire as titulaire
    from nettoye n
    left join par_commune p using (code)
    left join appariement a using (code)
    left join liste l on l.domaine = a.entree
),
final as (
    select
        code,
        mairie_email,
        champ is not null as email_declare,
        len(adresses) > 0 as email_valide,
        len(adresses)::integer as nb_emails,
        adresses[1] as email,
        adresses as emails,
        email_domaine_complet as email_hote,
        tn_domaine(email_domaine_complet, entree) as email_domaine,
        case
            when champ is null then 'sans_email'
            when len(adresses) = 0 then 'invalide'
            when entree is null or titulaire = code then 'domaine_propre'
            else classe_liste
        end as classe_email,
        case when entree is not null and titulaire is distinct from code then fournisseur end as fournisseur_email,
        entree is not null as email_classe_par_liste
    from assemble
)
select * from final
