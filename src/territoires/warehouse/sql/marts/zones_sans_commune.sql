-- Land inside the scope that no commune's outline covers: a hole of over 0.5 km² among the
-- clean outlines (intermediate.communes_nettes), white on every map. The embedded outlines
-- are older than the commune list: where the list names the missing part (a commune
-- déléguée), intermediate.communes_nettes has joined it to its commune already. What remains
-- is the land of a commune nouvelle created without communes déléguées (the list names no
-- part: Foucherans in Tarcenay-Foucherans, Ciel in Verdun-Ciel), or another country's enclave
-- (Llívia, in the Pyrénées-Orientales). Each zone with the communes it borders, so that the
-- pages of their territories say what the white patch is.
-- A union of every commune of the scope (0.6 s for France): kept between builds with the geometry.
-- materialisation: cache
-- unique: zone
-- not_null: zone, km2, longitude, latitude, codes_communes, noms_communes
with nettes as (
    select n.code, p.nom, n.geometrie_nette as geometrie
    from intermediate.communes_nettes n join intermediate.perimetre_communes p using (code)
),
parties as (select unnest(ST_Dump(ST_CoverageUnion_Agg(geometrie))) as partie from nettes),
trous as (
    select ST_MakePolygon(ST_InteriorRingN(p.partie.geom, r.n)) as trou
    from parties p, range(1, ST_NumInteriorRings(p.partie.geom) + 1) r(n)
),
grands as (
    select trou, ST_Area_Spheroid(ST_FlipCoordinates(trou)) / 1e6 as km2, ST_PointOnSurface(trou) as point
    from trous where ST_Area_Spheroid(ST_FlipCoordinates(trou)) > 500000
),
final as (
    select
        printf('%.4f %.4f', ST_X(g.point), ST_Y(g.point)) as zone,
        any_value(g.km2) as km2, any_value(ST_X(g.point)) as longitude, any_value(ST_Y(g.point)) as latitude,
        list(n.code order by n.code) as codes_communes,
        list(n.nom order by n.code) as noms_communes
    from grands g join nettes n on ST_DWithin(n.geometrie, g.trou, 0.00001)
    group by all
)
select * from final order by zone
