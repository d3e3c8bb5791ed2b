-- The six levels of territory, their French labels and the tolerance (degrees) used to
-- simplify their polygons for maps: a region map needs far fewer points than a commune
-- map. Declared once in territoires/data/niveaux.toml (read by Python too), loaded as
-- raw.niveaux by the build.
-- unique: niveau
-- unique: ordre
-- not_null: niveau, libelle, libelle_pluriel, ordre, tolerance
with source as (
    select * from raw.niveaux
),
final as (
    select
        niveau::varchar as niveau,
        libelle::varchar as libelle,
        libelle_pluriel::varchar as libelle_pluriel,
        ordre::integer as ordre,
        tolerance::double as tolerance,
        du::varchar as du,
        devant_nom::varchar as devant_nom,
        precision::integer as precision,
        page::boolean as page,
        tableau::boolean as tableau
    from source
)
select * from final
