"""Names that become paths: strict patterns, and every written path kept inside its folder.

A source id, a vintage (millésime), a producer folder or a file name read from the
registry (or from a local override file) is checked here before it is joined to a
folder; the joined path is then resolved and checked to lie inside that folder.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from territoires import noms
from territoires.sources.erreurs import SourceError

#: source ids (``insee-cog-2025-communes``): the pattern of :mod:`territoires.noms`, declared there once
MOTIF_ID = re.compile("^" + noms.MOTIFS["source"][0].pattern + "$")
#: one folder level built from data (producer slug, vintage slug)
MOTIF_SEGMENT = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
#: a downloaded or extracted file name (no folder part)
MOTIF_FICHIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,159}$")


def verifier_id(source_id: str, origine: str = "registre") -> str:
    """Return ``source_id`` when it matches :data:`MOTIF_ID`, else raise a French SourceError."""
    if not isinstance(source_id, str) or not MOTIF_ID.match(source_id):
        raise SourceError(
            f"{origine} : identifiant de source refusé « {source_id} » "
            f"(attendu : {noms.MOTIFS['source'][1]})"
        )
    return source_id


def verifier_segment(valeur: str, quoi: str) -> str:
    """A single folder name built from data; ``..`` and separators are refused."""
    if not isinstance(valeur, str) or not MOTIF_SEGMENT.match(valeur) or ".." in valeur:
        raise SourceError(f"{quoi} refusé comme nom de dossier : « {valeur} »")
    return valeur


def verifier_fichier(nom: str, quoi: str = "nom de fichier") -> str:
    """A single file name; folders, ``..`` and leading dots are refused."""
    if not isinstance(nom, str) or not MOTIF_FICHIER.match(nom) or ".." in nom:
        raise SourceError(f"{quoi} refusé : « {nom} »")
    return nom


def slug(texte: str) -> str:
    """``"COG 2025"`` → ``"cog-2025"``; ``"Mégalis Bretagne"`` → ``"megalis-bretagne"``."""
    plat = unicodedata.normalize("NFKD", texte).encode("ascii", "ignore").decode("ascii")
    plat = re.sub(r"[^a-z0-9._]+", "-", plat.lower()).strip("-._")
    return re.sub(r"\.{2,}", ".", plat)[:80]


def dans(dossier: Path, *parties: str) -> Path:
    """``dossier / parties…``, refused (SourceError) unless it lies inside ``dossier``: the
    one check of :func:`territoires.noms.dans_dossier`, with this package's error."""
    try:
        return noms.dans_dossier(dossier, Path(*parties)).resolve()
    except noms.HorsDossier as exc:
        raise SourceError(str(exc)) from exc
