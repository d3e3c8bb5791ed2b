-- Third part of marts.indicateurs: the indicators of the fetched official sources (criteria
-- of catalogue.toml [criteres_sources], intermediate.faits_sources: the ANCT's checks of
-- sites and e-mails, public buyers in the DECP, actual use of the Suite territoriale), in
-- the same long format and with the same sums as marts.indicateurs_presence. Only those
-- whose denominator holds somewhere (intermediate.criteres_sources_presents): a source not
-- fetched gives no row, never a 0. It reads the catalogue from raw, so importing a register
-- leaves it as it is.
-- unique: niveau, code, tranche_taille, indicateur
-- not_null: niveau, code, tranche_taille, indicateur, numerateur, denominateur, population
-- references: niveau -> staging.niveaux(niveau)
with presence as (select * from marts.presence_numerique),
appartenances as (select * from marts.appartenances),
criteres_sources as (select critere from raw.indicateurs_criteres where famille = 'sources'),
catalogue as (
    select indicateur, numerateur, denominateur from raw.indicateurs_catalogue
    where (numerateur in (select critere from criteres_sources)
           or denominateur in (select critere from criteres_sources))
      and denominateur in (select critere from intermediate.criteres_sources_presents)
),
valeurs as (
    unpivot (
        select code, columns(c -> list_contains(getvariable('criteres_sources'), c))::integer
        from intermediate.faits_sources
    )
    on columns(* exclude (code)) into name critere value valeur
),
{{ controle_criteres(criteres = getvariable('criteres_sources'), table = intermediate.faits_sources) }}
{{ agregation_indicateurs }}
select * from final order by niveau, code, tranche_taille, indicateur
