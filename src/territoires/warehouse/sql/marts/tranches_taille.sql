-- Commune size bands (population municipale of the source's population vintage), the
-- breakdown used by marts.indicateurs. A seed: values declared here. `max` is null for
-- the open top band.
-- unique: tranche_taille
-- not_null: tranche_taille, libelle, min, ordre
with final as (
    select * from (values
        ('0-499',       'moins de 500 hab.',            0,     499,   1),
        ('500-999',     'de 500 à 999 hab.',            500,   999,   2),
        ('1000-3499',   'de 1 000 à 3 499 hab.',    1000,  3499,  3),
        ('3500-9999',   'de 3 500 à 9 999 hab.',    3500,  9999,  4),
        ('10000-49999', 'de 10 000 à 49 999 hab.', 10000, 49999, 5),
        ('50000+',      '50 000 hab. ou plus',       50000, null,  6)
    ) as t(tranche_taille, libelle, min, max, ordre)
)
select tranche_taille, libelle, min::bigint as min, max::bigint as max, ordre::integer as ordre from final
