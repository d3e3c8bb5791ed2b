"""Le journal des imports de registres (``data/raw/adherents/<operateur>/imports.json``) :
chaque import garde les octets d'origine sous un nom horodaté, sans jamais écraser, et note
son sha256, sa taille, sa date et, pour un export de la Suite territoriale, l'opérateur
attribué à chaque ``operateur_id``. ``territoires adherents import`` et ``liste`` le lisent
et l'écrivent ici.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

from territoires import noms
from territoires.sorties import UsageError

def nom_sur(nom: str) -> str:
    """Nom de fichier sûr : lettres ASCII, chiffres, ``.``, ``_``, ``-`` ; 100 caractères au plus."""
    import unicodedata

    s = unicodedata.normalize("NFKD", Path(nom).name)
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", s).strip("._-")
    s = s[-100:].lstrip("._-")
    return s or "registre.csv"


def dans(chemin: Path, dossier: Path) -> Path:
    """``chemin`` s'il reste dans ``dossier`` (:func:`territoires.noms.dans_dossier`, la seule
    vérification) ; sinon une erreur d'usage (jamais d'écriture ailleurs)."""
    try:
        return noms.dans_dossier(dossier, chemin.relative_to(dossier) if chemin.is_relative_to(dossier) else chemin)
    except noms.HorsDossier as exc:
        raise UsageError(f"{chemin}: {exc}") from exc


def _lire_journal(chemin: Path) -> list[dict]:
    if not chemin.is_file():
        return []
    try:
        data = json.loads(chemin.read_text(encoding="utf-8"))
        if isinstance(data, list):
            return data
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        pass
    copie = chemin.with_name(f"imports.json.illisible-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}")
    os.replace(chemin, copie)
    print(f"Attention : {chemin} illisible, mis de côté sous {copie.name} ; un nouveau journal est commencé.")
    return []


def _ecrire_journal(chemin: Path, entrees: list[dict]) -> None:
    tmp = chemin.with_name(f".imports.json.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(entrees, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, chemin)


def _copier_sans_ecraser(source: Path, dossier: Path, nom: str, quand: datetime) -> Path:
    """Copie ``source`` sous ``<horodatage>-<nom>`` dans ``dossier`` sans jamais écraser."""
    from datetime import timedelta

    tmp = dans(dossier / f".import.tmp-{os.getpid()}-{nom}", dossier)
    try:
        shutil.copyfile(source, tmp)
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        for _ in range(3600):
            cible = dans(dossier / f"{quand:%Y%m%dT%H%M%S}-{nom}", dossier)
            try:
                os.link(tmp, cible)  # échoue si la cible existe : jamais d'écrasement
                return cible
            except FileExistsError:
                quand += timedelta(seconds=1)
        raise OSError(f"{dossier}: impossible de trouver un nom libre pour {nom}")
    finally:
        tmp.unlink(missing_ok=True)


def importer(fichier: Path, operateur: str, adherents_dir: Path, *, quand: datetime | None = None,
             attribution=None) -> tuple[Path, bool]:
    """Copie les octets d'origine de ``fichier`` dans ``adherents_dir/<operateur>/`` sous un
    nom horodaté, et note son sha256 dans ``imports.json`` (avec, pour un export de la Suite
    territoriale, l'opérateur attribué à chaque ``operateur_id`` et la règle : ``attribution``,
    :class:`territoires.members.attribution.Attribution`). Rend ``(chemin, nouveau)`` ;
    ``nouveau`` est faux quand le dernier import du même nom a déjà le même contenu.
    Ne valide pas : la commande valide d'abord."""
    from territoires.members.load import sha256  # paresseux : charge stdnum

    quand = quand or datetime.now(timezone.utc)
    dossier = dans(adherents_dir / operateur, adherents_dir)
    dossier.mkdir(parents=True, exist_ok=True)
    nom = nom_sur(fichier.name)
    journal_chemin = dossier / "imports.json"
    journal = _lire_journal(journal_chemin)
    empreinte = sha256(fichier)
    precedents = [e for e in journal if e.get("nom") == nom and (dossier / str(e.get("fichier", ""))).is_file()]
    if precedents and precedents[-1].get("sha256") == empreinte:
        return dossier / precedents[-1]["fichier"], False
    cible = _copier_sans_ecraser(fichier, dossier, nom, quand)
    entree = {"fichier": cible.name, "nom": nom, "origine": str(fichier), "sha256": empreinte,
              "octets": cible.stat().st_size, "importe_le": quand.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if attribution is not None and attribution.comptes:
        entree["operateurs_anct"] = {oid: {"operateur": attribution.carte[oid][0], "regle": attribution.carte[oid][1],
                                           "lignes": n}
                                     for oid, n in sorted(attribution.comptes.items()) if oid in attribution.carte}
    journal.append(entree)
    _ecrire_journal(journal_chemin, journal)
    readme = adherents_dir / "README.md"
    if not readme.exists():
        from importlib import resources

        readme.write_text(resources.files("territoires.members").joinpath("README.md").read_text(encoding="utf-8"),
                          encoding="utf-8")
    return cible, True


def lire_journal_sans_deplacer(chemin: Path) -> list[dict]:
    try:
        data = json.loads(chemin.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return []
    return [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []
