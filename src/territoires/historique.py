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

    from territoires import historique
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

from territoires.entrepot.litteraux import en_polars, litteral

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

#: the columns of marts.historique_indicateurs, in order, with their types
SCHEMA = {
    "niveau": "varchar", "code": "varchar", "tranche_taille": "varchar", "indicateur": "varchar",
    "numerateur": "bigint", "denominateur": "bigint", "taux": "double", "taux_pondere": "double",
    "population": "bigint", "millesimes": "varchar", "millesime": "varchar", "empreinte": "varchar",
    "contenu": "varchar", "perimetre": "varchar", "construit_le": "timestamp",
}

COLONNES_EVOLUTION = {
    "niveau": "String", "code": "String", "tranche_taille": "String", "indicateur": "String",
    "millesime": "String", "millesime_precedent": "String", "construit_le_precedent": "Datetime",
    "taux": "Float64", "taux_precedent": "Float64", "evolution": "Float64",
    "numerateur": "Int64", "numerateur_precedent": "Int64",
}


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
    return "read_parquet([" + ", ".join(litteral(f) for f in fichiers) + "], union_by_name = true)"


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
            f"select count(*) from {_lecture(fichiers)} where empreinte = {litteral(fingerprint)} "
            f"or (perimetre = {litteral(perimetre)} and millesimes = {litteral(mil)} "
            f"and contenu = {litteral(contenu)})").fetchone()[0]
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
    instantane = {"millesimes": mil, "millesime": _libelle(millesimes), "empreinte": fingerprint,
                  "contenu": contenu, "perimetre": perimetre}
    nouveau = (f"select {cols}, " + ", ".join(f"{litteral(v)}::varchar as {k}" for k, v in instantane.items())
               + f", {litteral(construit_le)}::timestamp as construit_le "
               f"from marts.indicateurs where {PORTEE} order by {', '.join(CLE)}")
    try:
        con.execute(f"copy ({nouveau}) to {litteral(tmp)} (format parquet, compression zstd)")
        os.replace(tmp, cible)
    finally:
        tmp.unlink(missing_ok=True)
    return n


#: one snapshot's own columns: stored once per snapshot in ``marts.historique_instantanes``
#: (each is repeated on every row of a snapshot file: kilobytes of vintages on 12 000 rows)
INSTANTANE = ("millesimes", "millesime", "contenu", "perimetre")
#: the history's objects in ``marts``: the view readers use and its two tables
OBJETS = ("historique_indicateurs", "historique_valeurs", "historique_instantanes")
#: a snapshot's key, in its rows and in marts.historique_instantanes
SNAP = ("construit_le", "empreinte")


def _tables(con) -> dict[str, str]:
    """The history's objects present in ``con``: name → « BASE TABLE » or « VIEW »."""
    return dict(con.execute(
        "select table_name, table_type from information_schema.tables where table_schema = 'marts' "
        f"and table_name in ({', '.join(repr(t) for t in OBJETS)})").fetchall())


def _colonnes(noms) -> str:
    return ", ".join(f"{c} {SCHEMA[c]}" for c in noms)


def _remplir(con, fichiers: list[Path], *, creer: bool) -> None:
    """Put the snapshots of ``fichiers`` into the two tables: created when ``creer``, else
    appended, skipping a snapshot already there (the first layout's file holds several;
    the figures are appended first, while the snapshots table does not have the new one)."""
    source = _lecture(fichiers) + ("" if creer else " where (construit_le, empreinte) not in "
                                   "(select construit_le, empreinte from marts.historique_instantanes)")
    valeurs = f"select {', '.join((*CLE, *VALEURS, *SNAP))} from {source}"
    instants = (f"select {', '.join(SNAP)}, {', '.join(f'any_value({c}) as {c}' for c in INSTANTANE)}, "
                f"count(*)::bigint as lignes from {source} group by all")
    if creer:
        con.execute(f"create or replace table marts.historique_valeurs as {valeurs} "
                    f"order by construit_le, {', '.join(CLE)}")
        con.execute(f"create or replace table marts.historique_instantanes as {instants} order by construit_le")
    else:
        con.execute(f"insert into marts.historique_valeurs by name {valeurs}")
        con.execute(f"insert into marts.historique_instantanes by name {instants}")


