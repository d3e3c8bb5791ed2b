-- The six levels of territory, their French labels and the tolerance (degrees) used to
-- simplify their polygons for maps: a region map needs far fewer points than a
-- commune map. A seed: values declared here, not read from a source.
-- unique: niveau
-- not_null: niveau, libelle, ordre, tolerance
with final as (
    select * from (values
        ('commune',     'Commune',      'Communes',      1, 0.0008),
        ('epci',        'EPCI',         'EPCI',          2, 0.0015),
        ('departement', 'Département',  'Départements',  3, 0.003),
        ('region',      'Région',       'Régions',       4, 0.005),
        ('operateur',   'Opérateur',    'Opérateurs',    5, 0.005),
        ('alliance',    'Alliance',     'Alliance',      6, 0.008)
    ) as t(niveau, libelle, libelle_pluriel, ordre, tolerance)
)
select * from final
