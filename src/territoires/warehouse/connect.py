"""Open the warehouse with DuckDB's spatial extension, loaded from its PyPI package."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import duckdb

from territoires.config import settings


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


def connect(path: str | Path | None = None, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (read-only by default) with spatial loaded.

    A rebuild swaps in a new file atomically, so an open reader keeps a consistent view.
    """
    target = Path(path) if path else settings().warehouse
    if read_only and not target.is_file():
        raise WarehouseError(f"{target}: entrepôt introuvable — lancez d'abord `territoires build`")
    try:
        con = duckdb.connect(str(target), read_only=read_only)
    except duckdb.Error as exc:
        raise WarehouseError(f"{target}: ouverture impossible ({exc})") from exc
    load_spatial(con)
    return con
