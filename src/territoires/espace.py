"""A full disk, said in French: which folder, how much space was needed, how much is left.

Writers raise :class:`DisquePlein` (an ``OSError`` with ``errno.ENOSPC``) through
:func:`verifier`; the command line turns any out-of-space error (DuckDB's included) into
one line with :func:`message_disque_plein`. Since every output is written beside its
target and renamed into place, the previous outputs are intact when this happens.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from territoires.formats import taille

if TYPE_CHECKING:  # pragma: no cover
    from territoires.config import Settings

#: errno values meaning « no room left » (disk full, quota exceeded)
ERRNOS = (errno.ENOSPC, errno.EDQUOT)


class DisquePlein(OSError):
    """No space left to write in ``dossier`` (``besoin`` bytes wanted, when known)."""

    def __init__(self, dossier: Path, besoin: int | None = None) -> None:
        self.dossier = Path(dossier)
        self.besoin = besoin
        super().__init__(errno.ENOSPC, texte(self.dossier, besoin))

    def __str__(self) -> str:
        return self.strerror


def libre(dossier: Path) -> int | None:
    """Free bytes on the file system of ``dossier`` (or of its nearest existing parent)."""
    d = Path(dossier)
    while not d.exists() and d.parent != d:
        d = d.parent
    try:
        return shutil.disk_usage(d).free
    except OSError:
        return None


def texte(dossier: Path, besoin: int | None) -> str:
    reste = libre(dossier)
    parts = []
    if besoin:
        parts.append(f"il faut environ {taille(besoin)}")
    if reste is not None:
        parts.append(f"il reste {taille(reste)}")
    detail = f" ({', '.join(parts)})" if parts else ""
    return (f"disque plein : impossible d'écrire dans {dossier}{detail} ; les fichiers précédents sont "
            "intacts. Libérez de la place dans ce dossier puis relancez la commande.")


def est_disque_plein(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in ERRNOS:
        return True
    text = str(exc)
    return "No space left on device" in text or "Disk quota exceeded" in text


def verifier(exc: BaseException, dossier: Path, besoin: int | None = None) -> None:
    """Raise :class:`DisquePlein` from ``exc`` when it is an out-of-space error."""
    if isinstance(exc, DisquePlein):
        raise exc
    if est_disque_plein(exc):
        raise DisquePlein(dossier, besoin) from exc


def message_disque_plein(exc: BaseException, command: str, cfg: "Settings | None") -> str | None:
    """The French line for a command that ran out of space, else ``None``; ``cfg``: the
    command's settings (``None``: no home, the working directory is named)."""
    if isinstance(exc, DisquePlein):
        return f"Erreur : {exc}"
    if not est_disque_plein(exc):
        return None
    if cfg is None:
        return f"Erreur : {texte(Path(os.getcwd()), None)}"
    if command == "build":
        besoin = cfg.warehouse.stat().st_size * 2 if cfg.warehouse.is_file() else None
        return f"Erreur : {texte(cfg.processed_dir, besoin)}"
    par_commande = {"report": cfg.reports_dir, "fetch": cfg.raw_dir}
    nom = getattr(exc, "filename", None)
    dossier = Path(nom).parent if nom else par_commande.get(command, cfg.processed_dir)
    return f"Erreur : {texte(dossier, None)}"
