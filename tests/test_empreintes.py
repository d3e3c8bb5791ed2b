"""The code fingerprints are found from imports (territoires.empreintes), not listed by hand."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from territoires import empreintes
from territoires.reports import manifeste

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks" / "reports"


def _rel(chemins, racine=empreintes.RACINE) -> set[str]:
    return {p.relative_to(racine).as_posix() for p in chemins}


def _entrees_pages() -> list[str]:
    return sorted({manifeste.EXPORT}.union(*(manifeste.modules_carnet(p) for p in NOTEBOOKS.glob("*.ipynb"))))


def test_the_build_code_holds_what_the_build_runs_and_not_the_reports():
    code = _rel(empreintes.fichiers("territoires.warehouse.build"))
    # function-level imports (members.load, indicators.load), the connectors picked by name
    # (importlib.import_module(f"{__name__}.{module}")), the ground floor
    assert {"warehouse/build.py", "sources/etapes.py", "members/etapes.py", "members/validation.py", "indicators/load.py",
            "sources/connecteurs/anct.py", "sources/connecteurs/contours.py", "entrepot/litteraux.py",
            "__init__.py", "warehouse/__init__.py"} <= code
    assert not {"cli.py", "reports/runner.py", "reports/tableau_de_bord.py", "couleurs.py",
                "members/cli.py"} & code


def test_the_page_code_holds_the_colours_and_spreadsheets_and_not_the_build():
    assert {"territoires.reports.tableau_de_bord", "territoires.reports.alliance",
            "territoires.reports.adoption"} <= set(_entrees_pages())
    code = _rel(empreintes.fichiers(*_entrees_pages()))
    # the two modules the hand-kept list missed
    assert {"couleurs.py", "tableurs.py", "charts.py", "geo.py", "reports/publication.py",
            "reports/retenir.py", "indicators/api.py"} <= code
    # the package root's functions (territoires.table → analyse) count only where named
    assert not {"warehouse/build.py", "reports/runner.py", "cli.py", "analyse.py", "members/load.py"} & code


def test_imports_of_every_kind_are_followed(tmp_path):
    racine = tmp_path / "territoires"
    (racine / "a" / "plugins").mkdir(parents=True)
    fichiers = {
        "__init__.py": ('"""Exemple :\n\n    territoires.outil()\n"""\n\n'
                        "def outil():\n    from territoires import lourd\n    return lourd\n"),
        "lourd.py": "",
        "e/__init__.py": "", "e/f.py": "", "e/g.py": "",
        "h.py": "# from territoires import seul\ntexte = 'import territoires.seul'\n",
        "a/__init__.py": "",
        "a/entree.py": ("import json\nfrom . import voisin\nfrom .plugins import choix\n"
                        "import territoires\nimport territoires.e as paquet_e\nfrom territoires import (  # deux\n"
                        "    h,\n    e as autre,\n)\n\ndef f():\n    from territoires.b import c\n"
                        "    paquet_e.f.x, autre.g\n    return territoires.outil()\n"),
        "a/voisin.py": "from ..d import e\n",
        "a/plugins/__init__.py": ("import importlib\n\ndef choix(nom):\n    return charge(nom)\n\n"
                                  "def charge(nom):\n    return importlib.import_module(f'{__name__}.{nom}')\n"),
        "a/plugins/un.py": "", "a/plugins/deux.py": "",
        "b/__init__.py": "", "b/c.py": "", "d.py": "", "seul.py": "",
    }
    (racine / "b").mkdir()
    (racine / "e").mkdir()
    for nom, texte in fichiers.items():
        (racine / nom).write_text(texte, encoding="utf-8")
    assert _rel(empreintes.fichiers("territoires.a.entree", racine=racine), racine) == (set(fichiers) - {"seul.py"})
    # an example in a docstring, an import in a comment or a string: not imports
    (racine / "y.py").write_text('import territoires\n"""territoires.outil()"""\n', encoding="utf-8")
    assert _rel(empreintes.fichiers("territoires.y", racine=racine), racine) == {"__init__.py", "y.py"}
    # a package root used for its version only does not bring its functions' imports
    (racine / "x.py").write_text("import territoires\nV = territoires.__doc__\n", encoding="utf-8")
    assert _rel(empreintes.fichiers("territoires.x", racine=racine), racine) == {"__init__.py", "x.py"}


@pytest.fixture()
def copie(tmp_path, monkeypatch) -> Path:
    """A copy of the package that the fingerprints read instead of the real one."""
    racine = tmp_path / "territoires"
    shutil.copytree(empreintes.RACINE, racine, ignore=shutil.ignore_patterns("__pycache__", "*.duckdb"))
    monkeypatch.setattr(empreintes, "RACINE", racine)
    return racine


def _modifier(path: Path, avant: str, apres: str) -> None:
    texte = path.read_text(encoding="utf-8")
    assert avant in texte
    path.write_text(texte.replace(avant, apres, 1), encoding="utf-8")


def test_a_colour_changes_the_page_fingerprint_not_the_build_one(copie):
    from territoires.warehouse import build

    page, sel = manifeste.code_fingerprint(NOTEBOOKS), build._sel()
    assert manifeste.code_fingerprint(NOTEBOOKS) == page  # stable
    texte = (copie / "couleurs.py").read_text(encoding="utf-8")
    couleur = texte[texte.index('"#') + 1:texte.index('"#') + 8]
    _modifier(copie / "couleurs.py", couleur, "#123456" if couleur != "#123456" else "#654321")
    assert manifeste.code_fingerprint(NOTEBOOKS) != page
    assert build._sel() == sel
    # a connector (picked by name at run time) changes the build's, not the pages'
    page = manifeste.code_fingerprint(NOTEBOOKS)
    with (copie / "sources" / "connecteurs" / "banatic.py").open("a", encoding="utf-8") as fh:
        fh.write("\n# changé\n")
    assert build._sel() != sel and manifeste.code_fingerprint(NOTEBOOKS) == page
    # a command-line module changes neither
    sel = build._sel()
    with (copie / "members" / "cli.py").open("a", encoding="utf-8") as fh:
        fh.write("\n# changé\n")
    assert build._sel() == sel and manifeste.code_fingerprint(NOTEBOOKS) == page


def test_fingerprints_are_quick_once_read():
    empreintes.empreinte("territoires.warehouse.build")
    manifeste.code_fingerprint(NOTEBOOKS)
    t0 = time.perf_counter()
    for _ in range(10):
        empreintes.empreinte("territoires.warehouse.build")
        manifeste.code_fingerprint(NOTEBOOKS)
    assert (time.perf_counter() - t0) / 10 < 0.1  # about 10 ms on one core of the CI machine


def _modules() -> list[str]:
    racine = empreintes.RACINE
    return sorted(".".join(("territoires", *p.relative_to(racine).with_suffix("").parts)).removesuffix(".__init__")
                  for p in racine.rglob("*.py"))


def test_nothing_reaches_the_entry_point():
    """The command line sits above everything: the lock and exit statuses are in
    territoires.sorties, and no module of the library imports territoires.cli."""
    cli = empreintes.RACINE / "cli.py"
    atteignent = [m for m in _modules() if m not in ("territoires.cli", "territoires.__main__")
                  and cli in empreintes.fichiers(m)]
    assert not atteignent


def test_library_code_opens_the_warehouse_through_the_ground_floor():
    """territoires.connect is for analysts; the library uses territoires.entrepot.connexion."""
    import ast

    fautifs = []
    for path in empreintes.RACINE.rglob("*.py"):
        if path == empreintes.RACINE / "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_bytes())):
            if isinstance(node, ast.Attribute) and node.attr == "connect" and getattr(node.value, "id", "") == "territoires":
                fautifs.append(f"{path.relative_to(empreintes.RACINE)}:{node.lineno}")
    assert not fautifs


def test_the_text_scan_sees_every_import_ast_sees():
    """The scan reads the text (faster); every import statement of the package, as ``ast``
    finds it, must be among what it found: a fingerprint may be too wide, never too narrow."""
    import ast

    for module in _modules():
        path = empreintes._fichier(module, empreintes.RACINE)
        courant = module if path.name == "__init__.py" else module.rpartition(".")[0]
        vus, fonctions, _ = empreintes._imports(path, module, "territoires")
        vus = set(vus).union(*fonctions.values())
        for node in ast.walk(ast.parse(path.read_bytes())):
            if isinstance(node, ast.Import):
                attendus = {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = courant.split(".")[:len(courant.split(".")) - node.level + 1] if node.level else []
                origine = ".".join(base + ([node.module] if node.module else []))
                attendus = {origine} | {f"{origine}.{a.name}" for a in node.names}
            else:
                continue
            attendus = {n for n in attendus if n.startswith("territoires")}
            assert attendus <= vus, (module, node.lineno, attendus - vus)
