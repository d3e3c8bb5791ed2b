"""Interrupts (SIGINT, SIGTERM) that act within two seconds, and temporaries that never
outlive their process.

A command that writes installs a :class:`Garde` for its duration (``territoires.cli``
does). A signal then:

1. is seen at once by a watcher thread (``signal.set_wakeup_fd``), which calls
   ``interrupt()`` on every DuckDB connection registered with :func:`connexion`: a long
   statement stops at once instead of when DuckDB next checks Python's signals;
2. raises ``KeyboardInterrupt`` (or :class:`Arret` for SIGTERM) in the main thread, where
   each command removes its own temporaries on the way out;
3. if the command has not ended :data:`DELAI` seconds later, the watcher ends it: the
   temporaries registered with :func:`temporaire`, the processes started by this one
   (found through ``/proc``), then ``os._exit`` with 130 or 143 and one French line.

Temporaries are named ``.<name>.tmp-<pid>…`` beside their target; a command that writes
removes, under the lock, those whose process no longer exists
(:func:`nettoyer_orphelins`).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator

from territoires.sorties import EXIT_SIGINT, EXIT_SIGTERM
from territoires.formats import taille

#: seconds between a signal and the forced end of a command that did not stop by itself
DELAI = 1.5

#: ``.<name>.tmp-<pid>`` then anything (``.wal``, ``-<random>``, ``.ipynb``)
MOTIF_TEMPORAIRE = re.compile(r"^\..+\.tmp-(\d+)(?:[-.].*)?$")


class Arret(KeyboardInterrupt):
    """SIGTERM (systemd, Airflow, ``kill``), raised where the program is, so that it ends
    as after Ctrl-C: temporaries removed, previous outputs kept."""


_verrou = threading.Lock()
_connexions: list = []
_temporaires: list[Path] = []
#: signals received during the current command
SIGNAUX: list[int] = []


@contextlib.contextmanager
def connexion(con) -> Iterator:
    """Register a DuckDB connection: a signal interrupts its running statement."""
    with _verrou:
        _connexions.append(con)
    try:
        yield con
    finally:
        with _verrou:
            with contextlib.suppress(ValueError):
                _connexions.remove(con)


@contextlib.contextmanager
def temporaire(*paths: Path) -> Iterator[tuple[Path, ...]]:
    """Register temporaries: removed if the command has to be ended by force."""
    with _verrou:
        _temporaires.extend(paths)
    try:
        yield paths
    finally:
        with _verrou:
            for p in paths:
                with contextlib.suppress(ValueError):
                    _temporaires.remove(p)


def interrompre_connexions() -> None:
    with _verrou:
        cons = list(_connexions)
    for con in cons:
        with contextlib.suppress(Exception):
            con.interrupt()


def supprimer_temporaires() -> list[Path]:
    with _verrou:
        paths = list(_temporaires)
    removed = []
    for p in paths:
        with contextlib.suppress(OSError):
            p.unlink()
            removed.append(p)
    return removed


# ── processes ────────────────────────────────────────────────────────────────

def pid_vivant(pid: int) -> bool:
    """Whether a process ``pid`` exists (``os.kill(pid, 0)``; another user's counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name is in parentheses and may hold spaces: fields follow the last ')'
    rest = stat[stat.rfind(")") + 2:].split()
    try:
        return int(rest[1])
    except (IndexError, ValueError):
        return None


def descendants(pid: int | None = None) -> list[int]:
    """Every process started, directly or not, by ``pid`` (this one by default), through
    ``/proc`` (empty where there is none). Kernels started in a session of their own are
    included: the parent link is what counts."""
    root = os.getpid() if pid is None else pid
    try:
        entries = [int(n) for n in os.listdir("/proc") if n.isdigit()]
    except OSError:
        return []
    enfants: dict[int, list[int]] = {}
    for p in entries:
        pp = _parent(p)
        if pp is not None:
            enfants.setdefault(pp, []).append(p)
    out, todo = [], [root]
    while todo:
        for c in enfants.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def tuer(pids: Iterable[int], sig: int = signal.SIGKILL) -> None:
    for p in pids:
        with contextlib.suppress(OSError):
            os.kill(p, sig)


def _suivi_des_ressources(pid: int) -> bool:
    """Python's ``multiprocessing`` resource tracker: it must outlive the workers, whose
    semaphores it forgets when they are closed (killed before, it is relaunched, knows none
    of them and prints a « KeyError: '/mp-…' » traceback for each). It ends by itself,
    with its parent."""
    try:
        return b"multiprocessing.resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


#: the resource tracker's warning about the semaphores a process ended by :func:`os._exit`
#: left registered (it removes them all the same): a line of English after the French one
SANS_AVERTISSEMENT_SUIVI = "ignore::UserWarning:multiprocessing.resource_tracker"


def lancer_suivi_des_ressources() -> None:
    """Start ``multiprocessing``'s resource tracker (:func:`_suivi_des_ressources`) before a
    pool of workers does, without its warning at shutdown about the semaphores left
    registered: an interrupted command that does not stop in time ends by ``os._exit``
    (:class:`Garde`), its pool's semaphores still registered, and the tracker, which
    outlives it, removed them then printed « resource_tracker: There appear to be N leaked
    semaphore objects » after the command's last line. It starts with this process's
    warning options (``-W``), the only way to give it one."""
    from multiprocessing import resource_tracker

    avant = list(sys.warnoptions)
    sys.warnoptions.append(SANS_AVERTISSEMENT_SUIVI)
    try:
        resource_tracker.ensure_running()
    finally:
        sys.warnoptions[:] = avant


