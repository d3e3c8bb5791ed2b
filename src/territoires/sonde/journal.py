"""The probe's journal: one JSON-lines file per campaign under ``data/processed/sondes/``,
outside the warehouse, appended as checks finish.

Lines (each a JSON object, written by one ``os.write`` on a file opened ``O_APPEND``):

- ``{"type": "campagne", …}``: the campaign's start, its settings;
- ``{"type": "cible", …}``: a target (commune or member), its URL and mail domain, and
  the keys of its checks (``cle_web``, ``cle_mail``);
- ``{"type": "controle", "objet": "web"|"mail", "cle": …, "verifie_le": …, "resultat": {…}}``:
  a finished check, with its time;
- ``{"type": "fin", …}``: the campaign ended (every check done).

A line is in the file as soon as ``write`` returns, so a process killed even by SIGKILL
loses nothing finished (``fsync`` every :data:`FSYNC_S` seconds bounds what a power cut
could take). A line torn by a crash mid-write is cut off when the journal is reopened.
One writer per campaign: an exclusive ``flock`` on the file.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

DOSSIER = "sondes"
FSYNC_S = 1.0


class JournalOccupe(RuntimeError):
    """Another probe writes this campaign's journal."""


def maintenant() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def lire(chemin: Path) -> list[dict]:
    """The complete lines of a journal (a torn last line is left out)."""
    out = []
    with open(chemin, "rb") as f:
        for brut in f:
            if not brut.endswith(b"\n"):
                break
            try:
                out.append(json.loads(brut))
            except ValueError:
                continue
    return out


def campagnes(dossier: Path) -> list[Path]:
    """The journals of a home, oldest first (names are UTC start times)."""
    return sorted(dossier.glob("*.jsonl")) if dossier.is_dir() else []


@dataclass
class Journal:
    chemin: Path
    faits: set = field(default_factory=set)          # (objet, cle) of finished checks
    cibles: set = field(default_factory=set)         # (genre, operateur, identifiant)
    fini: bool = False
    _fd: int | None = None
    _sync: float = 0.0

    @classmethod
    def ouvrir(cls, chemin: Path) -> "Journal":
        """Open (or create) a campaign's journal for appending, after reading what it
        holds; cuts a torn last line off."""
        chemin.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(chemin, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            import fcntl

            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise JournalOccupe(f"{chemin} : une autre sonde écrit déjà dans ce journal") from None
        except ImportError:  # pragma: no cover - not POSIX
            pass
        j = cls(chemin)
        with open(chemin, "rb") as f:
            donnees = f.read()
        complet = donnees[: donnees.rfind(b"\n") + 1]
        if len(complet) != len(donnees):
            os.ftruncate(fd, len(complet))
        for ligne in lire(chemin):
            t = ligne.get("type")
            if t == "controle":
                j.faits.add((ligne["objet"], ligne["cle"]))
            elif t == "cible":
                j.cibles.add((ligne["genre"], ligne.get("operateur"), ligne["identifiant"]))
            elif t == "fin":
                j.fini = True
        j._fd = fd
        j._sync = time.monotonic()
        return j

    def ecrire(self, ligne: dict) -> None:
        os.write(self._fd, (json.dumps(ligne, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8"))
        if time.monotonic() - self._sync >= FSYNC_S:
            os.fsync(self._fd)
            self._sync = time.monotonic()

    def controle(self, objet: str, cle: str, resultat: dict, duree_s: float) -> None:
        self.ecrire({"type": "controle", "objet": objet, "cle": cle, "verifie_le": maintenant(),
                     "duree_s": round(duree_s, 3), "resultat": resultat})
        self.faits.add((objet, cle))

    def fermer(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