def attacher(con: "duckdb.DuckDBPyConnection", historique_path: str | os.PathLike) -> int:
    """Make ``marts.historique_indicateurs`` of ``con`` show every snapshot of the history
    (empty, with its columns, when there is none); return its number of rows.

    It is a view joining two tables: ``marts.historique_valeurs`` (the figures, a
    snapshot's key on each row) and ``marts.historique_instantanes`` (one row per
    snapshot: its vintages, fingerprint, perimeter). The previous build's tables, reused,
    only get the snapshots they lack."""
    fichiers = _fichiers(Path(historique_path))
    con.execute("create schema if not exists marts")
    objets = _tables(con)
    complet = (objets.get("historique_indicateurs") == "VIEW" and "historique_valeurs" in objets
               and "historique_instantanes" in objets)
    if not complet:  # a first build, or a warehouse of the first layout (one wide table)
        if objets.get("historique_indicateurs") == "BASE TABLE":
            con.execute("drop table marts.historique_indicateurs")
        con.execute(f"create or replace table marts.historique_valeurs ({_colonnes((*CLE, *VALEURS, *SNAP))})")
        con.execute(f"create or replace table marts.historique_instantanes ({_colonnes((*SNAP, *INSTANTANE))}, "
                    "lignes bigint)")
        choisies = ", ".join(f"i.{c}" if c in INSTANTANE else f"v.{c}" for c in SCHEMA)
        con.execute(f"create or replace view marts.historique_indicateurs as select {choisies} "
                    "from marts.historique_valeurs v join marts.historique_instantanes i using (construit_le, empreinte)")
        if fichiers:
            _remplir(con, fichiers, creer=True)
    elif fichiers:
        # a snapshot file is named after its fingerprint (``…-<12 first hex>.parquet``):
        # read only the files the tables lack; a snapshot whose file is gone (history
        # pruned by hand) rebuilds them from the files
        presentes = {e[:12] for (e,) in con.execute("select empreinte from marts.historique_instantanes").fetchall()}
        suffixes = {f.stem.rpartition("-")[2] for f in fichiers}
        # (the first layout's file, « …-premier », holds several snapshots: compare rows then)
        nommes = all(re.fullmatch(r"[0-9a-f]{12}", x) for x in suffixes)
        if not nommes and con.execute(f"select count(*) from {_lecture(fichiers)}").fetchone()[0] != \
                con.execute("select sum(lignes) from marts.historique_instantanes").fetchone()[0]:
            presentes = set()  # read again below
        if nommes and not presentes <= suffixes or not nommes and not presentes:
            _remplir(con, fichiers, creer=True)
        else:
            nouveaux = [f for f in fichiers if f.stem.rpartition("-")[2] not in presentes]
            if nouveaux:
                _remplir(con, nouveaux, creer=False)
    else:
        con.execute("delete from marts.historique_valeurs; delete from marts.historique_instantanes")
    return con.execute("select coalesce(sum(lignes), 0) from marts.historique_instantanes").fetchone()[0]


def _vide() -> "pl.DataFrame":
    import polars as pl

    return pl.DataFrame(schema={k: getattr(pl, t) for k, t in COLONNES_EVOLUTION.items()})


def instantanes(con: "duckdb.DuckDBPyConnection") -> "pl.DataFrame":
    """The snapshots of ``marts.historique_instantanes``, oldest first: build time,
    vintages, fingerprint, perimeter, rows."""
    import polars as pl

    objets = _tables(con)
    if "historique_instantanes" in objets:
        return en_polars(con, "select construit_le, millesimes, millesime, empreinte, perimetre, lignes "
                              "from marts.historique_instantanes order by construit_le")
    if "historique_indicateurs" in objets:  # a warehouse of the first layout, not rebuilt yet
        return en_polars(
            con, "select construit_le, any_value(millesimes) as millesimes, any_value(millesime) as millesime, "
            "empreinte, any_value(perimetre) as perimetre, count(*)::bigint as lignes "
            "from marts.historique_indicateurs group by construit_le, empreinte order by construit_le")
    return pl.DataFrame(schema={"construit_le": pl.Datetime, "millesimes": pl.String, "millesime": pl.String,
                                "empreinte": pl.String, "perimetre": pl.String, "lignes": pl.Int64})


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
    df = en_polars(
        con,
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
        """, [params[0], params[1], params[2], params[3], label, *params[4:]])
    return df
