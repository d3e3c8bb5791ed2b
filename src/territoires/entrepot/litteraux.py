"""Values into DuckDB without bound parameters: SQL literals, and rows in bulk.

DuckDB's Python client imports pandas (with numpy and pyarrow) the first time a statement
binds a parameter, and pyarrow does the same on its first array: a third of a second at
every build, more than the rest of a rebuild after a register import. So the build path
never binds a parameter: it writes its few values as literals (:func:`litteral`) and its
bulk rows (the members' registers, the taxonomy) through a CSV file that DuckDB reads in
one statement (:class:`Tampon`), which also keeps Python's memory bounded.

Readers (pages, notebooks, the CLI) bind parameters freely, and read results as polars
frames through :func:`en_polars` (Arrow's C stream, no pyarrow). Report kernels go further:
they run with pandas and pyarrow marked absent (:func:`territoires.reports.noyau.echauffement`),
which DuckDB's client then skips when it binds.
"""

from __future__ import annotations

import csv
import math
from datetime import date, datetime
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl


def litteral(valeur: Any) -> str:
    """``valeur`` as a DuckDB literal: text quoted (a quote doubled), a path in its POSIX
    form, ``NULL``, numbers, booleans, ``DATE``/``TIMESTAMP`` and lists."""
    if valeur is None:
        return "NULL"
    if isinstance(valeur, bool):
        return "true" if valeur else "false"
    if isinstance(valeur, int):
        return str(valeur)
    if isinstance(valeur, float):
        return repr(valeur) if math.isfinite(valeur) else f"'{valeur}'::double"
    if isinstance(valeur, datetime):
        return f"TIMESTAMP '{valeur.isoformat(sep=' ')}'"
    if isinstance(valeur, date):
        return f"DATE '{valeur.isoformat()}'"
    if isinstance(valeur, PurePath):
        valeur = valeur.as_posix()
    if isinstance(valeur, (list, tuple)):
        return "[" + ", ".join(litteral(v) for v in valeur) + "]"
    return "'" + str(valeur).replace("'", "''") + "'"


def liste_texte(valeurs: Iterable[Any]) -> str:
    """A ``VARCHAR[]`` literal (typed even when empty)."""
    return "[" + ", ".join(litteral(str(v)) for v in valeurs) + "]::varchar[]"


class Tampon:
    """Rows written as they come to ``<dossier>/<nom>.csv``, then made a table in one
    statement (:meth:`creer`).

    Every value is written behind a one-character mark (``_valeur``) and a missing one as
    an empty field: an empty text stays an empty text, a missing value becomes NULL,
    whatever the text holds (quotes, separators, line breaks). DuckDB's CSV reader refuses
    a lone carriage return even quoted: it is written ``%0D`` (and ``%`` itself ``%25``),
    and read back by :func:`charger_csv`.
    """

    def __init__(self, dossier: str | Path, nom: str, colonnes: Sequence[tuple[str, str]]) -> None:
        self.chemin = Path(dossier) / f"{nom}.csv"
        self.colonnes = tuple(colonnes)
        self.lignes = 0
        self._f = open(self.chemin, "w", newline="", encoding="utf-8")
        self._ecrire = csv.writer(self._f, lineterminator="\n").writerow

    def ajouter(self, ligne: Sequence[Any]) -> None:
        self._ecrire([None if v is None else _marque(v) for v in ligne])
        self.lignes += 1

    def ajouter_tout(self, lignes: Iterable[Sequence[Any]]) -> None:
        for ligne in lignes:
            self.ajouter(ligne)

    def creer(self, con, table: str) -> int:
        """``create or replace table <table>`` from the rows written; return their count."""
        self._f.close()
        charger_csv(con, table, self.colonnes, [self.chemin])
        return self.lignes

    def fermer(self) -> None:
        self._f.close()


def _marque(valeur: Any) -> str:
    """A value as :class:`Tampon` writes it (see there)."""
    if isinstance(valeur, str):
        if "%" in valeur or "\r" in valeur:
            valeur = valeur.replace("%", "%25").replace("\r", "%0D")
        return "_" + valeur
    return f"_{valeur}"


def charger_csv(con, table: str, colonnes: Sequence[tuple[str, str]], chemins: Sequence[Path]) -> None:
    """``create or replace table <table>`` from the CSV files a :class:`Tampon` wrote
    (several read as one; none: an empty table with its columns)."""
    if not chemins:
        con.execute(f"create or replace table {table} (" + ", ".join(f'"{n}" {t}' for n, t in colonnes) + ")")
        return
    noms = "{" + ", ".join(f"{litteral(n)}: 'VARCHAR'" for n, _ in colonnes) + "}"
    choix = ", ".join(
        f"replace(replace(substr(\"{n}\", 2), '%0D', chr(13)), '%25', '%') as \"{n}\"" if t.lower() == "varchar"
        else f'substr("{n}", 2)::{t} as "{n}"' for n, t in colonnes)
    con.execute(f"create or replace table {table} as select {choix} from read_csv({litteral(list(chemins))}, "
                f"header = false, columns = {noms}, delim = ',', quote = '\"', escape = '\"', "
                "new_line = '\\n', auto_detect = false, strict_mode = true)")


def inserer(con, table: str, lignes: Iterable[Sequence[Any]]) -> int:
    """``insert into <table> values …``, ``lignes`` written as literals, in one statement;
    return the number of rows. For a few hundred rows at most (DuckDB parses literals
    slowly): the registers go through :class:`Tampon`."""
    valeurs = ["(" + ", ".join(litteral(v) for v in ligne) + ")" for ligne in lignes]
    if valeurs:
        con.execute(f"insert into {table} values " + ", ".join(valeurs))
    return len(valeurs)


def en_polars(con, sql: str, params: list | tuple | None = None) -> "pl.DataFrame":
    """The result of ``sql`` (its ``params`` bound) as a polars DataFrame, read through
    Arrow's C stream interface. DuckDB's ``.pl()`` builds a pyarrow table first: importing
    pyarrow costs 0.25 s, as much as a small page's queries."""
    import polars as pl

    return pl.DataFrame(con.sql(sql, params=list(params)) if params else con.sql(sql))
