"""Reuse between builds: a table whose inputs did not change is kept, not recomputed.

Every table of the warehouse gets a fingerprint, stored in ``meta.empreintes``:

- a raw table: the hash of what it is loaded from (a source file's sha256, a data file's
  bytes, the scope), declared by its loading step;
- a model's table: the hash of its SQL and of the fingerprints of the tables it reads
  (found in its SQL by DuckDB's parser), so a change flows down to every table that depends on it.

A build starts from a copy of the previous warehouse (never the file itself: the copy
swaps in only when complete) and recomputes only the tables whose fingerprint changed.
Importing a member register thus recomputes the member tables and what reads them, and
reuses the communes' cleaned polygons and every level's geometry (seconds of coverage
cleaning, union and simplification) as they are.
"""

from __future__ import annotations

import hashlib
import secrets

import duckdb

from territoires.entrepot.litteraux import liste_texte
from territoires.warehouse.modeles import tables_lues


def empreinte(*parts: object) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else repr(p).encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


class Reprise:
    """Fingerprints of the previous build (``anciennes``) and of this one (``nouvelles``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, sel: str) -> None:
        self.con = con
        self.sel = sel  # code, versions: a change here recomputes everything
        self.anciennes: dict[str, str] = {}
        self.nouvelles: dict[str, str] = {}
        self.reprises: list[str] = []
        self.jeton = secrets.token_hex(8)  # this build's own: "rebuilt every time"
        try:
            self.anciennes = dict(con.execute("select nom, empreinte from meta.empreintes").fetchall())
        except duckdb.Error:
            pass
        #: ``schema.name`` → ``table`` or ``view``, what the previous warehouse holds
        self.existantes: dict[str, str] = {f"{s}.{t}": sorte for s, t, sorte in con.execute(
            "select schema_name, table_name, 'table' from duckdb_tables() union all "
            "select schema_name, view_name, 'view' from duckdb_views() where not internal").fetchall()}

    def a_jour(self, tables: tuple[str, ...], fp: str | None, facultatives: bool = False) -> bool:
        """Whether ``tables`` can be kept as they are (and then note their fingerprint);
        ``facultatives``: a table the previous build did not create need not exist."""
        if fp is None:
            return False
        fp = empreinte(self.sel, fp)
        ok = all(self.anciennes.get(t) == fp and (facultatives or t in self.existantes) for t in tables)
        for t in tables:
            self.nouvelles[t] = fp
        if ok:
            self.reprises.extend(tables)
        return ok

    def empreinte_modele(self, sql: str) -> str:
        """A model's fingerprint: its SQL and the fingerprints of what it reads (a table
        without one, rebuilt every time, makes the model rebuilt every time)."""
        deps = sorted(tables_lues(sql))
        return empreinte(sql, [(d, self.nouvelles.get(d) or f"toujours:{self.jeton}") for d in deps])

    def supprimer(self, tables: tuple[str, ...]) -> None:
        for t in tables:
            if t in self.existantes:
                self.con.execute(f"drop {self.existantes.pop(t)} if exists {t} cascade")

    def preparer(self, nom: str, sorte: str) -> None:
        """Make room for ``create or replace <sorte> nom``: an object of the other kind
        under that name (a table become a view, or the reverse) is dropped first."""
        if self.existantes.get(nom, sorte) != sorte:
            self.supprimer((nom,))

    def nettoyer(self, schemas: tuple[str, ...]) -> None:
        """Drop the tables and views of the previous warehouse that this build no longer makes."""
        for t in sorted(self.existantes):
            if t.split(".")[0] in schemas and t not in self.nouvelles:
                self.con.execute(f"drop {self.existantes[t]} if exists {t}")

    def enregistrer(self) -> None:
        self.con.execute("create schema if not exists meta")
        self.con.execute("create or replace table meta.empreintes (nom varchar, empreinte varchar)")
        if self.nouvelles:  # one statement (executemany costs a round trip per row)
            noms, empreintes = zip(*sorted(self.nouvelles.items()))
            self.con.execute(f"insert into meta.empreintes select unnest({liste_texte(noms)}), "
                             f"unnest({liste_texte(empreintes)})")
