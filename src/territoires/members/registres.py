"""Which imported registers the build reads (the latest import of each file, or one
chosen), with their sha256: light enough for the build's fingerprint, which hashes them
without loading the readers or pyarrow."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from territoires import operateurs


#: motif strict d'un code d'opérateur (un nom de dossier) : celui de territoires.operateurs
OPERATEUR_MOTIF = operateurs.MOTIF


#: préfixe d'horodatage d'un import
HORODATAGE = re.compile(r"^(\d{8}T\d{6})-(.+)$")


#: fichiers d'un dossier d'opérateur qui ne sont pas des registres
NON_REGISTRES = {"correspondance.toml", "imports.json", "readme.md"}


EXTENSIONS = (".csv", ".csv.gz", ".tsv", ".txt", ".xlsx", ".gz")


DOSSIER_ANCT = "anct"


@dataclass(frozen=True)
class FichierRegistre:
    """Un fichier de registre retenu pour le build."""

    operateur: str          # code d'opérateur, ou « anct »
    chemin: Path
    nom: str                # chemin relatif à adherents_dir (affiché et stocké)
    sha256: str


def sha256(chemin: Path, bloc: int = 1 << 20) -> str:
    """Empreinte sha256 d'un fichier, lu par blocs."""
    h = hashlib.sha256()
    with chemin.open("rb") as f:
        while b := f.read(bloc):
            h.update(b)
    return h.hexdigest()


def _est_registre(p: Path) -> bool:
    n = p.name.lower()
    return (p.is_file() and not n.startswith(".") and n not in NON_REGISTRES and ".tmp" not in n
            and n.endswith(EXTENSIONS))


def dossier_ignore(nom: str, codes: set[str] | None = None) -> str | None:
    """La raison pour laquelle le dossier ``nom`` de ``data/raw/adherents/`` n'est pas lu, sinon
    ``None`` : un nom qui n'est pas un code d'opérateur valide, ou (``codes`` donnés) un code
    absent du fichier des opérateurs en vigueur."""
    if nom == DOSSIER_ANCT:
        return None
    if not OPERATEUR_MOTIF.match(nom):
        return "nom de dossier invalide (un code d'opérateur : minuscules, chiffres, - ou _) : dossier ignoré"
    if codes is not None and nom not in codes:
        return "opérateur absent du fichier des opérateurs (operateurs.toml) : dossier ignoré"
    return None


def fichiers_registres(adherents_dir: Path, selection: dict[str, str] | None = None,
                       operateurs_file: Path | None = None,
                       anct_telechargees: tuple[Path, ...] = ()) -> list[FichierRegistre]:
    """Les fichiers que le build lit, avec leur sha256 (l'empreinte du build les hache).

    Par opérateur et par nom d'origine, le dernier import seulement ; plus les exports ANCT
    de ``anct/``. Ordre stable (opérateur, nom). Un dossier dont le nom n'est pas un code
    d'opérateur valide est ignoré ; avec ``operateurs_file``, un code absent de ce fichier aussi.

    ``selection`` choisit un import antérieur : ``{"megalis/registre.csv":
    "20250101T000000-registre.csv"}`` (clé : opérateur/nom d'origine ; valeur : fichier
    importé du même dossier). Un choix introuvable lève ``FileNotFoundError``.

    ``anct_telechargees`` : les exports de la Suite territoriale téléchargés par
    ``territoires fetch`` (sous ``data/raw/anct/…``), lus comme ceux de ``anct/`` (nommés
    ``anct/<fichier>``) ; un fichier de même nom déposé dans ``anct/`` l'emporte.
    """
    adherents_dir = Path(adherents_dir)
    telechargees = [FichierRegistre(DOSSIER_ANCT, Path(p), f"{DOSSIER_ANCT}/{Path(p).name}", sha256(Path(p)))
                    for p in anct_telechargees]
    if not adherents_dir.is_dir():
        return telechargees
    codes = set(operateurs.codes(operateurs_file)) if operateurs_file else None
    retenus: list[FichierRegistre] = []
    for dossier in sorted(p for p in adherents_dir.iterdir() if p.is_dir()):
        if dossier_ignore(dossier.name, codes):
            continue
        derniers: dict[str, Path] = {}
        for p in sorted(dossier.iterdir()):
            if not _est_registre(p):
                continue
            m = HORODATAGE.match(p.name)
            origine = m.group(2) if m else p.name
            # les noms horodatés se trient par date ; le plus récent l'emporte
            if origine not in derniers or p.name > derniers[origine].name:
                derniers[origine] = p
        for origine in sorted(derniers):
            p = derniers[origine]
            choix = (selection or {}).get(f"{dossier.name}/{origine}")
            if choix:
                p = dossier / choix
                if "/" in choix or "\\" in choix or not p.is_file() or not _est_registre(p):
                    raise FileNotFoundError(f"{dossier.name}/{choix}: import choisi introuvable")
            retenus.append(FichierRegistre(dossier.name, p, p.relative_to(adherents_dir).as_posix(), sha256(p)))
    deposes = {f.nom for f in retenus}
    return retenus + [f for f in telechargees if f.nom not in deposes]


def empreinte_correspondances(adherents_dir: Path) -> list[tuple[str, str]]:
    """``(opérateur, sha256)`` de chaque ``<opérateur>/correspondance.toml`` : une correspondance
    modifiée (colonnes, services, ``[operateurs_anct]``) change ce que le build lit."""
    adherents_dir = Path(adherents_dir)
    if not adherents_dir.is_dir():
        return []
    return [(p.parent.name, sha256(p)) for p in sorted(adherents_dir.glob("*/correspondance.toml")) if p.is_file()]
