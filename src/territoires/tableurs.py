"""One writer for spreadsheets: every CSV and XLSX the project writes goes through here
(indicator exports, the CSV of a dashboard page, member lists and their rejects).

A text cell from data that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is a formula to a spreadsheet program (``=HYPERLINK("http://…", "cliquez")``,
``=cmd|' /C calc'!A0``): OWASP's CSV-injection rule is to prefix it with a single quote,
which makes it inert text. Numbers stay numbers (only text cells are touched: ``-3`` as
a number is written as is). XLSX cells are also written as strings whatever they hold
(``strings_to_formulas``, ``strings_to_urls`` and ``strings_to_numbers`` off).

French conventions for CSV: ``;`` separator, UTF-8 with BOM (accents read right by
spreadsheet programs), decimal comma, CRLF line ends.
"""

from __future__ import annotations

import csv
import io
import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from territoires import espace

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

#: first characters that make a spreadsheet program read a cell as a formula
DEBUTS_DANGEREUX = ("=", "+", "-", "@", "\t", "\r")
_MOTIF = r"^[=+\-@\t\r]"
SEPARATEUR = ";"
FIN_DE_LIGNE = "\r\n"
#: options of every XLSX workbook: what is text stays text
OPTIONS_XLSX = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
                "nan_inf_to_errors": True}


def neutraliser(valeur: Any) -> Any:
    """A text cell made inert (``"=1+1"`` → ``"'=1+1"``); anything else unchanged."""
    if isinstance(valeur, str) and valeur.startswith(DEBUTS_DANGEREUX):
        return "'" + valeur
    return valeur


def neutraliser_df(df: "pl.DataFrame") -> "pl.DataFrame":
    """Every text column of ``df`` through :func:`neutraliser` (numbers untouched)."""
    import polars as pl

    exprs = []
    for name, dtype in df.schema.items():
        col = pl.col(name)
        if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
            texte = col.cast(pl.String)
            exprs.append(pl.when(texte.str.contains(_MOTIF)).then(pl.lit("'") + texte).otherwise(texte).alias(name))
        else:
            exprs.append(col)
    return df.select(exprs)


def csv_texte(entetes: Sequence[str], lignes: Iterable[Sequence[Any]]) -> str:
    """Rows as CSV text (``;``, CRLF, no BOM: the caller adds it where it writes bytes),
    every text cell neutralised; ``None`` is an empty cell, numbers are written as such
    (decimal comma)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=SEPARATEUR, lineterminator=FIN_DE_LIGNE)
    w.writerow([neutraliser(h) for h in entetes])
    w.writerows([_cellule_csv(v) for v in ligne] for ligne in lignes)
    return buf.getvalue()


def _cellule_csv(v: Any) -> Any:
    # text first, neutralised here: most cells are (a region page's two CSV, 90,000
    # cells, written twice as fast as through neutraliser)
    if v.__class__ is str:
        return "'" + v if v.startswith(DEBUTS_DANGEREUX) else v
    if v is None:
        return ""
    if isinstance(v, bool):
        return "oui" if v else "non"
    if isinstance(v, float):
        return repr(v).replace(".", ",")
    return neutraliser(v)


@contextmanager
def _a_cote(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path``, renamed into place when the block succeeds and
    removed otherwise (a full disk is said in French, naming the folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{os.urandom(4).hex()}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        espace.verifier(exc, path.parent)
        raise


def ecrire_csv(donnees: "pl.DataFrame | tuple[Sequence[str], Iterable[Sequence[Any]]]", path: str | os.PathLike) -> Path:
    """Write a CSV for French spreadsheet programs, written beside ``path`` and renamed in.

    ``donnees``: a polars DataFrame (flat columns), or ``(entetes, lignes)``.
    """
    path = Path(path)
    with _a_cote(path) as tmp:
        if isinstance(donnees, tuple):
            entetes, lignes = donnees
            tmp.write_bytes(("\ufeff" + csv_texte(entetes, lignes)).encode("utf-8"))
        else:
            neutraliser_df(donnees).write_csv(
                tmp, separator=SEPARATEUR, include_bom=True, decimal_comma=True, line_terminator=FIN_DE_LIGNE,
                float_scientific=False,
            )
    return path


def classeur(path: str | os.PathLike):
    """An ``xlsxwriter.Workbook`` whose strings stay strings (:data:`OPTIONS_XLSX`)."""
    import xlsxwriter

    return xlsxwriter.Workbook(str(path), dict(OPTIONS_XLSX))


def ecrire_xlsx(feuilles: Sequence[tuple[str, "pl.DataFrame", dict[str, Any]]], path: str | os.PathLike) -> Path:
    """Write sheets ``(name, frame, options of polars' write_excel)`` to one XLSX file,
    every text cell neutralised and written as a string; beside ``path``, renamed in."""
    path = Path(path)
    with _a_cote(path) as tmp, classeur(tmp) as wb:
        for nom, df, options in feuilles:
            neutraliser_df(df).write_excel(wb, nom, **options)
    return path


def ecrire(donnees: "pl.DataFrame", path: str | os.PathLike, *, feuille: str = "donnees") -> Path:
    """A member list, a rejects list…: CSV or XLSX after the extension of ``path``."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        return ecrire_xlsx([(feuille, donnees, {"autofit": False})], path)
    if path.suffix.lower() == ".csv":
        return ecrire_csv(donnees, path)
    raise ValueError(f"{path}: extension .csv ou .xlsx attendue")
