"""What every command shares, below the command line: exit statuses, the usage error, and
the lock that lets one command at a time write into a home.

Ground floor: :mod:`territoires.cli` (the entry point) and the sub-commands of the input
packages (``territoires adherents …``) use it, so none of them imports the entry point;
:func:`reglages` resolves the home once per command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from territoires.config import Settings, settings

#: exit statuses (sysexits.h and the shell's 128 + signal): what schedulers act on
EXIT_OK, EXIT_ERREUR, EXIT_USAGE, EXIT_OCCUPE, EXIT_SIGINT, EXIT_SIGTERM = 0, 1, 2, 75, 130, 143
#: ``fetch`` of several sources: some could not be refreshed, their previous copies stay in
#: use (or the embedded data, without one); the others were fetched — build and report may go on
EXIT_NON_RAFRAICHIES = 3


class UsageError(ValueError):
    """Wrong arguments, found after parsing: exit status 2, as argparse's own errors."""


def reglages(args: argparse.Namespace) -> Settings:
    """The home's settings for this command: resolved once (``TERRITOIRES_HOME``, else the
    marked folder above the working directory), by the first part of the command that needs
    them, then kept on ``args``; every library call below gets them, or their paths, passed."""
    cfg = getattr(args, "reglages", None)
    if cfg is None:
        cfg = args.reglages = settings()
    return cfg


class Verrou:
    """One writer per home: an exclusive ``flock`` on ``data/processed/.territoires.lock``,
    released when the process ends, however it ends (a lock held by a dead process is
    thus taken over at once). A second writer waits, saying so, until the first one is
    done; with ``--sans-attendre`` it exits with status 75 (EX_TEMPFAIL, « try again later »)."""

    def __init__(self, home: Path) -> None:
        self.path = home / "data" / "processed" / ".territoires.lock"
        self.fd: int | None = None

    def prendre(self, attendre: bool = False) -> bool:
        """Take the lock; when another process holds it, wait for it (``attendre``, with a
        message) or give up (``False``)."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock
            return True
        import os

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not attendre:
                os.close(fd)
                return False
            print(f"En attente : une autre commande territoires (processus {self.qui()}) écrit dans ce projet ; "
                  "elle se terminera d'abord (--sans-attendre pour sortir aussitôt, code 75).", file=sys.stderr)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return True

    def qui(self) -> str:
        try:
            return self.path.read_text().strip() or "?"
        except OSError:
            return "?"

    def rendre(self) -> None:
        if self.fd is not None:
            import os

            os.close(self.fd)  # closing the descriptor releases the flock
            self.fd = None
