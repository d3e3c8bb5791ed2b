"""History of the indicators between vintages: ``marts.historique_indicateurs``.

Each build replaces the warehouse, so the history cannot live only inside it: it is not
derived from raw data. It is kept beside the warehouse as one Parquet
file per snapshot (``data/processed/historique_indicateurs/``) and carried forward:

- :func:`enregistrer` appends the new build's ``marts.indicateurs`` rows to that file,
  keyed by the vintages of its sources (``millesimes``), its fingerprint and build time
  (one *snapshot*), written atomically (temporary file beside it, then rename). A build
  whose fingerprint is already stored, or whose vintages and figures equal a stored
  snapshot's, appends nothing: a rebuild with unchanged inputs adds no snapshot.
- :func:`attacher` brings the snapshots into the new warehouse as
  ``marts.historique_indicateurs`` (readers need nothing but the warehouse); the previous
  build's table, reused, only gets the snapshots it lacks.
- :func:`evolution` gives, per territory × indicator × size band, the change since the
  previous vintage: the latest snapshot against the latest one with other vintages.

In ``warehouse/build.py``, once the marts are built and tested, before ``meta.build``::

    from territoires.warehouse import historique
    historique.enregistrer(con, cfg.processed_dir / historique.FICHIER, fingerprint,
                           historique.millesimes(con), construit_le, perimetre=scope_label)
    historique.attacher(con, cfg.processed_dir / historique.FICHIER)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import polars as pl

#: the history: a folder of Parquet snapshots in ``data/processed/``, beside the warehouse
FICHIER = "historique_indicateurs"

#: the rows of marts.indicateurs a snapshot keeps: every territory above the commune, all
#: its communes together (a commune's or a size band's history would multiply the size of
#: each snapshot by twenty for figures no page shows as an evolution)
PORTEE = "niveau <> 'commune' and tranche_taille = 'ensemble'"

#: columns of marts.indicateurs kept in each snapshot (its key first)
CLE = ("niveau", "code", "tranche_taille", "indicateur")
VALEURS = ("numerateur", "denominateur", "taux", "taux_pondere", "population")

SCHEMA = """
    niveau varchar, code varchar, tranche_taille varchar, indicateur varchar,
    numerateur bigint, denominateur bigint, taux double, taux_pondere double, population bigint,
    millesimes varchar, millesime varchar, empreinte varchar, contenu varchar, perimetre varchar,
    construit_le timestamp
"""

COLONNES_EVOLUTION = {
    "niveau": "String", "code": "String", "tranche_taille": "String", "indicateur": "String",
    "millesime": "String", "millesime_precedent": "String", "construit_le_precedent": "Datetime",
    "taux": "Float64", "taux_precedent": "Float64", "evolution": "Float64",
    "numerateur": "Int64", "numerateur_precedent": "Int64",
}


def _litteral(path: Path) -> str:
    return "'" + Path(path).as_posix().replace("'", "''") + "'"


def millesimes(con: "duckdb.DuckDBPyConnection") -> dict[str, str]:
    """The vintages of a warehouse's sources, ``{"source.cle": millésime}``, from
    ``raw.provenance`` (what :func:`enregistrer` keys a snapshot by)."""
    return {f"{s}.{k}": str(m) for s, k, m in con.execute(
        "select source_id, cle, millesime from raw.provenance order by all").fetchall()}


def _json(m: Mapping[str, Any]) -> str:
    return json.dumps({str(k): str(v) for k, v in m.items()}, sort_keys=True, ensure_ascii=False)


def _libelle(m: Mapping[str, Any]) -> str:
    """A short label of a set of vintages: ``clé millésime ; …``."""
    return " ; ".join(f"{k} {v}" for k, v in sorted(m.items()))


def _contenu(con) -> str:
    """A hash of the build's indicator figures (key and values, in key order)."""
    cols = ", ".join((*CLE, *VALEURS))
    # computed by DuckDB (order-independent XOR of row hashes): no row comes into Python
    n, x = con.execute(f"select count(*), bit_xor(hash({cols})) from marts.indicateurs where {PORTEE}").fetchone()
    return hashlib.sha256(f"{n}:{x}".encode()).hexdigest()


