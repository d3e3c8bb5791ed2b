-- Fragment shared by intermediate.faits_sources (communes) and marts.adherents_chantiers
-- (the other members): the open-data facts (alias `o`: intermediate.donnees_ouvertes by the
-- entity's SIREN; CTEs `opendata_charge`, `odf_charge`: whether each source is fetched) and
-- the probe's (alias `s`: intermediate.sondes_faits), false (0) where not measured, in a
-- select list. Parameters: `siren_connu` (SQL: the entity's SIREN is known), `plateforme`
-- (SQL: the open-data platform its operator declares, operateurs.toml plateforme_opendata).
({{ siren_connu }} and (select oui from opendata_charge)) as opendata_rapprochable,
coalesce(o.opendata_organisation, false) as opendata_organisation,
coalesce(o.opendata_publie, false) as opendata_publie,
coalesce(o.opendata_jeux, 0) as opendata_jeux,
o.opendata_modifie_le,
({{ siren_connu }} and (select oui from odf_charge)) as odf_rapprochable,
coalesce(o.odf_publie, false) as odf_publie,
coalesce(o.odf_publie_datagouv, false) as odf_publie_datagouv,
o.odf_plateforme,
({{ siren_connu }} and (select oui from odf_charge) and {{ plateforme }} is not null) as odf_operateur_rapprochable,
coalesce(o.odf_plateforme_opendata = {{ plateforme }}, false) as odf_plateforme_operateur,
coalesce(s.sonde_site, false) as sonde_site,
coalesce(s.sonde_https_valide, false) as sonde_https_valide,
coalesce(s.sonde_redirection_https, false) as sonde_redirection_https,
coalesce(s.sonde_hsts, false) as sonde_hsts,
coalesce(s.sonde_mail, false) as sonde_mail,
coalesce(s.sonde_mx, false) as sonde_mx,
coalesce(s.sonde_spf, false) as sonde_spf,
coalesce(s.sonde_dmarc_protege, false) as sonde_dmarc_protege,
coalesce(s.sonde_dnssec, false) as sonde_dnssec,
coalesce(s.sonde_mx_etranger, false) as sonde_mx_etranger
