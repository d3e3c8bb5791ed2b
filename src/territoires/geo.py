"""Map geometry for dashboards: the warehouse's per-level simplified polygons, made small.

A dashboard map never embeds full-resolution geometry. It reads ``geometrie_carte``
(coverage-simplified per level, so neighbours still share edges), snaps it to a grid
that matches the zoom (``precision`` of each level in ``data/niveaux.toml``: 3 decimals ≈ 100 m is below a pixel at region or
département zoom; 4 decimals for an EPCI), and encodes every ring with the *encoded
polyline* algorithm (each coordinate a zig-zag delta in base-64 characters). A region of
3,685 communes then weighs about 0.3 MB instead of 1.7 MB of GeoJSON, and an executed
notebook holds one short string per ring instead of hundreds of thousands of nested
lists. The page's script decodes it back into GeoJSON before plotly draws (see
``reports/assets/territoires.js``); :func:`geojson` does the same in Python.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from territoires import niveaux



@dataclass
class Geometries:
    """An encoded collection of polygons keyed by territory code, ready for a page."""

    precision: int
    ids: list[str] = field(default_factory=list)
    #: per feature: a list of polygons, each a list of encoded rings (outer first)
    shapes: list[list[list[str]]] = field(default_factory=list)
    bbox: tuple[float, float, float, float] | None = None  # lon_min, lat_min, lon_max, lat_max

    def to_json(self) -> dict[str, Any]:
        return {"format": "polyline", "precision": self.precision, "ids": self.ids,
                "shapes": self.shapes, "bbox": list(self.bbox) if self.bbox else None}

    def __len__(self) -> int:
        return len(self.ids)

    def nbytes(self) -> int:
        return len(json.dumps(self.to_json(), separators=(",", ":")))


# ── encoded polyline (Google's algorithm, x then y) ───────────────────────────
# One encoder, vectorised with numpy (a region of 3,685 communes in 0.03 s); the
# decoder below is its inverse, used by tests and by :func:`geojson`.

def _encode(coords, ring_off, precision: int, exterieur=None):
    """Encode rings given as one ``(n, 2+)`` coordinate array and ring offsets.

    Coordinates are rounded to ``precision`` decimals and consecutive duplicates dropped.
    ``exterieur`` (a boolean per ring, or ``None``): orient rings as d3-geo (hence
    plotly) wants them, exterior rings clockwise and holes counter-clockwise (a ring the
    wrong way round is drawn by d3 as the whole sphere minus the ring).
    Returns ``(texts, kept points per ring, zero-area mask)``.
    """
    import numpy as np

    ring_off = np.asarray(ring_off, dtype=np.int64)
    ints = np.rint(np.asarray(coords, dtype=float)[:, :2] * 10 ** precision).astype(np.int64)
    n = len(ints)
    n_rings = len(ring_off) - 1
    ring_of = np.repeat(np.arange(n_rings), np.diff(ring_off))
    start = np.zeros(n, dtype=bool)
    start[ring_off[:-1][np.diff(ring_off) > 0]] = True
    same = np.zeros(n, dtype=bool)
    same[1:] = (ints[1:] == ints[:-1]).all(axis=1)
    keep = start | ~same
    pts, ring_of = ints[keep], ring_of[keep]
    kept_per_ring = np.bincount(ring_of, minlength=n_rings)
    ring_start = np.concatenate(([0], np.cumsum(kept_per_ring)[:-1])).astype(np.int64)
    nxt = np.arange(1, len(pts) + 1)
    last = ring_start + kept_per_ring - 1
    nxt[last[kept_per_ring > 0]] = ring_start[kept_per_ring > 0]  # close each ring
    cross = pts[:, 0] * pts[nxt % max(len(pts), 1), 1] - pts[nxt % max(len(pts), 1), 0] * pts[:, 1]
    aire = np.bincount(ring_of, weights=cross, minlength=n_rings)
    if exterieur is not None:
        inverse = np.flatnonzero((aire != 0) & ((aire > 0) == np.asarray(exterieur, dtype=bool)))
        if len(inverse):
            order = np.arange(len(pts))
            for r in inverse.tolist():
                a, b = ring_start[r], ring_start[r] + kept_per_ring[r]
                order[a:b] = order[a:b][::-1]
            pts = pts[order]
    first = np.zeros(len(pts), dtype=bool)
    first[ring_start[kept_per_ring > 0]] = True
    delta = pts.copy()
    delta[1:] -= pts[:-1]
    delta[first] = pts[first]
    vals = delta.reshape(-1)
    z = (vals << 1) ^ (vals >> 63)  # zig-zag: small magnitudes → small non-negative numbers
    nchunks = np.ones(len(z), dtype=np.int64)
    rest = z >> 5
    while rest.any():
        nchunks += rest > 0
        rest >>= 5
    pos = np.cumsum(nchunks) - nchunks
    out = np.empty(int(nchunks.sum()), dtype=np.uint8)
    for k in range(int(nchunks.max()) if len(nchunks) else 0):
        m = nchunks > k
        chunk = (z[m] >> (5 * k)) & 0x1F
        chunk |= np.where(nchunks[m] - 1 > k, 0x20, 0)
        out[pos[m] + k] = chunk + 63
    text = out.tobytes().decode("ascii")
    # character offset of each ring: rings hold 2 values per kept point
    val_end = np.cumsum(2 * kept_per_ring)
    char_end = np.concatenate(([0], np.cumsum(nchunks)))[val_end]
    char_start = np.concatenate(([0], char_end[:-1]))
    texts = [text[a:b] for a, b in zip(char_start.tolist(), char_end.tolist())]
    return texts, kept_per_ring, aire == 0


def encode_ring(points: Sequence[Sequence[float]], precision: int) -> str:
    """Encode a ring of ``(lon, lat)`` points; consecutive duplicates are dropped."""
    if not len(points):
        return ""
    return _encode(points, [0, len(points)], precision)[0][0]


def decode_ring(text: str, precision: int) -> list[list[float]]:
    """Inverse of :func:`encode_ring`."""
    factor = 10 ** precision
    coords: list[list[float]] = []
    values: list[int] = []
    shift = result = 0
    for ch in text:
        b = ord(ch) - 63
        result |= (b & 0x1F) << shift
        shift += 5
        if b < 0x20:
            values.append(~(result >> 1) if result & 1 else result >> 1)
            shift = result = 0
    x = y = 0
    for i in range(0, len(values), 2):
        x += values[i]
        y += values[i + 1]
        coords.append([x / factor, y / factor])
    return coords


def _polygones(geom):
    """A (multi)polygon of the polygonal parts of any shapely geometry (``None`` if none)."""
    import shapely

    kind = shapely.get_type_id(geom)
    if kind in (3, 6):
        return geom
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in (3, 6)]
    polys = [q for p in parts for q in (shapely.get_parts(p) if shapely.get_type_id(p) == 6 else [p])]
    return shapely.multipolygons(polys) if polys else None


def from_geojson_rows(rows: Iterable[tuple[str, str | None]], precision: int) -> Geometries:
    """Build a collection from ``(code, GeoJSON geometry text)`` rows."""
    import shapely

    wkb = []
    for code, text in rows:
        if not text:
            continue
        geom = _polygones(shapely.from_geojson(text))
        if geom is not None:
            wkb.append((code, shapely.to_wkb(geom)))
    return from_wkb_rows(wkb, precision)


def geojson(geo: Geometries | dict) -> dict[str, Any]:
    """Decode a collection back into a GeoJSON FeatureCollection (ids as feature ids)."""
    data = geo.to_json() if isinstance(geo, Geometries) else geo
    p = data["precision"]
    features = []
    for code, polys in zip(data["ids"], data["shapes"]):
        coords = [[decode_ring(r, p) for r in rings] for rings in polys]
        features.append({"type": "Feature", "id": code, "properties": {},
                         "geometry": {"type": "MultiPolygon", "coordinates": coords}})
    return {"type": "FeatureCollection", "features": features}


def from_wkb_rows(rows: list[tuple[str, bytes]], precision: int) -> Geometries:
    """Encode ``(code, WKB)`` rows of (multi)polygons for a page: WKB parsed by shapely,
    every ring encoded at once by :func:`_encode`; rings or polygons that rounding
    collapses below the map's resolution are dropped."""
    import numpy as np
    import shapely

    if not rows:
        return Geometries(precision=precision)
    geoms = shapely.from_wkb([bytes(r[1]) for r in rows])
    kinds = set(shapely.get_type_id(geoms).tolist())
    if not kinds <= {3, 6}:  # other kinds: their polygonal parts
        keep = [(c, _polygones(g)) for (c, _), g in zip(rows, geoms)]
        keep = [(c, g) for c, g in keep if g is not None]
        rows = [(c, b"") for c, _ in keep]
        geoms = np.array([g for _, g in keep], dtype=object)
        if not rows:
            return Geometries(precision=precision)
    _, coords, (ring_off, poly_off, geom_off) = shapely.to_ragged_array(geoms)
    exterieur = np.zeros(len(ring_off) - 1, dtype=bool)
    exterieur[poly_off[:-1][np.diff(poly_off) > 0]] = True
    rings, kept_per_ring, vide = _encode(coords, ring_off, precision, exterieur)
    ok = (kept_per_ring >= 3) & ~vide
    geo = Geometries(precision=precision)
    for i, (code, _) in enumerate(rows):
        polys = []
        for pi in range(geom_off[i], geom_off[i + 1]):
            if poly_off[pi] == poly_off[pi + 1] or not ok[poly_off[pi]]:
                continue  # exterior collapsed by rounding: below the map's resolution
            rs = [rings[r] for r in range(poly_off[pi], poly_off[pi + 1]) if ok[r]]
            if rs:
                polys.append(rs)
        if polys:
            geo.ids.append(code)
            geo.shapes.append(polys)
    if geo.ids:
        x0, y0 = coords[:, 0].min(), coords[:, 1].min()
        x1, y1 = coords[:, 0].max(), coords[:, 1].max()
        geo.bbox = (round(float(x0), 4), round(float(y0), 4), round(float(x1), 4), round(float(y1), 4))
    return geo


