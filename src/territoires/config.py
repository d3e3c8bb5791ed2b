"""Paths and settings, in one place. No side effects at import.

The project root is ``$TERRITOIRES_HOME`` when set, else the current working directory
(never guessed from this file's location).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: The four alliance regions (INSEE codes): Île-de-France, Centre-Val de Loire,
#: Bourgogne-Franche-Comté, Bretagne.
ALLIANCE_REGIONS: tuple[str, ...] = ("11", "24", "27", "53")

LEVELS: tuple[str, ...] = ("commune", "epci", "departement", "region", "operateur", "alliance")


@dataclass(frozen=True)
class Settings:
    home: Path

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


def settings(home: str | os.PathLike | None = None) -> Settings:
    """Current settings; ``home`` overrides ``$TERRITOIRES_HOME`` and the working directory."""
    root = home or os.environ.get("TERRITOIRES_HOME") or os.getcwd()
    return Settings(home=Path(root).resolve())


def quiet_by_default() -> bool:
    """Progress output is off in CI and when stderr is not a terminal-less pipe by choice."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}
