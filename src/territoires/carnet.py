"""``territoires page CARNET.ipynb -o page.html``: a notebook executed elsewhere (papermill
from a scheduler, JupyterLab) turned into the same page as ``territoires report`` makes.

The page is self-contained (``--single-file`` of ``report``): plotly.js, the style sheet,
the script and the CSV downloads are inlined, so it opens from anywhere, offline::

    TERRITOIRES_HOME=/srv/observatoire papermill \\
        "$(python -c 'import territoires; print(territoires.notebooks_dir())')/reports/tableau_de_bord.ipynb" \\
        sortie.ipynb -p niveau epci -p code 242900314
    territoires page sortie.ipynb -o epci-242900314.html
"""

from __future__ import annotations

import argparse
from pathlib import Path

from territoires import formats


def page(carnet: str | Path, sortie: str | Path) -> Path:
    """Render the executed notebook ``carnet`` as one self-contained HTML page at
    ``sortie`` (written atomically); return its path. Raises ``ValueError`` in French for
    a notebook that was not executed or failed."""
    import nbformat

    source = Path(carnet)
    try:
        nb = nbformat.read(source, as_version=4)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{source} : carnet illisible ({exc})") from exc
    code = [c for c in nb.cells if c.cell_type == "code"]
    if code and not any(c.get("outputs") for c in code):
        raise ValueError(f"{source} : carnet non exécuté (aucune sortie) — exécutez-le d'abord avec papermill")
    erreurs = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    if erreurs:
        e = erreurs[0]
        raise ValueError(f"{source} : l'exécution a échoué ({e.get('ename')} : {e.get('evalue')})")
    # paresseux : l'export HTML (nbconvert, graphiques) ne se charge pas pour les autres commandes
    from territoires.reports.publication import html_page, write_atomic

    cible = Path(sortie)
    html, _ = html_page(nb, cible.name, single_file=True)
    write_atomic(cible, html)
    return cible


def cmd_page(args: argparse.Namespace) -> int:
    cible = page(args.carnet, args.output or Path(args.carnet).with_suffix(".html"))
    print(f"Page : {cible} ({formats.taille(cible.stat().st_size)})")
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "page", help="transformer un carnet exécuté (papermill) en page HTML autonome",
        description="Produit, depuis un carnet déjà exécuté (papermill, JupyterLab), la même page que "
                    "`territoires report --single-file` : sans code, plotly.js et CSV inclus.",
    )
    p.add_argument("carnet", metavar="CARNET.ipynb", help="carnet exécuté")
    p.add_argument("--output", "-o", metavar="PAGE.html", help="page à écrire (défaut : CARNET.html)")
    p.set_defaults(func=cmd_page)
