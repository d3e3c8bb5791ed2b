"""The manifest (``reports/manifest.json``) and the fingerprints that decide whether a
page is up to date: same warehouse build, same notebook and parameters, same report code.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import territoires
from territoires.reports import site
from territoires.reports.publication import assets_fingerprint


def code_fingerprint(notebooks_dir: Path) -> str:
    """Hash of what shapes a page besides the data: notebooks, report code, template, assets."""
    import territoires as pkg

    root = Path(pkg.__file__).parent
    files = sorted([*root.joinpath("reports").rglob("*.py"), root / "charts.py", root / "geo.py",
                    root / "formats.py", *root.joinpath("indicators").glob("*.py"),
                    *notebooks_dir.glob("*.ipynb")])
    h = hashlib.sha256(assets_fingerprint().encode())
    for p in files:
        if p.is_file():
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def page_key(page: site.Page, build_fp: str, code_fp: str, single_file: bool) -> str:
    data = json.dumps([build_fp, code_fp, territoires.__version__, page.notebook, page.parametres, single_file])
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


