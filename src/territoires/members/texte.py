"""Petits outils de texte communs : clé de comparaison des libellés, nettoyage des cellules."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["cle", "nettoyer", "apercu"]

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
#: caractères de contrôle C0 et C1 (tabulation et fins de ligne traitées à part)
_CONTROLES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\ufeff]")
_BLANCS = re.compile(r"[\t\r\n]+")


@lru_cache(maxsize=4096)
def _cle(s: str) -> str:
    s = s.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    return _NON_ALNUM.sub("", s)


def cle(texte: object) -> str:
    """Clé de comparaison : minuscules, sans accents, sans espaces ni ponctuation.

    ``"Date d'adhésion"`` → ``"datedadhesion"`` ; ``"Œuvre"`` → ``"oeuvre"``.
    """
    if texte is None:
        return ""
    return _cle(str(texte))


def nettoyer(texte: str) -> str:
    """Retire les caractères de contrôle, remplace tabulations et fins de ligne par une
    espace, retire les espaces de début et de fin. Le reste est gardé tel quel (l'échappement
    HTML et la neutralisation des formules se font à l'affichage et à l'export)."""
    if not texte:
        return ""
    if texte.isprintable():
        return texte.strip()
    return _CONTROLES.sub("", _BLANCS.sub(" ", texte)).strip()


def apercu(valeur: object, longueur: int = 60) -> str:
    """Une valeur pour un message : sans contrôle, tronquée, entre guillemets français."""
    if valeur is None:
        return "« »"
    s = nettoyer(str(valeur))
    if len(s) > longueur:
        s = s[: longueur - 1] + "…"
    return f"« {s} »"
