"""Paths and settings, in one place. No side effects at import.

The project home is found as git finds a repository:

1. ``$TERRITOIRES_HOME`` when set;
2. else the nearest folder at or above the working directory that holds the project's
   marker: a ``territoires.toml`` file (written by ``territoires init``) or a
   ``pyproject.toml`` with a ``[tool.territoires]`` table (this repository's);
3. else a French error saying how to set it.

JupyterLab starts each kernel in the notebook's own folder (``notebooks/exploration``):
walking up finds the project from there. Settings are resolved once, by the entry point
(a command, a notebook's first call), then passed down.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from territoires import operateurs

#: The four alliance regions (INSEE codes): Île-de-France, Centre-Val de Loire,
#: Bourgogne-Franche-Comté, Bretagne.
ALLIANCE_REGIONS: tuple[str, ...] = ("11", "24", "27", "53")

#: file marking a home created by ``territoires init``
MARKER_FILE = "territoires.toml"
#: table marking this repository's ``pyproject.toml`` as a home
MARKER_TABLE = "[tool.territoires]"


class HomeError(RuntimeError):
    """No project home could be found; the message says how to set one."""


@dataclass(frozen=True)
class Settings:
    home: Path
    #: why this home: "paramètre home", "TERRITOIRES_HOME", or the marker file found
    origine: str = "paramètre home"
    #: the machine's folder shared by every home (:func:`partage`), ``None``: none
    partage: Path | None = None

    @property
    def raw_dir(self) -> Path:
        return self.home / "data" / "raw"

    @property
    def processed_dir(self) -> Path:
        return self.home / "data" / "processed"

    @property
    def warehouse(self) -> Path:
        return self.processed_dir / "territoires.duckdb"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def notebooks_dir(self) -> Path:
        return self.home / "notebooks"

    @property
    def audit_dir(self) -> Path:
        """Executed notebooks kept for audit (``audit/notebooks/<niveau>/<code>.ipynb``),
        outside ``reports/``, the folder that is published."""
        return self.home / "audit"

    @property
    def operateurs_file(self) -> Path:
        """``<home>/operateurs.toml`` when the home declares its own operators, else the package's."""
        return operateurs.fichier(self.home)


def _marker(folder: Path) -> Path | None:
    """The marker file of ``folder`` when it is a home, else ``None``."""
    own = folder / MARKER_FILE
    if own.is_file():
        return own
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        try:
            text = pyproject.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        if any(line.strip() == MARKER_TABLE for line in text.splitlines()):
            return pyproject
    return None


def find_home(start: str | os.PathLike | None = None) -> tuple[Path, str]:
    """``(home, why)``: ``$TERRITOIRES_HOME``, else the nearest marked folder at or above
    ``start`` (the working directory by default). Raises :class:`HomeError`."""
    env = os.environ.get("TERRITOIRES_HOME", "").strip()
    if env:
        return Path(env).expanduser().resolve(), "variable TERRITOIRES_HOME"
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        marker = _marker(folder)
        if marker is not None:
            return folder, f"marqueur {marker}"
    raise HomeError(
        f"aucun projet territoires trouvé dans {here} ni au-dessus (ni {MARKER_FILE}, ni pyproject.toml "
        f"avec {MARKER_TABLE}) — créez-en un avec `territoires init DOSSIER`, placez-vous dedans, "
        "ou définissez TERRITOIRES_HOME=/chemin/du/projet"
    )


def partage() -> Path | None:
    """The machine's folder that every home shares (the embedded data decompressed once,
    :func:`territoires.sources.extract_embedded`): ``$TERRITOIRES_CACHE``, else
    ``$XDG_CACHE_HOME/territoires``, else ``~/.cache/territoires``; ``TERRITOIRES_CACHE=non``:
    none (each home decompresses its own copy)."""
    env = os.environ.get("TERRITOIRES_CACHE", "").strip()
    if env.lower() in {"non", "0", "no", "false"}:
        return None
    if env:
        return Path(env).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    if xdg:
        return Path(xdg).expanduser() / "territoires"
    try:
        return Path.home() / ".cache" / "territoires"
    except (RuntimeError, KeyError):  # no home directory known (a bare scheduler's environment)
        return None


def settings(home: str | os.PathLike | None = None) -> Settings:
    """Settings of the home ``home``, else of the home found by :func:`find_home`.

    Call it once at an entry point and pass the result (or its paths) down.
    """
    if home:
        return Settings(home=Path(home).expanduser().resolve(), origine="paramètre home", partage=partage())
    root, why = find_home()
    return Settings(home=root, origine=why, partage=partage())


def quiet_by_default() -> bool:
    """Progress output is off in CI (``CI=true``)."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}
