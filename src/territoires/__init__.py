"""territoires — observatoire open data des opérateurs publics de services numériques.

Nothing runs at import. Analysts start with::

    import territoires
    con = territoires.connect()          # read-only DuckDB connection, spatial loaded
    con.sql("from marts.territoires where niveau = 'region'").pl()
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["connect", "__version__"]


def connect(path=None, *, read_only: bool = True, spatial: bool = True, threads: int | None = None,
            cached: bool = False):
    """Open the warehouse (read-only by default, spatial loaded): see
    :func:`territoires.warehouse.connect.connect`."""
    from territoires.warehouse.connect import connect as _connect

    return _connect(path, read_only=read_only, spatial=spatial, threads=threads, cached=cached)
