-- The town hall's website as declared in its directory entry (Annuaire de l'administration),
-- parsed, one row per commune of the perimeter: scheme, host decoded from IDNA to Unicode,
-- the domain that identifies the site, its extension, its host class from
-- territoires/indicators/sites.csv (raw.classement_sites).
-- The host is read leniently (spaces, upper case, missing or broken scheme such as
-- "https:/", "www." prefix, port, user info, trailing dot); `url_valide` is strict: an
-- absolute http(s) URL without spaces whose host is a valid (possibly internationalised)
-- domain name. An e-mail address typed in the site field is not a website.
-- Identifying domain: under a listed platform, the platform's sub-domain given to the
-- commune (mairie-x.wixsite.com) or the platform itself when pages are paths
-- (www.intramuros.org/x); elsewhere the registrable domain by the Public Suffix List
-- (x.gouv.fr for mairie.x.gouv.fr). Both rules are macros shared with the e-mail model
-- (territoires/indicators/macros.sql); host names are IDNA 2008 (UTS #46).
-- unique: code
-- not_null: code, site_declare, url_valide, https, classe_hebergement, site_classe_par_liste, extension_souveraine
-- accepted_values: classe_hebergement in (domaine_propre, plateforme_publique, constructeur_commercial, pages_perso_fai, indetermine, sans_site)
-- A town hall listed by the fetched DILA directory (staging.annuaire_mairies) takes its
-- entry from there, else from the embedded one (sql/fragments/champ_mairie.sql).
with
{{ champ_mairie(champ = site, nom = url) }}
liste as (select * from raw.classement_sites),
extensions as (select * from raw.extensions_domaine),
declares as (
    select
        *,
        url is not null
            and not regexp_full_match(url, '(mailto:)?[^\s/:@]+@[^\s/@]+') as site_declare
    from nettoye
),
decoupe as (
    select
        *,
        case when site_declare then nullif(regexp_extract(url, '^([a-z][a-z0-9+-]*):', 1), '') end as schema_url,
        -- authority: drop the scheme and any slashes after it ("https:/", "http//" too)
        case when site_declare then regexp_extract(
            regexp_replace(url, '^([a-z][a-z0-9+-]*:/*|https?//+)', ''), '^([^/?#\s\\]*)', 1
        ) end as autorite
    from declares
),
hotes as (
    select
        *,
        -- host: drop user info, port and trailing dots
        nullif(regexp_replace(regexp_replace(regexp_replace(autorite, '^.*@', ''), ':[0-9]*$', ''), '\.+$', ''), '') as hote_brut
    from decoupe
),
-- each distinct host through the Python functions once, materialised so the filters
-- below do not call them again
hotes_idna as materialized (
    select hote_brut, tn_idna_unicode(hote_brut) as hote, tn_idna_ascii(hote_brut) as hote_ascii
    from (select distinct hote_brut from hotes where hote_brut is not null)
),
idna as (
    select h.*, i.hote, i.hote_ascii
    from hotes h
    left join hotes_idna i using (hote_brut)
),
valides as (
    select
        *,
        coalesce(
            length(hote_ascii) <= 253
            and regexp_full_match(hote_ascii, '([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63}|xn--[a-z0-9-]{1,59})'),
            false
        ) as hote_valide
    from idna
),
lecture as (
    select
        *,
        site_declare and hote_valide
            and schema_url in ('http', 'https')
            and regexp_full_match(url, 'https?://[^/?#\s@\\]+([/?#]\S*)?')
            and regexp_full_match(autorite, '[^:@]+(:[0-9]{1,5})?') as url_valide,
        case when hote_valide then
            case when regexp_matches(hote, '^www[0-9]*\.[^.]+\.') then regexp_replace(hote, '^www[0-9]*\.', '') else hote end
        end as hote_sans_www
    from valides
),
appariement as (
    -- longest list entry equal to the host or a parent domain of it
    select code, tn_entree_liste(hote_sans_www, (select list(domaine) from liste)) as entree
    from lecture where hote_valide
),
avec_liste as (
    select
        a.*,
        p.entree, l.classe as classe_liste, l.libelle as hebergeur, l.commune_titulaire as titulaire,
        string_split(a.hote_sans_www, '.') as labels
    from lecture a
    left join appariement p using (code)
    left join liste l on l.domaine = p.entree
),
final as (
    select
        code,
        mairie_site,
        site_declare,
        url_valide,
        coalesce(site_declare and schema_url = 'https', false) as https,
        schema_url as site_schema,
        case when hote_valide then hote end as site_hote,
        case when hote_valide then tn_domaine(hote_sans_www, entree) end as site_domaine,
        case when hote_valide then labels[-1] end as extension,
        coalesce(hote_valide and labels[-1] in (select extension from extensions where souveraine and type = 'premier_niveau'), false)
            as extension_souveraine,
        case
            when not site_declare then 'sans_site'
            when not hote_valide then 'indetermine'
            when entree is null or titulaire = code then 'domaine_propre'
            else classe_liste
        end as classe_hebergement,
        case when entree is not null and titulaire is distinct from code then hebergeur end as hebergeur,
        entree is not null as site_classe_par_liste
    from avec_liste
)
select * from final
