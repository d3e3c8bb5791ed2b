"""Names that become paths: checked against a strict pattern before use, and every path
built from them checked to stay inside its folder.

Operator codes (``operateurs.toml``), territory codes, source ids and vintages end up in
file names (``reports/operateur/<code>.html``, ``data/raw/<source>-<millésime>/``). A
value such as ``../../x`` would write outside the project: it is refused where it is
read, with the file and the line (:func:`verifier`), and :func:`dans_dossier` refuses
any path that would leave its folder, whatever built it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from territoires import operateurs

#: kind of name → (pattern, what it should look like, in French)
MOTIFS: dict[str, tuple[re.Pattern[str], str]] = {
    "operateur": (operateurs.MOTIF,  # declared with the operators
                  "une lettre minuscule puis au plus 31 lettres minuscules, chiffres, « - » ou « _ »"),
    # communes 01001, 2A004, 97101; départements 29, 2A, 971; régions 53; EPCI (SIREN) 242900314
    "territoire": (re.compile(r"(?:[0-9]{2}|2[AB])[0-9]{0,7}"),
                   "un code INSEE ou SIREN : chiffres (2A, 2B pour la Corse), 9 caractères au plus"),
    "source": (re.compile(r"[a-z0-9][a-z0-9._-]{0,63}"),
               "lettres minuscules, chiffres, « . », « - » ou « _ », 64 caractères au plus"),
    "millesime": (re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,31}"),
                  "lettres, chiffres, « . », « - » ou « _ », 32 caractères au plus"),
}
LIBELLES = {"operateur": "code d'opérateur", "territoire": "code de territoire", "source": "identifiant de source",
            "millesime": "millésime"}


class NomInvalide(ValueError):
    """A name from data that cannot become a path; the message names the file and line."""


def valide(genre: str, valeur: object) -> bool:
    motif, _ = MOTIFS[genre]
    return isinstance(valeur, str) and motif.fullmatch(valeur) is not None


def verifier(genre: str, valeur: object, *, fichier: str | os.PathLike | None = None,
             ligne: int | None = None) -> str:
    """``valeur`` if it matches the pattern of ``genre``, else :class:`NomInvalide`."""
    if valide(genre, valeur):
        return valeur  # type: ignore[return-value]
    ou = ""
    if fichier is not None:
        ou = f"{fichier}{f', ligne {ligne}' if ligne else ''} : "
    raise NomInvalide(f"{ou}{LIBELLES[genre]} {valeur!r} refusé ; attendu : {MOTIFS[genre][1]}")


def ligne_de(texte: str, valeur: str, cle: str | None = None) -> int | None:
    """The first line of ``texte`` holding ``valeur`` (after ``cle =`` when given)."""
    for i, line in enumerate(texte.splitlines(), 1):
        if valeur in line and (cle is None or re.match(rf"\s*{re.escape(cle)}\s*=", line)):
            return i
    return None


class HorsDossier(ValueError):
    """A path that would be written outside its folder."""


def dans_dossier(dossier: str | os.PathLike, relatif: str | os.PathLike) -> Path:
    """``dossier / relatif``, refused unless it stays inside ``dossier`` (no ``..``, no
    absolute path, no symbolic link leading out)."""
    base = Path(dossier)
    rel = Path(relatif)
    chemin = base / rel
    if rel.is_absolute() or ".." in rel.parts or "\0" in str(rel):
        raise HorsDossier(f"chemin « {relatif} » refusé : il sortirait du dossier {base}")
    reel_base = base.resolve()
    reel = chemin.resolve()
    if reel != reel_base and reel_base not in reel.parents:
        raise HorsDossier(f"chemin « {relatif} » refusé : il mène hors du dossier {base} ({reel})")
    return chemin
