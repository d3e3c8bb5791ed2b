"""Which copies of the fetched sources to keep, the disk they use, and pruning.

A file republished in place (``empreinte = "variable"``) gets one dated folder per new
content (``data/raw/<producteur>/<id>/2026-12-02/``). The rule: keep the latest copy
(the one the build reads) and, for each of the last ``mois`` calendar months (the current
one included), the latest copy of that month; remove the others. ``mois = 12`` by default
(``--garder-mois`` of ``territoires fetch`` and ``territoires sources``); ``0`` keeps the
latest copy only.

Pinned sources (one folder per vintage: ``cog-2025``) are never pruned: each folder is a
different vintage. The member registers (``data/raw/adherents/``) are not sources and are
never looked at. A removed folder is first renamed to a temporary name beside it, then
deleted, so an interrupted prune never leaves a half copy under a dated name.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from territoires.sources.erreurs import SourceError
from territoires.sources import load_registry, telechargement
from territoires.sources.telechargement import SUFFIXE_FICHE, dossier_source

#: months kept by default, besides the latest copy
MOIS_PAR_DEFAUT = 12
MOTIF_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Copie:
    """One vintage folder of a fetched source, its size, and what the rule says of it."""

    source_id: str
    dossier: Path
    octets: int
    garder: bool
    pourquoi: str


def _octets(dossier: Path) -> int:
    total = 0
    for racine, _, noms in os.walk(dossier):
        for nom in noms:
            try:
                total += (Path(racine) / nom).lstat().st_size
            except OSError:
                pass
    return total


def _mois(jour: dt.date, recul: int) -> tuple[int, int]:
    n = jour.year * 12 + jour.month - 1 - recul
    return n // 12, n % 12 + 1


def copies(raw_dir: Path, registry: dict | None = None, *, mois: int = MOIS_PAR_DEFAUT,
           jour: dt.date | None = None) -> list[Copie]:
    """Every vintage folder of every fetched source, in registry order then by date, with
    the rule's verdict (``garder``) and its reason."""
    if mois < 0:
        raise SourceError(f"--garder-mois : {mois} refusé (un nombre de mois, 0 ou plus)")
    reg = registry if registry is not None else load_registry()
    jour = jour or telechargement.aujourdhui()
    fenetre = {_mois(jour, k) for k in range(mois)}
    out: list[Copie] = []
    for src in reg.values():
        if not src.telechargeable:
            continue
        try:
            base = dossier_source(src, Path(raw_dir))
        except SourceError:
            continue
        if not base.is_dir():
            continue
        dossiers = sorted(d for d in base.iterdir() if d.is_dir() and not d.name.startswith("."))
        if src.empreinte != "variable":
            out += [Copie(src.id, d, _octets(d), True, "millésime épinglé") for d in dossiers]
            continue
        datees = [d for d in dossiers if MOTIF_DATE.match(d.name)]
        completes = [d for d in datees if (d / src.file).is_file() and (d / (src.file + SUFFIXE_FICHE)).is_file()]
        derniere = completes[-1] if completes else None
        dernieres_du_mois: dict[tuple[int, int], Path] = {}
        for d in completes:
            dernieres_du_mois[(int(d.name[:4]), int(d.name[5:7]))] = d  # sorted: the last one wins
        for d in dossiers:
            if d == derniere:
                out.append(Copie(src.id, d, _octets(d), True, "copie en usage"))
            elif d not in datees:
                out.append(Copie(src.id, d, _octets(d), True, "dossier non daté, laissé tel quel"))
            elif d not in completes:
                out.append(Copie(src.id, d, _octets(d), True, "copie incomplète, laissée telle quelle"))
            else:
                cle = (int(d.name[:4]), int(d.name[5:7]))
                if cle in fenetre and dernieres_du_mois.get(cle) == d:
                    out.append(Copie(src.id, d, _octets(d), True, f"dernière copie de {d.name[:7]}"))
                else:
                    out.append(Copie(src.id, d, _octets(d), False,
                                     f"autre copie de {d.name[:7]}" if cle in fenetre else
                                     f"plus vieille que {mois} mois"))
    return out


def occupation(raw_dir: Path, registry: dict | None = None, *, mois: int = MOIS_PAR_DEFAUT) -> list[dict]:
    """Per fetched source present on disk: copies, bytes used, bytes pruning would free."""
    par: dict[str, dict] = {}
    for c in copies(raw_dir, registry, mois=mois):
        r = par.setdefault(c.source_id, {"id": c.source_id, "copies": 0, "octets": 0, "liberables": 0,
                                         "a_elaguer": 0})
        r["copies"] += 1
        r["octets"] += c.octets
        if not c.garder:
            r["liberables"] += c.octets
            r["a_elaguer"] += 1
    return list(par.values())


def elaguer(raw_dir: Path, registry: dict | None = None, *, mois: int = MOIS_PAR_DEFAUT) -> list[Copie]:
    """Remove the copies the rule does not keep; return them."""
    raw_dir = Path(raw_dir).resolve()
    registres = raw_dir / "adherents"
    retirees = []
    for c in copies(raw_dir, registry, mois=mois):
        if c.garder:
            continue
        dossier = c.dossier.resolve()
        if raw_dir not in dossier.parents or dossier == registres or registres in dossier.parents:
            raise SourceError(f"{dossier} : hors des sources téléchargées, jamais élagué")
        tmp = dossier.with_name(f".{dossier.name}.tmp-{os.getpid()}")
        os.replace(dossier, tmp)
        shutil.rmtree(tmp)
        retirees.append(c)
    return retirees
