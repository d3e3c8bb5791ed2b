"""One writer for spreadsheets: every CSV the pages offer goes through :func:`csv_texte`.

Text cells starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return are
neutralised with a leading single quote (OWASP's CSV-injection rule), so a name or a
value from a register never runs as a formula when a field team opens the file; numbers
stay numbers. French conventions: ``;`` separator, CRLF line ends.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Sequence

DANGEREUX = ("=", "+", "-", "@", "\t", "\r")


def neutraliser(valeur: Any) -> Any:
    """A cell as written: text that a spreadsheet would run as a formula gets a leading quote."""
    if isinstance(valeur, str) and valeur.startswith(DANGEREUX):
        return "'" + valeur
    return valeur


def csv_texte(entetes: Sequence[str], lignes: Iterable[Sequence[Any]]) -> str:
    """CSV text (``;``, CRLF), every text cell neutralised, ``None`` as an empty cell."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow([neutraliser(h) for h in entetes])
    for ligne in lignes:
        w.writerow(["" if v is None else neutraliser(v) for v in ligne])
    return buf.getvalue()