def arreter_descendants(delai: float = 1.0) -> list[int]:
    """SIGTERM to every descendant (each removes its own temporaries), then SIGKILL to
    those still there after ``delai`` seconds; ``multiprocessing``'s resource tracker
    aside (:func:`_suivi_des_ressources`). Returns the processes stopped."""
    pids = [p for p in descendants() if not _suivi_des_ressources(p)]
    tuer(pids, signal.SIGTERM)
    fin = time.monotonic() + delai
    while time.monotonic() < fin and any(pid_vivant(p) and not _zombie(p) for p in pids):
        time.sleep(0.02)
    tuer([p for p in pids if pid_vivant(p)], signal.SIGKILL)
    return pids


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2:].startswith("Z")


# ── stale temporaries ────────────────────────────────────────────────────────

def orphelins(*dossiers: Path, recursif: bool = True) -> list[Path]:
    """Temporaries ``.<name>.tmp-<pid>…`` under ``dossiers`` whose process is gone."""
    found = []
    for d in dossiers:
        if not d.is_dir():
            continue
        it = d.rglob(".*") if recursif else d.glob(".*")
        for p in it:
            m = MOTIF_TEMPORAIRE.match(p.name)
            if m and int(m.group(1)) != os.getpid() and not pid_vivant(int(m.group(1))):
                found.append(p)
    return sorted(found)


def nettoyer_orphelins(home: Path, dire: Callable[[str], None] | None = None) -> list[Path]:
    """Remove the temporaries left in ``data/processed/`` (warehouse, its ``.wal``,
    exports), under ``reports/`` and ``audit/`` by processes that no longer exist, and say so."""
    import shutil

    stale = orphelins(home / "data" / "processed", home / "data" / "raw", home / "reports", home / "audit")
    removed, octets = [], 0
    for p in stale:
        try:
            if p.is_dir() and not p.is_symlink():
                octets += sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
                shutil.rmtree(p)
            else:
                octets += p.stat().st_size
                p.unlink()
        except OSError:
            continue
        removed.append(p)
    if removed and dire is not None:
        pids = sorted({MOTIF_TEMPORAIRE.match(p.name).group(1) for p in removed}, key=int)
        noms = ", ".join(str(p.relative_to(home)) for p in removed[:5]) + (" …" if len(removed) > 5 else "")
        dire(f"Nettoyage : {len(removed)} fichier{'s' if len(removed) > 1 else ''} temporaire"
             f"{'s' if len(removed) > 1 else ''} laissé{'s' if len(removed) > 1 else ''} par "
             f"{'des processus arrêtés' if len(pids) > 1 else 'un processus arrêté'} "
             f"(pid {', '.join(pids)}) supprimé{'s' if len(removed) > 1 else ''} ({taille(octets)}) : {noms}")
    return removed


# ── the guard of a command ───────────────────────────────────────────────────

def _sur_signal(signum, frame):  # noqa: ARG001 - signal handler signature
    SIGNAUX.append(signum)
    if signum == signal.SIGTERM:
        raise Arret()
    raise KeyboardInterrupt()


class Garde:
    """Signal handling for one command (see the module docstring). ``message(sigterm)``
    gives the French line printed when the command has to be ended by force."""

    def __init__(self, message: Callable[[bool], str]) -> None:
        self.message = message
        self.precedents: dict[int, object] = {}
        self.fini = threading.Event()
        self._lecture: socket.socket | None = None
        self._ecriture: socket.socket | None = None
        self._wakeup_precedent = -1

    def __enter__(self) -> "Garde":
        SIGNAUX.clear()
        if threading.current_thread() is not threading.main_thread():
            return self
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.precedents[signum] = signal.signal(signum, _sur_signal)
        try:
            self._lecture, self._ecriture = socket.socketpair()
            self._lecture.setblocking(True)
            self._ecriture.setblocking(False)
            self._wakeup_precedent = signal.set_wakeup_fd(self._ecriture.fileno(), warn_on_full_buffer=False)
        except (OSError, ValueError):  # pragma: no cover - no wakeup fd: handlers only
            self._lecture = self._ecriture = None
            return self
        threading.Thread(target=self._veiller, name="territoires-signaux", daemon=True).start()
        return self

    def _veiller(self) -> None:
        lecture = self._lecture
        while True:
            try:
                data = lecture.recv(64)
            except OSError:
                return
            if not data or self.fini.is_set():
                return
            # the wakeup fd also carries signals that other handlers (a library's) catch
            if signal.SIGINT in data or signal.SIGTERM in data:
                break
        sigterm = signal.SIGTERM in data
        interrompre_connexions()
        if self.fini.wait(DELAI):
            return
        # the command did not stop by itself: end it, keeping the previous outputs
        supprimer_temporaires()
        arreter_descendants(0.3)
        try:
            sys.stderr.write(self.message(sigterm) + "\n")
            sys.stderr.flush()
        finally:
            os._exit(EXIT_SIGTERM if sigterm else EXIT_SIGINT)

    def __exit__(self, *exc) -> None:
        self.fini.set()
        if self._ecriture is not None:
            with contextlib.suppress(ValueError, OSError):
                signal.set_wakeup_fd(self._wakeup_precedent)
            with contextlib.suppress(OSError):
                self._ecriture.send(b"\0")  # wakes the watcher, which sees ``fini`` and leaves
            for s in (self._ecriture, self._lecture):
                with contextlib.suppress(OSError):
                    s.close()
        for signum, handler in self.precedents.items():
            signal.signal(signum, handler)
