-- Every indicator of the catalogue for every territory, in long format: one row per
-- niveau × code × tranche_taille × indicateur (see marts.indicateurs_presence for the
-- sums and the bands). A view over its three parts — presence (the directory), membership
-- (the operators' registers), fetched official sources — so that importing a member
-- register recomputes the membership part only. Each part holds the key unique (its own
-- tests) and the parts never share an indicator (their catalogue filters take disjoint
-- criteria families), so the view needs no test of its own (tests/test_maison.py checks it).
-- materialisation: vue
select * from marts.indicateurs_presence
union all by name
select * from marts.indicateurs_adhesion
union all by name
select * from marts.indicateurs_sources
