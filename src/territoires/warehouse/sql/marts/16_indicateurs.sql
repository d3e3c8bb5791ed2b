-- Every indicator of the catalogue for every territory, in long format: one row per
-- niveau × code × tranche_taille × indicateur (see marts.indicateurs_presence for the
-- sums and the bands). A view over its two halves, so that importing a member register
-- recomputes the membership half only; the halves never share an indicator.
-- materialisation: vue
-- unique: niveau, code, tranche_taille, indicateur
select * from marts.indicateurs_presence
union all by name
select * from marts.indicateurs_adhesion
