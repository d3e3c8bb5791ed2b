-- The cybersecurity probe's checks (raw.sondes, from the journals of `territoires sonde`;
-- empty when the probe was not run), the latest of each check: one row per website URL
-- (objet = 'web') or mail domain (objet = 'mail'), its fields typed, with its time. The
-- primary MX host is classified by territoires/indicators/mx.csv (raw.classement_mx: the
-- longest matching suffix; a host in no entry is « autre »; no MX: null).
-- `web_conclu`, `mail_conclu`: the resolver answered for the site's host or the mail domain
-- (a timeout or SERVFAIL of the probe's resolver concludes nothing about the commune).
-- unique: objet, cle
-- not_null: objet, cle, campagne, verifie_le
-- accepted_values: objet in (web, mail)
-- accepted_values: certificat_erreur in (expire, autosigne, nom_different, autorite_inconnue, pas_encore_valide, revoque, autre)
-- accepted_values: dmarc in (none, quarantine, reject)
-- accepted_values: classe_mx in (operateur_public_francais, hebergeur_francais, webmail_etranger, autre)
with source as (
    select * from raw.sondes
    qualify row_number() over (partition by objet, cle order by verifie_le desc, campagne desc) = 1
),
liste as (select * from raw.classement_mx),
typees as (
    select
        objet, cle, campagne, verifie_le, duree_s,
        -- website
        (resultat ->> 'https_joignable')::boolean as https_joignable,
        (resultat ->> 'https_statut')::integer as https_statut,
        resultat ->> 'https_erreur' as https_erreur,
        (resultat ->> 'certificat_valide')::boolean as certificat_valide,
        resultat ->> 'certificat_erreur' as certificat_erreur,
        strptime(resultat ->> 'certificat_expire_le', '%Y-%m-%dT%H:%M:%SZ') as certificat_expire_le,
        (resultat ->> 'hsts')::boolean as hsts,
        resultat ->> 'hsts_valeur' as hsts_valeur,
        (resultat ->> 'http_joignable')::boolean as http_joignable,
        (resultat ->> 'redirection_https')::boolean as redirection_https,
        (resultat -> 'redirections')::varchar[] as redirections,
        (resultat ->> 'boucle')::boolean as boucle_redirections,
        resultat ->> 'http_erreur' as http_erreur,
        resultat ->> 'dns_erreur' as dns_erreur,
        -- mail domain
        (resultat -> 'mx')::varchar[] as mx,
        resultat ->> 'mx_principal' as mx_principal,
        (resultat ->> 'spf')::boolean as spf,
        resultat ->> 'spf_valeur' as spf_valeur,
        resultat ->> 'dmarc' as dmarc,
        resultat ->> 'dmarc_valeur' as dmarc_valeur,
        (resultat ->> 'dnssec')::boolean as dnssec,
        (resultat ->> 'dnssec_ad')::boolean as dnssec_ad,
        resultat ->> 'erreur' as mail_erreur
    from source
),
-- the longest entry of the list matching the primary MX host
classes as (
    select t.objet, t.cle, arg_max(l.classe, length(l.domaine)) as classe, arg_max(l.libelle, length(l.domaine)) as libelle
    from typees t
    join liste l on t.mx_principal = l.domaine or ends_with(t.mx_principal, '.' || l.domaine)
    group by t.objet, t.cle
),
final as (
    select
        t.*,
        t.objet = 'web' and t.dns_erreur is null as web_conclu,
        t.objet = 'mail' and t.mail_erreur is null as mail_conclu,
        case when t.mx_principal is not null then coalesce(c.classe, 'autre') end as classe_mx,
        c.libelle as operateur_mx
    from typees t
    left join classes c using (objet, cle)
)
select * from final