def _fichiers(path: Path) -> list[Path]:
    """The snapshot files of the history: one Parquet file per snapshot in the folder
    ``path`` (a single file, the first layout, is read too)."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.glob("*.parquet") if not p.name.startswith("."))
    return [path] if path.is_file() else []


def _lecture(fichiers: list[Path]) -> str:
    return "read_parquet([" + ", ".join(_litteral(f) for f in fichiers) + "], union_by_name = true)"


def enregistrer(con: "duckdb.DuckDBPyConnection", historique_path: str | os.PathLike, fingerprint: str,
                millesimes: Mapping[str, Any], construit_le: datetime, *, perimetre: str = "") -> int:
    """Append the indicators of ``con``'s ``marts.indicateurs`` as one snapshot to the
    history; return the number of rows appended (0 when nothing changed).

    Nothing is appended when a snapshot with the same ``fingerprint`` is stored, or one
    with the same ``perimetre``, the same ``millesimes`` and the same figures. Each
    snapshot is its own Parquet file in the folder ``historique_path`` (written beside
    itself, then renamed: a crash leaves the previous snapshots), so appending costs one
    snapshot, never the whole history.
    """
    path = Path(historique_path)
    mil = _json(millesimes)
    contenu = _contenu(con)
    fichiers = _fichiers(path)
    if fichiers:
        deja = con.execute(
            f"select count(*) from {_lecture(fichiers)} where empreinte = ? "
            "or (perimetre = ? and millesimes = ? and contenu = ?)",
            [fingerprint, perimetre, mil, contenu]).fetchone()[0]
        if deja:
            return 0
    n = con.execute(f"select count(*) from marts.indicateurs where {PORTEE}").fetchone()[0]
    if not n:
        return 0
    if path.is_file():  # the first layout, one file: it becomes the folder's first snapshot
        ancien = path.with_name(f".{path.name}.ancien-{os.getpid()}")
        os.replace(path, ancien)
        path.mkdir(parents=True)
        os.replace(ancien, path / "00000000T000000-premier.parquet")
    path.mkdir(parents=True, exist_ok=True)
    cible = path / f"{construit_le:%Y%m%dT%H%M%S}-{fingerprint[:12]}.parquet"
    tmp = path / f".{cible.name}.tmp-{os.getpid()}"
    cols = ", ".join((*CLE, *VALEURS))
    nouveau = (f"select {cols}, ?::varchar as millesimes, ?::varchar as millesime, ?::varchar as empreinte, "
               f"?::varchar as contenu, ?::varchar as perimetre, ?::timestamp as construit_le "
               f"from marts.indicateurs where {PORTEE} order by {', '.join(CLE)}")
    params = [mil, _libelle(millesimes), fingerprint, contenu, perimetre, construit_le]
    try:
        con.execute(f"copy ({nouveau}) to {_litteral(tmp)} (format parquet, compression zstd)", params)
        os.replace(tmp, cible)
    finally:
        tmp.unlink(missing_ok=True)
    return n


def attacher(con: "duckdb.DuckDBPyConnection", historique_path: str | os.PathLike) -> int:
    """Make ``marts.historique_indicateurs`` of ``con`` hold every snapshot of the history
    (empty, with its columns, when there is none); return its number of rows. A table
    already there (the previous build's, reused) gets only the snapshots it lacks."""
    fichiers = _fichiers(Path(historique_path))
    con.execute("create schema if not exists marts")
    present = con.execute("select count(*) from duckdb_tables() where schema_name = 'marts' "
                          "and table_name = 'historique_indicateurs'").fetchone()[0]
    if not fichiers:
        con.execute(f"create or replace table marts.historique_indicateurs ({SCHEMA})")
    elif not present:
        con.execute(f"create table marts.historique_indicateurs as select * from {_lecture(fichiers)} "
                    f"order by construit_le, {', '.join(CLE)}")
    else:
        # a snapshot file is named after its fingerprint (``…-<12 first hex>.parquet``):
        # read only the files the table lacks; a snapshot whose file is gone (history
        # pruned by hand) rebuilds the table from the files
        presentes = {e[:12] for (e,) in con.execute(
            "select distinct empreinte from marts.historique_indicateurs").fetchall()}
        suffixes = {f.stem.rpartition("-")[2] for f in fichiers}
        # (the first layout's file, « …-premier », holds several snapshots: compare rows then)
        nommes = all(re.fullmatch(r"[0-9a-f]{12}", x) for x in suffixes)
        if not nommes and con.execute(f"select count(*) from {_lecture(fichiers)}").fetchone()[0] != \
                con.execute("select count(*) from marts.historique_indicateurs").fetchone()[0]:
            presentes = set()  # read again below
        if nommes and not presentes <= suffixes or not nommes and not presentes:
            con.execute(f"create or replace table marts.historique_indicateurs as select * from "
                        f"{_lecture(fichiers)} order by construit_le, {', '.join(CLE)}")
        else:
            nouveaux = [f for f in fichiers if f.stem.rpartition("-")[2] not in presentes]
            if nouveaux:
                con.execute(f"insert into marts.historique_indicateurs by name select * from {_lecture(nouveaux)} "
                            "where (construit_le, empreinte) not in "
                            "(select distinct construit_le, empreinte from marts.historique_indicateurs)")
    return con.execute("select count(*) from marts.historique_indicateurs").fetchone()[0]


def _vide() -> "pl.DataFrame":
    import polars as pl

    return pl.DataFrame(schema={k: getattr(pl, t) for k, t in COLONNES_EVOLUTION.items()})


def instantanes(con: "duckdb.DuckDBPyConnection") -> "pl.DataFrame":
    """The snapshots of ``marts.historique_indicateurs``, oldest first: build time,
    vintages, fingerprint, perimeter, rows."""
    import polars as pl

    present = con.execute("select count(*) from information_schema.tables where table_schema = 'marts' "
                          "and table_name = 'historique_indicateurs'").fetchone()[0]
    if not present:
        return pl.DataFrame(schema={"construit_le": pl.Datetime, "millesimes": pl.String, "millesime": pl.String,
                                    "empreinte": pl.String, "perimetre": pl.String, "lignes": pl.Int64})
    return con.execute(
        "select construit_le, any_value(millesimes) as millesimes, any_value(millesime) as millesime, "
        "empreinte, any_value(perimetre) as perimetre, count(*)::bigint as lignes "
        "from marts.historique_indicateurs group by construit_le, empreinte order by construit_le").pl()


def _depuis(actuel: Mapping[str, str], precedent: Mapping[str, str]) -> str:
    """« évolution depuis <millésime> »: the previous values of the vintages that changed."""
    changes = {k: v for k, v in precedent.items() if actuel.get(k) != v}
    changes.update({k: "—" for k in actuel if k not in precedent})
    valeurs = sorted(set(changes.values()))
    if len(valeurs) == 1:
        return valeurs[0]
    return _libelle(changes) or _libelle(precedent)


def evolution(con: "duckdb.DuckDBPyConnection", niveau: str, code: str | None = None) -> "pl.DataFrame":
    """The change of every indicator of ``niveau`` (one territory with ``code``) since the
    previous vintage.

    The latest snapshot of ``marts.historique_indicateurs`` is compared with the latest
    earlier one of the same perimeter whose vintages differ. Columns: niveau, code,
    tranche_taille, indicateur, millesime (current vintages), millesime_precedent (the
    previous values of the vintages that changed: « évolution depuis 2017 »),
    construit_le_precedent, taux, taux_precedent, evolution (taux − taux_precedent),
    numerateur, numerateur_precedent. Empty when there is no earlier vintage.
    """
    snaps = instantanes(con)
    if snaps.is_empty():
        return _vide()
    dernier = snaps.row(-1, named=True)
    avant = [s for s in snaps.iter_rows(named=True)
             if s["construit_le"] < dernier["construit_le"] and s["perimetre"] == dernier["perimetre"]
             and s["millesimes"] != dernier["millesimes"]]
    if not avant:
        return _vide()
    precedent = avant[-1]
    label = _depuis(json.loads(dernier["millesimes"]), json.loads(precedent["millesimes"]))
    where, params = ["a.niveau = ?"], [dernier["construit_le"], dernier["empreinte"], precedent["construit_le"],
                                       precedent["empreinte"], niveau]
    if code is not None:
        where.append("a.code = ?")
        params.append(str(code))
    df = con.execute(
        f"""
        with a as (select * from marts.historique_indicateurs where construit_le = ? and empreinte = ?),
             p as (select * from marts.historique_indicateurs where construit_le = ? and empreinte = ?)
        select a.niveau, a.code, a.tranche_taille, a.indicateur, a.millesime,
               ?::varchar as millesime_precedent, p.construit_le as construit_le_precedent,
               a.taux, p.taux as taux_precedent, a.taux - p.taux as evolution,
               a.numerateur, p.numerateur as numerateur_precedent
        from a join p using (niveau, code, tranche_taille, indicateur)
        where {' and '.join(where)}
        order by a.code, a.tranche_taille, a.indicateur
        """, [params[0], params[1], params[2], params[3], label, *params[4:]]).pl()
    return df
