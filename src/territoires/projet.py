"""A project home outside the repository: ``territoires init DOSSIER``.

A home is the folder that commands and notebooks work in::

    DOSSIER/
      territoires.toml      the marker: commands and notebooks find the home by walking
                            up to it (TERRITOIRES_HOME, when set, wins)
      data/raw/             downloaded sources (territoires fetch), never edited
      data/processed/       the DuckDB warehouse (territoires build) and its history
      notebooks/reports/    the dashboards' notebooks (territoires report runs them)
      notebooks/exploration/ the analysts' starting points
      reports/              the HTML pages (territoires report)

The notebooks are copied from the installed package (:func:`territoires.notebooks_dir`):
``pip install territoires-….whl``, then ``territoires init ~/observatoire``, ``cd`` into
it, ``territoires build`` and ``territoires report`` need no checkout.
"""

from __future__ import annotations

import argparse
import os
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from territoires.config import MARKER_FILE
from territoires import paquet

#: sub-folders of notebooks/ copied into a new home
DOSSIERS_CARNETS = ("reports", "exploration")

MARQUEUR = """\
# Projet territoires — ce fichier marque ce dossier comme la racine d'un projet.
#
# Les commandes `territoires …` et les carnets ouverts dans JupyterLab cherchent ce
# fichier dans leur dossier courant puis dans chacun de ses parents, comme git cherche
# .git : on peut donc travailler depuis n'importe quel sous-dossier. La variable
# d'environnement TERRITOIRES_HOME, quand elle est définie, l'emporte.
#
# Créé par territoires {version} le {jour}.
#
#   data/raw/          sources téléchargées (territoires fetch), jamais modifiées
#   data/processed/    entrepôt DuckDB (territoires build) et historique des indicateurs
#   notebooks/         carnets : reports/ (tableaux de bord), exploration/ (points de départ)
#   reports/           pages HTML produites (territoires report)
#
# Ce fichier ne contient pas encore de réglage : il suffit qu'il existe.
"""

GITIGNORE = """\
# contenus produits : reconstruits par territoires fetch / build / report
data/raw/*
data/processed/*
reports/*
.ipynb_checkpoints/
"""


@dataclass
class Initialisation:
    """What :func:`init` did: the home, and the files and folders it created."""

    home: Path
    crees: list[Path] = field(default_factory=list)
    conserves: list[Path] = field(default_factory=list)  # already there, left untouched


def init(dossier: str | os.PathLike, *, carnets: str | os.PathLike | None = None) -> Initialisation:
    """Create (or complete) a project home in ``dossier``.

    Missing folders, the marker and the notebooks are created; nothing already there is
    overwritten (an analyst's edited notebook stays as it is), so running it again is
    harmless. ``carnets``: where to copy the notebooks from (default: the package's,
    :func:`territoires.notebooks_dir`). Raises ``ValueError`` in French when ``dossier``
    is a file.
    """
    home = Path(dossier).expanduser().resolve()
    if home.exists() and not home.is_dir():
        raise ValueError(f"{home} : c'est un fichier, pas un dossier — choisissez un autre chemin")
    source = Path(carnets) if carnets else paquet.notebooks_dir()
    out = Initialisation(home)

    def dossier_(path: Path) -> None:
        if path.is_dir():
            out.conserves.append(path)
        else:
            path.mkdir(parents=True)
            out.crees.append(path)

    def fichier(path: Path, write) -> None:
        if path.exists():
            out.conserves.append(path)
            return
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        try:
            write(tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        out.crees.append(path)

    dossier_(home)
    for sub in ("data/raw", "data/processed", "reports", *(f"notebooks/{d}" for d in DOSSIERS_CARNETS)):
        dossier_(home / sub)
    for sub in DOSSIERS_CARNETS:
        for nb in sorted((source / sub).glob("*.ipynb")):
            fichier(home / "notebooks" / sub / nb.name, lambda tmp, nb=nb: shutil.copyfile(nb, tmp))
    texte = MARQUEUR.format(version=paquet.__version__, jour=date.today().isoformat())
    fichier(home / ".gitignore", lambda tmp: tmp.write_text(GITIGNORE, encoding="utf-8"))
    # the marker last: a home is marked only once it is complete
    fichier(home / MARKER_FILE, lambda tmp: tmp.write_text(texte, encoding="utf-8"))
    return out


def cmd_init(args: argparse.Namespace) -> int:
    res = init(args.dossier)
    home = res.home
    if not res.crees:
        print(f"Projet déjà complet : {home} (rien n'a été modifié)")
        return 0
    print(f"Projet territoires : {home}")
    for p in res.crees:
        if p.is_file():
            print(f"  créé  {p.relative_to(home)}")
    kept = [p for p in res.conserves if p.is_file()]
    if kept:
        print(f"  {len(kept)} fichier(s) déjà présent(s), conservé(s) tel(s) quel(s)")
    print()
    print("Ensuite :")
    print(f"  cd {home}")
    print("  territoires build        # l'entrepôt, depuis les données embarquées")
    print("  territoires report       # les tableaux de bord HTML, dans reports/")
    return 0


def register(sub) -> None:
    i = sub.add_parser(
        "init", help="créer un projet (data/, notebooks/, reports/, marqueur territoires.toml)",
        description="Crée un dossier de projet utilisable hors du dépôt : data/raw, data/processed, reports, "
                    "les carnets du paquet dans notebooks/ et le marqueur territoires.toml. Ne remplace rien "
                    "de ce qui existe déjà.",
    )
    i.add_argument("dossier", metavar="DOSSIER", help="dossier du projet (créé s'il n'existe pas)")
    i.set_defaults(func=cmd_init)
