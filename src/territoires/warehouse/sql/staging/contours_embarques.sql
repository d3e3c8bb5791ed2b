-- materialisation: vue
-- The embedded boundary of every commune-like entity of raw.communes (hex EWKB), typed:
-- the second half of that file's staging, beside staging.communes. A view, not a table:
-- only intermediate.perimetre_communes reads it, for the communes of the scope (France's
-- 37,000 outlines are not parsed and stored again for a scope of four regions; the
-- warehouse keeps the scope's, once, in intermediate.communes_nettes).
-- unique: code, type
-- not_null: code, type
select
    c.code::varchar as code,
    c.type::varchar as type,
    case when c.geometry is null then null else ST_GeomFromHEXEWKB(c.geometry) end as geometrie,
    -- whether it has one, without parsing it
    c.geometry is not null as a_contour
from raw.communes c
