-- Macros shared by the presence models (intermediate/presence_sites.sql and
-- presence_emails.sql), created on the build connection with the UDFs by
-- territoires.indicators.load.register_functions.

-- The longest entry of a classification list (a list of domains) equal to a host or to
-- one of its parent domains: « mairie-x.wixsite.com » → « wixsite.com »; null if none.
create or replace macro tn_entree_liste(hote, domaines) as
    list_sort(
        list_transform(
            list_filter(domaines, d -> hote = d or ends_with(hote, '.' || d)),
            d -> {'longueur': length(d), 'domaine': d}
        ),
        'DESC'
    )[1].domaine;

-- The domain that identifies a site or a mailbox: under a listed platform (entree), the
-- platform's sub-domain given to the commune (mairie-x.wixsite.com) or the platform
-- itself when the host is the entry (www.intramuros.org/x); elsewhere the registrable
-- domain by the Public Suffix List (x.gouv.fr for mairie.x.gouv.fr, brest.fr for
-- www.brest.fr).
create or replace macro tn_domaine(hote, entree) as
    case
        when hote is null then null
        when entree is not null and hote = entree then entree
        when entree is not null then
            regexp_extract(left(hote, length(hote) - length(entree) - 1), '([^.]+)$', 1) || '.' || entree
        else tn_domaine_enregistrable(hote)
    end;
