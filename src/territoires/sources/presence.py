"""What is present under ``data/raw/``: the latest download of each source (its sidecar)
and, per source of the registry, embedded / fetched / missing with the vintage in use
(``territoires sources``)."""

from __future__ import annotations

from pathlib import Path

from territoires.sources.erreurs import SourceError
from territoires.sources.telechargement import Telechargement, _fiche, dernier_telechargement, dossier_source
from territoires.sources import load_registry, suivi

#: what a source is in this home (``territoires sources``, ``marts.sources.etat``), declared once
ETAT_EMBARQUEE, ETAT_TELECHARGEE, ETAT_ABSENTE, ETAT_DEPOT, ETAT_REGISTRE, ETAT_SONDE = (
    "embarquée", "téléchargée", "absente", "fichier du dépôt", "registre importé", "sonde exécutée")
#: the vintage in use of a source not fetched: none (the embedded data, when they exist, serve)
MILLESIME_ABSENTE = "aucun (non téléchargée)"
#: the vintage in use of a source a command makes in this home (the probe) before it ran
MILLESIME_NON_LANCEE = "aucun (sonde non lancée : territoires sonde)"


def fraicheur(src, t: Telechargement | None, etats: dict) -> dict:  # noqa: ANN001
    """How fresh a fetched source is: ``rafraichi_le`` (when the copy in use was
    downloaded), and from the refresh state (:mod:`territoires.sources.suivi`) the first
    failed attempt since the last success (``echec_depuis``, ``None`` when the last attempt
    succeeded), the last attempt and the failure's reason (``erreur``)."""
    e = etats.get(src.id, {})
    return {"rafraichi_le": t.fiche.get("telecharge_le") if t is not None else None,
            "echec_depuis": e.get("echec_depuis"), "derniere_tentative": e.get("derniere_tentative"),
            "erreur": e.get("erreur") if e.get("echec_depuis") else None}


def etat_sources(raw_dir: Path, registry: dict | None = None) -> list[dict]:
    """Per source: ``etat`` (embarquée, téléchargée, absente, fichier du dépôt, sonde exécutée), the
    vintage in use and the path, and for a fetched source its freshness
    (:func:`fraicheur`), for ``territoires sources`` and ``marts.sources``."""
    reg = registry if registry is not None else load_registry()
    etats = suivi.lire(raw_dir)
    rows = []
    for src in reg.values():
        t = None
        if src.embedded:
            etat, millesime, chemin, sha = ETAT_EMBARQUEE, src.vintage, None, src.sha256
        elif src.telechargeable:
            t = dernier_telechargement(src, raw_dir)
            if t is None:
                etat, millesime, chemin, sha = ETAT_ABSENTE, MILLESIME_ABSENTE, None, src.sha256
            else:
                etat, chemin, sha = ETAT_TELECHARGEE, t.chemin, t.fiche.get("sha256", "")
                millesime = t.millesime if src.empreinte == "variable" else src.vintage
        elif src.file.startswith("data/processed/"):  # made in this home by a command (the probe's journals)
            dossier = Path(raw_dir).parent.parent / src.file
            journaux = sorted(dossier.glob("*.jsonl")) if dossier.is_dir() else []
            etat, chemin, sha = (ETAT_SONDE, dossier, "") if journaux else (ETAT_ABSENTE, None, "")
            millesime = (f"campagne du {journaux[-1].name[:4]}-{journaux[-1].name[4:6]}-{journaux[-1].name[6:8]}"
                         if journaux else MILLESIME_NON_LANCEE)
        else:
            etat, millesime, chemin, sha = ETAT_DEPOT, src.vintage, None, src.sha256
        rows.append({"id": src.id, "producteur": src.producer, "etat": etat, "millesime": millesime,
                     "chemin": chemin, "sha256": sha, "empreinte": src.empreinte,
                     "paquet": f"{src.package}=={src.package_version}" if src.embedded else None,
                     **fraicheur(src, t, etats)})
    return rows


def telechargements_presents(raw_dir: Path, registry: dict | None = None, *,
                             avec_connecteur: bool = True) -> list[Telechargement]:
    """The latest download of every source that has a connector (all fetched sources with
    ``avec_connecteur=False``: the ANCT registers too), in registry order."""
    reg = registry if registry is not None else load_registry()
    out = []
    for src in reg.values():
        if src.connecteur or not avec_connecteur:
            t = dernier_telechargement(src, Path(raw_dir))
            if t is not None:
                out.append(t)
    return out


def empreinte_telechargees(raw_dir: Path, registry: dict | None = None) -> list[tuple]:
    """What identifies the fetched files the build reads, without reading them whole: id,
    vintage folder, the sha256 recorded at download, size and modification time (a file
    replaced or edited in place changes the last two), and whether its refresh is failing
    since when and why (the pages say so; a server confirming the copy changes nothing).
    Empty when nothing is fetched."""
    etats = suivi.lire(raw_dir)
    out = []
    for t in telechargements_presents(raw_dir, registry, avec_connecteur=False):
        st = t.chemin.stat()
        e = etats.get(t.source_id, {})
        out.append((t.source_id, t.millesime, t.fiche.get("sha256", ""), st.st_size, st.st_mtime_ns,
                    e.get("echec_depuis"), e.get("erreur") if e.get("echec_depuis") else None))
    return out


def famille(src) -> str:  # noqa: ANN001
    """The dataset a source belongs to, as people name it: its title before « : »
    (the sixteen contour files are one « Contours administratifs 2025 »)."""
    return src.title.split(" : ")[0]


def familles_absentes(charges: set[str], registry: dict | None = None) -> list[str]:
    """The official datasets none of whose files is among ``charges`` (source ids), in
    registry order: what pages name as not fetched."""
    reg = registry if registry is not None else load_registry()
    presentes = {famille(s) for s in reg.values() if s.id in charges}
    out: list[str] = []
    for s in reg.values():
        if s.telechargeable and famille(s) not in presentes and famille(s) not in out:
            out.append(famille(s))
    return out
