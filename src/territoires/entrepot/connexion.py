"""Open the warehouse: the one function every reader uses (:func:`connect`).

Options say what a reader needs: DuckDB's spatial extension (loaded from its PyPI
package, never downloaded; 0.15 s, so off for readers that only read names and codes),
a thread count, and a per-process cache (a batch kernel renders hundreds of pages on one
connection, reopened only when a rebuild swapped the file). Every failure is a
:class:`WarehouseError` naming the file and the reason, in French.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import duckdb


class WarehouseError(RuntimeError):
    """The warehouse is missing or unusable; the message says which file and why."""


def spatial_extension_path() -> Path:
    """Path of the spatial extension shipped by ``duckdb-extension-spatial``."""
    spec = importlib.util.find_spec("duckdb_extension_spatial")
    if spec is None or not spec.submodule_search_locations:
        raise WarehouseError(
            "paquet duckdb-extension-spatial introuvable (make install l'installe)"
        )
    root = Path(list(spec.submodule_search_locations)[0]) / "extensions"
    wanted = root / f"v{duckdb.__version__}" / "spatial.duckdb_extension"
    if wanted.is_file():
        return wanted
    found = sorted(root.glob("v*/spatial.duckdb_extension"))
    raise WarehouseError(
        f"{wanted}: extension spatiale absente pour duckdb {duckdb.__version__} "
        f"(trouvée : {', '.join(p.parent.name for p in found) or 'aucune'}) — "
        "installez duckdb-extension-spatial de la même version que duckdb"
    )


def load_spatial(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"LOAD '{spatial_extension_path().as_posix()}'")


#: path → ((inode, mtime, size), connection), for ``cached=True``
_CACHE: dict[str, tuple[tuple[int, int, int], duckdb.DuckDBPyConnection]] = {}


def connect(
    path: str | os.PathLike,
    *,
    read_only: bool = True,
    spatial: bool = True,
    threads: int | None = None,
    cached: bool = False,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse at ``path`` (the entry point resolved it: :mod:`territoires.config`),
    read-only unless asked.

    ``spatial`` loads the spatial extension; ``threads`` caps DuckDB's threads (default:
    ``$TERRITOIRES_THREADS`` when set, as in report kernels); ``cached`` returns the
    process's open connection while the file is unchanged (never close a cached one).
    A rebuild swaps in a new file atomically, so an open reader keeps a consistent view.
    """
    target = Path(path)
    if read_only and not target.is_file():
        raise WarehouseError(f"{target}: entrepôt introuvable — lancez d'abord `territoires build`")
    key = None
    if cached:
        st = target.stat()
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        hit = _CACHE.get(str(target))
        if hit and hit[0] == key:
            return hit[1]
        if hit:
            try:
                hit[1].close()
            except duckdb.Error:  # a stale handle is dropped whatever happens
                pass
            del _CACHE[str(target)]
    try:
        con = duckdb.connect(str(target), read_only=read_only)
    except duckdb.Error as exc:
        raise WarehouseError(f"{target}: ouverture impossible ({exc})") from exc
    if threads is None and os.environ.get("TERRITOIRES_THREADS", "").strip():
        threads = int(os.environ["TERRITOIRES_THREADS"])
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if spatial:
        load_spatial(con)
    if key is not None:
        _CACHE[str(target)] = (key, con)
    return con
