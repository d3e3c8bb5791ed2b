"""Dates des registres : formes françaises et ISO, numéros de série Excel.

``15/03/2021``, ``15-03-2021``, ``15.03.2021``, ``2021-03-15`` (éventuellement suivi d'une
heure), ``15 mars 2021``, ``1er mars 2021``, ``mars 2021`` (le 1er du mois), et dans un XLSX
les dates natives ou les numéros de série (``44270`` → 15/03/2021). Une date impossible
(``31/02/2021``) est refusée avec sa raison ; jamais d'exception.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from territoires.members.texte import cle

__all__ = ["lire_date"]

MOIS = {
    "janvier": 1, "janv": 1, "jan": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3, "mar": 3,
    "avril": 4, "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "aout": 8, "septembre": 9,
    "sept": 9, "sep": 9, "octobre": 10, "oct": 10, "novembre": 11, "nov": 11, "decembre": 12, "dec": 12,
}
_JMA = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})$")
_AMJ = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
_AMJ_SLASH = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_TEXTE = re.compile(r"^(?:(\d{1,2})(?:er)?\s+)?([^\W\d_]+)\.?\s+(\d{4})$", re.UNICODE)
_JMA_HEURE = re.compile(r"^(\d{1,2}/\d{1,2}/\d{4})\s+\d{1,2}:\d{2}(?::\d{2})?$")
_EXCEL_ORIGINE = date(1899, 12, 30)
ATTENDU = "formats acceptés : JJ/MM/AAAA, AAAA-MM-JJ, 15 mars 2021"


def _construire(a: int, m: int, j: int, texte: str) -> tuple[date | None, str | None]:
    if not 1 <= m <= 12:
        return None, f"date impossible : mois {m} ({ATTENDU})"
    try:
        return date(a, m, j), None
    except ValueError:
        return None, f"date impossible : le {j} du mois {m:02d} n'existe pas en {a}"


def lire_date(valeur: object, *, tableur: bool = False) -> tuple[date | None, str | None]:
    """``(date, None)``, ``(None, None)`` si vide, ou ``(None, raison)`` si illisible ou impossible.

    ``tableur`` : la valeur vient d'un XLSX, un nombre y est un numéro de série Excel.
    """
    if valeur is None:
        return None, None
    if isinstance(valeur, datetime):
        return valeur.date(), None
    if isinstance(valeur, date):
        return valeur, None
    if isinstance(valeur, bool):
        return None, f"date illisible ({ATTENDU})"
    if isinstance(valeur, (int, float)):
        if tableur and valeur == valeur and 1 <= valeur < 2958466:
            return _EXCEL_ORIGINE + timedelta(days=int(valeur)), None
        return None, f"date illisible : nombre ({ATTENDU})"
    texte = str(valeur).strip()
    if not texte:
        return None, None
    m = _JMA_HEURE.match(texte)
    if m:
        texte = m.group(1)
    m = _JMA.match(texte)
    if m:
        return _construire(int(m.group(3)), int(m.group(2)), int(m.group(1)), texte)
    m = _AMJ.match(texte) or _AMJ_SLASH.match(texte)
    if m:
        return _construire(int(m.group(1)), int(m.group(2)), int(m.group(3)), texte)
    m = _TEXTE.match(texte)
    if m:
        mois = MOIS.get(cle(m.group(2)))
        if mois is None:
            return None, f"date illisible : mois {m.group(2)!r} inconnu ({ATTENDU})"
        return _construire(int(m.group(3)), mois, int(m.group(1) or 1), texte)
    return None, f"date illisible ({ATTENDU})"
