"""Reading the project's TOML files, one way: a French error names the file, the line
(and column) where reading stopped, the reason and what to do.

Imports nothing of the project, so any module can use it::

    from territoires.fichiers import lire_toml
    data = lire_toml(chemin, SourceError, "registre des sources")
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

#: where tomllib (Python < 3.14) says it stopped, at the end of its message
_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def lire_toml(chemin: Path, erreur: type[Exception] = ValueError, quoi: str = "fichier TOML") -> dict:
    """The TOML file ``chemin`` as a dict. A missing, unreadable, non-UTF-8 or malformed
    file raises ``erreur`` (the caller's own error type) with a French message: the file,
    ``quoi`` (what the file is, e.g. « registre des sources »), the line and column, the
    reason."""
    chemin = Path(chemin)
    try:
        octets = chemin.read_bytes()
    except FileNotFoundError:
        raise erreur(f"{chemin} : {quoi} introuvable") from None
    except OSError as exc:
        raise erreur(f"{chemin} : {quoi} illisible ({exc.strerror or exc})") from exc
    try:
        texte = octets.decode("utf-8")
    except UnicodeDecodeError as exc:
        ligne = octets.count(b"\n", 0, exc.start) + 1
        raise erreur(f"{chemin}, ligne {ligne} : {quoi} illisible, pas en UTF-8 (octet {octets[exc.start]:#04x}) ; "
                     "l'enregistrer en UTF-8") from exc
    try:
        return tomllib.loads(texte)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _POSITION.search(message)
        ou = f", ligne {position.group(1)}, colonne {position.group(2)}" if position else ""
        raison = _POSITION.sub("", message)
        raise erreur(f"{chemin}{ou} : {quoi} illisible, TOML invalide ({raison}) ; corriger la syntaxe à cet endroit"
                     ) from exc
