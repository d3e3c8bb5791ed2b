"""Run a build's models on several connections at once, each as soon as what it reads is built.

DuckDB releases Python's GIL while a statement runs, and the longest models use one core
each: cleaning the communes' coverage is one geometry call, the directory's sites and
e-mails go through Python functions (once per distinct host). On two connections to the same database
(the build's own and a cursor of it, :meth:`duckdb.DuckDBPyConnection.cursor`) the
geometry runs beside the presence models instead of before them.

- A model starts once every model of the same run whose table it reads has ended; among
  those ready, the one with the longest chain of readers after it first, then the order
  of :func:`territoires.warehouse.modeles.ordonner`.
- Each connection gets what the build's connection has of its own (:func:`executer`'s
  ``preparer``: SQL variables, settings); the extension and the Python functions are the
  database's, loaded before by the caller on the build's connection (a Python function
  lives as long as the connection that created it: never a cursor).
- Progress is written by the calling thread only, a line per model as it ends.
- The first failure stops the run: the other connections' statements are interrupted,
  and its error (French, naming the model) is raised once every thread has ended; so
  is an interrupt (Ctrl-C, SIGTERM) received meanwhile.
"""

from __future__ import annotations

import contextlib
import heapq
import os
import queue
import threading
import time
from typing import Callable

import duckdb

from territoires import interruptions
from territoires.progress import Progress
from territoires.warehouse.modeles import Model

#: the end of a model handed to a connection as another failed: it was not started
NON_LANCE = object()

#: connections at most: the build's and one cursor (the machines this runs on have two
#: cores; every statement also uses DuckDB's own threads)
VOIES = 2


def voies_par_defaut() -> int:
    """:data:`VOIES`, or fewer on a machine with fewer cores."""
    return max(1, min(VOIES, os.cpu_count() or 1))


def _hauteurs(modeles: list[Model], lecteurs: dict[str, list[str]]) -> dict[str, int]:
    """For each model, the longest chain of models of ``modeles`` reading it, in turn."""
    hauteur: dict[str, int] = {}
    for m in reversed(modeles):  # readers come after what they read
        hauteur[m.table] = 1 + max((hauteur[t] for t in lecteurs[m.table]), default=0)
    return hauteur


def executer(con: duckdb.DuckDBPyConnection, modeles: list[Model],
             lancer: Callable[[duckdb.DuckDBPyConnection, Model], None], progress: Progress,
             voies: int = 1, preparer: Callable[[duckdb.DuckDBPyConnection], None] | None = None) -> None:
    """Run ``lancer(connection, model)`` for every model of ``modeles`` (in execution
    order), on ``voies`` connections: ``con`` (ready) and cursors of it, each given to
    ``preparer`` first. With one, on ``con`` in this thread, in order."""
    if voies <= 1 or len(modeles) <= 1:
        for m in modeles:
            with progress.step(m.table):
                lancer(con, m)
        return
    tables = {m.table for m in modeles}
    entrees = {m.table: {t for t in m.lit if t in tables and t != m.table} for m in modeles}
    lecteurs: dict[str, list[str]] = {m.table: [] for m in modeles}
    for m in modeles:
        for t in entrees[m.table]:
            lecteurs[t].append(m.table)
    hauteur = _hauteurs(modeles, lecteurs)
    rang = {m.table: i for i, m in enumerate(modeles)}
    par_table = {m.table: m for m in modeles}
    attente = {t: len(e) for t, e in entrees.items()}
    prets = [(-hauteur[t], rang[t], t) for t, n in attente.items() if n == 0]
    heapq.heapify(prets)

    fins: queue.Queue = queue.Queue()  # (voie, model, seconds, exception, None or NON_LANCE)
    with contextlib.ExitStack() as pile:
        connexions = [con]
        for _ in range(voies - 1):
            curseur = con.cursor()
            pile.callback(curseur.close)
            connexions.append(curseur)
        for c in connexions[1:]:
            pile.enter_context(interruptions.connexion(c))  # a signal interrupts its statement
            if preparer is not None:
                preparer(c)
        boites: list[queue.Queue] = [queue.Queue() for _ in connexions]
        arret = threading.Event()  # a failure or an interrupt: a model handed out is not started

        def voie(i: int) -> None:
            while (m := boites[i].get()) is not None:
                if arret.is_set():  # not started, but its end is said all the same: the calling
                    fins.put((i, m, 0.0, NON_LANCE))  # thread counts every model it handed out
                    continue
                debut = time.perf_counter()
                try:
                    lancer(connexions[i], m)
                except BaseException as exc:  # handed to the calling thread, which raises it
                    fins.put((i, m, time.perf_counter() - debut, exc))
                else:
                    fins.put((i, m, time.perf_counter() - debut, None))

        fils = [threading.Thread(target=voie, args=(i,), name=f"modeles-{i}", daemon=True)
                for i in range(len(connexions))]
        for f in fils:
            f.start()
        libres, en_cours, erreur = list(range(len(connexions))), 0, None
        try:
            while True:
                while libres and prets and erreur is None:
                    _, _, t = heapq.heappop(prets)
                    boites[libres.pop(0)].put(par_table[t])
                    en_cours += 1
                if not en_cours:
                    break
                i, m, secondes, exc = fins.get()
                en_cours -= 1
                libres.append(i)
                libres.sort()
                if exc is NON_LANCE:  # the failure that stopped it is recorded already
                    continue
                if exc is not None:
                    if erreur is None:  # the first failure; the others' are its consequence
                        erreur = exc
                        arret.set()
                        for c in connexions:
                            with contextlib.suppress(duckdb.Error):
                                c.interrupt()
                    continue
                progress.fait(m.table, secondes)
                for lecteur in lecteurs[m.table]:
                    attente[lecteur] -= 1
                    if attente[lecteur] == 0:
                        heapq.heappush(prets, (-hauteur[lecteur], rang[lecteur], lecteur))
        except BaseException:  # an interrupt while waiting: stop the statements running
            arret.set()
            for c in connexions:
                with contextlib.suppress(duckdb.Error):
                    c.interrupt()
            raise
        finally:
            for b in boites:
                b.put(None)
            for f in fils:
                f.join()
        if erreur is not None:
            raise erreur
