-- The cybersecurity probe's conclusions per target (commune or member: staging.sondes_cibles,
-- as its latest campaign listed it), as yes/no facts: the latest check of its URL and mail
-- domain (staging.sondes). A check whose resolver did not answer concludes nothing: the
-- target is then in no denominator (sonde_site, sonde_mail false). Empty when the probe was
-- not run. Read by intermediate.faits_sources (communes) and marts.adherents_chantiers.
-- unique: genre, operateur_cle, identifiant
-- not_null: genre, operateur_cle, identifiant, sonde_site, sonde_https_valide, sonde_redirection_https, sonde_hsts, sonde_mail, sonde_mx, sonde_spf, sonde_dmarc_protege, sonde_dnssec, sonde_mx_etranger
with cibles as (select * from staging.sondes_cibles),
web as (select * from staging.sondes where objet = 'web'),
mail as (select * from staging.sondes where objet = 'mail'),
final as (
    select
        c.genre, c.operateur, c.operateur_cle, c.identifiant,
        coalesce(w.web_conclu, false) as sonde_site,
        coalesce(w.https_joignable and w.certificat_valide, false) as sonde_https_valide,
        coalesce(w.redirection_https, false) as sonde_redirection_https,
        coalesce(w.hsts, false) as sonde_hsts,
        coalesce(m.mail_conclu, false) as sonde_mail,
        coalesce(m.mail_conclu and len(m.mx) > 0, false) as sonde_mx,
        coalesce(m.mail_conclu and m.spf, false) as sonde_spf,
        coalesce(m.mail_conclu and m.dmarc in ('reject', 'quarantine'), false) as sonde_dmarc_protege,
        coalesce(m.mail_conclu and m.dnssec, false) as sonde_dnssec,
        coalesce(m.mail_conclu and m.classe_mx = 'webmail_etranger', false) as sonde_mx_etranger
    from cibles c
    left join web w on w.cle = c.cle_web
    left join mail m on m.cle = c.cle_mail
)
select * from final
