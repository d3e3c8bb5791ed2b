"""What the installed package is: its version and the notebooks it ships.

A ground-floor module (it imports nothing of the project): the package root re-exports
both for analysts, and library code reads them here rather than through the root.
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"


def notebooks_dir() -> Path:
    """The notebooks shipped with the package: a folder holding ``reports/`` (the
    dashboards' notebooks) and ``exploration/`` (the analysts' starting points).

    Installed from a wheel, the copy packaged at build time; in an editable install (a
    checkout, ``make install``), the checkout's own ``notebooks/``.

    >>> sorted(p.name for p in (territoires.notebooks_dir() / "reports").glob("*.ipynb"))
    ['alliance.ipynb', 'tableau_de_bord.ipynb']
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / "notebooks", here.parents[1] / "notebooks"):
        if (candidate / "reports" / "tableau_de_bord.ipynb").is_file():
            return candidate
    raise FileNotFoundError(f"{here / 'notebooks'} : carnets absents du paquet — réinstallez territoires")
