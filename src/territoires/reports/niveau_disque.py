"""Page data by level on disk: what :mod:`.niveau` computes over a whole level, written once
per run by ``territoires report`` and read by every kernel of the run.

Where: ``<entrepôt>.pages/<clé>/<genre>-<niveau>.parquet`` beside the warehouse (never in
it: the pages read the warehouse while the run writes). One Parquet file per level and
kind rather than a DuckDB file: each file is written whole then renamed into place, so a
kernel reads it as soon as it is complete while the run goes on with the next level, with
no lock between processes (a DuckDB file opened for writing is closed to readers, and
polars reads Parquet natively, without pyarrow).

The key (``<clé>``) is the warehouse build's fingerprint (``meta.build``) and that of the
code that makes the data (:func:`territoires.empreintes.empreinte` of :mod:`.niveau` and
all it imports): a cache of another build or of other code is in another folder and is
never read. The run removes its folder when it ends (and a run clears any folder an older
one left); a notebook run alone (papermill, JupyterLab) finds none and computes its level
on demand, the same rows by the same code.

While the run writes, ``en_cours`` holds its process id and the files it will write: a
kernel asking for one of them not written yet waits for it while that process lives (at
most :data:`ATTENTE_S`); for any other it computes on its own at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from territoires import empreintes
from territoires.interruptions import pid_vivant

#: the longest a kernel waits for a file the run is writing; a kernel that waited that
#: long in vain no longer waits for that run's other files (:func:`lire`)
ATTENTE_S = 120.0
#: the marker of a run writing the folder (its process id)
EN_COURS = "en_cours"

_CODE: dict[str, str] = {}
#: the run caches this process gave up waiting on (a writer alive but stuck or far behind)
_ABANDONNES: set[Path] = set()


def _code() -> str:
    """Fingerprint of the code that makes the data (everything :mod:`.niveau` imports,
    :func:`territoires.empreintes.empreinte`), once per process."""
    if "cle" not in _CODE:
        _CODE["cle"] = empreintes.empreinte("territoires.reports.niveau")
    return _CODE["cle"]


def racine(entrepot: str | os.PathLike) -> Path:
    """The folder of every run cache of ``entrepot`` (``territoires.duckdb`` → ``territoires.pages``)."""
    p = Path(entrepot)
    return p.with_name(p.stem + ".pages")


def dossier(entrepot: str | os.PathLike, empreinte: str) -> Path:
    """The run cache of this build of ``entrepot`` made by this code."""
    cle = hashlib.sha256(f"{empreinte}\0{_code()}".encode()).hexdigest()[:24]
    return racine(entrepot) / cle


def fichier(d: Path, genre: str, niveau: str) -> Path:
    return d / f"{genre}-{niveau}.parquet"


# ── the run: writes ─────────────────────────────────────────────────────────

def ouvrir(d: Path, prevus: list[tuple[str, str]]) -> None:
    """The run starts writing ``d``: older caches of this warehouse removed, ``en_cours``
    set with the ``(genre, niveau)`` it will write."""
    if d.parent.is_dir():  # older runs' (one stopped by kill -9), this key's included
        for autre in d.parent.iterdir():
            shutil.rmtree(autre, ignore_errors=True)
    d.mkdir(parents=True, exist_ok=True)
    marque = {"pid": os.getpid(), "fichiers": [fichier(d, g, n).name for g, n in prevus]}
    (d / EN_COURS).write_text(json.dumps(marque), encoding="utf-8")


def ecrire(d: Path, genre: str, niveau: str, df: Any) -> None:
    """Write one level's frame whole, then rename it into place."""
    final = fichier(d, genre, niveau)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    try:
        df.write_parquet(tmp, statistics=True)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def fermer(d: Path) -> None:
    """The run has written all it will: kernels stop waiting."""
    (d / EN_COURS).unlink(missing_ok=True)


def supprimer(d: Path) -> None:
    """The run ends: its cache goes (and the warehouse's ``.pages`` folder if empty)."""
    shutil.rmtree(d, ignore_errors=True)
    try:
        d.parent.rmdir()
    except OSError:
        pass


# ── the kernels: reads ──────────────────────────────────────────────────────

def _a_attendre(f: Path) -> bool:
    """Whether a live run is writing ``f`` (announced in its ``en_cours``)."""
    try:
        marque = json.loads((f.parent / EN_COURS).read_text(encoding="utf-8"))
        pid = int(marque["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return f.name in marque.get("fichiers", ()) and pid_vivant(pid)


def lire(d: Path | None, genre: str, niveau: str):
    """The frame the run wrote for ``genre`` and ``niveau``, waiting while it writes it;
    ``None`` when there is none (no run cache, another build, the run gave up, or this
    process waited :data:`ATTENTE_S` in vain for a file of that run: the caller computes it)."""
    if d is None or not d.is_dir():
        return None
    f = fichier(d, genre, niveau)
    limite = time.monotonic() + ATTENTE_S
    while not f.is_file():
        trop_long = time.monotonic() > limite
        if trop_long or d in _ABANDONNES or not _a_attendre(f):
            if f.is_file():  # written meanwhile
                break
            if trop_long:  # once, not for each file: a page waits at most ATTENTE_S for its run
                _ABANDONNES.add(d)
            return None
        time.sleep(0.01)
    import polars as pl

    try:
        return pl.read_parquet(f)
    except (OSError, pl.exceptions.ComputeError):  # removed as the run ended, or unreadable: computed
        return None
