"""The manifest (``reports/manifest.json``) and the fingerprints that decide whether a
page is up to date: same warehouse build, same notebook and parameters, same report code.
"""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path
from typing import Any

from territoires import paquet
from territoires import empreintes
from territoires.reports import site
from territoires.reports.publication import ASSETS_DIR, TEMPLATES_DIR

#: the code turning an executed notebook into a page (besides what the notebooks import)
EXPORT = "territoires.reports.publication"


def modules_carnet(path: Path) -> set[str]:
    """The modules the code cells of the notebook ``path`` import (``from territoires.reports
    import alliance`` → ``territoires.reports``, ``territoires.reports.alliance``)."""
    noms: set[str] = set()
    for cell in json.loads(path.read_text(encoding="utf-8")).get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell.get("source", ""))
        try:
            arbre = ast.parse(source)
        except SyntaxError:  # a magic (%…) line: the page fingerprint hashes the notebook anyway
            continue
        for node in ast.walk(arbre):
            if isinstance(node, ast.Import):
                noms.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                noms.add(node.module)
                noms.update(f"{node.module}.{a.name}" for a in node.names)
    return noms


def code_fingerprint(notebooks_dir: Path) -> str:
    """Hash of what shapes a page besides the data: the notebooks, the project's code they
    reach by import (:mod:`territoires.empreintes`) with the HTML export's, the template
    and the assets."""
    carnets = sorted(notebooks_dir.glob("*.ipynb"))
    entrees = {EXPORT}
    for carnet in carnets:
        entrees |= modules_carnet(carnet)
    donnees = [*carnets, *(p for p in TEMPLATES_DIR.rglob("*") if p.is_file()), *ASSETS_DIR.glob("*")]
    return empreintes.empreinte(*sorted(entrees), donnees=donnees)


def page_key(page: site.Page, build_fp: str, code_fp: str, single_file: bool) -> str:
    data = json.dumps([build_fp, code_fp, paquet.__version__, page.notebook, page.parametres, single_file])
    return hashlib.sha256(data.encode()).hexdigest()[:24]



def manifest_json(manifest: dict[str, Any]) -> str:
    """The manifest, readable and quick to write: one line per page."""
    head = {k: v for k, v in manifest.items() if k != "pages"}
    text = json.dumps(head, ensure_ascii=False, indent=1, default=str)[:-2]
    pages = ",\n  ".join(json.dumps(p, ensure_ascii=False, default=str) for p in manifest["pages"])
    return f'{text},\n "pages": [\n  {pages}\n ]\n}}\n'


def load_manifest(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