# ── queries on the warehouse ───────────────────────────────────────────────────

def _select(con, where: str, params: list, precision: int) -> Geometries:
    # ST_AsWKB is in DuckDB's core: no spatial extension needed to read a map's polygons
    rows = con.execute(
        f"""
        select t.code, ST_AsWKB(t.geometrie_carte)
        from marts.territoires t
        where t.geometrie_carte is not null and {where}
        order by t.code
        """,
        params,
    ).fetchall()
    return from_wkb_rows(rows, precision)


def avec_spatial(con) -> None:
    """Load DuckDB's spatial extension on ``con`` if it is not loaded yet."""
    import duckdb

    try:
        con.execute("select ST_MakeEnvelope(0, 0, 1, 1)")
    except duckdb.CatalogException:
        from territoires.entrepot.connexion import load_spatial  # paresseux : charge duckdb

        load_spatial(con)


def communes(con, niveau: str, code: str, precision: int | None = None) -> Geometries:
    """The communes of a territory that have a polygon. An EPCI over a regional boundary
    also gets its communes outside the build's perimeter (simplified here, together), so
    its map covers the same communes as its rates."""
    p = niveaux.precision(niveau) if precision is None else precision
    rows = con.execute(
        """
        select t.code, ST_AsWKB(t.geometrie_carte)
        from marts.territoires t
        where t.geometrie_carte is not null and t.niveau = 'commune'
          and t.code in (select code_commune from marts.appartenances where niveau = ? and code = ?)
        order by t.code
        """,
        [niveau, code],
    ).fetchall()
    rows += _hors_perimetre(con, niveau, code)
    return from_wkb_rows(sorted(rows), p)


