-- The criteria of the fetched official sources (catalogue.toml [criteres_sources]) that hold
-- for at least one commune of intermediate.faits_sources: an indicator whose denominator is
-- not among them (its source is not fetched) is neither catalogued
-- (marts.indicateurs_catalogue) nor computed (marts.indicateurs_sources): never a 0.
-- unique: critere
-- not_null: critere
select critere from (
    unpivot (
        select columns(c -> list_contains(getvariable('criteres_sources'), c))::integer
        from intermediate.faits_sources
    ) on columns(*) into name critere value valeur
)
group by critere having max(valeur) > 0
order by critere
