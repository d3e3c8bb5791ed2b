"""The refresh state of each fetched source: ``data/raw/etat-telechargements.json``.

One small JSON file, rewritten whole and atomically (a temporary beside it, then renamed)
by ``territoires fetch``, which runs under the home's writer lock. Per source id:

- ``derniere_tentative``: when fetch last tried it (UTC, ``2026-12-02T05:00:12Z``);
- ``dernier_succes``: when a download, or the server's « unchanged », last succeeded;
- ``echec_depuis``: the first failed attempt since the last success (``None`` when the last
  attempt succeeded) — what ``marts.sources`` and the pages show of a stale source;
- ``erreur``: the reason of the last failure in a few French words.

A missing or unreadable file means « nothing known »: the state informs, it never stops a
build.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

FICHIER_ETAT = "etat-telechargements.json"


def maintenant() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def lire(raw_dir: Path) -> dict[str, dict]:
    """``{source id: {derniere_tentative, dernier_succes, echec_depuis, erreur}}``."""
    path = Path(raw_dir) / FICHIER_ETAT
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    sources = data.get("sources") if isinstance(data, dict) else None
    return {k: v for k, v in (sources or {}).items() if isinstance(v, dict)}


def _ecrire(raw_dir: Path, etats: dict[str, dict]) -> None:
    path = Path(raw_dir) / FICHIER_ETAT
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    texte = json.dumps({"sources": dict(sorted(etats.items()))}, ensure_ascii=False, indent=2) + "\n"
    try:
        tmp.write_text(texte, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def noter_succes(raw_dir: Path, source_id: str, quand: str | None = None) -> None:
    """The source was refreshed (downloaded, or confirmed unchanged by its server)."""
    quand = quand or maintenant()
    etats = lire(raw_dir)
    etats[source_id] = {"derniere_tentative": quand, "dernier_succes": quand, "echec_depuis": None, "erreur": None}
    _ecrire(raw_dir, etats)


def noter_echec(raw_dir: Path, source_id: str, raison: str, quand: str | None = None) -> dict:
    """The source could not be refreshed; ``echec_depuis`` keeps the first failure since
    the last success. Returns the source's new state."""
    quand = quand or maintenant()
    etats = lire(raw_dir)
    avant = etats.get(source_id, {})
    etats[source_id] = {"derniere_tentative": quand, "dernier_succes": avant.get("dernier_succes"),
                        "echec_depuis": avant.get("echec_depuis") or quand, "erreur": raison}
    _ecrire(raw_dir, etats)
    return etats[source_id]
