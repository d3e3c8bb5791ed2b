"""Models kept outside the warehouse, by their fingerprint, from one build to the next.

A model whose header says ``-- materialisation: cache`` (the geometry: cleaning the
communes' coverage, the unions and the simplification per level, seconds each for all of
France) is, once built and tested, also written to
``data/processed/cache-modeles/<table>-<fingerprint>.parquet``. Its fingerprint is the one
:class:`~territoires.warehouse.reprise.Reprise` gives it: its SQL, the fingerprints of
every table it reads down to the source files' sha256 and the scope, and the code's. A
later build that gives the table the same fingerprint reads the file back instead of
running the SQL, even from an empty warehouse (``--force``) or after another scope was
built in between: the same inputs give the same table, byte for byte (geometry included,
as WKB; each column is cast back to its type, kept in the file's metadata).

- A file is written beside its name and renamed when complete (the temporary of a
  process killed meanwhile is removed as every other orphan); one that cannot be read
  is removed and the model runs as if it were absent: the cache never stops a build.
- The :data:`GARDER` most recently used files of each table are kept (France, four
  regions, a test slice…), the others removed at the end of the build.
- Removing the folder costs only time: the next build computes and writes again.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import duckdb

from territoires.entrepot.litteraux import litteral
from territoires.warehouse.modeles import Model, q

DOSSIER = "cache-modeles"
#: files kept per table (the most recently used)
GARDER = 3
_CLE = "territoires_colonnes"


class CacheModeles:
    """The cache folder ``dossier`` and this build's fingerprints (table → fingerprint)."""

    def __init__(self, dossier: Path, empreintes: dict[str, str]) -> None:
        self.dossier = dossier
        self.empreintes = empreintes
        #: tables read back from the cache by this build
        self.lues: list[str] = []

    def chemin(self, model: Model) -> Path:
        return self.dossier / f"{model.table}-{self.empreintes[model.table][:32]}.parquet"

    def lire(self, con: duckdb.DuckDBPyConnection, model: Model) -> bool:
        """Create ``model``'s table from its file if there is one; False otherwise (or if
        the file cannot be read: it is then removed)."""
        f = self.chemin(model)
        if not f.is_file():
            return False
        try:
            (meta,) = con.execute("select value from parquet_kv_metadata(?) where key = ?",
                                  [str(f), _CLE]).fetchone()
            colonnes = ", ".join(f"cast({q(c)} as {t}) as {q(c)}" for c, t in json.loads(meta))
            con.execute(f"create or replace table {model.table} as "
                        f"select {colonnes} from read_parquet({litteral(str(f))})")
        except duckdb.InterruptException:
            raise  # the build is stopping: the file is not at fault
        except (duckdb.Error, TypeError, ValueError):
            with contextlib.suppress(OSError):
                f.unlink()
            return False
        with contextlib.suppress(OSError):
            os.utime(f)  # used: kept longer than the others
        self.lues.append(model.table)
        return True

    def ecrire(self, con: duckdb.DuckDBPyConnection, model: Model) -> None:
        """Write ``model``'s table (built and tested) to its file; a failure (a full disk)
        only means no file: the build goes on."""
        f = self.chemin(model)
        tmp = f.with_name(f".{f.name}.tmp-{os.getpid()}")
        try:
            self.dossier.mkdir(parents=True, exist_ok=True)
            types = con.execute(f"select column_name, column_type from (describe {model.table})").fetchall()
            con.execute(f"copy {model.table} to {litteral(str(tmp))} (format parquet, compression zstd, "
                        f"kv_metadata {{{_CLE}: {litteral(json.dumps(types))}}})")
            os.replace(tmp, f)
        except duckdb.InterruptException:
            raise
        except (duckdb.Error, OSError):
            pass
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def elaguer(self) -> None:
        """Keep the :data:`GARDER` most recently used files of each table (the
        temporaries of a process that is gone are :func:`territoires.interruptions.orphelins`)."""
        par_table: dict[str, list[tuple[float, Path]]] = {}
        for f in self.dossier.glob("*.parquet"):
            with contextlib.suppress(OSError):
                par_table.setdefault(f.name.rsplit("-", 1)[0], []).append((f.stat().st_mtime, f))
        for fichiers in par_table.values():
            for _, f in sorted(fichiers, reverse=True)[GARDER:]:
                with contextlib.suppress(OSError):
                    f.unlink()
