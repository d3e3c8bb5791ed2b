"""Petits outils de texte communs : clé de comparaison des libellés, nettoyage des cellules."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["cle", "cle_normalisee", "nettoyer", "apercu"]

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


#: articles and contracted prepositions left out of a normalised name (« Télétransmission
#: des actes » = « Télétransmission actes »); « l' » and « d' » are split off first
ARTICLES = frozenset({"le", "la", "les", "l", "de", "du", "des", "d", "au", "aux", "a"})
_MOTS = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=4096)
def _cle_normalisee(s: str) -> str:
    s = s.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    mots = []
    for m in _MOTS.findall(s):
        if m in ARTICLES:
            continue
        if len(m) >= 4 and m[-1] in "sx":  # plural: « actes » = « acte », « réseaux » = « réseau »
            m = m[:-1]
        mots.append(m)
    return "".join(mots)


def cle_normalisee(texte: object) -> str:
    """Clé plus lâche que :func:`cle`, pour reconnaître un nom de service tel qu'un opérateur
    l'écrit : casse, accents, ponctuation, articles (le, la, les, l', de, du, des, d', au, aux,
    à) et pluriels (s ou x final d'un mot de 4 lettres ou plus) ignorés.

    ``"Télétransmission des actes"`` et ``"télétransmission actes"`` → ``"teletransmissionacte"``.
    Les mots de 3 lettres ou moins gardent leur s final (« PES », « SIG »).
    """
    if texte is None:
        return ""
    return _cle_normalisee(str(texte))


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
