"""The warehouse's own documentation: a French description of every ``marts`` table and
column (``dictionnaire.toml``, plus the criteria's labels from the indicator catalogue),
written into DuckDB with ``COMMENT ON`` at each build and listed by
``territoires info --dictionnaire``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from territoires.entrepot.litteraux import litteral
from territoires.fichiers import lire_toml

FICHIER = Path(__file__).with_name("dictionnaire.toml")


@cache
def _donnees() -> dict:
    return lire_toml(FICHIER, ValueError, "dictionnaire des marts")


#: the marts' tables and views: name, kind, comment
_OBJETS_MARTS = ("select table_name, 'table', comment from duckdb_tables() where schema_name = 'marts' union all "
                 "select view_name, 'view', comment from duckdb_views() where schema_name = 'marts' and not internal")


def _propres(d: dict, table: str) -> dict[str, str]:
    """The column descriptions of ``table``: its own, then those of the tables named in its
    ``colonnes_de`` (a view described once, by the tables it joins)."""
    tables = d.get("tables", {})
    out: dict[str, str] = {}
    for t in (*reversed(tables.get(table, {}).get("colonnes_de", [])), table):
        out.update(tables.get(t, {}).get("colonnes", {}))
    return out


def commenter(con) -> list[str]:
    """Write the comments on the ``marts`` tables and columns of ``con``; return the
    ``table.colonne`` left without a description (the test suite keeps it empty)."""
    d = _donnees()
    communes = d.get("colonnes", {})
    criteres = dict(con.execute("select critere, libelle from raw.indicateurs_criteres").fetchall())
    manquants = []
    colonnes = con.execute("select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts' "
                           "order by table_name, column_index").fetchall()
    objets = {t: (sorte, comment) for t, sorte, comment in con.execute(_OBJETS_MARTS).fetchall()}
    tables = sorted({t for t, _, _ in colonnes})
    ordres = []  # one round trip; a table kept from the previous build keeps its comments
    for t in tables:
        desc = d.get("tables", {}).get(t, {}).get("description")
        if not desc:
            manquants.append(t)
        elif objets[t][1] != desc:
            ordres.append(f'comment on {objets[t][0]} marts."{t}" is {litteral(desc)}')
    for t, c, actuel in colonnes:
        propre = _propres(d, t)
        desc = propre.get(c) or communes.get(c) or criteres.get(c)
        if not desc:
            manquants.append(f"{t}.{c}")
        elif actuel != desc:
            ordres.append(f'comment on column marts."{t}"."{c}" is {litteral(desc)}')
    if ordres:  # one transaction: one commit, not one per comment
        con.execute("begin transaction;\n" + ";\n".join(ordres) + ";\ncommit")
    return manquants


def lister(con) -> list[tuple[str, str, str, str]]:
    """``(table, colonne, type, description)`` of every marts column, tables first
    (``colonne`` empty for a table's own line)."""
    out = []
    for t, _sorte, desc in con.execute(f"select * from ({_OBJETS_MARTS}) order by 1").fetchall():
        out.append((t, "", "", desc or ""))
        out += [(t, c, typ, cdesc or "") for c, typ, cdesc in con.execute(
            "select column_name, data_type, comment from duckdb_columns() where schema_name = 'marts' "
            "and table_name = ? order by column_index", [t]).fetchall()]
    return out