def communes_par_territoire(con, niveau: str) -> list[tuple[str, str, bytes]]:
    """:func:`communes` of every territory of ``niveau`` at once, as WKB rows
    ``(territoire, code, WKB)`` by territory then code: one query over the level (and,
    for the few EPCI over a regional boundary, their communes outside the perimeter)."""
    import duckdb

    rows = con.execute(
        """
        select a.territoire, t.code, ST_AsWKB(t.geometrie_carte)
        from marts.territoires t
        join (select distinct code as territoire, code_commune from marts.appartenances where niveau = ?) a
          on a.code_commune = t.code
        where t.geometrie_carte is not null and t.niveau = 'commune'
        """,
        [niveau],
    ).fetchall()
    if niveau == "epci":
        try:
            debordants = [c for (c,) in con.execute(
                "select distinct code from marts.appartenances where niveau = ? and not dans_perimetre order by code",
                [niveau]).fetchall()]
        except duckdb.Error:  # a warehouse without the perimeter flag
            debordants = []
        rows += [(t, c, w) for t in debordants for c, w in _hors_perimetre(con, niveau, t)]
    return sorted(rows)


def _hors_perimetre(con, niveau: str, code: str) -> list[tuple[str, bytes]]:
    """``(code, WKB)`` of a territory's communes outside the build's perimeter (an EPCI
    over a regional boundary), from their clean polygons, simplified together at the
    commune level's tolerance; none for any other territory."""
    import duckdb

    if niveau != "epci":  # other levels count only their communes inside the perimeter
        return []
    try:
        codes = [c for (c,) in con.execute(
            "select code_commune from marts.appartenances where niveau = ? and code = ? and not dans_perimetre "
            "order by code_commune", [niveau, code]).fetchall()]
    except duckdb.Error:  # a warehouse without the perimeter flag
        return []
    if not codes:
        return []
    avec_spatial(con)
    try:
        return con.execute(
            """
            with l as (
                select list(code order by code) as codes, list(geometrie_nette order by code) as geoms
                from intermediate.communes_nettes
                where list_contains(?, code) and geometrie_nette is not null
            ),
            s as (select codes, ST_CoverageSimplify(geoms, (select tolerance from staging.niveaux
                                                            where niveau = 'commune')) as cov from l),
            parts as (select codes, unnest(ST_Dump(cov)) as part from s)
            select codes[part.path[1]] as code, ST_AsWKB(ST_Multi(ST_Collect(list(part.geom))))
            from parts group by all order by code
            """,
            [codes],
        ).fetchall()
    except duckdb.Error:  # no clean polygons kept in this warehouse: the map says they are missing
        return []


