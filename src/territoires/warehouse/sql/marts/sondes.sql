-- The cybersecurity probe's results (territoires sonde), one row per target (commune or
-- member) and check, with the check's time; empty when the probe was not run.
-- Checks of the website: https (an HTTP answer over TLS), certificat (valide, or why not:
-- expire, autosigne, nom_different…; detail: its expiry date, notAfter), redirection_https
-- (the http:// URL leads to https://), hsts (Strict-Transport-Security on a verified
-- HTTPS answer). Checks of the mail domain: mx, spf, dmarc (policy: reject, quarantine,
-- none, absente), dnssec (DNSKEY signed by RRSIG; detail: the resolver's AD flag),
-- operateur_mx (class of the primary MX by indicators/mx.csv). `conforme`: the good
-- practice holds (null: nothing concluded — site unreachable for the certificate, or the
-- probe's resolver did not answer: then every check of that site or domain is null, the
-- reason in detail). The target's commune: code_commune (the member's seat).
-- unique: genre, operateur_cle, identifiant, controle
-- not_null: genre, operateur_cle, identifiant, controle, objet, cle, verifie_le, campagne
-- accepted_values: genre in (commune, adherent)
-- accepted_values: controle in (https, certificat, redirection_https, hsts, mx, spf, dmarc, dnssec, operateur_mx)
with cibles as (select * from staging.sondes_cibles),
sondes as (select * from staging.sondes),
web as (
    select c.genre, c.operateur, c.operateur_cle, c.identifiant, c.nom, c.code_commune,
           s.objet, s.cle, s.verifie_le, s.campagne, s.web_conclu as conclu, s.dns_erreur as erreur,
           [{'controle': 'https', 'resultat': case when s.https_joignable then 'oui' else 'non' end,
             'conforme': s.https_joignable, 'detail': s.https_erreur},
            {'controle': 'certificat', 'resultat': coalesce(case when s.certificat_valide then 'valide' end, s.certificat_erreur),
             'conforme': s.certificat_valide, 'detail': strftime(s.certificat_expire_le, '%Y-%m-%d')},
            {'controle': 'redirection_https', 'resultat': case when s.redirection_https then 'oui' else 'non' end,
             'conforme': s.redirection_https, 'detail': coalesce(s.http_erreur, array_to_string(s.redirections, ' → '))},
            {'controle': 'hsts', 'resultat': case when s.hsts then 'oui' else 'non' end,
             'conforme': s.hsts, 'detail': s.hsts_valeur}] as liste
    from cibles c join sondes s on s.objet = 'web' and s.cle = c.cle_web
),
mail as (
    select c.genre, c.operateur, c.operateur_cle, c.identifiant, c.nom, c.code_commune,
           s.objet, s.cle, s.verifie_le, s.campagne, s.mail_conclu as conclu, s.mail_erreur as erreur,
           [{'controle': 'mx', 'resultat': case when s.mail_conclu then case when len(s.mx) > 0 then 'oui' else 'non' end end,
             'conforme': case when s.mail_conclu then len(s.mx) > 0 end,
             'detail': coalesce(s.mail_erreur, array_to_string(s.mx, ', '))},
            {'controle': 'spf', 'resultat': case when s.mail_conclu then case when s.spf then 'oui' else 'non' end end,
             'conforme': case when s.mail_conclu then s.spf end, 'detail': coalesce(s.mail_erreur, s.spf_valeur)},
            {'controle': 'dmarc', 'resultat': case when s.mail_conclu then coalesce(s.dmarc, 'absente') end,
             'conforme': case when s.mail_conclu then coalesce(s.dmarc in ('reject', 'quarantine'), false) end,
             'detail': coalesce(s.mail_erreur, s.dmarc_valeur)},
            {'controle': 'dnssec', 'resultat': case when s.mail_conclu then case when s.dnssec then 'oui' else 'non' end end,
             'conforme': case when s.mail_conclu then s.dnssec end,
             'detail': coalesce(s.mail_erreur, case when s.dnssec_ad then 'validé par le résolveur (drapeau AD)' end)}]
           || case when s.mx_principal is not null then
               [{'controle': 'operateur_mx', 'resultat': s.classe_mx, 'conforme': s.classe_mx <> 'webmail_etranger',
                 'detail': coalesce(s.operateur_mx || ' (' || s.mx_principal || ')', s.mx_principal)}]
              else [] end as liste
    from cibles c join sondes s on s.objet = 'mail' and s.cle = c.cle_mail
),
deplies as (
    select * exclude (liste, c), c.* from (select *, unnest(liste) as c from web)
    union all by name
    select * exclude (liste, c), c.* from (select *, unnest(liste) as c from mail)
),
-- the resolver gave no answer: nothing concluded, the reason in detail
controles as (
    select * exclude (resultat, conforme, detail),
           case when conclu then resultat end as resultat, case when conclu then conforme end as conforme,
           case when conclu then detail else erreur end as detail
    from deplies
),
final as (
    select genre, operateur, operateur_cle, identifiant, nom, code_commune, controle, objet, cle, resultat, conforme,
           detail, verifie_le, campagne
    from controles
)
select * from final order by genre, operateur_cle, identifiant, controle
