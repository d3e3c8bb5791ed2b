-- Membership of every commune of the perimeter towards its own operator (the operator of
-- its département), only where that operator's register is loaded (elsewhere no row: no
-- register is no information, never « not a member »). Besides the facts (member, since
-- when, EPCI or département member, services used), the integer criteria that
-- marts.indicateurs sums (declared in catalogue.toml [criteres_adhesion]): commune_registre,
-- commune_adherente, commune_non_adherente, commune_epci_adherent, services_adherente, and the presence score of
-- member and non-member communes, to compare them within a size band.
-- unique: code
-- not_null: code, code_operateur, adherente, commune_registre, commune_adherente, commune_non_adherente, commune_epci_adherent, services_adherente
with faits as (select * from intermediate.adhesion_communes where registre_charge),
presence as (select code, nom, population, tranche_taille, fiche_mairie, score_presence from marts.presence_numerique),
final as (
    select
        f.code, p.nom, f.code_operateur, p.population, p.tranche_taille,
        f.adherente, f.date_adhesion, f.epci_adherent, f.departement_adherent, f.services, f.nb_services,
        1 as commune_registre,
        f.adherente::integer as commune_adherente,
        (not f.adherente)::integer as commune_non_adherente,
        f.epci_adherent::integer as commune_epci_adherent,
        coalesce(f.nb_services, 0)::integer as services_adherente,
        case when f.adherente then coalesce(p.score_presence, 0) else 0 end as score_presence_adherente,
        case when f.adherente and p.fiche_mairie then 100 else 0 end as score_maximum_adherente,
        case when not f.adherente then coalesce(p.score_presence, 0) else 0 end as score_presence_non_adherente,
        case when not f.adherente and p.fiche_mairie then 100 else 0 end as score_maximum_non_adherente
    from faits f
    join presence p using (code)
)
select * from final order by code