def cadre(bbox: Sequence[float], marge: float = 0.03, aspect: float = 1.4) -> tuple[float, float, float, float]:
    """The map's view of a bounding box: a margin, and widened to at least ``aspect``
    (width / height, in Mercator units near its latitude) so a tall territory does not
    leave a narrow strip in the middle of the page."""
    x0, y0, x1, y1 = bbox
    dx, dy = (x1 - x0) * marge + 0.005, (y1 - y0) * marge + 0.005
    x0, x1, y0, y1 = x0 - dx, x1 + dx, y0 - dy, y1 + dy
    k = math.cos(math.radians((y0 + y1) / 2))  # one degree of longitude, in degrees of latitude
    largeur = (x1 - x0) * k
    if largeur < aspect * (y1 - y0):
        extra = (aspect * (y1 - y0) / k - (x1 - x0)) / 2
        x0, x1 = x0 - extra, x1 + extra
    return (x0, y0, x1, y1)


def contexte(con, niveau: str, code: str, precision: int | None = None, marge: float = 0.08,
             vue: Sequence[float] | None = None) -> Geometries:
    """Communes around a territory but outside it, drawn faintly for context.

    Those whose simplified polygon meets ``vue`` (the map's frame), or else the
    territory's bounding box widened by ``marge`` of its size; only within the build's
    perimeter, nothing is drawn beyond it.
    """
    p = niveaux.precision(niveau) if precision is None else precision
    avec_spatial(con)
    box = con.execute(
        "select ST_XMin(g), ST_YMin(g), ST_XMax(g), ST_YMax(g) from "
        "(select ST_Extent(geometrie_carte) as g from marts.territoires where niveau = ? and code = ?)",
        [niveau, code],
    ).fetchone()
    if not box or box[0] is None:
        return Geometries(precision=p)
    x0, y0, x1, y1 = vue if vue is not None else box
    dx, dy = ((x1 - x0) * marge, (y1 - y0) * marge) if vue is None else (0.0, 0.0)
    return _select(
        con,
        "t.niveau = 'commune' and ST_Intersects(t.geometrie_carte, ST_MakeEnvelope(?, ?, ?, ?)) "
        "and t.code not in (select code_commune from marts.appartenances where niveau = ? and code = ?)",
        [x0 - dx, y0 - dy, x1 + dx, y1 + dy, niveau, code],
        p,
    )


def contexte_par_territoire(con, niveau: str, vues: dict[str, Sequence[float]]) -> list[tuple[str, str, bytes]]:
    """:func:`contexte` of many territories of ``niveau`` at once, each with its map's frame
    (``vues``: ``{code: (x0, y0, x1, y1)}``): ``(territoire, code, WKB)`` rows by
    territory then code, in one spatial join."""
    if not vues:
        return []
    avec_spatial(con)
    codes = list(vues)
    x0, y0, x1, y1 = ([float(v[i]) for v in vues.values()] for i in range(4))
    rows = con.execute(
        """
        with v as (select unnest(?) as territoire, unnest(?) as x0, unnest(?) as y0, unnest(?) as x1, unnest(?) as y1),
        vues as (select * from v where territoire in (select code from marts.territoires
                                                      where niveau = ? and geometrie_carte is not null))
        select v.territoire, t.code, ST_AsWKB(t.geometrie_carte)
        from marts.territoires t join vues v on ST_Intersects(t.geometrie_carte, ST_MakeEnvelope(v.x0, v.y0, v.x1, v.y1))
        where t.niveau = 'commune' and t.geometrie_carte is not null
          and not exists (select 1 from marts.appartenances a
                          where a.niveau = ? and a.code = v.territoire and a.code_commune = t.code)
        """,
        [codes, x0, y0, x1, y1, niveau, niveau],
    ).fetchall()
    return sorted(rows)


def territoires(con, niveau: str, codes: Sequence[str] | None = None, precision: int = 3) -> Geometries:
    """Polygons of whole territories of one level (EPCI of a region, the four regions…)."""
    if codes is None:
        return _select(con, "t.niveau = ?", [niveau], precision)
    return _select(con, "t.niveau = ? and list_contains(?, t.code)", [niveau, list(codes)], precision)
